"""Keras's reshaping layers: ``RepeatVector``, ``Reshape`` and ``Permute``.

None of them has weights. None carries a mask on once it changes the layout (as in
Keras 3, where they do not support masking): a mask over time steps means nothing once
the steps are repeated, regrouped or moved to another axis. A ``Reshape`` to the same
shape or an identity ``Permute`` keeps the mask, as Keras 3 on JAX does (its output is
then the input array itself, mask attached). The batch axis never moves.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit import functional as F
from rnnkit.keras.layer import Layer


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_rank(layer, shape, ndim, expected):
    """A ValueError naming ``layer`` unless ``shape`` has ``ndim`` dimensions."""
    if len(shape) != ndim:
        raise ValueError(f"{layer.name}: expected input of shape {expected} ({ndim} "
                         f"dimensions), got shape {tuple(shape)}")


class RepeatVector(Layer):
    """Repeats each vector ``n`` times along a new time axis.

    Input (batch, features) -> output (batch, n, features), every step a copy of the
    input. In an encoder-decoder it hands the encoder's summary to each decoder step.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(n):
            raise TypeError(f"RepeatVector: n must be an integer, got {n!r} of type "
                            f"{type(n).__name__}")
        if n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer, got {n}")
        self.n = int(n)

    def build(self, input_shape):
        _check_rank(self, input_shape, 2, "(batch, features)")
        self.built = True

    def call(self, inputs):
        _check_rank(self, inputs.shape, 2, "(batch, features)")
        step = F.unsqueeze(inputs, 1)                       # (batch, 1, features)
        # n references to one node: the backward adds the n slices of the gradient.
        return F.concat([step] * self.n, 1)

    def compute_output_shape(self, input_shape, **kwargs):
        _check_rank(self, input_shape, 2, "(batch, features)")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


def _validate_target_shape(target_shape):
    try:
        target = tuple(target_shape)
    except TypeError:
        raise TypeError(f"Reshape: target_shape must be a tuple of integers, got "
                        f"{target_shape!r}") from None
    if not all(_is_int(d) for d in target):
        raise TypeError(f"Reshape: target_shape must be a tuple of integers, got {target!r}")
    if any(d < -1 for d in target):
        raise ValueError(f"Reshape: each entry of target_shape must be a non-negative "
                         f"integer, or -1 for one unknown dimension; got {target!r}")
    if target.count(-1) > 1:
        raise ValueError(f"Reshape: target_shape may hold at most one -1, got {target!r}")
    return tuple(int(d) for d in target)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (the batch axis stays).

    Input (batch, *dims) -> output (batch, *target_shape). One entry of target_shape may
    be -1: it is inferred from the sample's size (None while a size is unknown).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = _validate_target_shape(target_shape)
        self.built = True

    def _resolve(self, sample_shape):
        """target_shape with its -1 filled in for samples of ``sample_shape``."""
        target = self.target_shape
        if None in sample_shape:
            return tuple(None if d == -1 else d for d in target)
        size = math.prod(sample_shape)
        known = math.prod(d for d in target if d != -1)
        if -1 not in target:
            if known != size:
                raise ValueError(f"{self.name}: cannot reshape samples of shape "
                                 f"{tuple(sample_shape)} ({size} values) into target_shape "
                                 f"{target} ({known} values)")
            return target
        if known == 0 or size % known:
            raise ValueError(f"{self.name}: cannot reshape samples of shape "
                             f"{tuple(sample_shape)} ({size} values) into target_shape "
                             f"{target}: {size} is not a multiple of {known}")
        return tuple(size // known if d == -1 else d for d in target)

    def call(self, inputs):
        return F.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        same = self._resolve(inputs.shape[1:]) == tuple(inputs.shape[1:])
        return mask if same else None

    def compute_output_shape(self, input_shape, **kwargs):
        return (input_shape[0],) + self._resolve(tuple(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorders the non-batch axes: ``dims`` is a permutation of 1..n (1 = the axis after
    the batch), e.g. ``Permute((2, 1))`` turns (batch, time, features) into
    (batch, features, time)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise TypeError(f"Permute: dims must be a tuple of integers, got {dims!r}") from None
        if not all(_is_int(d) for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(dims)} (the "
                             f"axes after the batch, counted from 1), got {dims!r}")
        self.dims = tuple(int(d) for d in dims)

    def _expected(self):
        return "(batch, " + ", ".join(f"d{i}" for i in range(1, len(self.dims) + 1)) + ")"

    def build(self, input_shape):
        _check_rank(self, input_shape, len(self.dims) + 1, self._expected())
        self.built = True

    def call(self, inputs):
        _check_rank(self, inputs.shape, len(self.dims) + 1, self._expected())
        return F.permute(inputs, (0,) + self.dims)

    def _identity(self):
        return self.dims == tuple(range(1, len(self.dims) + 1))

    def compute_mask(self, inputs, mask=None):
        return mask if self._identity() else None

    def _symbolic_mask(self, in_mask):
        return bool(in_mask) and self._identity()

    def compute_output_shape(self, input_shape, **kwargs):
        _check_rank(self, input_shape, len(self.dims) + 1, self._expected())
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
