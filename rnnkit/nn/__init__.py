"""``rnnkit.nn``: PyTorch's module API on rnnkit's core.

Port code by changing the import: parameter names, shapes, gate orders, state_dict keys
and return shapes are PyTorch's. ``rnnkit.nn.functional`` is the ``F`` namespace and
``rnnkit.nn.init`` the initialisers (``rnnkit.init``).
"""
import importlib

from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.nn.rnn import GRU, LSTM, RNN, RNNBase
from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from rnnkit.nn.linear import Flatten, Identity, Linear
from rnnkit.nn.sparse import Embedding
from rnnkit.nn.dropout import Dropout
from rnnkit.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from rnnkit.nn.container import ModuleDict, ModuleList, Sequential
from rnnkit.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,
                            NLLLoss)
from rnnkit.nn import functional, utils


def __getattr__(name):
    # ``nn.init.xavier_uniform_(...)`` as in torch; rnnkit.init is imported on first use.
    if name == "init":
        return importlib.import_module("rnnkit.init")
    raise AttributeError(f"module 'rnnkit.nn' has no attribute {name!r}")
