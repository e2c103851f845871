"""``rnnkit.nn``: PyTorch's module API on rnnkit's core.

Port code by changing the import: parameter names, shapes, gate orders, state_dict keys
and return shapes are PyTorch's.
"""
from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.nn.rnn import GRU, LSTM, RNN, RNNBase
from rnnkit.nn import utils
