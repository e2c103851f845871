"""Seed 003 (SimpleRNN & LSTM, ``tensorflow.keras``), imports changed to rnnkit.

Cells 4-9 start from random weights, so their printed numbers cannot agree; their shapes
must, and a returned state must equal the last step of the sequence. Cells 10-14 fix every
weight with constant initializers, so the tutorial's printed numbers are an independent
oracle (TensorFlow's output) for rnnkit's bidirectional LSTM.
"""
import numpy as np

from seeds.printing import numbers, shapes

# In [1], imports changed: was `import tensorflow as tf` and
# `from tensorflow.keras.layers import SimpleRNN, GRU, LSTM, Bidirectional`.
import rnnkit as tf
from rnnkit.keras.layers import SimpleRNN, GRU, LSTM, Bidirectional  # noqa: F401

TOL = 2e-6   # the tutorial printed float32 values to 7-8 significant digits


def train_x(printed):
    train_X = [[0.1, 4.2, 1.5, 1.1, 2.8], [1.0, 3.1, 2.5, 0.7, 1.1], [0.3, 2.1, 1.5, 2.1, 0.1], [2.2, 1.4, 0.5, 0.9, 1.1]]
    print(np.shape(train_X))
    train_X = [[[0.1, 4.2, 1.5, 1.1, 2.8], [1.0, 3.1, 2.5, 0.7, 1.1], [0.3, 2.1, 1.5, 2.1, 0.1], [2.2, 1.4, 0.5, 0.9, 1.1]]]
    train_X = np.array(train_X, dtype=np.float32)
    print(train_X.shape)
    assert printed() == "(4, 5)\n(1, 4, 5)\n"
    return train_X


def test_cells_2_3_build_the_input(printed):
    assert train_x(printed).shape == (1, 4, 5)


def test_cells_4_to_7_simple_rnn_shapes(printed):
    train_X = train_x(printed)
    rnn = SimpleRNN(3)
    hidden_state = rnn(train_X)
    print('hidden state : {}, shape: {}'.format(hidden_state, hidden_state.shape))
    assert shapes(printed()) == [(1, 3)]

    rnn = SimpleRNN(3, return_sequences = True)
    hidden_states = rnn(train_X)
    print('hidden states: {}, shape: {}'.format(hidden_states, hidden_states.shape))
    assert shapes(printed()) == [(1, 4, 3)]

    rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    hidden_states, last_state = rnn(train_X)
    print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))
    print('last hidden state : {}, shape: {}'.format(last_state, last_state.shape))
    assert shapes(printed()) == [(1, 4, 3), (1, 3)]
    np.testing.assert_array_equal(last_state.numpy(), hidden_states.numpy()[:, -1])

    rnn = SimpleRNN(3, return_sequences=False, return_state=True)
    hidden_state, last_state = rnn(train_X)
    print('hidden state : {}, shape: {}'.format(hidden_state, hidden_state.shape))
    print('last hidden state : {}, shape: {}'.format(last_state, last_state.shape))
    assert shapes(printed()) == [(1, 3), (1, 3)]
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy())


def test_cells_8_9_lstm_returns_hidden_and_cell_state(printed):
    train_X = train_x(printed)
    lstm = LSTM(3, return_sequences=False, return_state=True)
    hidden_state, last_state, last_cell_state = lstm(train_X)
    print('hidden state : {}, shape: {}'.format(hidden_state, hidden_state.shape))
    print('last hidden state : {}, shape: {}'.format(last_state, last_state.shape))
    print('last cell state : {}, shape: {}'.format(last_cell_state, last_cell_state.shape))
    assert shapes(printed()) == [(1, 3), (1, 3), (1, 3)]
    np.testing.assert_array_equal(last_state.numpy(), hidden_state.numpy())

    lstm = LSTM(3, return_sequences=True, return_state=True)
    hidden_states, last_hidden_state, last_cell_state = lstm(train_X)
    print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))
    print('last hidden state : {}, shape: {}'.format(last_hidden_state, last_hidden_state.shape))
    print('last cell state : {}, shape: {}'.format(last_cell_state, last_cell_state.shape))
    assert shapes(printed()) == [(1, 4, 3), (1, 3), (1, 3)]
    np.testing.assert_array_equal(last_hidden_state.numpy(), hidden_states.numpy()[:, -1])
    # h = o * tanh(c) with 0 < o < 1: |h| < |tanh(c)|, same sign
    c, h = last_cell_state.numpy(), last_hidden_state.numpy()
    assert np.all(np.abs(h) < np.abs(np.tanh(c))) and np.all(np.sign(h) == np.sign(c))


# The tutorial's printed output (TensorFlow 2), cells 11 and 14.
CELL_11 = """\
hidden states : [[0.6303139  0.6303139  0.6303139  0.70387346 0.70387346 0.70387346]], shape: (1, 6)
forward state : [[0.6303139 0.6303139 0.6303139]], shape: (1, 3)
backward state : [[0.70387346 0.70387346 0.70387346]], shape: (1, 3)
"""
CELL_14 = """\
hidden states : [[[0.35906476 0.35906476 0.35906476 0.70387346 0.70387346 0.70387346]
  [0.5511133  0.5511133  0.5511133  0.5886358  0.5886358  0.5886358 ]
  [0.5911575  0.5911575  0.5911575  0.39516988 0.39516988 0.39516988]
  [0.6303139  0.6303139  0.6303139  0.2194224  0.2194224  0.2194224 ]]], shape: (1, 4, 6)
forward state : [[0.6303139 0.6303139 0.6303139]], shape: (1, 3)
backward state : [[0.70387346 0.70387346 0.70387346]], shape: (1, 3)
"""


def assert_prints_like(out, expected):
    assert shapes(out) == shapes(expected)
    np.testing.assert_allclose(numbers(out), numbers(expected), rtol=0, atol=TOL)


def test_cells_10_to_14_bidirectional_lstm_prints_the_tutorials_numbers(printed, each_backend):
    train_X = train_x(printed)
    k_init = tf.keras.initializers.Constant(value=0.1)
    b_init = tf.keras.initializers.Constant(value=0)
    r_init = tf.keras.initializers.Constant(value=0.1)

    bilstm = Bidirectional(LSTM(3, return_sequences=False, return_state=True, \
                                kernel_initializer=k_init, bias_initializer=b_init, recurrent_initializer=r_init))
    hidden_states, forward_h, forward_c, backward_h, backward_c = bilstm(train_X)
    print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))
    print('forward state : {}, shape: {}'.format(forward_h, forward_h.shape))
    print('backward state : {}, shape: {}'.format(backward_h, backward_h.shape))
    assert_prints_like(printed(), CELL_11)

    bilstm = Bidirectional(LSTM(3, return_sequences=True, return_state=True, \
                                kernel_initializer=k_init, bias_initializer=b_init, recurrent_initializer=r_init))
    hidden_states, forward_h, forward_c, backward_h, backward_c = bilstm(train_X)
    print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))
    print('forward state : {}, shape: {}'.format(forward_h, forward_h.shape))
    print('backward state : {}, shape: {}'.format(backward_h, backward_h.shape))
    assert_prints_like(printed(), CELL_14)
