"""Keras's utilities: ``pad_sequences``, ``to_categorical``, ``set_random_seed``, the
``Progbar`` and ``PyDataset`` (alias ``Sequence``)."""
from __future__ import annotations

import random

import numpy as np

from rnnkit.keras.progbar import Progbar
from rnnkit.keras.py_dataset import PyDataset, Sequence
from rnnkit.random import manual_seed

__all__ = ["pad_sequences", "to_categorical", "set_random_seed", "Progbar", "PyDataset",
           "Sequence"]


def set_random_seed(seed):
    """Seed every generator a Keras program draws from: Python's ``random`` (a
    PyDataset's shuffled batch order), NumPy's global generator (``np.random``) and
    rnnkit's own (initializers, dropout, the shuffling of arrays in ``fit``), so that
    a run repeats exactly. seed: an integer in [0, 2**32)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed < 2 ** 32:
        raise ValueError(f"set_random_seed: seed must be an integer in [0, 2**32), got "
                         f"{seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    manual_seed(seed)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Sequences of different lengths as one array (num_samples, maxlen, *sample_shape).

    maxlen: the output length (default: the longest sequence). Longer sequences lose
    their first steps (``truncating="pre"``, the default) or their last ("post");
    shorter ones are filled with ``value`` in front (``padding="pre"``, the default) or
    behind ("post"). Each step may itself be an array (sample_shape), taken from the
    first non-empty sequence. Empty sequences become all ``value``.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got "
                         f"{truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: sequences must be a list of iterables")
    lengths, sample_shape = [], None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(f"pad_sequences: sequences must be a list of iterables, found "
                             f"{s!r}") from None
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be a non-negative integer, got "
                         f"{maxlen!r}")
    text_dtype = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype),
                                                                           np.bytes_)
    if isinstance(value, str) and np.dtype(dtype) != object and not text_dtype:
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the string value "
                         f"{value!r}; use dtype=object")
    out = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {i} has steps of shape "
                             f"{kept.shape[1:]}, expected {tuple(sample_shape)}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def to_categorical(x, num_classes=None):
    """One-hot float64 rows for integer classes: shape x.shape + (num_classes,), a
    trailing axis of 1 in ``x`` being dropped first. num_classes defaults to max(x)+1."""
    x = np.array(getattr(x, "data", x), dtype="int64")
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical: classes must lie in [0, {num_classes}), got "
                         f"values from {x.min()} to {x.max()}")
    out = np.zeros((x.size, num_classes))
    out[np.arange(x.size), x] = 1
    return out.reshape(shape + (num_classes,))
