"""Keras's initializers: names and classes, each drawing from a seeded NumPy generator.

The sampling itself is ``rnnkit.init``'s, with Keras's conventions (``layout="keras"``:
a kernel of shape (..., fan_in, fan_out), i.e. (input_dim, units)). Exact values differ
from Keras's (different random generators); the distributions match.
"""
from __future__ import annotations

import numpy as np

from rnnkit import init
from rnnkit.random import get_generator


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
        return init.uniform(shape, self.minval, self.maxval, dtype=np.float64,
                            generator=self._gen())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class RandomNormal(Initializer):
    """N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape):
        return init.normal(shape, self.mean, self.stddev, dtype=np.float64,
                           generator=self._gen())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with values beyond 2 stddev redrawn."""

    def sample(self, shape):
        return init.truncated_normal_keras(shape, self.mean, self.stddev, dtype=np.float64,
                                           generator=self._gen())


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
        return init.variance_scaling(shape, self.scale, self.mode, self.distribution,
                                     "keras", dtype=np.float64, generator=self._gen())

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
        return init.orthogonal(shape, self.gain, layout="keras", dtype=np.float64,
                               generator=self._gen())

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        super().__init__()
        self.gain = gain

    def sample(self, shape):
        return init.eye(shape, self.gain, dtype=np.float64)

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
