"""With torch.nn.RNN/LSTM/GRU's weights, the kernels give torch's outputs and gradients.

Tolerances: float32 max abs error <= 1e-5, float64 <= 1e-10, times the largest magnitude
when that exceeds 1 (a gradient summed over many steps), for the output sequence, the
final states, and the gradients of the input, the initial states and every weight.
Lengths are compared with torch's packed sequences (padding outputs are zeros there).
"""
import zlib

import numpy as np
import pytest

import rnnkit
from rnnkit import recurrent as R


@pytest.fixture(autouse=True)
def _backends(each_backend):
    """Every test here runs on each kernel backend (NumPy reference and numba)."""
    return each_backend


pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")]
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")

T, B, D, H = 7, 4, 3, 5
TOL = {np.float32: 1e-5, np.float64: 1e-10}
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]


def torch_module(kind, bias, dtype, D=D, H=H):
    torch.manual_seed(0)
    kw = dict(bias=bias, bidirectional=True)
    if kind.startswith("rnn"):
        m = torch.nn.RNN(D, H, nonlinearity=kind[4:], **kw)
    elif kind.startswith("lstm"):
        m = torch.nn.LSTM(D, H, proj_size=2 if kind == "lstm_proj" else 0, **kw)
    else:
        m = torch.nn.GRU(D, H, **kw)
    return m.to(getattr(torch, np.dtype(dtype).name))


def run_ours(kind, x, init, params, suffix, reverse, lengths):
    """One direction of our op with torch's parameters for that direction."""
    p = {k[:-len(suffix) - 3] if suffix else k[:-3]: v for k, v in params.items()
         if k.endswith("_l0" + suffix)}
    w = dict(w_ih=p["weight_ih"], w_hh=p["weight_hh"], b_ih=p.get("bias_ih"),
             b_hh=p.get("bias_hh"))
    opts = dict(reverse=reverse, lengths=lengths, zero_masked_outputs=lengths is not None)
    if kind.startswith("rnn"):
        return R.rnn(x, init[0], **w, nonlinearity=kind[4:], **opts)
    if kind.startswith("lstm"):
        return R.lstm(x, init[0], init[1], **w, w_hr=p.get("weight_hr"), **opts)
    return R.gru(x, init[0], **w, **opts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_init", [True, False])
@pytest.mark.parametrize("packed", [False, True])
def test_kernels_equal_torch(kind, dtype, bias, with_init, packed):
    check_against_torch(kind, dtype, bias, with_init, packed, (T, B, D, H))


@pytest.fixture
def threads_for_anything():
    """The compiled kernels split every job over two threads, however small."""
    from rnnkit.recurrent import _threads
    saved = _threads.MIN_WORK, _threads.get_num_threads()
    _threads.MIN_WORK = 1
    _threads.set_num_threads(2)
    yield
    _threads.MIN_WORK = saved[0]
    _threads.set_num_threads(saved[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("batch", [1, 10, 19])
def test_kernels_equal_torch_across_blocks_and_threads(kind, dtype, packed, batch,
                                                       threads_for_anything):
    """Hidden 40 and input 37 span several panels of the packed weights (32 or 16 wide)
    with a partial last one; batch 10 and 19 leave 2 and 3 rows past the blocks of 8 (the
    row kernel, the block kernel) and split unevenly over two threads; T * batch > 256
    runs the bulk products' K in slices."""
    check_against_torch(kind, dtype, True, True, packed, (15, batch, 37, 40))


def close(ours, theirs, tol):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    return np.abs(ours - theirs).max() <= tol * max(1.0, np.abs(theirs).max())


def check_against_torch(kind, dtype, bias, with_init, packed, shape):
    T, B, D, H = shape
    rng = np.random.default_rng(zlib.crc32(repr((kind, bias, with_init, packed, shape)).encode()))
    m = torch_module(kind, bias, dtype, D, H)
    out_size = 2 if kind == "lstm_proj" else H
    x = rng.normal(size=(T, B, D)).astype(dtype)
    init = [rng.normal(size=(2, B, out_size)).astype(dtype)]
    if kind.startswith("lstm"):
        init.append(rng.normal(size=(2, B, H)).astype(dtype))
    lengths = rng.integers(1, T + 1, size=B) if packed else None
    if packed:
        lengths[0] = T   # torch's padded output is as long as the longest sequence

    # -- torch --------------------------------------------------------------------------
    xt = torch.tensor(x, requires_grad=True)
    it = [torch.tensor(s, requires_grad=True) for s in init]
    inp = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                  enforce_sorted=False) if packed else xt
    hx = (tuple(it) if len(it) == 2 else it[0]) if with_init else None
    out_t, fin_t = m(inp, hx)
    if packed:
        out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, total_length=T)
    fin_t = fin_t if isinstance(fin_t, tuple) else (fin_t,)
    g_out = rng.normal(size=out_t.shape).astype(dtype)
    g_fin = [rng.normal(size=f.shape).astype(dtype) for f in fin_t]
    loss = (out_t * torch.tensor(g_out)).sum() + sum(
        (f * torch.tensor(g)).sum() for f, g in zip(fin_t, g_fin))
    loss.backward()

    # -- ours: forward direction and reverse direction, as torch's bidirectional halves --
    params = {k: rnnkit.tensor(v.detach().numpy(), requires_grad=True)
              for k, v in m.named_parameters()}
    xr = rnnkit.tensor(x, requires_grad=True)
    ir = [rnnkit.tensor(s, requires_grad=True) for s in init]
    total = 0
    for d, suffix in enumerate(["", "_reverse"]):
        res = run_ours(kind, xr, [s[d] if with_init else None for s in ir], params, suffix,
                       reverse=d == 1, lengths=lengths)
        out, fins = res[0], res[1:]
        sl = slice(d * out_size, (d + 1) * out_size)
        tol = TOL[dtype]
        assert close(out.numpy(), out_t.detach().numpy()[..., sl], tol)
        for f, ft in zip(fins, fin_t):
            assert close(f.numpy(), ft.detach().numpy()[d], tol)
        total = total + (out * rnnkit.tensor(g_out[..., sl])).sum()
        for f, g in zip(fins, g_fin):
            total = total + (f * rnnkit.tensor(g[d])).sum()
    total.backward()

    tol = TOL[dtype]
    assert close(xr.grad.numpy(), xt.grad, tol)
    if with_init:
        for s, st in zip(ir, it):
            assert close(s.grad.numpy(), st.grad, tol)
    for name, p in m.named_parameters():
        assert close(params[name].grad.numpy(), p.grad, tol), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("with_init", [False, True])
@pytest.mark.parametrize("batch", [1, 19])
def test_inference_without_a_graph_equals_torch(kind, dtype, packed, with_init, batch,
                                                threads_for_anything):
    """Under no_grad the ops keep no BPTT cache (the compiled LSTM projects each step's
    input inside its loop and keeps only the running cell state): outputs and final
    states still equal torch's, both directions, with lengths and initial states."""
    T, B, D, H = 15, batch, 37, 40
    rng = np.random.default_rng(zlib.crc32(repr((kind, packed, with_init, batch)).encode()))
    m = torch_module(kind, True, dtype, D, H)
    x = rng.normal(size=(T, B, D)).astype(dtype)
    init = [rng.normal(size=(2, B, H)).astype(dtype) for _ in range(2 if kind == "lstm" else 1)]
    lengths = rng.integers(1, T + 1, size=B) if packed else None
    if packed:
        lengths[0] = T
    with torch.no_grad():
        xt = torch.tensor(x)
        inp = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                      enforce_sorted=False) if packed else xt
        hx = [torch.tensor(s) for s in init]
        out_t, fin_t = m(inp, (tuple(hx) if len(hx) == 2 else hx[0]) if with_init else None)
        if packed:
            out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, total_length=T)
    fin_t = fin_t if isinstance(fin_t, tuple) else (fin_t,)
    params = {k: v.detach().numpy() for k, v in m.named_parameters()}
    with rnnkit.no_grad():
        for d, suffix in enumerate(["", "_reverse"]):
            res = run_ours(kind, x, [s[d] if with_init else None for s in init], params,
                           suffix, reverse=d == 1, lengths=lengths)
            assert not any(r.requires_grad for r in res)
            assert close(res[0].numpy(), out_t.numpy()[..., d * H:(d + 1) * H], TOL[dtype])
            for f, ft in zip(res[1:], fin_t):
                assert close(f.numpy(), ft.numpy()[d], TOL[dtype])
