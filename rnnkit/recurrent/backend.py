"""Which implementation runs the time loops: the NumPy reference or compiled loops.

"numba" (the accelerated path, ``pip install rnnkit[fast]``) compiles whole time loops
for the default cells; "numpy" runs the readable reference in ``scan.py``. "auto"
(the default, or the environment variable ``RNNKIT_BACKEND``) picks numba when it is
installed. Both give the same numbers to float32 round-off; the tests check both.
"""
from __future__ import annotations

import contextlib
import os

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
            # the loops call NumPy's own OpenBLAS; without it, the NumPy loops are used
            _module = _numba if _numba.ADDRESSES else None
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


def get_backend():
    """The backend actually in use: "numba" or "numpy"."""
    return "numba" if compiled() is not None else "numpy"


def set_backend(name):
    """Choose "auto", "numpy" or "numba" (the last raises if numba is not installed)."""
    global _choice
    if name not in BACKENDS:
        raise ValueError(f"set_backend: name must be one of {BACKENDS}, got {name!r}")
    if name == "numba" and not available():
        raise RuntimeError("set_backend('numba'): numba is not installed, or this NumPy "
                           "has no OpenBLAS to call; install the extra: "
                           "pip install 'rnnkit[fast]'")
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
