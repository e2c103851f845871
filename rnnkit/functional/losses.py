"""PyTorch-flavoured losses, each with its backward written by hand beside its forward.

Every loss works from the stable form of its formula: cross-entropies from the shifted
log-softmax, the logits form of binary cross-entropy from softplus(-x) = max(-x, 0) +
log(1 + e^-|x|), so nothing overflows and no log(0) reaches the result. The computation
stays in the input's dtype (float32 stays float32, float64 stays float64).

Weights (``weight``, ``pos_weight``) are constants, as in PyTorch; a target that is a
floating tensor requiring grad receives its gradient.
"""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit import autograd
from rnnkit._tensor import Tensor, _raw
from rnnkit.functional._util import as_operand
from rnnkit.functional.activations import log_softmax_array, sigmoid_array

REDUCTIONS = ("mean", "sum", "none")


# -- shared checks and the reduction ---------------------------------------------------
def check_reduction(reduction, fn):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of 'mean', 'sum', 'none', got "
                         f"{reduction!r}")


def floating(x, name, fn):
    """``x`` as a Tensor, which must hold floating-point values."""
    x = as_operand(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be floating point, got dtype {x.dtype}")
    return x


def target_like(target, x, fn, name="target"):
    """``target`` as a Tensor plus its values in x's dtype; its shape must equal x's."""
    t = as_operand(target, x)
    if t.shape != x.shape:
        raise ValueError(f"{fn}: {name} has shape {t.shape} but input has shape {x.shape}; "
                         f"they must be equal")
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: {name} must be numeric, got dtype {t.dtype}")
    return t, t.data.astype(x.dtype, copy=False)


def constant(w, x, name, fn, shape=None):
    """A weight as an ndarray in x's dtype, broadcastable to x (or exactly ``shape``)."""
    if w is None:
        return None
    if isinstance(w, Tensor) and w.requires_grad and autograd.is_grad_enabled():
        raise ValueError(f"{fn}: {name} is treated as a constant and gets no gradient; pass "
                         f"{name}.detach() to make that explicit")
    arr = np.asarray(_raw(w))
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{fn}: {name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(x.dtype, copy=False)
    if shape is not None:
        if arr.shape != shape:
            raise ValueError(f"{fn}: {name} has shape {arr.shape}, expected {shape}")
        return arr
    try:
        fits = np.broadcast_shapes(arr.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{fn}: {name} of shape {arr.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    return arr


def reduce(loss, reduction, denominator=None):
    """(reduced loss, spread) where spread(g) is d(reduced)/d(loss) times upstream g.

    loss: per-element losses; "mean" divides their sum by ``denominator`` (default: the
    number of elements; the weighted losses pass the sum of their weights).
    """
    if reduction == "none":
        return loss, lambda g: g
    n = 1 if reduction == "sum" else (loss.size if denominator is None else denominator)
    with np.errstate(invalid="ignore", divide="ignore"):  # mean of nothing is nan
        out = np.asarray(loss.sum() / n, dtype=loss.dtype)

    def spread(g):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.broadcast_to(g / n, loss.shape)

    return out, spread


def cast_grad(g, t):
    """Gradient ``g`` for target tensor ``t``, or None when t needs none."""
    return np.ascontiguousarray(g, dtype=t.dtype) if t.requires_grad else None


# -- regression --------------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):
    """Mean squared error (x - y)^2.

    input, target: the same shape (*). Returns a scalar, or (*) for reduction="none".
    """
    check_reduction(reduction, "mse_loss")
    x = floating(input, "input", "mse_loss")
    t, y = target_like(target, x, "mse_loss")
    diff = x.data - y
    out, spread = reduce(diff * diff, reduction)

    def backward(g):
        gx = 2 * spread(g) * diff
        return gx, cast_grad(-gx, t)

    return Tensor._make(out, (x, t), backward, "MseLoss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error |x - y| (subgradient 0 where x == y, as PyTorch).

    input, target: the same shape (*). Returns a scalar, or (*) for reduction="none".
    """
    check_reduction(reduction, "l1_loss")
    x = floating(input, "input", "l1_loss")
    t, y = target_like(target, x, "l1_loss")
    diff = x.data - y
    out, spread = reduce(np.abs(diff), reduction)

    def backward(g):
        gx = spread(g) * np.sign(diff)
        return gx, cast_grad(-gx, t)

    return Tensor._make(out, (x, t), backward, "L1Loss")


# -- binary cross-entropy ----------------------------------------------------------------
# PyTorch guards the input gradient's denominator with 1e-12 stored as a float32, which
# is 9.999999960e-13; the same constant keeps gradients at p = 0 or 1 identical to its.
BCE_EPSILON = float(np.float32(1e-12))

def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w [y log p + (1 - y) log(1 - p)] for probabilities p, each log clamped at -100.

    input: probabilities in [0, 1], shape (*); target: the same shape (*), usually 0/1;
    weight: broadcastable to (*). Returns a scalar, or (*) for reduction="none".
    The clamp (PyTorch's) keeps the loss finite at p = 0 or 1; the input gradient
    w (p - y) / max(p (1 - p), 1e-12) is PyTorch's too, finite everywhere.
    """
    fn = "binary_cross_entropy"
    check_reduction(reduction, fn)
    p = floating(input, "input", fn)
    t, y = target_like(target, p, fn)
    w = constant(weight, p, "weight", fn)
    if p.data.size and not ((p.data >= 0) & (p.data <= 1)).all():
        raise ValueError(f"{fn}: input must hold probabilities in [0, 1], got values in "
                         f"[{np.nanmin(p.data)}, {np.nanmax(p.data)}] (or nan); for logits "
                         f"use binary_cross_entropy_with_logits")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p.data), -100)
        log_q = np.maximum(np.log1p(-p.data), -100)
    loss = -(y * log_p + (1 - y) * log_q)
    if w is not None:
        loss = loss * w
    out, spread = reduce(loss, reduction)

    def backward(g):
        gl = spread(g) if w is None else spread(g) * w
        gp = gl * (p.data - y) / np.maximum(p.data * (1 - p.data), BCE_EPSILON)
        return gp, cast_grad(gl * (log_q - log_p), t)

    return Tensor._make(out, (p, t), backward, "BinaryCrossEntropy")


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    """Binary cross-entropy of sigmoid(x), computed from the logits x without overflow.

    loss = w [(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)], which equals
    -w [pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].
    input: logits (*); target: the same shape (*); weight: broadcastable to (*);
    pos_weight: the weight of positive examples, broadcastable to (*), typically
    (classes,) for input (batch, classes). Returns a scalar, or (*) for "none".
    d/dx = w [sigmoid(x) - y - (pos_weight - 1) y sigmoid(-x)].
    """
    fn = "binary_cross_entropy_with_logits"
    check_reduction(reduction, fn)
    x = floating(input, "input", fn)
    t, y = target_like(target, x, fn)
    w = constant(weight, x, "weight", fn)
    pw = constant(pos_weight, x, "pos_weight", fn)
    z = x.data
    softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # -log sigmoid(x)
    if pw is None:
        loss = (1 - y) * z + softplus_neg
    else:
        loss = (1 - y) * z + (1 + (pw - 1) * y) * softplus_neg
    if w is not None:
        loss = loss * w
    out, spread = reduce(loss, reduction)

    def backward(g):
        gl = spread(g) if w is None else spread(g) * w
        gx = sigmoid_array(z) - y
        gy = -z
        if pw is not None:
            gx = gx - (pw - 1) * y * sigmoid_array(-z)
            gy = gy + (pw - 1) * softplus_neg
        return gl * gx, cast_grad(gl * gy, t)

    return Tensor._make(out, (x, t), backward, "BinaryCrossEntropyWithLogits")


# -- multi-class: negative log-likelihood and cross-entropy ------------------------------
def class_axis(x, fn):
    """The class dimension: 0 for input (classes,), 1 for (batch, classes, d1, ...)."""
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must be (classes,) or (batch, classes, ...), got a "
                         f"0-d tensor")
    return 0 if x.ndim == 1 else 1


def class_targets(target, x, c, ignore_index, fn):
    """(safe, valid): class indices with ignored ones replaced by 0, and the kept mask."""
    idx = np.asarray(_raw(target))
    expected = x.shape[:c] + x.shape[c + 1:]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: class-index target must hold integers, got dtype "
                        f"{idx.dtype} (probability targets must have the input's shape "
                        f"{x.shape})")
    if idx.shape != expected:
        raise ValueError(f"{fn}: target has shape {idx.shape}; for input of shape {x.shape} "
                         f"class indices must have shape {expected}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{fn}: ignore_index must be an int, got {ignore_index!r}")
    n_classes = x.shape[c]
    valid = idx != ignore_index
    bad = valid & ((idx < 0) | (idx >= n_classes))
    if bad.any():
        raise IndexError(f"{fn}: target contains class {idx[bad][0]}, outside the valid "
                         f"range [0, {n_classes}) (and not ignore_index={ignore_index})")
    return np.where(valid, idx, 0), valid


def pick(a, safe, c):
    """a[..., safe, ...]: the entry of each row's target class along axis c."""
    return np.take_along_axis(a, np.expand_dims(safe, c), axis=c).squeeze(c)


def place(values, safe, c, shape, dtype):
    """Zeros of ``shape`` with ``values`` put at each row's target class along axis c."""
    out = np.zeros(shape, dtype=dtype)
    np.put_along_axis(out, np.expand_dims(safe, c), np.expand_dims(values, c), axis=c)
    return out


def along(w, c, ndim):
    """Class weights (classes,) shaped to broadcast along axis c of an ndim-d input."""
    return w.reshape(w.shape + (1,) * (ndim - c - 1))


def nll_loss(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood -w[y] log_probs[y] of class-index targets (PyTorch's).

    log_probs: (classes,), (batch, classes) or (batch, classes, d1, ..., dK), usually
    from log_softmax over the class dimension. target: class indices of shape (),
    (batch,) or (batch, d1, ..., dK); entries equal to ``ignore_index`` contribute
    nothing. weight: (classes,). "mean" divides by the total weight of the kept targets.
    Returns a scalar, or the target's shape for reduction="none".
    """
    fn = "nll_loss"
    check_reduction(reduction, fn)
    lp = floating(log_probs, "log_probs", fn)
    c = class_axis(lp, fn)
    w = constant(weight, lp, "weight", fn, shape=(lp.shape[c],))
    safe, valid = class_targets(target, lp, c, ignore_index, fn)
    w_t = valid.astype(lp.dtype) if w is None else w[safe] * valid.astype(lp.dtype)
    loss = -w_t * pick(lp.data, safe, c)
    out, spread = reduce(loss, reduction, w_t.sum())

    def backward(g):
        # Ignored targets get exactly 0, even when the mean's denominator is 0 (PyTorch).
        gl = np.where(valid, spread(g), 0)
        return (place(-gl * w_t, safe, c, lp.shape, lp.dtype),)

    return Tensor._make(out, (lp,), backward, "NllLoss")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of softmax(input) over the class dimension (PyTorch's semantics).

    input: logits (classes,), (batch, classes) or (batch, classes, d1, ..., dK).
    target, either
      * class indices (integers) of shape (), (batch,) or (batch, d1, ..., dK);
        entries equal to ``ignore_index`` contribute nothing, and "mean" divides by
        the total ``weight`` of the kept targets; or
      * class probabilities (floats) of the input's shape; "mean" divides by the
        number of rows (input.size / classes).
    weight: (classes,). label_smoothing eps in [0, 1] mixes the target with the
    uniform distribution: (1 - eps) target + eps / classes.
    Returns a scalar, or the shape without the class dimension for reduction="none".
    d/dx = a - softmax(x) sum(a), with a = dloss/dlog_softmax(x).
    """
    fn = "cross_entropy"
    check_reduction(reduction, fn)
    x = floating(input, "input", fn)
    c = class_axis(x, fn)
    n_classes = x.shape[c]
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing <= 1):
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    eps = float(label_smoothing)  # a Python float, so float32 stays float32
    w = constant(weight, x, "weight", fn, shape=(n_classes,))
    wb = None if w is None else along(w, c, x.ndim)
    logp = log_softmax_array(x.data, c)
    t = target if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise TypeError(f"{fn}: a floating target holds class probabilities and must have "
                            f"the input's shape {x.shape}, got {t.shape}; a class-index "
                            f"target must hold integers")
        if ignore_index != -100:
            raise ValueError(f"{fn}: ignore_index applies only to class-index targets, "
                             f"but target holds probabilities")
        return _cross_entropy_probs(x, t, logp, c, wb, eps, reduction)

    safe, valid = class_targets(t, x, c, ignore_index, fn)
    kept = valid.astype(x.dtype)
    w_t = kept if w is None else w[safe] * kept
    loss = (1 - eps) * w_t * -pick(logp, safe, c)
    if eps:
        smooth = -(logp if wb is None else logp * wb).sum(axis=c)
        loss = loss + (eps / n_classes) * kept * smooth
    out, spread = reduce(loss, reduction, w_t.sum())

    def backward(g):
        # Ignored targets get exactly 0, even when the mean's denominator is 0 (PyTorch).
        gl = np.where(valid, spread(g), 0)
        hit = -(1 - eps) * gl * w_t  # d/dlog_softmax at the target class
        a = place(hit, safe, c, x.shape, x.dtype)
        total = hit
        if eps:
            spread_each = -(eps / n_classes) * gl
            a += np.expand_dims(spread_each, c) * (1 if wb is None else wb)
            total = total + spread_each * (n_classes if w is None else w.sum())
        return (a - np.exp(logp) * np.expand_dims(total, c),)

    return Tensor._make(out, (x,), backward, "CrossEntropy")


def _cross_entropy_probs(x, target, logp, c, wb, eps, reduction):
    """cross_entropy for probability targets of the input's shape."""
    t, y = target_like(target, x, "cross_entropy")
    if eps:
        y = (1 - eps) * y + eps / x.shape[c]
    wy = y if wb is None else y * wb
    out, spread = reduce(-(wy * logp).sum(axis=c), reduction)

    def backward(g):
        gl = np.expand_dims(spread(g), c)
        a = -gl * wy
        gx = a - np.exp(logp) * a.sum(axis=c, keepdims=True)
        gy = -(1 - eps) * gl * (logp if wb is None else logp * wb)
        return gx, cast_grad(gy, t)

    return Tensor._make(out, (x, t), backward, "CrossEntropy")
