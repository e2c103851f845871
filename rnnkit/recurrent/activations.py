"""Activations a recurrent cell may use, each with its derivative taken from its output.

A cell caches activated values, not pre-activations, so every derivative here is
written in terms of y = f(z): tanh' = 1 - y^2, sigmoid' = y (1 - y), and so on.
Keras lets users pick ``activation`` and ``recurrent_activation``; ONNX names them too.
"""
from __future__ import annotations

import numpy as np

from rnnkit.functional.activations import sigmoid_array


class Activation:
    """An element-wise f: ``forward(z, out)`` (may be in place) and ``grad(y, out)``,
    which writes f'(z) given y = f(z) into ``out`` (may be y itself)."""

    def __init__(self, name, forward, grad):
        self.name, self.forward, self._grad = name, forward, grad

    def grad(self, y, out=None):
        """f'(z) from y = f(z), written into ``out`` (a new array when None)."""
        if out is None:
            out = np.empty_like(y)
        self._grad(y, out)
        return out

    def __repr__(self):
        return f"Activation({self.name!r})"


def _hard_sigmoid(z, out):
    # Keras 3: clip(z / 6 + 1/2, 0, 1)
    np.multiply(z, 1 / 6, out=out)
    out += 0.5
    return np.clip(out, 0, 1, out=out)


def _tanh_grad(y, out):          # 1 - y^2
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)


def _sigmoid_grad(y, out):       # y (1 - y)
    np.subtract(1, y, out=out)
    out *= y


def _hard_sigmoid_grad(y, out):  # 1/6 on the slope, 0 where clipped
    inside = (y > 0) & (y < 1)
    np.multiply(inside, 1 / 6, out=out)


def _linear(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


ACTIVATIONS = {
    "tanh": Activation("tanh", lambda z, out: np.tanh(z, out=out), _tanh_grad),
    "sigmoid": Activation("sigmoid", lambda z, out: sigmoid_array(z, out=out), _sigmoid_grad),
    "relu": Activation("relu", lambda z, out: np.maximum(z, 0, out=out),
                       lambda y, out: np.sign(y, out=out)),   # y >= 0, so sign is 0 or 1
    "hard_sigmoid": Activation("hard_sigmoid", _hard_sigmoid, _hard_sigmoid_grad),
    "linear": Activation("linear", _linear, lambda y, out: out.fill(1)),
}


def get_activation(name, argument="activation"):
    """The :class:`Activation` called ``name`` (or ``name`` itself if already one)."""
    if isinstance(name, Activation):
        return name
    if name is None:
        name = "linear"
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"{argument}: unknown activation {name!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}") from None
