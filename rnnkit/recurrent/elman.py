"""The Elman RNN cell: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
from __future__ import annotations

import numpy as np

from rnnkit.recurrent import _workspace
from rnnkit.recurrent._proj import add_biases, input_grads, project_inputs
from rnnkit.recurrent.activations import get_activation


class ElmanCell:
    """One step of the Elman (simple) RNN, as in ``torch.nn.RNN`` and Keras ``SimpleRNN``.

        a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        h_t = act(a_t)                        act: tanh (default), relu, ...

    w_ih: (hidden, input); w_hh: (hidden, hidden); b_ih, b_hh: (hidden,) or None.
    State: (h,) of shape (batch, hidden).
    """

    def __init__(self, w_ih, w_hh, b_ih=None, b_hh=None, activation="tanh"):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = w_ih, w_hh, b_ih, b_hh
        self.act = get_activation(activation, "nonlinearity")

    def begin(self, x, fused=False):
        # Both biases fold into the one input-projection GEMM.
        # A workspace buffer, given back at the end of the forward: not part of the cache.
        T, B, H = x.shape[0], x.shape[1], self.w_hh.shape[0]
        self.a = project_inputs(x, self.w_ih, add_biases(self.b_ih, self.b_hh),
                                out=_workspace.take((T, B, H), x.dtype))
        if not fused:   # the NumPy loop's scratch, and W_hh^T laid out for its products
            self.tmp = np.empty(self.a.shape[1:], dtype=x.dtype)
            self.w_hh_t = np.ascontiguousarray(self.w_hh.T)

    def fusable(self):
        return self.act.name in ("tanh", "relu")

    def fused_forward(self, compiled, hist, keep):
        compiled.run_rnn_forward(self.a, self.w_hh,
                             hist.init[0], hist.states[0], keep, hist.reverse,
                             self.act.name == "relu")

    def fused_backward(self, compiled, hist, d_seq, d, live):
        self.a = _workspace.lend(self, hist.states[0].shape, hist.states[0].dtype)
        compiled.run_rnn_backward(self.a, self.w_hh,
                              hist.states[0], d_seq, d[0], live, hist.reverse,
                              self.act.name == "relu")

    def step(self, t, prev, out):
        a = self.a[t]
        np.matmul(prev[0], self.w_hh_t, out=self.tmp)
        a += self.tmp
        self.act.forward(a, out[0])

    def end_forward(self):
        # act' is computed from h_t, so the pre-activations need not be cached.
        _workspace.give(self.a)
        del self.a
        self.__dict__.pop("tmp", None)      # the NumPy loop's scratch
        self.__dict__.pop("w_hh_t", None)

    def begin_backward(self, hist):
        # act'(a_t) for every t, computed from h_t; during the loop it becomes dL/da_t.
        h = hist.states[0]
        self.a = self.act.grad(h, _workspace.lend(self, h.shape, h.dtype))

    def step_backward(self, t, prev, d):
        da = self.a[t]
        da *= d[0]
        np.matmul(da, self.w_hh, out=d[0])

    def end_backward(self, x, hist):
        da = self.a
        dx, dw_ih, db = input_grads(x, self.w_ih, da, hist.need_dx)
        grads = {"w_ih": dw_ih, "w_hh": hist.outer_prev(da, 0)}
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db.copy()
        return dx, grads
