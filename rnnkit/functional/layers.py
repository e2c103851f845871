"""The two parameterised lookups a recurrent model starts with: embedding and dropout."""
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
