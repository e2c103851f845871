"""Collation: a list of samples -> one batch, with torch.utils.data's rules and dtypes.

``default_collate`` stacks along a new first dimension:

* rnnkit Tensors -> a Tensor ``(batch, *sample_shape)`` (dtypes promoted as torch.stack
  does: bool < int < float, the widest of the highest kind);
* NumPy arrays -> a Tensor of their dtype; strings or objects inside arrays are errors;
* Python floats -> float64; ints -> int64; bools -> bool; NumPy scalars keep their dtype
  (a mix follows torch.tensor's list rule: Python floats count as float32);
* str and bytes -> the list itself;
* dicts -> a dict of collated values per key; namedtuples -> the same namedtuple of
  collated fields; tuples -> a list of collated positions; lists -> a list.

``default_convert`` turns NumPy arrays and scalars into Tensors without adding a batch
dimension; the DataLoader uses it when automatic batching is off (``batch_size=None``).
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from rnnkit import autograd
from rnnkit import functional as F
from rnnkit._tensor import Tensor, as_tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
          "lists; found {}")
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERROR.format(elem.dtype))
        return _stack([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return _from_scalars(batch)
    if isinstance(elem, float):
        return _tensor_or_error(batch, np.float64)
    if isinstance(elem, int):
        return _from_scalars(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: default_collate([d[k] for d in batch])
                                       for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [default_collate(s) for s in zip(*batch)]  # tuples, as torch passes
        if isinstance(elem, tuple):
            return collated
        return _rebuild_sequence(elem, collated)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """``data`` with every NumPy array and scalar made a Tensor (no batch dimension);
    mappings, namedtuples and sequences are converted inside (a tuple becomes a list)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else as_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


# -- stacking with torch's dtypes ---------------------------------------------------------
def promote_types(dtypes):
    """torch's promotion: the highest kind wins (bool < int < float < complex), then the
    widest dtype of that kind (int64 with float32 -> float32, unlike NumPy's float64)."""
    dtypes = [np.dtype(d) for d in dtypes]
    top = max(_KIND_RANK[d.kind] for d in dtypes)
    if top == _KIND_RANK["c"]:
        return np.result_type(*dtypes)
    return np.result_type(*[d for d in dtypes if _KIND_RANK[d.kind] == top])


def _stack(batch):
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: expected a Tensor as element {i} of the batch, "
                            f"like element 0, got {type(t).__name__}")
        if t.shape != batch[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(batch[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    dtype = promote_types([t.dtype for t in batch])
    if autograd.is_grad_enabled() and any(t.requires_grad for t in batch):
        return F.stack([t.to(dtype) for t in batch])   # keeps the graph
    return Tensor(np.stack([t.data for t in batch]).astype(dtype, copy=False))


def _scalar_dtype(x):
    """The dtype torch.tensor infers for one list element (its own for NumPy scalars)."""
    if isinstance(x, (np.bool_, np.number)):
        return x.dtype
    if isinstance(x, bool):
        return np.dtype(np.bool_)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return np.dtype(np.float32)
    raise TypeError(_ERROR.format(type(x)))


def _from_scalars(batch):
    return _tensor_or_error(batch, promote_types([_scalar_dtype(x) for x in batch]))


def _tensor_or_error(batch, dtype):
    try:
        return Tensor(np.array(batch, dtype=dtype))
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"default_collate: cannot make a {np.dtype(dtype)} tensor of the "
                        f"batch {batch!r:.80} ({e})") from None


def _rebuild_mapping(elem, values):
    # A mapping type may carry more than its items; keep its type where it allows.
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def _rebuild_sequence(elem, values):
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(elem)(values)
    except TypeError:
        return values
