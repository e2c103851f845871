"""The LSTM cell (Hochreiter & Schmidhuber 1997, with forget gate), optionally projected."""
from __future__ import annotations

import numpy as np

from rnnkit.recurrent._proj import input_grads, project_inputs
from rnnkit.recurrent.activations import get_activation
from rnnkit.recurrent.elman import add_biases


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
    """

    def __init__(self, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None,
                 activation="tanh", recurrent_activation="sigmoid"):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh, self.w_hr = w_ih, w_hh, b_ih, b_hh, w_hr
        self.act = get_activation(activation, "activation")
        self.gate_act = get_activation(recurrent_activation, "recurrent_activation")
        self.H = w_hh.shape[0] // 4

    def state_sizes(self):
        out = self.H if self.w_hr is None else self.w_hr.shape[0]
        return (out, self.H)

    def begin(self, x):
        T, B, H = x.shape[0], x.shape[1], self.H
        self.gates = project_inputs(x, self.w_ih, add_biases(self.b_ih, self.b_hh))
        self.tanh_c = np.empty((T, B, H), dtype=x.dtype)
        if self.w_hr is not None:
            self.m = np.empty((T, B, H), dtype=x.dtype)   # o * tanh(c), before projection
            self.dh = np.empty((T, B, self.w_hr.shape[0]), dtype=x.dtype)

    def step(self, t, prev, out):
        (h_prev, c_prev), (h, c) = prev, out
        H, z = self.H, self.gates[t]
        z += h_prev @ self.w_hh.T
        self.gate_act.forward(z[:, :2 * H], z[:, :2 * H])       # i, f
        self.act.forward(z[:, 2 * H:3 * H], z[:, 2 * H:3 * H])  # g
        self.gate_act.forward(z[:, 3 * H:], z[:, 3 * H:])       # o
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        np.multiply(f, c_prev, out=c)
        c += i * g
        tc = self.act.forward(c, self.tanh_c[t])
        if self.w_hr is None:
            np.multiply(o, tc, out=h)
        else:
            np.multiply(o, tc, out=self.m[t])
            np.matmul(self.m[t], self.w_hr.T, out=h)

    def step_backward(self, t, prev, new, d_new):
        (_, c_prev), (dh, dc) = prev, d_new
        H, z, tc = self.H, self.gates[t], self.tanh_c[t]
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        if self.w_hr is None:
            dm = dh
        else:
            self.dh[t] = dh
            dm = dh @ self.w_hr
        dc = dc + dm * o * self.act.grad(tc)
        dz = np.empty_like(z)
        np.multiply(dc * g, self.gate_act.grad(i), out=dz[:, :H])
        np.multiply(dc * c_prev, self.gate_act.grad(f), out=dz[:, H:2 * H])
        np.multiply(dc * i, self.act.grad(g), out=dz[:, 2 * H:3 * H])
        np.multiply(dm * tc, self.gate_act.grad(o), out=dz[:, 3 * H:])
        dc_prev = dc * f
        z[...] = dz  # the gates are spent: their buffer now holds the pre-activation grads
        return dz @ self.w_hh, dc_prev

    def end_backward(self, x, hist):
        dz = self.gates
        dx, dw_ih, db = input_grads(x, self.w_ih, dz)
        grads = {"w_ih": dw_ih, "w_hh": hist.outer_prev(dz, 0)}
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db.copy()
        if self.w_hr is not None:
            P = self.w_hr.shape[0]
            grads["w_hr"] = self.dh.reshape(-1, P).T @ self.m.reshape(-1, self.H)
        return dx, grads
