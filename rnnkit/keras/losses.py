"""Keras 3's losses by name and class, on ``rnnkit.functional``'s loss kernels.

A loss *function* (``binary_crossentropy``, ``mse``...) maps ``(y_true, y_pred)`` to one
value per sample: y_pred's shape without its last axis, e.g. (batch,) or, for a
sequence output, (batch, time). A loss *object* (``BinaryCrossentropy()``...) also
reduces, as Keras does: ``sum(values * sample_weight) / values.size``
("sum_over_batch_size"), with a mask of the predictions folded into the weights so that
masked entries count for nothing and the mean runs over the valid ones.

Before the function runs, y_true and y_pred are brought to the same rank when they
differ by a trailing axis of size 1, e.g. labels (batch,) against sigmoid outputs
(batch, 1).
"""
from __future__ import annotations

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor
from rnnkit.keras import backend

REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)


# -- the per-sample functions -------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis."""
    return F.mean(F.mse_loss(y_pred, _constant(y_true, y_pred), reduction="none"), -1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    return F.mean(F.l1_loss(y_pred, _constant(y_true, y_pred), reduction="none"), -1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over the last axis (probabilities clipped to
    [1e-7, 1 - 1e-7] unless ``from_logits``)."""
    return F.binary_crossentropy(_constant(y_true, y_pred), y_pred, from_logits,
                                 label_smoothing, axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """-sum(y_true * log(y_pred)) over the class axis; y_true one-hot (batch, classes)."""
    return F.categorical_crossentropy(_constant(y_true, y_pred), y_pred, from_logits,
                                      label_smoothing, axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log(y_pred[y_true]); y_true integer classes (batch,) or (batch, 1)."""
    return F.sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


def _constant(y_true, y_pred):
    """Labels as a constant array in y_pred's dtype."""
    y = np.asarray(getattr(y_true, "data", y_true))
    dtype = getattr(y_pred, "dtype", backend.floatx())
    return y.astype(dtype, copy=False)


def align_ranks(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank for (labels array, predictions Tensor):
    a trailing axis of size 1 on one side is added to, or removed from, the labels."""
    y = np.asarray(getattr(y_true, "data", y_true))
    r_true, r_pred = y.ndim, len(y_pred.shape)
    if r_true == r_pred + 1 and y.shape[-1] == 1:
        if r_pred == 1:
            return y, F.unsqueeze(y_pred, -1)
        return np.squeeze(y, -1), y_pred
    if r_pred == r_true + 1 and y_pred.shape[-1] == 1:
        if r_true == 1:
            return y[..., None], y_pred
        return y, F.squeeze(y_pred, -1)
    return y, y_pred


def reduce_weighted(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras's reduction of per-sample ``values`` (a Tensor) to one number.

    sample_weight: array broadcastable to values after trailing axes are added (e.g.
    (batch,) for values (batch, time)). mask: bool array of values' shape; with the mean
    reductions a valid entry weighs total/valid, so the result is the mean over valid
    entries. "sum" sums, "none"/None returns the weighted values.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    weight = None
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != tuple(values.shape):
            mask = None    # a mask that does not line up with the values (Keras drops it)
    if mask is not None:
        if reduction in ("sum_over_batch_size", "mean"):
            valid = mask.sum()
            weight = np.where(mask, mask.size / valid if valid else 0.0, 0.0)
        else:
            weight = mask.astype(np.float64)
    if sample_weight is not None:
        sw = np.asarray(getattr(sample_weight, "data", sample_weight), dtype=np.float64)
        if sw.ndim == values.ndim + 1 and sw.shape[-1] == 1:
            sw = sw[..., 0]
        sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
        weight = sw if weight is None else weight * sw
    if weight is not None:
        values = values * Tensor(np.broadcast_to(weight, values.shape).astype(values.dtype))
    if reduction in ("none", None) or values.ndim == 0:
        return values
    total = F.sum(values)
    if reduction == "sum":
        return total
    return total / values.data.size if values.data.size else total


# -- loss objects -------------------------------------------------------------------------
class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar Tensor.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample values.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{REDUCTIONS}, got {reduction!r}")
        if dtype is not None and dtype != backend.floatx():
            raise ValueError(f"{type(self).__name__}: dtype={dtype!r} is not supported; "
                             f"losses compute in the predictions' dtype")
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        y_pred = y_pred if isinstance(y_pred, Tensor) else Tensor(
            np.asarray(y_pred, dtype=backend.floatx()))
        values = self.call(y_true, y_pred)
        return reduce_weighted(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A per-sample loss function plus fixed keyword arguments, as a Loss object."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", None), reduction)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = align_ranks(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name, reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name, reduction)


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        super().__init__(binary_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name, reduction,
                         from_logits=from_logits, ignore_class=ignore_class)


_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "MSE": mean_squared_error, "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                                    CategoricalCrossentropy, SparseCategoricalCrossentropy)}


def get(identifier):
    """A loss from a name ("binary_crossentropy", "mse", "BinaryCrossentropy"), a Loss
    object, a ``{"class_name", "config"}`` dict, or a callable ``(y_true, y_pred)``.

    Returns a Loss object (functions are wrapped, keeping their name).
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"loss: unknown class {identifier.get('class_name')!r}; known: "
                             f"{sorted(_CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return LossFunctionWrapper(_FUNCTIONS[identifier], name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"loss: unknown name {identifier!r}; known: "
                         f"{sorted(_FUNCTIONS) + sorted(_CLASSES)}")
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"loss: cannot interpret {identifier!r}")


def serialize(loss):
    """A JSON-able description of a Loss object (for model files)."""
    if type(loss) is LossFunctionWrapper:
        for name, fn in _FUNCTIONS.items():
            if fn is loss.fn and not loss._fn_kwargs:
                return loss.name if loss.name in _FUNCTIONS else name
        raise ValueError(f"loss: the custom loss function {loss.fn!r} cannot be serialised")
    if type(loss).__name__ in _CLASSES:
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    raise ValueError(f"loss: {type(loss).__name__} cannot be serialised")
