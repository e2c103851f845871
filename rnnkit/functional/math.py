"""Element-wise arithmetic, exp/log, and matrix products, each with its backward beside it."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor, _as_dtype
from rnnkit.functional._util import as_operand, operands, unbroadcast


def cast(x, dtype):
    """``x`` converted to ``dtype``; the gradient is cast back to x's dtype.

    A cast to an integer or bool dtype leaves the graph (no gradient), as in PyTorch.
    """
    x = as_operand(x)
    dtype = _as_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind not in "fc":
        return Tensor(x.data.astype(dtype))
    src = x.dtype
    return Tensor._make(x.data.astype(dtype), (x,), lambda g: (g.astype(src),), "Cast")


def add(a, b):
    """a + b with NumPy broadcasting."""
    a, b = operands(a, b)
    out = a.data + b.data
    return Tensor._make(out, (a, b), lambda g: (unbroadcast(g, a.shape),
                                                unbroadcast(g, b.shape)), "Add")


def sub(a, b):
    """a - b with NumPy broadcasting."""
    a, b = operands(a, b)
    out = a.data - b.data
    return Tensor._make(out, (a, b), lambda g: (unbroadcast(g, a.shape),
                                                unbroadcast(-g, b.shape)), "Sub")


def mul(a, b):
    """a * b (element-wise) with NumPy broadcasting."""
    a, b = operands(a, b)
    out = a.data * b.data
    return Tensor._make(out, (a, b), lambda g: (unbroadcast(g * b.data, a.shape),
                                                unbroadcast(g * a.data, b.shape)), "Mul")


def div(a, b):
    """a / b (element-wise) with NumPy broadcasting."""
    a, b = operands(a, b)
    out = a.data / b.data

    def backward(g):
        ga = g / b.data
        return unbroadcast(ga, a.shape), unbroadcast(-ga * out, b.shape)

    return Tensor._make(out, (a, b), backward, "Div")


def neg(x):
    """-x."""
    x = as_operand(x)
    return Tensor._make(-x.data, (x,), lambda g: (-g,), "Neg")


def pow(a, b):
    """a ** b. d/da = b a^(b-1); d/db = a^b log(a) (only where a > 0 contributes)."""
    a, b = operands(a, b)
    out = a.data ** b.data

    def backward(g):
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape)
        if b.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a.data > 0, np.log(np.where(a.data > 0, a.data, 1)), 0)
            gb = unbroadcast(g * out * log_a, b.shape)
        return ga, gb

    return Tensor._make(out, (a, b), backward, "Pow")


def exp(x):
    """e^x."""
    x = as_operand(x)
    out = np.exp(x.data)
    return Tensor._make(out, (x,), lambda g: (g * out,), "Exp")


def log(x):
    """Natural logarithm (log 0 = -inf, as in NumPy and PyTorch)."""
    x = as_operand(x)
    with np.errstate(divide="ignore"):
        out = np.log(x.data)
    return Tensor._make(out, (x,), lambda g: (g / x.data,), "Log")


def sqrt(x):
    """Square root."""
    x = as_operand(x)
    out = np.sqrt(x.data)
    return Tensor._make(out, (x,), lambda g: (g / (2 * out),), "Sqrt")


def abs(x):
    """|x| (subgradient 0 at 0, like PyTorch)."""
    x = as_operand(x)
    return Tensor._make(np.abs(x.data), (x,), lambda g: (g * np.sign(x.data),), "Abs")


def clamp(x, min=None, max=None):
    """x limited to [min, max]; the gradient flows only where x was inside."""
    x = as_operand(x)
    out = np.clip(x.data, min, max)
    inside = np.ones(x.shape, dtype=bool)
    if min is not None:
        inside &= x.data >= min
    if max is not None:
        inside &= x.data <= max
    return Tensor._make(out, (x,), lambda g: (g * inside,), "Clamp")


def matmul(a, b):
    """Matrix product with NumPy's ``@`` semantics (1-D, 2-D and batched operands)."""
    a, b = operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {a.shape}, b has "
                         f"shape {b.shape}")
    out = a.data @ b.data

    def backward(g):
        A = a.data if a.ndim > 1 else a.data[None, :]
        B = b.data if b.ndim > 1 else b.data[:, None]
        # Restore the dimensions a 1-D operand dropped; b's first, so that a 0-d g
        # (vector @ vector) becomes (1, 1).
        G = g
        if b.ndim == 1:
            G = np.expand_dims(G, -1)
        if a.ndim == 1:
            G = np.expand_dims(G, -2)
        ga = gb = None
        if a.requires_grad:
            ga = G @ np.swapaxes(B, -1, -2)
            ga = unbroadcast(ga, A.shape).reshape(a.shape)
        if b.requires_grad:
            gb = np.swapaxes(A, -1, -2) @ G
            gb = unbroadcast(gb, B.shape).reshape(b.shape)
        return ga, gb

    return Tensor._make(out, (a, b), backward, "MatMul")


def linear(x, weight, bias=None):
    """y = x W^T + b, PyTorch's ``F.linear``.

    x: (..., in_features); weight: (out_features, in_features); bias: (out_features,).
    Returns (..., out_features). Leading dimensions are folded into one GEMM.
    """
    x, weight = as_operand(x), as_operand(weight)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has shape {x.shape} and weight {weight.shape}; "
                         f"expected input (..., {weight.shape[-1]}) and weight "
                         f"(out_features, in_features)")
    lead = x.shape[:-1]
    x2 = x.data.reshape(-1, x.shape[-1])
    out = x2 @ weight.data.T
    parents = [x, weight]
    if bias is not None:
        bias = as_operand(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias has shape {bias.shape}, expected "
                             f"({weight.shape[0]},)")
        out += bias.data
        parents.append(bias)
    out = out.reshape(lead + (weight.shape[0],))

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g2 @ weight.data).reshape(x.shape) if x.requires_grad else None
        gw = g2.T @ x2 if weight.requires_grad else None
        grads = [gx, gw]
        if bias is not None:
            grads.append(g2.sum(axis=0))
        return tuple(grads)

    return Tensor._make(out, parents, backward, "Linear")
