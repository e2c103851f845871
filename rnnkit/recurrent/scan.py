"""The one time loop shared by every recurrent cell, forward and backward (BPTT).

The scan owns what all cells have in common: the direction of travel, the mask (a masked
step carries every state through unchanged), the state histories kept for backward, and
the final states. A cell (``elman.py``, ``lstm.py``, ``gru.py``) contributes only

- ``begin(x, fused)``: the input projections of all steps in one GEMM, and its buffers
  (``fused``: the compiled loop will run, below);
- ``step(t, prev, out)``: one step forward, writing the new states into ``out``;
- ``end_forward()``: drop what backward will not need (the BPTT cache is what stays);
- ``begin_backward(hist)``: every backward factor that does not depend on the
  recurrence (gate derivatives...), computed in bulk over all steps;
- ``step_backward(t, prev, d)``: one step of BPTT, turning the gradients w.r.t. the
  states after step t, ``d``, into those w.r.t. the states before it, in place;
- ``end_backward(x, hist) -> (dx, param_grads)``: the input and weight gradients as a
  few large GEMMs over all steps at once.

With the accelerated backend (``backend.py``) a cell that says it is ``fusable()`` runs
its whole loop compiled instead (``fused_forward`` / ``fused_backward``), filling the
same buffers, so ``end_backward`` is shared by both paths. With NumPy, a cell whose
``own_loop()`` is true (the default LSTM) runs a whole-loop NumPy kernel of its own
(``loop_forward`` / ``loop_backward``), and one whose ``own_infer()`` is true (the
default LSTM and GRU) runs its own ``loop_infer`` without a graph: per-step NumPy calls
cost a fixed overhead, and a loop laid out for the cell needs fewer of them.

Shapes: time-major. x (time, batch, input_size); each state (batch, state_size);
state histories (time, batch, state_size). The hot loops below allocate nothing.
"""
from __future__ import annotations

import numpy as np

from rnnkit.recurrent import _workspace, backend
from rnnkit.recurrent.backend import matmul

_NO_MASK = np.zeros((0, 0), dtype=bool)


class History:
    """The states after every step, in time order, plus the initial states.

    ``states[k][t]`` is state k after the step at time t (after masking); ``init[k]`` is
    the state before the first step processed (time 0 forward, time T-1 in reverse).
    A cell running its own loop may keep only the final entry of a state that backward
    does not read (the NumPy LSTM's cell state): a (1, batch, size) array.
    An initial state that is all zeros is not kept between forward and backward (it is
    part of what the BPTT cache would hold): ``init`` makes it again when asked.
    """

    def __init__(self, states, init, reverse, zero_init=()):
        self.states = states
        zero_init = zero_init or (False,) * len(init)
        self._init = tuple(None if z else s for s, z in zip(init, zero_init))
        self.reverse = reverse
        self.compiled = None  # the module of compiled loops, if they ran forward
        self.own_loop = False  # True if the cell's own NumPy loop ran forward
        self.need_dx = True    # False when backward may skip the input's gradient

    @property
    def init(self):
        """The initial states, (batch, state_size_k) each."""
        return tuple(np.zeros(s.shape[1:], dtype=s.dtype) if i is None else i
                     for s, i in zip(self.states, self._init))

    @property
    def order(self):
        """Time indices in processing order."""
        T = self.states[0].shape[0]
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def prev_seq(self, k, out=None):
        """State k before every step, in time order: a (time, batch, size) array, ``out``
        if given, else a new one."""
        s = self.states[k]
        out = np.empty_like(s) if out is None else out
        if self.reverse:
            out[:-1], out[-1] = s[1:], self.init[k]
        else:
            out[1:], out[0] = s[:-1], self.init[k]
        return out

    def final(self, k):
        """State k after the last step processed."""
        return self.states[k][0 if self.reverse else -1]

    def finals(self):
        """Copies of every final state: the op's h_n (and c_n)."""
        return [np.array(self.final(k)) for k in range(len(self.states))]

    def outer_prev(self, d, k, gates_major=False):
        """sum_t d[t]^T @ prev_k(t), where prev_k(t) is state k before step t: a weight
        gradient, as two GEMMs and no copies. d: (time, batch, n) -> (n, state_size);
        with ``gates_major``, d is (n, time, batch)."""
        seq = self.states[k]
        n, m = d.shape[0 if gates_major else -1], seq.shape[-1]
        if self.reverse:    # the step at t follows state t + 1
            steps, before, first = slice(None, -1), slice(1, None), -1
        else:               # the step at t follows state t - 1
            steps, before, first = slice(1, None), slice(None, -1), 0
        if gates_major:
            d_steps, d_first = d[:, steps].reshape(n, -1), d[:, first]
        else:
            d_steps, d_first = d[steps].reshape(-1, n).T, d[first].T
        out = matmul(d_steps, seq[before].reshape(-1, m))
        if self._init[k] is not None:   # a zero initial state adds nothing
            out = out + matmul(d_first, self._init[k])
        return out


def scan_forward(cell, x, init_states, mask=None, reverse=False, zero_init=()):
    """Run ``cell`` over the whole sequence ``x``.

    x: (time, batch, input_size); init_states: tuple of (batch, state_size_k) arrays;
    mask: None or bool (time, batch), False where a step is padding. zero_init: a bool
    per state, True where the caller's initial state is zeros (then not cached).
    Returns a :class:`History`; its ``states[0]`` is the output sequence
    (time, batch, output_size), where a masked step repeats the previous output.
    """
    T, B = x.shape[0], x.shape[1]
    compiled = backend.compiled()
    fused = compiled is not None and cell.fusable()
    init_states = tuple(np.ascontiguousarray(s) for s in init_states)
    if not fused and _own_loop(cell):
        hist = History(None, init_states, reverse, zero_init)
        hist.own_loop = True
        hist.states = cell.loop_forward(x, init_states, None if mask is None else ~mask,
                                        reverse)
        return hist
    cell.begin(x, fused)
    hist = History(None, init_states, reverse, zero_init)
    # The output (state 0) goes to the caller (a free buffer of the workspace, if there
    # is one: scan_infer may give it back); the other histories only to backward.
    hist.states = tuple(_workspace.take((T, B) + s.shape[1:], x.dtype) if k == 0 else
                        _workspace.lend(hist, (T, B) + s.shape[1:], x.dtype)
                        for k, s in enumerate(init_states))
    if fused:
        hist.compiled = compiled
        cell.fused_forward(compiled, hist, _NO_MASK if mask is None else ~mask)
        cell.end_forward()
        return hist
    keep = None if mask is None else ~mask[:, :, None]  # rows whose state is carried
    prev = hist.init
    for t in hist.order:
        out = tuple([s[t] for s in hist.states])
        cell.step(t, prev, out)
        if keep is not None:
            for o, p in zip(out, prev):
                np.copyto(o, p, where=keep[t])
        prev = out
    cell.end_forward()
    return hist


def scan_infer(cell, x, init_states, mask=None, reverse=False, out=None):
    """``scan_forward`` when no gradient will be asked for: (output, [final states]).

    A cell with a compiled inference loop (``fused_infer``: the LSTM) runs it and keeps
    no history but the output; otherwise this is scan_forward's output and finals.
    out: None, or a (time, batch, output_size) array (any strides) the output is
    written into and returned as.
    """
    compiled = backend.compiled()
    if compiled is not None and cell.fusable() and hasattr(cell, "fused_infer"):
        return cell.fused_infer(compiled, x, init_states,
                                _NO_MASK if mask is None else ~mask, reverse, out)
    if compiled is None and _own_infer(cell):
        return cell.loop_infer(x, init_states, None if mask is None else ~mask, reverse,
                               out)
    hist = scan_forward(cell, x, init_states, mask, reverse)
    finals = hist.finals()
    if out is None:
        return hist.states[0], finals
    np.copyto(out, hist.states[0])
    _workspace.give(hist.states[0])     # taken by scan_forward, and now nobody's
    return out, finals


def scan_backward(cell, x, hist, d_seq, d_final, mask=None, need_dx=True):
    """BPTT through ``scan_forward``: gradients for x, the initial states and the weights.

    d_seq: (time, batch, output_size), the gradient of the output sequence (states[0]);
    d_final: tuple of (batch, state_size_k) arrays or None, gradients of the final states.
    need_dx: False skips the input's gradient (a GEMM over every step) and returns None
    for it, as when x does not require grad.
    Returns (dx, d_init_states, param_grads) where param_grads is the cell's dict.
    """
    hist.need_dx = need_dx
    d = [np.zeros_like(s) if g is None else np.array(g, dtype=s.dtype)
         for s, g in zip(hist.init, d_final)]
    if hist.compiled is not None:
        # The compiled loop reads d_seq C-contiguous: a bidirectional output's gradient
        # (a half of the concatenation's) is copied into workspace scratch, not new pages.
        copied = None
        if not (d_seq.flags.c_contiguous and d_seq.dtype == x.dtype):
            copied = _workspace.take(d_seq.shape, x.dtype)
            np.copyto(copied, d_seq)
            d_seq = copied
        cell.fused_backward(hist.compiled, hist, d_seq, d,
                            _NO_MASK if mask is None else np.ascontiguousarray(mask))
        if copied is not None:
            _workspace.give(copied)
        dx, grads = cell.end_backward(x, hist)
        return dx, tuple(d), grads
    if hist.own_loop:
        dx, grads = cell.loop_backward(x, hist, np.asarray(d_seq, dtype=x.dtype), d,
                                       None if mask is None else mask.astype(x.dtype))
        return dx, tuple(d), grads
    cell.begin_backward(hist)
    order = hist.order
    if mask is None:
        for t in reversed(order):
            d[0] += d_seq[t]
            cell.step_backward(t, _prev(hist, t, order), d)
    else:
        live = mask[:, :, None].astype(x.dtype)
        dead = 1 - live
        carried = [np.empty_like(g) for g in d]
        for t in reversed(order):
            d[0] += d_seq[t]
            for g, c in zip(d, carried):       # a masked row's gradient skips the cell
                np.multiply(g, dead[t], out=c)
                g *= live[t]
            cell.step_backward(t, _prev(hist, t, order), d)
            for g, c in zip(d, carried):
                g += c
    dx, grads = cell.end_backward(x, hist)
    return dx, tuple(d), grads


def _own_loop(cell):
    """True when the cell runs its own NumPy time loop (``loop_forward`` and friends:
    the LSTM's, ``lstm_loop.py``) rather than this module's loop over ``step``."""
    return _says(cell, "own_loop")


def _own_infer(cell):
    """True when the cell runs its own NumPy loop for inference (``loop_infer``: the
    LSTM's and the GRU's)."""
    return _says(cell, "own_infer")


def _says(cell, question):
    """The cell's answer to an optional yes/no method; no such method is no."""
    ask = getattr(cell, question, None)
    return ask is not None and ask()


def _prev(hist, t, order):
    if t == order[0]:
        return hist.init
    tp = t + 1 if hist.reverse else t - 1
    return tuple([s[tp] for s in hist.states])
