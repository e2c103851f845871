"""The LSTM's own NumPy time loop, feature-major: the speed path without the compiled extra.

A NumPy step pays a fixed ~0.3-0.5 us per call whatever the size, so this loop is
written with as few calls per step as the algebra allows, each meeting NumPy's fast
path (operands of one shape, contiguous):

- feature-major states, (features, batch): each gate is a contiguous block of rows, and
  OpenBLAS computes W @ h faster than h @ W^T (12 vs 19 us at batch 32, hidden 128;
  196 vs 350 us at hidden 512);
- one GEMM per step and no separate input projection: Z_k = [x_t; h_{t-1}; 1] (input,
  state, a row of ones) times Wa = [W_ih | W_hh | b]. x is copied in, transposed, once
  for all steps, and each step writes h_t straight into Z_{k+1};
- gate rows in the order i, f, o, g with the sigmoid rows of Wa halved, so one tanh
  activates all four gates (σ(a) = (1 + tanh(a/2)) / 2), and the cell state kept right
  after g, so [i, f] * [g, c_{t-1}] is one multiply.

Inference: 8 calls a step. Training: the forward also leaves the factors through which
backward passes the gradient (6 more calls a step, on data in cache), so each backward
step is 9 calls. The equations are the ``LSTMCell`` docstring's; ``LSTMCell.step`` is
the plain per-step reference, and both are tested against PyTorch.

Buffers are indexed by processing step k: k = t forward, k = T-1-t in reverse.
Shapes: x (time, batch, input); Z (time+1, input+hidden+1, batch); the gate buffer
(6*hidden, batch) holds rows [tanh(c_t), σ_i, σ_f, σ_o, g, c_{t-1}]. Big scratch buffers come from
``_workspace`` (fresh pages cost a fault each).
"""
from __future__ import annotations

import functools
import weakref

import numpy as np

from rnnkit.recurrent import _workspace


@functools.lru_cache(maxsize=64)
def gate_order(H):
    """Rows i, f, o, g taken from PyTorch's i, f, g, o: the sigmoid gates first."""
    order = np.concatenate([np.arange(2 * H), np.arange(3 * H, 4 * H),
                            np.arange(2 * H, 3 * H)])
    order.flags.writeable = False
    return order


def fused_weights(w_ih, w_hh, bias):
    """Wa (4*hidden, input+hidden+1): [W_ih | W_hh | b] in row order i, f, o, g, the
    sigmoid rows (i, f, o) halved."""
    G, D = w_ih.shape
    H = G // 4
    p = gate_order(H)
    wa = np.empty((G, D + H + 1), dtype=w_ih.dtype)
    wa[:, :D] = w_ih[p]
    wa[:, D:D + H] = w_hh[p]
    wa[:, D + H] = 0 if bias is None else bias[p]
    wa[:3 * H] *= 0.5
    return wa


def _inputs(x, h0, reverse):
    """Z (T+1, D+H+1, B): x_t^T in the top rows in processing order, h0^T in Z[0]'s
    state rows, ones in the last row. The state rows of Z[1:] are filled by the loop."""
    T, B, D = x.shape
    H = h0.shape[1]
    z = _workspace.take((T + 1, D + H + 1, B), x.dtype)
    np.copyto(z[:T, :D], (x[::-1] if reverse else x).transpose(0, 2, 1))
    z[T, :D] = 0
    z[:, D + H] = 1
    z[0, D:D + H] = h0.T
    return z


def _keep_fm(keep, reverse):
    """(T, B) bool, True where a step is padding, -> (T, 1, B) in processing order."""
    if keep is None:
        return None
    return (keep[::-1] if reverse else keep)[:, None, :]


def _gate_buffers(H, B, dtype, c0):
    """Two gate buffers used in turn, rows [tanh(c_t), i, f, o, g, c_{t-1}], and the
    views the loops take of each: (pre-activations, sigmoid gates, [tanh c, σ_i], σ_i,
    [σ_f, σ_o], σ_o, [i, f], [g, c_{t-1}], tanh(c_t), c_{t-1})."""
    a = np.empty((2, 6 * H, B), dtype=dtype)
    a[0, 5 * H:] = c0.T
    return [(b[H:5 * H], b[H:4 * H], b[:2 * H], b[H:2 * H], b[2 * H:4 * H], b[3 * H:4 * H],
             b[H:3 * H], b[4 * H:], b[:H], b[5 * H:]) for b in a]


def infer(wa, x, h0, c0, keep=None, reverse=False):
    """Forward without a graph: (output (T, B, H), h_n (B, H), c_n (B, H)).

    keep: None or bool (T, B), True where a step is padding (the state is carried).
    Keeps no history but the output.
    """
    return _forward(wa, x, h0, c0, keep, reverse, None)


# Training. The forward also leaves, per step, the factors through which backward
# passes the gradient (the BPTT cache): with T = tanh(a') the tanh of every gate's
# (halved for σ) pre-activation, d = 1 - T^2 is g' for g and 4 σ' for σ (σ' = σ(1 - σ)),
# and per step (6H, B) rows
#   [tanh(c_t) d_o, σ_i d_g, g d_i, c_{t-1} d_f, σ_f, σ_o (1 - tanh(c_t)^2)]
#   = [fo, fg, fi, ff, σ_f, fc]
# so that each backward step is a few products: dL/dh_t times fo and fc, dL/dc_t times
# fg, fi, ff and σ_f. Orders are chosen so pairs come out of one call. The factor 4 is
# left in: backward works with ẽ = S e, S = 4 on the σ rows and 1 on g, and
# :func:`grad_scale` (1/S) turns it back (``LSTMCell.end_backward`` applies it).

def grad_scale(H, dtype):
    """1/S per gate row (i, f, o, g): 1/4 on the σ rows, 1 on g."""
    s = np.ones(4 * H, dtype=dtype)
    s[:3 * H] = 0.25
    return s


class Record:
    """The BPTT cache: the factors (T, 6H, B) in processing order (see above). Its
    buffer goes back to the workspace when the record is dropped."""

    def __init__(self, factors):
        self.factors = factors
        weakref.finalize(self, _workspace.give, factors).atexit = False


def forward(wa, x, h0, c0, keep=None, reverse=False):
    """Forward keeping the backward factors: (Record, output (T, B, H), c_n (B, H))."""
    T, B, _ = x.shape
    H = wa.shape[0] // 4
    factors = _workspace.take((T, 6 * H, B), x.dtype)
    out, _, c_n = _forward(wa, x, h0, c0, keep, reverse, factors)
    return Record(factors), out, c_n


def _forward(wa, x, h0, c0, keep, reverse, factors):
    """The forward loop of :func:`infer` and :func:`forward`; fills ``factors`` (or not,
    when None). Returns (output (T, B, H), h_n, c_n)."""
    T, B, D = x.shape
    H = wa.shape[0] // 4
    dtype = x.dtype
    z = _inputs(x, h0, reverse)
    zh = z[:, D:D + H]
    cur, nxt = _gate_buffers(H, B, dtype, c0)
    prod = np.empty((2 * H, B), dtype=dtype)
    p_i, p_f = prod[:H], prod[H:]
    d = np.empty((4 * H, B), dtype=dtype)                 # rows i, f, o, g
    d_if, d_og = d[:2 * H], d[2 * H:]
    htc = np.zeros((2 * H, B), dtype=dtype)               # [0, h tanh(c_t)]
    half, one = np.array(0.5, dtype=dtype), np.array(1, dtype=dtype)
    dot, tanh, mul, add, sub, copyto = (np.dot, np.tanh, np.multiply, np.add, np.subtract,
                                        np.copyto)
    keep = _keep_fm(keep, reverse)
    train = factors is not None
    for k in range(T):
        pre, sig, tc_i, _, f_o, o, i_f, g_c, tc, c = cur
        c_new, h = nxt[9], zh[k + 1]
        dot(wa, z[k], pre)
        tanh(pre, pre)
        if train:
            mul(pre, pre, d)
            sub(one, d, d)                    # 1 - T^2
        mul(sig, half, sig)
        add(sig, half, sig)
        mul(i_f, g_c, prod)                   # [i * g, f * c_{t-1}]
        add(p_i, p_f, c_new)
        tanh(c_new, tc)
        mul(o, tc, h)
        if train:
            fk = factors[k]
            mul(tc_i, d_og, fk[:2 * H])       # [fo, fg]
            mul(g_c, d_if, fk[2 * H:4 * H])   # [fi, ff]
            mul(h, tc, htc[H:])
            sub(f_o, htc, fk[4 * H:])         # [σ_f, σ_o - h tanh(c) = fc]
        if keep is not None:
            copyto(h, zh[k], where=keep[k])
            copyto(c_new, c, where=keep[k])
        cur, nxt = nxt, cur
    out = zh[1:].transpose(0, 2, 1)
    out, h_n = np.ascontiguousarray(out[::-1] if reverse else out), zh[T].T.copy()
    _workspace.give(z)
    return out, h_n, cur[9].T.copy()


def backward(w_hh, record, d_seq, dh, dc, live=None, reverse=False):
    """BPTT through :func:`forward`.

    w_hh: (4H, H), PyTorch's W_hh (rows i, f, g, o). d_seq: (T, B, H), the output's
    gradient; dh, dc: (B, H), the final states'. live: None or float (T, B), 1 on real
    steps and 0 on padding. Returns (ẽ (T, B, 4H), dh0 (B, H), dc0 (B, H)): ẽ, in time
    order and gate rows i, f, o, g, is S times the pre-activations' gradient; it is a
    workspace buffer: give it back when done.
    """
    factors = record.factors
    T, B, H = d_seq.shape
    dtype = factors.dtype
    w_t = w_hh[gate_order(H)] * grad_scale(H, dtype)[:, None]
    w_t = np.ascontiguousarray(w_t.T)                  # (H, 4H): ẽ -> dL/dh_{t-1}
    ds = _workspace.take((T, H, B), dtype)
    np.copyto(ds, (d_seq[::-1] if reverse else d_seq).transpose(0, 2, 1))
    d_seq = ds
    dh, dc = np.ascontiguousarray(dh.T), np.ascontiguousarray(dc.T)
    # ẽ is made a chunk of steps at a time and copied to (time, batch, gates) while the
    # chunk is still in cache (a transposing copy of the whole of it ran 2x slower).
    n = min(T, max(1, 16384 // (H * B)))
    e = np.empty((n, 4 * H, B), dtype=dtype)
    e_bm = _workspace.take((T, B, 4 * H), dtype)
    e_out = e_bm[::-1] if reverse else e_bm             # processing order
    w = np.empty((H, B), dtype=dtype)
    dot, mul, add = np.dot, np.multiply, np.add
    if live is not None:
        live = np.ascontiguousarray((live[::-1] if reverse else live)[:, None, :])
        dead = 1 - live
        carry_h, carry_c = np.empty_like(dh), np.empty_like(dc)
    for k1 in range(T, 0, -n):
        k0 = max(0, k1 - n)
        for k in range(k1 - 1, k0 - 1, -1):
            add(dh, d_seq[k], dh)
            if live is not None:
                mul(dh, dead[k], carry_h)
                mul(dc, dead[k], carry_c)
                dh *= live[k]
                dc *= live[k]
            ek, fk = e[k - k0], factors[k]
            mul(dh, fk[:H], ek[2 * H:3 * H])                   # o
            mul(dh, fk[5 * H:], w)
            add(dc, w, dc)                                     # dL/dc_t, all paths
            mul(dc, fk[2 * H:3 * H], ek[:H])                   # i
            mul(dc, fk[3 * H:4 * H], ek[H:2 * H])              # f
            mul(dc, fk[H:2 * H], ek[3 * H:])                   # g
            mul(dc, fk[4 * H:5 * H], dc)                       # -> dL/dc_{t-1}
            dot(w_t, ek, dh)                                   # -> dL/dh_{t-1}
            if live is not None:
                dh += carry_h
                dc += carry_c
        np.copyto(e_out[k0:k1], e[:k1 - k0].transpose(0, 2, 1))
    _workspace.give(ds)
    return e_bm, dh.T.copy(), dc.T.copy()
