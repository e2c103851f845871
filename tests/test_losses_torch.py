"""Every PyTorch-flavoured loss and option equals torch.nn.functional: value and gradients.

Each case is one call written once and run twice: ``call(F, T, x, ...)`` with rnnkit's
functional and with torch.nn.functional (``T`` turns a constant into that library's
tensor). The loss is back-propagated with a random upstream gradient, so "none"
reductions are checked element by element. float32 agrees to 1e-5, float64 to 1e-10.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these losses")
import torch.nn.functional as TF  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit import functional as F  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {np.float32: 1e-5, np.float64: 1e-10}
REDUCTIONS = ["mean", "sum", "none"]

rng = np.random.default_rng(7)
N, C = 5, 4
LOGITS = rng.normal(scale=2.0, size=(N, C))
LOGITS_K = rng.normal(scale=2.0, size=(2, C, 3, 2))  # (batch, classes, d1, d2)
LABELS = np.array([3, 0, 1, 3, 2])
LABELS_K = rng.integers(0, C, size=(2, 3, 2))
LABELS_K[0, 1, 0] = -100
SOFT = rng.dirichlet(np.ones(C), size=N)
SOFT_K = np.moveaxis(rng.dirichlet(np.ones(C), size=(2, 3, 2)), -1, 1)
CLASS_W = np.array([0.5, 2.0, 1.0, 0.25])
PROBS = rng.uniform(0.02, 0.98, size=(N, 3))
BINARY = rng.integers(0, 2, size=(N, 3)).astype(float)


def run(lib, call, arrays, differentiable, dtype, upstream_seed=0):
    """The loss value and the gradients of the differentiable arrays, as float64 NumPy."""
    if lib == "torch":
        def T(a):
            a = torch.from_numpy(np.asarray(a))
            return a.to(getattr(torch, np.dtype(dtype).name)) if a.is_floating_point() else a

        args = [torch.tensor(a.astype(dtype), requires_grad=d)
                for a, d in zip(arrays, differentiable)]
        out = call(TF, T, *args)
        up = np.random.default_rng(upstream_seed).normal(size=tuple(out.shape)).astype(dtype)
        out.backward(torch.from_numpy(up))
        grads = [a.grad.numpy() for a, d in zip(args, differentiable) if d]
        return out.detach().numpy(), grads, out.dtype
    else:
        def T(a):
            a = np.asarray(a)
            return a.astype(dtype) if a.dtype.kind == "f" else a

        args = [rnnkit.tensor(a.astype(dtype), requires_grad=d)
                for a, d in zip(arrays, differentiable)]
        out = call(F, T, *args)
        up = np.random.default_rng(upstream_seed).normal(size=out.shape).astype(dtype)
        out.backward(up)
        grads = [a.grad.data for a, d in zip(args, differentiable) if d]
        return out.data, grads, out.dtype


def assert_matches_torch(call, arrays, differentiable=None, dtype=np.float64, relative=False):
    """Values and gradients agree to TOL[dtype]: absolutely, or relative to the reference
    when ``relative`` (for gradients of order 1e10, where only relative error means much)."""
    differentiable = differentiable or [True] + [False] * (len(arrays) - 1)
    ours, our_grads, our_dtype = run("rnnkit", call, arrays, differentiable, dtype)
    ref, ref_grads, _ = run("torch", call, arrays, differentiable, dtype)
    assert our_dtype == dtype
    assert ours.shape == ref.shape
    tol = dict(rtol=TOL[dtype], atol=0) if relative else dict(rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(ours, ref, **tol)
    for g, r in zip(our_grads, ref_grads):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, r, **tol)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


# -- regression -------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_and_both_gradients(dtype, reduction):
    assert_matches_torch(lambda L, T, x, y: L.mse_loss(x, y, reduction=reduction),
                         [LOGITS, SOFT], [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_loss_and_both_gradients(dtype, reduction):
    assert_matches_torch(lambda L, T, x, y: L.l1_loss(x, y, reduction=reduction),
                         [LOGITS, SOFT], [True, True], dtype)


# -- binary cross-entropy ---------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(dtype, reduction):
    assert_matches_torch(lambda L, T, p, y: L.binary_cross_entropy(p, y, reduction=reduction),
                         [PROBS, BINARY], dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_weight_and_soft_target_gradient(dtype, reduction):
    w = np.array([0.5, 1.0, 3.0])
    assert_matches_torch(
        lambda L, T, p, y: L.binary_cross_entropy(p, y, weight=T(w), reduction=reduction),
        [PROBS, PROBS[::-1]], [True, True], dtype)


def test_binary_cross_entropy_at_probabilities_zero_and_one(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    assert_matches_torch(lambda L, T, p, y: L.binary_cross_entropy(p, y), [p, y], dtype=dtype,
                         relative=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(dtype, reduction):
    assert_matches_torch(
        lambda L, T, x, y: L.binary_cross_entropy_with_logits(x, y, reduction=reduction),
        [LOGITS[:, :3] * 3, PROBS], [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits_weights(dtype, reduction, options):
    w = np.array([[0.5], [1.0], [2.0], [1.5], [0.1]]) if options != "pos_weight" else None
    pw = np.array([3.0, 0.5, 1.0]) if options != "weight" else None

    def call(L, T, x, y):
        return L.binary_cross_entropy_with_logits(
            x, y, weight=None if w is None else T(w), pos_weight=None if pw is None else T(pw),
            reduction=reduction)

    assert_matches_torch(call, [LOGITS[:, :3] * 3, PROBS], [True, True], dtype)


def test_binary_cross_entropy_with_logits_on_k_dim_input_with_pos_weight(dtype):
    x, y = rng.normal(size=(2, 3, 4)), rng.uniform(size=(2, 3, 4))
    pw = np.array([1.0, 2.0, 0.5, 4.0])
    assert_matches_torch(
        lambda L, T, x, y: L.binary_cross_entropy_with_logits(x, y, pos_weight=T(pw)),
        [x, y], dtype=dtype)


def test_binary_cross_entropy_with_logits_at_huge_logits(dtype):
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 30.0, -30.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    pw = np.full(6, 2.0)
    assert_matches_torch(
        lambda L, T, x, y: L.binary_cross_entropy_with_logits(x, y, pos_weight=T(pw),
                                                              reduction="sum"),
        [x, y], dtype=dtype)


# -- negative log-likelihood --------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "ignore_index", "weight_ignore_index"])
def test_nll_loss(dtype, reduction, options):
    w = CLASS_W if "weight" in options else None
    labels, ignore = (np.array([3, 1, 1, 0, 1]), 1) if "ignore" in options else (LABELS, -100)

    def call(L, T, lp):
        return L.nll_loss(lp, T(labels), weight=None if w is None else T(w),
                          ignore_index=ignore, reduction=reduction)

    assert_matches_torch(call, [LOGITS], dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_on_k_dim_input_with_weight_and_ignored_targets(dtype, reduction):
    assert_matches_torch(lambda L, T, lp: L.nll_loss(lp, T(LABELS_K), weight=T(CLASS_W),
                                                     reduction=reduction),
                         [LOGITS_K], dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_on_an_unbatched_input(dtype, reduction):
    assert_matches_torch(lambda L, T, lp: L.nll_loss(lp, T(np.array(2)), reduction=reduction),
                         [LOGITS[0]], dtype=dtype)


# -- cross-entropy with class indices ---------------------------------------------------------
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": CLASS_W},
    "ignore_index": {"ignore_index": 3},
    "label_smoothing": {"label_smoothing": 0.15},
    "all": {"weight": CLASS_W, "ignore_index": 0, "label_smoothing": 0.3},
}


def ce_call(options, target, reduction):
    def call(L, T, x):
        kw = {k: T(v) if k == "weight" else v for k, v in options.items()}
        return L.cross_entropy(x, T(target), reduction=reduction, **kw)
    return call


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS)
def test_cross_entropy_with_class_indices(dtype, reduction, options):
    assert_matches_torch(ce_call(CE_OPTIONS[options], LABELS, reduction), [LOGITS], dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "all"])
def test_cross_entropy_on_k_dim_input(dtype, reduction, options):
    opts = dict(CE_OPTIONS[options], ignore_index=-100)
    assert_matches_torch(ce_call(opts, LABELS_K, reduction), [LOGITS_K], dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_on_an_unbatched_input(dtype, reduction):
    assert_matches_torch(ce_call(CE_OPTIONS["all"], np.array(1), reduction), [LOGITS[0]],
                         dtype=dtype)


def test_cross_entropy_when_every_target_is_ignored_is_nan_like_torch(dtype):
    assert_matches_torch(ce_call({}, np.full(N, -100), "mean"), [LOGITS], dtype=dtype)


def test_cross_entropy_at_huge_logits(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    assert_matches_torch(ce_call({"label_smoothing": 0.1}, np.array([1, 2]), "mean"), [x],
                         dtype=dtype)


# -- cross-entropy with class probabilities ---------------------------------------------------
PROB_OPTIONS = {
    "plain": {},
    "weight": {"weight": CLASS_W},
    "label_smoothing": {"label_smoothing": 0.2},
    "weight_label_smoothing": {"weight": CLASS_W, "label_smoothing": 0.4},
}


def ce_prob_call(options, reduction):
    def call(L, T, x, y):
        kw = {k: T(v) if k == "weight" else v for k, v in options.items()}
        return L.cross_entropy(x, y, reduction=reduction, **kw)
    return call


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", PROB_OPTIONS)
def test_cross_entropy_with_probability_targets_and_their_gradient(dtype, reduction, options):
    assert_matches_torch(ce_prob_call(PROB_OPTIONS[options], reduction), [LOGITS, SOFT],
                         [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probability_targets_on_k_dim_input(dtype, reduction):
    assert_matches_torch(ce_prob_call(PROB_OPTIONS["weight_label_smoothing"], reduction),
                         [LOGITS_K, SOFT_K], [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probability_targets_on_an_unbatched_input(dtype, reduction):
    assert_matches_torch(ce_prob_call(PROB_OPTIONS["weight"], reduction), [LOGITS[0], SOFT[0]],
                         [True, True], dtype)


def test_cross_entropy_equals_nll_of_log_softmax(dtype):
    def call(L, T, x):
        return L.nll_loss(L.log_softmax(x, 1), T(LABELS_K), weight=T(CLASS_W))
    assert_matches_torch(call, [LOGITS_K], dtype=dtype)
