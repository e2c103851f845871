"""Reductions and selections: sum, mean, max/min, argmax/argmin, topk.

``max``/``min`` over a dimension and ``topk`` return (values, indices) named tuples, as
PyTorch's ``torch.return_types``; the values are differentiable, the int64 indices not.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from rnnkit._tensor import Tensor, int64
from rnnkit.functional._util import as_operand, normalize_dim
from rnnkit.functional.math import cast, maximum, minimum
from rnnkit.functional.shape import reshape

# PyTorch's torch.return_types.max / min / topk: tuples with .values and .indices.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _axes(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(normalize_dim(d, ndim) for d in dims)


def _expand(g, shape, axes, keepdim):
    """Re-insert reduced axes into g so it broadcasts against the input's shape."""
    if not keepdim:
        for a in sorted(axes):
            g = np.expand_dims(g, a)
    return g


def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all).

    dtype: cast x to it first. Integer and bool input sums to int64, as in PyTorch.
    """
    x = as_operand(x) if dtype is None else cast(x, dtype)
    if x.dtype.kind in "biu":
        x = cast(x, int64)
    axes = _axes(dim, x.ndim)
    out = np.asarray(x.data.sum(axis=axes, keepdims=keepdim))
    return Tensor._make(out, (x,), lambda g: (np.broadcast_to(
        _expand(g, x.shape, axes, keepdim), x.shape).copy(),), "Sum")


def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim`` (an int, a tuple, or None for all).

    x must be floating point unless ``dtype`` (a float dtype to compute in) is given, as
    in PyTorch.
    """
    x = as_operand(x) if dtype is None else cast(x, dtype)
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean: input must be floating point, got dtype {x.dtype}; pass "
                        f"dtype=rnnkit.float32 (or call .float() first)")
    axes = _axes(dim, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    out = np.asarray(x.data.mean(axis=axes, keepdims=keepdim))
    return Tensor._make(out, (x,), lambda g: (np.broadcast_to(
        _expand(g, x.shape, axes, keepdim) / count, x.shape).copy(),), "Mean")


def max(x, dim=None, keepdim=False):
    """The maximum, PyTorch's ``torch.max`` in its three forms.

    - ``max(x)``: the largest element as a 0-d tensor; equal maxima share the gradient.
    - ``max(x, dim, keepdim=False)``: a named tuple (values, indices) over ``dim``; the
      gradient goes to the (first) arg-max.
    - ``max(x, other)`` with a tensor ``other``: the element-wise maximum.
    """
    return _extreme(x, dim, keepdim, np.argmax, max_result, maximum, "max")


def min(x, dim=None, keepdim=False):
    """The minimum, in the same three forms as :func:`max`."""
    return _extreme(x, dim, keepdim, np.argmin, min_result, minimum, "min")


def _extreme(x, dim, keepdim, arg, result, elementwise, fn):
    if isinstance(dim, (Tensor, np.ndarray)):
        return elementwise(x, dim)
    x = as_operand(x)
    if dim is None:
        if x.data.size == 0:
            raise ValueError(f"{fn}: the tensor is empty; pass dim to reduce along one "
                             f"dimension")
        out = np.asarray(x.data.reshape(-1)[arg(x.data)])

        def backward(g):
            ties = x.data == out
            return (g * ties / builtins.max(int(ties.sum()), 1),)

        return Tensor._make(out, (x,), backward, fn.capitalize())
    d = normalize_dim(dim, x.ndim)
    if x.ndim == 0:   # the element itself, at index 0 (keepdim changes nothing)
        return result(reshape(x, ()), Tensor(np.zeros((), np.int64)))
    idx = _arg(x.data, arg, d, fn)
    out = np.take_along_axis(x.data, idx, axis=d)
    if not keepdim:
        out, idx_out = np.squeeze(out, d), np.squeeze(idx, d)
    else:
        idx_out = idx

    def backward(g):
        gx = np.zeros(x.shape, dtype=g.dtype)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, d), axis=d)
        return (gx,)

    return result(Tensor._make(out, (x,), backward, fn.capitalize()), Tensor(idx_out))


def _arg(a, arg, d, fn):
    """Indices of the extreme along axis d, keeping d (size 1), as int64."""
    if a.ndim == 0:
        return np.zeros((), np.int64)
    if a.shape[d] == 0:
        raise ValueError(f"{fn}: dimension {d} has size 0, so there is no extreme to take")
    return np.expand_dims(arg(a, axis=d), d).astype(np.int64, copy=False)


def argmax(x, dim=None, keepdim=False):
    """Index of the largest element (the first one among ties; NaN counts as largest).

    dim None: the index into the flattened tensor, as a 0-d int64 tensor (all-ones shape
    with keepdim); else int64 indices along ``dim``. Not differentiable.
    """
    return _arg_public(x, dim, keepdim, np.argmax, "argmax")


def argmin(x, dim=None, keepdim=False):
    """Index of the smallest element; the same conventions as :func:`argmax`."""
    return _arg_public(x, dim, keepdim, np.argmin, "argmin")


def _arg_public(x, dim, keepdim, arg, fn):
    a = as_operand(x).data
    if dim is None:
        if a.size == 0:
            raise ValueError(f"{fn}: the tensor is empty; pass dim to reduce along one "
                             f"dimension")
        return Tensor(np.asarray(arg(a, keepdims=keepdim), dtype=np.int64))
    d = normalize_dim(dim, a.ndim)
    idx = _arg(a, arg, d, fn)
    return Tensor(idx if keepdim or a.ndim == 0 else np.squeeze(idx, d))


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or, with ``largest=False``, smallest) elements along ``dim``.

    Returns a named tuple (values, indices), both of shape x.shape with ``dim`` resized to
    k, in descending (ascending) order, equal values by increasing index (PyTorch leaves
    their order unspecified); NaN counts as the largest value. ``sorted=False`` is accepted: the order is then unspecified in
    PyTorch, and rnnkit returns the sorted order. The values' gradient flows to the
    chosen elements.
    """
    x = as_operand(x)
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the size of dimension "
                         f"{dim}), got {k!r}")
    if x.ndim == 0:   # PyTorch gives the element itself for k = 0 or 1
        return topk_result(reshape(x, ()), Tensor(np.zeros((), np.int64)))
    a = x.data
    if largest:
        # A stable ascending sort of the reversed array, read backwards: descending
        # values with equal ones by increasing index, for any dtype.
        rev = np.argsort(np.flip(a, d), axis=d, kind="stable")
        order = (n - 1) - np.flip(rev, d)
    else:
        order = np.argsort(a, axis=d, kind="stable")
    idx = np.take(order, np.arange(k), axis=d).astype(np.int64, copy=False)
    out = np.take_along_axis(a, idx, axis=d)

    def backward(g):
        gx = np.zeros(a.shape, dtype=g.dtype)
        np.put_along_axis(gx, idx, g, axis=d)
        return (gx,)

    return topk_result(Tensor._make(out, (x,), backward, "TopK"), Tensor(idx))
