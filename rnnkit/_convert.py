"""From Python and NumPy values to the ndarray a Tensor holds, with PyTorch's rules.

``to_array`` follows ``torch.tensor``'s dtype inference; ``legacy_array`` reads the
arguments of the legacy constructor ``Tensor(*args)`` (sizes or data); ``read_sizes`` reads
the ``*size`` arguments of every creation function (ints, or one tuple/list/Size).
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from rnnkit._tensor import _NO_DATA, Tensor
from rnnkit.dtypes import DEFAULT_DTYPE, Size, as_dtype


def to_array(data, dtype=None):
    """The ndarray behind ``data``, following ``torch.tensor``'s dtype inference.

    Python floats and lists of them become float32 (the default dtype); NumPy arrays keep
    their dtype (so float64 stays float64); Python ints become int64; bools stay bool.
    """
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        arr = sequence_array(data, "data")
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(DEFAULT_DTYPE)
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if arr.dtype.hasobject:
        raise TypeError(f"data: cannot build a tensor from {type(data).__name__} holding "
                        f"objects of mixed or non-numeric type")
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def sequence_array(data, name):
    """np.asarray(data) for Python data, with ragged nesting and text named clearly."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"{name}: cannot build a tensor from {type(data).__name__} {data!r}")
    try:
        arr = np.asarray(data)
    except ValueError as exc:
        raise ValueError(f"{name}: nested sequences of unequal lengths cannot form a "
                         f"tensor ({exc})") from None
    if arr.dtype.kind in "USV":
        raise TypeError(f"{name}: cannot build a tensor from text or bytes "
                        f"(got dtype {arr.dtype})")
    return arr


def legacy_array(data, sizes, dtype):
    """The array behind ``Tensor(*args)`` when it is not a plain ndarray: PyTorch's legacy
    constructor. Ints (or one ``Size``) are sizes; anything else is data."""
    dtype = as_dtype(dtype)
    default = DEFAULT_DTYPE if dtype is None else dtype
    if data is _NO_DATA:
        return np.zeros(0, default)
    if sizes or type(data) is Size or (isinstance(data, numbers.Integral) and
                                       not isinstance(data, (bool, np.generic))):
        args = tuple(data) if type(data) is Size and not sizes else (data,) + sizes
        return np.zeros(read_sizes(args, "Tensor"), default)  # torch: uninitialised
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    elif isinstance(data, numbers.Number) or data is None:
        raise TypeError(f"Tensor(): data must be a sequence, an ndarray, a Tensor or sizes "
                        f"(ints), got {type(data).__name__} {data!r}; use rnnkit.tensor() "
                        f"for a 0-d tensor")
    else:
        arr = sequence_array(data, "Tensor()").astype(default, copy=False)
    if arr.dtype.hasobject:
        raise TypeError(f"Tensor(): cannot build a tensor from {type(data).__name__} "
                        f"holding objects of mixed or non-numeric type")
    return arr if dtype is None or arr.dtype == dtype else arr.astype(dtype)


def read_sizes(args, fn):
    """Sizes given as ints or one tuple/list/Size, checked to be non-negative ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    shape = []
    for i, n in enumerate(args):
        if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
            n = n.item()
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral,)):
            raise TypeError(f"{fn}: size must be ints (or one tuple of ints), got "
                            f"{type(n).__name__} {n!r} at position {i}")
        if n < 0:
            raise ValueError(f"{fn}: sizes must be non-negative, got {n} in "
                             f"{tuple(args)}")
        shape.append(operator.index(n))
    return tuple(shape)
