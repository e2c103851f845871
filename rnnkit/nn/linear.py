"""``Linear``, ``Identity`` and ``Flatten``: the glue layers around a recurrent core."""
from __future__ import annotations

import math

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import as_tensor
from rnnkit.autograd import no_grad
from rnnkit.functional._util import normalize_dim
from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.random import get_generator


def check_size(value, arg, owner, allow_zero=True):
    """``value`` as an int, or a ValueError naming ``arg`` if it is not a valid size."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}: {arg} must be a {kind} int, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x W^T + b, ``torch.nn.Linear``.

    Linear(in_features, out_features, bias=True, dtype=None, generator=None).
    weight: (out_features, in_features); bias: (out_features,) or None.
    Input (*, in_features) -> output (*, out_features).

    Initialisation is PyTorch's: kaiming-uniform with a = sqrt(5) on the weight, which
    works out to U(-1/sqrt(in_features), 1/sqrt(in_features)), and the same bound for the
    bias, drawn from ``rnnkit.random`` (``generator``: None for the global generator).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None, generator=None):
        super().__init__()
        self.in_features = check_size(in_features, "in_features", "Linear")
        self.out_features = check_size(out_features, "out_features", "Linear")
        self.generator = generator
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias from U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        if self.in_features == 0:  # nothing to scale by; PyTorch leaves zeros too
            return
        # gain sqrt(2 / (1 + a^2)) with a = sqrt(5) is sqrt(1/3); times sqrt(3 / fan_in)
        # for a uniform of that standard deviation gives exactly 1/sqrt(fan_in).
        bound = 1.0 / math.sqrt(self.in_features)
        rng = get_generator(self.generator)
        with no_grad():
            for p in (self.weight, self.bias):
                if p is not None:
                    p.data[...] = rng.uniform(-bound, bound, p.shape)

    def forward(self, input):
        """input (*, in_features) -> (*, out_features)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (any shape). Constructor arguments are ignored, as in
    PyTorch, so it can stand in for any layer being switched off."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one, ``torch.nn.Flatten``.

    Input (N, d1, d2, ...) with the defaults start_dim=1, end_dim=-1 -> (N, d1*d2*...).
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, input):
        x = as_tensor(input)
        shape = x.shape if x.ndim else (1,)
        s = normalize_dim(self.start_dim, len(shape), "start_dim")
        e = normalize_dim(self.end_dim, len(shape), "end_dim")
        if s > e:
            raise ValueError(f"Flatten: start_dim ({self.start_dim}) comes after end_dim "
                             f"({self.end_dim}) for an input of shape {x.shape}")
        merged = int(np.prod(shape[s:e + 1]))
        return F.reshape(x, shape[:s] + (merged,) + shape[e + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
