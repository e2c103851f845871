"""Keras 3's metrics: stateful means over an epoch, by name and class.

A metric accumulates ``total`` and ``count`` batch after batch (``update_state``) and
reports ``total / count`` (``result``): a mean over every sample seen, not a mean of
batch means. Values are computed from plain arrays (no autograd): accuracies compare
labels with thresholded or arg-maxed predictions, ``mae``/``mse`` reuse the loss
functions of ``rnnkit.keras.losses``.

``"accuracy"`` (or ``"acc"``) is resolved as Keras does, from the shapes of labels and
predictions: binary when the prediction has one unit, sparse categorical when the labels
have one axis fewer (or a trailing axis of 1 against several classes), else categorical.
"""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.keras import losses as losses_module
from rnnkit.keras.losses import align_ranks


def _array(x):
    return np.asarray(getattr(x, "data", x))


# -- per-sample metric functions ----------------------------------------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """mean(y_true == (y_pred > threshold)) over the last axis."""
    y_true, y_pred = align_ranks(_array(y_true), Tensor(_array(y_pred)))
    hits = _array(y_true) == (_array(y_pred) > threshold).astype(_array(y_pred).dtype)
    return hits.astype(np.float32).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_true) == argmax(y_pred) along the last axis, else 0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (np.argmax(y_true, -1) == np.argmax(y_pred, -1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals argmax(y_pred) along the last axis, else 0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == np.argmax(y_pred, -1)).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = align_ranks(_array(y_true), Tensor(_array(y_pred)))
    return _array(losses_module.mean_squared_error(y_true, y_pred))


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = align_ranks(_array(y_true), Tensor(_array(y_pred)))
    return _array(losses_module.mean_absolute_error(y_true, y_pred))


mse = mean_squared_error
mae = mean_absolute_error


# -- stateful metrics ---------------------------------------------------------------------
class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``; ``_direction`` says
    whether larger values are better ("up") or worse ("down")."""

    _direction = "down"

    def __init__(self, name=None, dtype=None):
        from rnnkit.keras.backend import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def result(self):
        return float(self.total / self.count) if self.count else 0.0

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, result={self.result():.4f}>"


class Mean(Metric):
    """The weighted mean of every value passed to ``update_state(values, sample_weight)``.

    A scalar sample_weight weighs a scalar value (the loss tracker weighs each batch's
    loss by the batch size); an array weighs each value.
    """

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_array(values), dtype=np.float64)
        if sample_weight is None:
            self.total += values.sum()
            self.count += values.size
            return
        w = np.asarray(_array(sample_weight), dtype=np.float64)
        if w.ndim == values.ndim + 1 and w.shape[-1] == 1:
            w = w[..., 0]
        w = np.broadcast_to(w.reshape(w.shape + (1,) * (values.ndim - w.ndim)), values.shape)
        self.total += (values * w).sum()
        self.count += w.sum()


class MeanMetricWrapper(Mean):
    """Applies ``fn(y_true, y_pred, **kwargs)`` (per-sample values) and keeps their mean;
    a mask on the predictions keeps masked entries out."""

    def __init__(self, fn, name=None, direction="down", **kwargs):
        self.fn, self._fn_kwargs, self._direction = fn, kwargs, direction
        super().__init__(name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        values = self.fn(y_true, y_pred, **self._fn_kwargs)
        weight = sample_weight
        if mask is not None and np.shape(mask) == np.shape(values):
            m = np.asarray(mask, dtype=np.float64)
            if weight is None:
                weight = m
            else:
                w = np.asarray(_array(weight), dtype=np.float64)
                weight = m * w.reshape(w.shape + (1,) * (m.ndim - w.ndim))
        super().update_state(values, weight)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, "up", threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, "up")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, "up")


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, "down")


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, "down")


_FUNCTIONS = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}
_CLASSES = {c.__name__: c for c in (BinaryAccuracy, CategoricalAccuracy,
                                    SparseCategoricalAccuracy, MeanSquaredError,
                                    MeanAbsoluteError, Mean)}


def is_binary_or_sparse(y_true_shape, y_pred_shape):
    """Keras's rule: (binary, sparse categorical) from label and prediction shapes."""
    binary = y_pred_shape[-1] == 1
    sparse = (len(y_true_shape) < len(y_pred_shape)
              or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1))
    return binary, sparse


def get(identifier, y_true_shape=None, y_pred_shape=None):
    """A fresh metric object from a name, a class name, a Metric or a function.

    "accuracy"/"acc" needs the label and prediction shapes to pick its kind; the metric
    keeps the name it was asked for ("accuracy", "mae"), as in Keras's logs.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_pred_shape is None:
                raise ValueError("metrics: 'accuracy' needs the label and prediction shapes "
                                 "to choose binary, categorical or sparse accuracy")
            binary, sparse = is_binary_or_sparse(y_true_shape, y_pred_shape)
            cls = (BinaryAccuracy if binary else SparseCategoricalAccuracy if sparse
                   else CategoricalAccuracy)
            return cls(name=identifier)
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"metrics: unknown name {identifier!r}; known: 'accuracy', "
                         f"{sorted(_FUNCTIONS)}")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, getattr(identifier, "__name__", None))
    raise ValueError(f"metrics: cannot interpret {identifier!r}")
