"""Activation modules: ``Tanh``, ``Sigmoid``, ``ReLU``, ``Softmax``, ``LogSoftmax``.

Each wraps one op of :mod:`rnnkit.functional`; every one maps an input of any shape (*)
to an output of the same shape.
"""
from __future__ import annotations

from rnnkit import functional as F
from rnnkit.nn.functional import reject_inplace
from rnnkit.nn.module import Module


class Tanh(Module):
    """tanh(x), element-wise."""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element-wise."""

    def forward(self, input):
        return F.sigmoid(input)


class ReLU(Module):
    """max(x, 0), element-wise. ReLU(inplace=False); inplace=True is not supported."""

    def __init__(self, inplace=False):
        super().__init__()
        reject_inplace(inplace, "ReLU")
        self.inplace = False

    def forward(self, input):
        return F.relu(input)


class _AlongDim(Module):
    """Shared constructor of the softmax family: ``dim`` is required (PyTorch's implicit
    choice when it is None is deprecated, and rnnkit does not guess)."""

    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise ValueError(f"{type(self).__name__}: pass dim explicitly, e.g. "
                             f"{type(self).__name__}(dim=-1)")
        self.dim = int(dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along ``dim``: Softmax(dim)."""

    def forward(self, input):
        return F.softmax(input, self.dim)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed stably: LogSoftmax(dim)."""

    def forward(self, input):
        return F.log_softmax(input, self.dim)
