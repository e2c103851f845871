"""Finite-difference gradient check for anything built on rnnkit's autograd.

    from gradcheck import gradcheck
    gradcheck(lambda x, w: F.linear(x, w), [rng.normal(size=(3, 4)), rng.normal(size=(2, 4))])

The function is reduced to the scalar L = sum_k sum(out_k * r_k), with fixed random
weights r_k (one array per output), so every output element and every output of a
multi-output op is checked at once. The analytic gradient dL/d(input) comes from
``L.backward()``; the numerical one from central differences
(L(x + eps e_i) - L(x - eps e_i)) / (2 eps), one element at a time, all in float64.
The error of element i is |analytic_i - numeric_i| / max(1, |analytic_i|, |numeric_i|):
absolute for small gradients, relative for large ones.
"""
from __future__ import annotations

import numpy as np

import rnnkit
from rnnkit import functional as F


def _outputs(result):
    """The function's result as a list of tensors, dropping None entries."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    return [t for t in items if t is not None]


def _loss(result, weights):
    """sum_k sum(out_k * r_k) as an rnnkit Tensor (differentiable)."""
    total = None
    for out, r in zip(_outputs(result), weights):
        if out.dtype.kind != "f":
            continue  # integer outputs (indices, lengths) carry no gradient
        term = F.sum(F.mul(out, r))
        total = term if total is None else F.add(total, term)
    return total


def gradcheck(fn, inputs, eps=1e-6, rtol=1e-6, seed=0):
    """Assert that rnnkit's gradients of ``fn`` match central finite differences.

    fn: takes one rnnkit Tensor per entry of ``inputs`` and returns a Tensor or a
        tuple of Tensors (None entries and integer outputs are skipped).
    inputs: list of np.ndarray. Floating arrays become float64 tensors with
        requires_grad=True and are checked; integer/bool arrays are passed as constant
        tensors (e.g. class indices) and are not perturbed.
    eps: the finite-difference step; rtol: the largest accepted error (see module doc);
    seed: seeds the random output weights.
    Returns the largest error found; raises AssertionError naming the input and element
    whose gradient is off.
    """
    arrays = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in inputs]
    checked = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")

    leaves = [rnnkit.Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    result = fn(*leaves)
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=out.shape) for out in _outputs(result)]
    loss = _loss(result, weights)
    if loss is None:
        raise ValueError("gradcheck: fn returned no floating-point output")
    if loss.requires_grad:
        loss.backward()

    def value():
        with rnnkit.no_grad():
            return float(_loss(fn(*[rnnkit.Tensor(a) for a in arrays]), weights).data)

    worst = 0.0
    for i in checked:
        a = arrays[i]
        grad = leaves[i].grad
        analytic = np.zeros_like(a) if grad is None else np.asarray(grad.data, np.float64)
        numeric = np.zeros_like(a)
        flat, num = a.reshape(-1), numeric.reshape(-1)  # views: perturb a in place
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            up = value()
            flat[k] = orig - eps
            down = value()
            flat[k] = orig
            num[k] = (up - down) / (2 * eps)
        err = np.abs(analytic - numeric) / np.maximum(
            1.0, np.maximum(np.abs(analytic), np.abs(numeric)))
        if err.size:
            k = int(np.argmax(err))
            worst = max(worst, float(err.flat[k]))
            assert err.flat[k] <= rtol, (
                f"gradcheck: input {i} (shape {a.shape}), element "
                f"{np.unravel_index(k, a.shape)}: analytic {analytic.flat[k]:.10g}, "
                f"numeric {numeric.flat[k]:.10g}, error {err.flat[k]:.3g} > {rtol:g}")
    return worst
