"""Loss modules, ``torch.nn``'s: each stores its options and calls one functional loss.

Class weights (``weight``, ``pos_weight``) are buffers, so they appear in ``state_dict``
and follow ``.double()``, as in PyTorch. ``reduction`` is 'mean' (default), 'sum' or
'none'; PyTorch's deprecated ``size_average`` and ``reduce`` raise an error naming them.
"""
from __future__ import annotations

from rnnkit.functional.losses import check_reduction
from rnnkit.nn import functional as F
from rnnkit.nn.module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        name = type(self).__name__
        F.reject_legacy_reduction(size_average, reduce, name)
        check_reduction(reduction, name)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: input (*), target (*) -> scalar (or (*) for 'none')."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: input (*), target (*) -> scalar (or (*) for 'none')."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities.

    BCELoss(weight=None, reduction='mean'); weight broadcastable to the input.
    input (*) in [0, 1], target (*) -> scalar (or (*) for 'none').
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits.

    BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None); pos_weight
    weights the positive term, typically (classes,) for input (batch, classes).
    input (*) logits, target (*) -> scalar (or (*) for 'none').
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices under log-probabilities.

    NLLLoss(weight=None, ignore_index=-100, reduction='mean'); weight (classes,).
    input (classes,), (batch, classes) or (batch, classes, d1, ...); target (),
    (batch,) or (batch, d1, ...) -> scalar (or the target's shape for 'none').
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of softmax(logits) against class indices or class probabilities.

    CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean',
    label_smoothing=0.0); weight (classes,).
    input (classes,), (batch, classes) or (batch, classes, d1, ...); target class
    indices (), (batch,) or (batch, d1, ...), or probabilities of the input's shape
    -> scalar (or the shape without the class dimension for 'none').
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)
