"""Differentiable recurrent ops: a whole sequence forward, BPTT backward, one graph node.

Each op takes time-major input x of shape (time, batch, input_size) and weights in
PyTorch's layout, runs the shared scan with its cell, and records a single autograd node
whose backward is the hand-written BPTT of ``scan.scan_backward``. Front ends
(``rnnkit.nn``, ``rnnkit.keras``) translate their conventions onto these three ops.
"""
from __future__ import annotations

import copy

import numpy as np

from rnnkit import autograd
from rnnkit._tensor import Tensor, as_tensor
from rnnkit.recurrent.elman import ElmanCell
from rnnkit.recurrent.gru import GRUCell
from rnnkit.recurrent.lstm import LSTMCell
from rnnkit.recurrent.scan import scan_backward, scan_forward, scan_infer


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", reverse=False,
        mask=None, lengths=None, zero_masked_outputs=False, out=None):
    """Elman RNN over a sequence: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    x: (time, batch, input_size); h0: (batch, hidden) or None for zeros;
    w_ih: (hidden, input_size); w_hh: (hidden, hidden); b_ih, b_hh: (hidden,) or None.
    nonlinearity: "tanh" or "relu" (PyTorch's), or any name in ``ACTIVATIONS``.
    reverse: run from the last step to the first.
    mask: bool (time, batch), False on padding; or lengths: (batch,) valid steps per
    sequence (a prefix of each column). A masked step carries the state unchanged and
    outputs the previous output, or zeros with ``zero_masked_outputs``.
    out: None, or an array of the output's shape and dtype (any strides) to write the
    output into, as NumPy's ``out=``; only when no graph is recorded (under
    ``rnnkit.no_grad()``, or nothing requires grad). A bidirectional or stacked module
    writes each direction into its half of one array this way.
    Returns (output (time, batch, hidden), h_n (batch, hidden)).
    """
    w_ih, w_hh = as_tensor(w_ih), as_tensor(w_hh)
    H = _check_weights("rnn", x, w_ih, w_hh, gates=1)
    cell_args = dict(activation=_nonlinearity(nonlinearity))
    return _run("rnn", ElmanCell, cell_args, x, (h0,), (H,),
                dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh),
                reverse, mask, lengths, zero_masked_outputs, out)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, *, activation="tanh",
         recurrent_activation="sigmoid", reverse=False, mask=None, lengths=None,
         zero_masked_outputs=False, out=None):
    """LSTM over a sequence, gates i, f, g, o as in ``torch.nn.LSTM`` (see ``LSTMCell``).

    x: (time, batch, input_size); h0: (batch, out) and c0: (batch, hidden), or None for
    zeros, where out = proj_size if ``w_hr`` is given, else hidden;
    w_ih: (4*hidden, input_size); w_hh: (4*hidden, out); b_ih, b_hh: (4*hidden,) or None;
    w_hr: (proj_size, hidden) or None. Options as for :func:`rnn`.
    Returns (output (time, batch, out), h_n (batch, out), c_n (batch, hidden)).
    """
    w_ih, w_hh = as_tensor(w_ih), as_tensor(w_hh)
    H = _check_weights("lstm", x, w_ih, w_hh, gates=4)
    size = H                    # the output's: proj_size with a projection
    if w_hr is not None:
        w_hr = as_tensor(w_hr)
        if w_hr.ndim != 2 or w_hr.shape[1] != H:
            raise ValueError(f"lstm: w_hr has shape {w_hr.shape}, expected "
                             f"(proj_size, {H})")
        size = w_hr.shape[0]
    if w_hh.shape[1] != size:
        raise ValueError(f"lstm: w_hh has shape {w_hh.shape}, expected ({4 * H}, {size})"
                         + (" (proj_size columns with w_hr)" if w_hr is not None else ""))
    cell_args = dict(activation=activation, recurrent_activation=recurrent_activation)
    return _run("lstm", LSTMCell, cell_args, x, (h0, c0), (size, H),
                dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, w_hr=w_hr),
                reverse, mask, lengths, zero_masked_outputs, out)


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reset_after=True, activation="tanh",
        recurrent_activation="sigmoid", reverse=False, mask=None, lengths=None,
        zero_masked_outputs=False, out=None):
    """GRU over a sequence, gates r, z, n as in ``torch.nn.GRU`` (see ``GRUCell``).

    reset_after=True is PyTorch's and cuDNN's form; False applies the reset gate before
    the recurrent product (Keras ``reset_after=False``).
    x: (time, batch, input_size); h0: (batch, hidden) or None; w_ih: (3*hidden,
    input_size); w_hh: (3*hidden, hidden); b_ih, b_hh: (3*hidden,) or None.
    Options as for :func:`rnn`. Returns (output (time, batch, hidden), h_n (batch, hidden)).
    """
    w_ih, w_hh = as_tensor(w_ih), as_tensor(w_hh)
    H = _check_weights("gru", x, w_ih, w_hh, gates=3)
    cell_args = dict(reset_after=reset_after, activation=activation,
                     recurrent_activation=recurrent_activation)
    return _run("gru", GRUCell, cell_args, x, (h0,), (H,),
                dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh),
                reverse, mask, lengths, zero_masked_outputs, out)


# -- the shared part -------------------------------------------------------------------

def _run(op, cell_cls, cell_args, x, init, state_sizes, params, reverse, mask, lengths,
         zero_masked_outputs, out=None):
    x = as_tensor(x)
    T, B = x.shape[0], x.shape[1]
    dtype = x.dtype
    params = {k: as_tensor(v) for k, v in params.items() if v is not None}
    for name, p in params.items():
        if p.dtype != dtype:
            raise TypeError(f"{op}: {name} has dtype {p.dtype} but x has dtype {dtype}; "
                            f"convert one of them (e.g. .double() or .float())")
    G = params["w_ih"].shape[0]
    for name in ("b_ih", "b_hh"):
        if name in params and params[name].shape != (G,):
            raise ValueError(f"{op}: {name} has shape {params[name].shape}, expected ({G},)")
    init_t, init_arrays = [], []
    for k, (s, size) in enumerate(zip(init, state_sizes)):
        name = ("h0", "c0")[k]
        if s is None:
            init_arrays.append(np.zeros((B, size), dtype=dtype))
            continue
        s = as_tensor(s)
        if s.shape != (B, size):
            raise ValueError(f"{op}: {name} has shape {s.shape}, expected (batch, "
                             f"{'hidden' if k else 'output'} size) = ({B}, {size})")
        if s.dtype != dtype:
            raise TypeError(f"{op}: {name} has dtype {s.dtype} but x has dtype {dtype}")
        init_t.append((k, s))
        init_arrays.append(s.data)
    mask = _as_mask(op, mask, lengths, T, B)

    cell = cell_cls(**{k: v.data for k, v in params.items()}, **cell_args)
    parents = [x] + [s for _, s in init_t] + list(params.values())
    needs_grad = autograd.is_grad_enabled() and any(p.requires_grad for p in parents)
    if out is not None:
        _check_out(op, out, needs_grad, (T, B, state_sizes[0]), dtype)
    if needs_grad:
        zero_init = tuple(s is None for s in init)
        hist = scan_forward(cell, x.data, tuple(init_arrays), mask, reverse, zero_init)
        out, finals = hist.states[0], hist.finals()
    else:   # no graph: no BPTT cache either
        out, finals = scan_infer(cell, x.data, tuple(init_arrays), mask, reverse, out)
    if zero_masked_outputs and mask is not None:
        out = np.multiply(out, mask[:, :, None], out=None if needs_grad else out)
    if not needs_grad:
        return tuple(Tensor(d) for d in [out] + finals)

    def backward(d_out, *d_finals):
        if zero_masked_outputs and mask is not None:
            d_out = d_out * mask[:, :, None]
        c, h = cell, hist
        if autograd.retaining_graph():   # BPTT spends its cache: run it on copies
            c, h = copy.deepcopy((cell, hist), {id(hist.compiled): hist.compiled})
        dx, d_init, grads = scan_backward(c, x.data, h, d_out, d_finals, mask,
                                          need_dx=x.requires_grad)
        return (dx, *(d_init[k] for k, _ in init_t), *(grads[k] for k in params))

    return Tensor._make_many([out] + finals, parents, backward, op.upper())


def _check_out(op, out, needs_grad, shape, dtype):
    if needs_grad:
        raise ValueError(f"{op}: out= is for runs that record no graph (under "
                         f"rnnkit.no_grad(), or when nothing requires grad)")
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype:
        got = (f"{type(out).__name__} of shape {out.shape} and dtype {out.dtype}"
               if isinstance(out, np.ndarray) else type(out).__name__)
        raise ValueError(f"{op}: out must be a NumPy array of shape {shape} (time, batch, "
                         f"output size) and dtype {dtype}, got {got}")


def _check_weights(op, x, w_ih, w_hh, gates):
    x_shape = getattr(x, "shape", np.shape(x))
    if len(x_shape) != 3:
        raise ValueError(f"{op}: x has shape {tuple(x_shape)}, expected 3 dimensions "
                         f"(time, batch, input_size)")
    if x_shape[0] == 0 or x_shape[1] == 0:
        raise ValueError(f"{op}: x has shape {tuple(x_shape)} (time, batch, input_size): "
                         f"time and batch must both be >= 1")
    if w_ih.ndim != 2 or w_ih.shape[0] % gates or w_ih.shape[1] != x_shape[2]:
        raise ValueError(f"{op}: w_ih has shape {w_ih.shape}, expected "
                         f"({gates} * hidden, input_size={x_shape[2]})")
    H = w_ih.shape[0] // gates
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * H or (gates != 4 and w_hh.shape[1] != H):
        raise ValueError(f"{op}: w_hh has shape {w_hh.shape}, expected ({gates * H}, "
                         f"{H if gates != 4 else 'hidden or proj_size'})")
    return H


def _nonlinearity(name):
    from rnnkit.recurrent.activations import ACTIVATIONS

    if name not in ACTIVATIONS:
        raise ValueError(f"nonlinearity: expected one of {sorted(ACTIVATIONS)} ('tanh' and "
                         f"'relu' are PyTorch's), got {name!r}")
    return name


def _as_mask(op, mask, lengths, T, B):
    """A bool (time, batch) mask from ``mask`` or ``lengths`` (or None when all valid)."""
    if mask is not None and lengths is not None:
        raise ValueError(f"{op}: pass mask or lengths, not both")
    if lengths is not None:
        lengths = np.asarray(getattr(lengths, "data", lengths))
        if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
            raise ValueError(f"{op}: lengths must be {B} integers (one per sequence), got "
                             f"shape {lengths.shape} and dtype {lengths.dtype}")
        if lengths.min() < 0 or lengths.max() > T:
            raise ValueError(f"{op}: lengths must lie in [0, {T}] (the time dimension), "
                             f"got {lengths.tolist()}")
        return np.arange(T)[:, None] < lengths[None, :]
    if mask is None:
        return None
    mask = np.asarray(getattr(mask, "data", mask))
    if mask.shape != (T, B):
        raise ValueError(f"{op}: mask has shape {mask.shape}, expected (time, batch) = "
                         f"({T}, {B})")
    if mask.dtype != np.bool_:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError(f"{op}: mask must be boolean (or 0/1), got values "
                             f"{np.unique(mask)[:5].tolist()}")
        mask = mask.astype(bool)
    return None if mask.all() else mask
