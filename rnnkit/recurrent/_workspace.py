"""Scratch arrays the time loops reuse from one call to the next.

Fresh memory is not free. The first touch of each 4 KiB page faults into the kernel:
about 2 us a page on the machines we measure (0.5 ns a byte, as much as the loop's
arithmetic on it), and glibc hands large freed blocks back to the kernel, so a training
step that allocates its buffers anew pays the faults again every step (4,000 of them,
a third of a small LSTM's training step). The buffers a loop owns are taken from here
and given back when done; an array that reaches the caller (an output, a gradient) is
a new allocation or a free buffer taken for good, never given back while the caller may
hold it. A buffer that lives as long as an object (a cell's gates between
forward and backward) is lent to that object (:func:`lend`). Each thread has its own
pool, at most ``LIMIT`` bytes.
"""
from __future__ import annotations

import math
import threading
import weakref

import numpy as np

LIMIT = 256 << 20
_local = threading.local()


def _pool():
    if not hasattr(_local, "free"):
        _local.free, _local.nbytes = {}, 0
    return _local


def take(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, reused if one is free."""
    pool = _pool()
    stack = pool.free.get((tuple(shape), np.dtype(dtype)))
    if stack:
        a = stack.pop()
        pool.nbytes -= a.nbytes
        return a
    return aligned_empty(shape, dtype)


def aligned_empty(shape, dtype):
    """``np.empty`` starting on a 64-byte boundary (a cache line, an AVX-512 vector).

    malloc only promises 16 bytes; aligned, a loop's blocks sit the same way in their
    cache lines in every process and every call, and vector loads never straddle two.
    """
    dtype = np.dtype(dtype)
    n = math.prod(shape) * dtype.itemsize
    raw = np.empty(n + 64, dtype=np.uint8)
    start = -raw.__array_interface__["data"][0] % 64    # 2 us less than .ctypes.data
    return raw[start:start + n].view(dtype).reshape(shape)


def lend(owner, shape, dtype):
    """:func:`take` for a buffer that belongs to ``owner`` (a cell, a state history) and
    goes back to the pool when ``owner`` is garbage-collected: when autograd drops a
    graph node after its backward, before the next forward asks again. Only ``owner``
    may hold it: never a view that reaches the caller."""
    a = take(shape, dtype)
    weakref.finalize(owner, give, a).atexit = False
    return a


def give(*arrays):
    """Return arrays from :func:`take` (no other reference to them may remain)."""
    pool = _pool()
    for a in arrays:
        if pool.nbytes + a.nbytes > LIMIT:
            empty_cache()
            if a.nbytes > LIMIT:
                continue
        pool.free.setdefault((a.shape, a.dtype), []).append(a)
        pool.nbytes += a.nbytes


def empty_cache():
    """Drop the calling thread's free buffers (memory goes back to the allocator)."""
    pool = _pool()
    pool.free.clear()
    pool.nbytes = 0


def cached_bytes():
    """Bytes held free for reuse by the calling thread."""
    return _pool().nbytes
