"""Running compiled kernels on several cores: each thread gets its own rows.

The rows of a batch are independent sequences, and the rows of a product are independent
dot products, so the kernels split by rows and the threads never wait for each other
(``_numba.py`` says why not by hidden unit). Part 0 runs on the calling thread, the rest
on a small pool of helper threads; the kernels release the GIL.
"""
from __future__ import annotations

import atexit
import os
from concurrent.futures import ThreadPoolExecutor


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _from_environment():
    value = os.environ.get("RNNKIT_NUM_THREADS", "")
    if not value:
        return _usable_cores()
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"RNNKIT_NUM_THREADS must be an integer >= 1, got {value!r}")
    return n


_threads = _from_environment()
_pool, _pool_size = None, 0

# Below this many multiply-adds per thread, starting a helper costs more than it saves
# (a hand-off through the pool takes ~20-50 us).
MIN_WORK = 1 << 22


def get_num_threads():
    """How many threads rnnkit's compiled kernels may use (default: the usable cores;
    or the environment variable RNNKIT_NUM_THREADS)."""
    return _threads


def set_num_threads(n):
    """Let rnnkit's compiled kernels use up to ``n`` threads (1: the calling thread)."""
    global _threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be an int >= 1, got {n!r}")
    _threads = n


def split(n, work, align=1):
    """Ranges [(lo, hi), ...] sharing 0..n out among the threads, each a multiple of
    ``align`` long but the last; ``work``: multiply-adds of the whole job."""
    blocks = -(-n // align)
    k = max(1, min(_threads, blocks, work // MIN_WORK))
    bounds = [min(n, align * (blocks * i // k)) for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def run(kernel, args, parts):
    """kernel(*args, lo, hi) for every (lo, hi) in parts, concurrently; returns when all
    are done (and raises what any raised)."""
    futures = [_executor().submit(kernel, *args, lo, hi) for lo, hi in parts[1:]]
    try:
        kernel(*args, *parts[0])
    finally:
        for f in futures:
            f.result()


def _executor():
    global _pool, _pool_size
    if _pool is None or _pool_size < _threads - 1:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool_size = max(1, _threads - 1)
        _pool = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="rnnkit")
    return _pool


@atexit.register
def _shutdown():
    if _pool is not None:
        _pool.shutdown(wait=False)


def _forget_pool():
    """In a forked child the pool's threads do not exist: start a new pool when needed
    (using the parent's would wait forever)."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
