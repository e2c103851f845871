"""Arrays in, batches out: what ``fit``/``evaluate``/``predict`` do with x, y and weights.

Data is NumPy arrays (or anything ``np.asarray`` accepts, rnnkit Tensors included), a
list of them for several inputs or outputs; text (for a ``TextVectorization`` input) an
array of str, an object array of str (as pandas gives) or a list of str. Batches are
index slices of at most ``batch_size`` samples (the last one may be smaller); ``shuffle``
draws a fresh permutation each epoch from rnnkit's seeded generator.
``validation_split`` keeps the *last* fraction of the samples apart before any
shuffling, as Keras does.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.keras import backend
from rnnkit.keras.models.graph import flatten, map_structure


def to_arrays(x):
    """``x`` with every leaf a NumPy array (floats in floatx, integers kept)."""
    if x is None:
        return None
    if isinstance(x, dict):
        raise ValueError("data: dict inputs/targets are not supported; pass lists ordered "
                         "like the model's inputs/outputs")

    if isinstance(x, (list, tuple)) and x and all(isinstance(v, str) for v in x):
        x = np.asarray(x)   # a list of texts is one input, not one input per text

    def convert(v):
        a = v.data if isinstance(v, Tensor) else np.asarray(v)
        if a.dtype.kind == "f" and a.dtype != np.dtype(backend.floatx()):
            a = a.astype(backend.floatx())
        if a.dtype == object and a.size and all(isinstance(s, str) for s in a.flat):
            a = a.astype(str)
        if a.dtype == object:
            raise ValueError("data: arrays of Python objects are not supported (ragged "
                             "sequences? pad them with utils.pad_sequences first)")
        if a.ndim == 0:
            raise ValueError("data: expected arrays with a batch dimension, got a scalar")
        return a

    return map_structure(convert, x)


def num_samples(*structures):
    """The common first dimension of every array given; an error naming the mismatch."""
    sizes = {}
    for name, s in zip(("x", "y", "sample_weight"), structures):
        for a in flatten(s) if s is not None else []:
            sizes.setdefault(a.shape[0], name)
    if len(sizes) > 1:
        raise ValueError(f"data: all arrays must have the same number of samples, got "
                         f"sizes {sorted(sizes)} (x, y and sample_weight must line up)")
    if not sizes:
        raise ValueError("data: no input data was given")
    return next(iter(sizes))


def take(x, index):
    """The samples ``index`` (an int array or slice) of every array in ``x``."""
    if x is None:
        return None
    return map_structure(lambda a: a[index], x)


def split_validation(x, y, sample_weight, validation_split):
    """(train, validation) triples: the last ``validation_split`` fraction is held out."""
    if not 0 < validation_split < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}")
    n = num_samples(x, y, sample_weight)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"fit: validation_split={validation_split} leaves no samples for "
                         f"training or validation out of {n}")
    head, tail = slice(0, split_at), slice(split_at, n)
    return ((take(x, head), take(y, head), take(sample_weight, head)),
            (take(x, tail), take(y, tail), take(sample_weight, tail)))


def unpack_validation(validation_data):
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``."""
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
        raise ValueError("fit: validation_data must be a tuple (x_val, y_val) or (x_val, "
                         "y_val, sample_weight_val)")
    x, y = validation_data[0], validation_data[1]
    sw = validation_data[2] if len(validation_data) == 3 else None
    return x, y, sw


def class_weight_to_sample_weights(y, class_weight):
    """Keras's rule: each sample weighs ``class_weight[its class]`` (1 when absent); the
    class is the arg-max of one-hot labels, else the rounded label."""
    if isinstance(y, (list, tuple)):
        raise ValueError("fit: class_weight is only supported for models with one output")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels[..., 0] if labels.shape[-1] == 1 else np.argmax(labels, axis=-1)
    labels = np.round(labels).astype(np.int64)
    if labels.ndim != 1:
        raise ValueError(f"fit: class_weight needs one label per sample, got labels of "
                         f"shape {labels.shape}")
    return np.array([float(class_weight.get(int(c), 1.0)) for c in labels],
                    dtype=backend.floatx())


def batch_indices(n, batch_size, shuffle, rng):
    """The index of each batch of one epoch: int arrays when shuffled, else slices (a
    batch is then a view of the data, not a copy)."""
    check_shuffle(shuffle, "fit")
    if not shuffle:
        return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def check_shuffle(shuffle, fn):
    if shuffle not in (True, False):
        raise ValueError(f"{fn}: shuffle must be True or False, got {shuffle!r} ('batch' is "
                         f"not supported)")


def check_batch_size(batch_size, fn):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{fn}: batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)
