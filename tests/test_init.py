"""rnnkit.init: fans and gains equal PyTorch's / Keras's, every initializer has the stated
distribution (moments and bounds of a large draw), seeding repeats draws, in-place fills
behave like torch.nn.init, and bad arguments raise errors that name them."""
import math

import numpy as np
import pytest

import rnnkit
from rnnkit import init
from rnnkit.nn import Parameter

N = (400, 500)  # 200 000 draws: sample std within ~0.3% of the true value


def truncated_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) conditioned on [a, b] (closed form)."""
    lo, hi = (a - mean) / std, (b - mean) / std
    pdf = lambda x: 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
    z = cdf(hi) - cdf(lo)
    m = (pdf(lo) - pdf(hi)) / z
    tail = lambda x: 0.0 if math.isinf(x) else x * pdf(x)
    var = 1 + (tail(lo) - tail(hi)) / z - m * m
    return mean + std * m, std * math.sqrt(var)


# -- fans and gains ------------------------------------------------------------------------
SHAPES = [(3, 4), (5, 2, 3), (6, 4, 3, 2), (1, 1), (7, 3, 1)]


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES)
def test_fans_torch_equal_torch_calculate_fan_in_and_fan_out(shape):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fans_torch(shape) == expected
    assert init.fans(shape, "torch") == expected


@pytest.mark.keras
@pytest.mark.parametrize("shape", SHAPES + [(7,), ()])
def test_fans_keras_equal_keras_compute_fans(shape):
    pytest.importorskip("keras", reason="the Keras oracle is not installed")
    from keras.src.initializers.random_initializers import compute_fans
    assert init.fans_keras(shape) == compute_fans(shape)
    assert init.fans(shape, "keras") == compute_fans(shape)


def test_fans_of_a_dense_weight_swap_between_the_conventions():
    assert init.fans_torch((10, 3)) == (3, 10)      # (out, in)
    assert init.fans_keras((10, 3)) == (10, 3)      # (in, out)


def test_fans_keras_treat_a_vector_as_square_and_a_scalar_as_one():
    assert init.fans_keras((7,)) == (7, 7)
    assert init.fans_keras(()) == (1, 1)


def test_fans_torch_need_two_dimensions():
    with pytest.raises(ValueError, match="shape"):
        init.fans_torch((5,))


def test_fans_reject_an_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        init.fans((3, 4), "jax")


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("selu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", 0)])
def test_calculate_gain_equals_torch(nonlinearity, param):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown_nonlinearities_and_non_numeric_slopes():
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", True)


# -- basic distributions ---------------------------------------------------------------------
def test_uniform_lies_in_its_interval_with_the_uniform_moments():
    x = init.uniform(N, -1.0, 3.0, generator=0)
    assert x.shape == N and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 3.0
    assert x.mean() == pytest.approx(1.0, abs=0.01)
    assert x.std() == pytest.approx(4 / math.sqrt(12), rel=0.01)


def test_normal_has_the_requested_mean_and_std():
    x = init.normal(N, 0.5, 2.0, generator=0)
    assert x.mean() == pytest.approx(0.5, abs=0.015)
    assert x.std() == pytest.approx(2.0, rel=0.01)


# Each interval exercises one proposal of the rejection sampler: the normal itself, a
# uniform on a narrow interval (around 0 or off it), an exponential for a tail (right,
# left by mirroring, one-sided to infinity).
@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 1.0, -0.3, 0.4),
    (0.0, 1.0, 0.1, 0.2), (1.0, 0.5, 2.5, 4.0), (0.0, 1.0, -8.0, -5.0),
    (0.0, 1.0, 3.0, math.inf), (0.0, 1.0, -math.inf, math.inf)])
def test_truncated_normal_has_the_truncated_moments_and_respects_the_bounds(mean, std, a, b):
    x = init.truncated_normal(N, mean, std, a, b, dtype=np.float64, generator=0)
    assert x.min() >= a and x.max() <= b
    m, s = truncated_moments(mean, std, a, b)
    assert x.mean() == pytest.approx(m, abs=0.01 * s)
    assert x.std() == pytest.approx(s, rel=0.01)


def test_truncated_normal_bounds_are_absolute_like_torch():
    x = init.truncated_normal(N, mean=0.0, std=5.0, generator=0)      # a=-2, b=2 absolute
    assert x.min() >= -2 and x.max() <= 2
    assert x.std() > 1.1                                               # nearly uniform on it


def test_truncated_normal_keras_cuts_at_two_stddev():
    x = init.truncated_normal_keras(N, mean=1.0, stddev=0.5, generator=0)
    assert x.min() >= 0.0 and x.max() <= 2.0
    assert x.std() == pytest.approx(0.5 * 0.87962566103423978, rel=0.01)


def test_zeros_ones_constant_and_eye_fill_as_named():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(init.ones(4), np.ones(4, np.float32))
    np.testing.assert_array_equal(init.constant((2, 2), 0.25), np.full((2, 2), 0.25))
    np.testing.assert_array_equal(init.eye((2, 3), gain=2.0), [[2, 0, 0], [0, 2, 0]])
    assert init.identity is init.eye


def test_eye_needs_a_two_dimensional_shape():
    with pytest.raises(ValueError, match="shape"):
        init.eye((2, 2, 2))


# -- variance scaling ------------------------------------------------------------------------
# Weight (out=200, in=1000) under PyTorch's layout; kernel (in=200, out=1000) under Keras's.
W = (200, 1000)


def uniform_limit(var):
    return math.sqrt(3 * var)


@pytest.mark.parametrize("fn,kwargs,var", [
    (init.xavier_uniform, {}, 2 / 1200),
    (init.xavier_uniform, {"gain": 5 / 3}, (5 / 3) ** 2 * 2 / 1200),
    (init.glorot_uniform, {}, 2 / 1200),
    (init.kaiming_uniform, {}, 2 / (1 + 0.0) / 1000),                 # torch fan_in = 1000
    (init.kaiming_uniform, {"a": 0.2, "mode": "fan_out"}, 2 / 1.04 / 200),
    (init.kaiming_uniform, {"nonlinearity": "tanh"}, (5 / 3) ** 2 / 1000),
    (init.kaiming_uniform, {"layout": "keras"}, 2 / 200),
    (init.he_uniform, {}, 2 / 200),                                   # keras fan_in = 200
    (init.lecun_uniform, {}, 1 / 200),
])
def test_uniform_variance_scaling_fills_the_symmetric_interval_of_the_variance(fn, kwargs, var):
    x = fn(W, generator=0, **kwargs)
    limit = uniform_limit(var)
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.999 * limit
    assert x.std() == pytest.approx(math.sqrt(var), rel=0.01)


@pytest.mark.parametrize("fn,kwargs,var", [
    (init.xavier_normal, {}, 2 / 1200),
    (init.kaiming_normal, {"mode": "fan_out", "nonlinearity": "relu"}, 2 / 200),
    (init.kaiming_normal, {}, 2 / 1000),
])
def test_torch_normal_initializers_draw_an_untruncated_normal(fn, kwargs, var):
    x = fn(W, generator=0, **kwargs)
    assert x.std() == pytest.approx(math.sqrt(var), rel=0.01)
    assert np.abs(x).max() > 3.5 * math.sqrt(var)                     # tails are kept


@pytest.mark.parametrize("fn,var", [
    (init.glorot_normal, 2 / 1200), (init.he_normal, 2 / 200), (init.lecun_normal, 1 / 200)])
def test_keras_normal_initializers_draw_a_truncated_normal_of_the_variance(fn, var):
    x = fn(W, generator=0)
    assert x.std() == pytest.approx(math.sqrt(var), rel=0.01)
    assert np.abs(x).max() <= 2 * math.sqrt(var) / 0.87962566103423978


def test_convolution_shaped_weights_use_the_receptive_field():
    x = init.xavier_uniform((64, 32, 5), generator=0)                 # fans 160, 320
    assert np.abs(x).max() <= math.sqrt(6 / 480)
    assert x.std() == pytest.approx(math.sqrt(2 / 480), rel=0.02)


@pytest.mark.torch
@pytest.mark.parametrize("name,args", [
    ("xavier_uniform", ()), ("xavier_normal", (1.5,)), ("kaiming_uniform", ()),
    ("kaiming_normal", (0.1, "fan_out", "leaky_relu")),
    ("kaiming_uniform", (0, "fan_in", "relu"))])
@pytest.mark.parametrize("shape", [(150, 800), (40, 30, 7)])
def test_torch_style_initializers_match_torch_nn_init_in_distribution(name, args, shape):
    torch = pytest.importorskip("torch", reason="the PyTorch oracle is not installed")
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, name + "_")(torch.empty(shape, dtype=torch.float64),
                                                *args).numpy()
    ours = getattr(init, name)(shape, *args, dtype=np.float64, generator=0)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    if name.endswith("uniform"):
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)


@pytest.mark.keras
@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform",
                                  "he_normal", "lecun_uniform", "lecun_normal"])
@pytest.mark.parametrize("shape", [(150, 800), (3, 40, 60)])
def test_keras_style_initializers_match_keras_in_distribution(name, shape):
    keras = pytest.importorskip("keras", reason="the Keras oracle is not installed")
    theirs = np.asarray(keras.initializers.get({"class_name": name,
                                                "config": {"seed": 1}})(shape))
    ours = getattr(init, name)(shape, generator=0)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.02)


# -- orthogonal --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    q = init.orthogonal(shape, dtype=np.float64, generator=0)
    small = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_scales_by_gain():
    q = init.orthogonal((5, 5), gain=3.0, dtype=np.float64, generator=0)
    np.testing.assert_allclose(q.T @ q, 9 * np.eye(5), atol=1e-12)


def test_orthogonal_flattens_trailing_dims_like_torch_and_leading_dims_like_keras():
    q = init.orthogonal((4, 3, 5), dtype=np.float64, generator=0)          # rows: 4 x 15
    np.testing.assert_allclose(q.reshape(4, -1) @ q.reshape(4, -1).T, np.eye(4), atol=1e-12)
    k = init.orthogonal((3, 5, 4), layout="keras", dtype=np.float64, generator=0)  # 15 x 4
    np.testing.assert_allclose(k.reshape(-1, 4).T @ k.reshape(-1, 4), np.eye(4), atol=1e-12)


def test_orthogonal_is_haar_distributed_thanks_to_the_sign_correction():
    # Without fixing signs by diag(R), Householder QR makes q[0, 0] always negative.
    first = [init.orthogonal((3, 3), dtype=np.float64, generator=s)[0, 0] for s in range(2000)]
    assert abs(np.mean(first)) < 0.05
    assert np.mean(np.square(first)) == pytest.approx(1 / 3, rel=0.1)


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match="shape"):
        init.orthogonal((5,))
    with pytest.raises(ValueError, match="shape"):
        init.orthogonal_(rnnkit.tensor(np.zeros(5)))


# -- dtype and seeding -----------------------------------------------------------------------
def test_draws_are_float32_by_default_and_honour_dtype():
    assert init.xavier_uniform((3, 4)).dtype == np.float32
    assert init.orthogonal((3, 4), dtype=np.float64).dtype == np.float64
    assert init.truncated_normal((3,), dtype="float16").dtype == np.float16


def test_random_initializers_refuse_integer_dtypes():
    with pytest.raises(ValueError, match="dtype"):
        init.normal((3,), dtype=np.int64)


def test_manual_seed_repeats_the_draws():
    rnnkit.manual_seed(7)
    first = init.kaiming_uniform((5, 4)), init.truncated_normal((6,)), init.orthogonal((3, 3))
    rnnkit.manual_seed(7)
    second = init.kaiming_uniform((5, 4)), init.truncated_normal((6,)), init.orthogonal((3, 3))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_a_generator_or_int_seed_repeats_the_draws_without_touching_the_global_stream():
    rnnkit.manual_seed(1)
    expected = init.normal((4,))
    rnnkit.manual_seed(1)
    a = init.normal((4,), generator=np.random.default_rng(3))
    b = init.normal((4,), generator=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(init.normal((4,)), expected)
    assert not np.array_equal(init.normal((4,), generator=4), b)


# -- in place on tensors ---------------------------------------------------------------------
IN_PLACE = [
    ("uniform_", "uniform", (-0.5, 0.5)), ("normal_", "normal", (0.1, 2.0)),
    ("trunc_normal_", "truncated_normal", (0.0, 1.0, -1.0, 1.5)),
    ("xavier_uniform_", "xavier_uniform", (1.2,)), ("xavier_normal_", "xavier_normal", ()),
    ("kaiming_uniform_", "kaiming_uniform", (0.1, "fan_out")),
    ("kaiming_normal_", "kaiming_normal", (0, "fan_in", "relu")),
    ("orthogonal_", "orthogonal", (0.5,))]


@pytest.mark.parametrize("inplace,array_fn,args", IN_PLACE)
def test_in_place_fill_equals_the_array_draw_and_returns_the_same_tensor(inplace, array_fn,
                                                                         args):
    t = rnnkit.tensor(np.zeros((6, 5)), requires_grad=True)       # float64 leaf
    buffer = t.data
    rnnkit.manual_seed(11)
    out = getattr(init, inplace)(t, *args)
    rnnkit.manual_seed(11)
    expected = getattr(init, array_fn)((6, 5), *args, dtype=np.float64)
    assert out is t and t.data is buffer
    assert t.dtype == np.float64 and t.requires_grad and t.grad_fn is None
    np.testing.assert_array_equal(t.data, expected)


def test_in_place_fills_take_a_generator():
    a = init.kaiming_uniform_(rnnkit.tensor(np.zeros((4, 3))), generator=5)
    b = init.kaiming_uniform_(rnnkit.tensor(np.zeros((4, 3))), generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)


def test_constant_fills_work_in_place_on_parameters():
    p = Parameter(np.full((2, 3), 7.0, dtype=np.float32))
    assert init.zeros_(p) is p and not p.data.any()
    assert init.ones_(p).data.sum() == 6
    np.testing.assert_array_equal(init.constant_(p, -2.5).data, np.full((2, 3), -2.5))
    np.testing.assert_array_equal(init.eye_(p).data, np.eye(2, 3))
    assert p.dtype == np.float32


def test_in_place_fills_reject_non_tensors_and_integer_tensors():
    with pytest.raises(TypeError, match="tensor"):
        init.normal_(np.zeros(3))
    with pytest.raises(ValueError, match="tensor"):
        init.uniform_(rnnkit.tensor([1, 2, 3]))


# -- argument errors name the argument -------------------------------------------------------
@pytest.mark.parametrize("call,name", [
    (lambda: init.uniform((3,), 2.0, 1.0), "a"),
    (lambda: init.normal((3,), std=-1.0), "std"),
    (lambda: init.truncated_normal((3,), a=1.0, b=1.0), "a"),
    (lambda: init.truncated_normal((3,), std=0.0), "std"),
    (lambda: init.variance_scaling((3, 4), scale=0.0), "scale"),
    (lambda: init.variance_scaling((3, 4), mode="fan_max"), "mode"),
    (lambda: init.variance_scaling((3, 4), distribution="normal"), "distribution"),
    (lambda: init.kaiming_uniform((3, 4), mode="fan_avg"), "mode"),
    (lambda: init.xavier_uniform((3, 4), layout="tf"), "layout"),
    (lambda: init.xavier_uniform((3, -4)), "shape"),
    (lambda: init.xavier_uniform((3, 4), gain=math.nan), "gain"),
    (lambda: init.ones("3x4"), "shape"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b|\b{name}:"):
        call()


def test_zero_element_shapes_give_empty_arrays():
    assert init.kaiming_uniform((0, 4)).shape == (0, 4)
    assert init.orthogonal((0, 3)).shape == (0, 3)
