"""compile/fit/evaluate/predict follow Keras 3 (JAX back end) step for step.

The same model is built with keras and with rnnkit.keras, rnnkit's copy takes Keras's
initial weights, and both train on the same seeded synthetic data with shuffle=False:
every epoch's loss and metrics must agree within 1e-3 relative (they agree to ~1e-6 in
practice; the worst deviation is printed with -s). Covered: the tutorials' IMDB model
(Embedding(10000, 32) -> SimpleRNN(32) -> Dense(1, sigmoid), rmsprop,
binary_crossentropy) and its LSTM variant, validation_split, masking with padded
sequences, class weights, sample weights, multi-output loss weights, sequence outputs
with a masked loss, regularizers, clipping and every optimizer.
"""
import numpy as np
import pytest

import rnnkit.keras as rk
from rnnkit.keras import utils

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

RTOL = 1e-3
N, T, VOCAB = 256, 40, 10000


def imdb_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, (N, T)).astype("int32")
    y = (x[:, -5:].mean(axis=1) > VOCAB / 2).astype("float32")    # learnable from the end
    return x, y


def padded_data(seed=1, classes=3):
    """Sequences of random lengths, zero-padded in front (pad_sequences' default)."""
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(1, 500, rng.integers(3, 25)).tolist() for _ in range(160)]
    x = utils.pad_sequences(seqs, maxlen=20)
    y = np.array([s[-1] % classes for s in seqs], dtype="int64")
    return x, y


def pair(build):
    """(keras model, rnnkit model) with rnnkit holding Keras's initial weights."""
    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def assert_histories_close(theirs, ours, rtol=RTOL):
    assert sorted(theirs.history) == sorted(ours.history)
    worst = 0.0
    for key, values in theirs.history.items():
        a, b = np.asarray(values, np.float64), np.asarray(ours.history[key], np.float64)
        assert a.shape == b.shape, key
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-6, err_msg=key)
        worst = max(worst, float(np.max(np.abs(b - a) / np.maximum(np.abs(a), 1e-12))))
    print(f"worst relative deviation from Keras: {worst:.2e}")
    return worst


def imdb_model(K, rnn="SimpleRNN"):
    L = K.layers
    return K.Sequential([K.Input(shape=(T,)), L.Embedding(VOCAB, 32), getattr(L, rnn)(32),
                         L.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("rnn", ["SimpleRNN", "LSTM"])
def test_tutorial_imdb_model_trains_like_keras(rnn):
    x, y = imdb_data()
    theirs, ours = pair(lambda K: imdb_model(K, rnn))
    histories = []
    for m in (theirs, ours):
        m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
        histories.append(m.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0))
    assert_histories_close(*histories)
    assert list(histories[1].history) == ["accuracy", "loss"]
    np.testing.assert_allclose(ours.predict(x[:16], verbose=0),
                               theirs.predict(x[:16], verbose=0), atol=1e-4)


def test_validation_split_holds_out_the_last_samples_like_keras():
    x, y = imdb_data(3)
    theirs, ours = pair(imdb_model)
    histories = []
    for m in (theirs, ours):
        m.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
        histories.append(m.fit(x, y, epochs=2, batch_size=32, shuffle=False,
                               validation_split=0.25, verbose=0))
    assert_histories_close(*histories)
    assert sorted(histories[1].history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def masked_gru(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(20,)), L.Embedding(500, 12, mask_zero=True),
                         L.GRU(10), L.Dense(3, activation="softmax")])


def test_masked_gru_with_class_weights_and_adam_trains_like_keras():
    x, y = padded_data()
    theirs, ours = pair(masked_gru)
    histories = []
    for m in (theirs, ours):
        m.compile(keras.optimizers.Adam(0.01) if m is theirs else rk.optimizers.Adam(0.01),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(m.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                               class_weight={0: 1.0, 1: 2.0, 2: 0.5},
                               validation_data=(x[:40], y[:40])))
    assert_histories_close(*histories)


def two_heads(K):
    L = K.layers
    inp = K.Input(shape=(8, 3))
    h = L.LSTM(6)(inp)
    return K.Model(inp, [L.Dense(1, activation="sigmoid", name="flag")(h),
                         L.Dense(2, name="value")(h)])


def test_multi_output_loss_weights_and_sample_weights_train_like_keras():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(96, 8, 3)).astype("float32")
    y = [(x[:, -1, :1] > 0).astype("float32"), x[:, 0, :2] * 2]
    sw = rng.uniform(0.5, 2.0, 96).astype("float32")
    theirs, ours = pair(two_heads)
    histories = []
    for K, m in ((keras, theirs), (rk, ours)):
        m.compile(K.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                  loss=["binary_crossentropy", "mse"], loss_weights=[1.0, 0.3],
                  metrics=[["accuracy"], ["mae"]])
        histories.append(m.fit(x, y, sample_weight=sw, epochs=3, batch_size=32,
                               shuffle=False, verbose=0))
    assert_histories_close(*histories)
    assert "flag_loss" in histories[1].history and "value_mae" in histories[1].history


def tagger(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(20,)), L.Embedding(500, 8, mask_zero=True),
                         L.Bidirectional(L.LSTM(5, return_sequences=True)),
                         L.TimeDistributed(L.Dense(3, activation="softmax"))])


def test_sequence_output_loss_is_masked_like_keras():
    # Keras 3.15 (JAX) drops the output mask from compiled *metrics* inside fit (it keeps
    # it in evaluate); rnnkit masks metrics in both, so fit's accuracy is not compared
    # here, evaluate's is.
    x, _ = padded_data(5)
    y = (x % 3).astype("int64")                  # a tag per step; padding steps masked
    theirs, ours = pair(tagger)
    histories = []
    for K, m in ((keras, theirs), (rk, ours)):
        m.compile(K.optimizers.Adagrad(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        histories.append(m.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0))
    for h in histories:
        del h.history["accuracy"]
    assert_histories_close(*histories)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                               theirs.evaluate(x, y, verbose=0), rtol=1e-4)


def regularized(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(10, 4)),
                         L.SimpleRNN(8, kernel_regularizer=K.regularizers.L2(0.01)),
                         L.Dense(2, kernel_regularizer=K.regularizers.L1L2(0.001, 0.01)),
                         L.Activation("softmax")])


def test_regularization_clipping_and_adamw_train_like_keras():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(64, 10, 4)).astype("float32")
    y = utils.to_categorical((x[:, :, 0].sum(1) > 0).astype(int), 2)
    theirs, ours = pair(regularized)
    histories = []
    for K, m in ((keras, theirs), (rk, ours)):
        m.compile(K.optimizers.AdamW(0.01, clipnorm=0.5), "categorical_crossentropy",
                  metrics=["accuracy"])
        histories.append(m.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0))
    assert_histories_close(*histories)


def test_evaluate_predict_and_batch_methods_equal_keras():
    x, y = imdb_data(7)
    theirs, ours = pair(lambda K: imdb_model(K, "GRU"))
    for m in (theirs, ours):
        m.compile("adam", "binary_crossentropy", metrics=["mae", "accuracy"])
    np.testing.assert_allclose(ours.evaluate(x, y, batch_size=64, verbose=0),
                               theirs.evaluate(x, y, batch_size=64, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.train_on_batch(x[:32], y[:32]),
                               theirs.train_on_batch(x[:32], y[:32]), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x[:32], y[:32]),
                               theirs.test_on_batch(x[:32], y[:32]), rtol=1e-4)
    np.testing.assert_allclose(ours.predict_on_batch(x[:8]), theirs.predict_on_batch(x[:8]),
                               atol=1e-5)
    ours_dict = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(ours_dict) == ["accuracy", "loss", "mae"]
    assert ours.metrics_names == ["loss", "mae", "accuracy"]


def test_functional_encoder_decoder_predicts_like_keras():
    def build(K):
        L = K.layers
        enc_in, dec_in = K.Input(shape=(None, 6)), K.Input(shape=(None, 5))
        _, h, c = L.LSTM(8, return_state=True)(enc_in)
        dec = L.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
        return K.Model([enc_in, dec_in], L.Dense(5, activation="softmax")(dec))

    rng = np.random.default_rng(8)
    xe = rng.normal(size=(4, 7, 6)).astype("float32")
    xd = rng.normal(size=(4, 3, 5)).astype("float32")
    theirs, ours = pair(build)
    np.testing.assert_allclose(ours.predict([xe, xd], verbose=0),
                               theirs.predict([xe, xd], verbose=0), atol=1e-5)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]


def test_fit_prints_a_keras_progress_line_per_epoch(capsys):
    x, y = imdb_data()
    rk.backend.clear_session()
    m = imdb_model(rk)
    m.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
    m.fit(x[:64], y[:64], epochs=2, batch_size=32, validation_split=0.5, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("1/1 ━━━━━━━━━━━━━━━━━━━━ ")
    assert " - accuracy: " in lines[1] and lines[1].split(" - ")[-1].startswith("val_loss: ")
    m.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=2)
    line = capsys.readouterr().out.strip()
    assert line.startswith("2/2 - ") and "step - accuracy: " in line


def test_compile_is_required_and_unsupported_options_are_named():
    rk.backend.clear_session()
    m = imdb_model(rk)
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(np.zeros((2, T), "int32"), np.zeros(2))
    with pytest.raises(ValueError, match="steps_per_execution"):
        m.compile("sgd", "mse", steps_per_execution=4)
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        m.fit(np.zeros((2, T), "int32"), np.zeros(2), steps_per_epoch=0)
    with pytest.raises(ValueError, match="class_weight or sample_weight"):
        m.fit(np.zeros((2, T), "int32"), np.zeros(2), class_weight={0: 1},
              sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="unknown name 'nadam'"):
        m.compile("nadam", "mse")
