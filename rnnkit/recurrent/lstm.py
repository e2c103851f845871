"""The LSTM cell (Hochreiter & Schmidhuber 1997, with forget gate), optionally projected."""
from __future__ import annotations

import functools

import numpy as np

from rnnkit.recurrent import _workspace, lstm_loop
from rnnkit.recurrent._proj import add_biases, input_grads, project_inputs
from rnnkit.recurrent.activations import ACTIVATIONS, get_activation


@functools.lru_cache(maxsize=64)
def _step_order(H):
    """The per-step reference's gate rows: i, f, o, g (PyTorch's are i, f, g, o), so the
    sigmoid gates form one block."""
    order = np.concatenate([np.arange(2 * H), np.arange(3 * H, 4 * H),
                            np.arange(2 * H, 3 * H)])
    order.flags.writeable = False
    return order


class LSTMCell:
    """One LSTM step, PyTorch's ``torch.nn.LSTM`` equations (gate order i, f, g, o):

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     cell candidate
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)              or, with a projection, h_t = W_hr (o_t * tanh(c_t))

    σ is ``recurrent_activation`` and tanh ``activation`` (Keras lets both be chosen).
    w_ih: (4*hidden, input); w_hh: (4*hidden, out) where out = proj_size or hidden;
    b_ih, b_hh: (4*hidden,) or None; w_hr: (proj_size, hidden) or None.
    States: (h, c) of shapes (batch, out) and (batch, hidden).

    Three loops run these equations. With the default activations and no projection,
    NumPy runs ``lstm_loop`` (its own feature-major loop, built for few NumPy calls a
    step) and the accelerated backend its compiled loop (``fused``, PyTorch's weights as
    they are). Otherwise ``step`` / ``step_backward`` below run in the shared scan: the
    plain reference, which reorders the gate rows once per call to i, f, o, g so the
    three sigmoid gates form one block (halved for the default σ, since
    σ(a) = (1 + tanh(a/2)) / 2 lets one tanh call activate all four gates).
    """

    def __init__(self, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None,
                 activation="tanh", recurrent_activation="sigmoid"):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh, self.w_hr = w_ih, w_hh, b_ih, b_hh, w_hr
        self.act = get_activation(activation, "activation")
        self.gate_act = get_activation(recurrent_activation, "recurrent_activation")
        self.fast = (self.act is ACTIVATIONS["tanh"]
                     and self.gate_act is ACTIVATIONS["sigmoid"])
        self.H = w_hh.shape[0] // 4

    def begin(self, x, fused=False):
        T, B, H = x.shape[0], x.shape[1], self.H
        bias = add_biases(self.b_ih, self.b_hh)
        self._weights(fused)
        if not fused and bias is not None:
            bias = bias[self.perm] * self.scale
        lend = functools.partial(_workspace.lend, self, dtype=x.dtype)
        self.gates = project_inputs(x, self.w_ih_, bias, out=lend((T, B, 4 * H)))
        self.tanh_c = lend((T, B, H))
        if not fused:
            self._scratch(B)
            # h @ W^T with W^T contiguous: OpenBLAS ran (32x128)@(128x512) in 19 us, not 26
            self.w_hh_t = np.ascontiguousarray(self.w_hh_.T)
        if self.w_hr is not None:
            self.m = lend((T, B, H))                       # o * tanh(c), before projection
            self.dh = lend((T, B, self.w_hr.shape[0]))
            self.dm = np.empty((B, H), dtype=x.dtype)

    def _weights(self, fused):
        """The weights as the loop uses them: PyTorch's for the compiled loop; for the
        NumPy loop rows reordered i, f, g, o -> i, f, o, g and sigmoid rows halved."""
        if fused:
            self.perm = self.scale = None
            self.w_ih_, self.w_hh_ = self.w_ih, self.w_hh
            return
        H = self.H
        self.perm = _step_order(H)
        self.scale = np.ones(4 * H, dtype=self.w_hh.dtype)
        if self.fast:
            self.scale[:3 * H] = 0.5
        p, s = self.perm, self.scale[:, None]
        self.w_ih_ = self.w_ih[p] * s
        self.w_hh_ = self.w_hh[p] * s

    def _scratch(self, B):
        """The NumPy loop's per-step buffers."""
        dtype = self.w_hh.dtype
        self.tmp4 = np.empty((B, 4 * self.H), dtype=dtype)
        self.tmp = np.empty((B, self.H), dtype=dtype)

    def fusable(self):
        return self.fast and self.w_hr is None

    def own_loop(self):
        """The NumPy backend runs ``lstm_loop`` (whole loop, feature-major) for the cells
        the compiled loop takes; ``step`` is the reference for the rest."""
        return self.fusable()

    def own_infer(self):
        """Inference runs ``lstm_loop`` too."""
        return self.own_loop()

    def _loop_weights(self):
        """``lstm_loop.fused_weights``, a workspace buffer: give it back after the loop."""
        return lstm_loop.fused_weights(self.w_ih, self.w_hh, add_biases(self.b_ih, self.b_hh))

    def loop_infer(self, x, init, keep, reverse, out=None):
        """Inference without a graph: (output (T, B, H), [h_n, c_n]); the output is
        written into ``out`` if given."""
        wa = self._loop_weights()
        hs, h_n, c_n = lstm_loop.infer(wa, x, init[0], init[1], keep, reverse, out)
        _workspace.give(wa)
        return hs, [h_n, c_n]

    def loop_forward(self, x, init, keep, reverse):
        """Forward keeping the BPTT record; returns the states in time order: the
        output (T, B, H) and, as a (1, B, H) array, the final cell state (this loop
        keeps no cell-state history)."""
        wa = self._loop_weights()
        self.record, out, c_n = lstm_loop.forward(wa, x, init[0], init[1], keep, reverse)
        _workspace.give(wa)
        return out, c_n[None]

    def loop_backward(self, x, hist, d_seq, d, live):
        """BPTT through ``loop_forward``: turns ``d`` (the final states' gradients) into
        the initial states', in place, and returns (dx, param_grads)."""
        self.gates, d[0][...], d[1][...] = lstm_loop.backward(
            self.w_hh, self.record, d_seq, d[0], d[1], live, hist.reverse)
        del self.record                 # its buffers go back to the workspace
        # gates, (4H, T, B), holds S times the pre-activations' gradient, rows f, i, g, o:
        # scale 1/S.
        self.perm = lstm_loop.grad_order(self.H)
        self.scale = lstm_loop.grad_scale(self.H, self.gates.dtype)
        self.w_ih_ = self.w_ih[self.perm] * self.scale[:, None]
        dx, grads = self.end_backward(x, hist, gates_major=True)
        _workspace.give(self.gates)
        del self.gates
        return dx, grads

    def fused_forward(self, compiled, hist, keep):
        (h0, c0), (hs, cs) = hist.init, hist.states
        compiled.run_lstm_forward(self.gates, self.w_hh_, h0, c0, hs, cs, self.tanh_c, keep,
                                  hist.reverse)

    def fused_infer(self, compiled, x, init, keep, reverse, out=None):
        """Inference without a graph: (output (T, B, H), [h_n, c_n]), no BPTT cache; the
        output is written into ``out`` if given."""
        T, B, H = x.shape[0], x.shape[1], self.H
        bias = add_biases(self.b_ih, self.b_hh)
        bias = np.zeros(4 * H, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias)
        # The compiled loop writes a C-contiguous output: out itself when it is one.
        direct = out is not None and out.flags.c_contiguous
        hs = out if direct else _workspace.take((T, B, H), x.dtype)
        c = np.array(init[1], dtype=x.dtype)            # the running cell state
        compiled.run_lstm_infer(np.ascontiguousarray(x), self.w_ih, bias, self.w_hh,
                                np.ascontiguousarray(init[0]), c, hs, keep, reverse)
        finals = [hs[0 if reverse else -1].copy(), c]
        if out is None or direct:
            return hs, finals
        np.copyto(out, hs)
        _workspace.give(hs)
        return out, finals

    def fused_backward(self, compiled, hist, d_seq, d, live):
        compiled.run_lstm_backward(self.gates, self.w_hh_, hist.states[1], self.tanh_c,
                                   hist.init[1], d_seq, d[0], d[1], live, hist.reverse)

    def step(self, t, prev, out):
        (h_prev, c_prev), (h, c) = prev, out
        H, z = self.H, self.gates[t]
        np.matmul(h_prev, self.w_hh_t, out=self.tmp4)
        z += self.tmp4
        if self.fast:
            np.tanh(z, out=z)
            sig = z[:, :3 * H]
            sig *= 0.5
            sig += 0.5
        else:
            self.gate_act.forward(z[:, :3 * H], z[:, :3 * H])
            self.act.forward(z[:, 3 * H:], z[:, 3 * H:])
        i, f, o, g = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        np.multiply(f, c_prev, out=c)
        np.multiply(i, g, out=self.tmp)
        c += self.tmp
        tc = self.act.forward(c, self.tanh_c[t])
        if self.w_hr is None:
            np.multiply(o, tc, out=h)
        else:
            np.multiply(o, tc, out=self.m[t])
            np.matmul(self.m[t], self.w_hr.T, out=h)

    def end_forward(self):
        # The NumPy loop's weight copies and scratch are made again if backward runs:
        # not kept in the BPTT cache.
        if self.perm is not None:
            del self.w_ih_, self.w_hh_, self.w_hh_t, self.tmp4, self.tmp

    def begin_backward(self, hist):
        H = self.H
        g = self.gates
        self._weights(False)
        self._scratch(g.shape[1])
        # Gate derivatives w.r.t. the (scaled) pre-activations, for every step at once.
        self.dact = _workspace.lend(self, g.shape, g.dtype)
        self.gate_act.grad(g[..., :3 * H], out=self.dact[..., :3 * H])
        if self.fast:
            self.dact[..., :3 * H] *= 2     # d/da' of (1 + tanh a')/2 = 2 σ (1 - σ)
        self.act.grad(g[..., 3 * H:], out=self.dact[..., 3 * H:])
        # o * tanh'(c): how h's gradient reaches c.
        self.o_dtanh = self.act.grad(self.tanh_c, _workspace.lend(self, g.shape[:2] + (H,),
                                                                  g.dtype))
        self.o_dtanh *= g[..., 2 * H:3 * H]

    def step_backward(self, t, prev, d):
        (_, c_prev), (dh, dc) = prev, d
        H, z, tmp, raw = self.H, self.gates[t], self.tmp, self.tmp4
        if self.w_hr is None:
            dm = dh
        else:
            self.dh[t] = dh
            dm = np.matmul(dh, self.w_hr, out=self.dm)
        np.multiply(dm, self.tanh_c[t], out=raw[:, 2 * H:3 * H])     # o
        np.multiply(dm, self.o_dtanh[t], out=tmp)
        dc += tmp
        np.multiply(dc, z[:, 3 * H:], out=raw[:, :H])                 # i  <- g
        np.multiply(dc, c_prev, out=raw[:, H:2 * H])                  # f
        np.multiply(dc, z[:, :H], out=raw[:, 3 * H:])                 # g  <- i
        dc *= z[:, H:2 * H]
        np.multiply(raw, self.dact[t], out=z)   # the gates are spent: z holds dL/da'
        np.matmul(z, self.w_hh_, out=dh)

    def end_backward(self, x, hist, gates_major=False):
        dz = self.gates
        dx, dw_ih, db = input_grads(x, self.w_ih_, dz, hist.need_dx, gates_major)
        dw_hh = hist.outer_prev(dz, 0, gates_major)
        if self.perm is not None:
            # Back from the scaled, reordered rows (a' = S P a) to PyTorch's layout.
            inv, s = np.argsort(self.perm), self.scale[:, None]
            dw_ih, dw_hh, db = (dw_ih * s)[inv], (dw_hh * s)[inv], (db * s[:, 0])[inv]
        grads = {"w_ih": dw_ih, "w_hh": dw_hh}
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db.copy()
        if self.w_hr is not None:
            P = self.w_hr.shape[0]
            grads["w_hr"] = self.dh.reshape(-1, P).T @ self.m.reshape(-1, self.H)
        return dx, grads

