"""Keras-style layers (``from rnnkit.keras import layers``)."""
from rnnkit.keras.layer import Layer
from rnnkit.keras.layers.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.keras.layers.rnn import GRU, LSTM, RNN, SimpleRNN, StackedRNNCells
