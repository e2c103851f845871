"""The GRU cell (Cho et al. 2014) in both of its published forms."""
from __future__ import annotations

import functools

import numpy as np

from rnnkit.recurrent import _workspace, gru_loop
from rnnkit.recurrent._proj import input_grads, project_inputs
from rnnkit.recurrent.activations import ACTIVATIONS, get_activation


class GRUCell:
    """One GRU step, gate order r, z, n (PyTorch's layout).

    reset_after=True (PyTorch, cuDNN, Keras ``reset_after=True``):

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    reset_after=False (Keras ``reset_after=False``, the original paper): the reset gate
    multiplies the state before the recurrent product,

        n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)

    σ is ``recurrent_activation`` and tanh ``activation``.
    w_ih: (3*hidden, input); w_hh: (3*hidden, hidden); b_ih, b_hh: (3*hidden,) or None.
    State: (h,) of shape (batch, hidden).

    With the default sigmoid, the r and z rows are halved once per call so that
    σ(a) = (1 + tanh(a/2)) / 2 costs one tanh call.
    """

    def __init__(self, w_ih, w_hh, b_ih=None, b_hh=None, reset_after=True,
                 activation="tanh", recurrent_activation="sigmoid"):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = w_ih, w_hh, b_ih, b_hh
        self.reset_after = bool(reset_after)
        self.act = get_activation(activation, "activation")
        self.gate_act = get_activation(recurrent_activation, "recurrent_activation")
        self.fast = self.gate_act is ACTIVATIONS["sigmoid"]
        H = self.H = w_hh.shape[0] // 3
        self.scale = np.ones(3 * H, dtype=w_hh.dtype)
        if self.fast:
            self.scale[:2 * H] = 0.5

    def begin(self, x, fused=False):
        T, B, H = x.shape[0], x.shape[1], self.H
        self._weights(fused)
        s = self.s
        # b_hr and b_hz sit outside the reset gate: they fold into the input projection.
        # b_hn does too when resetting before; after, it stays inside r * (W_hn h + b_hn).
        bias = np.zeros(3 * H, dtype=x.dtype)
        if self.b_ih is not None:
            bias += self.b_ih
        self.b_hn = None
        if self.b_hh is not None:
            bias[:2 * H] += self.b_hh[:2 * H]
            if self.reset_after:
                self.b_hn = self.b_hh[2 * H:]
            else:
                bias[2 * H:] += self.b_hh[2 * H:]
        lend = functools.partial(_workspace.lend, self, dtype=x.dtype)
        self.gates = project_inputs(x, self.w_ih_, bias if fused else bias * s,
                                    out=lend((T, B, 3 * H)))
        # reset_after: W_hn h + b_hn per step; reset_before: r * h. (time, batch, hidden)
        self.aux = lend((T, B, H))
        if not fused:
            self._scratch(B)
            # h @ W^T with W^T contiguous: OpenBLAS ran it ~30% faster than through .T
            self.w_hh_t = np.ascontiguousarray(self.w_hh_.T)
            self.w_rz_t, self.w_n_t = self.w_hh_t[:, :2 * H], self.w_hh_t[:, 2 * H:]

    def _weights(self, fused):
        """The weights as the loop uses them: the compiled loop (fused) activates each
        gate itself and takes them as they are; the NumPy loop halves the r, z rows."""
        self.s = s = None if fused else self.scale
        if fused:
            self.w_ih_, self.w_hh_ = self.w_ih, self.w_hh
        else:
            self.w_ih_ = self.w_ih * s[:, None]
            self.w_hh_ = self.w_hh * s[:, None]
        H = self.H
        self.w_rz, self.w_n = self.w_hh_[:2 * H], self.w_hh_[2 * H:]

    def _scratch(self, B):
        """The NumPy loop's per-step buffers."""
        dtype = self.w_hh.dtype
        self.tmp3 = np.empty((B, 3 * self.H), dtype=dtype)
        self.tmp = np.empty((B, self.H), dtype=dtype)

    def fusable(self):
        return self.fast and self.reset_after and self.act is ACTIVATIONS["tanh"]

    def own_infer(self):
        """The NumPy backend runs ``gru_loop`` (feature-major) for inference of the
        cells the compiled loop takes; training stays on the shared scan."""
        return self.fusable()

    def loop_infer(self, x, init, keep, reverse, out=None):
        """Inference without a graph: (output (T, B, H), [h_n]); the output is written
        into ``out`` if given."""
        wa = gru_loop.fused_weights(self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        out, h_n = gru_loop.infer(wa, x, init[0], keep, reverse, out)
        _workspace.give(wa)
        return out, [h_n]

    def fused_forward(self, compiled, hist, keep):
        b_hn = np.zeros(self.H, self.gates.dtype) if self.b_hn is None else self.b_hn
        compiled.run_gru_forward(self.gates, self.w_hh_,
                             np.ascontiguousarray(b_hn), hist.init[0], hist.states[0],
                             self.aux, keep, hist.reverse)

    def fused_backward(self, compiled, hist, d_seq, d, live):
        self.dgh = _workspace.lend(self, self.gates.shape, self.gates.dtype)
        compiled.run_gru_backward(self.gates, self.dgh, self.w_hh_, self.aux,
                              hist.states[0], hist.init[0], d_seq, d[0], live, hist.reverse)

    def _gate_activation(self, rz):
        if self.fast:
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
        else:
            self.gate_act.forward(rz, rz)

    def step(self, t, prev, out):
        (h_prev,), (h,) = prev, out
        H, z, tmp = self.H, self.gates[t], self.tmp
        r, u, n = z[:, :H], z[:, H:2 * H], z[:, 2 * H:]      # u: the update gate z_t
        rz = z[:, :2 * H]
        if self.reset_after:
            gh = np.matmul(h_prev, self.w_hh_t, out=self.tmp3)
            rz += gh[:, :2 * H]
            self._gate_activation(rz)
            hn = self.aux[t]
            if self.b_hn is None:
                np.copyto(hn, gh[:, 2 * H:])
            else:
                np.add(gh[:, 2 * H:], self.b_hn, out=hn)
            np.multiply(r, hn, out=tmp)
        else:
            rz += np.matmul(h_prev, self.w_rz_t, out=self.tmp3[:, :2 * H])
            self._gate_activation(rz)
            rh = np.multiply(r, h_prev, out=self.aux[t])
            np.matmul(rh, self.w_n_t, out=tmp)
        n += tmp
        self.act.forward(n, n)
        # h = (1 - u) n + u h_prev = n + u (h_prev - n)
        np.subtract(h_prev, n, out=h)
        h *= u
        h += n

    def end_forward(self):
        # The NumPy loop's weight copies and scratch are made again if backward runs:
        # not kept in the BPTT cache.
        if self.s is not None:
            del self.w_ih_, self.w_hh_, self.w_rz, self.w_n, self.tmp3, self.tmp
            del self.w_hh_t, self.w_rz_t, self.w_n_t

    def begin_backward(self, hist):
        H, g = self.H, self.gates
        self._weights(False)
        self._scratch(g.shape[1])
        r, u, n = g[..., :H], g[..., H:2 * H], g[..., 2 * H:]
        lend = functools.partial(_workspace.lend, self, dtype=g.dtype)
        h_prev = hist.prev_seq(0, _workspace.take(g.shape[:2] + (H,), g.dtype))
        # Factors that do not depend on the recurrence, for every step at once:
        #   dL/da'_z = dh * (h_prev - n) σ'(a_z)          -> self.k_u
        #   dL/da_n  = dh * (1 - z) tanh'(a_n)            -> self.k_n
        #   dL/da'_r = dL/da_n * (W_hn h + b_hn) σ'(a_r)  (reset after; reset before
        #              uses h_prev times the gradient of r * h instead)  -> self.k_r
        dsig = self.gate_act.grad(g[..., :2 * H], lend(g.shape[:2] + (2 * H,)))
        if self.fast:
            dsig *= 2
        self.k_u = np.subtract(h_prev, n, out=lend(n.shape))
        self.k_u *= dsig[..., H:]
        self.k_n = self.act.grad(n, lend(n.shape))
        self.k_n *= 1 - u
        self.k_r = dsig[..., :H]
        self.k_r *= self.aux if self.reset_after else h_prev
        _workspace.give(h_prev)
        # Gradients w.r.t. the recurrent products' outputs, kept for dW_hh.
        self.dgh = lend(g.shape) if self.reset_after else None

    def step_backward(self, t, prev, d):
        (h_prev,), (dh,) = prev, d
        H, z, tmp = self.H, self.gates[t], self.tmp
        r, u = z[:, :H], z[:, H:2 * H]
        dn = np.multiply(dh, self.k_n[t], out=z[:, 2 * H:])   # n is spent: holds dL/da_n
        if self.reset_after:
            g = self.dgh[t]
            np.multiply(dn, self.k_r[t], out=g[:, :H])
            np.multiply(dh, self.k_u[t], out=g[:, H:2 * H])
            np.multiply(dn, r, out=g[:, 2 * H:])
            dh *= u
            dh += np.matmul(g, self.w_hh_, out=tmp)
            z[:, :2 * H] = g[:, :2 * H]
        else:
            drh = np.matmul(dn, self.w_n, out=tmp)              # dL/d(r * h_prev)
            dr = np.multiply(drh, self.k_r[t], out=self.tmp3[:, :H])
            np.multiply(dh, self.k_u[t], out=self.tmp3[:, H:2 * H])
            dh *= u
            drh *= r
            dh += drh
            z[:, :H] = dr
            z[:, H:2 * H] = self.tmp3[:, H:2 * H]
            dh += np.matmul(z[:, :2 * H], self.w_rz, out=tmp)

    def end_backward(self, x, hist):
        H, dz, s = self.H, self.gates, self.s
        dx, dw_ih, db = input_grads(x, self.w_ih_, dz, hist.need_dx)
        if self.reset_after:
            dw_hh = hist.outer_prev(self.dgh, 0)
            db_hh = self.dgh.sum(axis=(0, 1))
        else:
            dw_hh = np.empty_like(self.w_hh)
            dw_hh[:2 * H] = hist.outer_prev(dz[..., :2 * H], 0)
            # sum_t dn_t^T (r_t * h_{t-1}): r * h was kept per step in aux.
            T, B = dz.shape[:2]
            dw_hh[2 * H:] = dz[..., 2 * H:].reshape(T * B, H).T @ self.aux.reshape(T * B, H)
            db_hh = db
        if s is not None:   # back from the scaled rows (a' = S a) to the caller's weights
            dw_ih, dw_hh, db, db_hh = dw_ih * s[:, None], dw_hh * s[:, None], db * s, db_hh * s
        grads = {"w_ih": dw_ih, "w_hh": dw_hh}
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db_hh
        return dx, grads
