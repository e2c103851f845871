"""rnnkit.keras RepeatVector, Reshape and Permute equal Keras 3 (JAX back end): outputs,
symbolic output shapes (None and -1 included), gradients (jax.grad of Keras's layer),
what becomes of a mask (numbers of an LSTM after them, as in Keras), summaries, configs,
save/load round trips, and clear errors for bad arguments and inputs."""
import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from rnnkit.keras import layers as L
from rnnkit.keras.layer import get_mask
from summaries import summary_text

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
jax = pytest.importorskip("jax", reason="Keras runs on the JAX back end here")

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(3, 5)).astype("float32")          # (batch, features)
X3 = RNG.normal(size=(3, 4, 6)).astype("float32")       # (batch, time, features)
X4 = RNG.normal(size=(2, 3, 4, 5)).astype("float32")

# (class name, constructor arguments, input)
CASES = [
    ("RepeatVector", {"n": 3}, X2),
    ("RepeatVector", {"n": 1}, X2),
    ("Reshape", {"target_shape": (8, 3)}, X3),
    ("Reshape", {"target_shape": (-1, 2)}, X3),
    ("Reshape", {"target_shape": (2, -1, 3)}, X3),
    ("Reshape", {"target_shape": (24,)}, X3),
    ("Permute", {"dims": (2, 1)}, X3),
    ("Permute", {"dims": (3, 1, 2)}, X4),
    ("Permute", {"dims": (1, 2)}, X3),
]
IDS = [f"{name}-{list(kw.values())[0]}" for name, kw, _ in CASES]


@pytest.fixture(autouse=True)
def fresh_names():
    rk.backend.clear_session()


def pair(name, kw):
    return getattr(keras.layers, name)(**kw), getattr(L, name)(**kw)


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_output_equals_keras(name, kw, x):
    theirs, ours = pair(name, kw)
    out = ours(x)
    assert isinstance(out, rnnkit.Tensor)
    np.testing.assert_array_equal(out.numpy(), np.asarray(theirs(x)))


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_input_gradient_equals_jax_grad_of_keras(name, kw, x):
    theirs, ours = pair(name, kw)
    upstream = np.random.default_rng(1).normal(size=np.shape(theirs(x))).astype("float32")

    def loss(x_):
        out, _ = theirs.stateless_call([], [], x_)
        return jax.numpy.sum(out * upstream)

    expected = jax.grad(loss)(jax.numpy.asarray(x))
    xt = rnnkit.Tensor(x, requires_grad=True)
    (ours(xt) * upstream).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.asarray(expected), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,kw,shape", [
    ("RepeatVector", {"n": 4}, (7,)),
    ("RepeatVector", {"n": 4}, (None,)),
    ("Reshape", {"target_shape": (-1, 2)}, (12,)),
    ("Reshape", {"target_shape": (-1, 2)}, (None, 4)),
    ("Reshape", {"target_shape": (3, 4)}, (None,)),
    ("Reshape", {"target_shape": (2, 2, -1)}, (3, 4)),
    ("Permute", {"dims": (2, 1)}, (None, 8)),
    ("Permute", {"dims": (2, 3, 1)}, (5, None, 3)),
])
def test_symbolic_output_shape_equals_keras(name, kw, shape):
    theirs, ours = pair(name, kw)
    assert ours(rk.Input(shape=shape)).shape == theirs(keras.Input(shape=shape)).shape


# -- masks -----------------------------------------------------------------------------------
PADDED = np.array([[3, 5, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6], [9, 0, 0, 0, 0, 0]])


def masked_then(middle):
    """A builder: Embedding(mask_zero) -> middle -> LSTM, so the LSTM's numbers show
    whether the padding mask came through."""
    def build(K):
        return K.Sequential([K.Input(shape=(6,)), K.layers.Embedding(20, 4, mask_zero=True),
                             middle(K), K.layers.LSTM(3)])
    return build


@pytest.mark.parametrize("middle", [
    lambda K: K.layers.Reshape((12, 2)),           # regrouped steps: the mask is dropped
    lambda K: K.layers.Permute((2, 1)),            # (batch, 4, 6): dropped
    lambda K: K.layers.Reshape((6, 4)),            # the same shape: Keras keeps the mask
    lambda K: K.layers.Permute((1, 2)),            # the identity: Keras keeps the mask
], ids=["reshape_regroups", "permute_swaps", "reshape_same_shape", "permute_identity"])
def test_what_becomes_of_a_mask_equals_keras(middle):
    keras.backend.clear_session()
    theirs = masked_then(middle)(keras)
    rk.backend.clear_session()
    ours = masked_then(middle)(rk)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(PADDED, verbose=0),
                               theirs.predict(PADDED, verbose=0), atol=1e-6)


def test_repeat_vector_output_carries_no_mask():
    h = L.Dense(4)(L.GlobalAveragePooling1D()(L.Embedding(20, 4, mask_zero=True)(PADDED)))
    assert get_mask(L.RepeatVector(3)(h)) is None


def test_permute_moving_time_drops_the_mask_and_identity_keeps_it():
    h = L.Embedding(20, 4, mask_zero=True)(PADDED)
    assert get_mask(L.Permute((2, 1))(h)) is None
    np.testing.assert_array_equal(get_mask(L.Permute((1, 2))(h)), PADDED != 0)


# -- summary, config, saving ----------------------------------------------------------------
def reshaping_zoo(K):
    L_ = K.layers
    return K.Sequential([K.Input(shape=(12,)), L_.Dense(12), L_.Reshape((-1, 3)),
                         L_.Permute((2, 1)), L_.LSTM(5), L_.RepeatVector(4),
                         L_.GRU(2, return_sequences=True), L_.Reshape((8,))])


def test_summary_and_parameter_count_equal_keras():
    keras.backend.clear_session()
    theirs = reshaping_zoo(keras)
    rk.backend.clear_session()
    ours = reshaping_zoo(rk)
    assert summary_text(ours) == summary_text(theirs)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name,kw,x", CASES[::2], ids=IDS[::2])
def test_config_equals_keras(name, kw, x):
    theirs, ours = pair(name, kw)
    ref, mine = theirs.get_config(), ours.get_config()
    key = list(kw)[0]
    assert tuple(np.atleast_1d(mine[key])) == tuple(np.atleast_1d(ref[key]))
    assert getattr(L, name).from_config(mine).get_config() == mine


def test_save_and_load_round_trip(tmp_path):
    rk.backend.clear_session()
    model = reshaping_zoo(rk)
    path = str(tmp_path / "reshaping.rnnkit")
    model.save(path)
    again = rk.models.load_model(path)
    x = np.random.default_rng(2).normal(size=(3, 12)).astype("float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert summary_text(again) == summary_text(model)


# -- bad arguments and inputs ----------------------------------------------------------------
def test_bad_constructor_arguments_are_named():
    with pytest.raises(TypeError, match="RepeatVector: n must be an integer, got 2.0"):
        L.RepeatVector(2.0)
    with pytest.raises(ValueError, match="RepeatVector: n must be a positive integer, got 0"):
        L.RepeatVector(0)
    with pytest.raises(ValueError, match=r"at most one -1, got \(-1, 2, -1\)"):
        L.Reshape((-1, 2, -1))
    with pytest.raises(ValueError, match=r"non-negative integer, or -1 .* got \(-2, 3\)"):
        L.Reshape((-2, 3))
    with pytest.raises(TypeError, match="target_shape must be a tuple of integers"):
        L.Reshape((2.5, 2))
    with pytest.raises(ValueError, match=r"dims must be a permutation of 1..2 .* got \(0, 1\)"):
        L.Permute((0, 1))


def test_inputs_of_the_wrong_rank_or_size_are_named():
    with pytest.raises(ValueError, match=r"repeat_vector: expected input of shape "
                                         r"\(batch, features\) \(2 dimensions\), got shape "
                                         r"\(3, 4, 6\)"):
        L.RepeatVector(2)(X3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape samples of shape \(4, 6\) "
                                         r"\(24 values\) into target_shape \(5, 5\)"):
        L.Reshape((5, 5))(X3)
    with pytest.raises(ValueError, match="24 is not a multiple of 5"):
        L.Reshape((-1, 5))(X3)
    with pytest.raises(ValueError, match=r"permute: expected input of shape "
                                         r"\(batch, d1, d2, d3\)"):
        L.Permute((1, 3, 2))(X3)
    with pytest.raises(ValueError, match="cannot reshape samples of shape"):
        L.Reshape((5, 5))(rk.Input(shape=(4, 6)))
