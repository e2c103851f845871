"""Keras's ``RNN`` layer and its three named forms ``SimpleRNN``, ``LSTM``, ``GRU``.

One layer owns every option of the time loop (return_sequences, return_state,
go_backwards, stateful, masks, initial_state, dropout), as in Keras. Built-in cells run
the whole sequence in one fused kernel of ``rnnkit.recurrent``; a custom cell, or
recurrent dropout while training, takes the generic path: the cell's own one-step
``call`` in a Python loop, differentiated op by op.

Shapes: input (batch, time, features); output (batch, units) or, with
return_sequences, (batch, time, units); with return_state also each final state
(batch, units). Masked steps carry the states and repeat the previous output (zeros
with ``zero_output_for_mask``), as Keras does on its JAX back end.
"""
from __future__ import annotations

import numpy as np

from rnnkit import functional as F
from rnnkit._tensor import Tensor
from rnnkit.keras.layer import Layer, to_tensor
from rnnkit.keras.layers.cells import DropoutCell, GRUCell, LSTMCell, SimpleRNNCell


def _sizes(size):
    return list(size) if isinstance(size, (list, tuple)) else [size]


class StackedRNNCells(Layer):
    """Several cells applied one after another within each step (a deep RNN)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not cells:
            raise ValueError("StackedRNNCells: expected a non-empty list of cells")
        self.cells = [self._track(c) for c in cells]

    @property
    def state_size(self):
        return [s for c in self.cells for s in _sizes(c.state_size)]

    @property
    def output_size(self):
        return getattr(self.cells[-1], "output_size", _sizes(self.cells[-1].state_size)[0])

    def build(self, input_shape):
        dim = input_shape[-1]
        for c in self.cells:
            if not c.built:
                c.build(input_shape[:-1] + (dim,))
                c.built = True
            dim = getattr(c, "output_size", _sizes(c.state_size)[0])
        self.built = True

    def _split_states(self, states):
        out, i = [], 0
        for c in self.cells:
            n = len(_sizes(c.state_size))
            out.append(list(states[i:i + n]))
            i += n
        return out

    def call(self, inputs, states, training=False, masks=None):
        """One step through every cell; states flattened in cell order."""
        new_states, x = [], inputs
        for c, s in zip(self.cells, self._split_states(states)):
            x, ns = c.call(x, s, training=training)
            new_states += list(ns)
        return x, new_states


class RNN(Layer):
    """Runs ``cell`` over the time dimension (see the module docstring for shapes).

    cell: a cell layer (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` or a custom layer with
    ``state_size`` and ``call(inputs, states) -> (output, new_states)``), or a list of cells.
    Keras 2's ``input_dim`` / ``input_length`` give the input shape (None, input_length,
    input_dim) (see ``Layer``).
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not hasattr(cell, "state_size") or not hasattr(cell, "call"):
            raise ValueError(f"{type(self).__name__}: cell must have state_size and call(), "
                             f"got {cell!r}")
        self.cell = self._track(cell)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.unroll = bool(unroll)   # same numbers either way: the kernel never unrolls
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None

    # -- shapes and masks -----------------------------------------------------------------
    def _input_shape_from_dims(self, input_dim, input_length):
        """Keras 2: ``input_length`` steps of ``input_dim`` features, (time, features)."""
        return (input_length, input_dim)

    def build(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, features), "
                             f"got {tuple(input_shape)}")
        if not self.cell.built:
            self.cell.build(tuple(input_shape[:1]) + tuple(input_shape[2:]))
            self.cell.built = True
        if self.stateful:
            self._batch = input_shape[0]
        self.built = True

    @property
    def units(self):
        return getattr(self.cell, "units", None)

    def _units(self):
        """The size of the output at each step."""
        return getattr(self.cell, "output_size", _sizes(self.cell.state_size)[0])

    def compute_output_shape(self, input_shape, **kwargs):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        B, T = input_shape[0], input_shape[1]
        units = self._units()
        out = (B, T, units) if self.return_sequences else (B, units)
        if self.return_state:
            return [out] + [(B, s) for s in _sizes(self.cell.state_size)]
        return out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(_sizes(self.cell.state_size))
        return out

    def _symbolic_mask(self, in_mask):
        flag = bool(in_mask) and self.return_sequences
        if self.return_state:
            return [flag] + [False] * len(_sizes(self.cell.state_size))
        return flag

    # -- states ---------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """Zero states, one (batch, size) array per state."""
        return [np.zeros((batch_size, s), dtype=self.dtype) for s in _sizes(self.cell.state_size)]

    def reset_state(self, states=None):
        """Stateful layers: reset the carried states to zeros, or to ``states``."""
        if not self.stateful:
            raise AttributeError(f"{self.name}: reset_state() is for stateful layers")
        if states is None:
            self.states = None
        else:
            states = states if isinstance(states, (list, tuple)) else [states]
            self.states = [np.array(getattr(s, "data", s), dtype=self.dtype) for s in states]

    reset_states = reset_state

    # -- the call -------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=False):
        return self._call(sequences, initial_state, mask, training)

    def _call(self, sequences, initial_state=None, mask=None, training=False, out=None):
        """``call``; out: None, or (without a graph) a (batch, time, units) array that
        receives the output sequence in time order (``Bidirectional`` passes each layer
        its half of the merged output, so nothing is concatenated)."""
        x = sequences
        if x.ndim != 3:
            raise ValueError(f"{self.name}: expected input of shape (batch, time, features), "
                             f"got {x.shape}")
        B, T = x.shape[0], x.shape[1]
        n_states = len(_sizes(self.cell.state_size))
        init = self._initial_states(initial_state, B, n_states)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (B, T):
                raise ValueError(f"{self.name}: mask has shape {mask.shape}, expected (batch, "
                                 f"time) = ({B}, {T})")
        cell = self.cell
        recurrent_dropout = training and getattr(cell, "recurrent_dropout", 0) > 0
        if training and getattr(cell, "dropout", 0) > 0 and not recurrent_dropout:
            m = cell.dropout_masks(B, x.shape[2], cell.dropout, 1, x.dtype)[0]
            x = x * Tensor(m[:, None, :])
        if not recurrent_dropout and self._fusable(cell):
            seq, finals = self._run_fused(cell, x, init, mask, out)
        else:
            seq, finals = self._run_steps(cell, x, init, mask, training)
            if out is not None:
                np.copyto(out, (F.flip(seq, 1) if self.go_backwards else seq).data)
        # seq: (batch, time, units) in processing order (reversed time for go_backwards)
        last = seq[:, -1]
        if self.stateful:
            self.states = [np.array(f.data) for f in finals]
        output = seq if self.return_sequences else last
        if self.return_state:
            return [output] + self._group_states(list(finals))
        return output

    def _group_states(self, finals):
        """Stacked cells return their states nested per cell, as Keras does."""
        if not isinstance(self.cell, StackedRNNCells):
            return finals
        return self.cell._split_states(finals)

    def _initial_states(self, initial_state, B, n):
        if initial_state is None:
            if self.stateful and self.states is not None:
                if self.states[0].shape[0] != B:
                    raise ValueError(f"{self.name}: stateful layer built for batch size "
                                     f"{self.states[0].shape[0]}, got {B}")
                return [Tensor(s) for s in self.states]
            return [None] * n
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        states = [s for g in states for s in (g if isinstance(g, (list, tuple)) else [g])]
        if len(states) != n:
            raise ValueError(f"{self.name}: initial_state must hold {n} tensor(s), got "
                             f"{len(states)}")
        out = []
        for s, size in zip(states, _sizes(self.cell.state_size)):
            s = to_tensor(s)
            if s.shape != (B, size):
                raise ValueError(f"{self.name}: initial state has shape {s.shape}, expected "
                                 f"(batch, units) = ({B}, {size})")
            out.append(s)
        return out

    @staticmethod
    def _fusable(cell):
        if isinstance(cell, StackedRNNCells):
            return all(RNN._fusable(c) for c in cell.cells)
        return isinstance(cell, DropoutCell) and cell.fusable()

    def _run_fused(self, cell, x, init, mask, out=None):
        """The whole sequence in fused kernels, one per (stacked) cell; the last writes
        into ``out`` (see ``_call``) if given."""
        cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
        xt = F.transpose(x, 0, 1)                          # (time, batch, features)
        mask_t = None if mask is None else mask.T
        finals, i = [], 0
        for c in cells:
            n = len(_sizes(c.state_size))
            last_out = None if out is None or c is not cells[-1] else out.transpose(1, 0, 2)
            res = c.run_sequence(xt, init[i:i + n], reverse=self.go_backwards, mask=mask_t,
                                 zero_masked_outputs=self.zero_output_for_mask,
                                 out=last_out)
            xt, i = res[0], i + n
            finals += list(res[1:])
        if self.go_backwards:
            xt = F.flip(xt, 0)                             # processing order, as Keras
        return F.transpose(xt, 0, 1), finals

    def _run_steps(self, cell, x, init, mask, training):
        """The generic path: the cell's one-step ``call`` in a loop."""
        B, T = x.shape[0], x.shape[1]
        states = [Tensor(np.zeros((B, s), dtype=x.dtype)) if v is None else v
                  for v, s in zip(init, _sizes(cell.state_size))]
        masks = None
        if training and isinstance(cell, DropoutCell) and (cell.dropout or cell.recurrent_dropout):
            k = cell.gates
            masks = (cell.dropout_masks(B, x.shape[2], cell.dropout, k, x.dtype)
                     if cell.dropout else None,
                     cell.dropout_masks(B, cell.units, cell.recurrent_dropout, k, x.dtype)
                     if cell.recurrent_dropout else None)
            masks = tuple(None if m is None else [Tensor(v) for v in m] for m in masks)
        outputs = []
        for t in (range(T - 1, -1, -1) if self.go_backwards else range(T)):
            kwargs = {"training": training}
            if masks is not None:
                kwargs["masks"] = masks
            out, new_states = cell.call(x[:, t], states, **kwargs)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                m = Tensor(mask[:, t, None].astype(x.dtype))
                keep = 1 - m
                prev_out = (Tensor(np.zeros(out.shape, dtype=x.dtype))
                            if self.zero_output_for_mask else states[0])
                out = m * out + keep * prev_out
                new_states = [m * ns + keep * s for ns, s in zip(new_states, states)]
            outputs.append(out)
            states = new_states
        return F.stack(outputs, 1), states

    def get_config(self):
        config = super().get_config()
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask)
        return config


class _NamedRNN(RNN):
    """SimpleRNN / LSTM / GRU: an RNN around its own cell, built from the same kwargs."""

    cell_class = None
    _LAYER_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                   "zero_output_for_mask", "name", "trainable", "dtype", "input_shape",
                   "batch_input_shape", "input_dim", "input_length", "batch_size")

    def __init__(self, units, **kwargs):
        # Keras's speed switches; every choice gives the same numbers here.
        self.implementation = kwargs.pop("implementation", 2)
        self.use_cudnn = kwargs.pop("use_cudnn", "auto")
        if self.implementation not in (1, 2):
            raise ValueError(f"{type(self).__name__}: implementation must be 1 or 2, got "
                             f"{self.implementation!r}")
        if self.use_cudnn not in ("auto", False):
            # Keras raises too when cuDNN cannot run the layer; rnnkit has no cuDNN.
            raise ValueError(f"{type(self).__name__}: use_cudnn={self.use_cudnn!r} cannot "
                             f"be honoured: rnnkit runs on the CPU without cuDNN (use "
                             f"'auto' or False)")
        layer_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in self._LAYER_ARGS}
        # Keras names the inner cell plainly (lstm_cell), not uniquely.
        from rnnkit.keras.backend import to_snake_case
        cell = self.cell_class(units, dtype=layer_kwargs.get("dtype"),
                               name=to_snake_case(self.cell_class.__name__), **kwargs)
        super().__init__(cell, **layer_kwargs)

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_config.pop(k, None)
        config.update(cell_config)
        return config

    def __getattr__(self, name):
        # units, activation, dropout... are the cell's, as in Keras.
        if name != "cell" and "cell" in self.__dict__ and hasattr(self.__dict__["cell"], name):
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class SimpleRNN(_NamedRNN):
    """Fully-connected RNN: h_t = activation(x_t W + h_{t-1} U + b) (see ``SimpleRNNCell``).

    SimpleRNN(units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
    recurrent_initializer="orthogonal", bias_initializer="zeros", ..., dropout=0.0,
    recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False, seed=None).
    """

    cell_class = SimpleRNNCell


class LSTM(_NamedRNN):
    """Long short-term memory (see ``LSTMCell``); states [h, c]."""

    cell_class = LSTMCell


class GRU(_NamedRNN):
    """Gated recurrent unit (see ``GRUCell``); ``reset_after=True`` by default."""

    cell_class = GRUCell
