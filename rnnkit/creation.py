"""Creating tensors as PyTorch does: from data (``tensor``, ``as_tensor``, ``from_numpy``),
filled (``zeros``, ``full``...), ranges (``arange``, ``linspace``) and random draws.

Signatures and dtype rules are PyTorch's: sizes as varargs or one tuple (``zeros(2, 3)``,
``zeros((2, 3))``, ``zeros(size=(2, 3))``); ``dtype=`` defaults to float32 for floating
results and int64 for integer ones (``arange(5)``, ``randint``, ``randperm``);
``requires_grad=`` makes a leaf (floating dtypes only); ``device=`` accepts the CPU only.
Random draws come from rnnkit's seeded generator (``rnnkit.manual_seed`` makes them
repeatable) or from ``generator=`` (an int seed or a ``numpy.random.Generator``); the
streams are NumPy's, so the numbers differ from PyTorch's for the same seed.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from rnnkit._convert import read_sizes, to_array
from rnnkit._tensor import DEFAULT_DTYPE, Tensor, as_dtype, check_device, float32, int64
from rnnkit.random import get_generator


def _shape(sizes, size, fn):
    """The shape from ``*sizes`` or ``size=`` (exactly one of them)."""
    if size is not None:
        if sizes:
            raise TypeError(f"{fn}: pass the sizes either positionally or as size=, not both")
        sizes = (size,)
    if not sizes:
        raise TypeError(f"{fn}: missing the size (e.g. {fn}(2, 3) or {fn}((2, 3)))")
    return read_sizes(sizes, fn)


def _finish(arr, requires_grad, device, fn):
    check_device(device, fn)
    return Tensor(arr, requires_grad=requires_grad)


def _dtype(dtype, default=DEFAULT_DTYPE):
    dtype = as_dtype(dtype)
    return default if dtype is None else dtype


# -- from data ----------------------------------------------------------------------------
def tensor(data, requires_grad=False, dtype=None, device=None):
    """Build a :class:`Tensor` from array-like ``data`` (copies it, like ``torch.tensor``).

    dtype: defaults to float32 for Python floats, keeps a NumPy array's own dtype
    (float64 stays float64), int64 for Python ints, bool for bools.
    device: None or the CPU (the only device).
    """
    check_device(device, "tensor")
    if isinstance(data, Tensor):
        data = data.data
    arr = to_array(data, dtype)
    return Tensor(np.array(arr, copy=True), requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a Tensor, sharing memory where it can (``torch.as_tensor``).

    A Tensor of that dtype is returned as is; an ndarray of that dtype is wrapped without a
    copy; anything else is converted as :func:`tensor` does (Python floats -> float32).
    """
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)   # a float cast stays in the graph
    return Tensor(to_array(data, dtype))


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory and dtype (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got "
                        f"{type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: cannot share an array of dtype {ndarray.dtype}; "
                        f"only bool, integer, float and complex arrays are supported")
    return Tensor(ndarray if type(ndarray) is np.ndarray else ndarray.view(np.ndarray))


# -- filled ---------------------------------------------------------------------------
def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``sizes`` (float32 unless ``dtype``)."""
    return _finish(np.zeros(_shape(sizes, size, "zeros"), _dtype(dtype)), requires_grad,
                   device, "zeros")


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``sizes`` (float32 unless ``dtype``)."""
    return _finish(np.ones(_shape(sizes, size, "ones"), _dtype(dtype)), requires_grad,
                   device, "ones")


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``sizes``. PyTorch leaves it uninitialised; rnnkit fills zeros, so
    that a forgotten initialisation gives the same numbers on every run."""
    return _finish(np.zeros(_shape(sizes, size, "empty"), _dtype(dtype)), requires_grad,
                   device, "empty")


def _fill_dtype(value):
    """PyTorch's dtype for a fill value: bool, int64, float32 (default) or complex64."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return int64
    if isinstance(value, numbers.Real):
        return DEFAULT_DTYPE
    if isinstance(value, numbers.Complex):
        return np.dtype(np.complex64)
    raise TypeError(f"full: fill_value must be a number, got {type(value).__name__} "
                    f"{value!r}")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` (a tuple or list) filled with ``fill_value``.

    dtype: defaults to the fill value's (bool, int64 for an int, float32 for a float).
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full: size must be a tuple or list of ints, got "
                        f"{type(size).__name__} {size!r}")
    dtype = _dtype(dtype, _fill_dtype(fill_value))
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _finish(np.full(read_sizes((size,), "full"), value, dtype), requires_grad,
                   device, "full")


# -- shaped like another tensor ----------------------------------------------------------
def _like(input, fn):
    if isinstance(input, Tensor):
        return input.data
    if isinstance(input, np.ndarray):
        return input
    raise TypeError(f"{fn}: input must be a Tensor (or ndarray), got {type(input).__name__}")


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape, in its dtype unless ``dtype`` is given."""
    a = _like(input, "zeros_like")
    return _finish(np.zeros(a.shape, _dtype(dtype, a.dtype)), requires_grad, device,
                   "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    """Ones of ``input``'s shape, in its dtype unless ``dtype`` is given."""
    a = _like(input, "ones_like")
    return _finish(np.ones(a.shape, _dtype(dtype, a.dtype)), requires_grad, device,
                   "ones_like")


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``input``'s shape and dtype (zero-filled, see :func:`empty`)."""
    a = _like(input, "empty_like")
    return _finish(np.zeros(a.shape, _dtype(dtype, a.dtype)), requires_grad, device,
                   "empty_like")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``fill_value`` in ``input``'s shape and dtype (an int dtype truncates 2.7 to 2)."""
    a = _like(input, "full_like")
    _fill_dtype(fill_value)   # the same check of the value as full's
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _finish(np.full(a.shape, value, _dtype(dtype, a.dtype)), requires_grad, device,
                   "full_like")


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) draws of ``input``'s shape and (floating) dtype."""
    a = _like(input, "rand_like")
    return rand(a.shape, generator=generator, dtype=_dtype(dtype, a.dtype), device=device,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal draws of ``input``'s shape and (floating) dtype."""
    a = _like(input, "randn_like")
    return randn(a.shape, generator=generator, dtype=_dtype(dtype, a.dtype), device=device,
                 requires_grad=requires_grad)


# -- ranges -------------------------------------------------------------------------------
def _number(x, name, fn):
    if isinstance(x, Tensor):
        x = x.item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(x).__name__} {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"{fn}: {name} must be finite, got {x!r}")
    return int(x) if isinstance(x, numbers.Integral) else float(x)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` (inclusive) to ``end`` (exclusive) in steps of ``step``.

    ``arange(end)`` starts at 0. dtype: int64 when start, end and step are all ints,
    else float32. The length is ceil((end - start) / step); element i is
    start + i * step, computed in float64 and rounded once to the dtype.
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, n, "arange") for v, n in
                        ((start, "start"), (end, "end"), (step, "step")))
    integral = all(isinstance(v, int) for v in (start, end, step))
    dtype = _dtype(dtype, int64 if integral else DEFAULT_DTYPE)
    if dtype.kind in "iu":   # PyTorch converts the bounds to the integer dtype first
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise ValueError(f"arange: the bounds start={start}, end={end} are inconsistent "
                         f"with the sign of step={step}")
    if all(isinstance(v, int) for v in (start, end, step)):
        sign = (step > 0) - (step < 0)
        n = (end - start + step - sign) // step
        values = start + np.arange(n, dtype=np.int64) * step
    else:
        n = math.ceil((end - start) / step)
        values = start + np.arange(n, dtype=np.float64) * step
    return _finish(values.astype(dtype), requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    Follows PyTorch's formula: with step = (end - start) / (steps - 1), the first half is
    start + step * i and the second half end - step * (steps - 1 - i), computed in the
    dtype (float32 by default; in float64 and truncated for an integer dtype).
    """
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"linspace: steps must be an int, got {type(steps).__name__} "
                        f"{steps!r}")
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    dtype = _dtype(dtype)
    if dtype.kind in "fc":
        work = dtype
    else:   # PyTorch converts the ends to the integer dtype, then steps in float64
        work, start, end = np.dtype(np.float64), int(start), int(end)
    s, e = work.type(start), work.type(end)
    if steps == 1:
        values = np.array([s], work)
    else:
        step = (e - s) / work.type(max(steps - 1, 1))
        i = np.arange(steps)
        half = steps // 2
        values = np.where(i < half, s + step * i.astype(work),
                          e - step * (steps - 1 - i).astype(work)).astype(work)
    return _finish(values.astype(dtype), requires_grad, device, "linspace")


# -- random ----------------------------------------------------------------------------
def _float_dtype(dtype, fn):
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{fn}: dtype must be floating point, got {dtype}")
    return dtype


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform draws from [0, 1) of shape ``sizes`` (float32 unless ``dtype``)."""
    dtype, shape = _float_dtype(dtype, "rand"), _shape(sizes, size, "rand")
    rng = get_generator(generator)
    if dtype in (np.float32, np.float64):
        values = rng.random(shape, dtype=dtype)
    else:   # float16: draw in float32, and keep rounding from reaching 1
        values = np.minimum(rng.random(shape, dtype=np.float32).astype(dtype),
                            np.nextafter(dtype.type(1), dtype.type(0)))
    return _finish(values, requires_grad, device, "rand")


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal draws (mean 0, variance 1) of shape ``sizes`` (float32 default)."""
    dtype, shape = _float_dtype(dtype, "randn"), _shape(sizes, size, "randn")
    rng = get_generator(generator)
    work = dtype if dtype in (np.float32, np.float64) else float32
    values = rng.standard_normal(shape, dtype=work).astype(dtype, copy=False)
    return _finish(values, requires_grad, device, "randn")


def randint(*args, size=None, low=None, high=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)`` (or the keywords). int64 unless ``dtype``."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint: missing the size, e.g. randint(10, (3,))")
        size = args.pop()
    if len(args) > 2:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got "
                        f"{len(args) + 1} positional arguments")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        high = args[0]
    low = 0 if low is None else low
    if high is None:
        raise TypeError("randint: missing high (the exclusive upper bound)")
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"randint: {name} must be an int, got {type(v).__name__} {v!r}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, got {type(size).__name__} "
                        f"{size!r}")
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low}, high={high}")
    dtype = _dtype(dtype, int64)
    if dtype.kind == "b" and (low < 0 or high > 2) or dtype.kind in "iu" and (
            low < np.iinfo(dtype).min or high - 1 > np.iinfo(dtype).max):
        raise ValueError(f"randint: the range [{low}, {high}) does not fit dtype {dtype}")
    values = get_generator(generator).integers(low, high, read_sizes((size,), "randint"),
                                               dtype=np.int64)
    return _finish(values.astype(dtype, copy=False), requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64 unless ``dtype``)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    values = get_generator(generator).permutation(int(n))
    return _finish(values.astype(_dtype(dtype, int64)), requires_grad, device, "randperm")
