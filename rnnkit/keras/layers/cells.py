"""Keras's recurrent cells: weights in Keras's layout, one step, and the fused kernel.

A cell owns ``kernel`` (input_dim, k*units), ``recurrent_kernel`` (units, k*units) and
``bias`` with Keras's gate order (LSTM i, f, c, o; GRU z, r, h). ``call`` runs one step
with differentiable ops (the generic path: custom loops, recurrent dropout);
``run_sequence`` translates the weights to rnnkit's core layout once and runs the whole
sequence in one fused kernel, which is what ``RNN`` uses whenever it can.
"""
from __future__ import annotations

import numpy as np

from rnnkit import functional as F
from rnnkit import recurrent as R
from rnnkit.keras import activations, initializers, regularizers
from rnnkit.keras.layer import Layer, positive_int, reject_unsupported


class DropoutCell(Layer):
    """Shared options of the three cells: units, activations, initializers, regularizers,
    dropout and recurrent_dropout (rates in [0, 1)), seed."""

    gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        units = positive_int(name, "units", units)
        reject_unsupported(name, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        for arg, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= value < 1:
                raise ValueError(f"{name}: {arg} must be in [0, 1), got {value!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        k, u = self.gates, self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], k * u),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, k * u),
                                                self.recurrent_initializer,
                                                self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(),
                                        self.bias_regularizer)
        else:
            self.bias = None
        self.built = True

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def dropout_masks(self, batch, dim, rate, count, dtype):
        """``count`` inverted-dropout masks of shape (batch, dim) (scaled by 1/(1-rate))."""
        from rnnkit.random import get_generator

        rng = self._rng or get_generator()
        keep = rng.random((count, batch, dim)) >= rate
        return (keep / (1 - rate)).astype(dtype)

    # -- core translation ---------------------------------------------------------------
    def core_weights(self):
        """(w_ih, w_hh, b_ih, b_hh) in rnnkit's core layout, as differentiable views."""
        perm = self._core_perm()
        w_ih, w_hh = F.transpose(self.kernel, 0, 1), F.transpose(self.recurrent_kernel, 0, 1)
        b_ih = b_hh = None
        if self.bias is not None:
            if self.bias.ndim == 2:          # GRU reset_after: (input bias, recurrent bias)
                b_ih, b_hh = self.bias[0], self.bias[1]
            else:
                b_ih = self.bias
        if perm is not None:
            w_ih, w_hh = w_ih[perm], w_hh[perm]
            b_ih = None if b_ih is None else b_ih[perm]
            b_hh = None if b_hh is None else b_hh[perm]
        return w_ih, w_hh, b_ih, b_hh

    def _core_perm(self):
        return None

    def fusable(self):
        """Whether the fused kernel can run this cell's activations."""
        return (activations.serialize(self.activation) in R.ACTIVATIONS
                and activations.serialize(self.recurrent_activation) in R.ACTIVATIONS)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias, dropout=self.dropout,
                      recurrent_dropout=self.recurrent_dropout, seed=self.seed,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      recurrent_initializer=initializers.serialize(self.recurrent_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer))
        return config


def _gate_inputs(x, masks, k):
    return x if masks is None else x * masks[k]


class SimpleRNNCell(DropoutCell):
    """h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).

    kernel (input_dim, units), recurrent_kernel (units, units), bias (units,).
    """

    gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:   # one activation only, as in Keras
            raise TypeError("SimpleRNNCell: unexpected keyword argument "
                            "'recurrent_activation' (a SimpleRNN has only activation)")
        super().__init__(units, activation=activation, **kwargs)

    def call(self, inputs, states, training=False, masks=None):
        """One step: inputs (batch, input_dim), states [h (batch, units)] -> (h, [h])."""
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x = _gate_inputs(inputs, masks and masks[0], 0)
        hp = _gate_inputs(h_prev, masks and masks[1], 0)
        a = F.matmul(x, self.kernel) + F.matmul(hp, self.recurrent_kernel)
        if self.bias is not None:
            a = a + self.bias
        h = self.activation(a)
        return h, [h]

    def run_sequence(self, x, init, **opts):
        w = self.core_weights()
        return R.rnn(x, init[0], *w, nonlinearity=activations.serialize(self.activation),
                     **opts)

    def fusable(self):
        return activations.serialize(self.activation) in R.ACTIVATIONS


class LSTMCell(DropoutCell):
    """Keras's LSTM step (gates i, f, c, o in the kernel's columns):

        i = σ(x W_i + h U_i + b_i), f = σ(x W_f + h U_f + b_f),
        c' = f * c + i * tanh(x W_c + h U_c + b_c), o = σ(x W_o + h U_o + b_o),
        h' = o * tanh(c')

    σ is ``recurrent_activation`` (sigmoid), tanh ``activation``. With
    ``unit_forget_bias`` the forget-gate bias starts at 1. States [h, c], each (batch, units).
    """

    gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype="float32"):
            return np.concatenate([base((u,), dtype), np.ones(u, dtype), base((2 * u,), dtype)])
        return init

    def call(self, inputs, states, training=False, masks=None):
        """One step: inputs (batch, input_dim), states [h, c] -> (h, [h, c])."""
        h_prev, c_prev = states
        u = self.units
        pre = []
        for k in range(4):
            xk = _gate_inputs(inputs, masks and masks[0], k)
            hk = _gate_inputs(h_prev, masks and masks[1], k)
            z = (F.matmul(xk, self.kernel[:, k * u:(k + 1) * u])
                 + F.matmul(hk, self.recurrent_kernel[:, k * u:(k + 1) * u]))
            if self.bias is not None:
                z = z + self.bias[k * u:(k + 1) * u]
            pre.append(z)
        i, f = self.recurrent_activation(pre[0]), self.recurrent_activation(pre[1])
        c = f * c_prev + i * self.activation(pre[2])
        o = self.recurrent_activation(pre[3])
        h = o * self.activation(c)
        return h, [h, c]

    def run_sequence(self, x, init, **opts):
        return R.lstm(x, init[0], init[1], *self.core_weights(),
                      activation=activations.serialize(self.activation),
                      recurrent_activation=activations.serialize(self.recurrent_activation),
                      **opts)

    def get_config(self):
        config = super().get_config()
        config.update(unit_forget_bias=self.unit_forget_bias,
                      recurrent_activation=activations.serialize(self.recurrent_activation))
        return config


class GRUCell(DropoutCell):
    """Keras's GRU step (gates z, r, h in the kernel's columns):

        z = σ(x W_z + h U_z + b_z), r = σ(x W_r + h U_r + b_r)
        reset_after=True:  hh = tanh(x W_h + b_h + r * (h U_h + b'_h)), bias (2, 3*units)
        reset_after=False: hh = tanh(x W_h + (r * h) U_h + b_h),        bias (3*units,)
        h' = z * h + (1 - z) * hh
    """

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _core_perm(self):
        u = self.units           # Keras z, r, h  ->  core r, z, n
        return np.r_[u:2 * u, 0:u, 2 * u:3 * u]

    def call(self, inputs, states, training=False, masks=None):
        """One step: inputs (batch, input_dim), states [h] -> (h, [h])."""
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        b_in = b_rec = None
        if self.bias is not None:
            b_in, b_rec = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
        xs, hs = [], []
        for k in range(3):
            xk = F.matmul(_gate_inputs(inputs, masks and masks[0], k),
                          self.kernel[:, k * u:(k + 1) * u])
            if b_in is not None:
                xk = xk + b_in[k * u:(k + 1) * u]
            xs.append(xk)
            hs.append(_gate_inputs(h_prev, masks and masks[1], k))
        rec = [F.matmul(hs[k], self.recurrent_kernel[:, k * u:(k + 1) * u]) for k in range(2)]
        if b_rec is not None:
            rec = [r + b_rec[k * u:(k + 1) * u] for k, r in enumerate(rec)]
        z = self.recurrent_activation(xs[0] + rec[0])
        r = self.recurrent_activation(xs[1] + rec[1])
        if self.reset_after:
            rh = F.matmul(hs[2], self.recurrent_kernel[:, 2 * u:])
            if b_rec is not None:
                rh = rh + b_rec[2 * u:]
            hh = self.activation(xs[2] + r * rh)
        else:
            hh = self.activation(xs[2] + F.matmul(r * hs[2], self.recurrent_kernel[:, 2 * u:]))
        h = z * h_prev + (1 - z) * hh
        return h, [h]

    def run_sequence(self, x, init, **opts):
        return R.gru(x, init[0], *self.core_weights(), reset_after=self.reset_after,
                     activation=activations.serialize(self.activation),
                     recurrent_activation=activations.serialize(self.recurrent_activation),
                     **opts)

    def get_config(self):
        config = super().get_config()
        config.update(reset_after=self.reset_after,
                      recurrent_activation=activations.serialize(self.recurrent_activation))
        return config
