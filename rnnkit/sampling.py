"""Drawing tokens: ``multinomial`` (PyTorch's) and ``sample`` (temperature, top-k, top-p).

    probs = nn.functional.softmax(logits / 0.8, dim=-1)
    next_id = rnnkit.multinomial(probs, num_samples=1)          # torch's idiom
    next_id = rnnkit.sample(logits, temperature=0.8, top_k=40)  # the same, in one call

Both take rnnkit's seeded generator (``rnnkit.manual_seed`` makes a run repeatable, or pass
``generator=`` a ``numpy.random.Generator`` or an int seed) and both end in the same
categorical draw, ``_draw``, in float64.
"""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.random import get_generator


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices drawn from the categorical distributions given by rows of weights.

    input: ``(n,)`` or ``(m, n)`` non-negative, finite, floating-point weights (a Tensor
        or an ndarray); each row need not sum to 1 but must not be all zeros.
    num_samples: how many indices to draw per row.
    replacement: with True every draw is independent; with False the draws of a row are
        distinct, each proportional to the weights of the categories not yet drawn (so
        ``num_samples`` may not exceed the row's number of non-zero weights, the
        requirement torch documents).
    generator: None (rnnkit's global generator), an int seed or a numpy Generator.

    Returns int64 indices ``(num_samples,)`` or ``(m, num_samples)``, a Tensor for a
    Tensor and an ndarray for an ndarray, like ``torch.multinomial``.
    """
    is_tensor, w = _unwrap(input, "multinomial", "input")
    if w.dtype.kind != "f":
        raise TypeError(f"multinomial: input must hold floating-point weights, got dtype "
                        f"{w.dtype}")
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D (n,) or 2-D (m, n), got shape "
                         f"{w.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial: num_samples must be an int, got "
                        f"{type(num_samples).__name__}")
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot draw num_samples={num_samples} <= 0 samples")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"multinomial: replacement must be a bool, got {replacement!r}")
    rows = np.asarray(w, dtype=np.float64).reshape(-1, w.shape[-1])
    if rows.shape[1] == 0:
        raise ValueError(f"multinomial: input of shape {w.shape} has no categories")
    _check_weights(rows)
    if replacement:
        out = _draw(rows, int(num_samples), get_generator(generator))
    else:
        out = _draw_distinct(rows, int(num_samples), get_generator(generator))
    out = out.reshape(w.shape[:-1] + (int(num_samples),))
    return Tensor(out) if is_tensor else out


def sample(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """One token index per distribution of ``logits``, at a temperature, optionally
    restricted to the top-k tokens and/or the top-p nucleus.

    logits: ``(..., vocab)`` unnormalised log-probabilities (a Tensor or an ndarray);
        ``-inf`` marks a forbidden token.
    temperature: >= 0. The draw follows softmax(logits / temperature), computed in
        float64 after subtracting each row's maximum; 0 means greedy (the argmax, the
        first one on ties), whatever top_k and top_p say.
    top_k: None, or a positive int: only tokens whose logit is at least the k-th largest
        of their row stay (ties with the k-th are kept); a k beyond the vocabulary keeps all.
    top_p: None, or a float in (0, 1]: after top-k, only the smallest set of most likely
        tokens whose probability reaches ``top_p`` stays (the nucleus; always at least one
        token; equal probabilities are ranked by index).
    generator: None (rnnkit's global generator), an int seed or a numpy Generator.

    Returns int64 indices ``(...)``: a Tensor for a Tensor, an ndarray for an ndarray.
    """
    is_tensor, z = _unwrap(logits, "sample", "logits")
    if z.dtype.kind not in "fiu":
        raise TypeError(f"sample: logits must be real numbers, got dtype {z.dtype}")
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"sample: logits must have shape (..., vocab) with vocab >= 1, got "
                         f"shape {z.shape}")
    temperature = _check_temperature(temperature)
    _check_top_k(top_k)
    _check_top_p(top_p)
    rows = np.asarray(z, dtype=np.float64).reshape(-1, z.shape[-1])
    if np.isnan(rows).any() or np.isposinf(rows).any():
        raise ValueError("sample: logits contain nan or +inf")
    if rows.size and np.isneginf(rows).all(axis=1).any():
        row = int(np.flatnonzero(np.isneginf(rows).all(axis=1))[0])
        raise ValueError(f"sample: every logit of row {row} is -inf; nothing can be drawn")
    if temperature == 0.0:
        out = np.argmax(rows, axis=1)
    else:
        probs = _filtered_probs(rows, temperature, top_k, top_p)
        out = _draw(probs, 1, get_generator(generator))[:, 0]
    out = out.astype(np.int64).reshape(z.shape[:-1])
    return Tensor(out) if is_tensor else out


# -- the draws ------------------------------------------------------------------------------
def _draw(probs, num_samples, rng):
    """(m, n) non-negative float64 weights -> (m, num_samples) independent int64 draws.

    Inverse CDF: a uniform u in [0, total) lands in category i when
    cdf[i-1] <= u < cdf[i], which a zero weight (cdf[i] == cdf[i-1]) can never satisfy.
    """
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((probs.shape[0], num_samples)) * cdf[:, -1:]
    if num_samples == 1:
        idx = (cdf <= u).sum(axis=1, keepdims=True)
    else:
        idx = np.stack([np.searchsorted(c, row, side="right") for c, row in zip(cdf, u)]
                       ) if len(cdf) else np.zeros((0, num_samples), np.int64)
    # u * total can round up to total itself; that draw belongs to the last positive weight.
    last = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum(idx, last[:, None]).astype(np.int64)


def _draw_distinct(probs, num_samples, rng):
    """(m, n) weights -> (m, num_samples) distinct draws per row, sequential in law.

    The exponential race: with E_i ~ Exp(1), ranking w_i / E_i from the top gives the
    order of successive draws without replacement (Efraimidis & Spirakis, 2006).
    """
    if probs.shape[1] < num_samples:
        raise ValueError(f"multinomial: cannot draw {num_samples} distinct samples from "
                         f"{probs.shape[1]} categories without replacement")
    positive = (probs > 0).sum(axis=1)
    if positive.size and positive.min() < num_samples:
        row = int(np.argmin(positive))
        raise ValueError(f"multinomial: row {row} has {int(positive[row])} non-zero weights, "
                         f"fewer than num_samples={num_samples} distinct draws without "
                         f"replacement")
    keys = probs / rng.standard_exponential(probs.shape)
    return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)


def _filtered_probs(rows, temperature, top_k, top_p):
    """softmax(rows / temperature) with top-k then top-p applied, float64, (m, n)."""
    # Shift before dividing: a tiny temperature cannot overflow (rows - max) / t to nan.
    z = (rows - rows.max(axis=1, keepdims=True)) / temperature
    if top_k is not None and top_k < z.shape[1]:
        kth = np.partition(z, -top_k, axis=1)[:, -top_k:].min(axis=1, keepdims=True)
        z = np.where(z >= kth, z, -np.inf)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-p, axis=1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=1)
        before = np.cumsum(sorted_p, axis=1) - sorted_p
        before[:, 0] = 0.0
        keep = np.zeros_like(p, dtype=bool)
        np.put_along_axis(keep, order, before < top_p, axis=1)
        p = np.where(keep, p, 0.0)
    return p


# -- argument checks ----------------------------------------------------------------------
def _unwrap(x, fn, name):
    if isinstance(x, Tensor):
        return True, x.data
    if isinstance(x, np.ndarray):
        return False, x
    raise TypeError(f"{fn}: {name} must be an rnnkit Tensor or a NumPy array, got "
                    f"{type(x).__name__}")


def _check_weights(rows):
    bad = ~np.isfinite(rows) | (rows < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"multinomial: weights must be finite and >= 0, got "
                         f"{rows[r, c]} at row {r}, column {c}")
    sums = rows.sum(axis=1)
    if (sums <= 0).any():
        raise ValueError(f"multinomial: row {int(np.argmax(sums <= 0))} has no positive "
                         f"weight (an invalid distribution: its sum is 0)")


def _check_temperature(t):
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not np.isfinite(t) or t < 0:
        raise ValueError(f"sample: temperature must be a finite number >= 0, got {t!r}")
    return float(t)


def _check_top_k(k):
    if k is None:
        return
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"sample: top_k must be None or a positive int, got {k!r}")


def _check_top_p(p):
    if p is None:
        return
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
        raise ValueError(f"sample: top_p must be None or a number in (0, 1], got {p!r}")
