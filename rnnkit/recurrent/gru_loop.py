"""The GRU's own NumPy inference loop, feature-major (``lstm_loop.py`` explains the why).

Without the compiled extra, the shared scan runs the GRU step by step on (batch, gates)
rows, where each gate is a strided column block: 12 NumPy calls a step, most on the
slow path NumPy takes for non-contiguous operands. This loop keeps states as (hidden,
batch) and needs 8 calls, all on contiguous blocks:

- one GEMM: Z_k = [x_t; h_{t-1}; 1] times Wa, whose four row blocks give
  [a_r / 2, a_z / 2, gx, gh]: the sigmoid gates halved (σ(a) = (1 + tanh(a/2)) / 2),
  and the candidate's input part gx = W_in x + b_in and recurrent part
  gh = W_hn h + b_hn kept apart, since the reset gate multiplies only gh (a block of
  zeros in each; cheaper than a second GEMM call at the sizes where calls dominate);
- with t = tanh of the halved gates, p = t_r gh and q = h_{t-1} - n, w = t_z q:
      n = tanh(gx + (gh + p) / 2)            h_t = n + (q + w) / 2
  (r gh = (1 + t_r) gh / 2, z q = (1 + t_z) q / 2), each sum one product by the row
  [1, 1/2, 1/2] over three adjacent blocks.

Inference only (``no_grad``): training keeps the shared scan, whose BPTT is already
bulk-factored. The equations are ``GRUCell``'s (PyTorch's, reset after the product);
the loop is tested against the step reference and PyTorch.
"""
from __future__ import annotations

import itertools

import numpy as np

from rnnkit.recurrent import _workspace
from rnnkit.recurrent.lstm_loop import keep_rows, outputs, stacked_inputs

# The slot: 8 blocks [t_r, t_z, gx, gh, p, n, q, w]; the GEMM writes blocks 0-3.
SLOT = 8


def fused_weights(w_ih, w_hh, b_ih, b_hh):
    """Wa (4*hidden, input+hidden+1) from PyTorch's weights (row blocks r, z, n): row
    blocks [r, z] of [W_i | W_h | b_i + b_h], halved; [W_in | 0 | b_in];
    [0 | W_hn | b_hn]. A workspace buffer: give it back after the loop."""
    G, D = w_ih.shape
    H = G // 3
    wa = _workspace.take((4 * H, D + H + 1), w_ih.dtype)
    wa[...] = 0
    wa[:2 * H, :D] = w_ih[:2 * H]
    wa[:2 * H, D:D + H] = w_hh[:2 * H]
    wa[2 * H:3 * H, :D] = w_ih[2 * H:]
    wa[3 * H:, D:D + H] = w_hh[2 * H:]
    for b, n_rows in ((b_ih, slice(2 * H, 3 * H)), (b_hh, slice(3 * H, None))):
        if b is not None:
            wa[:2 * H, D + H] += b[:2 * H]
            wa[n_rows, D + H] = b[2 * H:]
    wa[:2 * H] *= 0.5
    return wa


def infer(wa, x, h0, keep=None, reverse=False, out=None):
    """Forward without a graph: (output (T, B, H), h_n (B, H)).

    wa: :func:`fused_weights`; x: (T, B, D); h0: (B, H). keep: None or bool (T, B),
    True where a step is padding (the state is carried). out: None, or a (T, B, H)
    array to write the output into.
    """
    T, B, D = x.shape
    H = wa.shape[0] // 4
    dtype = x.dtype
    z = stacked_inputs(x, h0, reverse)
    zh = z[:, D:D + H]
    s = _workspace.take((SLOT, H, B), dtype)
    pre, rz, t_r, t_z, gh, p, n, q, w = (s[:4].reshape(4 * H, B), s[:2], s[0], s[1],
                                         s[3], s[4], s[5], s[6], s[7])
    gh_in, n_in = s[2:5].reshape(3, H * B), s[5:8].reshape(3, H * B)
    n_out = n.reshape(1, H * B)
    wa_dot = wa.dot
    comb_dot = np.array([[1, 0.5, 0.5]], dtype=dtype).dot
    tanh, mul, sub, copyto = np.tanh, np.multiply, np.subtract, np.copyto
    keep = keep_rows(keep, reverse)
    h_flat = zh.reshape(T + 1, 1, H * B)      # a view: each (H, B) state is contiguous
    for zk, h_prev, h_t, pad in zip(z[:T], zh[:T], h_flat[1:],
                                    itertools.repeat(None) if keep is None else keep):
        wa_dot(zk, pre)
        tanh(rz, rz)
        mul(t_r, gh, p)
        comb_dot(gh_in, n_out)                 # gx + (gh + p) / 2
        tanh(n, n)
        sub(h_prev, n, q)
        mul(t_z, q, w)
        comb_dot(n_in, h_t)                    # h_t = n + (q + w) / 2
        if pad is not None:
            copyto(h_t.reshape(H, B), h_prev, where=pad)
    _workspace.give(s)
    out, h_n = outputs(zh, reverse, True, out), zh[T].T.copy()
    _workspace.give(z)
    return out, h_n
