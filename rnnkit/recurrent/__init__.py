"""Fused recurrent kernels: Elman RNN, LSTM and GRU over whole sequences, with BPTT.

``rnn``, ``lstm`` and ``gru`` are differentiable ops on time-major input
(time, batch, input_size). Internally one scan (``scan.py``) runs every cell
(``elman.py``, ``lstm.py``, ``gru.py``) forward and backward.
"""
from rnnkit.recurrent.ops import gru, lstm, rnn
from rnnkit.recurrent._workspace import empty_cache
from rnnkit.recurrent.activations import ACTIVATIONS, Activation, get_activation
from rnnkit.recurrent.backend import available as accelerated_available
from rnnkit.recurrent.backend import (get_backend, get_num_threads, set_backend,
                                      set_num_threads, use_backend)
