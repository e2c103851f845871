"""Keras's activations by name, as differentiable functions of rnnkit Tensors."""
from __future__ import annotations

from rnnkit import functional as F


def linear(x):
    """The identity."""
    return x


def tanh(x):
    return F.tanh(x)


def sigmoid(x):
    return F.sigmoid(x)


def relu(x):
    return F.relu(x)


def hard_sigmoid(x):
    """Keras 3: clip(x / 6 + 1/2, 0, 1)."""
    return F.hard_sigmoid(x)


def softmax(x, axis=-1):
    return F.softmax(x, axis)


_NAMES = {"linear": linear, None: linear, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
          "hard_sigmoid": hard_sigmoid, "softmax": softmax}


def get(identifier):
    """The activation function for a name (or None -> linear) or a callable."""
    if callable(identifier):
        return identifier
    try:
        return _NAMES[identifier]
    except (KeyError, TypeError):
        raise ValueError(f"activation: unknown {identifier!r}; known: "
                         f"{sorted(k for k in _NAMES if k)}") from None


def serialize(fn):
    """The name of an activation function (for configs and the fused kernels)."""
    for name, f in _NAMES.items():
        if f is fn and name is not None:
            return name
    return getattr(fn, "__name__", repr(fn))
