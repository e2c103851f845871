"""nn.RNN / nn.LSTM / nn.GRU equal torch.nn's after loading torch's state_dict.

A randomized grid (fixed seed) over mode, 1-3 layers, bidirectional, batch_first, bias,
proj_size, nonlinearity, h0 given or not, unbatched input, PackedSequence with unsorted
lengths, float32 and float64. Outputs, final states and the gradients of the input,
h0/c0 and every parameter must agree: float32 max abs <= 1e-5, float64 <= 1e-10.
"""
import itertools
import random
import zlib

import numpy as np
import pytest

import rnnkit
from rnnkit import nn


@pytest.fixture(autouse=True)
def _backends(each_backend):
    """Every test here runs on each kernel backend (NumPy reference and numba)."""
    return each_backend


pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning"),
              pytest.mark.filterwarnings("ignore:dropout option adds dropout:UserWarning")]
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")

MODES = ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]
INPUTS = ["padded", "unbatched", "packed"]
GRID = list(itertools.product(MODES, [1, 2, 3], [False, True], [False, True], [True, False],
                              [True, False], INPUTS, ["float32", "float64"]))
CASES = random.Random(2026).sample(GRID, 160)
TOL = {"float32": 1e-5, "float64": 1e-10}
D, H, P, T, B = 3, 4, 2, 6, 3


def build(lib, mode, layers, bidir, batch_first, bias):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
    if mode.startswith("rnn"):
        return lib.RNN(D, H, nonlinearity=mode[4:], **kw)
    if mode.startswith("lstm"):
        return lib.LSTM(D, H, proj_size=P if mode == "lstm_proj" else 0, **kw)
    return lib.GRU(D, H, **kw)


def max_err(a, b):
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


@pytest.mark.parametrize("mode,layers,bidir,batch_first,bias,with_h0,kind,dtype", CASES)
def test_module_equals_torch(mode, layers, bidir, batch_first, bias, with_h0, kind, dtype):
    rng = np.random.default_rng(zlib.crc32(str((mode, layers, bidir, kind)).encode()))
    torch.manual_seed(0)
    theirs = build(torch.nn, mode, layers, bidir, batch_first, bias).to(getattr(torch, dtype))
    ours = build(nn, mode, layers, bidir, batch_first, bias).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())

    L = layers * (2 if bidir else 1)
    out_size = P if mode == "lstm_proj" else H
    if kind == "unbatched":
        x = rng.normal(size=(T, D))
        states = [(L, out_size)] + ([(L, H)] if mode.startswith("lstm") else [])
    else:
        x = rng.normal(size=(B, T, D) if batch_first else (T, B, D))
        states = [(L, B, out_size)] + ([(L, B, H)] if mode.startswith("lstm") else [])
    x = x.astype(dtype)
    init = [rng.normal(size=s).astype(dtype) for s in states] if with_h0 else None
    lengths = np.array([4, 6, 2])

    def run(lib, module, make):
        xt = make(x)
        hx = None
        leaves = [xt]
        if init is not None:
            ts = [make(s) for s in init]
            leaves += ts
            hx = tuple(ts) if len(ts) == 2 else ts[0]
        inp = xt
        if kind == "packed":
            u = lib.nn.utils.rnn if lib is torch else nn.utils.rnn
            inp = u.pack_padded_sequence(xt, torch.tensor(lengths) if lib is torch else lengths,
                                         batch_first=batch_first, enforce_sorted=False)
        out, fin = module(inp, hx)
        if kind == "packed":
            u = lib.nn.utils.rnn if lib is torch else nn.utils.rnn
            out, _ = u.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        fin = list(fin) if isinstance(fin, tuple) else [fin]
        return out, fin, leaves

    t_out, t_fin, t_leaves = run(torch, theirs, lambda a: torch.tensor(a, requires_grad=True))
    o_out, o_fin, o_leaves = run(rnnkit, ours, lambda a: rnnkit.tensor(a, requires_grad=True))

    tol = TOL[dtype]
    assert o_out.shape == tuple(t_out.shape)
    assert max_err(o_out.numpy(), t_out.detach().numpy()) <= tol
    for a, b in zip(o_fin, t_fin):
        assert a.shape == tuple(b.shape)
        assert max_err(a.numpy(), b.detach().numpy()) <= tol

    with rnnkit.no_grad():   # no graph: directions and layers write into one array
        n_out, n_fin, _ = run(rnnkit, ours, rnnkit.tensor)
    assert max_err(n_out.numpy(), t_out.detach().numpy()) <= tol
    for a, b in zip(n_fin, t_fin):
        assert max_err(a.numpy(), b.detach().numpy()) <= tol

    weights = [rng.normal(size=t_out.shape)] + [rng.normal(size=f.shape) for f in t_fin]
    weights = [w.astype(dtype) for w in weights]
    sum(((t * torch.tensor(w)).sum() for t, w in zip([t_out] + t_fin, weights))).backward()
    sum(((t * rnnkit.tensor(w)).sum() for t, w in zip([o_out] + o_fin, weights))).backward()
    for a, b in zip(o_leaves, t_leaves):
        assert max_err(a.grad.numpy(), b.grad.numpy()) <= tol
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert max_err(p.grad.numpy(), q.grad.numpy()) <= tol, name


def test_tutorial_shapes():
    """The tutorials' PyTorch examples (seed 004) give the tutorials' shapes."""
    inputs = np.zeros((1, 10, 5), dtype=np.float32)
    outputs, status = nn.RNN(5, 8, batch_first=True)(inputs)
    assert (outputs.shape, status.shape) == ((1, 10, 8), (1, 1, 8))
    outputs, status = nn.RNN(input_size=5, hidden_size=8, num_layers=2, batch_first=True)(inputs)
    assert (outputs.shape, status.shape) == ((1, 10, 8), (2, 1, 8))
    cell = nn.RNN(input_size=5, hidden_size=8, num_layers=2, batch_first=True,
                  bidirectional=True)
    outputs, status = cell(inputs)
    assert (outputs.shape, status.shape) == ((1, 10, 16), (4, 1, 8))
    cell = nn.LSTM(input_size=5, hidden_size=8, num_layers=2, batch_first=True,
                   bidirectional=True)
    outputs, (h, c) = cell(inputs)
    assert (outputs.shape, h.shape, c.shape) == ((1, 10, 16), (4, 1, 8), (4, 1, 8))


def test_dropout_between_layers_only_in_training():
    torch_like = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32)
    torch_like.eval()
    a, _ = torch_like(x)
    b, _ = torch_like(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    torch_like.train()
    c, _ = torch_like(x)
    assert not np.allclose(c.numpy(), a.numpy())
