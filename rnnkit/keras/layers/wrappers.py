"""Layer wrappers: ``Bidirectional`` (two RNNs, one per direction) and ``TimeDistributed``."""
from __future__ import annotations

import copy

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor
from rnnkit.autograd import is_grad_enabled
from rnnkit.keras.layer import Layer
from rnnkit.keras.layers.rnn import RNN, _sizes

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _clone_rnn(layer, name, go_backwards):
    """A fresh, unbuilt copy of RNN ``layer`` called ``name`` (Keras re-creates it from
    its config, so the copy has its own weights)."""
    if hasattr(layer, "cell_class"):
        config = layer.get_config()
        config.update(name=name, go_backwards=go_backwards)
        config.pop("batch_input_shape", None)
        return type(layer).from_config(config)
    clone = copy.deepcopy(layer)
    clone.name, clone.go_backwards, clone.built = name, go_backwards, False
    return clone


class Bidirectional(Layer):
    """Runs ``layer`` forward and a copy (or ``backward_layer``) backward in time, then
    merges their outputs with ``merge_mode``: "concat" (default), "sum", "mul", "ave" or
    None (a list of both).

    Input (batch, time, features); output (batch, [time,] 2*units) for concat, else
    (batch, [time,] units). With return_state, the forward states then the backward ones.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(f"Bidirectional: layer must be a recurrent layer, got {layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {MERGE_MODES}, got "
                             f"{merge_mode!r}")
        if weights is not None:
            raise ValueError("Bidirectional: weights= is not supported; call set_weights()")
        shape_args = ("input_shape", "batch_input_shape", "input_dim", "input_length")
        if layer._batch_input_shape is not None and not any(
                kwargs.get(a) is not None for a in shape_args):
            kwargs["batch_input_shape"] = layer._batch_input_shape
        super().__init__(**kwargs)
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") else layer.name
        self.forward_layer = _clone_rnn(layer, f"forward_{base}", layer.go_backwards)
        if backward_layer is None:
            self.backward_layer = _clone_rnn(layer, f"backward_{base}", not layer.go_backwards)
        else:
            if not isinstance(backward_layer, RNN):
                raise ValueError(f"Bidirectional: backward_layer must be a recurrent layer, "
                                 f"got {backward_layer!r}")
            self.backward_layer = backward_layer
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError("Bidirectional: the forward and backward layers must have "
                             "different go_backwards values")
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(f, a) != getattr(b, a):
                raise ValueError(f"Bidirectional: forward and backward layers disagree on "
                                 f"{a}: {getattr(f, a)} vs {getattr(b, a)}")
        for sub in (f, b):
            sub.zero_output_for_mask = sub.return_sequences
            self._track(sub)
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = f.return_sequences, f.return_state
        self.stateful = f.stateful
        self.supports_masking = True

    def _input_shape_from_dims(self, input_dim, input_length):
        """As for the recurrent layer it wraps: (input_length, input_dim)."""
        return (input_length, input_dim)

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(input_shape)
                sub.built = True
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=False):
        fs = bs = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fs, bs = list(initial_state[:half]), list(initial_state[half:])
        merged = self._merged_out(sequences)
        if merged is None:
            y = self.forward_layer.call(sequences, initial_state=fs, mask=mask,
                                        training=training)
            y_rev = self.backward_layer.call(sequences, initial_state=bs, mask=mask,
                                             training=training)
        else:   # each layer writes its half: nothing to concatenate
            n = self.forward_layer._units()
            y = self.forward_layer._call(sequences, fs, mask, training, merged[..., :n])
            y_rev = self.backward_layer._call(sequences, bs, mask, training, merged[..., n:])
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = F.flip(y_rev, 1)            # back to time order
        merged = self._merge(y, y_rev) if merged is None else Tensor(merged)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + states
        return merged

    def _merged_out(self, sequences):
        """Without a graph, for concatenated sequences from rnnkit's own layers: the
        (batch, time, units_f + units_b) output, which each direction fills (two outputs
        and their concatenation, freed together each call, made glibc hand their pages
        back: 1,600 page faults, half of a batch-32 BiLSTM's predict). Else None."""
        layers = (self.forward_layer, self.backward_layer)
        if (is_grad_enabled() or self.merge_mode != "concat" or not self.return_sequences
                or any(type(layer).call is not RNN.call for layer in layers)):
            return None
        B, T = sequences.shape[0], sequences.shape[1]
        return np.empty((B, T, sum(layer._units() for layer in layers)),
                        dtype=sequences.dtype)

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return F.concat([y, y_rev], -1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def _n_outputs(self):
        return 2 if self.merge_mode is None else 1

    def compute_output_shape(self, input_shape, **kwargs):
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (None if out[-1] is None else 2 * out[-1],)
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state or self.merge_mode is None:
            return outs + states + states
        return out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        outs = [out] * self._n_outputs()
        if self.return_state:
            n = 2 * len(self.forward_layer.compute_mask(inputs, mask)) - 2
            return outs + [None] * n
        return outs if self.merge_mode is None else out

    def _symbolic_mask(self, in_mask):
        flag = bool(in_mask) and self.return_sequences
        n_states = (2 * len(_sizes(self.forward_layer.cell.state_size))
                    if self.return_state else 0)
        if self.return_state or self.merge_mode is None:
            return [flag] * self._n_outputs() + [False] * n_states
        return flag

    def reset_state(self):
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def get_config(self):
        config = super().get_config()
        config.update(merge_mode=self.merge_mode)
        return config


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: (batch, time, ...) -> (batch, time, ...'),
    by folding time into the batch for one call."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: layer must be a Layer, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = self._track(layer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.name}: expected input of at least 3 dimensions "
                             f"(batch, time, ...), got {tuple(input_shape)}")
        if not self.layer.built:
            self.layer.build((None,) + tuple(input_shape[2:]))
            self.layer.built = True
        self.built = True

    def call(self, inputs, training=False):
        B, T = inputs.shape[0], inputs.shape[1]
        folded = F.reshape(inputs, (B * T,) + tuple(inputs.shape[2:]))
        kwargs = {"training": training} if self.layer._call_accepts("training") else {}
        out = self.layer.call(folded, **kwargs)
        return F.reshape(out, (B, T) + tuple(out.shape[1:]))

    def compute_output_shape(self, input_shape, **kwargs):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])
