"""Session-wide state of the Keras-style front end: unique layer names and floatx."""
from __future__ import annotations

import collections
import re

_uids = collections.defaultdict(int)
_floatx = "float32"


def to_snake_case(name):
    """"SimpleRNN" -> "simple_rnn", "GlobalAveragePooling1D" -> "global_average_pooling1d"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix):
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``... (Keras's naming)."""
    n = _uids[prefix]
    _uids[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def clear_session():
    """Forget every generated name, so the next layer is ``dense`` again."""
    _uids.clear()


def floatx():
    """The default float dtype of weights and inputs ("float32")."""
    return _floatx


def set_floatx(dtype):
    """Set the default float dtype: "float32" or "float64"."""
    global _floatx
    if dtype not in ("float32", "float64"):
        raise ValueError(f"set_floatx: dtype must be 'float32' or 'float64', got {dtype!r}")
    _floatx = dtype
