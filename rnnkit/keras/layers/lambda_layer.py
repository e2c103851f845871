"""``Lambda``: any function of tensors, used as a layer.

The function receives rnnkit Tensors (eager) and must build its result from rnnkit's
differentiable ops (``rnnkit.functional`` or Tensor methods such as ``x[:, -1]``,
``x * 2``, ``x.sum(1)``), so gradients flow through it.

A Lambda holds Python code, which rnnkit never writes to a model file: a file must load
without running code. ``get_config`` (and so ``model.save``) refuses it with an error
that says what to do instead.
"""
from __future__ import annotations

import inspect

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.autograd import no_grad
from rnnkit.keras import backend
from rnnkit.keras.layer import Layer, to_tensor

# Unknown sizes (None) are tried at two lengths; a result size that changes with them is
# unknown too. One length for every unknown axis, as Keras does, so functions that assume
# two unknown axes are equal still run.
_TRIAL_SIZES = (2, 3)


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                        for d in x)


def _map_shapes(fn, x, *rest):
    """``fn`` on every shape (tuple of ints/None) of a list structure of shapes, with the
    matching leaves of ``rest`` (same structure) as extra arguments."""
    if _is_shape(x):
        return fn(x, *rest)
    return [_map_shapes(fn, *vs) for vs in zip(x, *rest)]


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return [_map(fn, v) for v in x]
    return fn(x)


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: the layer
    computes ``function(inputs, **arguments)``.

    function: takes the input Tensor (or list of Tensors, for a list input) first; it
        also receives ``mask=`` and ``training=`` if it names them.
    output_shape: the output's shape without the batch axis (a tuple, or a list of them
        for several outputs), or a function of the full input shape returning the full
        output shape. Default: inferred by calling ``function`` on zeros, unknown sizes
        (None) staying unknown.
    mask: None (the output carries no mask), a function ``mask(inputs, mask)`` returning
        the output's mask, or a fixed boolean array (batch, time) for every output.
    arguments: a dict of extra keyword arguments for ``function``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda: arguments must be a dict of keyword arguments for "
                            f"the function, got {arguments!r}")
        if output_shape is not None and not callable(output_shape):
            try:
                output_shape = _as_tuples(output_shape)
            except ValueError as e:
                raise ValueError(f"Lambda: output_shape must be a shape without the batch "
                                 f"axis, a list of them or a function; {e}") from None
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        self._input_dtypes = None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):     # some builtins have no signature
            params = {}
        self._fn_expects_mask = "mask" in params
        self._fn_expects_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        out = self.function(inputs, **kwargs)
        return _map(lambda o: o if isinstance(o, Tensor) else to_tensor(o), out)

    def compute_mask(self, inputs, mask=None):
        if self.mask is None:
            return None
        out = self.mask(inputs, mask) if callable(self.mask) else self.mask
        return _map(lambda m: None if m is None else np.asarray(getattr(m, "data", m), bool),
                    out)

    def _symbolic_mask(self, in_mask):
        return self.mask is not None

    # -- shapes ---------------------------------------------------------------------------
    def _symbolic_call(self, args, kwargs):
        # Remember the inputs' dtypes: the trial call in compute_output_shape feeds zeros
        # of those dtypes (integer indices stay integers).
        self._input_dtypes = _map(lambda t: getattr(t, "dtype", None), args[0])
        return super()._symbolic_call(args, kwargs)

    def compute_output_shape(self, input_shape, **kwargs):
        input_shape = _as_tuples(input_shape)
        if self._output_shape is None:
            return self._infer_output_shape(input_shape)
        if callable(self._output_shape):
            return _as_tuples(self._output_shape(input_shape))
        batch = _first_batch(input_shape)
        if _is_shape(self._output_shape):
            return (batch,) + self._output_shape
        return _map_shapes(lambda s: (batch,) + s, self._output_shape)

    def _infer_output_shape(self, input_shape):
        dtypes = self._input_dtypes
        if dtypes is None or _is_shape(input_shape) == isinstance(dtypes, list):
            dtypes = _map_shapes(lambda _: None, input_shape)

        def trial(size):
            def zeros(shape, dtype):
                dims = [size if d is None else d for d in shape]
                return Tensor(np.zeros(dims, dtype=dtype or backend.floatx()))

            x = _map_shapes(zeros, input_shape, dtypes)
            with no_grad():
                out = self.call(x)
            return _map(lambda t: tuple(np.shape(t)), out)

        try:
            first, second = (trial(size) for size in _TRIAL_SIZES)
        except Exception as e:
            raise NotImplementedError(
                f"{self.name}: could not infer the output shape of the Lambda's function by "
                f"calling it on zeros of shape {input_shape} ({type(e).__name__}: {e}); pass "
                f"output_shape= (the shape without the batch axis)") from e
        return _map_shapes(lambda a, b: tuple(x if x == y else None for x, y in zip(a, b)),
                           first, second)

    # -- saving ---------------------------------------------------------------------------
    def get_config(self):
        raise ValueError(
            f"Lambda layer {self.name!r} cannot be saved: its function is Python code, and "
            f"rnnkit's model file never stores code (loading a file must not execute "
            f"anything). Replace the Lambda by a subclass of Layer whose get_config() "
            f"returns plain values, or save only the weights with "
            f"model.save_weights('....weights.npz') and rebuild the model in code before "
            f"model.load_weights(...).")

    @classmethod
    def from_config(cls, config):
        raise ValueError("Lambda layers cannot be loaded: rnnkit never reads code from a "
                         "model file; rebuild the model in code and load its weights")


def _as_tuples(shape):
    """A shape as a tuple, or a structure of shapes as a list of tuples (JSON and user
    code give lists for both)."""
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in shape):
        return tuple(shape)
    if isinstance(shape, (list, tuple)):
        return [_as_tuples(s) for s in shape]
    raise ValueError(f"expected a shape (a tuple of integers or None) or a list of them, "
                     f"got {shape!r}")


def _first_batch(shapes):
    while not _is_shape(shapes):
        shapes = shapes[0]
    return shapes[0] if shapes else None
