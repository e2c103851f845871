"""The compiled kernels' matrix products (``recurrent/_gemm.py``) against NumPy in float64.

The packed micro-kernel works in blocks of MR rows and panels of NR columns with masked
edges, in K slices for bulk products, on one or two threads: these shapes cross every
edge (1 row, a partial block, a partial panel, several K slices) in both layouts of a.
"""
import numpy as np
import pytest

from rnnkit.recurrent import backend

pytestmark = pytest.mark.skipif(not backend.available(), reason="numba is not installed")

SHAPES = [(1, 1, 1), (1, 64, 256), (2, 5, 33), (3, 300, 7), (9, 33, 32), (17, 257, 65),
          (40, 513, 130)]


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request, monkeypatch):
    from rnnkit.recurrent import _threads
    monkeypatch.setattr(_threads, "MIN_WORK", 1)
    saved = _threads.get_num_threads()
    _threads.set_num_threads(request.param)
    yield request.param
    _threads.set_num_threads(saved)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matmul_equals_numpy(shape, layout, dtype, threads):
    from rnnkit.recurrent import _numba
    M, K, N = shape
    rng = np.random.default_rng(M * 1000 + K + N)
    a = np.asarray(rng.normal(size=(M, K)), dtype=dtype, order=layout)
    b = rng.normal(size=(K, N)).astype(dtype)
    c = _numba.matmul(a, b)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    # float32: K products of magnitude ~1 each rounded, the sum grows like sqrt(K)
    tol = (1e-6 if dtype == np.float32 else 1e-14) * np.sqrt(K) * 10
    assert c.shape == (M, N) and c.dtype == dtype and c.flags.c_contiguous
    assert np.abs(c - exact).max() <= tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("accumulate", [False, True])
def test_step_product_fills_only_its_rows(shape, dtype, accumulate):
    """gemm_nt(a, W, c, accumulate, r0, r1): rows r0..r1 of c get (c +) a @ W^T; the
    other rows stay as they were."""
    from numba import njit

    from rnnkit.recurrent._gemm import gemm_nt, pack

    @njit
    def step(a, packed, c, accumulate, r0, r1):
        gemm_nt(a, packed, c, accumulate, r0, r1)

    M, K, N = shape
    rng = np.random.default_rng(M + K * 7 + N * 13)
    a = rng.normal(size=(M, K)).astype(dtype)
    w = rng.normal(size=(N, K)).astype(dtype)
    c0 = rng.normal(size=(M, N)).astype(dtype)
    r0, r1 = M // 3, M
    c = c0.copy()
    step(a, pack(w), c, accumulate, r0, r1)
    expected = c0.astype(np.float64)
    expected[r0:r1] = (c0[r0:r1] if accumulate else 0) + a[r0:r1].astype(np.float64) @ w.T
    tol = (1e-6 if dtype == np.float32 else 1e-14) * np.sqrt(K) * 10
    assert np.abs(c - expected).max() <= tol
    assert np.array_equal(c[:r0], c0[:r0])


_FORK_SCRIPT = """
import os, sys
import numpy as np
from rnnkit.recurrent import _numba, _threads
_threads.MIN_WORK = 1
_threads.set_num_threads(2)
a = np.ones((64, 64), np.float32)
_numba.matmul(a, a)                     # the parent's helper pool exists now
pid = os.fork()
if pid == 0:
    ok = np.array_equal(_numba.matmul(a, a), np.full((64, 64), 64, np.float32))
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 2)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_runs_threaded_kernels():
    """The helper threads do not survive a fork; the child must start its own rather than
    wait on the parent's (which would hang). Run in a fresh interpreter: this one has
    JAX's threads, which make forking it unsafe."""
    import subprocess
    import sys
    try:
        done = subprocess.run([sys.executable, "-c", _FORK_SCRIPT], timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child hung in a threaded kernel")
    assert done.returncode == 0


def test_thread_count_is_checked():
    from rnnkit.recurrent import get_num_threads, set_num_threads
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="set_num_threads: n must be an int >= 1"):
            set_num_threads(bad)
    assert get_num_threads() >= 1


_AVX2_SCRIPT = """
import numpy as np
from rnnkit.recurrent import _gemm, _numba, _threads, use_backend
import rnnkit
from rnnkit import recurrent as R
geometry = (_gemm.MR, _gemm.panel_width(np.float32))
assert geometry == (4, 16), geometry
_threads.MIN_WORK = 1
rng = np.random.default_rng(0)
for M, K, N in [(1, 64, 256), (9, 33, 17), (40, 300, 70)]:
    a, b = rng.normal(size=(M, K)), rng.normal(size=(K, N))
    for layout in ("C", "F"):
        a2 = np.asarray(a, order=layout)
        assert np.abs(_numba.matmul(a2, b) - a @ b).max() < 1e-10
        a4, b4 = a2.astype(np.float32), b.astype(np.float32)
        assert np.abs(_numba.matmul(a4, b4) - a @ b).max() < 1e-4
x = rng.normal(size=(9, 11, 7))
w = [rng.normal(size=s) * 0.3 for s in [(4 * 20, 7), (4 * 20, 20), (4 * 20,), (4 * 20,)]]
outs = {}
for name in ("numpy", "numba"):
    with use_backend(name):
        o32 = R.lstm(x.astype(np.float32), None, None, *[v.astype(np.float32) for v in w])[0]
        xt = rnnkit.tensor(x, requires_grad=True)
        wt = [rnnkit.tensor(v, requires_grad=True) for v in w]
        out, h, c = R.lstm(xt, None, None, *wt, lengths=np.arange(11) % 9 + 1)
        (out.sum() + (h * c).sum()).backward()
        with rnnkit.no_grad():
            inf = R.lstm(x, None, None, *w)[0].numpy()
        outs[name] = [out.numpy(), xt.grad.numpy(), inf] + [v.grad.numpy() for v in wt]
        outs[name + "32"] = o32.numpy()
for p, q in zip(outs["numpy"], outs["numba"]):
    assert np.abs(p - q).max() < 1e-10, np.abs(p - q).max()
assert np.abs(outs["numpy32"] - outs["numba32"]).max() < 1e-5
print("ok")
"""


def test_the_avx2_block_geometry(tmp_path):
    """On a CPU without AVX-512 the kernels use blocks of 4 x 16 floats (8 x 8 doubles):
    compile for AVX2 only (NUMBA_CPU_FEATURES, a fresh numba cache) and check the
    products and an LSTM's outputs and gradients against the NumPy reference."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_CPU_NAME="haswell", NUMBA_CACHE_DIR=str(tmp_path),
               NUMBA_CPU_FEATURES="+avx,+avx2,+fma,+sse,+sse2,+sse3,+sse4.1,+sse4.2,"
                                  "+ssse3,+f16c,+popcnt,+bmi,+bmi2,+lzcnt,+movbe")
    done = subprocess.run([sys.executable, "-c", _AVX2_SCRIPT], env=env, timeout=600,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
