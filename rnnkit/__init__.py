"""rnnkit: recurrent neural networks (Elman RNN, LSTM, GRU) from scratch on NumPy.

The core is a small autograd ``Tensor`` (:func:`tensor`, :func:`no_grad`), differentiable
ops in :mod:`rnnkit.functional`, and fused recurrent kernels with hand-written
backpropagation through time in :mod:`rnnkit.recurrent`. Two front ends stand on it:
:mod:`rnnkit.nn` / :mod:`rnnkit.optim` (PyTorch's API) and :mod:`rnnkit.keras` (Keras's).
Around them: :func:`save` / :func:`load` (files that never run code), :func:`sample` /
:func:`multinomial` (drawing tokens) and :mod:`rnnkit.utils.data` (Dataset, DataLoader).
"""
import importlib

from rnnkit._tensor import Tensor, as_tensor, bool_, float32, float64, int64, tensor
from rnnkit.autograd import enable_grad, is_grad_enabled, no_grad
from rnnkit import functional
from rnnkit.random import manual_seed
from rnnkit.sampling import multinomial, sample
from rnnkit.serialization import load, save

__version__ = "0.1.0"

_SUBMODULES = ("nn", "optim", "keras", "recurrent", "init", "clip", "random", "utils")


def __getattr__(name):
    # ``import rnnkit; rnnkit.nn.LSTM`` works like torch.nn, without importing every
    # front end at start-up.
    if name in _SUBMODULES:
        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
