"""Run one piece of PyTorch-style code on rnnkit and on real PyTorch, and compare.

The tensor API is the same in both, so a case is written once with the library as its
first argument: ``lambda t, x: t.cat([x, x], dim=1)`` runs as ``rnnkit.cat`` and as
``torch.cat``. ``run_both`` builds the inputs in each library from the same NumPy arrays
(floating ones as float64 leaves that require grad), calls the case, back-propagates the
same random weights through every floating output and returns both sides' outputs and
input gradients; ``assert_same`` compares values, dtypes and shapes.
"""
from __future__ import annotations

import numpy as np
import pytest

import rnnkit

torch = pytest.importorskip("torch")


def to_numpy(x):
    """The values of an rnnkit or torch tensor (or a plain value) as an ndarray."""
    if isinstance(x, rnnkit.Tensor):
        return x.data
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_same(ours, theirs, exact=True, rtol=1e-6, atol=0.0):
    """Same dtype, shape and values (exactly, or to rtol/atol); NaNs must match."""
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.dtype == b.dtype, f"dtype {a.dtype} != torch's {b.dtype}"
    assert a.shape == b.shape, f"shape {a.shape} != torch's {b.shape}"
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _outputs(result):
    """The tensors of a result: a tensor, a (named) tuple of tensors, or a tuple of those."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    flat = []
    for item in items:
        flat.extend(_outputs(item) if isinstance(item, (tuple, list)) else [item])
    return flat


def run_both(fn, *arrays, seed=0):
    """``fn(lib, *inputs)`` for lib in (rnnkit, torch).

    Returns ((our outputs, our grads), (their outputs, their grads)): outputs as a flat
    list of tensors, grads as one entry per input (None for non-floating inputs or inputs
    no gradient reached).
    """
    rng = np.random.default_rng(seed)
    sides = []
    weights = None
    for lib in (rnnkit, torch):
        inputs = [lib.tensor(np.array(a), requires_grad=np.asarray(a).dtype.kind == "f")
                  for a in arrays]
        outs = _outputs(fn(lib, *inputs))
        if weights is None:
            weights = [rng.normal(size=to_numpy(o).shape) for o in outs]
        loss = None
        for o, w in zip(outs, weights):
            if to_numpy(o).dtype.kind == "f" and o.requires_grad:
                term = (o * lib.tensor(w.astype(to_numpy(o).dtype))).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        grads = [None if i.grad is None else to_numpy(i.grad) for i in inputs]
        sides.append((outs, grads))
    return sides[0], sides[1]


def assert_pair(fn, *arrays, exact=True, rtol=1e-12):
    """``fn`` gives the same outputs (values, dtypes, shapes) and input gradients on both."""
    (ours, our_grads), (theirs, their_grads) = run_both(fn, *arrays)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert_same(o, t, exact=exact, rtol=rtol)
        assert bool(getattr(o, "requires_grad", False)) == bool(t.requires_grad)
    for g, h in zip(our_grads, their_grads):
        assert (g is None) == (h is None), f"gradient present: ours {g is not None}, " \
                                           f"torch's {h is not None}"
        if g is not None:
            np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)
