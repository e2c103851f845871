"""The LSTM's own NumPy time loop, feature-major: the speed path without the compiled extra.

A NumPy call costs a fixed ~0.3 us whatever its size, and a step of an imdb-sized LSTM
(batch 32, hidden 32) has ~1,000 values per gate, so the loop is written with as few
calls per step as the algebra allows, each on contiguous operands of one shape (NumPy's
fast path; a broadcasting call costs three plain ones):

- feature-major states, (features, batch): each gate is a contiguous block, and OpenBLAS
  computes W @ h faster than h @ W^T (12 vs 19 us at batch 32, hidden 128);
- one GEMM per step: Z_k = [x_t; h_{t-1}; 1] (input, state, a row of ones) times
  Wa = [W_ih | W_hh | b]; x is copied in, transposed, once, and each step writes h_t
  straight into Z_{k+1};
- one tanh for the four gates: the sigmoid rows of Wa are halved, t = tanh(a/2) and
  σ(a) = (1 + t) / 2;
- the sums as a tiny GEMM. With the products p_f = c_{t-1} t_f and p_i = g t_i,
      c_t = (c_{t-1} + p_f + g + p_i) / 2        and        σ_o = (t_o + 1) / 2
  are two linear combinations of blocks [p_f, p_i, 1, c_{t-1}, g, t_o]: one product by a
  (2, 6) matrix of halves computes both (0.5 us against 1 us for the three calls it
  replaces).

A step is then 6 calls: Wa Z_k, tanh, [c_{t-1}, g] * [t_f, t_i], the combination,
tanh(c_t), σ_o * tanh(c_t). Training runs the same step and 7 more calls that leave the
factors through which backward passes the gradient (computing them afterwards over many
steps at once was slower: NumPy runs a call over blocks spaced apart ~3x slower per
value than over contiguous ones); backward is 5 calls a step.
The equations are the ``LSTMCell`` docstring's; ``LSTMCell.step`` is the plain per-step
reference, and both are tested against PyTorch.

Buffers are indexed by processing step k: k = t forward, k = T-1-t in reverse. A
"block" is one (hidden, batch) array. Big scratch buffers come from ``_workspace``
(fresh pages cost a fault each).
"""
from __future__ import annotations

import functools
import itertools
import weakref

import numpy as np

from rnnkit.recurrent import _workspace

# A step's slot: 9 blocks, [p_f, p_i, 1, c_{t-1}, g, t_o, t_f, t_i, tanh(c_{t-1})].
# The gates' pre-activations and their tanh are blocks 4-7 (Wa's rows g, o, f, i), the
# product [c, g] * [t_f, t_i] lands on blocks 0-1, the combination reads blocks 0-5 and
# writes [c_t, σ_o] on the next slot's blocks 3-4 (training: reads 0-7, writes
# [c_t, σ_o, σ_f, 0, 2 σ_i] on 3-7; all is spent before the next step's gates overwrite
# blocks 4-7), and tanh(c_t) goes to the next slot's block 8.
SLOT = 9
_C, _G, _TC = 3, 4, 8


def _rows(H, blocks):
    """Row indices of PyTorch's gate blocks (i=0, f=1, g=2, o=3) in the given order."""
    return np.concatenate([np.arange(b * H, (b + 1) * H) for b in blocks])


@functools.lru_cache(maxsize=64)
def loop_order(H):
    """Wa's rows: g, o, f, i (the order of the slot's gate blocks)."""
    order = _rows(H, (2, 3, 1, 0))
    order.flags.writeable = False
    return order


@functools.lru_cache(maxsize=64)
def grad_order(H):
    """The gate rows of backward's ẽ: f, i, g, o."""
    order = _rows(H, (1, 0, 2, 3))
    order.flags.writeable = False
    return order


def grad_scale(H, dtype):
    """1/S per row of ẽ (f, i, g, o): backward computes ẽ = S e, e the gradient of the
    pre-activations; S = 4 on f, i and o, 2 on g (see the factors below)."""
    s = np.full(4 * H, 0.25, dtype=dtype)
    s[2 * H:3 * H] = 0.5
    return s


def fused_weights(w_ih, w_hh, bias):
    """Wa (4*hidden, input+hidden+1): [W_ih | W_hh | b] in row order g, o, f, i, the
    sigmoid rows (o, f, i) halved. A workspace buffer (8 MB at hidden 512)."""
    G, D = w_ih.shape
    H = G // 4
    p = loop_order(H)
    wa = _workspace.take((G, D + H + 1), w_ih.dtype)
    wa[:, :D] = w_ih[p]
    wa[:, D:D + H] = w_hh[p]
    wa[:, D + H] = 0 if bias is None else bias[p]
    wa[H:] *= 0.5
    return wa


def stacked_inputs(x, h0, reverse):
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


def outputs(zh, reverse, view, out=None):
    """The output (T, B, H) in time order from Z's state rows ``zh`` (T+1, H, B): copied
    into ``out`` (a (T, B, H) array, any strides) and returned, if given; else

    view=True: a transposed view of a compact (T, H, B) copy. A copy that transposes
    costs 4x a plain one (124 vs 31 us at batch 32, hidden 32, 500 steps), and the
    transpose is free for whoever reads the output as it lies: the next layer's
    :func:`stacked_inputs`, a reduction, a GEMM. (PyTorch's batch_first outputs are
    views too.) view=False: a C-contiguous array, as training's weight gradients read
    the output as one (T*B, H) matrix.
    """
    hs = zh[:0:-1] if reverse else zh[1:]
    if out is not None:
        np.copyto(out, hs.transpose(0, 2, 1))
        return out
    if view:
        return hs.copy().transpose(0, 2, 1)
    return np.ascontiguousarray(hs.transpose(0, 2, 1))


def keep_rows(keep, reverse):
    """(T, B) bool, True where a step is padding, -> (T, 1, B) in processing order."""
    if keep is None:
        return None
    return (keep[::-1] if reverse else keep)[:, None, :]


def _steps(slots, train):
    """Each step's operands for the two slots used in turn: its slot's (pre-activations
    (4H, B), [c, g], [t_f, t_i], [p_f, p_i], the combination's input) and the next
    slot's (the combination's output, c_t, σ_o, tanh c_t), then c_{t-1}; training adds
    the next slot's [2 σ_i, tanh c_t] and σ_f (the training combination's extra rows)."""
    H, B = slots.shape[2:]
    k, r = (8, 5) if train else (6, 2)
    out = []
    for s, n in ((slots[0], slots[1]), (slots[1], slots[0])):
        step = (s[4:8].reshape(4 * H, B), s[3:5], s[6:8], s[0:2],
                s[:k].reshape(k, H * B), n[3:3 + r].reshape(r, H * B),
                n[_C], n[_G], n[_TC], s[_C])
        out.append(step + (n[7:9], n[5]) if train else step)
    return out


@functools.lru_cache(maxsize=8)
def _combination(dtype, train):
    """Slot blocks [p_f, p_i, 1, c, g, t_o] -> [c_t, σ_o]: (2, 6). Training also reads
    [t_f, t_i] and writes [σ_f, 0, 2 σ_i] after σ_o: (5, 8)."""
    m = np.zeros((5, 8), dtype=dtype)
    m[0, [0, 1, 3, 4]] = 0.5        # c_t = (p_f + p_i + c + g) / 2
    m[1, [2, 5]] = 0.5              # σ_o = (1 + t_o) / 2
    m[2, [2, 6]] = 0.5              # σ_f = (1 + t_f) / 2
    m[4, [2, 7]] = 1                # 2 σ_i = 1 + t_i
    m = m if train else np.ascontiguousarray(m[:2, :6])
    m.flags.writeable = False
    return m


def infer(wa, x, h0, c0, keep=None, reverse=False, out=None):
    """Forward without a graph: (output (T, B, H), h_n (B, H), c_n (B, H)).

    wa: :func:`fused_weights`. keep: None or bool (T, B), True where a step is padding
    (the state is carried). Keeps no history but the output, written into ``out`` (a
    (T, B, H) array) if given.
    """
    return _forward(wa, x, h0, c0, keep, reverse, None, out)


# Training. Backward needs, per step, the factors through which the gradient passes
# (the BPTT cache). With t = tanh of the (halved for σ) pre-activations, d = 1 - t^2,
# σ = (1 + t) / 2 and tc = tanh(c_t), per step 6 blocks
#   F = [σ_f, c_{t-1} d_f, g d_i, 2 σ_i d_g, tc d_o, σ_o (1 - tc^2)]
#     = [σ_f, ff,          fi,    fg,        fo,    fc]
# so that, with δ = dL/dh_t and ĉ = dL/dc_t through both of its paths,
#   [ẽ_o, w] = δ [fo, fc],   ĉ = dL/dc_t (from t+1) + w,
#   [dL/dc_{t-1}, ẽ_f, ẽ_i, ẽ_g] = ĉ [σ_f, ff, fi, fg],   dL/dh_{t-1} = W^T e.
# ẽ is S times the pre-activations' gradient e (:func:`grad_scale`). The forward makes
# them in 7 calls a step, on blocks still in cache: d for the four gates in two, then
# [ff, fi] = [c, g] d_{f,i} and [fg, fo] = [2 σ_i, tc] d_{g,o} (the training combination
# puts 2 σ_i beside tanh c_t), h tc and σ_o - h tc, and a copy of σ_f. On padding steps
# the factors are set so the gradient passes unchanged: ẽ = 0, w = 0, σ_f = 1.

class Record:
    """The BPTT cache: ``factors`` (T, 6, H, B) in processing order (see above). Its
    buffer goes back to the workspace when the record is dropped."""

    def __init__(self, factors):
        self.factors = factors
        weakref.finalize(self, _workspace.give, factors).atexit = False


def forward(wa, x, h0, c0, keep=None, reverse=False):
    """Forward keeping the backward factors: (Record, output (T, B, H), c_n (B, H))."""
    T, B, _ = x.shape
    H = wa.shape[0] // 4
    record = Record(_workspace.take((T, 6, H, B), x.dtype))
    out, _, c_n = _forward(wa, x, h0, c0, keep, reverse, record.factors)
    return record, out, c_n


def _chunk(H, B):
    """Backward's steps per chunk: a few per-chunk copies amortized over many steps.
    (Measured on the reference shapes: backward 18% faster at batch 32, hidden 128 with
    32 steps a chunk than with 1, 7% at hidden 32 with 64 rather than 6.)"""
    return max(1, min(64, 131072 // (H * B)))


def _forward(wa, x, h0, c0, keep, reverse, factors, out=None):
    """The forward loop of :func:`infer` and :func:`forward`; fills ``factors`` (or not,
    when None). Returns (output (T, B, H), h_n, c_n), the output in ``out`` if given."""
    T, B, D = x.shape
    H = wa.shape[0] // 4
    dtype = x.dtype
    z = stacked_inputs(x, h0, reverse)
    zh = z[:, D:D + H]
    train = factors is not None
    slots = _workspace.take((2, SLOT, H, B), dtype)
    slots[:, 2] = 1
    slots[0, _C] = c0.T
    steps = itertools.cycle(_steps(slots, train))
    wa_dot, comb_dot = wa.dot, _combination(dtype, train).dot
    tanh, mul, sub, copyto = np.tanh, np.multiply, np.subtract, np.copyto
    keep = keep_rows(keep, reverse)
    if not train and keep is None:
        for (pre, cg, tfi, pfi, c_in, c_out, c_t, s_o, tc, _), zk, h in zip(
                steps, z[:T], zh[1:]):
            wa_dot(zk, pre)
            tanh(pre, pre)
            mul(cg, tfi, pfi)                 # [c t_f, g t_i]
            comb_dot(c_in, c_out)             # [c_t, σ_o]
            tanh(c_t, tc)
            mul(s_o, tc, h)
    elif not train:                          # the same, carrying the state over padding
        for (pre, cg, tfi, pfi, c_in, c_out, c_t, s_o, tc, c), zk, h, h_prev, pad in zip(
                steps, z[:T], zh[1:], zh[:T], keep):
            wa_dot(zk, pre)
            tanh(pre, pre)
            mul(cg, tfi, pfi)
            comb_dot(c_in, c_out)
            tanh(c_t, tc)
            mul(s_o, tc, h)
            copyto(h, h_prev, where=pad)      # padding: the state is carried
            copyto(c_t, c, where=pad)
    else:
        one = np.array(1, dtype=dtype)
        d = _workspace.aligned_empty((4 * H, B), dtype)    # [d_g, d_o, d_f, d_i]
        d_go, d_fi = d.reshape(4, H, B)[:2], d.reshape(4, H, B)[2:]
        tmp = _workspace.aligned_empty((H, B), dtype)
        for (pre, cg, tfi, pfi, c_in, c_out, c_t, s_o, tc, c, ui_tc, s_f), zk, h, h_prev, \
                pad, f_0, f_12, f_34, f_5 in zip(
                steps, z[:T], zh[1:], zh[:T], itertools.repeat(None) if keep is None else keep,
                factors[:, 0], factors[:, 1:3], factors[:, 3:5], factors[:, 5]):
            wa_dot(zk, pre)
            tanh(pre, pre)
            mul(cg, tfi, pfi)
            comb_dot(c_in, c_out)             # [c_t, σ_o, σ_f, 0, 2 σ_i]
            tanh(c_t, tc)
            mul(s_o, tc, h)
            mul(pre, pre, d)
            sub(one, d, d)
            mul(cg, d_fi, f_12)               # [ff, fi]
            mul(ui_tc, d_go, f_34)            # [fg, fo]
            mul(h, tc, tmp)
            sub(s_o, tmp, f_5)                # fc = σ_o - h tc = σ_o (1 - tc^2)
            f_0[...] = s_f                    # σ_f (half the cost of np.copyto)
            if keep is not None:
                copyto(h, h_prev, where=pad)
                copyto(c_t, c, where=pad)
        if keep is not None:
            np.copyto(factors[:, 1:], 0, where=keep[:, None])
            np.copyto(factors[:, 0], 1, where=keep)
    c_n = slots[T % 2, _C].T.copy()
    _workspace.give(slots)
    out, h_n = outputs(zh, reverse, not train, out), zh[T].T.copy()
    _workspace.give(z)
    return out, h_n, c_n


def backward(w_hh, record, d_seq, dh, dc, live=None, reverse=False):
    """BPTT through :func:`forward`.

    w_hh: (4H, H), PyTorch's W_hh (rows i, f, g, o). d_seq: (T, B, H), the output's
    gradient; dh, dc: (B, H), the final states'. live: None or float (T, B), 1 on real
    steps and 0 on padding (the same padding as the forward's). Returns
    (ẽ (4H, T, B), dh0 (B, H), dc0 (B, H)): ẽ, gate rows f, i, g, o, then time order, is
    S times the pre-activations' gradient (:func:`grad_scale`); it is a workspace buffer:
    give it back when done. Gates-major, so each step's block goes in with a copy of
    whole rows, and the weight gradients are GEMMs over contiguous rows.
    """
    T, B, H = d_seq.shape
    dtype = d_seq.dtype
    w_t = w_hh[grad_order(H)] * grad_scale(H, dtype)[:, None]
    w_t = np.ascontiguousarray(w_t.T)                   # (H, 4H): ẽ -> dL/dh_{t-1}
    n = _chunk(H, B)
    # Chunk buffers. Row j of e serves chunk step j: [dL/dc_{t-1}, ẽ_f, ẽ_i, ẽ_g, ẽ_o,
    # w]; row j+1 of r holds [the recurrent part of dL/dh_t, d_seq_t]. The extra rows
    # (e's last, r's first) pass dL/dc and dL/dh between chunks. The sums δ and ĉ come
    # out of tiny GEMMs, ready in as many copies as the products need: r's rows are
    # pairs, and [w_t, dL/dc_t (from t+1)] sit side by side across two rows of e.
    e = _workspace.take((n + 1, 6, H, B), dtype)
    r = _workspace.take((n + 1, 2, H, B), dtype)
    e_flat, r_flat = e.reshape(6 * (n + 1), H * B), r.reshape(n + 1, 2, H * B)
    steps = [(r_flat[j + 1], e[j, 4:6], e_flat[6 * j + 5:6 * j + 7], e[j, 0:4],
              e[j, 1:5].reshape(4 * H, B), r[j, 0]) for j in range(n)]
    sum2_dot = np.ones((2, 2), dtype=dtype).dot
    sum4_dot = np.ones((4, 2), dtype=dtype).dot
    w_t_dot = w_t.dot
    dd = _workspace.aligned_empty((2, H, B), dtype)    # [δ, δ]
    cc = _workspace.aligned_empty((4, H, B), dtype)    # [ĉ, ĉ, ĉ, ĉ]
    dd_flat, cc_flat = dd.reshape(2, H * B), cc.reshape(4, H * B)
    e_gm = _workspace.take((4 * H, T, B), dtype)
    e_out = e_gm[:, ::-1] if reverse else e_gm          # processing order
    d_seq = d_seq[::-1] if reverse else d_seq
    fa, fb = record.factors[:, :4], record.factors[:, 4:]
    if live is not None:
        dead = np.ascontiguousarray(1 - (live[::-1] if reverse else live))[:, None, :]
        carry = _workspace.aligned_empty((H, B), dtype)
    mul, add = np.multiply, np.add
    k1, m = T, T - (T - 1) // n * n if T else 0        # the top chunk, maybe short
    r[m, 0] = dh.T
    e[m, 0] = dc.T
    while k1 > 0:
        k0 = k1 - m
        np.copyto(r[1:m + 1, 1], d_seq[k0:k1].transpose(0, 2, 1))
        if live is None:
            for (r_in, e_ow, e_pair, e_c, e_gates, r_out), fa_k, fb_k in zip(
                    steps[m - 1::-1], fa[k0:k1][::-1], fb[k0:k1][::-1]):
                sum2_dot(r_in, dd_flat)        # [δ, δ]
                mul(dd, fb_k, e_ow)            # [ẽ_o, w]
                sum4_dot(e_pair, cc_flat)      # ĉ = w + dL/dc_t, 4 times
                mul(cc, fa_k, e_c)             # [dL/dc_{t-1}, ẽ_f, ẽ_i, ẽ_g]
                w_t_dot(e_gates, r_out)        # dL/dh_{t-1}, recurrent part
        else:
            for (r_in, e_ow, e_pair, e_c, e_gates, r_out), fa_k, fb_k, dead_k in zip(
                    steps[m - 1::-1], fa[k0:k1][::-1], fb[k0:k1][::-1],
                    dead[k0:k1][::-1]):
                sum2_dot(r_in, dd_flat)
                mul(dd, fb_k, e_ow)
                sum4_dot(e_pair, cc_flat)
                mul(cc, fa_k, e_c)
                w_t_dot(e_gates, r_out)
                mul(dd[0], dead_k, carry)      # padding: δ passes unchanged
                add(r_out, carry, r_out)
        np.copyto(e_out[:, k0:k1], e[:m, 1:5].reshape(m, 4 * H, B).transpose(1, 0, 2))
        k1, m = k0, n
        r[m, 0] = r[0, 0]
        e[m, 0] = e[0, 0]
    dh0, dc0 = r[0, 0].T.copy(), e[0, 0].T.copy()
    _workspace.give(e, r)
    return e_gm, dh0, dc0
