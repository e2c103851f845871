"""Weight initializers: NumPy draws of a given shape, and PyTorch-style in-place fills.

Every array function returns a new ndarray, ``fn(shape, ..., dtype=float32,
generator=None)``; ``generator`` is anything :func:`rnnkit.random.get_generator` accepts
(None -> the global generator that :func:`rnnkit.manual_seed` resets). The in-place
functions (``xavier_uniform_(tensor)``, ...) fill an rnnkit Tensor's values under
``no_grad`` and return the tensor, like ``torch.nn.init``.

Two families, named after the framework whose conventions they reproduce:

=========  ======================================  ========================  ==============
family     functions                               fans from (``layout``)    "normal" means
=========  ======================================  ========================  ==============
PyTorch    ``xavier_*``, ``kaiming_*``             weight (out, in, *k)      plain normal
Keras      ``glorot_*``, ``he_*``, ``lecun_*``     kernel (*k, in, out)      truncated at 2 sd
=========  ======================================  ========================  ==============

Each takes ``layout="torch"`` or ``"keras"`` to use the other fan convention. Keras's
"normal" variants draw N(0, s^2 / 0.8796^2) and redraw beyond two of those standard
deviations, so the values end with standard deviation s; PyTorch's draw N(0, s^2).

Truncated normals: :func:`truncated_normal` takes absolute bounds ``[a, b]`` like
``torch.nn.init.trunc_normal_``; :func:`truncated_normal_keras` takes Keras's
``TruncatedNormal`` meaning (redraw beyond ``mean +- 2 stddev``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.autograd import no_grad
from rnnkit.random import get_generator

# Standard deviation of a unit normal truncated to [-2, 2] (Keras divides by it).
_TRUNCATED_STD = 0.87962566103423978


# -- arguments -----------------------------------------------------------------------------
def _shape(shape):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"shape: expected an int or a sequence of ints, got {shape!r}") from None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
               for s in shape):
        raise ValueError(f"shape: every dimension must be a non-negative int, got {shape!r}")
    return tuple(int(s) for s in shape)


def _float_dtype(dtype, name="dtype"):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"{name}: random initializers draw floating-point values, got "
                         f"dtype {dtype}")
    return dtype


def _finite(name, value):
    if not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite real number, got {value!r}")
    return float(value)


# -- fans and gains --------------------------------------------------------------------------
def fans_torch(shape):
    """(fan_in, fan_out) of a PyTorch weight of shape (out, in, *kernel).

    fan_in = in * prod(kernel), fan_out = out * prod(kernel), as
    ``torch.nn.init._calculate_fan_in_and_fan_out``; needs at least 2 dimensions.
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"shape: PyTorch fans need a weight of at least 2 dimensions "
                         f"(out, in, *kernel), got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def fans_keras(shape):
    """(fan_in, fan_out) of a Keras kernel of shape (*kernel, in, out).

    fan_in = in * prod(kernel), fan_out = out * prod(kernel); a vector of length n has
    fans (n, n) and a scalar (1, 1), as Keras's ``compute_fans``.
    """
    shape = _shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def fans(shape, layout="torch"):
    """(fan_in, fan_out) under ``layout`` "torch" (out, in, *k) or "keras" (*k, in, out)."""
    if layout == "torch":
        return fans_torch(shape)
    if layout == "keras":
        return fans_keras(shape)
    raise ValueError(f"layout: expected 'torch' or 'keras', got {layout!r}")


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for ``nonlinearity`` (``torch.nn.init.calculate_gain``).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); selu: 3/4;
    leaky_relu: sqrt(2 / (1 + slope^2)) with slope ``param`` (default 0.01).
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"param: negative_slope must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"nonlinearity: unsupported {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR)}, tanh, relu, leaky_relu, selu")


# -- basic distributions ---------------------------------------------------------------------
def zeros(shape, *, dtype=np.float32):
    """An array of zeros of ``shape``."""
    return np.zeros(_shape(shape), dtype=dtype)


def ones(shape, *, dtype=np.float32):
    """An array of ones of ``shape``."""
    return np.ones(_shape(shape), dtype=dtype)


def constant(shape, value, *, dtype=np.float32):
    """An array of ``shape`` with every entry ``value``."""
    return np.full(_shape(shape), value, dtype=dtype)


def eye(shape, gain=1.0, *, dtype=np.float32):
    """``gain`` times the (rectangular) identity of a 2-D ``shape`` (rows, cols)."""
    shape = _shape(shape)
    if len(shape) != 2:
        raise ValueError(f"shape: eye needs a 2-D shape (rows, cols), got {shape}")
    return (_finite("gain", gain) * np.eye(*shape)).astype(dtype)


identity = eye


def uniform(shape, a=0.0, b=1.0, *, dtype=np.float32, generator=None):
    """Draws from U(a, b); ``shape`` any shape."""
    a, b = _finite("a", a), _finite("b", b)
    if a > b:
        raise ValueError(f"a: the lower bound must not exceed b, got a={a}, b={b}")
    dtype = _float_dtype(dtype)
    return get_generator(generator).uniform(a, b, _shape(shape)).astype(dtype)


def normal(shape, mean=0.0, std=1.0, *, dtype=np.float32, generator=None):
    """Draws from N(mean, std^2); ``shape`` any shape."""
    mean, std = _finite("mean", mean), _finite("std", std)
    if std < 0:
        raise ValueError(f"std: must be >= 0, got {std}")
    dtype = _float_dtype(dtype)
    return get_generator(generator).normal(mean, std, _shape(shape)).astype(dtype)


def truncated_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, *, dtype=np.float32,
                     generator=None):
    """Draws from N(mean, std^2) conditioned on [a, b]; bounds in absolute units.

    PyTorch's ``trunc_normal_`` meaning: with the defaults a=-2, b=2 the cut lies at
    +-2 *absolute*, which is 2 standard deviations only when std=1 (for Keras's
    "2 standard deviations" use :func:`truncated_normal_keras`). Sampling is exact
    rejection, so any interval works, even one far in a tail.
    """
    mean, std = _finite("mean", mean), _finite("std", std)
    a, b = float(a), float(b)
    if std <= 0:
        raise ValueError(f"std: must be > 0, got {std}")
    if math.isnan(a) or math.isnan(b) or not a < b:
        raise ValueError(f"a: the lower bound must be below b, got a={a}, b={b}")
    dtype = _float_dtype(dtype)
    shape = _shape(shape)
    z = _standard_truncated_normal((a - mean) / std, (b - mean) / std, math.prod(shape),
                                   get_generator(generator))
    return np.clip(mean + std * z, a, b).reshape(shape).astype(dtype)


def truncated_normal_keras(shape, mean=0.0, stddev=0.05, *, dtype=np.float32,
                           generator=None):
    """Keras's ``TruncatedNormal``: N(mean, stddev^2), redrawn beyond mean +- 2 stddev."""
    stddev = _finite("stddev", stddev)
    return truncated_normal(shape, mean, stddev, mean - 2 * stddev, mean + 2 * stddev,
                            dtype=dtype, generator=generator)


def _standard_truncated_normal(lo, hi, n, rng):
    """``n`` draws of N(0, 1) conditioned on [lo, hi] (float64), by rejection.

    The proposal is picked so that at least about a third of the draws are accepted:
    the normal itself when [lo, hi] holds a wide stretch around 0, a uniform on [lo, hi]
    when the interval is narrow, and for a tail an exponential from lo with the rate
    of Robert (1995), "Simulation of truncated normal variables".
    """
    if hi <= 0.0:  # mirror a left interval onto the right half-line
        return -_standard_truncated_normal(-hi, -lo, n, rng)
    if lo < 0.0 and hi - lo > 1.0:
        def draw(k):
            x = rng.standard_normal(k)
            return x[(x >= lo) & (x <= hi)]
    elif lo < 0.0 or hi * hi - lo * lo <= 2.0:
        peak = max(lo, 0.0)  # where the density on [lo, hi] is highest

        def draw(k):
            x = rng.uniform(lo, hi, k)
            return x[rng.random(k) < np.exp((peak * peak - x * x) / 2)]
    else:
        rate = (lo + math.sqrt(lo * lo + 4.0)) / 2

        def draw(k):
            x = lo + rng.exponential(1.0 / rate, k)
            return x[(x <= hi) & (rng.random(k) < np.exp(-((x - rate) ** 2) / 2))]

    out, filled = np.empty(n), 0
    while filled < n:
        x = draw(2 * (n - filled) + 16)[:n - filled]
        out[filled:filled + x.size] = x
        filled += x.size
    return out


# -- variance scaling --------------------------------------------------------------------------
def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="keras", *, dtype=np.float32, generator=None):
    """Keras's ``VarianceScaling``: values of variance ``scale / n``, n from ``mode``.

    mode: "fan_in", "fan_out" or "fan_avg" ((fan_in + fan_out) / 2), fans under
    ``layout``; n is at least 1. distribution: "uniform" (U(-sqrt(3 v), sqrt(3 v))),
    "untruncated_normal" (N(0, v)) or "truncated_normal" (N(0, v / 0.8796^2) redrawn
    beyond 2 of its standard deviations, which leaves variance v). Every other
    variance-scaled initializer here is this function with fixed arguments.
    """
    scale = _finite("scale", scale)
    if scale <= 0:
        raise ValueError(f"scale: must be > 0, got {scale}")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"mode: expected 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
    if distribution not in ("uniform", "untruncated_normal", "truncated_normal"):
        raise ValueError(f"distribution: expected 'uniform', 'untruncated_normal' or "
                         f"'truncated_normal', got {distribution!r}")
    shape = _shape(shape)
    fan_in, fan_out = fans(shape, layout)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    var = scale / max(1.0, n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * var)
        return uniform(shape, -limit, limit, dtype=dtype, generator=generator)
    if distribution == "untruncated_normal":
        return normal(shape, 0.0, math.sqrt(var), dtype=dtype, generator=generator)
    return truncated_normal_keras(shape, 0.0, math.sqrt(var) / _TRUNCATED_STD, dtype=dtype,
                                  generator=generator)


def xavier_uniform(shape, gain=1.0, *, layout="torch", dtype=np.float32, generator=None):
    """PyTorch's ``xavier_uniform_``: U(-l, l), l = gain * sqrt(6 / (fan_in + fan_out))."""
    return variance_scaling(shape, _finite("gain", gain) ** 2, "fan_avg", "uniform", layout,
                            dtype=dtype, generator=generator)


def xavier_normal(shape, gain=1.0, *, layout="torch", dtype=np.float32, generator=None):
    """PyTorch's ``xavier_normal_``: plain N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    return variance_scaling(shape, _finite("gain", gain) ** 2, "fan_avg",
                            "untruncated_normal", layout, dtype=dtype, generator=generator)


def glorot_uniform(shape, gain=1.0, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``glorot_uniform``: :func:`xavier_uniform` with Keras's fans (in, out)."""
    return xavier_uniform(shape, gain, layout=layout, dtype=dtype, generator=generator)


def glorot_normal(shape, gain=1.0, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``glorot_normal``: truncated normal of std gain * sqrt(2 / (fan_in + fan_out))
    after truncation (drawn with stddev that / 0.8796, cut at 2 of those)."""
    return variance_scaling(shape, _finite("gain", gain) ** 2, "fan_avg", "truncated_normal",
                            layout, dtype=dtype, generator=generator)


def _kaiming_scale(a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    return calculate_gain(nonlinearity, a) ** 2


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                    layout="torch", dtype=np.float32, generator=None):
    """PyTorch's ``kaiming_uniform_``: U(-l, l), l = gain * sqrt(3 / fan).

    gain = ``calculate_gain(nonlinearity, a)`` (a: leaky_relu's negative slope),
    fan = fan_in or fan_out by ``mode``.
    """
    return variance_scaling(shape, _kaiming_scale(a, mode, nonlinearity), mode, "uniform",
                            layout, dtype=dtype, generator=generator)


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                   layout="torch", dtype=np.float32, generator=None):
    """PyTorch's ``kaiming_normal_``: plain N(0, s^2), s = gain / sqrt(fan)."""
    return variance_scaling(shape, _kaiming_scale(a, mode, nonlinearity), mode,
                            "untruncated_normal", layout, dtype=dtype, generator=generator)


def he_uniform(shape, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``he_uniform``: U(-l, l), l = sqrt(6 / fan_in)."""
    return variance_scaling(shape, 2.0, "fan_in", "uniform", layout, dtype=dtype,
                            generator=generator)


def he_normal(shape, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``he_normal``: truncated normal of std sqrt(2 / fan_in) after truncation."""
    return variance_scaling(shape, 2.0, "fan_in", "truncated_normal", layout, dtype=dtype,
                            generator=generator)


def lecun_uniform(shape, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``lecun_uniform``: U(-l, l), l = sqrt(3 / fan_in)."""
    return variance_scaling(shape, 1.0, "fan_in", "uniform", layout, dtype=dtype,
                            generator=generator)


def lecun_normal(shape, *, layout="keras", dtype=np.float32, generator=None):
    """Keras's ``lecun_normal``: truncated normal of std sqrt(1 / fan_in) after truncation."""
    return variance_scaling(shape, 1.0, "fan_in", "truncated_normal", layout, dtype=dtype,
                            generator=generator)


# -- orthogonal --------------------------------------------------------------------------------
def orthogonal(shape, gain=1.0, *, layout="torch", dtype=np.float32, generator=None):
    """``gain`` times a uniformly random (semi-)orthogonal matrix, reshaped to ``shape``.

    Saxe et al. (2013). The shape is viewed as a matrix (rows, cols): PyTorch
    (``layout="torch"``) keeps rows = shape[0] and flattens the trailing dims; Keras
    (``layout="keras"``) keeps cols = shape[-1] and flattens the leading ones. Rows are
    orthonormal when rows <= cols, columns otherwise. Q comes from the QR of a standard
    normal matrix, its columns' signs set by diag(R) so the draw is Haar-distributed
    (Mezzadri, "How to generate random matrices from the classical compact groups").
    """
    shape = _shape(shape)
    gain = _finite("gain", gain)
    if len(shape) < 2:
        raise ValueError(f"shape: orthogonal needs at least 2 dimensions, got {shape}")
    if layout not in ("torch", "keras"):
        raise ValueError(f"layout: expected 'torch' or 'keras', got {layout!r}")
    dtype = _float_dtype(dtype)
    size = math.prod(shape)
    if size == 0:
        return np.zeros(shape, dtype=dtype)
    rows = shape[0] if layout == "torch" else size // shape[-1]
    cols = size // rows
    tall = get_generator(generator).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(tall)          # q: (max, min) with orthonormal columns
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(dtype)


# -- in place on tensors -----------------------------------------------------------------------
def _fill_(name, tensor, fn, *args, random=True, **kwargs):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: tensor must be an rnnkit Tensor, got {type(tensor).__name__}")
    if random:
        _float_dtype(tensor.dtype, name=f"{name}: tensor")
    with no_grad():
        tensor.data[...] = fn(tensor.shape, *args, dtype=tensor.dtype, **kwargs)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` with U(a, b) draws in place; returns it."""
    return _fill_("uniform_", tensor, uniform, a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` with N(mean, std^2) draws in place; returns it."""
    return _fill_("normal_", tensor, normal, mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` with N(mean, std^2) draws conditioned on absolute bounds [a, b]."""
    return _fill_("trunc_normal_", tensor, truncated_normal, mean, std, a, b,
                  generator=generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Fill a weight (out, in, *k) in place with :func:`xavier_uniform`; returns it."""
    return _fill_("xavier_uniform_", tensor, xavier_uniform, gain, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Fill a weight (out, in, *k) in place with :func:`xavier_normal`; returns it."""
    return _fill_("xavier_normal_", tensor, xavier_normal, gain, generator=generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill a weight (out, in, *k) in place with :func:`kaiming_uniform`; returns it."""
    return _fill_("kaiming_uniform_", tensor, kaiming_uniform, a, mode, nonlinearity,
                  generator=generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill a weight (out, in, *k) in place with :func:`kaiming_normal`; returns it."""
    return _fill_("kaiming_normal_", tensor, kaiming_normal, a, mode, nonlinearity,
                  generator=generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill ``tensor`` (at least 2-D, rows = first dim) with :func:`orthogonal`; returns it."""
    return _fill_("orthogonal_", tensor, orthogonal, gain, generator=generator)


def zeros_(tensor):
    """Set every entry of ``tensor`` to 0 in place; returns it."""
    return _fill_("zeros_", tensor, zeros, random=False)


def ones_(tensor):
    """Set every entry of ``tensor`` to 1 in place; returns it."""
    return _fill_("ones_", tensor, ones, random=False)


def constant_(tensor, val):
    """Set every entry of ``tensor`` to ``val`` in place; returns it."""
    return _fill_("constant_", tensor, constant, val, random=False)


def eye_(tensor):
    """Set a 2-D ``tensor`` to the (rectangular) identity in place; returns it."""
    return _fill_("eye_", tensor, eye, random=False)
