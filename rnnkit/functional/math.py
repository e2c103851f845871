"""Element-wise arithmetic, exp/log, selection (where, maximum, clamp) and matrix
products, each with its backward beside it."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import DEFAULT_DTYPE, Tensor, _as_dtype, _is_scalar
from rnnkit.functional._util import as_operand, floating, operands, unbroadcast


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


def div(a, b, rounding_mode=None):
    """a / b (element-wise) with NumPy broadcasting, PyTorch's ``torch.div``.

    rounding_mode: None for true division (integer or bool operands give float32, as
    PyTorch's default dtype); "trunc" rounds the quotient toward zero, "floor" down
    (Python's ``//``). Rounded quotients keep integer dtypes, have zero gradient (as in
    PyTorch), and an integer division by zero is an error.
    """
    a, b = operands(a, b)
    if rounding_mode is None:
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            a, b = floating(a), floating(b)
        with np.errstate(divide="ignore", invalid="ignore"):   # x/0 = +-inf or nan
            out = a.data / b.data

        def backward(g):
            ga = g / b.data
            return unbroadcast(ga, a.shape), unbroadcast(-ga * out, b.shape)

        return Tensor._make(out, (a, b), backward, "Div")
    return _rounded_div(a, b, rounding_mode)


def _rounded_div(a, b, rounding_mode):
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        raise TypeError(f"div: rounding_mode={rounding_mode!r} needs numbers, got dtypes "
                        f"{a.dtype} and {b.dtype}")
    integers = a.dtype.kind in "iu" and b.dtype.kind in "iu"
    if integers and np.any(b.data == 0):
        raise ZeroDivisionError(f"div: integer division by zero (rounding_mode="
                                f"{rounding_mode!r})")
    with np.errstate(divide="ignore", invalid="ignore"):
        if rounding_mode == "floor":
            out = np.floor_divide(a.data, b.data)
        elif integers:
            out = np.floor_divide(a.data, b.data)
            out += (out < 0) & (out * b.data != a.data)   # floor -> toward zero
        else:
            out = np.trunc(a.data / b.data)
    return Tensor._make(out, (a, b), lambda g: (np.zeros(a.shape, g.dtype),
                                                np.zeros(b.shape, g.dtype)), "DivRounded")


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
    """e^x (integer input gives float32)."""
    x = floating(x)
    out = np.exp(x.data)
    return Tensor._make(out, (x,), lambda g: (g * out,), "Exp")


def log(x):
    """Natural logarithm (log 0 = -inf, as in NumPy and PyTorch; integers give float32)."""
    x = floating(x)
    with np.errstate(divide="ignore"):
        out = np.log(x.data)
    return Tensor._make(out, (x,), lambda g: (g / x.data,), "Log")


def sqrt(x):
    """Square root (integer input gives float32)."""
    x = floating(x)
    out = np.sqrt(x.data)
    return Tensor._make(out, (x,), lambda g: (g / (2 * out),), "Sqrt")


def abs(x):
    """|x| (subgradient 0 at 0, like PyTorch)."""
    x = as_operand(x)
    return Tensor._make(np.abs(x.data), (x,), lambda g: (g * np.sign(x.data),), "Abs")


def clamp(x, min=None, max=None):
    """x limited to [min, max], PyTorch's ``torch.clamp``; min and max are scalars or
    tensors that broadcast against x (the result takes the broadcast shape).

    Where min > max the result is max. The gradient goes to x where min <= x <= max, to
    min where x < min (and min < max), to max where x > max (or max < min). An integer x
    with a float bound gives float32.
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    x = as_operand(x)
    for bound in (min, max):
        if isinstance(bound, float) and x.dtype.kind in "biu":
            x = floating(x)
    lo = None if min is None else as_operand(min, x)
    hi = None if max is None else as_operand(max, x)
    out = x.data
    if lo is not None:
        out = np.maximum(out, lo.data)
    if hi is not None:
        out = np.minimum(out, hi.data)
    parents = [x] + [t for t in (lo, hi) if t is not None]

    def backward(g):
        inside = np.ones(out.shape, dtype=bool)
        if lo is not None:
            inside &= x.data >= lo.data
        if hi is not None:
            inside &= x.data <= hi.data
        grads = [(x, inside)]
        if lo is not None:
            took_lo = x.data < lo.data
            if hi is not None:
                took_lo = took_lo & (lo.data < hi.data)
            grads.append((lo, took_lo))
        if hi is not None:
            took_hi = x.data > hi.data
            if lo is not None:
                took_hi = took_hi | (hi.data < lo.data)
            grads.append((hi, took_hi))
        return tuple(unbroadcast(g * mask, t.shape).astype(t.dtype, copy=False)
                     for t, mask in grads)

    return Tensor._make(np.asarray(out), parents, backward, "Clamp")


def maximum(a, b):
    """The element-wise larger of a and b (broadcasting; NaN wins, as in PyTorch).

    Where a == b each receives half the gradient, as PyTorch's ``torch.maximum``.
    """
    return _pick(a, b, np.maximum, np.greater, "Maximum")


def minimum(a, b):
    """The element-wise smaller of a and b (broadcasting; ties share the gradient)."""
    return _pick(a, b, np.minimum, np.less, "Minimum")


def _pick(a, b, choose, wins, name):
    a, b = operands(a, b)
    out = choose(a.data, b.data)

    def backward(g):
        share = np.where(wins(a.data, b.data), 1.0, np.where(a.data == b.data, 0.5, 0.0))
        share = share.astype(g.dtype, copy=False)
        return (unbroadcast(g * share, a.shape).astype(a.dtype, copy=False),
                unbroadcast(g * (1 - share), b.shape).astype(b.dtype, copy=False))

    return Tensor._make(out, (a, b), backward, name)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` is True, else of ``other`` (broadcasting).

    condition: a bool tensor or array. input, other: tensors or scalars; a scalar takes the
    other side's dtype (PyTorch's rule; two Python scalars give int64 or float32).
    With the condition alone, returns a tuple of int64 index tensors, one per dimension,
    of the True elements (``torch.where(condition)``, i.e. ``nonzero(as_tuple=True)``).
    """
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64, copy=False)) for i in np.nonzero(cond))
    if input is None or other is None:
        raise TypeError("where: pass both input and other, or the condition alone")
    if _is_scalar(input) and _is_scalar(other) and (isinstance(input, float) or
                                                    isinstance(other, float)):
        input, other = np.asarray(input, DEFAULT_DTYPE), np.asarray(other, DEFAULT_DTYPE)
    a, b = operands(input, other)
    out = np.where(cond, a.data, b.data)

    def backward(g):   # each side's gradient in its own dtype
        return (unbroadcast(np.where(cond, g, 0), a.shape).astype(a.dtype, copy=False),
                unbroadcast(np.where(cond, 0, g), b.shape).astype(b.dtype, copy=False))

    return Tensor._make(out, (a, b), backward, "Where")


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
