"""GEMM from inside compiled loops, through the very OpenBLAS that NumPy uses.

numba's own ``np.dot`` calls SciPy's copy of OpenBLAS, whose thread pool then fights
NumPy's for the two cores (measured: up to 4x slower loops). Calling NumPy's library
keeps one pool, and lets a step accumulate ``z += h @ W^T`` in place (beta = 1).

The library's address is looked up at import and passed to the kernels as a plain
integer, so compiled kernels can still be cached on disk. Only NumPy builds that ship
OpenBLAS with the 64-bit-integer CBLAS interface (the PyPI wheels) are supported;
elsewhere ``ADDRESSES`` is empty and rnnkit uses its NumPy loops.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def _find_addresses():
    """{np.float32: address of sgemm, np.float64: address of dgemm}, or {}."""
    root = os.path.dirname(np.__file__)
    candidates = (glob.glob(os.path.join(root, os.pardir, "numpy.libs", "*openblas*"))
                  + glob.glob(os.path.join(root, ".dylibs", "*openblas*")))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_cblas_", "cblas_"):
            try:
                s, d = getattr(lib, prefix + "sgemm64_"), getattr(lib, prefix + "dgemm64_")
            except AttributeError:
                continue
            return {np.dtype(np.float32): ctypes.cast(s, ctypes.c_void_p).value,
                    np.dtype(np.float64): ctypes.cast(d, ctypes.c_void_p).value}
    return {}


ADDRESSES = _find_addresses()


@intrinsic
def gemm(typingctx, fn, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """cblas_?gemm(RowMajor, ...) through address ``fn``: C = alpha op(A) op(B) + beta C.

    a, b, c: arrays (their data pointers are passed; lda/ldb/ldc give the row strides);
    alpha, beta: numbers, converted to c's element type.
    """
    sig = types.void(fn, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        i32, i64, ptr = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        real_t = signature.args[12].dtype
        real = context.get_value_type(real_t)
        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, i64, i64, i64, real, ptr, i64,
                                                ptr, i64, real, ptr, i64])
        target = builder.inttoptr(args[0], fnty.as_pointer())

        def integer(i, width):
            v = context.cast(builder, args[i], signature.args[i], types.int64)
            return builder.trunc(v, i32) if width == 32 else v

        def number(i):
            return context.cast(builder, args[i], signature.args[i], real_t)

        def data(i):
            arr = context.make_array(signature.args[i])(context, builder, value=args[i])
            return builder.bitcast(arr.data, ptr)

        builder.call(target, [ir.Constant(i32, ROW_MAJOR), integer(1, 32), integer(2, 32),
                              integer(3, 64), integer(4, 64), integer(5, 64), number(6),
                              data(7), integer(8, 64), data(9), integer(10, 64), number(11),
                              data(12), integer(13, 64)])
        return context.get_dummy_value()

    return sig, codegen
