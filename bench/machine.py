"""The machine a run measured: CPU, cores, libraries, BLAS, and its float32 GEMM peak."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def gemm_peak(n=2048, repeats=5):
    """Best float32 GFLOP/s of an n x n x n NumPy matmul (2 n^3 FLOPs), default threads.

    The best of a few calls, not the median: the denominator of "share of peak" is what
    this BLAS can reach on this machine, and anything slower is interference.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def cpu_model():
    """The model name, family/model numbers and widest vector extension, from
    /proc/cpuinfo (a VM's model name alone can be as vague as "AMD EPYC")."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    vector = next((v for f, v in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"))
                   if f in flags), "no AVX")
    return (f"{fields.get('model name', platform.machine())} (family "
            f"{fields.get('cpu family', '?')}, model {fields.get('model', '?')}; {vector})")


def memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2 ** 20
    except OSError:
        pass
    return None


def blas_info():
    """One line per BLAS loaded in this process, from threadpoolctl if installed, else
    NumPy's build configuration. Call after rnnkit ran, so that every library it uses
    (SciPy's OpenBLAS for the compiled loops) is loaded and listed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        return [f"NumPy built with {blas.get('name', '?')} {blas.get('version', '')} "
                f"(threadpoolctl not installed: thread counts not recorded)".strip()]
    return [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels), "
            f"{i.get('num_threads')} threads, {Path(i.get('filepath', '')).name}"
            for i in threadpool_info()]


def accelerated():
    """rnnkit's kernel path: an explicit ``ACCELERATED`` flag if the package has one, else
    its backend switch, else pure NumPy."""
    import rnnkit.recurrent as R

    flag = getattr(R, "ACCELERATED", None)
    if flag is not None:
        return f"ACCELERATED = {flag}"
    get = getattr(R, "get_backend", None)
    if get is None:
        return "pure NumPy"
    name = get()
    if name == "numpy":
        return "pure NumPy (backend 'numpy')"
    threads = getattr(R, "get_num_threads", lambda: "?")()
    return (f"accelerated: backend '{name}' (compiled time loops and products, "
            f"{threads} threads)")


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rnnkit"], cwd=REPO,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" (rnnkit/ has uncommitted or untracked files)" if dirty else "")


def describe():
    """{label: text} describing this process's side of the machine."""
    import rnnkit

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    mem = memory_gib()
    threads_env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                              "MKL_NUM_THREADS", "RNNKIT_BACKEND",
                                              "RNNKIT_NUM_THREADS")
                   if k in os.environ}
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "cores": f"{cores} logical, {usable} usable by this process",
        "memory": f"{mem:.1f} GiB" if mem else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "NumPy": np.__version__,
        "rnnkit": f"{rnnkit.__version__}, git {git_revision()}",
        "rnnkit kernels": accelerated(),
        "thread variables": ", ".join(f"{k}={v}" for k, v in threads_env.items()) or "none set",
    }


def load_average():
    """The 1-minute load average, to show whether something else was running."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
