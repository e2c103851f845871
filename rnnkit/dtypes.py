"""The small value types of PyTorch's API: dtypes, the device, and ``Size``.

A dtype is a ``numpy.dtype`` under PyTorch's names (``rnnkit.float32``, ``rnnkit.long``,
``rnnkit.bool``...), so ``dtype=`` accepts either spelling. rnnkit computes on the CPU
only: ``device("cpu")`` is the one device, and every ``device=`` argument accepts it (or
``None``, a ``"cpu"`` string, a ``torch.device("cpu")``) and refuses any other with an
error that names it. ``Size`` is the tuple that ``Tensor.size()`` returns.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

DEFAULT_DTYPE = float32

# PyTorch's aliases. They shadow builtins in this module's namespace, so the code below
# reaches Python's own types through ``builtins``.
float, double, half = float32, float64, float16
long, int, short = int64, int32, int16
bool = bool_

_NAMED = {"float": float32, "double": float64, "half": float16, "long": int64,
          "int": int32, "short": int16, "bool": bool_}


def as_dtype(dtype):
    """``dtype`` (None, a numpy dtype or type, a Python type, or a name) as a numpy dtype.

    PyTorch's names "float", "double", "half", "long", "int", "short", "bool" mean what
    they mean in PyTorch (float32, float64, ...), not NumPy's platform types.
    """
    if dtype is None:
        return None
    if type(dtype) is np.dtype:
        return dtype
    if builtins.isinstance(dtype, str) and dtype in _NAMED:
        return _NAMED[dtype]
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype: cannot interpret {dtype!r} as a dtype (expected e.g. "
                        f"rnnkit.float32, rnnkit.long or a NumPy dtype)") from exc


class device:
    """A device as PyTorch names it: ``device("cpu")``, ``device("cuda", 0)``, ``"cuda:1"``.

    Any device may be named (so ``device("cuda" if cuda_available else "cpu")`` runs), but
    rnnkit computes on the CPU only: handing a non-CPU device to a tensor is an error.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if builtins.isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not builtins.isinstance(type, str) or not type:
            raise TypeError(f"device: expected a device string such as 'cpu', got {type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index; pass no index")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type + ':' + idx!r} "
                                 f"(expected 'type' or 'type:index', e.g. 'cuda:0')")
            index = builtins.int(idx)
        if index is not None and (builtins.isinstance(index, builtins.bool)
                                  or operator.index(index) < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        self.type = type
        self.index = None if index is None else operator.index(index)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __eq__(self, other):
        if builtins.isinstance(other, str):
            other = device(other)
        if not builtins.isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(dev, fn):
    """Accept None or the CPU (``"cpu"``, ``"cpu:0"``, ``device("cpu")``, torch's); else raise.

    fn: the caller's name, for the message.
    """
    if dev is None or dev is CPU:
        return
    try:
        d = device(str(dev)) if not builtins.isinstance(dev, device) else dev
    except (TypeError, ValueError):
        d = None
    if d is None or d.type != "cpu" or d.index not in (None, 0):
        raise RuntimeError(f"{fn}: device={dev!r} is not available: rnnkit computes on the "
                           f"CPU only; pass device='cpu' or leave device out")


class Size(tuple):
    """The shape of a tensor as ``Tensor.size()`` returns it: a tuple of ints.

    Like ``torch.Size``, passing one to ``rnnkit.Tensor`` means sizes, not data.
    """

    __slots__ = ()

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"rnnkit.Size({list(self)})"
