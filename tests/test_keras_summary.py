"""model.summary() prints Keras 3's table, character for character, and count_params()
equals Keras's, for the tutorials' models and a dozen more (stacked, Embedding,
Bidirectional, TimeDistributed, functional multi-input/multi-output, encoder-decoder with
initial_state, shared layers, unbuilt, frozen, compiled). Each model is built twice from
the same code, once with keras and once with rnnkit.keras, after clearing both sessions
so that the generated names (simple_rnn, simple_rnn_1, ...) agree."""
import re

import numpy as np
import pytest

import rnnkit.keras as rk
from summaries import summary_text

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")


def tutorial_simple_rnn(K):
    return K.Sequential([K.layers.SimpleRNN(3, input_shape=(10, 4))])


def tutorial_return_sequences(K):
    return K.Sequential([K.layers.SimpleRNN(3, input_shape=(10, 4), return_sequences=True)])


def tutorial_two_stacked(K):
    return K.Sequential([K.layers.SimpleRNN(3, input_shape=(10, 4), return_sequences=True),
                         K.layers.SimpleRNN(3, return_sequences=True)])


def tutorial_bidirectional(K):
    L = K.layers
    return K.Sequential([L.Bidirectional(L.SimpleRNN(3, return_sequences=True),
                                         input_shape=(10, 4))])


def tutorial_embedding_rnn(K):
    m = K.Sequential()
    m.add(K.layers.Embedding(10000, 32))
    m.add(K.layers.SimpleRNN(32))
    m.build((None, None))
    return m


def tutorial_embedding_rnn_sequences(K):
    m = K.Sequential([K.layers.Embedding(10000, 32),
                      K.layers.SimpleRNN(32, return_sequences=True)])
    m.build((None, None))
    return m


def tutorial_four_stacked(K):
    L = K.layers
    m = K.Sequential([L.Embedding(10000, 32)] +
                     [L.SimpleRNN(32, return_sequences=True) for _ in range(3)] +
                     [L.SimpleRNN(32)])
    m.build((None, None))
    return m


def imdb_classifier(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(None,)), L.Embedding(10000, 32), L.SimpleRNN(32),
                         L.Dense(1, activation="sigmoid")])


def masked_lstm(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(40,)), L.Embedding(1000, 16, mask_zero=True),
                         L.LSTM(8), L.Dropout(0.2), L.Dense(1, activation="sigmoid")])


def stacked_gru_softmax(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(20, 8)), L.GRU(16, return_sequences=True),
                         L.GRU(8), L.Dense(3, activation="softmax")])


def bilstm_tagger(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(None, 4)),
                         L.Bidirectional(L.LSTM(3, return_sequences=True)),
                         L.TimeDistributed(L.Dense(2))])


def masking_pooling_norm(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(12, 5)), L.Masking(0.0),
                         L.GRU(6, return_sequences=True, reset_after=False),
                         L.LayerNormalization(), L.GlobalAveragePooling1D(),
                         L.Dense(4, activation="relu"), L.Activation("softmax")])


def functional_chain(K):
    L = K.layers
    inp = K.Input(shape=(None, 4))
    return K.Model(inp, L.Dense(2)(L.LSTM(3)(inp)))


def functional_multi_io(K):
    L = K.layers
    a = K.Input(shape=(10, 3), name="a")
    b = K.Input(shape=(7,))
    h = L.Concatenate()([L.SimpleRNN(5)(a), b])
    return K.Model([a, b], [L.Dense(1, activation="sigmoid", name="label")(h),
                            L.Dense(4, activation="softmax")(h)])


def encoder_decoder(K):
    L = K.layers
    enc_in = K.Input(shape=(None, 6))
    _, h, c = L.LSTM(8, return_state=True)(enc_in)
    dec_in = K.Input(shape=(None, 5))
    dec = L.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
    return K.Model([enc_in, dec_in], L.Dense(5, activation="softmax")(dec))


def shared_layer(K):
    L = K.layers
    x1, x2 = K.Input(shape=(6, 3)), K.Input(shape=(6, 3))
    rnn = L.GRU(4)
    return K.Model([x1, x2], L.Concatenate()([rnn(x1), rnn(x2)]))


def unbuilt(K):
    return K.Sequential([K.layers.Embedding(100, 8), K.layers.SimpleRNN(4)])


def frozen_embedding(K):
    L = K.layers
    m = K.Sequential([K.Input(shape=(None,)), L.Embedding(500, 8), L.LSTM(4), L.Dense(1)])
    m.layers[0].trainable = False
    return m


MODELS = [tutorial_simple_rnn, tutorial_return_sequences, tutorial_two_stacked,
          tutorial_bidirectional, tutorial_embedding_rnn, tutorial_embedding_rnn_sequences,
          tutorial_four_stacked, imdb_classifier, masked_lstm, stacked_gru_softmax,
          bilstm_tagger, masking_pooling_norm, functional_chain, functional_multi_io,
          encoder_decoder, shared_layer, unbuilt, frozen_embedding]


def both(build):
    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    return theirs, ours


def without_hint(text):
    """The summary without rnnkit's own last line under an unbuilt model."""
    lines = text.splitlines(keepends=True)
    return "".join(lines[:-1]) if lines[-1].startswith(" To build it:") else text


@pytest.mark.parametrize("build", MODELS, ids=lambda f: f.__name__)
def test_summary_text_equals_keras(build):
    theirs, ours = both(build)
    assert without_hint(summary_text(ours)) == summary_text(theirs)


@pytest.mark.parametrize("build", [m for m in MODELS if m is not unbuilt],
                         ids=lambda f: f.__name__)
def test_count_params_equals_keras(build):
    theirs, ours = both(build)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("build, expected", [
    (tutorial_simple_rnn, 24), (tutorial_two_stacked, 45), (tutorial_bidirectional, 48),
    (tutorial_embedding_rnn, 322_080), (tutorial_four_stacked, 328_320)])
def test_tutorials_parameter_counts(build, expected):
    rk.backend.clear_session()
    assert build(rk).count_params() == expected


def test_batch_input_shape_keeps_the_batch_size_in_the_table():
    # Keras 3 dropped batch_input_shape=; its equivalent is Input(batch_shape=...).
    keras.backend.clear_session()
    theirs = keras.Sequential([keras.Input(batch_shape=(5, 10, 4)), keras.layers.SimpleRNN(3)])
    rk.backend.clear_session()
    ours = rk.Sequential([rk.layers.SimpleRNN(3, batch_input_shape=(5, 10, 4))])
    assert summary_text(ours) == summary_text(theirs)
    assert "(5, 3)" in summary_text(ours) and ours.count_params() == 24


@pytest.mark.parametrize("kwargs", [dict(show_trainable=True), dict(line_length=120),
                                    dict(line_length=60), dict(positions=[0.5, 0.75, 1.0]),
                                    dict(layer_range=["embedding", "lstm"])])
def test_summary_options_equal_keras(kwargs):
    theirs, ours = both(frozen_embedding)
    assert summary_text(ours, **kwargs) == summary_text(theirs, **kwargs)


def test_connected_to_column_with_show_trainable_equals_keras():
    theirs, ours = both(encoder_decoder)
    assert summary_text(ours, show_trainable=True) == summary_text(theirs, show_trainable=True)


def test_summary_after_fit_lists_optimizer_params_like_keras():
    theirs, ours = both(stacked_gru_softmax)
    x = np.zeros((4, 20, 8), np.float32)
    y = np.zeros((4,), np.int64)
    for m in (theirs, ours):
        m.compile("adam", "sparse_categorical_crossentropy")
        m.fit(x, y, verbose=0)
    assert summary_text(ours) == summary_text(theirs)
    assert "Optimizer params" in summary_text(ours)


def hint_of(model):
    lines = summary_text(model).splitlines()
    assert lines[-2].startswith(" Non-trainable params: ")
    return lines[-1]


@pytest.mark.parametrize("layers, names, build_shape", [
    (lambda L: [L.Embedding(100, 8), L.SimpleRNN(4)], {}, (None, None)),
    (lambda L: [L.Embedding(100, 8), L.LSTM(4)], {"maxlen": 30}, (None, 30)),
    (lambda L: [L.LSTM(5, return_sequences=True), L.LSTM(3)],
     {"timesteps": 10, "features": 4}, (None, 10, 4)),
    (lambda L: [L.Bidirectional(L.GRU(3)), L.Dense(1)],
     {"timesteps": None, "features": 6}, (None, None, 6)),
    (lambda L: [L.Dropout(0.2), L.Dense(4), L.Dense(1)], {"features": 7}, (None, 7)),
], ids=["embedding", "embedding_maxlen", "lstm", "bidirectional", "dense"])
def test_unbuilt_summary_ends_with_a_hint_that_builds_it_like_keras(layers, names,
                                                                    build_shape):
    # The hint names the build shape for the first layer; filled in (e.g. timesteps=10)
    # and given to both frameworks' build(), it gives Keras's own built table.
    theirs, ours = both(lambda K: K.Sequential(layers(K.layers)))
    hint = hint_of(ours)
    assert without_hint(summary_text(ours)) == summary_text(theirs)
    hinted = [m.group(1) for m in re.finditer(r"(\((?:None|[a-z]+)(?:, (?:None|[a-z]+))*\))",
                                               hint.split("Input(")[0])]
    shapes = [tuple(None if d == "None" else names.get(d, d) for d in h.strip("()").split(", "))
              for h in hinted]
    assert build_shape in shapes
    for m in (theirs, ours):
        m.build(build_shape)
    assert summary_text(ours) == summary_text(theirs)
    assert "unbuilt" not in summary_text(ours) and "To build it" not in summary_text(ours)


def test_unbuilt_hint_names_input_for_the_first_layer():
    rk.backend.clear_session()
    assert "Input(shape=(None,)) first" in hint_of(rk.Sequential([rk.layers.Embedding(9, 2)]))
    assert "Input(shape=(timesteps, features)) first" in hint_of(
        rk.Sequential([rk.layers.SimpleRNN(2)]))
    assert "model.build(input_shape)" in hint_of(rk.Sequential([rk.layers.Flatten()]))


def test_eagerly_built_sequential_shows_the_batch_it_was_called_on():
    theirs, ours = both(unbuilt)
    x = np.ones((3, 5), np.int32)
    theirs(x)
    ours(x)
    assert summary_text(ours) == summary_text(theirs)
    assert "(3, 4)" in summary_text(ours)


def test_summary_without_print_fn_prints_to_stdout(capsys):
    rk.backend.clear_session()
    tutorial_simple_rnn(rk).summary()
    out = capsys.readouterr().out
    assert out.startswith('Model: "sequential"\n')
    assert " Total params: 24 (96.00 B)\n" in out
