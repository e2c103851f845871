"""Matrix products for the compiled loops: ``c (+)= a @ W^T``, W packed once per call.

A general BLAS repacks W on every call. In a recurrence the same W multiplies a new,
small h at every step (batch 32 x hidden 128 against 512 rows), so repacking is a large
part of each step: measured, OpenBLAS did (32x128)@(128x512) in ~26 us on two threads
where this kernel, with W packed up front, takes ~17 us on one.

Layout, as in GotoBLAS. W (N, K) is packed into panels of NR rows, each stored transposed
and contiguous: ``packed[p, k, j] = W[p*NR + j, k]`` (zero past N), 64-byte aligned. The
micro-kernel keeps an MR x NR block of c in vector registers and, for each k, broadcasts
MR values of a (one per row) and does MR*NR/VW fused multiply-adds with one row of the
panel. a's rows are read in place, except a transposed a (the weight gradients' dz^T),
which is first copied MR rows at a time into (k, row) order. The block is written with
masked stores, so any M and N work: rows past M repeat the last row's loads (wasted
work, never stored) and columns past N are never stored.

The micro-kernel is written in LLVM IR (``llvmlite``) because numba cannot keep an
accumulator block in registers from Python source. The sizes follow the target's vector
width: AVX-512 holds a block of 8 x 32 floats in 16 of its 32 registers; AVX2 (16
registers) 4 x 16. Measured here (AVX-512, one core): ~265 GFLOP/s, the core's peak.
"""
from __future__ import annotations

import functools

import numpy as np
from llvmlite import binding, ir
from numba import njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic


def _target_has_avx512():
    """Whether the code numba generates may use AVX-512: its own rule, the features in
    NUMBA_CPU_FEATURES if set, else the host's."""
    if config.CPU_FEATURES is not None:
        return "+avx512f" in config.CPU_FEATURES.split(",")
    return bool(binding.get_host_cpu_features().get("avx512f"))


_VECTOR_BYTES = 64 if _target_has_avx512() else 32
MR = 8 if _VECTOR_BYTES == 64 else 4          # rows of a block
NV = 2                                        # vectors per block row
KC = 256   # bulk products run K in slices of KC: a tile's slice (8 KiB) stays in L1

_JIT = dict(cache=True, nogil=True)
_U = np.uint64


def panel_width(dtype):
    """NR, the columns of a block (rows of W per panel) for ``dtype``."""
    return NV * _VECTOR_BYTES // np.dtype(dtype).itemsize


def pack(w):
    """W (N, K), any strides -> packed panels (ceil(N/NR), K, NR), 64-byte aligned."""
    N, K = w.shape
    nr = panel_width(w.dtype)
    n_panels = -(-N // nr)
    size = n_panels * K * nr
    pad = 64 // w.itemsize
    raw = np.empty(size + pad, dtype=w.dtype)
    start = (-raw.ctypes.data % 64) // w.itemsize
    packed = raw[start:start + size].reshape(n_panels, K, nr)
    _fill(w, packed)
    return packed


@njit(**_JIT)
def _fill(w, packed):
    n_panels, K, nr = packed.shape
    N = w.shape[0]
    full = N // nr
    for p in range(_U(full)):           # unsigned indices: see _copy_tile
        for k in range(_U(K)):
            for j in range(_U(nr)):
                packed[p, k, j] = w[p * _U(nr) + j, k]
    if full < n_panels:                 # the last, partial panel: zeros past N
        tail = packed[full]
        tail[...] = 0
        for k in range(K):
            for j in range(N - full * nr):
                tail[k, j] = w[full * nr + j, k]


def _codegen(mr, span, context, builder, signature, args):
    """LLVM IR of ``c[block] = (c[block] if accumulate else 0) + a_rows @ panels`` for one
    mr x (span*NR) block, ``span`` consecutive panels wide. The arguments are (a, a_off,
    a_rs, a_ks, w, w_off, K, c, c_off, ldc, rows, cols, accumulate):

    offsets and strides in elements: a's element (r, k) is at a_off + r*a_rs + k*a_ks
    (a copied tile: a_rs = 1, a_ks = MR); the panels, (K, NR) contiguous each, start at
    w_off; the block's top-left c element at c_off, its rows ldc apart. rows (<= mr) and
    cols (<= span*NR) are the live ones. K >= 1.
    """
    dtype = signature.args[7].dtype
    real = context.get_value_type(dtype)
    vw = _VECTOR_BYTES // (dtype.bitwidth // 8)
    i1, i32, i64 = ir.IntType(1), ir.IntType(32), ir.IntType(64)
    vec, mask_t, ivec = ir.VectorType(real, vw), ir.VectorType(i1, vw), ir.VectorType(i64, vw)
    rp, vp = real.as_pointer(), vec.as_pointer()
    suffix = f"v{vw}f{dtype.bitwidth}"
    mod = builder.module
    fma = cgutils.get_or_insert_function(
        mod, ir.FunctionType(vec, [vec, vec, vec]), f"llvm.fma.{suffix}")
    mload = cgutils.get_or_insert_function(
        mod, ir.FunctionType(vec, [vp, i32, mask_t, vec]), f"llvm.masked.load.{suffix}.p0")
    mstore = cgutils.get_or_insert_function(
        mod, ir.FunctionType(ir.VoidType(), [vec, vp, i32, mask_t]),
        f"llvm.masked.store.{suffix}.p0")

    def const(v):
        return ir.Constant(i64, v)

    def arg(i):
        return context.cast(builder, args[i], signature.args[i], types.int64)

    def base(i, off):
        arr = context.make_array(signature.args[i])(context, builder, value=args[i])
        return builder.gep(builder.bitcast(arr.data, rp), [arg(off)])

    def splat(value, vty):
        undef = ir.Constant(vty, ir.Undefined)
        one = builder.insert_element(undef, value, ir.Constant(i32, 0))
        return builder.shuffle_vector(one, undef,
                                      ir.Constant(ir.VectorType(i32, vw), [0] * vw))

    A, W, C = base(0, 1), base(4, 5), base(7, 8)
    a_rs, a_ks, K, ldc, rows, cols = arg(2), arg(3), arg(6), arg(9), arg(10), arg(11)
    acc_in = context.cast(builder, args[12], signature.args[12], types.boolean)
    # a dead row re-reads the last live row: valid memory, its result never stored
    a_offsets = [builder.mul(builder.select(builder.icmp_signed("<", const(r), rows),
                                            const(r), builder.sub(rows, const(1))), a_rs)
                 for r in range(mr)]
    lanes = ir.Constant(ivec, list(range(vw)))
    zero = ir.Constant(vec, [0.0] * vw)
    nv = span * NV                                  # vectors per row of the block
    w_offsets = [builder.add(builder.mul(K, const((v // NV) * NV * vw)), const((v % NV) * vw))
                 for v in range(nv)]                # panel v // NV, its vector v % NV
    targets = []
    for r in range(mr):
        live = builder.icmp_signed("<", const(r), rows)
        c_row = builder.gep(C, [builder.mul(const(r), ldc)])
        for v in range(nv):
            n_live = builder.select(live, builder.sub(cols, const(v * vw)), const(0))
            mask = builder.icmp_signed("<", lanes, splat(n_live, ivec))
            ptr = builder.bitcast(builder.gep(c_row, [const(v * vw)]), vp)
            targets.append((ptr, mask))
    init = []
    for ptr, mask in targets:
        load_mask = builder.and_(mask, splat(acc_in, ir.VectorType(i1, vw)))
        init.append(builder.call(mload, [ptr, ir.Constant(i32, 4), load_mask, zero]))

    entry = builder.block
    loop = builder.append_basic_block("block_k")
    done = builder.append_basic_block("block_done")
    builder.branch(loop)
    builder.position_at_end(loop)
    k = builder.phi(i64)
    a_k = builder.phi(rp)    # a's element (0, k)
    w_k = builder.phi(rp)    # panel[k, 0]
    k.add_incoming(const(0), entry)
    a_k.add_incoming(A, entry)
    w_k.add_incoming(W, entry)
    acc = []
    for value in init:
        phi = builder.phi(vec)
        phi.add_incoming(value, entry)
        acc.append(phi)
    w_vecs = [builder.load(builder.bitcast(builder.gep(w_k, [off]), vp), align=4)
              for off in w_offsets]
    new = []
    for r in range(mr):
        a_rk = splat(builder.load(builder.gep(a_k, [a_offsets[r]])), vec)
        for v in range(nv):
            new.append(builder.call(fma, [a_rk, w_vecs[v], acc[r * nv + v]]))
    k_next = builder.add(k, const(1))
    k.add_incoming(k_next, loop)
    a_k.add_incoming(builder.gep(a_k, [a_ks]), loop)
    w_k.add_incoming(builder.gep(w_k, [const(NV * vw)]), loop)
    for phi, value in zip(acc, new):
        phi.add_incoming(value, loop)
    builder.cbranch(builder.icmp_signed("<", k_next, K), loop, done)

    builder.position_at_end(done)
    for value, (ptr, mask) in zip(new, targets):
        builder.call(mstore, [value, ptr, ir.Constant(i32, 4), mask])
    return context.get_dummy_value()


def _make_block(mr, span=1):
    """The micro-kernel for blocks of ``mr`` rows and ``span`` panels (``_codegen``)."""

    @intrinsic
    def block(typingctx, a, a_off, a_rs, a_ks, w, w_off, K, c, c_off, ldc, rows, cols,
              accumulate):
        sig = types.void(a, a_off, a_rs, a_ks, w, w_off, K, c, c_off, ldc, rows, cols,
                         accumulate)
        return sig, functools.partial(_codegen, mr, span)

    return block


_block = _make_block(MR)
# One row (a batch of 1, or the rows past the last full block), 4 panels at a time: with
# one panel's 2 accumulators each k waited for the previous one's FMA (4 cycles).
_ROW_SPAN = 4
_row = _make_block(1, _ROW_SPAN)
_row1 = _make_block(1)


@njit(inline="always", **_JIT)
def _copy_tile(a, i, rows, k0, kb, tile, t0):
    """tile[t0 + k*MR + r] = a[i + r, k0 + k] for r < rows, k < kb (rows past: left as
    they are, never stored). Unsigned indices: numba's wrap-around check for a negative
    index otherwise made this copy cost more than the products it feeds."""
    for k in range(_U(kb)):
        for r in range(_U(rows)):
            tile[_U(t0) + k * _U(MR) + r] = a[_U(i) + r, _U(k0) + k]


@njit(**_JIT)
def gemm(a, packed, c, accumulate, r0, r1):
    """c[r0:r1] (+)= a[r0:r1] @ W^T, W (N, K) packed by ``pack``; a: (M, K), C- or
    F-contiguous (a transposed view); c: (M, N) C-contiguous. K >= 1. The bulk products.

    K runs in slices of KC, so a row tile's slice of a (8 KiB) stays in L1 while every
    panel passes. A transposed a is first copied into (KC, MR) order: read in place it
    costs a cache line per k, at a stride that maps them all to a few L1 sets (measured
    2x slower). A row-major a is read in place.
    """
    n_panels, K, nr = packed.shape
    N = c.shape[1]
    copy = not a.flags.c_contiguous
    tile = np.zeros(KC * MR if copy else 0, dtype=c.dtype)
    for k0 in range(0, K, KC):
        kb = min(KC, K - k0)
        acc = accumulate or k0 > 0
        for i in range(r0, r1, MR):
            rows = min(MR, r1 - i)
            if copy:
                _copy_tile(a, i, rows, k0, kb, tile, 0)
            for p in range(n_panels):
                cols, at = min(nr, N - p * nr), (p * K + k0) * nr
                if copy:
                    _block(tile, 0, 1, MR, packed, at, kb, c, i * N + p * nr, N, rows, cols,
                           acc)
                else:
                    _block(a, i * K + k0, K, 1, packed, at, kb, c, i * N + p * nr, N, rows,
                           cols, acc)


@njit(inline="always", **_JIT)
def gemm_nt(a, packed, c, accumulate, r0, r1):
    """c[r0:r1] (+)= a[r0:r1] @ W^T for a C-contiguous a (M, K): one step's product."""
    n_panels, K, nr = packed.shape
    N = c.shape[1]
    full = r0 + (r1 - r0) // MR * MR
    if r1 - full <= 2:      # a block of MR rows for 1 or 2 would waste 4-8x the work
        for r in range(full, r1):
            _row_product(a, packed, c, accumulate, r)
    else:
        full = r1
    for p in range(n_panels):
        for i in range(r0, full, MR):
            _block(a, i * K, K, 1, packed, p * K * nr, K, c, i * N + p * nr, N,
                   min(MR, full - i), min(nr, N - p * nr), accumulate)


@njit(inline="always", **_JIT)
def _row_product(a, packed, c, accumulate, r):
    """c[r] (+)= a[r] @ W^T, ``_ROW_SPAN`` panels at a time."""
    n_panels, K, nr = packed.shape
    N = c.shape[1]
    p = 0
    while p + _ROW_SPAN <= n_panels:
        _row(a, r * K, K, 1, packed, p * K * nr, K, c, r * N + p * nr, N, 1, N - p * nr,
             accumulate)
        p += _ROW_SPAN
    for q in range(p, n_panels):
        _row1(a, r * K, K, 1, packed, q * K * nr, K, c, r * N + q * nr, N, 1,
              min(nr, N - q * nr), accumulate)
