"""Compiled time loops (numba) for the default cells: the accelerated path.

Imported only when numba is installed (``pip install rnnkit[fast]``) and NumPy's own
OpenBLAS can be called from compiled code (``_blas.py``; ``fn`` below is its GEMM). Each function here runs a whole sequence
forward, or its whole BPTT loop, for one cell in its default configuration, filling
exactly the buffers the NumPy cells fill, so ``end_backward`` (the bulk weight-gradient
GEMMs) is shared. Every array argument is C-contiguous. The NumPy cells stay the readable reference; the tests run both.

Why compile the loop and not just the gate math: at small sizes a step costs more in
Python and ufunc dispatch than in arithmetic. Here a step is one BLAS call plus one pass
over the gates. numba has no vectorized tanh of its own, so float32 uses a rational
approximation (max abs error 3.7e-7, a few ulp); float64 keeps the exact ``math.tanh``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from rnnkit.recurrent._blas import ADDRESSES, NO_TRANS, TRANS, gemm

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
_HALF, _ONE, _TWO, _ZERO = np.float32(0.5), np.float32(1.0), np.float32(2.0), np.float32(0)


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
def _prev_index(s, t, reverse):
    return t + 1 if reverse else t - 1


# -- Elman RNN ------------------------------------------------------------------------

@njit(**_JIT)
def rnn_forward(fn, a, w_hh, h0, hs, keep, reverse, relu):
    """a: (T, B, H) input projections (+ biases), becomes the pre-activations."""
    T, B, H = a.shape
    masked = keep.shape[0] == T
    for s in range(T):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        gemm(fn, NO_TRANS, TRANS, B, H, H, 1.0, hp, H, w_hh, H, 1.0, a[t], H)  # a += h W^T
        for b in range(B):
            h, ab = hs[t, b], a[t, b]
            if masked and keep[t, b]:
                h[:] = hp[b]
            elif relu:
                for k in range(H):
                    h[k] = max(ab[k], _ZERO)
            else:
                for k in range(H):
                    h[k] = _tanh(ab[k])


@njit(**_JIT)
def rnn_backward(fn, da, w_hh, hs, d_seq, dh, live, reverse, relu):
    """BPTT; da (T, B, H) receives dL/da_t; dh (B, H) in: d final, out: d h0."""
    T, B, H = da.shape
    masked = live.shape[0] == T
    back = np.empty((B, H), dtype=da.dtype)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        for b in range(B):
            d, ds, h, g = dh[b], d_seq[t, b], hs[t, b], da[t, b]
            for k in range(H):
                d[k] += ds[k]
            if masked and not live[t, b]:
                g[:] = _ZERO
            elif relu:
                for k in range(H):
                    g[k] = d[k] if h[k] > _ZERO else _ZERO
            else:
                for k in range(H):
                    g[k] = d[k] * (_ONE - h[k] * h[k])
        gemm(fn, NO_TRANS, NO_TRANS, B, H, H, 1.0, da[t], H, w_hh, H, 0.0, back, H)
        for b in range(B):
            if not masked or live[t, b]:
                dh[b] = back[b]


# -- LSTM (gates reordered i, f, o, g; sigmoid rows pre-halved) -------------------------

@njit(**_JIT)
def lstm_forward(fn, z, w_hh, h0, c0, hs, cs, tcs, keep, reverse):
    """z: (T, B, 4H) scaled input projections, overwritten with the activated gates;
    w_hh: (4H, H) scaled recurrent weights."""
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
        gemm(fn, NO_TRANS, TRANS, B, G, H, 1.0, hp, H, w_hh, H, 1.0, z[t], G)  # z += h W^T
        for b in range(B):
            # One simple loop per quantity: each vectorizes on its own.
            zt = z[t, b]
            for j in range(3 * H):
                zt[j] = _HALF * _tanh(zt[j]) + _HALF
            for j in range(3 * H, G):
                zt[j] = _tanh(zt[j])
            i, f, o, g = zt[:H], zt[H:2 * H], zt[2 * H:3 * H], zt[3 * H:]
            c, tc, h, cpb = cs[t, b], tcs[t, b], hs[t, b], cp[b]
            for k in range(H):
                c[k] = f[k] * cpb[k] + i[k] * g[k]
            for k in range(H):
                tc[k] = _tanh(c[k])
            if masked and keep[t, b]:
                c[:] = cpb
                h[:] = hp[b]
            else:
                for k in range(H):
                    h[k] = o[k] * tc[k]


@njit(**_JIT)
def lstm_backward(fn, z, w_hh, cs, tcs, c0, d_seq, dh, dc, live, reverse):
    """BPTT; z (T, B, 4H) activated gates in, dL/da' out; dh, dc (B, H) carried."""
    T, B, G = z.shape
    H = G // 4
    masked = live.shape[0] == T
    dz = np.empty((B, G), dtype=z.dtype)
    back = np.empty((B, H), dtype=z.dtype)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        cp = c0 if s == 0 else cs[_prev_index(s, t, reverse)]
        for b in range(B):
            zt, dzb, d, dcb, ds = z[t, b], dz[b], dh[b], dc[b], d_seq[t, b]
            for k in range(H):
                d[k] += ds[k]
            if masked and not live[t, b]:
                dzb[:] = _ZERO
                zt[:] = _ZERO
                continue
            i, f, o, g = zt[:H], zt[H:2 * H], zt[2 * H:3 * H], zt[3 * H:]
            tc, cpb = tcs[t, b], cp[b]
            for k in range(H):
                dcb[k] += d[k] * o[k] * (_ONE - tc[k] * tc[k])
            for k in range(H):
                dzb[k] = dcb[k] * g[k] * _TWO * i[k] * (_ONE - i[k])
            for k in range(H):
                dzb[H + k] = dcb[k] * cpb[k] * _TWO * f[k] * (_ONE - f[k])
            for k in range(H):
                dzb[2 * H + k] = d[k] * tc[k] * _TWO * o[k] * (_ONE - o[k])
            for k in range(H):
                dzb[3 * H + k] = dcb[k] * i[k] * (_ONE - g[k] * g[k])
            for k in range(H):
                dcb[k] *= f[k]
            zt[:] = dzb
        gemm(fn, NO_TRANS, NO_TRANS, B, H, G, 1.0, dz, G, w_hh, H, 0.0, back, H)
        for b in range(B):
            if not masked or live[t, b]:
                dh[b] = back[b]


# -- GRU, reset after (r, z pre-halved) --------------------------------------------------

@njit(**_JIT)
def gru_forward(fn, z, w_hh, b_hn, h0, hs, aux, keep, reverse):
    """z: (T, B, 3H) scaled pre-activations, overwritten with r, u, n; aux gets
    W_hn h + b_hn per step."""
    T, B, G = z.shape
    H = G // 3
    masked = keep.shape[0] == T
    rec = np.empty((B, G), dtype=z.dtype)
    for s in range(T):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        gemm(fn, NO_TRANS, TRANS, B, G, H, 1.0, hp, H, w_hh, H, 0.0, rec, G)
        for b in range(B):
            zt, rb, hn, h, hpb = z[t, b], rec[b], aux[t, b], hs[t, b], hp[b]
            for j in range(2 * H):
                zt[j] = _HALF * _tanh(zt[j] + rb[j]) + _HALF
            r, u, n = zt[:H], zt[H:2 * H], zt[2 * H:]
            for k in range(H):
                hn[k] = rb[2 * H + k] + b_hn[k]
            for k in range(H):
                n[k] = _tanh(n[k] + r[k] * hn[k])
            if masked and keep[t, b]:
                h[:] = hpb
            else:
                for k in range(H):
                    h[k] = n[k] + u[k] * (hpb[k] - n[k])


@njit(**_JIT)
def gru_backward(fn, z, dgh, w_hh, aux, hs, h0, d_seq, dh, live, reverse):
    """BPTT; z in: r, u, n; out: dL/d(input projection); dgh (T, B, 3H) out:
    dL/d(recurrent product); dh (B, H) carried."""
    T, B, G = z.shape
    H = G // 3
    masked = live.shape[0] == T
    direct = np.empty_like(dh)
    back = np.empty_like(dh)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        hp = h0 if s == 0 else hs[_prev_index(s, t, reverse)]
        for b in range(B):
            zt, gt, d, ds, hpb, hn = z[t, b], dgh[t, b], dh[b], d_seq[t, b], hp[b], aux[t, b]
            for k in range(H):
                d[k] += ds[k]
            if masked and not live[t, b]:
                gt[:] = _ZERO
                zt[:] = _ZERO
                continue
            r, u, n = zt[:H], zt[H:2 * H], zt[2 * H:]
            gr, gu, gn = gt[:H], gt[H:2 * H], gt[2 * H:]
            for k in range(H):
                gu[k] = d[k] * (hpb[k] - n[k]) * _TWO * u[k] * (_ONE - u[k])
            for k in range(H):
                n[k] = d[k] * (_ONE - u[k]) * (_ONE - n[k] * n[k])   # n's slot: dL/da_n
            for k in range(H):
                gr[k] = n[k] * hn[k] * _TWO * r[k] * (_ONE - r[k])
            for k in range(H):
                gn[k] = n[k] * r[k]
            for k in range(H):
                direct[b, k] = d[k] * u[k]
            zt[:2 * H] = gt[:2 * H]
        gemm(fn, NO_TRANS, NO_TRANS, B, H, G, 1.0, dgh[t], G, w_hh, H, 0.0, back, H)
        for b in range(B):
            if not masked or live[t, b]:
                for k in range(H):
                    dh[b, k] = direct[b, k] + back[b, k]
