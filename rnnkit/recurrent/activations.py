"""Activations a recurrent cell may use, each with its derivative taken from its output.

A cell caches activated values, not pre-activations, so every derivative here is
written in terms of y = f(z): tanh' = 1 - y^2, sigmoid' = y (1 - y), and so on.
Keras lets users pick ``activation`` and ``recurrent_activation``; ONNX names them too.
"""
from __future__ import annotations

import numpy as np

from rnnkit.functional.activations import sigmoid_array


class Activation:
    """An element-wise f with ``forward(z, out)`` (may be in place) and ``grad(y)`` = f'(z)."""

    def __init__(self, name, forward, grad):
        self.name, self.forward, self.grad = name, forward, grad

    def __repr__(self):
        return f"Activation({self.name!r})"


def _hard_sigmoid(z, out):
    # Keras 3: clip(z / 6 + 1/2, 0, 1)
    np.multiply(z, 1 / 6, out=out)
    out += 0.5
    return np.clip(out, 0, 1, out=out)


ACTIVATIONS = {
    "tanh": Activation("tanh", lambda z, out: np.tanh(z, out=out), lambda y: 1 - y * y),
    "sigmoid": Activation("sigmoid", lambda z, out: sigmoid_array(z, out=out),
                          lambda y: y * (1 - y)),
    "relu": Activation("relu", lambda z, out: np.maximum(z, 0, out=out),
                       lambda y: (y > 0).astype(y.dtype)),
    "hard_sigmoid": Activation("hard_sigmoid", _hard_sigmoid,
                               lambda y: ((y > 0) & (y < 1)).astype(y.dtype) / 6),
    "linear": Activation("linear", lambda z, out: np.copyto(out, z) or out,
                         lambda y: np.ones_like(y)),
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
