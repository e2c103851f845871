"""Keras-style layers (``from rnnkit.keras import layers``)."""
from rnnkit.keras.layer import Layer
from rnnkit.keras.layers.attention import AdditiveAttention, Attention
from rnnkit.keras.layers.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.keras.layers.core import (Activation, Concatenate, Dense, Dropout, Embedding,
                                      Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D,
                                      Input, InputLayer, LayerNormalization, Masking)
from rnnkit.keras.layers.lambda_layer import Lambda
from rnnkit.keras.layers.reshaping import Permute, RepeatVector, Reshape
from rnnkit.keras.layers.rnn import GRU, LSTM, RNN, SimpleRNN, StackedRNNCells
from rnnkit.keras.layers.text_vectorization import TextVectorization
from rnnkit.keras.layers.wrappers import Bidirectional, TimeDistributed
