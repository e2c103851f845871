"""``Embedding``: the token lookup table in front of a recurrent model."""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import _raw
from rnnkit.autograd import no_grad
from rnnkit.nn.functional import reject_embedding_options
from rnnkit.nn.linear import check_size
from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.random import get_generator


def _padding_index(padding_idx, num_embeddings, owner):
    """``padding_idx`` counted from the start (a negative one counts from the end)."""
    if padding_idx is None:
        return None
    if (isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral)
            or not -num_embeddings <= padding_idx < num_embeddings):
        raise ValueError(f"{owner}: padding_idx must be an int within num_embeddings, i.e. "
                         f"in [{-num_embeddings}, {num_embeddings}), got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, ``torch.nn.Embedding``.

    Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
    norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False,
    dtype=None, generator=None).
    weight: (num_embeddings, embedding_dim), drawn from N(0, 1) (``rnnkit.random``), with
    the ``padding_idx`` row set to zeros; that row never receives a gradient.
    Input: integer indices of any shape (*) -> output (*, embedding_dim).
    Not supported (a ValueError names them): max_norm, scale_grad_by_freq, sparse.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, dtype=None, generator=None):
        super().__init__()
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", "Embedding")
        reject_embedding_options(max_norm, scale_grad_by_freq, sparse, "Embedding")
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.generator = generator
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.zeros(shape, np.dtype(dtype or np.float32)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = np.asarray(_raw(_weight))
            if w.shape != shape:
                raise ValueError(f"Embedding: _weight has shape {w.shape}, expected "
                                 f"(num_embeddings, embedding_dim) = {shape}")
            self.weight = Parameter(w if dtype is None else w.astype(dtype),
                                    requires_grad=not _freeze)

    def reset_parameters(self):
        """Redraw the weight from N(0, 1) and zero the padding row."""
        rng = get_generator(self.generator)
        with no_grad():
            self.weight.data[...] = rng.standard_normal(self.weight.shape)
            if self.padding_idx is not None:
                self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        """input: integers (*), each in [0, num_embeddings) -> (*, embedding_dim)."""
        return F.embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is a copy of ``embeddings`` (rows, embedding_dim).

        freeze: the weight does not require grad (it is not trained). The padding row
        is kept as given (not zeroed), as in PyTorch.
        """
        w = np.asarray(_raw(embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D "
                             f"(num_embeddings, embedding_dim), got shape {w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                   sparse=sparse, _weight=w, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s
