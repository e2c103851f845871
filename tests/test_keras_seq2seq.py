"""The encoder-decoder example of the README: a model learns to reverse short digit
sequences. Two forms, written once for keras and rnnkit.keras alike:

- Sequential: LSTM encoder -> RepeatVector -> LSTM decoder -> TimeDistributed(Dense);
- functional: the decoder starts from the encoder's final state and attends (Luong
  attention) over the encoder's whole sequence.

Each trains for a few epochs on tiny data and its loss falls; its summary() equals
Keras's, and with Keras's weights it predicts Keras's numbers.
"""
import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from summaries import summary_text

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

STEPS, DIGITS, UNITS = 5, 10, 32


def reversal_data(n, seed=0):
    """Inputs: one-hot digit sequences (n, STEPS, DIGITS); targets: the digits in
    reverse order (n, STEPS)."""
    digits = np.random.default_rng(seed).integers(0, DIGITS, size=(n, STEPS))
    return rk.utils.to_categorical(digits, DIGITS), digits[:, ::-1].copy()


def encoder_decoder(K):
    L = K.layers
    return K.Sequential([
        K.Input(shape=(STEPS, DIGITS)),
        L.LSTM(UNITS),                                  # the sequence -> one vector
        L.RepeatVector(STEPS),                          # that vector at every output step
        L.LSTM(UNITS, return_sequences=True),
        L.TimeDistributed(L.Dense(DIGITS, activation="softmax")),
    ])


def encoder_decoder_with_attention(K):
    L = K.layers
    inputs = K.Input(shape=(STEPS, DIGITS))
    encoded, h, c = L.LSTM(UNITS, return_sequences=True, return_state=True)(inputs)
    decoded = L.LSTM(UNITS, return_sequences=True)(L.RepeatVector(STEPS)(h),
                                                   initial_state=[h, c])
    context = L.Attention()([decoded, encoded])        # each step looks at every input
    merged = L.Concatenate()([decoded, context])
    outputs = L.TimeDistributed(L.Dense(DIGITS, activation="softmax"))(merged)
    return K.Model(inputs, outputs)


BUILDERS = [encoder_decoder, encoder_decoder_with_attention]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
def test_the_loss_falls_while_learning_to_reverse(build):
    rk.backend.clear_session()
    rnnkit.manual_seed(0)                               # initial weights and shuffling
    model = build(rk)
    model.compile(optimizer=rk.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = reversal_data(512)
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert history["accuracy"][-1] > 4 / DIGITS                 # chance is 1 / DIGITS


@pytest.mark.keras
@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
def test_summary_and_predictions_equal_keras(build):
    keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    assert summary_text(ours) == summary_text(theirs)
    ours.set_weights(theirs.get_weights())
    x, _ = reversal_data(8, seed=1)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-5)


@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
def test_a_saved_model_predicts_the_same_after_loading(build, tmp_path):
    rk.backend.clear_session()
    model = build(rk)
    path = str(tmp_path / "reverse.rnnkit")
    model.save(path)
    x, _ = reversal_data(8, seed=2)
    np.testing.assert_array_equal(rk.models.load_model(path).predict(x, verbose=0),
                                  model.predict(x, verbose=0))
