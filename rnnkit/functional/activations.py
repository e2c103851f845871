"""Activations and the softmax family, written to stay finite for any input."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.functional._util import as_operand, floating, normalize_dim
from rnnkit.functional.math import cast


def sigmoid_array(z, out=None):
    """1 / (1 + e^-z) without overflow: sigmoid(z) = (1 + tanh(z/2)) / 2.

    One tanh call covers every element, including gates stacked in one block.
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def tanh(x):
    """Hyperbolic tangent; d/dx = 1 - tanh^2 (integer input gives float32)."""
    x = floating(x)
    out = np.tanh(x.data)
    return Tensor._make(out, (x,), lambda g: (g * (1 - out * out),), "Tanh")


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + e^-x), stable for large |x|; d/dx = s (1 - s).

    Integer input gives float32."""
    x = floating(x)
    out = sigmoid_array(x.data)
    return Tensor._make(out, (x,), lambda g: (g * out * (1 - out),), "Sigmoid")


def relu(x):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""
    x = as_operand(x)
    out = np.maximum(x.data, 0)
    return Tensor._make(out, (x,), lambda g: (g * (x.data > 0),), "Relu")


def hard_sigmoid(x):
    """Piecewise-linear sigmoid, Keras 3's definition: clip(x / 6 + 1/2, 0, 1).

    (PyTorch's ``hardsigmoid`` is the same function: relu6(x + 3) / 6.)
    """
    x = as_operand(x)
    out = np.clip(x.data / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)
    inside = (x.data > -3) & (x.data < 3)
    return Tensor._make(out, (x,), lambda g: (g * inside / 6,), "HardSigmoid")


def _float_input(x, dtype, fn):
    """x, cast to ``dtype`` first if given; integer input without a dtype is an error."""
    x = as_operand(x) if dtype is None else cast(x, dtype)
    if x.dtype.kind not in "fc":
        raise TypeError(f"{fn}: input must be floating point, got dtype {x.dtype}; pass "
                        f"dtype=rnnkit.float32 to compute in floats")
    return x


def softmax(x, dim=-1, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the max so nothing overflows.

    dtype: cast x to it first (PyTorch's ``dtype=``); x must be floating point otherwise.
    """
    x = _float_input(x, dtype, "softmax")
    d = normalize_dim(dim, x.ndim)
    e = np.exp(x.data - x.data.max(axis=d, keepdims=True))
    out = e / e.sum(axis=d, keepdims=True)

    def backward(g):
        return (out * (g - (g * out).sum(axis=d, keepdims=True)),)

    return Tensor._make(out, (x,), backward, "Softmax")


def log_softmax_array(z, axis):
    """z - logsumexp(z) along ``axis``, computed from the shifted values."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax(x, dim=-1, dtype=None):
    """log(softmax(x)) along ``dim``, without ever taking log(0); ``dtype`` as in softmax."""
    x = _float_input(x, dtype, "log_softmax")
    d = normalize_dim(dim, x.ndim)
    out = log_softmax_array(x.data, d)

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=d, keepdims=True),)

    return Tensor._make(out, (x,), backward, "LogSoftmax")
