"""What a recurrent model starts with: the embedding lookup, one-hot encoding, dropout."""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit._tensor import Tensor, _raw
from rnnkit.functional._util import as_operand
from rnnkit.random import get_generator


def check_indices(indices, size, name, fn):
    """``indices`` as an integer ndarray with every entry in [0, size), or a clear error."""
    idx = np.asarray(_raw(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: {name} must hold integers, got dtype {idx.dtype}")
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise IndexError(f"{fn}: {name} contains {bad}, outside the valid range "
                             f"[0, {size}) (0 <= index < {size})")
    return idx


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` looked up by ``indices`` (PyTorch's ``F.embedding``).

    indices: integers of any shape (*), each in [0, num_embeddings).
    weight: (num_embeddings, embedding_dim).
    padding_idx: a row (may be negative, counted from the end) whose vector receives no
    gradient, so it stays as initialised (usually zeros) for padding tokens.
    Returns (*, embedding_dim). The gradient of a row used several times is the sum of
    the gradients of its uses.
    """
    weight = as_operand(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    num = weight.shape[0]
    idx = check_indices(indices, num, "indices", "embedding")
    if padding_idx is not None:
        if not isinstance(padding_idx, numbers.Integral) or not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must be an int in [{-num}, {num}) for "
                             f"num_embeddings={num}, got {padding_idx!r}")
        padding_idx = int(padding_idx) % num
    out = weight.data[idx]

    def backward(g):
        gw = np.zeros(weight.shape, dtype=g.dtype)
        np.add.at(gw, idx.reshape(-1), g.reshape(-1, weight.shape[1]))
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)

    return Tensor._make(out, (weight,), backward, "Embedding")


def one_hot(indices, num_classes=-1):
    """Class indices as one-hot rows, PyTorch's ``F.one_hot``.

    indices: int64 class indices of any shape (*), each in [0, num_classes).
    num_classes: the number of classes, or -1 for the largest index + 1.
    Returns int64 (*, num_classes) with a 1 at each index. Not differentiable.
    """
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype != np.int64:
        raise TypeError(f"one_hot: indices must be int64 (rnnkit.long), got dtype "
                        f"{idx.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got "
                        f"{type(num_classes).__name__} {num_classes!r}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(idx.max()) + 1
    elif num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 (infer) or non-negative, got "
                         f"{num_classes}")
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {idx.min()}")
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes="
                         f"{num_classes}, got {idx.max()}")
    out = np.zeros(idx.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor(out)


def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    x: any shape; the result has the same shape and dtype, and the same expectation as x.
    Identity (x itself) when ``training`` is false or p == 0.
    generator: None (the global generator, see ``rnnkit.manual_seed``), an int seed or a
    ``numpy.random.Generator``.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1), got {p!r}")
    x = as_operand(x)
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: x must be floating point, got dtype {x.dtype}")
    keep = get_generator(generator).random(x.shape) >= p
    scale = (keep / (1 - p)).astype(x.dtype)
    return Tensor._make(x.data * scale, (x,), lambda g: (g * scale,), "Dropout")
