"""rnnkit's creation functions (tensor, zeros, full, arange, linspace, rand, randint...)
checked against real PyTorch 2.13: values, dtypes, shapes and errors; the random ones by
shape, dtype, range, repeatability under ``manual_seed`` and their distribution (the
streams are NumPy's, so the draws themselves differ from PyTorch's)."""
import numpy as np
import pytest

import rnnkit

from torch_pair import assert_same, to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def both(fn):
    return fn(rnnkit), fn(torch)


# -- from data --------------------------------------------------------------------------
@pytest.mark.parametrize("data", [[1, 2], [1.5, 2], 3, 2.5, True, [[True, False]],
                                  np.array([1, 2], np.int32), np.array([1.0, 2.0])], ids=repr)
@pytest.mark.parametrize("fn", ["tensor", "as_tensor"])
def test_tensor_and_as_tensor_infer_dtypes_as_torch(fn, data):
    assert_same(*both(lambda t: getattr(t, fn)(data)))


@pytest.mark.parametrize("fn", ["tensor", "as_tensor"])
def test_tensor_and_as_tensor_take_dtype_and_device(fn):
    assert_same(*both(lambda t: getattr(t, fn)([1, 2], dtype=t.float64, device="cpu")))


def test_tensor_copies_and_as_tensor_shares_an_ndarray_as_torch_does():
    for fn in ("tensor", "as_tensor", "from_numpy"):
        a = np.arange(3.0)
        ours, theirs = (getattr(t, fn)(a) for t in (rnnkit, torch))
        a[0] = 7.0
        assert_same(ours, theirs)


def test_as_tensor_returns_a_tensor_of_that_dtype_itself():
    x, y = rnnkit.tensor([1.0]), torch.tensor([1.0])
    assert (rnnkit.as_tensor(x) is x) == (torch.as_tensor(y) is y) is True


def test_as_tensor_to_another_float_dtype_stays_differentiable():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    (rnnkit.as_tensor(x, dtype=rnnkit.float64) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int16, np.uint8, np.bool_])
def test_from_numpy_keeps_the_dtype_and_shares_memory_both_ways(dtype):
    a = np.zeros(3, dtype)
    ours, theirs = rnnkit.from_numpy(a), torch.from_numpy(a)
    ours[1] = 1
    assert a[1] == 1
    assert_same(ours, theirs)


@pytest.mark.parametrize("arg", [[1, 2], np.array(["a"])], ids=["list", "strings"])
def test_from_numpy_refuses_what_torch_refuses(arg):
    with pytest.raises(TypeError):
        torch.from_numpy(arg)
    with pytest.raises(TypeError, match="from_numpy"):
        rnnkit.from_numpy(arg)


# -- filled -----------------------------------------------------------------------------
FILLED = {
    "zeros_varargs": lambda t: t.zeros(2, 3),
    "zeros_tuple": lambda t: t.zeros((2, 3)),
    "zeros_list_long": lambda t: t.zeros([2, 3], dtype=t.long),
    "zeros_size_keyword": lambda t: t.zeros(size=(4,)),
    "zeros_scalar_shape": lambda t: t.zeros(()),
    "ones": lambda t: t.ones(3, 1, dtype=t.float64),
    "ones_bool": lambda t: t.ones(2, dtype=t.bool),
    "full_int": lambda t: t.full((2,), 3),
    "full_float": lambda t: t.full((2, 2), 3.5),
    "full_bool": lambda t: t.full((2,), True),
    "full_dtype": lambda t: t.full((2,), 3, dtype=t.float64),
    "zeros_like_int": lambda t: t.zeros_like(t.tensor([1, 2])),
    "ones_like_dtype": lambda t: t.ones_like(t.tensor([1, 2]), dtype=t.float32),
    "full_like_truncates": lambda t: t.full_like(t.tensor([1, 2]), 2.7),
    "full_like_float": lambda t: t.full_like(t.tensor([[1.0], [2.0]]), -1.5),
}


@pytest.mark.parametrize("case", FILLED)
def test_filled_tensors_match_torch(case):
    assert_same(*both(FILLED[case]))


@pytest.mark.parametrize("fn", ["empty", "empty_like"])
def test_empty_gives_torchs_shape_and_dtype_filled_with_zeros(fn):
    arg = (lambda t: t.ones(2, 3, dtype=t.int32)) if fn == "empty_like" else (lambda t: 2)
    ours, theirs = (getattr(t, fn)(arg(t), 3) if fn == "empty" else getattr(t, fn)(arg(t))
                    for t in (rnnkit, torch))
    assert ours.shape == tuple(theirs.shape) and ours.dtype == to_numpy(theirs).dtype
    assert not ours.data.any()


def test_requires_grad_makes_a_leaf():
    x = rnnkit.zeros(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf


@pytest.mark.parametrize("call, error", [
    (lambda t: t.zeros(-1), ValueError), (lambda t: t.zeros(2.5), TypeError),
    (lambda t: t.zeros(), TypeError), (lambda t: t.full(2, 3), TypeError),
    (lambda t: t.ones(2, dtype=t.long, requires_grad=True), TypeError),
    (lambda t: t.zeros(2, device="cuda"), RuntimeError),
    (lambda t: t.zeros_like([1, 2]), TypeError),
], ids=["negative", "float_size", "no_size", "full_int_size", "int_requires_grad",
        "other_device", "like_a_list"])
def test_bad_creation_arguments_are_refused_as_in_torch(call, error):
    with pytest.raises(Exception):
        call(torch)
    with pytest.raises(error):
        call(rnnkit)


# -- ranges -------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(5,), (1, 4), (5, 0, -1), (0, 100, 3), (-7, 8, 4),
                                  (np.int64(3),), (0.5, 4.7, 1.5)], ids=str)
def test_arange_of_ints_matches_torch_exactly(args):
    dtype = {"dtype": "long"} if isinstance(args[0], float) else {}
    assert_same(*both(lambda t: t.arange(*args, **{k: getattr(t, v)
                                                   for k, v in dtype.items()})))


@pytest.mark.parametrize("args", [(0.0, 1, 0.1), (-1.0, 1.0, 0.3), (0, 1, 0.25), (2.5,),
                                  (-3.3, 17.9, 0.123), (10.0, 0.0, -0.7)], ids=str)
def test_arange_of_floats_is_float32_and_matches_torch(args):
    # torch's vectorised kernel rounds some elements in float32 chunks: a few ulps
    assert_same(*both(lambda t: t.arange(*args)), exact=False, rtol=0, atol=4e-6)


def test_arange_with_a_dtype_and_a_tensor_bound_matches_torch():
    assert_same(*both(lambda t: t.arange(t.tensor(4), dtype=t.float64)))


@pytest.mark.parametrize("args", [(0, 5, 0), (5, 0), (0, float("inf")), ("a",)], ids=str)
def test_arange_refuses_what_torch_refuses(args):
    with pytest.raises(Exception):
        torch.arange(*args)
    with pytest.raises((ValueError, TypeError), match="arange"):
        rnnkit.arange(*args)


@pytest.mark.parametrize("args", [(0, 1, 5), (0, 1, 1), (0, 1, 0), (-2.5, 7.3, 50),
                                  (3, -1.7, 33), (0.1, 0.7, 1000)], ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "long"])
def test_linspace_matches_torch(args, dtype):
    kw = lambda t: {} if dtype is None else {"dtype": getattr(t, dtype)}  # noqa: E731
    ours, theirs = both(lambda t: t.linspace(*args, **kw(t)))
    eps = np.finfo(np.float32 if dtype is None else np.float64).eps
    # torch's vectorised kernel rounds in chunks: equal within a few ulps of the ends
    atol = 0 if dtype == "long" else 4 * eps * max(abs(args[0]), abs(args[1]))
    assert_same(ours, theirs, exact=False, rtol=0, atol=atol)


@pytest.mark.parametrize("args", [(0, 1, -1), (0, 1), (0, 1, 2.5)], ids=str)
def test_linspace_refuses_what_torch_refuses(args):
    with pytest.raises(Exception):
        torch.linspace(*args)
    with pytest.raises((ValueError, TypeError)):
        rnnkit.linspace(*args)


# -- random: shapes, dtypes, ranges ---------------------------------------------------------
RANDOM = {
    "rand": lambda t: t.rand(2, 3),
    "rand_tuple_float64": lambda t: t.rand((4,), dtype=t.float64),
    "rand_half": lambda t: t.rand(5, dtype=t.half),
    "randn": lambda t: t.randn(3, 2),
    "randn_float64": lambda t: t.randn(size=(2,), dtype=t.float64),
    "randint_high": lambda t: t.randint(10, (3, 2)),
    "randint_low_high": lambda t: t.randint(-3, 4, (50,)),
    "randint_keywords": lambda t: t.randint(low=2, high=4, size=(5,)),
    "randint_float_dtype": lambda t: t.randint(0, 10, (2,), dtype=t.float32),
    "randint_bool": lambda t: t.randint(0, 2, (6,), dtype=t.bool),
    "randperm": lambda t: t.randperm(7),
    "randperm_empty": lambda t: t.randperm(0),
    "randperm_float": lambda t: t.randperm(4, dtype=t.float32),
    "rand_like": lambda t: t.rand_like(t.zeros(2, dtype=t.float64)),
    "randn_like": lambda t: t.randn_like(t.zeros(3, 1)),
}


@pytest.mark.parametrize("case", RANDOM)
def test_random_tensors_have_torchs_shape_dtype_and_range(case):
    ours, theirs = both(RANDOM[case])
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape and a.dtype == b.dtype
    if case.startswith("rand_") or case == "rand":
        assert ((a >= 0) & (a < 1)).all()
    if case.startswith("randint_low"):
        assert a.min() >= -3 and a.max() < 4
    if case.startswith("randperm"):
        np.testing.assert_array_equal(np.sort(a), np.arange(a.size))


@pytest.mark.parametrize("call", [
    lambda t: t.randint(5, 5, (2,)), lambda t: t.randint(10, 3),
    lambda t: t.randint(0, 10, (2,), dtype=t.bool), lambda t: t.randperm(-1),
    lambda t: t.randn(2, dtype=t.long), lambda t: t.rand(2, dtype=t.int32)],
    ids=["empty_range", "int_size", "bool_out_of_range", "negative_n", "randn_long",
         "rand_int"])
def test_bad_random_arguments_are_refused_as_in_torch(call):
    with pytest.raises(Exception):
        call(torch)
    with pytest.raises((ValueError, TypeError)):
        call(rnnkit)


@pytest.mark.parametrize("case", RANDOM)
def test_manual_seed_makes_random_tensors_repeatable(case):
    rnnkit.manual_seed(123)
    first = to_numpy(RANDOM[case](rnnkit)).copy()
    second = to_numpy(RANDOM[case](rnnkit))
    rnnkit.manual_seed(123)
    again = to_numpy(RANDOM[case](rnnkit))
    np.testing.assert_array_equal(first, again)
    if first.size > 4 and case != "randint_bool":
        assert not np.array_equal(first, second)


def test_a_generator_argument_draws_independently_of_the_global_one():
    a = rnnkit.randn(5, generator=np.random.default_rng(3))
    b = rnnkit.randn(5, generator=3)
    np.testing.assert_array_equal(a.data, b.data)


# -- random: distributions --------------------------------------------------------------------
N = 200_000


def test_rand_is_uniform_on_0_1():
    x = rnnkit.rand(N, generator=11).data.astype(np.float64)
    # mean 1/2 and variance 1/12, each within 6 standard errors
    assert abs(x.mean() - 0.5) < 6 * np.sqrt(1 / 12 / N)
    assert abs(x.var() - 1 / 12) < 6 * np.sqrt(1 / 180 / N)
    counts = np.histogram(x, bins=10, range=(0, 1))[0]
    assert _chi_square(counts, N / 10) < 27.88   # chi2, 9 dof, p = 0.001


def test_randn_is_standard_normal():
    x = rnnkit.randn(N, generator=12).data.astype(np.float64)
    assert abs(x.mean()) < 6 / np.sqrt(N)
    assert abs(x.var() - 1) < 6 * np.sqrt(2 / N)
    # third and fourth moments 0 and 3 (their variances are 15/N and 96/N)
    assert abs((x ** 3).mean()) < 6 * np.sqrt(15 / N)
    assert abs((x ** 4).mean() - 3) < 6 * np.sqrt(96 / N)


def test_randint_is_uniform_over_its_range():
    x = rnnkit.randint(-2, 8, (N,), generator=13).data
    assert x.min() == -2 and x.max() == 7
    assert _chi_square(np.bincount(x + 2, minlength=10), N / 10) < 27.88


def test_randperm_puts_every_value_everywhere_equally_often():
    first = np.array([rnnkit.randperm(5, generator=np.random.default_rng(s)).data[0]
                      for s in range(5000)])
    assert _chi_square(np.bincount(first, minlength=5), 1000) < 18.47   # 4 dof, p = .001


def _chi_square(counts, expected):
    return float(((counts - expected) ** 2 / expected).sum())
