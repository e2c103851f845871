"""Helpers shared by the functional ops: operand coercion and broadcast reduction."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor, _is_scalar


def as_operand(x, like=None):
    """``x`` as a Tensor. A Python scalar takes ``like``'s dtype, so float32 stays float32."""
    if isinstance(x, Tensor):
        return x
    if _is_scalar(x) and like is not None and like.dtype.kind in "fc":
        return Tensor(np.asarray(x, dtype=like.dtype))
    if isinstance(x, np.ndarray):
        return Tensor(x)
    return Tensor(x)


def operands(a, b):
    """Both operands as Tensors; a scalar side adopts the tensor side's dtype."""
    if isinstance(a, Tensor):
        return a, as_operand(b, a)
    b = as_operand(b)
    return as_operand(a, b), b


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the gradient of a broadcast is the sum over its copies."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def normalize_dim(dim, ndim, name="dim"):
    """A non-negative axis index, or a clear error naming ``name``."""
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor with "
                         f"{ndim} dimensions (expected {-ndim}..{ndim - 1})")
    return dim % max(ndim, 1)
