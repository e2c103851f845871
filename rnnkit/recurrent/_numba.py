"""Compiled time loops (numba) for the default cells: the accelerated path.

Imported only when numba is installed (``pip install rnnkit[fast]``). Each function here
runs a whole sequence forward, or its whole BPTT loop, for one cell in its default
configuration, filling exactly the buffers the NumPy cells fill, so ``end_backward`` (the
bulk weight-gradient GEMMs) is shared. Every array argument is C-contiguous. The NumPy
cells stay the readable reference; the tests run both.

Why compile the loop and not just the gate math: at small sizes a step costs more in
Python and ufunc dispatch than in arithmetic. Here a step is one product with the
recurrent weights, packed once per call (``_gemm.py``), plus one pass over the gates.

Each loop runs over a range of batch rows, ``b0:b1``: the rows of a batch are independent
sequences, so the ``run_*`` functions below hand each thread its own rows
(``_threads.py``) and the threads never wait for each other. (Splitting the hidden units
instead needs a barrier per step, and the threads then write neighbouring parts of every
row: measured 2x slower in backward.) ``lstm_infer`` is the LSTM for inference without a
graph: it projects each step's input itself and keeps no history but the output.

Loops index arrays directly (``z[t, b, j]``, indices counted up from 0) rather than
through per-row views: making a view per row cost 4x, and a loop index that might be
negative cannot be vectorized (numba wraps negative indices around): ``range(2 * H,
3 * H)`` ran 4x slower than ``range(H)`` indexing ``2 * H + j``. numba has no vectorized
tanh of its own, so float32 uses a rational approximation (max abs error 3.7e-7, a few
ulp); float64 keeps the exact ``math.tanh``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from rnnkit.recurrent import _threads
from rnnkit.recurrent._gemm import MR, gemm, gemm_nt, pack

_JIT = dict(cache=True, error_model="numpy", nogil=True)

# tanh(x) ~ x P(u) / Q(u), u = (x / 9)^2, for |x| <= 9 (tanh rounds to +-1 in float32
# beyond). Coefficients fitted by rnnkit (Loeb-iterated least squares on [0, 9]).
_P = (0.9999999650086041, 10.592012769487955, 20.31135846348435, 5.884364957395348,
      -0.8573028521725938, 0.17924867788664456, -0.02306289458784458)
_Q = (1.0, 37.59200099311087, 160.49654447818423, 134.69103819662857)


_P32 = tuple(np.float32(c) for c in _P)
_Q32 = tuple(np.float32(c) for c in _Q)
_NINE, _INV81 = np.float32(9.0), np.float32(1 / 81)
# Constants in float32, so float32 math stays float32 (and vectorizes twice as wide);
# mixed with float64 they widen exactly.
_HALF, _ONE, _ZERO = np.float32(0.5), np.float32(1.0), np.float32(0)


def _tanh(x):
    """tanh, chosen at compile time by x's type (see the overload below)."""
    return math.tanh(x)


@overload(_tanh, inline="always")
def _tanh_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        def rational(x):
            x = min(max(x, -_NINE), _NINE)
            u = x * x * _INV81
            p = ((((((_P32[6] * u + _P32[5]) * u + _P32[4]) * u + _P32[3]) * u + _P32[2]) * u
                  + _P32[1]) * u + _P32[0])
            q = ((_Q32[3] * u + _Q32[2]) * u + _Q32[1]) * u + _Q32[0]
            return x * p / q
        return rational
    return lambda x: math.tanh(x)


@njit(inline="always", **_JIT)
def _sigmoid(x):
    """σ(x) = (1 + tanh(x/2)) / 2: stable for any x, and vectorized like tanh."""
    return _HALF * _tanh(_HALF * x) + _HALF


@njit(inline="always", **_JIT)
def _prev_index(s, t, reverse):
    return t + 1 if reverse else t - 1


@njit(inline="always", **_JIT)
def _take_live(dh, back, live, t, masked, accumulate, b0, b1):
    """dh[b] = back[b] (or +=) for the rows b0:b1 stepped at t; a masked row keeps its
    gradient."""
    H = dh.shape[1]
    for b in range(b0, b1):
        if not masked or live[t, b]:
            for k in range(H):
                dh[b, k] = dh[b, k] + back[b, k] if accumulate else back[b, k]


# -- Elman RNN ------------------------------------------------------------------------

@njit(**_JIT)
def rnn_forward(a, w, h0, hs, keep, reverse, relu, b0, b1):
    """a: (T, B, H) input projections (+ biases), becomes the pre-activations;
    w: W_hh packed (``pack``)."""
    T, B, H = a.shape
    masked = keep.shape[0] == T
    for s in range(T):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        gemm_nt(hp, w, a[t], True, b0, b1)  # a += h W^T
        for b in range(b0, b1):
            if masked and keep[t, b]:
                for k in range(H):
                    hs[t, b, k] = hp[b, k]
            elif relu:
                for k in range(H):
                    hs[t, b, k] = max(a[t, b, k], _ZERO)
            else:
                for k in range(H):
                    hs[t, b, k] = _tanh(a[t, b, k])


@njit(**_JIT)
def rnn_backward(da, w_t, hs, d_seq, dh, live, reverse, relu, b0, b1):
    """BPTT; da (T, B, H) receives dL/da_t; dh (B, H) in: d final, out: d h0;
    w_t: W_hh^T packed."""
    T, B, H = da.shape
    masked = live.shape[0] == T
    back = np.empty((B, H), dtype=da.dtype)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        for b in range(b0, b1):
            for k in range(H):
                dh[b, k] += d_seq[t, b, k]
            if masked and not live[t, b]:
                for k in range(H):
                    da[t, b, k] = _ZERO
            elif relu:
                for k in range(H):
                    da[t, b, k] = dh[b, k] if hs[t, b, k] > _ZERO else _ZERO
            else:
                for k in range(H):
                    h = hs[t, b, k]
                    da[t, b, k] = dh[b, k] * (_ONE - h * h)
        gemm_nt(da[t], w_t, back, False, b0, b1)  # back = da W
        _take_live(dh, back, live, t, masked, False, b0, b1)


# -- LSTM (PyTorch's gate order i, f, g, o) ----------------------------------------------

@njit(**_JIT)
def lstm_forward(z, w, h0, c0, hs, cs, tcs, keep, reverse, b0, b1):
    """z: (T, B, 4H) input projections, overwritten with the activated gates;
    w: the recurrent weights (4H, H), packed."""
    T, B, G = z.shape
    H = G // 4
    masked = keep.shape[0] == T
    for s in range(T):
        t = T - 1 - s if reverse else s
        if s == 0:
            hp, cp = h0, c0
        else:
            tp = _prev_index(s, t, reverse)
            hp, cp = hs[tp], cs[tp]
        gemm_nt(hp, w, z[t], True, b0, b1)  # z += h W^T
        for b in range(b0, b1):
            for j in range(2 * H):
                z[t, b, j] = _sigmoid(z[t, b, j])
            for j in range(H):      # from 0: see the module note on loop indices
                z[t, b, 2 * H + j] = _tanh(z[t, b, 2 * H + j])
            for j in range(H):
                z[t, b, 3 * H + j] = _sigmoid(z[t, b, 3 * H + j])
            for k in range(H):
                c = z[t, b, H + k] * cp[b, k] + z[t, b, k] * z[t, b, 2 * H + k]
                cs[t, b, k] = c
                tcs[t, b, k] = _tanh(c)
            if masked and keep[t, b]:
                for k in range(H):
                    cs[t, b, k] = cp[b, k]
                    hs[t, b, k] = hp[b, k]
            else:
                for k in range(H):
                    hs[t, b, k] = z[t, b, 3 * H + k] * tcs[t, b, k]


@njit(**_JIT)
def lstm_infer(x, w_i, bias, w, h0, c, hs, keep, reverse, b0, b1):
    """Inference only: like lstm_forward, but each step projects its own input
    (z = x_t W_ih^T + h W_hh^T, + bias as the gates are activated) into a (batch, 4H)
    scratch, and keeps only the
    running cell state, updated in place in c (B, H): no (T, B, 4H) gates, no state
    histories. x: (T, B, D); w_i, w: W_ih and W_hh packed; hs: (T, B, H) out."""
    T, B, D = x.shape
    H = hs.shape[2]
    G = 4 * H
    masked = keep.shape[0] == T
    z = np.empty((B, G), dtype=hs.dtype)
    for s in range(T):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        gemm_nt(x[t], w_i, z, False, b0, b1)  # z = x_t W_ih^T
        gemm_nt(hp, w, z, True, b0, b1)       # z += h W_hh^T
        for b in range(b0, b1):
            for j in range(2 * H):
                z[b, j] = _sigmoid(z[b, j] + bias[j])
            for j in range(H):
                z[b, 2 * H + j] = _tanh(z[b, 2 * H + j] + bias[2 * H + j])
            for j in range(H):
                z[b, 3 * H + j] = _sigmoid(z[b, 3 * H + j] + bias[3 * H + j])
            if masked and keep[t, b]:
                for k in range(H):
                    hs[t, b, k] = hp[b, k]
            else:
                for k in range(H):
                    c[b, k] = z[b, H + k] * c[b, k] + z[b, k] * z[b, 2 * H + k]
                    hs[t, b, k] = z[b, 3 * H + k] * _tanh(c[b, k])


@njit(**_JIT)
def lstm_backward(z, w_t, cs, tcs, c0, d_seq, dh, dc, live, reverse, b0, b1):
    """BPTT; z (T, B, 4H) activated gates in, dL/da out; dh, dc (B, H) carried;
    w_t: W_hh^T, packed."""
    T, B, G = z.shape
    H = G // 4
    masked = live.shape[0] == T
    back = np.empty((B, H), dtype=z.dtype)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        cp = c0 if s == 0 else cs[_prev_index(s, t, reverse)]
        for b in range(b0, b1):
            for k in range(H):
                dh[b, k] += d_seq[t, b, k]
            if masked and not live[t, b]:
                for j in range(G):
                    z[t, b, j] = _ZERO
                continue
            for k in range(H):
                i, f = z[t, b, k], z[t, b, H + k]
                g, o = z[t, b, 2 * H + k], z[t, b, 3 * H + k]
                tc = tcs[t, b, k]
                d = dh[b, k]
                dck = dc[b, k] + d * o * (_ONE - tc * tc)
                z[t, b, k] = dck * g * i * (_ONE - i)
                z[t, b, H + k] = dck * cp[b, k] * f * (_ONE - f)
                z[t, b, 2 * H + k] = dck * i * (_ONE - g * g)
                z[t, b, 3 * H + k] = d * tc * o * (_ONE - o)
                dc[b, k] = dck * f
        gemm_nt(z[t], w_t, back, False, b0, b1)  # back = dz W
        _take_live(dh, back, live, t, masked, False, b0, b1)


# -- GRU, reset after (PyTorch's gate order r, z, n) --------------------------------------

@njit(**_JIT)
def gru_forward(z, w, b_hn, h0, hs, aux, keep, reverse, b0, b1):
    """z: (T, B, 3H) input projections, overwritten with r, u, n; aux gets
    W_hn h + b_hn per step; w: W_hh, packed."""
    T, B, G = z.shape
    H = G // 3
    masked = keep.shape[0] == T
    rec = np.empty((B, G), dtype=z.dtype)
    for s in range(T):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        gemm_nt(hp, w, rec, False, b0, b1)  # rec = h W^T
        for b in range(b0, b1):
            for j in range(2 * H):
                z[t, b, j] = _sigmoid(z[t, b, j] + rec[b, j])
            for k in range(H):
                hn = rec[b, 2 * H + k] + b_hn[k]
                aux[t, b, k] = hn
                z[t, b, 2 * H + k] = _tanh(z[t, b, 2 * H + k] + z[t, b, k] * hn)
            if masked and keep[t, b]:
                for k in range(H):
                    hs[t, b, k] = hp[b, k]
            else:
                for k in range(H):
                    n = z[t, b, 2 * H + k]
                    hs[t, b, k] = n + z[t, b, H + k] * (hp[b, k] - n)


@njit(**_JIT)
def gru_backward(z, dgh, w_t, aux, hs, h0, d_seq, dh, live, reverse, b0, b1):
    """BPTT; z in: r, u, n; out: dL/d(input projection); dgh (T, B, 3H) out:
    dL/d(recurrent product); dh (B, H) carried; w_t: W_hh^T, packed."""
    T, B, G = z.shape
    H = G // 3
    masked = live.shape[0] == T
    back = np.empty_like(dh)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        for b in range(b0, b1):
            for k in range(H):
                dh[b, k] += d_seq[t, b, k]
            if masked and not live[t, b]:
                for j in range(G):
                    dgh[t, b, j] = _ZERO
                    z[t, b, j] = _ZERO
                continue
            for k in range(H):
                r, u, n = z[t, b, k], z[t, b, H + k], z[t, b, 2 * H + k]
                d = dh[b, k]
                dn = d * (_ONE - u) * (_ONE - n * n)
                gr = dn * aux[t, b, k] * r * (_ONE - r)
                gu = d * (hp[b, k] - n) * u * (_ONE - u)
                dgh[t, b, k], dgh[t, b, H + k], dgh[t, b, 2 * H + k] = gr, gu, dn * r
                z[t, b, k], z[t, b, H + k], z[t, b, 2 * H + k] = gr, gu, dn
                dh[b, k] = d * u           # the direct path; the GEMM's share is added below
        gemm_nt(dgh[t], w_t, back, False, b0, b1)  # back = dgh W
        _take_live(dh, back, live, t, masked, True, b0, b1)


# -- launching: each thread gets its own batch rows ----------------------------------

def _run(kernel, args, batch, macs):
    """kernel(*args, b0, b1) on the threads' shares of the batch rows; macs: the
    multiply-adds of the whole call."""
    _threads.run(kernel, args, _threads.split(batch, macs, MR))


def _macs(z, w):
    """Multiply-adds of the recurrent products of a call (z: (T, B, G), w: (G, H))."""
    return z.shape[0] * z.shape[1] * w.shape[0] * w.shape[1]


def run_rnn_forward(a, w_hh, h0, hs, keep, reverse, relu):
    _run(rnn_forward, (a, pack(w_hh), h0, hs, keep, reverse, relu),
         a.shape[1], _macs(a, w_hh))


def run_rnn_backward(da, w_hh, hs, d_seq, dh, live, reverse, relu):
    _run(rnn_backward, (da, pack(w_hh.T), hs, d_seq, dh, live, reverse, relu),
         da.shape[1], _macs(da, w_hh))


def run_lstm_forward(z, w_hh, h0, c0, hs, cs, tcs, keep, reverse):
    _run(lstm_forward, (z, pack(w_hh), h0, c0, hs, cs, tcs, keep, reverse),
         z.shape[1], _macs(z, w_hh))


def run_lstm_infer(x, w_ih, bias, w_hh, h0, c, hs, keep, reverse):
    macs = x.shape[0] * x.shape[1] * w_ih.shape[0] * (w_ih.shape[1] + w_hh.shape[1])
    _run(lstm_infer, (x, pack(w_ih), bias, pack(w_hh), h0, c, hs, keep, reverse),
         x.shape[1], macs)


def run_lstm_backward(z, w_hh, cs, tcs, c0, d_seq, dh, dc, live, reverse):
    _run(lstm_backward, (z, pack(w_hh.T), cs, tcs, c0, d_seq, dh, dc, live, reverse),
         z.shape[1], _macs(z, w_hh))


def run_gru_forward(z, w_hh, b_hn, h0, hs, aux, keep, reverse):
    _run(gru_forward, (z, pack(w_hh), b_hn, h0, hs, aux, keep, reverse),
         z.shape[1], _macs(z, w_hh))


def run_gru_backward(z, dgh, w_hh, aux, hs, h0, d_seq, dh, live, reverse):
    _run(gru_backward, (z, dgh, pack(w_hh.T), aux, hs, h0, d_seq, dh, live, reverse),
         z.shape[1], _macs(z, w_hh))


def takes(macs):
    """Whether ``matmul`` should run a product of ``macs`` multiply-adds: every product
    that OpenBLAS would spread over its threads (from 65536 * 4 multiply-adds on), since
    those threads then spin for ~0.1 s and slow the next recurrence's threads (below)."""
    return macs >= 1 << 18


def matmul(a, b, out=None):
    """a @ b for 2-D float arrays of one dtype, any strides: a new C-contiguous array,
    or ``out`` (C-contiguous, of the product's shape) filled.

    The bulk products around a recurrence (input projections, weight gradients) run here
    rather than in NumPy's BLAS, on rnnkit's threads: OpenBLAS's idle threads spin for
    ~0.1 s after each call, and on a machine with as many cores as threads they then
    compete with the recurrence's threads (measured: the step cost 2x)."""
    (M, K), N = a.shape, b.shape[1]
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = np.ascontiguousarray(a)
    c = np.empty((M, N), dtype=a.dtype) if out is None else out
    if M == 0 or N == 0:
        return c
    if K == 0:
        c[...] = 0
        return c
    _run(gemm, (a, pack(b.T), c, False), M, M * N * K)
    return c
