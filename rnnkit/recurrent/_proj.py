"""Input projections shared by the cells: one GEMM over all time steps."""
from __future__ import annotations

import numpy as np

from rnnkit.recurrent.backend import compiled, matmul


def add_biases(b1, b2):
    """b1 + b2 where either may be None."""
    if b1 is None:
        return b2
    if b2 is None:
        return b1
    return b1 + b2


def project_inputs(x, w_ih, bias, out=None):
    """x W_ih^T + bias for every step at once.

    x: (time, batch, input_size); w_ih: (gates*hidden, input_size); bias: (gates*hidden,)
    or None. Returns a (time, batch, gates*hidden) array the cell may overwrite: ``out``
    (C-contiguous, that shape) if given, else a fresh one.
    """
    T, B, D = x.shape
    G = w_ih.shape[0]
    out = matmul(x.reshape(T * B, D), w_ih.T,
                 None if out is None else out.reshape(T * B, G)).reshape(T, B, G)
    if bias is not None:
        out += bias
    return out


def input_grads(x, w_ih, d_pre, need_dx=True, gates_major=False):
    """Gradients that flow through the input projection, as three GEMMs/reductions.

    d_pre: (time, batch, gates*hidden), the gradient of the projected inputs, or with
    ``gates_major`` (gates*hidden, time, batch) (the NumPy LSTM loop's layout).
    Returns (dx (time, batch, input_size), or None when not ``need_dx``, dW_ih, db).
    """
    T, B, D = x.shape
    x2 = x.reshape(T * B, D)
    if gates_major:
        d2 = d_pre.reshape(-1, T * B)
        dx = matmul(d2.T, w_ih).reshape(T, B, D) if need_dx else None
        return dx, matmul(d2, x2), d2.sum(axis=1)
    d2 = d_pre.reshape(T * B, -1)
    dx = matmul(d2, w_ih).reshape(T, B, D) if need_dx else None
    dw = matmul(d2.T, x2)
    # The bias gradient: with NumPy's loops a product with ones (one BLAS call) is the
    # fastest column sum; the compiled matmul would first pack all of d2, which costs
    # more than summing it.
    db = (d2.sum(axis=0) if compiled() is not None
          else np.dot(np.ones((1, T * B), dtype=d2.dtype), d2)[0])
    return dx, dw, db
