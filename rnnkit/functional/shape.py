"""Shape ops: indexing, reshape, transpose, flip, concat/stack/split. No arithmetic here."""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit._tensor import Tensor, _raw
from rnnkit.functional._util import as_operand, normalize_dim


def getitem(x, index):
    """x[index] with NumPy semantics (basic and advanced indexing).

    The backward scatters the gradient back: a basic index (ints, slices, ``...``,
    ``None``) picks each element at most once, so it is a plain assignment; an advanced
    index may repeat elements, whose gradients then accumulate.
    """
    x = as_operand(x)
    index = _raw(index)
    out = x.data[index]

    def backward(g):
        gx = np.zeros(x.shape, dtype=g.dtype)
        if _is_basic(index):
            gx[index] = g
        else:
            _scatter_add(gx, index, g)
        return (gx,)

    return Tensor._make(np.asarray(out), (x,), backward, "Index")


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (numbers.Integral, np.integer)) and not isinstance(p, bool))
               for p in parts)


def _scatter_add(gx, index, g):
    """gx[index] += g with repeated indices accumulating."""
    if (isinstance(index, np.ndarray) and index.dtype.kind in "iu" and gx.ndim == 2
            and g.size >= 65536):
        # Rows gathered by an integer array (an embedding lookup): np.add.at is several
        # times slower than one bincount per column at this size.
        rows = index.ravel()
        if rows.size and rows.min() < 0:
            rows = rows % gx.shape[0]
        g = g.reshape(rows.size, gx.shape[1])
        for j in range(gx.shape[1]):
            gx[:, j] = np.bincount(rows, weights=g[:, j], minlength=gx.shape[0])
    else:
        np.add.at(gx, index, g)


def reshape(x, shape):
    """x with a new shape of the same size (one entry may be -1)."""
    x = as_operand(x)
    shape = tuple(shape)
    try:
        out = x.data.reshape(shape)
    except TypeError:
        raise TypeError(f"reshape: the shape must be ints, got {shape}") from None
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.data.size} elements) into {shape}") from None
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),), "Reshape")


def view(x, shape):
    """x with a new shape of the same size, sharing its memory (``Tensor.view``).

    Like PyTorch, refuses when the strides make that impossible (e.g. after a
    transpose): call ``.contiguous()`` first, or ``reshape`` (which copies when needed).
    """
    x = as_operand(x)
    out = reshape(x, shape)
    if out.data.size and not np.may_share_memory(out.data, x.data):
        raise RuntimeError(f"view: a tensor of shape {x.shape} with strides "
                           f"{x.data.strides} cannot be viewed as {tuple(shape)} without a "
                           f"copy; use .reshape(...) or .contiguous().view(...)")
    return out


def clone(x):
    """A row-major copy of x that stays in the graph (the gradient passes unchanged)."""
    x = as_operand(x)
    return Tensor._make(np.array(x.data, order="C", copy=True), (x,), lambda g: (g,),
                        "Clone")


def transpose(x, dim0, dim1):
    """x with dimensions ``dim0`` and ``dim1`` swapped."""
    x = as_operand(x)
    d0, d1 = normalize_dim(dim0, x.ndim, "dim0"), normalize_dim(dim1, x.ndim, "dim1")
    out = np.swapaxes(x.data, d0, d1)
    return Tensor._make(out, (x,), lambda g: (np.swapaxes(g, d0, d1),), "Transpose")


def permute(x, dims):
    """x with its dimensions reordered as ``dims``."""
    x = as_operand(x)
    dims = tuple(normalize_dim(d, x.ndim, "dims") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} is not a permutation of the {x.ndim} "
                         f"dimensions of a tensor of shape {x.shape}")
    inverse = tuple(np.argsort(dims))
    return Tensor._make(np.transpose(x.data, dims), (x,),
                        lambda g: (np.transpose(g, inverse),), "Permute")


def flip(x, dims):
    """x reversed along ``dims`` (an int or a sequence of ints)."""
    x = as_operand(x)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(normalize_dim(d, x.ndim, "dims") for d in dims)
    return Tensor._make(np.flip(x.data, axes), (x,), lambda g: (np.flip(g, axes),), "Flip")


def squeeze(x, dim=None):
    """x without size-1 dimensions (only ``dim`` if given and of size 1)."""
    x = as_operand(x)
    if dim is None:
        out = np.squeeze(x.data)
    else:
        d = normalize_dim(dim, x.ndim)
        out = np.squeeze(x.data, d) if x.shape[d] == 1 else x.data
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),), "Squeeze")


def unsqueeze(x, dim):
    """x with a new size-1 dimension inserted at ``dim``."""
    x = as_operand(x)
    d = normalize_dim(dim, x.ndim + 1)
    out = x.data.reshape(x.shape[:d] + (1,) + x.shape[d:])   # a view; np.expand_dims costs 5x
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),), "Unsqueeze")


def concat(tensors, dim=0):
    """Join tensors along an existing dimension ``dim`` (``torch.cat``)."""
    tensors = [as_operand(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: expected a non-empty sequence of tensors")
    d = normalize_dim(dim, tensors[0].ndim)
    for t in tensors[1:]:
        if t.ndim != tensors[0].ndim or any(
                a != b for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if i != d):
            raise ValueError(f"concat: shapes {[t.shape for t in tensors]} differ outside "
                             f"dimension {dim}")
    out = np.concatenate([t.data for t in tensors], axis=d)
    bounds = np.cumsum([t.shape[d] for t in tensors])[:-1]
    return Tensor._make(out, tensors, lambda g: tuple(np.split(g, bounds, axis=d)), "Concat")


cat = concat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = [as_operand(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: all tensors must have the same shape, got "
                         f"{[t.shape for t in tensors]}")
    d = normalize_dim(dim, tensors[0].ndim + 1)
    out = np.stack([t.data for t in tensors], axis=d)
    n = len(tensors)
    return Tensor._make(out, tensors,
                        lambda g: tuple(np.squeeze(p, d) for p in np.split(g, n, axis=d)),
                        "Stack")


def split(x, split_size_or_sections, dim=0):
    """Split x along ``dim`` into chunks, like ``torch.split``.

    An int gives chunks of that size (the last may be smaller); a list gives the sizes.
    Returns a tuple of tensors.
    """
    x = as_operand(x)
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):  # also NumPy integers
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {sum(sizes)}, but dimension "
                             f"{dim} has size {n}")
    bounds = np.cumsum(sizes)[:-1]
    outs = [np.ascontiguousarray(p) for p in np.split(x.data, bounds, axis=d)]
    return x._make_many(outs, (x,), lambda *gs: (np.concatenate(gs, axis=d),), "Split")
