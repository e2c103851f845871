"""rnnkit: recurrent neural networks (Elman RNN, LSTM, GRU) from scratch on NumPy.

The core is a small autograd ``Tensor`` (:func:`tensor`, :func:`no_grad`), differentiable
ops in :mod:`rnnkit.functional`, and fused recurrent kernels with hand-written
backpropagation through time in :mod:`rnnkit.recurrent`.
"""
from rnnkit._tensor import (Tensor, as_tensor, bool_, float32, float64, int64, tensor)
from rnnkit.autograd import enable_grad, is_grad_enabled, no_grad
from rnnkit import functional

__version__ = "0.1.0"
from rnnkit.random import manual_seed
