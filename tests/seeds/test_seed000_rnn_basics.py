"""Seed 000 (RNN basics with Keras), imports changed to rnnkit.

Cell 4's NumPy loop is the Elman recurrence itself (tests/test_tutorial_walkthrough.py
checks rnnkit's kernel against it). Here: the Keras layer constructions of cell 6, the
summaries of cells 8-11 and 20 against the tutorial's printed tables (shapes, parameter
counts, totals), and the return_sequences / return_state shapes of cells 12-24 (their
values come from random weights).
"""
import numpy as np

from seeds.printing import assert_same_summary

# Cells 5, 7, 19, 21, imports changed: was `from keras.layers import SimpleRNN`, ...
from rnnkit.keras.layers import SimpleRNN
from rnnkit.keras.models import Sequential
from rnnkit.keras.layers import Bidirectional
from rnnkit.keras.layers import LSTM

timesteps = 10
input_dim = 4


def test_cell_6_every_way_to_declare_the_input_builds_the_same_layer():
    layers = [
        SimpleRNN(32),
        SimpleRNN(32, input_shape=(timesteps, input_dim)),
        SimpleRNN(32, input_length=timesteps, input_dim=input_dim),
        SimpleRNN(32, return_sequences=True, input_shape=(timesteps, input_dim)),
        SimpleRNN(32, return_sequences=True, return_state=True, input_shape=(timesteps, input_dim)),
    ]
    assert [l._batch_input_shape for l in layers] == [None] + [(None, 10, 4)] * 4


def test_cell_8_summary(printed):
    model = Sequential([
        SimpleRNN(3, input_shape=(10, 4))
    ])
    model.summary()
    assert_same_summary(printed(), """
 simple_rnn_5 (SimpleRNN)    (None, 3)                 24
Total params: 24
Trainable params: 24
Non-trainable params: 0
""")


def test_cell_9_batch_input_shape_fixes_the_batch(printed):
    model = Sequential([
        SimpleRNN(3, batch_input_shape=(5, 10, 4))
    ])
    model.summary()
    assert_same_summary(printed(), """
 simple_rnn_6 (SimpleRNN)    (5, 3)                    24
Total params: 24
Trainable params: 24
Non-trainable params: 0
""")


def test_cell_10_return_sequences(printed):
    model = Sequential([
        SimpleRNN(3, input_shape=(10, 4), return_sequences=True)
    ])
    model.summary()
    assert_same_summary(printed(), """
 simple_rnn_7 (SimpleRNN)    (None, 10, 3)             24
Total params: 24
Trainable params: 24
Non-trainable params: 0
""")


def test_cell_11_deep_rnn(printed):
    model = Sequential([
        SimpleRNN(3, input_shape=(10, 4), return_sequences=True),
        SimpleRNN(3, return_sequences=True)
    ])
    model.summary()
    assert_same_summary(printed(), """
 simple_rnn_8 (SimpleRNN)    (None, 10, 3)             24
 simple_rnn_9 (SimpleRNN)    (None, 10, 3)             21
Total params: 45
Trainable params: 45
Non-trainable params: 0
""")


def test_cell_20_bidirectional(printed):
    model = Sequential([
        Bidirectional(SimpleRNN(3, return_sequences=True), input_shape=(10, 4))
    ])
    model.summary()
    assert_same_summary(printed(), """
 bidirectional (Bidirectiona  (None, 10, 6)            48
 l)
Total params: 48
Trainable params: 48
Non-trainable params: 0
""")


def x_train():
    X_train = np.random.random((4, 5))
    X_train = X_train.reshape(-1, 4, 5)
    assert X_train.shape == (1, 4, 5)
    return X_train


def test_cells_15_to_18_simple_rnn_outputs_and_states():
    X_train = x_train()
    rnn = SimpleRNN(3)
    hidden_state = rnn(X_train)
    assert hidden_state.shape == (1, 3)

    rnn = SimpleRNN(3, return_sequences=True)
    hidden_state = rnn(X_train)
    assert hidden_state.shape == (1, 4, 3)

    rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    hidden_state, last_state = rnn(X_train)
    assert (hidden_state.shape, last_state.shape) == ((1, 4, 3), (1, 3))
    # "hidden_state중에서 마지막 state 출력": the state is the sequence's last step
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy()[:, -1])

    rnn = SimpleRNN(3, return_state=True)
    hidden_state, last_state = rnn(X_train)
    assert (hidden_state.shape, last_state.shape) == ((1, 3), (1, 3))
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy())


def test_cells_22_to_24_lstm_states():
    X_train = x_train()
    lstm = LSTM(3, return_sequences=False, return_state=True)
    hidden_state, last_state, last_cell_state = lstm(X_train)
    assert [t.shape for t in (hidden_state, last_state, last_cell_state)] == [(1, 3)] * 3
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy())

    lstm = LSTM(3, return_sequences=True, return_state=True)
    hidden_state, last_state, last_cell_state = lstm(X_train)
    assert [t.shape for t in (hidden_state, last_state, last_cell_state)] == \
        [(1, 4, 3), (1, 3), (1, 3)]
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy()[:, -1])

    lstm = LSTM(3, return_sequences=True, return_state=False)
    hidden_state = lstm(X_train)
    assert hidden_state.shape == (1, 4, 3)
