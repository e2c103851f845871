"""rnnkit: recurrent neural networks (Elman RNN, LSTM, GRU) from scratch on NumPy.

The core is a small autograd ``Tensor`` (:func:`tensor`, :func:`no_grad`), differentiable
ops in :mod:`rnnkit.functional`, and fused recurrent kernels with hand-written
backpropagation through time in :mod:`rnnkit.recurrent`. Two front ends stand on it:
:mod:`rnnkit.nn` / :mod:`rnnkit.optim` (PyTorch's API) and :mod:`rnnkit.keras` (Keras's).
Around them: :func:`save` / :func:`load` (files that never run code), :func:`sample` /
:func:`multinomial` (drawing tokens) and :mod:`rnnkit.utils.data` (Dataset, DataLoader).
"""
import importlib

from rnnkit._tensor import Tensor, as_tensor, tensor
from rnnkit.autograd import enable_grad, is_grad_enabled, no_grad
from rnnkit import functional
from rnnkit.random import manual_seed
from rnnkit.sampling import multinomial, sample
from rnnkit.serialization import load, save

# PyTorch's top-level namespace: dtypes and device, creation functions, and the ops
# (``import rnnkit as torch`` then ``torch.zeros``, ``torch.cat``, ``torch.long``...).
from rnnkit.dtypes import (Size, bool, bool_, device, double, float, float16, float32,
                           float64, half, int, int8, int16, int32, int64, long, short, uint8)
from rnnkit.creation import (arange, empty, empty_like, from_numpy, full, full_like,
                             linspace, ones, ones_like, rand, rand_like, randint, randn,
                             randn_like, randperm, zeros, zeros_like)
from rnnkit.functional import (abs, argmax, argmin, cat, clamp, clone, concat, div, exp,
                               flip, log, log_softmax, matmul, max, maximum, mean, min,
                               minimum, permute, reshape, sigmoid, softmax, split, sqrt,
                               squeeze, stack, sum, tanh, topk, transpose, unsqueeze, where)

__version__ = "0.1.0"

_SUBMODULES = ("nn", "optim", "keras", "recurrent", "init", "clip", "random", "utils",
               "datasets", "text")


def __getattr__(name):
    # ``import rnnkit; rnnkit.nn.LSTM`` works like torch.nn, without importing every
    # front end at start-up.
    if name in _SUBMODULES:
        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
