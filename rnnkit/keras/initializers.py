"""Keras's initializers: names and classes, each drawing from a seeded NumPy generator.

Keras convention for fans: a kernel of shape (..., fan_in, fan_out), i.e. (input_dim,
units) for Dense and recurrent layers, receptive field = product of the leading dims.
Exact values differ from Keras's (different random generators); the distributions match.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit.random import get_generator


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Callable ``init(shape, dtype="float32") -> ndarray``."""

    def __init__(self, seed=None):
        self.seed = seed
        self._rng = None

    def _gen(self):
        if self.seed is None:
            return get_generator()
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def __call__(self, shape, dtype="float32"):
        return np.asarray(self.sample(tuple(shape)), dtype=dtype)

    def sample(self, shape):
        raise NotImplementedError

    def get_config(self):
        return {"seed": self.seed} if self.seed is not None else {}

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class Zeros(Initializer):
    """All zeros."""

    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Every value equal to ``value``."""

    def __init__(self, value=0.0):
        super().__init__()
        self.value = value

    def sample(self, shape):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    """U(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def sample(self, shape):
        return self._gen().uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class RandomNormal(Initializer):
    """N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape):
        return self._gen().normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


def _truncated_normal(rng, shape, mean, stddev):
    """N(mean, stddev^2) restricted to two standard deviations (redrawn beyond)."""
    out = rng.normal(size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(size=int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + stddev * out


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with values beyond 2 stddev redrawn."""

    def sample(self, shape):
        return _truncated_normal(self._gen(), shape, self.mean, self.stddev)


class VarianceScaling(Initializer):
    """Scale / fan: ``mode`` fan_in, fan_out or fan_avg; ``distribution`` uniform,
    truncated_normal or untruncated_normal (Keras's definitions)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, "
                             f"got {mode!r}")
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"VarianceScaling: unknown distribution {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def sample(self, shape):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        rng = self._gen()
        if self.distribution == "uniform":
            limit = math.sqrt(3 * var)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0, math.sqrt(var), shape)
        # 0.8796... is the stddev of a unit normal truncated at +-2.
        return _truncated_normal(rng, shape, 0.0, math.sqrt(var) / 0.87962566103423978)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return Initializer.get_config(self)

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling({scale}, {mode!r}, "
                                                      f"{distribution!r})."})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (QR of a normal matrix, signs fixed so
    the result is uniformly distributed); leading dims are flattened into rows."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: needs a shape of at least 2 dimensions, got "
                             f"{shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._gen().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        super().__init__()
        self.gain = gain

    def sample(self, shape):
        if len(shape) != 2:
            raise ValueError(f"Identity: needs a 2-D shape, got {shape}")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


_NAMES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity,
}


def get(identifier):
    """An initializer from a name ("glorot_uniform"), a class name, an instance, a
    ``{"class_name", "config"}`` dict, or any callable ``(shape, dtype)``."""
    if isinstance(identifier, Initializer) or (callable(identifier)
                                               and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"initializer: cannot interpret {identifier!r}; expected a name such "
                     f"as 'glorot_uniform', an Initializer, or a callable")


def _lookup(name):
    cls = _NAMES.get(name) or globals().get(name)
    if not (isinstance(cls, type) and issubclass(cls, Initializer)):
        raise ValueError(f"initializer: unknown name {name!r}; known: {sorted(_NAMES)}")
    return cls


def serialize(init):
    """``{"class_name", "config"}`` for an initializer (for model files)."""
    return {"class_name": type(init).__name__, "config": init.get_config()}
