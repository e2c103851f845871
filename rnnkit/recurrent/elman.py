"""The Elman RNN cell: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
from __future__ import annotations

from rnnkit.recurrent._proj import input_grads, project_inputs
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

    def state_sizes(self):
        return (self.w_hh.shape[0],)

    def begin(self, x):
        # Both biases fold into the one input-projection GEMM.
        self.a = project_inputs(x, self.w_ih, add_biases(self.b_ih, self.b_hh))

    def step(self, t, prev, out):
        (h_prev,), (h,) = prev, out
        a = self.a[t]
        a += h_prev @ self.w_hh.T
        self.act.forward(a, h)

    def step_backward(self, t, prev, new, d_new):
        (dh,), (h,) = d_new, new
        da = dh * self.act.grad(h)
        self.a[t] = da  # the pre-activation is spent: its buffer now holds its gradient
        return (da @ self.w_hh,)

    def end_backward(self, x, hist):
        da = self.a
        dx, dw_ih, db = input_grads(x, self.w_ih, da)
        grads = {"w_ih": dw_ih, "w_hh": hist.outer_prev(da, 0)}
        if self.b_ih is not None:
            grads["b_ih"] = db
        if self.b_hh is not None:
            grads["b_hh"] = db.copy()
        return dx, grads


def add_biases(b1, b2):
    """b1 + b2 where either may be None."""
    if b1 is None:
        return b2
    if b2 is None:
        return b1
    return b1 + b2
