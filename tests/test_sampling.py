"""rnnkit.sample and rnnkit.multinomial: the draws follow the distributions they promise.

Frequencies of many seeded draws are tested against the softmax (computed here by hand)
with a chi-square goodness-of-fit test at the 0.1% level (scipy's critical value); the
same test rejects a wrong temperature, so it has the power to fail. Top-k and top-p are
checked against the sets they must keep, multinomial without replacement against torch's
inclusion frequencies and the exact law of successive draws, and the errors against the
inputs torch refuses.
"""
import numpy as np
import pytest

import rnnkit

stats = pytest.importorskip("scipy.stats", reason="scipy (a jax dependency) gives chi2")

LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 0.0, 1.5])
N = 40_000


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def chi_square(draws, probs):
    """(statistic, critical value at 0.1%) of the counts of ``draws`` against ``probs``."""
    support = probs > 0
    counts = np.bincount(draws.ravel(), minlength=len(probs))
    assert counts[~support].sum() == 0, "a category of probability 0 was drawn"
    expected = draws.size * probs[support]
    stat = ((counts[support] - expected) ** 2 / expected).sum()
    if support.sum() == 1:       # one possible outcome: the assert above was the test
        return stat, np.inf
    return stat, stats.chi2.isf(1e-3, df=support.sum() - 1)


def draws(temperature, seed=0, **kw):
    return rnnkit.sample(np.tile(LOGITS, (N, 1)), temperature=temperature, generator=seed, **kw)


# -- temperature ----------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_draws_follow_the_softmax_at_the_temperature(temperature):
    stat, critical = chi_square(draws(temperature), softmax(LOGITS / temperature))
    assert stat < critical


def test_the_chi_square_check_rejects_the_wrong_temperature():
    stat, critical = chi_square(draws(0.5), softmax(LOGITS / 1.0))
    assert stat > 10 * critical


def test_temperature_zero_is_the_argmax_first_on_ties():
    logits = np.array([[1.0, 3.0, 3.0, 2.0], [0.0, -1.0, 5.0, 4.9]])
    np.testing.assert_array_equal(rnnkit.sample(logits, temperature=0), [1, 2])


def test_a_tiny_temperature_on_large_logits_is_the_argmax_without_nan():
    logits = np.array([[1e6, 2e6, -3e6]], dtype=np.float32)
    assert rnnkit.sample(logits, temperature=1e-300, generator=0)[0] == 1


def test_minus_inf_logits_are_never_drawn():
    logits = np.tile([0.0, -np.inf, 1.0, -np.inf], (5000, 1))
    d = rnnkit.sample(logits, temperature=3.0, generator=1)
    assert set(np.unique(d)) == {0, 2}


# -- top-k and top-p --------------------------------------------------------------------------
def test_top_k_never_yields_a_token_outside_the_k_largest():
    logits = np.random.default_rng(0).normal(size=(N, 50))
    d = rnnkit.sample(logits, temperature=5.0, top_k=7, generator=2)
    top7 = np.argsort(-logits, axis=1)[:, :7]
    assert (d[:, None] == top7).any(axis=1).all()


def test_top_k_draws_follow_the_renormalised_softmax_of_the_k_largest():
    kept = np.argsort(-LOGITS)[:3]
    probs = np.zeros_like(LOGITS)
    probs[kept] = softmax(LOGITS[kept] / 1.5)
    stat, critical = chi_square(draws(1.5, top_k=3), probs)
    assert stat < critical


def test_top_k_beyond_the_vocabulary_keeps_every_token():
    stat, critical = chi_square(draws(1.0, top_k=100), softmax(LOGITS))
    assert stat < critical


@pytest.mark.parametrize("top_p, nucleus", [(0.4, [0]), (0.75, [0, 1]), (0.85, [0, 1, 2]),
                                            (1.0, [0, 1, 2, 3])])
def test_top_p_draws_exactly_the_nucleus_renormalised(top_p, nucleus):
    # probabilities 0.5, 0.3, 0.15, 0.05 (shuffled): the nucleus is the smallest set of
    # most likely tokens whose probability reaches top_p
    token = np.array([2, 0, 3, 1])          # token[r] holds the r-th largest probability
    p = np.array([0.5, 0.3, 0.15, 0.05])
    logits = np.empty(4)
    logits[token] = np.log(p)
    d = rnnkit.sample(np.tile(logits, (N, 1)), top_p=top_p, generator=3)
    probs = np.zeros(4)
    probs[token[nucleus]] = p[nucleus] / p[nucleus].sum()
    stat, critical = chi_square(d, probs)
    assert sorted(np.unique(d)) == sorted(token[nucleus])
    assert stat < critical


def test_top_k_applies_before_top_p():
    # top-2 leaves 0.5 / 0.8 and 0.3 / 0.8 = 0.625 / 0.375; top_p=0.6 then keeps one token
    logits = np.log([0.5, 0.3, 0.15, 0.05])
    d = rnnkit.sample(np.tile(logits, (2000, 1)), top_k=2, top_p=0.6, generator=4)
    assert set(np.unique(d)) == {0}


# -- shapes, types, seeds --------------------------------------------------------------------
def test_a_tensor_gives_an_int64_tensor_of_the_leading_shape():
    out = rnnkit.sample(rnnkit.tensor(np.zeros((2, 3, 5))), generator=0)
    assert isinstance(out, rnnkit.Tensor) and out.shape == (2, 3) and out.dtype == np.int64


def test_an_ndarray_gives_an_int64_ndarray():
    out = rnnkit.sample(np.zeros((4, 5), np.float32), generator=0)
    assert type(out) is np.ndarray and out.shape == (4,) and out.dtype == np.int64


def test_manual_seed_makes_draws_repeatable():
    rnnkit.manual_seed(123)
    a = rnnkit.sample(np.tile(LOGITS, (100, 1)))
    rnnkit.manual_seed(123)
    b = rnnkit.sample(np.tile(LOGITS, (100, 1)))
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) > 1


@pytest.mark.parametrize("kwargs, match", [
    ({"temperature": -0.1}, "temperature"), ({"temperature": float("nan")}, "temperature"),
    ({"top_k": 0}, "top_k"), ({"top_k": 2.5}, "top_k"), ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.5}, "top_p")])
def test_bad_sampling_options_are_errors_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnnkit.sample(LOGITS, **kwargs)


def test_nan_logits_and_an_all_minus_inf_row_are_errors():
    with pytest.raises(ValueError, match="nan"):
        rnnkit.sample(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="row 1"):
        rnnkit.sample(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))


def test_logits_must_be_a_tensor_or_an_array():
    with pytest.raises(TypeError, match="logits"):
        rnnkit.sample([0.0, 1.0])


# -- multinomial ------------------------------------------------------------------------------
def test_multinomial_with_replacement_follows_the_normalised_weights():
    w = np.array([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]], dtype=np.float32)
    d = rnnkit.multinomial(w, N, replacement=True, generator=5)
    assert d.shape == (2, N) and d.dtype == np.int64
    for row, weights in zip(d, w):
        stat, critical = chi_square(row, weights / weights.sum())
        assert stat < critical


def test_multinomial_of_a_1d_tensor_gives_a_1d_int64_tensor():
    out = rnnkit.multinomial(rnnkit.tensor([0.2, 0.8]), 3, replacement=True, generator=0)
    assert isinstance(out, rnnkit.Tensor) and out.shape == (3,) and out.dtype == np.int64


def test_multinomial_without_replacement_draws_distinct_indices():
    w = np.random.default_rng(1).random((500, 12)) + 0.01
    d = rnnkit.multinomial(w, 12, generator=6)
    assert all(sorted(row) == list(range(12)) for row in d)


def test_multinomial_without_replacement_follows_successive_draws():
    # P(first = i) = p_i and P(second = j) = sum_i p_i p_j / (1 - p_i), i != j
    p = np.array([0.4, 0.3, 0.2, 0.1])
    d = rnnkit.multinomial(np.tile(p, (N, 1)), 2, generator=7)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j)
                       for j in range(4)])
    for column, probs in ((d[:, 0], p), (d[:, 1], second)):
        stat, critical = chi_square(column, probs)
        assert stat < critical


@pytest.mark.torch
def test_multinomial_without_replacement_includes_categories_as_often_as_torch():
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    w = np.array([5.0, 3.0, 1.0, 0.5, 0.5])
    torch.manual_seed(0)
    theirs = torch.multinomial(torch.tensor(w).expand(N, 5), 3).numpy()
    ours = rnnkit.multinomial(np.tile(w, (N, 1)), 3, generator=8)
    # two-sample chi-square on how often each category is among the three drawn
    a = np.array([(theirs == c).any(axis=1).sum() for c in range(5)])
    b = np.array([(ours == c).any(axis=1).sum() for c in range(5)])
    table = np.array([a, N - a, b, N - b]).reshape(2, 2, 5)
    for c in range(5):
        _, pvalue, _, _ = stats.chi2_contingency(table[:, :, c])
        assert pvalue > 1e-3


def test_multinomial_draws_with_replacement_are_repeatable_under_manual_seed():
    w = rnnkit.tensor([0.1, 0.2, 0.7])
    rnnkit.manual_seed(9)
    a = rnnkit.multinomial(w, 50, replacement=True)
    rnnkit.manual_seed(9)
    b = rnnkit.multinomial(w, 50, replacement=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


BAD_MULTINOMIAL = [
    ("negative weight", [1.0, -0.5], 1, False, "finite and >= 0"),
    ("inf weight", [1.0, np.inf], 1, False, "finite and >= 0"),
    ("nan weight", [np.nan, 1.0], 1, False, "finite and >= 0"),
    ("all-zero row", [[1.0, 1.0], [0.0, 0.0]], 1, True, "row 1"),
    ("too many without replacement", [1.0, 1.0], 3, False, "3 distinct samples from 2"),
    ("zero samples", [1.0, 1.0], 0, True, "num_samples=0"),
    ("3-d input", [[[1.0, 1.0]]], 1, True, "1-D"),
]


@pytest.mark.torch
@pytest.mark.parametrize("case, weights, k, replacement, match", BAD_MULTINOMIAL,
                         ids=[c[0] for c in BAD_MULTINOMIAL])
def test_multinomial_refuses_what_torch_refuses(case, weights, k, replacement, match):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), k, replacement)
    with pytest.raises(ValueError, match=match):
        rnnkit.multinomial(np.array(weights), k, replacement)


@pytest.mark.torch
def test_multinomial_refuses_integer_weights_as_torch_does():
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    with pytest.raises(RuntimeError, match="floating"):
        torch.multinomial(torch.tensor([1, 2]), 1)
    with pytest.raises(TypeError, match="floating-point"):
        rnnkit.multinomial(rnnkit.tensor([1, 2]), 1)


def test_multinomial_without_replacement_needs_enough_nonzero_weights():
    # torch documents this requirement (and returns zero-weight indices when broken)
    with pytest.raises(ValueError, match="2 non-zero weights"):
        rnnkit.multinomial(np.array([1.0, 0.0, 1.0]), 3)
