"""Helpers shared by the functional ops: operand coercion and broadcast reduction."""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit._convert import to_array
from rnnkit._tensor import DEFAULT_DTYPE, Tensor, _is_scalar


def as_operand(x, like=None):
    """``x`` as a Tensor (ndarrays keep their dtype; Python data as ``rnnkit.tensor``).

    A Python scalar beside a tensor ``like`` takes like's dtype where PyTorch keeps it:
    any scalar beside a float tensor, an int beside an integer tensor (float32 stays
    float32, int32 stays int32).
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and _is_scalar(x):
        kind = like.dtype.kind
        if kind in "fc" or (kind in "iu" and isinstance(x, numbers.Integral)):
            return Tensor(np.asarray(x, dtype=like.dtype))
    if type(x) is np.ndarray:
        return Tensor(x)
    return Tensor(to_array(x))


def operands(a, b):
    """Both operands as Tensors, with PyTorch's type promotion where NumPy's differs.

    A Python scalar beside a tensor adopts the tensor's dtype, and a float scalar beside
    an integer or bool tensor makes both float32 (the default dtype). An integer or bool
    tensor beside a float tensor takes the float tensor's dtype (NumPy would widen
    int64 with float32 to float64).
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype is b.data.dtype:   # the common case: nothing to promote
                return a, b
            return _same_category(a, b)
        a = _floated(a, b)
        return a, as_operand(b, a)
    if isinstance(b, Tensor):
        b = _floated(b, a)
        return as_operand(a, b), b
    b = as_operand(b)
    return as_operand(a, b), b


def _same_category(a, b):
    """a and b, the integer/bool one cast to the other's float dtype if they differ so."""
    fa, fb = a.data.dtype.kind in "fc", b.data.dtype.kind in "fc"
    if fa and not fb:
        return a, Tensor(b.data.astype(a.data.dtype))
    if fb and not fa:
        return Tensor(a.data.astype(b.data.dtype)), b
    return a, b


def _floated(t, scalar):
    """``t`` as float32 when it holds integers or bools and ``scalar`` is a float."""
    if isinstance(scalar, float) and t.dtype.kind in "biu":
        return Tensor(t.data.astype(DEFAULT_DTYPE))
    return t


def floating(x):
    """``x`` as a Tensor whose integer or bool values become float32, as PyTorch promotes
    them for ops whose results are real numbers (exp, log, tanh, true division...)."""
    x = as_operand(x)
    if x.data.dtype.kind in "biu":
        return Tensor(x.data.astype(DEFAULT_DTYPE))
    return x


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
    n = max(ndim, 1)   # a 0-d tensor takes dim 0 or -1, as in PyTorch
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: expected an int dimension, got {type(dim).__name__} {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor with "
                         f"{ndim} dimensions (expected {-n}..{n - 1})")
    return int(dim) % n
