"""The Keras-flavoured losses equal keras.losses (Keras 3 on JAX): per-sample value and gradient.

The gradient of Keras's loss comes from jax.grad through keras.losses itself, with the
same random upstream gradient as ours. float32 agrees to 1e-5; float64 (JAX in x64 mode)
to 1e-10.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for these losses")
jax = pytest.importorskip("jax", reason="Keras runs on the JAX backend here")

import rnnkit  # noqa: E402
from rnnkit import functional as F  # noqa: E402

pytestmark = [pytest.mark.keras, pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the oracle needs KERAS_BACKEND=jax")]

TOL = {np.float32: 1e-5, np.float64: 1e-10}

rng = np.random.default_rng(11)
B, C = 4, 3
LOGITS = rng.normal(scale=2.0, size=(B, C))
PROBS = rng.dirichlet(np.ones(C), size=B)
UNNORMALISED = rng.uniform(0.1, 2.0, size=(B, C))  # Keras renormalises these
ONE_HOT = np.eye(C)[[2, 0, 1, 1]]
SOFT = rng.dirichlet(np.ones(C), size=B)
LABELS = np.array([2, 0, 1, 1])
SEQ_LOGITS = rng.normal(size=(2, 5, C))  # (batch, time, classes)
SEQ_LABELS = np.array([[0, 2, 1, -1, -1], [1, 1, -1, 0, -1]])
BIN_TRUE = rng.integers(0, 2, size=(B, 5)).astype(float)
BIN_PROBS = rng.uniform(0.01, 0.99, size=(B, 5))


def keras_binary_crossentropy_float64(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                                      axis=-1):
    """keras.losses.binary_crossentropy with its final mean taken in float64.

    Keras 3.15's ops.mean computes in dtypes.result_type(x.dtype, "float32"), which is
    float32 even for float64 input, so its float64 gradient is only float32-accurate. This
    is the same loss (smoothing, element-wise ops.binary_crossentropy, mean over axis)
    with a float64 mean.
    """
    y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jax.numpy.mean(keras.ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits),
                          axis=axis)


def keras_value_and_grad(name, y_true, y_pred, up, **kwargs):
    """Keras's per-sample loss and d(sum(loss * up))/dy_pred, jitted into one program."""
    keras_fn = getattr(keras.losses, name)
    if name == "binary_crossentropy" and y_pred.dtype == np.float64:
        keras_fn = keras_binary_crossentropy_float64

    def weighted(p):
        loss = keras_fn(y_true, p, **kwargs)
        return (loss * up).sum(), loss

    (_, loss), grad = jax.jit(jax.value_and_grad(weighted, has_aux=True))(y_pred)
    return np.asarray(loss), np.asarray(grad)


def compare(name, y_true, y_pred, dtype, **kwargs):
    """Assert rnnkit's F.<name> equals keras.losses.<name>, value and y_pred gradient."""
    y_pred = y_pred.astype(dtype)
    with jax.enable_x64(dtype == np.float64):
        shape = jax.eval_shape(lambda p: getattr(keras.losses, name)(y_true, p, **kwargs),
                               y_pred).shape
        up = np.random.default_rng(0).normal(size=shape).astype(dtype)
        ref, ref_grad = keras_value_and_grad(name, y_true, y_pred, up, **kwargs)
    assert ref.dtype == dtype, "the oracle did not run in the requested precision"

    p = rnnkit.tensor(y_pred, requires_grad=True)
    ours = getattr(F, name)(y_true, p, **kwargs)
    ours.backward(up)
    assert ours.dtype == dtype and p.grad.dtype == dtype
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.data, ref, rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(p.grad.data, ref_grad, rtol=0, atol=TOL[dtype])


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.mark.parametrize("y_true", [ONE_HOT, SOFT], ids=["one_hot", "soft"])
@pytest.mark.parametrize("y_pred", [PROBS, UNNORMALISED], ids=["normalised", "unnormalised"])
def test_categorical_crossentropy_on_probabilities(dtype, y_true, y_pred):
    compare("categorical_crossentropy", y_true, y_pred, dtype)


def test_categorical_crossentropy_from_logits(dtype):
    compare("categorical_crossentropy", SOFT, LOGITS, dtype, from_logits=True)


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_with_label_smoothing(dtype, from_logits):
    compare("categorical_crossentropy", ONE_HOT, LOGITS if from_logits else PROBS, dtype,
            from_logits=from_logits, label_smoothing=0.2)


def test_categorical_crossentropy_along_the_first_axis(dtype):
    compare("categorical_crossentropy", ONE_HOT.T, UNNORMALISED.T, dtype, axis=0)


def test_categorical_crossentropy_clips_tiny_and_certain_probabilities(dtype):
    y_pred = np.array([[1.0, 0.0, 0.0], [1e-9, 0.5, 0.5], [0.2, 0.3, 0.5]])
    compare("categorical_crossentropy", np.eye(3), y_pred, dtype)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(dtype, from_logits):
    compare("sparse_categorical_crossentropy", LABELS, LOGITS if from_logits else PROBS, dtype,
            from_logits=from_logits)


def test_sparse_categorical_crossentropy_with_a_trailing_label_dimension(dtype):
    compare("sparse_categorical_crossentropy", LABELS[:, None], UNNORMALISED, dtype)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_ignores_a_class_over_a_sequence(dtype, from_logits):
    y_pred = SEQ_LOGITS if from_logits else np.exp(SEQ_LOGITS)
    compare("sparse_categorical_crossentropy", SEQ_LABELS, y_pred, dtype,
            from_logits=from_logits, ignore_class=-1)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_averages_over_the_last_axis(dtype, from_logits):
    compare("binary_crossentropy", BIN_TRUE, LOGITS.repeat(2, 1)[:, :5] * 3 if from_logits
            else BIN_PROBS, dtype, from_logits=from_logits)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_with_label_smoothing(dtype, from_logits):
    compare("binary_crossentropy", BIN_TRUE, BIN_PROBS * 4 - 2 if from_logits else BIN_PROBS,
            dtype, from_logits=from_logits, label_smoothing=0.3)


def test_binary_crossentropy_of_a_vector_is_one_number(dtype):
    compare("binary_crossentropy", BIN_TRUE[0], BIN_PROBS[0], dtype)


def test_binary_crossentropy_along_the_first_axis(dtype):
    compare("binary_crossentropy", BIN_TRUE, BIN_PROBS, dtype, axis=0)


def test_binary_crossentropy_clips_certain_probabilities(dtype):
    compare("binary_crossentropy", np.array([[1.0, 0.0, 1.0, 0.0]]),
            np.array([[0.0, 1.0, 1.0, 1e-9]]), dtype)


def test_binary_crossentropy_at_huge_logits(dtype):
    compare("binary_crossentropy", np.array([[1.0, 0.0, 1.0, 0.0]]),
            np.array([[-1000.0, 1000.0, 1000.0, -1000.0]]), dtype, from_logits=True)
