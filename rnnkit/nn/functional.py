"""``rnnkit.nn.functional``: the ops PyTorch users import as ``F``, with PyTorch's signatures.

The maths lives in :mod:`rnnkit.functional`; this module only translates calling
conventions. Where PyTorch's positional order differs from the core's (the losses keep
the deprecated ``size_average`` and ``reduce`` slots; ``dropout`` and ``relu`` have an
``inplace`` flag) a thin wrapper restores PyTorch's order, so ``F.cross_entropy(x, y, w)``
or ``F.dropout(x, 0.2, self.training)`` mean the same thing in both libraries.
Options rnnkit does not implement raise an error naming them.
"""
from __future__ import annotations

from rnnkit import functional as _core
from rnnkit.functional import linear, one_hot, sigmoid, tanh

__all__ = ["linear", "embedding", "one_hot", "dropout", "relu", "tanh", "sigmoid", "softmax",
           "log_softmax", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "l1_loss"]


def reject_legacy_reduction(size_average, reduce, fn):
    """Refuse PyTorch's deprecated ``size_average`` / ``reduce`` (use ``reduction``)."""
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None:
            raise ValueError(f"{fn}: {name} is deprecated in PyTorch and not supported by "
                             f"rnnkit; use reduction='mean', 'sum' or 'none' instead")


def reject_inplace(inplace, fn):
    """Refuse ``inplace=True``: every rnnkit op returns a new tensor."""
    if inplace:
        raise ValueError(f"{fn}: inplace=True is not supported (rnnkit's autograd never "
                         f"overwrites an input); use inplace=False")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer ``input`` (*).

    Returns (*, embedding_dim); the ``padding_idx`` row receives no gradient.
    max_norm, scale_grad_by_freq and sparse are not supported (error if set).
    """
    reject_embedding_options(max_norm, scale_grad_by_freq, sparse, "embedding")
    return _core.embedding(input, weight, padding_idx)


def reject_embedding_options(max_norm, scale_grad_by_freq, sparse, fn):
    """Refuse the embedding options rnnkit does not implement, naming each."""
    if max_norm is not None:
        raise ValueError(f"{fn}: max_norm is not supported (rows are never renormalised); "
                         f"pass max_norm=None")
    if scale_grad_by_freq:
        raise ValueError(f"{fn}: scale_grad_by_freq=True is not supported; pass False")
    if sparse:
        raise ValueError(f"{fn}: sparse=True is not supported (gradients are dense "
                         f"arrays); pass sparse=False")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element of ``input`` (any shape) with probability p, scale the rest by
    1/(1-p); identity when ``training`` is false. Same shape as input."""
    reject_inplace(inplace, "dropout")
    return _core.dropout(input, p, training)


def relu(input, inplace=False):
    """max(input, 0), element-wise, any shape."""
    reject_inplace(inplace, "relu")
    return _core.relu(input)


def _softmax_input(dim, dtype, input, fn):
    """The input to normalise (cast to ``dtype`` if given); ``dim`` must be given."""
    if dim is None:
        raise ValueError(f"{fn}: pass dim explicitly (PyTorch's implicit choice of dim is "
                         f"deprecated and rnnkit does not guess)")
    return input if dtype is None else _core.cast(input, dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (required); ``dtype`` casts the input first."""
    return _core.softmax(_softmax_input(dim, dtype, input, "softmax"), dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim`` (required); ``dtype`` casts the input first."""
    return _core.log_softmax(_softmax_input(dim, dtype, input, "log_softmax"), dim)


# -- losses: PyTorch's positional order, deprecated slots rejected ------------------------
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (C,), (N, C) or (N, C, d1, ...) against class
    indices (N,) / (N, d1, ...) or probabilities of the input's shape.
    See :func:`rnnkit.functional.cross_entropy`."""
    reject_legacy_reduction(size_average, reduce, "cross_entropy")
    return _core.cross_entropy(input, target, weight=weight, ignore_index=ignore_index,
                               reduction=reduction, label_smoothing=label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or
    (N, C, d1, ...) at class indices ``target`` (), (N,) or (N, d1, ...)."""
    reject_legacy_reduction(size_average, reduce, "nll_loss")
    return _core.nll_loss(input, target, weight=weight, ignore_index=ignore_index,
                          reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` (*) against ``target`` (*)."""
    reject_legacy_reduction(size_average, reduce, "binary_cross_entropy")
    return _core.binary_cross_entropy(input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(``input``) (*) against ``target`` (*), from logits."""
    reject_legacy_reduction(size_average, reduce, "binary_cross_entropy_with_logits")
    return _core.binary_cross_entropy_with_logits(input, target, weight=weight,
                                                  pos_weight=pos_weight, reduction=reduction)


def _reject_weight(weight, fn):
    """Refuse the element weights torch's mse_loss/l1_loss accept since 2.x."""
    if weight is not None:
        raise ValueError(f"{fn}: weight is not supported; multiply the reduction='none' "
                         f"loss by your weights instead")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error between ``input`` and ``target`` of the same shape (*)."""
    reject_legacy_reduction(size_average, reduce, "mse_loss")
    _reject_weight(weight, "mse_loss")
    return _core.mse_loss(input, target, reduction=reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error between ``input`` and ``target`` of the same shape (*)."""
    reject_legacy_reduction(size_average, reduce, "l1_loss")
    _reject_weight(weight, "l1_loss")
    return _core.l1_loss(input, target, reduction=reduction)
