"""The GRU cell (Cho et al. 2014) in both of its published forms."""
from __future__ import annotations

import numpy as np

from rnnkit.recurrent._proj import input_grads, project_inputs
from rnnkit.recurrent.activations import get_activation


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
    """

    def __init__(self, w_ih, w_hh, b_ih=None, b_hh=None, reset_after=True,
                 activation="tanh", recurrent_activation="sigmoid"):
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = w_ih, w_hh, b_ih, b_hh
        self.reset_after = bool(reset_after)
        self.act = get_activation(activation, "activation")
        self.gate_act = get_activation(recurrent_activation, "recurrent_activation")
        self.H = w_hh.shape[0] // 3

    def state_sizes(self):
        return (self.H,)

    def begin(self, x):
        T, B, H = x.shape[0], x.shape[1], self.H
        # b_hr and b_hz sit outside the reset gate: they fold into the input projection.
        # b_hn is added where the form puts it (inside r * (...) when resetting after).
        bias = None if self.b_ih is None else self.b_ih.copy()
        if self.b_hh is not None:
            if bias is None:
                bias = np.zeros_like(self.b_hh)
            bias[:2 * H] += self.b_hh[:2 * H]
            if not self.reset_after:
                bias[2 * H:] += self.b_hh[2 * H:]
        self.gates = project_inputs(x, self.w_ih, bias)
        # reset_after: W_hn h + b_hn; reset_before: r * h. Both (time, batch, hidden).
        self.aux = np.empty((T, B, H), dtype=x.dtype)
        self.w_rz, self.w_n = self.w_hh[:2 * H], self.w_hh[2 * H:]

    def step(self, t, prev, out):
        (h_prev,), (h,) = prev, out
        H, z = self.H, self.gates[t]
        rz = z[:, :2 * H]
        rz += h_prev @ self.w_rz.T
        self.gate_act.forward(rz, rz)
        r, u = z[:, :H], z[:, H:2 * H]       # u: the update gate z_t
        n = z[:, 2 * H:]
        if self.reset_after:
            hn = np.matmul(h_prev, self.w_n.T, out=self.aux[t])
            if self.b_hh is not None:
                hn += self.b_hh[2 * H:]
            n += r * hn
        else:
            rh = np.multiply(r, h_prev, out=self.aux[t])
            n += rh @ self.w_n.T
        self.act.forward(n, n)
        # h = (1 - u) n + u h_prev = n + u (h_prev - n)
        np.subtract(h_prev, n, out=h)
        h *= u
        h += n

    def step_backward(self, t, prev, new, d_new):
        (h_prev,), (dh,) = prev, d_new
        H, z = self.H, self.gates[t]
        r, u, n = z[:, :H], z[:, H:2 * H], z[:, 2 * H:]
        dz = np.empty_like(z)
        dn = np.multiply(dh * (1 - u), self.act.grad(n), out=dz[:, 2 * H:])
        np.multiply(dh * (h_prev - n), self.gate_act.grad(u), out=dz[:, H:2 * H])
        dh_prev = dh * u
        if self.reset_after:
            np.multiply(dn * self.aux[t], self.gate_act.grad(r), out=dz[:, :H])
            self.aux[t] = dn * r   # W_hn h + b_hn is spent: keep its gradient instead
            dh_prev += self.aux[t] @ self.w_n
        else:
            drh = dn @ self.w_n
            np.multiply(drh * h_prev, self.gate_act.grad(r), out=dz[:, :H])
            dh_prev += drh * r
        dh_prev += dz[:, :2 * H] @ self.w_rz
        z[...] = dz  # the gates are spent: their buffer now holds the pre-activation grads
        return (dh_prev,)

    def end_backward(self, x, hist):
        H, dz = self.H, self.gates
        dx, dw_ih, db = input_grads(x, self.w_ih, dz)
        dw_hh = np.empty_like(self.w_hh)
        dw_hh[:2 * H] = hist.outer_prev(dz[..., :2 * H], 0)
        grads = {"w_ih": dw_ih, "w_hh": dw_hh}
        if self.reset_after:
            dw_hh[2 * H:] = hist.outer_prev(self.aux, 0)
            db_hh = np.concatenate([db[:2 * H], self.aux.sum(axis=(0, 1))])
        else:
            # sum_t dn_t^T (r_t * h_{t-1}): r*h was kept per step in aux.
            T, B = dz.shape[:2]
            dw_hh[2 * H:] = dz[..., 2 * H:].reshape(T * B, H).T @ self.aux.reshape(T * B, H)
            db_hh = db.copy()
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db_hh
        return dx, grads
