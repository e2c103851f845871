"""``nn.RNN``, ``nn.LSTM``, ``nn.GRU``: PyTorch's recurrent modules on rnnkit's kernels.

One ``RNNBase`` serves all three, as in PyTorch: it owns the parameters (names, shapes,
gate order and initialisation exactly PyTorch's), the layout conversions (batch_first,
unbatched input, PackedSequence) and the stacking of layers and directions. Each
(layer, direction) is one call of a fused kernel from ``rnnkit.recurrent``, so no Python
work happens per time step here.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit import functional as F
from rnnkit import recurrent as R
from rnnkit._tensor import Tensor, as_tensor
from rnnkit.autograd import is_grad_enabled, no_grad
from rnnkit.recurrent import _workspace
from rnnkit.nn.module import Module
from rnnkit.nn.parameter import Parameter
from rnnkit.nn.utils.rnn import PackedSequence, pad_packed_sequence
from rnnkit.random import get_generator

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". Parameters per layer ``l`` and
    direction (suffix "" or "_reverse"): ``weight_ih_l{l}`` (gates*hidden, layer input),
    ``weight_hh_l{l}`` (gates*hidden, hidden or proj_size), ``bias_ih_l{l}``,
    ``bias_hh_l{l}`` (gates*hidden,), and for a projected LSTM ``weight_hr_l{l}``
    (proj_size, hidden). All drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 dtype=None, generator=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1] giving the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)) \
                or proj_size < 0:
            raise ValueError(f"{name}: proj_size must be a non-negative int, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM, got "
                             f"proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), int(proj_size)
        self.generator = generator

        G, H = _GATES[mode], self.hidden_size
        out = self.proj_size or H
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else out * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (G * H, layer_in)), ("weight_hh", (G * H, out))]
                if self.bias:
                    shapes += [("bias_ih", (G * H,)), ("bias_hh", (G * H,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, H)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(np.zeros(shape, dtype=dtype or
                                                                  np.float32)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        k = 1.0 / math.sqrt(self.hidden_size)
        rng = get_generator(self.generator)
        with no_grad():
            for name in self._flat_weights_names:
                p = getattr(self, name)
                p.data[...] = rng.uniform(-k, k, p.shape)

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def extra_repr(self):
        # PyTorch's text exactly (which does not show nonlinearity).
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # -- forward ------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """Run all layers and directions over ``input``.

        input: (time, batch, input_size), or (batch, time, input_size) with batch_first,
        or unbatched (time, input_size), or a PackedSequence.
        hx: (num_layers * num_directions, batch, out) where out = proj_size or hidden_size
        (for LSTM a tuple (h_0, c_0), c_0 with hidden_size), unbatched without the batch
        dimension; None means zeros.
        Returns (output, h_n) (LSTM: (output, (h_n, c_n))): output (time, batch,
        num_directions * out) in the input's layout (a PackedSequence for a packed input),
        h_n (num_layers * num_directions, batch, out).
        """
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lengths = pad_packed_sequence(input)
            unbatched = False
        else:
            x = as_tensor(input)
            if x.ndim not in (2, 3):
                raise ValueError(f"{name}: expected input to be 2-D (unbatched: time, "
                                 f"features) or 3-D, got shape {x.shape}")
            unbatched = x.ndim == 2
            if unbatched:
                x = F.unsqueeze(x, 1)
            elif self.batch_first:
                x = F.transpose(x, 0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. "
                             f"Expected {self.input_size}, got {x.shape[-1]}")
        if x.dtype.kind != "f":
            raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
        p0 = getattr(self, self._flat_weights_names[0])
        if x.dtype != p0.dtype:
            raise TypeError(f"{name}: input has dtype {x.dtype} but the parameters have "
                            f"{p0.dtype}; call .double()/.float() on the module or the input")
        B = x.shape[1]
        init = self._initial_states(hx, B, unbatched, x.dtype)

        output, finals = self._run_layers(x, init, lengths)

        # one layer and direction: a view, not a copy (latency, and the BPTT cache)
        finals = [F.unsqueeze(f[0], 0) if len(f) == 1 else F.stack(f, 0) for f in finals]
        if unbatched:
            output = F.squeeze(output, 1)
            finals = [F.squeeze(f, 1) for f in finals]
        elif packed:
            output = _repack(output, input)
        elif self.batch_first:
            output = F.transpose(output, 0, 1)
        if self.mode == "LSTM":
            return output, (finals[0], finals[1])
        return output, finals[0]

    def _run_layers(self, x, init, lengths):
        """Stack layers and directions; returns (output (T, B, dirs*out), finals lists)."""
        dirs = self.num_directions
        finals = [[] for _ in init]
        layer_in, spent = x, None
        for layer in range(self.num_layers):
            last = layer == self.num_layers - 1
            out = self._layer_out(x, last) if not is_grad_enabled() else None
            parts = [None] * dirs if out is None else np.split(out, dirs, axis=-1)  # views
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                res = self._kernel(layer_in, [s[k] if s is not None else None for s in init],
                                   f"_l{layer}" + ("_reverse" if d else ""), d == 1, lengths,
                                   parts[d])
                outs.append(res[0])
                for f, r in zip(finals, res[1:]):
                    f.append(r)
            if spent is not None:       # the layer below's output, read by now
                _workspace.give(spent)
            spent = out if out is not None and not last else None
            layer_in = (Tensor(out) if out is not None else
                        outs[0] if dirs == 1 else F.concat(outs, -1))
            if self.dropout and self.training and not last:
                layer_in = F.dropout(layer_in, self.dropout, training=True,
                                     generator=self.generator)
        return layer_in, finals

    def _layer_out(self, x, last):
        """Without a graph, the array a layer's directions write their outputs into (no
        concatenation): for a layer below another, a workspace buffer, given back once
        the next layer has read it; for the top one, when it has two directions, a new
        array (it is the module's output). None: each kernel makes its own.
        Fresh arrays per direction and layer, freed together, made glibc hand their
        pages back to the kernel, and each call fault them in again (~1.9 us a page: 1,600
        faults, 2.5 ms, per call of the bidirectional benchmark)."""
        if last and self.num_directions == 1:
            return None
        shape = (x.shape[0], x.shape[1],
                 self.num_directions * (self.proj_size or self.hidden_size))
        return np.empty(shape, dtype=x.dtype) if last else _workspace.take(shape, x.dtype)

    def _kernel(self, x, init, sfx, reverse, lengths, out=None):
        g = lambda n: getattr(self, n + sfx) if self.bias or n.startswith("w") else None  # noqa: E731
        opts = dict(reverse=reverse, lengths=lengths, zero_masked_outputs=lengths is not None,
                    out=out)
        w = (g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"))
        if self.mode == "LSTM":
            w_hr = getattr(self, "weight_hr" + sfx) if self.proj_size else None
            return R.lstm(x, init[0], init[1], *w, w_hr, **opts)
        if self.mode == "GRU":
            return R.gru(x, init[0], *w, **opts)
        return R.rnn(x, init[0], *w, nonlinearity=self.mode[4:].lower(), **opts)

    def _initial_states(self, hx, B, unbatched, dtype):
        """hx as a list of (layers*dirs, batch, size) tensors, or [None]s for zeros."""
        name = type(self).__name__
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            return [None] * n_states
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{name}: hx must be a tensor, got a {type(hx).__name__}")
            states = [hx]
        L = self.num_layers * self.num_directions
        sizes = [self.proj_size or self.hidden_size, self.hidden_size][:n_states]
        out = []
        for i, (s, size) in enumerate(zip(states, sizes)):
            s = as_tensor(s)
            label = ("h_0", "c_0")[i] if n_states == 2 else "hx"
            if unbatched:
                if s.shape != (L, size):
                    raise ValueError(f"{name}: for unbatched input {label} must have shape "
                                     f"(num_layers * num_directions, {size}) = ({L}, "
                                     f"{size}), got {s.shape}")
                s = F.unsqueeze(s, 1)
            elif s.shape != (L, B, size):
                raise ValueError(f"{name}: expected {label} of shape (num_layers * "
                                 f"num_directions, batch, {size}) = ({L}, {B}, {size}), "
                                 f"got {s.shape}")
            if s.dtype != dtype:
                raise TypeError(f"{name}: {label} has dtype {s.dtype}, expected {dtype}")
            out.append(s)
        return out


def _repack(padded, template):
    """Pack (time, batch, *) ``padded`` (caller's order) with ``template``'s layout."""
    bs = np.asarray(template.batch_sizes)
    order = template._order()
    t_idx = np.repeat(np.arange(len(bs)), bs)
    s_idx = np.concatenate([np.arange(n) for n in bs])
    data = F.getitem(padded, (t_idx, order[s_idx]))
    return PackedSequence(data, template.batch_sizes, template.sorted_indices,
                          template.unsorted_indices)


class RNN(RNNBase):
    """Elman RNN, ``torch.nn.RNN``: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False). Input (time, batch,
    input_size) (batch first if asked); returns (output (time, batch, D*hidden_size),
    h_n (num_layers*D, batch, hidden_size)), D = 2 if bidirectional else 1.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh",
                 bias=True, batch_first=False, dropout=0.0, bidirectional=False, **kw):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected "
                             f"'tanh' or 'relu'")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, **kw)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, ``torch.nn.LSTM`` (gates i, f, g, o; see ``LSTMCell``).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0). Returns (output, (h_n, c_n)):
    output (time, batch, D*out), h_n (num_layers*D, batch, out), c_n (num_layers*D,
    batch, hidden_size), where out = proj_size or hidden_size.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, **kw):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, **kw)


class GRU(RNNBase):
    """Gated recurrent unit, ``torch.nn.GRU`` (gates r, z, n; reset gate after W_hn h).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False). Returns (output (time, batch, D*hidden_size),
    h_n (num_layers*D, batch, hidden_size)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **kw):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, **kw)
