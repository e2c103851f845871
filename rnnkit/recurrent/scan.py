"""The one time loop shared by every recurrent cell, forward and backward (BPTT).

The scan owns what all cells have in common: the direction of travel, the mask (a masked
step carries every state through unchanged), the state histories kept for backward, and
the final states. A cell (``elman.py``, ``lstm.py``, ``gru.py``) contributes only

- ``begin(x)``: the input projections of all steps in one GEMM, and its caches;
- ``step(t, prev, out)``: one step forward, writing the new states into ``out``;
- ``step_backward(t, prev, new, d_new) -> d_prev``: one step of BPTT;
- ``end_backward(x, hist) -> (dx, param_grads)``: the weight gradients as a few large
  GEMMs over all steps at once, after the loop.

Shapes: time-major. x (time, batch, input_size); each state (batch, state_size);
state histories (time, batch, state_size).
"""
from __future__ import annotations

import numpy as np


class History:
    """The states after every step, in time order, plus the initial states.

    ``states[k][t]`` is state k after the step at time t (after masking); ``init[k]`` is
    the state before the first step processed (time 0 forward, time T-1 in reverse).
    """

    def __init__(self, states, init, reverse):
        self.states = states
        self.init = init
        self.reverse = reverse

    def first(self):
        """Index of the first step processed."""
        return self.states[0].shape[0] - 1 if self.reverse else 0

    def prev(self, k, t):
        """State k as it was before the step at time t."""
        if t == self.first():
            return self.init[k]
        return self.states[k][t + 1 if self.reverse else t - 1]

    def final(self, k):
        """State k after the last step processed."""
        return self.states[k][0 if self.reverse else -1]

    def outer_prev(self, d, k, prev_seq=None):
        """sum_t d[t]^T @ prev_k(t): a weight gradient, as two GEMMs and no copies.

        d: (time, batch, n); returns (n, state_size). ``prev_seq`` overrides the state
        history (with this history's initial state still used for the first step).
        """
        seq = self.states[k] if prev_seq is None else prev_seq
        n, m = d.shape[-1], seq.shape[-1]
        if self.reverse:
            rest = d[:-1].reshape(-1, n).T @ seq[1:].reshape(-1, m)
            return rest + d[-1].T @ self.init[k]
        rest = d[1:].reshape(-1, n).T @ seq[:-1].reshape(-1, m)
        return rest + d[0].T @ self.init[k]


def scan_forward(cell, x, init_states, mask=None, reverse=False):
    """Run ``cell`` over the whole sequence ``x``.

    x: (time, batch, input_size); init_states: tuple of (batch, state_size_k) arrays;
    mask: None or bool (time, batch), False where a step is padding.
    Returns a :class:`History`; its ``states[0]`` is the output sequence
    (time, batch, output_size), where a masked step repeats the previous output.
    """
    T, B = x.shape[0], x.shape[1]
    cell.begin(x)
    states = tuple(np.empty((T, B) + s.shape[1:], dtype=x.dtype) for s in init_states)
    hist = History(states, tuple(init_states), reverse)
    keep = None if mask is None else ~mask[:, :, None]  # rows whose state is carried
    prev = tuple(init_states)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        out = tuple(s[t] for s in states)
        cell.step(t, prev, out)
        if keep is not None:
            for o, p in zip(out, prev):
                np.copyto(o, p, where=keep[t])
        prev = out
    return hist


def scan_backward(cell, x, hist, d_seq, d_final, mask=None):
    """BPTT through ``scan_forward``: gradients for x, the initial states and the weights.

    d_seq: (time, batch, output_size), the gradient of the output sequence (states[0]);
    d_final: tuple of (batch, state_size_k) arrays or None, gradients of the final states.
    Returns (dx, d_init_states, param_grads) where param_grads is the cell's dict.
    """
    T = x.shape[0]
    d = [np.zeros_like(s) if g is None else np.array(g, dtype=s.dtype)
         for s, g in zip(hist.init, d_final)]
    m = None if mask is None else mask[:, :, None].astype(x.dtype)
    for t in (range(T) if hist.reverse else range(T - 1, -1, -1)):
        d[0] = d[0] + d_seq[t]
        prev = tuple(hist.prev(k, t) for k in range(len(d)))
        new = tuple(s[t] for s in hist.states)
        if m is None:
            d = list(cell.step_backward(t, prev, new, tuple(d)))
        else:
            live = tuple(g * m[t] for g in d)
            carried = [g - lg for g, lg in zip(d, live)]
            d = [dp + c for dp, c in zip(cell.step_backward(t, prev, new, live), carried)]
    dx, grads = cell.end_backward(x, hist)
    return dx, tuple(d), grads
