"""Keras's non-recurrent layers: Input, Dense, Embedding, Masking, Dropout, Activation,
Flatten, Concatenate, global pooling and LayerNormalization."""
from __future__ import annotations

import math

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor
from rnnkit.keras import activations, initializers, regularizers
from rnnkit.keras.keras_tensor import KerasTensor, Node
from rnnkit.keras.layer import Layer, positive_int, reject_unsupported


class InputLayer(Layer):
    """The entry of a functional model: holds the input's batch shape (None = any)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 sparse=None, input_shape=None, batch_input_shape=None):
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError("Input: sparse=True is not supported by rnnkit (dense arrays "
                             "only)")
        # Keras 2 spelt them input_shape= and batch_input_shape=.
        given = [(a, v) for a, v in (("shape", shape), ("input_shape", input_shape),
                                     ("batch_shape", batch_shape),
                                     ("batch_input_shape", batch_input_shape))
                 if v is not None]
        if len(given) > 1:
            raise ValueError(f"Input: give the shape one way, got "
                             f"{' and '.join(a for a, _ in given)}")
        if not given:
            raise ValueError("Input: pass shape= (without the batch) or batch_shape=")
        arg, value = given[0]
        if arg in ("batch_shape", "batch_input_shape"):
            if batch_size is not None:
                raise ValueError(f"Input: batch_size={batch_size} with {arg}; the batch "
                                 f"size is {arg}'s first entry")
            batch_shape = tuple(value)
        else:
            batch_shape = (batch_size,) + tuple(value)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        self.output = KerasTensor(self.batch_shape, self.dtype, self.name,
                                  Node(self, [], (), {}, None))
        self.output.node.outputs = self.output

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):
    """A symbolic input of shape (batch, *shape), e.g. ``Input(shape=(None, 5))``."""
    return InputLayer(shape, batch_size, dtype, batch_shape, name).output


class Dense(Layer):
    """activation(inputs @ kernel + bias) on the last axis.

    kernel (input_dim, units), bias (units,). Input (..., input_dim) -> (..., units).
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        reject_unsupported("Dense", kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        self.units, self.use_bias = positive_int("Dense", "units", units), bool(use_bias)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.supports_masking = True

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer,
                                     self.bias_regularizer) if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: input has shape {inputs.shape}, expected last "
                             f"dimension {self.kernel.shape[0]}")
        y = F.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        y = self.activation(y)
        if self.activity_regularizer is not None:
            self._losses = [self.activity_regularizer(y) / y.shape[0]]
        return y

    def compute_output_shape(self, input_shape, **kwargs):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      bias_initializer=initializers.serialize(self.bias_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      bias_regularizer=regularizers.serialize(self.bias_regularizer))
        return config


class Embedding(Layer):
    """Row lookup: integer indices (batch, length) -> vectors (batch, length, output_dim).

    embeddings (input_dim, output_dim), initialised U(-0.05, 0.05), or ``weights``: that
    matrix (or a one-element list of it), e.g. pretrained word vectors. With
    ``mask_zero`` index 0 is padding: the output carries a mask (indices != 0) for later
    layers. ``input_length=500`` (Keras 2) gives the input shape (None, 500), so a
    Sequential model that starts with this layer is built at once; rnnkit honours it,
    where Keras 3 warns that it is deprecated and ignores it.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, input_length=None, **kwargs):
        super().__init__(input_length=input_length, **kwargs)
        reject_unsupported("Embedding", embeddings_constraint=embeddings_constraint)
        self.input_dim = positive_int("Embedding", "input_dim", input_dim)
        self.output_dim = positive_int("Embedding", "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def _input_shape_from_dims(self, input_dim, input_length):
        return (input_length,)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          self.embeddings_regularizer)
        self.built = True

    def call(self, inputs):
        idx = np.asarray(inputs.data)
        if idx.dtype.kind == "f":
            if not np.all(idx == np.round(idx)):
                raise ValueError(f"{self.name}: indices must be integers, got non-integral "
                                 f"values")
            idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.input_dim):
            raise ValueError(f"{self.name}: indices must lie in [0, {self.input_dim}), got "
                             f"values from {idx.min()} to {idx.max()}")
        return F.getitem(self.embeddings, idx)

    def compute_mask(self, inputs, mask=None):
        return (np.asarray(inputs.data) != 0) if self.mask_zero else None

    def _symbolic_mask(self, in_mask):
        return self.mask_zero

    def _output_dtype(self):
        return self.dtype

    def compute_output_shape(self, input_shape, **kwargs):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      mask_zero=self.mask_zero,
                      embeddings_initializer=initializers.serialize(self.embeddings_initializer),
                      embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer))
        return config


class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value``; zeroes them too.

    Input (batch, time, features); the mask (batch, time) travels on.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs):
        return np.any(np.asarray(inputs.data) != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs)
        return inputs * Tensor(keep[..., None].astype(inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def _symbolic_mask(self, in_mask):
        return True

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of inputs while training, scaling the rest by
    1/(1 - rate); the identity at inference."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported by rnnkit")
        self.rate, self.seed = float(rate), seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return F.dropout(inputs, self.rate, training=True, generator=self._rng)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Activation(Layer):
    """Applies ``activation`` element-wise."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(),
                "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def call(self, inputs):
        return F.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape, **kwargs):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(math.prod(rest)))


class Concatenate(Layer):
    """Joins a list of tensors along ``axis`` (default: the last)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 \
                or not all(isinstance(s, tuple) for s in input_shape):
            raise ValueError(f"{self.name}: expected a list of at least 2 tensors, got "
                             f"inputs of shape {input_shape}")
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{self.name}: expected a list of at least 2 tensors")
        return F.concat(list(inputs), self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        ms = [np.ones(t.shape[:-1], bool) if m is None else np.asarray(m, bool)
              for t, m in zip(inputs, mask)]
        return np.logical_and.reduce(ms) if self.axis in (-1, len(inputs[0].shape) - 1) else None

    def compute_output_shape(self, input_shape, **kwargs):
        shape = list(input_shape[0])
        axis = self.axis % len(shape)
        sizes = [s[axis] for s in input_shape]
        shape[axis] = None if None in sizes else sum(sizes)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class GlobalAveragePooling1D(Layer):
    """(batch, steps, features) -> (batch, features): the mean over unmasked steps."""

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format != "channels_last":
            raise ValueError("GlobalAveragePooling1D: only data_format='channels_last' is "
                             "supported")
        self.keepdims = bool(keepdims)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return F.mean(inputs, 1, keepdim=self.keepdims)
        w = Tensor(np.asarray(mask, dtype=inputs.dtype)[..., None])
        total = F.sum(inputs * w, 1, keepdim=self.keepdims)
        count = np.asarray(mask, dtype=inputs.dtype).sum(axis=1, keepdims=True)
        if self.keepdims:
            count = count[..., None]
        return total / Tensor(count)

    def compute_mask(self, inputs, mask=None):
        return None

    def _symbolic_mask(self, in_mask):
        return False

    def compute_output_shape(self, input_shape, **kwargs):
        if self.keepdims:
            return (input_shape[0], 1, input_shape[2])
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last",
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    """(batch, steps, features) -> (batch, features): the maximum over steps."""

    def call(self, inputs, mask=None):
        return F.max(inputs, 1, keepdim=self.keepdims).values


class LayerNormalization(Layer):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta over ``axis`` (the last)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        dim = (input_shape[self.axis],)
        self.gamma = self.add_weight("gamma", dim, self.gamma_initializer) if self.scale else None
        self.beta = self.add_weight("beta", dim, self.beta_initializer) if self.center else None
        self.built = True

    def call(self, inputs):
        mean = F.mean(inputs, self.axis, keepdim=True)
        centred = inputs - mean
        var = F.mean(centred * centred, self.axis, keepdim=True)
        y = centred / F.sqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return y

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
