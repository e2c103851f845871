"""Keras-flavoured cross-entropies: per-sample losses, probabilities clipped like Keras 3.

Keras's conventions differ from PyTorch's: ``y_true`` comes first, the class axis is
the last one (``axis=-1``), nothing is reduced over the batch (a loss per sample is
returned, the front end averages), and probabilities (``from_logits=False``) are clipped
to [eps, 1 - eps] with eps = 1e-7 before the log; categorical probabilities are first
renormalised to sum to 1. The clip's gradient is zero outside (eps, 1 - eps), as in Keras.
``y_true`` is a constant (labels get no gradient).
"""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit._tensor import Tensor, _raw
from rnnkit.functional._util import normalize_dim
from rnnkit.functional.activations import log_softmax_array, sigmoid_array
from rnnkit.functional.losses import floating, pick, place

EPSILON = 1e-7  # keras.config.epsilon()


def _labels(y_true, p, fn):
    """y_true as an ndarray in y_pred's dtype, checked to have y_pred's shape."""
    if isinstance(y_true, Tensor) and y_true.requires_grad:
        raise ValueError(f"{fn}: y_true is treated as a constant and gets no gradient; pass "
                         f"y_true.detach()")
    y = np.asarray(_raw(y_true))
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: y_true must be numeric, got dtype {y.dtype}")
    if y.shape != p.shape:
        raise ValueError(f"{fn}: y_true has shape {y.shape} but y_pred has shape {p.shape}; "
                         f"they must be equal")
    return y.astype(p.dtype, copy=False)


def _smoothing(label_smoothing, fn):
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing <= 1):
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def _clip(q):
    """(q clipped to [eps, 1 - eps], mask of where the clip let the gradient through)."""
    lo, hi = np.asarray(EPSILON, q.dtype), np.asarray(1 - EPSILON, q.dtype)
    return np.clip(q, lo, hi), (q > lo) & (q < hi)


def _class_axis(p, axis, fn):
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension, got a 0-d tensor")
    return normalize_dim(axis, p.ndim, "axis")


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """-sum(y_true * log(y_pred)) along ``axis``, one loss per sample (Keras 3's).

    y_true: one-hot or soft labels, the shape of y_pred, e.g. (batch, classes).
    y_pred: probabilities (renormalised along ``axis``, then clipped to [1e-7, 1 - 1e-7])
    or, with ``from_logits=True``, logits (a stable log_softmax is used).
    label_smoothing eps: labels become (1 - eps) y_true + eps / classes, classes being
    the size of ``axis`` (Keras uses the last dimension's; the same for axis=-1).
    Returns y_pred's shape without ``axis``, e.g. (batch,).
    """
    fn = "categorical_crossentropy"
    p = floating(y_pred, "y_pred", fn)
    a = _class_axis(p, axis, fn)
    y = _labels(y_true, p, fn)
    eps = _smoothing(label_smoothing, fn)
    if eps:
        y = y * (1 - eps) + eps / p.shape[a]
    if from_logits:
        logp = log_softmax_array(p.data, a)
        loss = -(y * logp).sum(axis=a)

        def backward(g):
            d = -np.expand_dims(g, a) * y  # d/dlog_softmax
            return (d - np.exp(logp) * d.sum(axis=a, keepdims=True),)

        return Tensor._make(loss, (p,), backward, "CategoricalCrossentropy")

    s = p.data.sum(axis=a, keepdims=True)
    q = p.data / s
    qc, inside = _clip(q)
    loss = -(y * np.log(qc)).sum(axis=a)

    def backward(g):
        d = -np.expand_dims(g, a) * y / qc * inside  # d/dq, q = y_pred / sum(y_pred)
        return ((d - (d * q).sum(axis=a, keepdims=True)) / s,)

    return Tensor._make(loss, (p,), backward, "CategoricalCrossentropy")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log(y_pred[y_true]) along ``axis``, one loss per sample (Keras 3's).

    y_true: integer class indices of y_pred's shape without ``axis``, e.g. (batch,), or
    with a trailing size-1 dimension, e.g. (batch, 1); integral floats are accepted.
    y_pred: probabilities (renormalised, clipped to [1e-7, 1 - 1e-7]) or, with
    ``from_logits=True``, logits, e.g. (batch, classes).
    ignore_class: a label whose samples get loss 0 and no gradient (e.g. -1 for padding).
    Returns y_pred's shape without ``axis``, e.g. (batch,).
    """
    fn = "sparse_categorical_crossentropy"
    p = floating(y_pred, "y_pred", fn)
    a = _class_axis(p, axis, fn)
    n_classes = p.shape[a]
    labels = np.asarray(_raw(y_true))
    if labels.ndim == p.ndim and labels.shape[a] == 1:
        labels = np.squeeze(labels, a)
    expected = p.shape[:a] + p.shape[a + 1:]
    if labels.shape != expected:
        raise ValueError(f"{fn}: y_true has shape {labels.shape}; for y_pred of shape "
                         f"{p.shape} labels must have shape {expected}")
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise TypeError(f"{fn}: y_true must hold integer class indices, got "
                            f"non-integral values")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"{fn}: y_true must hold integer class indices, got dtype "
                        f"{labels.dtype}")
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    bad = valid & ((labels < 0) | (labels >= n_classes))
    if bad.any():
        raise IndexError(f"{fn}: y_true contains class {labels[bad][0]}, outside the valid "
                         f"range [0, {n_classes})"
                         + ("" if ignore_class is None else f" (and not ignore_class="
                            f"{ignore_class})"))
    safe = np.where(valid, labels, 0)
    keep = np.expand_dims(valid, a)
    if from_logits:
        logp = log_softmax_array(p.data, a)
        loss = np.where(valid, -pick(logp, safe, a), 0).astype(p.dtype)

        def backward(g):
            hit = np.where(valid, -g, 0).astype(p.dtype)  # d/dlog_softmax at the label
            return (place(hit, safe, a, p.shape, p.dtype)
                    - np.exp(logp) * np.expand_dims(hit, a),)

        return Tensor._make(loss, (p,), backward, "SparseCategoricalCrossentropy")

    # Ignored samples may hold anything (even all zeros): keep them out of every division.
    s = np.where(keep, p.data.sum(axis=a, keepdims=True), 1).astype(p.dtype)
    q = np.where(keep, p.data / s, 0.5).astype(p.dtype)
    qc, inside = _clip(q)
    loss = np.where(valid, -np.log(pick(qc, safe, a)), 0).astype(p.dtype)

    def backward(g):
        hit = np.where(valid & pick(inside, safe, a), -g / pick(qc, safe, a), 0)
        d = place(hit.astype(p.dtype), safe, a, p.shape, p.dtype)  # d/dq
        return ((d - (d * q).sum(axis=a, keepdims=True)) / s,)

    return Tensor._make(loss, (p,), backward, "SparseCategoricalCrossentropy")


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Element-wise binary cross-entropy averaged over ``axis`` (Keras 3's).

    y_true: 0/1 (or soft) labels of y_pred's shape, e.g. (batch, d).
    y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or, with ``from_logits=True``,
    logits (the stable form softplus(-x) + (1 - y) x is used).
    label_smoothing eps: labels become (1 - eps) y_true + eps / 2.
    Returns y_pred's shape without ``axis``, e.g. (batch,); a 1-D y_pred (batch,) gives
    a single number, as in Keras.
    """
    fn = "binary_crossentropy"
    p = floating(y_pred, "y_pred", fn)
    a = _class_axis(p, axis, fn)
    y = _labels(y_true, p, fn)
    eps = _smoothing(label_smoothing, fn)
    if eps:
        y = y * (1 - eps) + 0.5 * eps
    n = p.shape[a]
    if from_logits:
        z = p.data
        each = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))) + (1 - y) * z
        slope = sigmoid_array(z) - y
    else:
        qc, inside = _clip(p.data)
        each = -(y * np.log(qc) + (1 - y) * np.log1p(-qc))
        slope = -(y / qc - (1 - y) / (1 - qc)) * inside
    loss = np.asarray(each.mean(axis=a))

    def backward(g):
        return (np.expand_dims(g, a) / n * slope,)

    return Tensor._make(loss, (p,), backward, "BinaryCrossentropy")
