"""``Layer``: the base of every Keras-style layer (weights, build, call, masks, names).

A layer is called either on arrays/tensors (eager: it builds itself from the input's
shape, computes, and returns rnnkit Tensors, so autograd can train it) or on symbolic
``KerasTensor``s (it only infers output shapes and records the call, for functional
models and ``summary()``). Masks ride along with eager outputs, as in Keras: a layer
whose ``call`` accepts ``mask=`` receives the mask of its input.
"""
from __future__ import annotations

import inspect
import weakref

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.keras import backend
from rnnkit.keras.keras_tensor import KerasTensor, Node, is_symbolic

# Masks travel beside eager tensors: id(tensor) -> (weakref to tensor, mask).
_MASKS = {}


def get_mask(x):
    """The mask attached to eager tensor ``x`` (bool array (batch, time)), or None."""
    if isinstance(x, Tensor):
        entry = _MASKS.get(id(x))
        if entry is not None and entry[0]() is x:
            return entry[1]
    return None


def set_mask(x, mask):
    """Attach ``mask`` (or detach, with None) to eager tensor ``x``."""
    if not isinstance(x, Tensor):
        return
    key = id(x)
    if mask is None:
        _MASKS.pop(key, None)
        return
    _MASKS[key] = (weakref.ref(x, lambda _, k=key: _MASKS.pop(k, None)), np.asarray(mask))


class Variable(Tensor):
    """A layer weight: a leaf Tensor with a Keras name (``kernel``), a path
    (``simple_rnn/simple_rnn_cell/kernel``), a trainable flag and an optional regularizer."""

    __slots__ = ("name", "path", "trainable", "regularizer")

    def __init__(self, value, name, path, trainable=True, regularizer=None):
        super().__init__(np.array(value, copy=True), requires_grad=trainable)
        self.name, self.path = name, path
        self.trainable, self.regularizer = trainable, regularizer

    def assign(self, value):
        """Overwrite the value in place (shape must match)."""
        value = np.asarray(getattr(value, "data", value))
        if value.shape != self.shape:
            raise ValueError(f"assign: {self.path} has shape {self.shape}, got a value of "
                             f"shape {value.shape}")
        self.data[...] = value

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>")


def to_tensor(x, dtype=None):
    """Eager input as a Tensor: floats become floatx, integers stay integers."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "f" or (dtype is not None and np.dtype(dtype).kind == "f"):
        arr = arr.astype(dtype or backend.floatx(), copy=False)
    elif arr.dtype.kind == "b":
        arr = arr.astype(backend.floatx())
    return Tensor(arr)


def positive_int(owner, arg, value):
    """``value`` as an int, or a ValueError naming ``owner`` and ``arg``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def reject_unsupported(owner, **options):
    """A ValueError for the first option that is set (not None): rnnkit lacks it."""
    for arg, value in options.items():
        if value is not None:
            raise ValueError(f"{owner}: {arg} is not supported by rnnkit (got {value!r})")


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return type(x)(_map(fn, v) for v in x)
    return fn(x)


def _shape_of(x):
    return tuple(x.shape)


def _dims(owner, arg, value):
    """A shape given by the user: a tuple of positive ints or None (any size)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(
            d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                          and d > 0) for d in value):
        raise ValueError(f"{owner}: {arg} must be a tuple of positive integers or None, "
                         f"got {value!r}")
    return tuple(None if d is None else int(d) for d in value)


def _compatible(declared, shape):
    return len(declared) == len(shape) and all(
        a is None or b is None or a == b for a, b in zip(declared, shape))


class Layer:
    """Base class. Subclasses implement ``build(input_shape)``, ``call(inputs, ...)`` and
    ``compute_output_shape(input_shape)``; weights come from ``add_weight``.

    Common keyword arguments: ``name``, ``trainable``, ``dtype``, and the input shape,
    which makes a Sequential model whose first layer it is built at once (a later layer
    must agree with it), in any one of Keras 2's ways:

    - ``input_shape=(10, 4)``: one sample's shape, batch (None, 10, 4);
    - ``batch_input_shape=(32, 10, 4)``: with the batch size;
    - ``input_dim=4``: one feature axis, batch (None, 4) (the recurrent layers read it
      with ``input_length`` as (None, input_length, input_dim); ``Embedding`` reads
      ``input_length`` as (None, input_length));
    - ``batch_size=32`` beside ``input_shape`` or ``input_dim``: the batch size.
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, input_length=None, batch_size=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype = dtype or backend.floatx()
        self.built = False
        self.supports_masking = False
        self._weights = []
        self._sublayers = []
        self._parent = None      # the layer that owns this one (see _track)
        self._losses = []
        self._inbound_nodes = []
        self._batch_input_shape = self._declared_input_shape(
            input_shape, batch_input_shape, input_dim, input_length, batch_size)
        # As in Keras, a layer without a build() of its own has nothing to build: it is
        # built from the start (summary() shows 0 for it, not "0 (unbuilt)").
        if type(self).build is Layer.build:
            self.built = True

    def _declared_input_shape(self, input_shape, batch_input_shape, input_dim,
                              input_length, batch_size):
        """The batch input shape given by Keras 2's arguments (see the class docstring),
        or None; contradicting or incomplete ones are refused."""
        owner = type(self).__name__
        ways = [arg for arg, v in (("batch_input_shape", batch_input_shape),
                                   ("input_shape", input_shape)) if v is not None]
        if input_dim is not None or input_length is not None:
            ways.append("input_dim" if input_length is None else
                        "input_length" if input_dim is None else "input_dim/input_length")
        if len(ways) > 1:
            raise ValueError(f"{owner}: give the input shape one way, got "
                             f"{' and '.join(ways)}")
        if batch_size is not None:
            batch_size = positive_int(owner, "batch_size", batch_size)
            if batch_input_shape is not None:
                raise ValueError(f"{owner}: batch_size={batch_size} with batch_input_shape; "
                                 f"the batch size is batch_input_shape's first entry")
        if batch_input_shape is not None:
            return _dims(owner, "batch_input_shape", batch_input_shape)
        if input_dim is not None or input_length is not None:
            if input_dim is not None:
                positive_int(owner, "input_dim", input_dim)
            if input_length is not None:
                positive_int(owner, "input_length", input_length)
            input_shape = self._input_shape_from_dims(input_dim, input_length)
        if input_shape is not None:
            return (batch_size,) + _dims(owner, "input_shape", input_shape)
        if batch_size is not None:
            raise ValueError(f"{owner}: batch_size={batch_size} needs input_shape= or "
                             f"input_dim= beside it")
        return None

    def _input_shape_from_dims(self, input_dim, input_length):
        """One sample's shape for Keras 2's ``input_dim`` (and ``input_length``, which
        only Embedding and the recurrent layers take)."""
        if input_length is not None:
            raise ValueError(f"{type(self).__name__}: input_length is an argument of "
                             f"Embedding and the recurrent layers only; give "
                             f"{type(self).__name__} input_shape= or input_dim=")
        return (input_dim,)

    # -- weights --------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True,
                   dtype=None):
        """Create, register and return a weight of ``shape`` drawn from ``initializer``."""
        from rnnkit.keras import initializers, regularizers

        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=dtype or self.dtype)
        v = Variable(value, name, f"{self.path}/{name}", trainable and self.trainable,
                     regularizers.get(regularizer))
        self._weights.append(v)
        return v

    @property
    def path(self):
        """``parent/.../name``: the prefix of this layer's weight paths."""
        return self.name if self._parent is None else f"{self._parent.path}/{self.name}"

    def _track(self, layer):
        """Own a sub-layer (an RNN's cell, a wrapper's layer): its weights become ours."""
        self._sublayers.append(layer)
        layer._parent = self
        return layer

    @property
    def weights(self):
        """Every weight, in Keras's order (own weights, then each sub-layer's)."""
        out = list(self._weights)
        for sub in self._sublayers:
            out += sub.weights
        return out

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        """Copies of the weights as NumPy arrays, in ``weights`` order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set every weight from a list of arrays in ``weights`` order (shapes must match)."""
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"set_weights: layer {self.name!r} has {len(mine)} weights, got "
                             f"{len(weights)} arrays")
        for w, v in zip(mine, weights):
            v = np.asarray(v)
            if v.shape != w.shape:
                raise ValueError(f"set_weights: {w.path} has shape {w.shape}, got an array "
                                 f"of shape {v.shape}")
        for w, v in zip(mine, weights):
            w.data[...] = v

    def count_params(self):
        """Total number of weight values (the layer must be built)."""
        if not self.built:
            raise ValueError(f"count_params: layer {self.name!r} is not built yet; call it "
                             f"on an input or give the model an input shape")
        return int(sum(w.data.size for w in self.weights))

    @property
    def losses(self):
        """Regularization terms (scalar Tensors) from weights and the last call."""
        out = [w.regularizer(w) for w in self.weights if w.regularizer is not None]
        for sub in self._sublayers:
            out += [l for l in sub._losses]
        return out + list(self._losses)

    # -- the call protocol ----------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (override)."""
        self.built = True

    def call(self, inputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape):
        """Output shape(s) for ``input_shape`` (None for unknown sizes); default: same."""
        return input_shape

    def compute_mask(self, inputs, mask=None):
        """The mask of the output: passed through if ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    def _call_accepts(self, name):
        return name in inspect.signature(self.call).parameters

    def __call__(self, *args, **kwargs):
        if not args:
            raise TypeError(f"{self.name}: expected an input tensor")
        if is_symbolic(args) or is_symbolic(list(kwargs.values())):
            return self._symbolic_call(args, kwargs)
        inputs = _map(to_tensor, args[0])
        rest = tuple(_map(to_tensor, a) for a in args[1:])
        for key in ("initial_state",):
            if kwargs.get(key) is not None:
                kwargs[key] = _map(to_tensor, kwargs[key])
        mask = kwargs.pop("mask", None)
        if mask is None:
            mask = _map(get_mask, inputs)
            if isinstance(mask, (list, tuple)) and all(m is None for m in mask):
                mask = None
        elif isinstance(mask, Tensor):
            mask = mask.data
        if not self.built:
            self.build(_map(_shape_of, inputs))
            self.built = True
        if self._call_accepts("mask"):
            kwargs["mask"] = mask
        if "training" in kwargs and not self._call_accepts("training"):
            kwargs.pop("training")
        outputs = self.call(inputs, *rest, **kwargs)
        out_mask = self.compute_mask(inputs, mask)
        if isinstance(outputs, (list, tuple)):
            out_mask = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask] + [None] * (len(outputs) - 1)
            for o, m in zip(outputs, out_mask):
                set_mask(o, m)
        else:
            set_mask(outputs, out_mask)
        return outputs

    def _symbolic_call(self, args, kwargs):
        inputs = args[0]
        shapes = _map(lambda t: t.shape if isinstance(t, KerasTensor) else tuple(np.shape(t)),
                      inputs)
        declared = self._batch_input_shape
        if declared is not None and isinstance(inputs, KerasTensor) \
                and not _compatible(declared, shapes):
            raise ValueError(f"{self.name}: declared input shape {declared} (input_shape / "
                             f"input_dim / batch_input_shape), but its input has shape "
                             f"{tuple(shapes)}")
        if not self.built:
            self.build(shapes)
            self.built = True
        out_shapes = self.compute_output_shape(shapes, **self._shape_kwargs(kwargs))
        in_mask = _map(lambda t: getattr(t, "has_mask", False), inputs)
        out_mask = self._symbolic_mask(in_mask)
        node = Node(self, inputs, args[1:], kwargs, None)
        if isinstance(out_shapes, list):
            masks = out_mask if isinstance(out_mask, list) else [out_mask] + [False] * len(out_shapes)
            outputs = [KerasTensor(s, self._output_dtype(), f"{self.name}_out_{i}", node, i,
                                   bool(m)) for i, (s, m) in enumerate(zip(out_shapes, masks))]
        else:
            outputs = KerasTensor(out_shapes, self._output_dtype(), f"{self.name}_out", node,
                                  0, bool(out_mask))
        node.outputs = outputs
        self._inbound_nodes.append(node)
        return outputs

    def _shape_kwargs(self, kwargs):
        """Call arguments that change output shapes (none by default)."""
        return {}

    def _symbolic_mask(self, in_mask):
        """Whether the output carries a mask, given whether the input does."""
        if isinstance(in_mask, (list, tuple)):
            in_mask = any(in_mask)
        return bool(in_mask) and self.supports_masking

    def _output_dtype(self):
        return self.dtype

    def get_config(self):
        """The constructor arguments that rebuild this layer (JSON-serialisable)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
