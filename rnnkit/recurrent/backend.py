"""Which implementation runs the time loops: the NumPy reference or compiled loops.

"numba" (the accelerated path, ``pip install rnnkit[fast]``) compiles whole time loops
for the default cells, and runs them and the products around them on up to
``get_num_threads()`` cores (``set_num_threads``, or RNNKIT_NUM_THREADS); "numpy" runs the
readable reference in ``scan.py``. "auto"
(the default, or the environment variable ``RNNKIT_BACKEND``) picks numba when it is
installed. Both give the same numbers to float32 round-off; the tests check both.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

from rnnkit.recurrent._threads import get_num_threads, set_num_threads  # noqa: F401

_choice = os.environ.get("RNNKIT_BACKEND", "auto").lower()
_module = None
_tried = False

BACKENDS = ("auto", "numpy", "numba")


def _load():
    global _module, _tried
    if not _tried:
        _tried = True
        try:
            from rnnkit.recurrent import _numba
            _module = _numba
        except ImportError:
            _module = None
    return _module


def available():
    """True when the accelerated (numba) loops can be used on this machine."""
    return _load() is not None


def compiled():
    """The module of compiled loops if the current backend uses them, else None."""
    if _choice == "numpy":
        return None
    return _load()


def matmul(a, b, out=None):
    """a @ b (2-D) for the bulk products around a recurrence: input projections and
    weight gradients. With the accelerated backend, large float products run on rnnkit's
    own kernel and threads (``_numba.matmul`` says why); small ones and everything else
    go to NumPy. out: None, or a C-contiguous array of the product's shape and dtype."""
    m = compiled()
    if (m is not None and a.dtype == b.dtype and a.dtype in _FLOATS
            and m.takes(a.shape[0] * a.shape[1] * b.shape[1])):
        return m.matmul(a, b, out)
    # np.matmul took 17 us where a's inner size is 1 (batch 1), dot 2.5
    return np.dot(a, b) if out is None else np.dot(a, b, out=out)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def get_backend():
    """The backend actually in use: "numba" or "numpy"."""
    return "numba" if compiled() is not None else "numpy"


def set_backend(name):
    """Choose "auto", "numpy" or "numba" (the last raises if numba is not installed)."""
    global _choice
    if name not in BACKENDS:
        raise ValueError(f"set_backend: name must be one of {BACKENDS}, got {name!r}")
    if name == "numba" and not available():
        raise RuntimeError("set_backend('numba'): numba is not installed; install the "
                           "extra: pip install 'rnnkit[fast]'")
    _choice = name


@contextlib.contextmanager
def use_backend(name):
    """Context manager: run the enclosed code with backend ``name``."""
    global _choice
    old = _choice
    set_backend(name)
    try:
        yield
    finally:
        _choice = old


if _choice not in BACKENDS:
    raise ValueError(f"RNNKIT_BACKEND must be one of {BACKENDS}, got {_choice!r}")
