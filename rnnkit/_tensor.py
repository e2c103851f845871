"""``Tensor``: an ndarray plus what reverse-mode autograd needs to know about it.

A tensor holds its values in ``.data`` (a NumPy array), and, when it was produced by a
differentiable op while grad mode was on, a reference to that op's graph ``Node``. Leaves
created with ``requires_grad=True`` receive ``.grad`` when ``backward()`` runs.
The ops themselves live in ``rnnkit.functional``; the methods here only forward to them.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from rnnkit import autograd
from rnnkit.dtypes import CPU, DEFAULT_DTYPE, Size, as_dtype, check_device
from rnnkit.dtypes import bool_, float32, float64, int64  # noqa: F401  (re-exported)

_as_dtype = as_dtype  # the name the functional ops and modules import
_NO_DATA = object()   # Tensor() with no argument at all


class Tensor:
    """An n-dimensional array that can record the ops applied to it for autograd.

    ``.data`` is the NumPy array of values, ``.grad`` the accumulated gradient (a Tensor of
    the same shape, or None), ``.requires_grad`` whether gradients flow to it.
    Build one with :func:`rnnkit.tensor` (dtype inferred like ``torch.tensor``), with the
    creation functions (``rnnkit.zeros``, ``rnnkit.randn``...) or, as in PyTorch, with the
    legacy constructor:

    - ``Tensor(2, 3)`` or ``Tensor(x.size())``: a float32 tensor of shape (2, 3), filled with
      zeros (PyTorch leaves it uninitialised);
    - ``Tensor([1, 2])``, ``Tensor((2, 3))``: data (a tuple is data, as in PyTorch), always
      float32 whatever the Python values' types;
    - ``Tensor()``: an empty float32 tensor of shape (0,).

    Where rnnkit differs from PyTorch's legacy constructor: a NumPy array (or NumPy scalar)
    is data that keeps its own dtype and memory (an int64 array stays int64, a float64 one
    float64; PyTorch converts both to float32), because every op builds its result this way;
    ``dtype=``, ``requires_grad=`` and ``device="cpu"`` are accepted as keywords (PyTorch's
    legacy constructor takes only ``device``). ``Tensor(other_tensor)`` shares its values and
    dtype, as PyTorch's does.
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "_index", "__weakref__")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor.__rop__

    def __init__(self, data=_NO_DATA, *sizes, requires_grad=False, dtype=None, device=None,
                 _node=None, _index=0):
        # Every op wraps its ndarray result here: that case is checked first and costs
        # little more than the assignment (object arrays go on to the error below).
        if (type(data) is np.ndarray and dtype is None and not sizes
                and not data.dtype.hasobject):
            self.data = data
        else:
            self.data = legacy_array(data, sizes, dtype)
        if device is not None:
            check_device(device, "Tensor")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad: only floating-point tensors can require "
                            f"gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._node = _node
        self._index = _index

    # -- graph construction (used by every op) ----------------------------------------
    @staticmethod
    def _make(data, parents, backward, name=""):
        """Wrap an op's result; record ``backward`` if any parent requires grad."""
        if autograd.is_grad_enabled() and any(p.requires_grad for p in parents):
            node = autograd.Node(tuple(parents), backward, [(data.shape, data.dtype)], name)
            return Tensor(data, requires_grad=True, _node=node)
        return Tensor(data)

    @staticmethod
    def _make_many(datas, parents, backward, name=""):
        """Wrap a multi-output op's results, sharing one graph node."""
        if autograd.is_grad_enabled() and any(p.requires_grad for p in parents):
            node = autograd.Node(tuple(parents), backward,
                                 [(d.shape, d.dtype) for d in datas], name)
            return tuple(Tensor(d, requires_grad=True, _node=node, _index=i)
                         for i, d in enumerate(datas))
        return tuple(Tensor(d) for d in datas)

    # -- autograd ----------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Compute d(self)/d(leaf) for every leaf and add it to ``leaf.grad``.

        gradient: d(loss)/d(self), the same shape as self; may be omitted for a
        one-element tensor (it is then 1).
        """
        autograd.backward(self, gradient, retain_graph)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (parameters, inputs)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor, or None for a leaf."""
        return self._node

    def detach(self):
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (leaves only) and return self."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad of a non-leaf "
                               "tensor; use detach()")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_: only floating-point tensors can require "
                            f"gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    # -- NumPy interop -----------------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array (shared memory; works whether or not grad is on)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a "
                             f"Python scalar, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The values as nested Python lists of Python numbers (a 0-d tensor: a number)."""
        return self.data.tolist()

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got dtype "
                            f"{self.data.dtype}")
        return operator.index(self.item())

    # -- metadata ----------------------------------------------------------------------
    @property
    def shape(self):
        """The shape as NumPy's plain tuple (``size()`` gives it as a ``Size``)."""
        return self.data.shape

    @property
    def dtype(self):
        """The NumPy dtype of the values (``rnnkit.float32``, ``rnnkit.long``...)."""
        return self.data.dtype

    @property
    def ndim(self):
        """The number of dimensions (also ``dim()``)."""
        return self.data.ndim

    @property
    def device(self):
        """Always ``device("cpu")``: rnnkit computes on the CPU."""
        return CPU

    is_cuda = False

    def dim(self):
        """The number of dimensions."""
        return self.data.ndim

    def size(self, dim=None):
        """The shape as a ``Size``, or its ``dim``-th entry (``dim`` may be negative)."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[normalize_dim(dim, self.data.ndim)]

    def numel(self):
        """The number of elements."""
        return self.data.size

    def is_contiguous(self):
        """Whether the values are laid out in row-major order without gaps."""
        return self.data.flags.c_contiguous

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (DEFAULT_DTYPE, int64, bool_):   # PyTorch's defaults
            extra += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True" if self.is_leaf else f", grad_fn=<{self._node.name}>"
        return f"tensor({body}{extra})"

    def __bool__(self):
        return bool(self.data)

    def __hash__(self):
        return id(self)

    # -- dtype and device ----------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """This tensor in another dtype, PyTorch's ``Tensor.to``.

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``
        (its dtype) and the keywords. Returns self when nothing changes, unless
        ``copy=True``; a cast between float dtypes is differentiable. The only device is
        the CPU; ``non_blocking`` has no effect on the CPU (as in PyTorch).
        """
        for arg in args:
            if isinstance(arg, Tensor):
                kind, value = "dtype", arg.dtype
            elif (isinstance(arg, (str, int)) or type(arg).__name__ == "device") and not \
                    isinstance(arg, bool):  # a device (also torch's), or a device index
                kind, value = "device", arg
            else:
                kind, value = "dtype", as_dtype(arg)
            if (dtype if kind == "dtype" else device) is not None:
                raise TypeError(f"to(): got the {kind} twice (arguments {args!r})")
            if kind == "dtype":
                dtype = value
            else:
                device = value
        check_device(device, "to()")
        out = self if dtype is None else F.cast(self, dtype)
        return F.clone(out) if copy and out is self else out

    def cpu(self):
        """Self: rnnkit's tensors always live on the CPU."""
        return self

    def cuda(self, *args, **kwargs):
        """Refused: rnnkit computes on the CPU only."""
        raise RuntimeError("cuda(): rnnkit computes on the CPU only; leave tensors where "
                           "they are (or use .to('cpu'), which is a no-op)")

    def float(self):
        """This tensor as float32 (self when it already is)."""
        return F.cast(self, float32)

    def double(self):
        """This tensor as float64 (self when it already is)."""
        return F.cast(self, float64)

    def half(self):
        """This tensor as float16 (self when it already is)."""
        return F.cast(self, np.float16)

    def long(self):
        """This tensor as int64 (outside the graph)."""
        return F.cast(self, int64)

    def int(self):
        """This tensor as int32 (outside the graph)."""
        return F.cast(self, np.int32)

    def bool(self):
        """This tensor as bool (non-zero is True; outside the graph)."""
        return F.cast(self, bool_)

    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return F.cast(self, other.dtype)

    # new_*: like the creation functions, in this tensor's dtype unless ``dtype`` is given.
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size``."""
        return creation.zeros(*size, dtype=self._own(dtype), device=device,
                              requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size``."""
        return creation.ones(*size, dtype=self._own(dtype), device=device,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """A tensor of ``size``, zero-filled (see ``rnnkit.empty``)."""
        return creation.empty(*size, dtype=self._own(dtype), device=device,
                              requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """``fill_value`` everywhere in ``size`` (a tuple)."""
        return creation.full(size, fill_value, dtype=self._own(dtype), device=device,
                             requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of ``data``."""
        return creation.tensor(data, dtype=self._own(dtype), device=device,
                               requires_grad=requires_grad)

    def _own(self, dtype):
        return self.data.dtype if dtype is None else dtype

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, other): return F.add(self, other)
    def __radd__(self, other): return F.add(other, self)
    def __sub__(self, other): return F.sub(self, other)
    def __rsub__(self, other): return F.sub(other, self)
    def __mul__(self, other): return F.mul(self, other)
    def __rmul__(self, other): return F.mul(other, self)
    def __truediv__(self, other): return F.div(self, other)
    def __rtruediv__(self, other): return F.div(other, self)
    def __floordiv__(self, other): return F.div(self, other, rounding_mode="floor")
    def __rfloordiv__(self, other): return F.div(other, self, rounding_mode="floor")
    def __neg__(self): return F.neg(self)
    def __pow__(self, other): return F.pow(self, other)
    def __rpow__(self, other): return F.pow(other, self)
    def __matmul__(self, other): return F.matmul(self, other)
    def __rmatmul__(self, other): return F.matmul(other, self)

    # Comparisons give boolean tensors outside the graph, as in PyTorch.
    def __eq__(self, other): return Tensor(self.data == _raw(other))
    def __ne__(self, other): return Tensor(self.data != _raw(other))
    def __lt__(self, other): return Tensor(self.data < _raw(other))
    def __le__(self, other): return Tensor(self.data <= _raw(other))
    def __gt__(self, other): return Tensor(self.data > _raw(other))
    def __ge__(self, other): return Tensor(self.data >= _raw(other))

    def __invert__(self):
        """Logical not of a bool tensor, bitwise not of an integer one (outside the graph)."""
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ (invert) needs a bool or integer tensor, got dtype "
                            f"{self.data.dtype}")
        return Tensor(~self.data)

    def __getitem__(self, index): return F.getitem(self, index)

    def __setitem__(self, index, value):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("__setitem__: in-place assignment into a tensor that requires "
                               "grad; wrap it in rnnkit.no_grad() (e.g. for initialisation)")
        self.data[_raw(index)] = _raw(value)

    # -- methods mirroring the functional ops (see there for shapes and gradients) -----
    def exp(self): return F.exp(self)
    def log(self): return F.log(self)
    def tanh(self): return F.tanh(self)
    def sigmoid(self): return F.sigmoid(self)
    def relu(self): return F.relu(self)
    def abs(self): return F.abs(self)
    def sqrt(self): return F.sqrt(self)
    def div(self, other, *, rounding_mode=None): return F.div(self, other, rounding_mode)
    def clamp(self, min=None, max=None): return F.clamp(self, min, max)
    def matmul(self, other): return F.matmul(self, other)
    def softmax(self, dim=-1, dtype=None): return F.softmax(self, dim, dtype=dtype)
    def log_softmax(self, dim=-1, dtype=None): return F.log_softmax(self, dim, dtype=dtype)
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return F.sum(self, dim, keepdim, dtype=dtype)
    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return F.mean(self, dim, keepdim, dtype=dtype)
    def max(self, dim=None, keepdim=False): return F.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return F.min(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return F.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return F.argmin(self, dim, keepdim)
    def topk(self, k, dim=-1, largest=True, sorted=True):
        return F.topk(self, k, dim, largest, sorted)
    def clone(self): return F.clone(self)
    def reshape(self, *shape): return F.reshape(self, _shape_args(shape))
    def view(self, *shape): return F.view(self, _shape_args(shape))
    def transpose(self, dim0, dim1): return F.transpose(self, dim0, dim1)
    def permute(self, *dims): return F.permute(self, _shape_args(dims))
    def flip(self, dims): return F.flip(self, dims)
    def squeeze(self, dim=None): return F.squeeze(self, dim)
    def unsqueeze(self, dim): return F.unsqueeze(self, dim)

    def contiguous(self):
        """Self when row-major already, else a row-major copy (differentiable)."""
        return self if self.data.flags.c_contiguous else F.clone(self)

    @property
    def T(self):
        """The tensor with all its dimensions reversed (differentiable)."""
        return F.permute(self, tuple(range(self.ndim - 1, -1, -1)))


def _raw(x):
    """The ndarray (or plain value / index) behind ``x``."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, tuple):
        return tuple(_raw(i) for i in x)
    return x


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _is_scalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


# These modules need Tensor defined first.
from rnnkit._convert import legacy_array, to_array as _to_array  # noqa: E402
from rnnkit import creation, functional as F  # noqa: E402
from rnnkit.creation import as_tensor, tensor  # noqa: E402,F401  (their old home)
from rnnkit.functional._util import normalize_dim  # noqa: E402
