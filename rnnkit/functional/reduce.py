"""Reductions: sum, mean, max."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.functional._util import as_operand, normalize_dim


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


def sum(x, dim=None, keepdim=False):
    """Sum over ``dim`` (an int, a tuple, or None for all)."""
    x = as_operand(x)
    axes = _axes(dim, x.ndim)
    out = np.asarray(x.data.sum(axis=axes, keepdims=keepdim))
    return Tensor._make(out, (x,), lambda g: (np.broadcast_to(
        _expand(g, x.shape, axes, keepdim), x.shape).copy(),), "Sum")


def mean(x, dim=None, keepdim=False):
    """Mean over ``dim`` (an int, a tuple, or None for all)."""
    x = as_operand(x)
    axes = _axes(dim, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    out = np.asarray(x.data.mean(axis=axes, keepdims=keepdim))
    return Tensor._make(out, (x,), lambda g: (np.broadcast_to(
        _expand(g, x.shape, axes, keepdim) / count, x.shape).copy(),), "Mean")


def max(x, dim=None, keepdim=False):
    """Maximum over ``dim``; the gradient goes to the (first) arg-max.

    With ``dim=None`` returns the maximum of all elements, as ``torch.max(x)``; with an int
    ``dim`` returns the values only (use ``Tensor.argmax`` for the indices).
    """
    x = as_operand(x)
    if dim is None:
        flat = int(np.argmax(x.data))
        out = np.asarray(x.data.reshape(-1)[flat])

        def backward(g):
            gx = np.zeros(x.data.size, dtype=g.dtype)
            gx[flat] = g
            return (gx.reshape(x.shape),)

        return Tensor._make(out, (x,), backward, "Max")
    d = normalize_dim(dim, x.ndim)
    idx = np.expand_dims(np.argmax(x.data, axis=d), d)
    out = np.take_along_axis(x.data, idx, axis=d)
    if not keepdim:
        out = np.squeeze(out, d)

    def backward(g):
        gx = np.zeros(x.shape, dtype=g.dtype)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, d), axis=d)
        return (gx,)

    return Tensor._make(out, (x,), backward, "Max")
