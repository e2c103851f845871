"""Gradient clipping, in place on ``.grad``, with PyTorch's semantics.

``clip_grad_norm_`` treats all gradients as one long vector: with total norm N it scales
every gradient by min(1, max_norm / (N + 1e-6)). ``clip_grad_value_`` clamps each entry to
[-clip_value, clip_value]. Parameters whose ``.grad`` is None are skipped by both.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit._tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def _norm_type(norm_type):
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type: expected a number or 'inf', got {norm_type!r}") from None
    if not p > 0:
        raise ValueError(f"norm_type: expected p > 0 or inf, got {norm_type!r}")
    return p


def _vector_norm(x, p):
    """The p-norm of all entries of ``x``, in ``x``'s dtype (accumulated in float64)."""
    a = np.abs(x.astype(np.float64, copy=False))
    if a.size == 0:
        value = 0.0
    elif p == math.inf:
        value = a.max()
    elif p == 2.0:
        value = math.sqrt(np.dot(a.ravel(), a.ravel()))
    elif p == 1.0:
        value = a.sum()
    else:
        value = (a ** p).sum() ** (1.0 / p)
    return np.asarray(value, dtype=x.dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The p-norm of ``tensors`` (arrays or Tensors) viewed as one concatenated vector.

    Computed as PyTorch does: the norm of the vector of per-tensor norms, in their
    promoted dtype. An empty list gives 0.0 (float32). Returns a 0-d Tensor.
    """
    p = _norm_type(norm_type)
    arrays = [np.asarray(getattr(t, "data", t)) for t in
              ([tensors] if isinstance(tensors, (Tensor, np.ndarray)) else tensors)]
    if not arrays:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    norms = np.stack([_vector_norm(a, p) for a in arrays])
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {p} of the gradients "
                           f"is non-finite ({total}), so it cannot be clipped; pass "
                           f"error_if_nonfinite=False to scale by it anyway")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale every ``p.grad`` in place by min(1, max_norm / (total_norm + 1e-6)).

    parameters: a Tensor or an iterable of them; total_norm: as from
    :func:`get_total_norm` (its dtype sets the coefficient's precision, like PyTorch).
    """
    grads = _grads(parameters)
    if not grads:
        return
    total = np.asarray(getattr(total_norm, "data", total_norm))
    coef = np.minimum(float(max_norm) / (total + total.dtype.type(1e-6)), 1.0)
    coef = coef.astype(total.dtype)
    for g in grads:
        g *= coef


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Clip the gradients of ``parameters`` to total norm ``max_norm``, in place.

    parameters: a Tensor or an iterable of Tensors (those with ``.grad`` None are
    skipped); norm_type: p of the p-norm, ``inf`` (or "inf") for the largest magnitude;
    error_if_nonfinite: raise RuntimeError when the total norm is nan or inf.
    Returns the total norm *before* clipping as a 0-d Tensor, like
    ``torch.nn.utils.clip_grad_norm_``.
    """
    if not isinstance(parameters, Tensor):
        parameters = list(parameters)  # a generator must survive two passes
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every entry of every ``p.grad`` to [-clip_value, clip_value], in place.

    parameters: a Tensor or an iterable of Tensors (``.grad`` None skipped).
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_value: must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
