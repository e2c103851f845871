"""Keras-style initializers draw from Keras's distributions (moments and bounds compared
with keras.initializers on large shapes) and Keras's recurrent defaults."""
import numpy as np
import pytest

from rnnkit.keras import initializers, layers

pytestmark = pytest.mark.keras
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

SHAPE = (300, 400)
NAMES = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
         "lecun_normal", "random_uniform", "random_normal", "truncated_normal", "zeros",
         "ones"]


@pytest.mark.parametrize("name", NAMES)
def test_distribution_matches_keras(name):
    ours = initializers.get(name)(SHAPE)
    theirs = np.asarray(keras.initializers.get(name)(SHAPE))
    assert ours.shape == SHAPE and ours.dtype == np.float32
    np.testing.assert_allclose(ours.mean(), theirs.mean(), atol=2e-3)
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.02, atol=1e-6)
    if name != "random_normal":     # bounded distributions: the same bound
        np.testing.assert_allclose(np.abs(ours).max(), np.abs(theirs).max(), rtol=0.05,
                                   atol=1e-6)


@pytest.mark.parametrize("shape", [(32, 128), (128, 32), (64, 64)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    q = initializers.get("orthogonal")(shape).astype(np.float64)
    small = q @ q.T if shape[0] <= shape[1] else q.T @ q
    np.testing.assert_allclose(small, np.eye(min(shape)), atol=1e-5)


def test_recurrent_defaults_are_keras_defaults():
    lstm = layers.LSTM(8)
    lstm(np.zeros((2, 3, 5), np.float32))
    kernel, recurrent, bias = lstm.get_weights()
    assert kernel.shape == (5, 32) and recurrent.shape == (8, 32) and bias.shape == (32,)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)  # orthogonal
    assert np.abs(kernel).max() <= np.sqrt(6 / (5 + 32)) + 1e-6                  # glorot bound
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])


def test_seeded_initializer_is_repeatable():
    a = initializers.GlorotUniform(seed=3)((4, 5))
    b = initializers.GlorotUniform(seed=3)((4, 5))
    np.testing.assert_array_equal(a, b)
