"""``RNNCell``, ``LSTMCell``, ``GRUCell``: one time step, PyTorch's single-step modules.

A cell runs the same fused kernel as ``nn.RNN``/``nn.LSTM``/``nn.GRU`` on a sequence of
length one (x[None]), so the step's maths and its backward exist in exactly one place,
``rnnkit.recurrent``. Parameter names, shapes, gate order and initialisation are
PyTorch's: ``weight_ih`` (gates*hidden, input_size), ``weight_hh`` (gates*hidden,
hidden), ``bias_ih`` and ``bias_hh`` (gates*hidden,), all U(-1/sqrt(hidden),
1/sqrt(hidden)).
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit import functional as F
from rnnkit import recurrent as R
from rnnkit._tensor import as_tensor
from rnnkit.autograd import no_grad
from rnnkit.nn.linear import check_size
from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.random import get_generator


class RNNCellBase(Module):
    """Parameters, initialisation and input checks shared by the three cells.

    num_chunks: the number of gate blocks stacked in the weights (1, 4 or 3).
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=None,
                 generator=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_size(input_size, "input_size", name, allow_zero=False)
        self.hidden_size = check_size(hidden_size, "hidden_size", name, allow_zero=False)
        self.bias = bool(bias)
        self.generator = generator
        dtype = np.dtype(dtype or np.float32)
        G, H = num_chunks, self.hidden_size
        self.weight_ih = Parameter(np.zeros((G * H, self.input_size), dtype))
        self.weight_hh = Parameter(np.zeros((G * H, H), dtype))
        if self.bias:
            self.bias_ih = Parameter(np.zeros(G * H, dtype))
            self.bias_hh = Parameter(np.zeros(G * H, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        k = 1.0 / math.sqrt(self.hidden_size)
        rng = get_generator(self.generator)
        with no_grad():
            for p in self.parameters():
                p.data[...] = rng.uniform(-k, k, p.shape)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _sequence_of_one(self, input):
        """input (batch, input_size) or (input_size,) -> ((1, batch, input_size), unbatched)."""
        name = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D (input_size,) or 2-D "
                             f"(batch, input_size), got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[-1]} features but input_size is "
                             f"{self.input_size}")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input has dtype {x.dtype} but the parameters have "
                            f"{self.weight_ih.dtype}; call .double()/.float() on the module "
                            f"or the input")
        unbatched = x.ndim == 1
        return F.reshape(x, (1, 1 if unbatched else x.shape[0], self.input_size)), unbatched

    def _state(self, s, label, batch, unbatched):
        """A given state as (batch, hidden) (checked against the input), or None."""
        if s is None:
            return None
        name = type(self).__name__
        s = as_tensor(s)
        expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        if s.shape != expected:
            kind = "unbatched" if unbatched else "batched"
            raise ValueError(f"{name}: for {kind} input {label} must have shape {expected}, "
                             f"got {s.shape}")
        if s.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: {label} has dtype {s.dtype}, expected "
                            f"{self.weight_ih.dtype}")
        return F.reshape(s, (batch, self.hidden_size))

    def _step_output(self, s, unbatched):
        return F.reshape(s, (self.hidden_size,)) if unbatched else s


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``torch.nn.RNNCell``:

        h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh or relu

    RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', dtype=None,
    generator=None). weight_ih (hidden, input_size), weight_hh (hidden, hidden).
    forward(input (batch, input_size) or (input_size,), hx (batch, hidden) or (hidden,)
    or None for zeros) -> h' of hx's shape.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None,
                 generator=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected "
                             f"'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """input (batch, input_size) or (input_size,); hx like h' or None -> h'."""
        x, unbatched = self._sequence_of_one(input)
        h = self._state(hx, "hx", x.shape[1], unbatched)
        _, h_new = R.rnn(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return self._step_output(h_new, unbatched)


class LSTMCell(RNNCellBase):
    """One LSTM step, ``torch.nn.LSTMCell`` (gates stacked i, f, g, o):

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c')

    LSTMCell(input_size, hidden_size, bias=True, dtype=None, generator=None).
    weight_ih (4*hidden, input_size), weight_hh (4*hidden, hidden).
    forward(input (batch, input_size) or (input_size,), hx=(h, c) each (batch, hidden)
    or (hidden,), or None for zeros) -> (h', c') of the same shapes.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype, generator)

    def forward(self, input, hx=None):
        """input (batch, input_size) or (input_size,); hx (h, c) or None -> (h', c')."""
        x, unbatched = self._sequence_of_one(input)
        h = c = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: hx must be a tuple (h, c) or None, got "
                                f"{type(hx).__name__}")
            h = self._state(hx[0], "h", x.shape[1], unbatched)
            c = self._state(hx[1], "c", x.shape[1], unbatched)
        _, h_new, c_new = R.lstm(x, h, c, *self._weights())
        return self._step_output(h_new, unbatched), self._step_output(c_new, unbatched)


class GRUCell(RNNCellBase):
    """One GRU step, ``torch.nn.GRUCell`` (gates stacked r, z, n; reset after W_hn h):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    GRUCell(input_size, hidden_size, bias=True, dtype=None, generator=None).
    weight_ih (3*hidden, input_size), weight_hh (3*hidden, hidden).
    forward(input (batch, input_size) or (input_size,), hx (batch, hidden) or (hidden,)
    or None for zeros) -> h' of hx's shape.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype, generator)

    def forward(self, input, hx=None):
        """input (batch, input_size) or (input_size,); hx like h' or None -> h'."""
        x, unbatched = self._sequence_of_one(input)
        h = self._state(hx, "hx", x.shape[1], unbatched)
        _, h_new = R.gru(x, h, *self._weights())
        return self._step_output(h_new, unbatched)
