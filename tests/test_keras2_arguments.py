"""Keras 2's input-shape arguments (input_shape, batch_input_shape, input_dim,
input_length, batch_size) are honoured on every layer Keras 2 took them on, the way
Keras 2 read them, and nothing a layer is given is silently ignored.

Keras 3 no longer reads most of these, so the oracle is Keras 3 given the explicit
Input that Keras 2's arguments stand for: the two summaries (output shapes, parameter
counts) must be identical."""
import numpy as np
import pytest

import rnnkit.keras as rk
from summaries import summary_text

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]


def keras_or_skip():
    return pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")


# (rnnkit layers with Keras 2's arguments, the Keras 3 batch shape they mean, layers)
CASES = {
    "embedding_input_length": (
        lambda L: [L.Embedding(10000, 32, input_length=500), L.SimpleRNN(32),
                   L.Dense(1, activation="sigmoid")],
        (None, 500),
        lambda L: [L.Embedding(10000, 32), L.SimpleRNN(32), L.Dense(1, activation="sigmoid")]),
    "embedding_input_length_batch_size": (
        lambda L: [L.Embedding(50, 4, input_length=7, batch_size=8), L.LSTM(3)],
        (8, 7),
        lambda L: [L.Embedding(50, 4), L.LSTM(3)]),
    "dense_input_dim": (
        lambda L: [L.Dense(32, input_dim=100, activation="relu"), L.Dense(1)],
        (None, 100),
        lambda L: [L.Dense(32, activation="relu"), L.Dense(1)]),
    "dense_input_shape_3d": (
        lambda L: [L.Dense(4, input_shape=(10, 16))],
        (None, 10, 16),
        lambda L: [L.Dense(4)]),
    "rnn_input_dim_input_length": (
        lambda L: [L.SimpleRNN(32, input_dim=4, input_length=10)],
        (None, 10, 4),
        lambda L: [L.SimpleRNN(32)]),
    "rnn_input_dim_only": (
        lambda L: [L.LSTM(8, input_dim=3, return_sequences=True), L.GRU(2)],
        (None, None, 3),
        lambda L: [L.LSTM(8, return_sequences=True), L.GRU(2)]),
    "rnn_input_shape_batch_size": (
        lambda L: [L.GRU(6, input_shape=(12, 5), batch_size=4, stateful=True)],
        (4, 12, 5),
        lambda L: [L.GRU(6, stateful=True)]),
    "rnn_batch_input_shape": (
        lambda L: [L.LSTM(5, batch_input_shape=(2, 9, 3), stateful=True), L.Dense(1)],
        (2, 9, 3),
        lambda L: [L.LSTM(5, stateful=True), L.Dense(1)]),
    "bidirectional_input_shape": (
        lambda L: [L.Bidirectional(L.LSTM(3, return_sequences=True), input_shape=(5, 2))],
        (None, 5, 2),
        lambda L: [L.Bidirectional(L.LSTM(3, return_sequences=True))]),
    "bidirectional_inner_input_shape": (
        lambda L: [L.Bidirectional(L.SimpleRNN(4, input_shape=(6, 3)))],
        (None, 6, 3),
        lambda L: [L.Bidirectional(L.SimpleRNN(4))]),
    "time_distributed_input_shape": (
        lambda L: [L.TimeDistributed(L.Dense(2), input_shape=(10, 16))],
        (None, 10, 16),
        lambda L: [L.TimeDistributed(L.Dense(2))]),
    "input_layer_input_shape": (
        lambda L: [L.InputLayer(input_shape=(20,)), L.Embedding(30, 4), L.GRU(3)],
        (None, 20),
        lambda L: [L.Embedding(30, 4), L.GRU(3)]),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", sorted(CASES))
def test_keras2_input_arguments_build_the_model_keras3_builds_from_an_input(case):
    keras = keras_or_skip()
    ours_layers, batch_shape, their_layers = CASES[case]
    keras.backend.clear_session()
    theirs = keras.Sequential([keras.Input(batch_shape=batch_shape)] +
                              their_layers(keras.layers))
    rk.backend.clear_session()
    ours = rk.Sequential(ours_layers(rk.layers))
    assert ours.built and ours.input_shape == batch_shape
    assert summary_text(ours) == summary_text(theirs)
    assert ours.count_params() == theirs.count_params()


def test_the_tutorials_embedding_input_length_model_is_built_at_once():
    rk.backend.clear_session()
    m = rk.Sequential()
    m.add(rk.layers.Embedding(10000, 32, input_length=500))
    m.add(rk.layers.SimpleRNN(32))
    assert m.built and m.output_shape == (None, 32)
    assert m.count_params() == 10000 * 32 + 32 * 32 + 32 * 32 + 32


def test_input_length_survives_a_config_round_trip():
    rk.backend.clear_session()
    m = rk.Sequential([rk.layers.Embedding(100, 8, input_length=12), rk.layers.LSTM(4)])
    again = rk.Sequential.from_config(m.get_config())
    assert again.built and again.input_shape == (None, 12)


@pytest.mark.keras
def test_embedding_weights_argument_sets_the_matrix_like_keras():
    keras = keras_or_skip()
    matrix = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    ids = np.array([[1, 5, 19], [0, 0, 7]])
    theirs = keras.layers.Embedding(20, 3, weights=[matrix])
    ours = rk.layers.Embedding(20, 3, weights=[matrix], trainable=False)
    np.testing.assert_array_equal(ours(ids).data, np.asarray(theirs(ids)))
    np.testing.assert_array_equal(rk.layers.Embedding(20, 3, weights=matrix)(ids).data,
                                  matrix[ids])
    with pytest.raises(ValueError, match=r"embeddings has shape \(20, 3\), got an array of "
                                         r"shape \(3, 20\)"):
        rk.layers.Embedding(20, 3, weights=[matrix.T])


# -- refused, with the argument named ----------------------------------------------------
L = rk.layers


@pytest.mark.parametrize("make, message", [
    (lambda: L.Dense(3, input_length=4), "Dense: input_length is an argument of Embedding "
                                         "and the recurrent layers only"),
    (lambda: L.Dropout(0.1, input_length=4), "Dropout: input_length"),
    (lambda: L.Dense(3, batch_size=4), r"Dense: batch_size=4 needs input_shape= or "
                                       r"input_dim= beside it"),
    (lambda: L.LSTM(3, input_shape=(5, 2), input_dim=2), "LSTM: give the input shape one "
                                                         "way, got input_shape and input_dim"),
    (lambda: L.Embedding(9, 2, input_length=5, input_shape=(5,)), "input_shape and "
                                                                  "input_length"),
    (lambda: L.GRU(3, batch_input_shape=(2, 5, 1), batch_size=2), "batch_size=2 with "
                                                                   "batch_input_shape"),
    (lambda: L.Dense(3, input_shape=(0,)), r"input_shape must be a tuple of positive "
                                           r"integers or None, got \(0,\)"),
    (lambda: L.SimpleRNN(3, input_dim=4, input_length=-1), "input_length must be a "
                                                           "positive integer, got -1"),
    (lambda: L.InputLayer(shape=(3,), input_shape=(3,)), "Input: give the shape one way"),
    (lambda: L.InputLayer(shape=(3,), sparse=True), "sparse=True is not supported"),
    (lambda: L.LSTM(3, use_cudnn=True), "use_cudnn=True cannot be honoured"),
])
def test_arguments_that_cannot_be_honoured_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_later_layers_declared_shape_must_agree_with_its_input():
    rk.backend.clear_session()
    with pytest.raises(ValueError, match=r"dense_1: declared input shape \(None, 5\).*"
                                         r"\(None, 3\)"):
        rk.Sequential([L.Dense(3, input_dim=4), L.Dense(2, input_shape=(5,))])
    m = rk.Sequential([L.Dense(3, input_dim=4), L.Dense(2, input_shape=(3,))])
    assert m.output_shape == (None, 2)


@pytest.mark.parametrize("make", [
    lambda: L.Dense(2, kernel_size=3), lambda: L.Embedding(5, 2, input_lenght=4),
    lambda: L.SimpleRNN(2, recurrent_activation="relu"), lambda: L.LSTM(2, time_major=True),
    lambda: L.GRU(2, weights=[]), lambda: L.Masking(0.0, mask=1),
    lambda: L.Dropout(0.5, noise=1), lambda: L.TimeDistributed(L.Dense(1), axis=2),
    lambda: L.Bidirectional(L.LSTM(2), concat_axis=1), lambda: L.Flatten(data_format="x"),
    lambda: L.LayerNormalization(rms_scaling=True), lambda: L.Activation("relu", alpha=1),
])
def test_unknown_keyword_arguments_are_refused_not_swallowed(make):
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        make()
