"""``Tensor``: an ndarray plus what reverse-mode autograd needs to know about it.

A tensor holds its values in ``.data`` (a NumPy array), and, when it was produced by a
differentiable op while grad mode was on, a reference to that op's graph ``Node``. Leaves
created with ``requires_grad=True`` receive ``.grad`` when ``backward()`` runs.
The ops themselves live in ``rnnkit.functional``; the methods here only forward to them.
"""
from __future__ import annotations

import numbers

import numpy as np

from rnnkit import autograd

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

DEFAULT_DTYPE = float32


def _as_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "double", "long"):
        dtype = {"float": np.float32, "double": np.float64, "long": np.int64}[dtype]
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype: cannot interpret {dtype!r} as a NumPy dtype") from exc


def _to_array(data, dtype=None):
    """The ndarray behind ``data``, following PyTorch's dtype inference.

    Python floats and lists of them become float32 (the default dtype); NumPy arrays keep
    their dtype (so float64 stays float64); Python ints become int64; bools stay bool.
    """
    dtype = _as_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(DEFAULT_DTYPE)
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if arr.dtype == object:
        raise TypeError(f"data: cannot build a tensor from {type(data).__name__} holding "
                        f"objects of mixed or non-numeric type")
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it for autograd.

    Build one with :func:`rnnkit.tensor`. ``.data`` is the NumPy array of values,
    ``.grad`` the accumulated gradient (a Tensor of the same shape, or None),
    ``.requires_grad`` whether gradients flow to it.
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "_index", "__weakref__")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor.__rop__

    def __init__(self, data, requires_grad=False, dtype=None, _node=None, _index=0):
        self.data = _to_array(data, dtype)
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
        return self.data.tolist()

    # -- metadata ----------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        """The shape, or its ``dim``-th entry (PyTorch's ``Tensor.size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

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
        if self.data.dtype != DEFAULT_DTYPE:
            extra += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True" if self.is_leaf else f", grad_fn=<{self._node.name}>"
        return f"tensor({body}{extra})"

    def __bool__(self):
        return bool(self.data)

    def __hash__(self):
        return id(self)

    # -- dtype conversion ----------------------------------------------------------------
    def to(self, dtype):
        """A copy in ``dtype`` (differentiable), or self when already of that dtype."""
        return F.cast(self, dtype)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, other): return F.add(self, other)
    def __radd__(self, other): return F.add(other, self)
    def __sub__(self, other): return F.sub(self, other)
    def __rsub__(self, other): return F.sub(other, self)
    def __mul__(self, other): return F.mul(self, other)
    def __rmul__(self, other): return F.mul(other, self)
    def __truediv__(self, other): return F.div(self, other)
    def __rtruediv__(self, other): return F.div(other, self)
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

    def __getitem__(self, index): return F.getitem(self, index)

    def __setitem__(self, index, value):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("__setitem__: in-place assignment into a tensor that requires "
                               "grad; wrap it in rnnkit.no_grad() (e.g. for initialisation)")
        self.data[_raw(index)] = _raw(value)

    # -- methods mirroring the functional ops -------------------------------------------
    def exp(self): return F.exp(self)
    def log(self): return F.log(self)
    def tanh(self): return F.tanh(self)
    def sigmoid(self): return F.sigmoid(self)
    def relu(self): return F.relu(self)
    def abs(self): return F.abs(self)
    def sqrt(self): return F.sqrt(self)
    def softmax(self, dim=-1): return F.softmax(self, dim)
    def log_softmax(self, dim=-1): return F.log_softmax(self, dim)
    def sum(self, dim=None, keepdim=False): return F.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return F.mean(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return F.max(self, dim, keepdim)
    def reshape(self, *shape): return F.reshape(self, _shape_args(shape))
    def view(self, *shape): return F.reshape(self, _shape_args(shape))
    def transpose(self, dim0, dim1): return F.transpose(self, dim0, dim1)
    def permute(self, *dims): return F.permute(self, _shape_args(dims))
    def flip(self, dims): return F.flip(self, dims)
    def squeeze(self, dim=None): return F.squeeze(self, dim)
    def unsqueeze(self, dim): return F.unsqueeze(self, dim)
    def argmax(self, dim=None, keepdim=False):
        return Tensor(np.argmax(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

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


def tensor(data, requires_grad=False, dtype=None):
    """Build a :class:`Tensor` from array-like ``data`` (copies it, like ``torch.tensor``).

    dtype: defaults to float32 for Python floats, keeps a NumPy array's own dtype
    (float64 stays float64), int64 for Python ints.
    """
    if isinstance(data, Tensor):
        data = data.data
    arr = _to_array(data, dtype)
    return Tensor(np.array(arr, copy=True), requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    """``data`` as a Tensor, without copying when it already is one of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _as_dtype(dtype)):
        return data
    return Tensor(data, dtype=dtype)


def _is_scalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


from rnnkit import functional as F  # noqa: E402  (the ops need Tensor defined first)
