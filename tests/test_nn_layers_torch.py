"""rnnkit.nn's layers equal torch.nn's after loading torch's state_dict.

Each case builds the same module in both libraries (``make(L)`` with L = torch.nn or
rnnkit.nn), copies torch's weights into ours, runs the same inputs, back-propagates the
same random upstream gradient, and compares the outputs and the gradients of every
floating input and every parameter: float32 to 1e-5, float64 to 1e-10. The state_dict
keys and shapes must equal torch's, and default initialisations must respect torch's
distribution bounds while drawing from rnnkit's own generator.
"""
import math
from collections import OrderedDict

import numpy as np
import pytest

import rnnkit
from rnnkit import nn

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")

TOL = {"float32": 1e-5, "float64": 1e-10}
DTYPES = ["float32", "float64"]


def max_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    return float(np.abs(a - b).max()) if a.size else 0.0


def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(make, inputs, dtype, seed=0, train=False):
    """Run ``make(torch.nn)`` and ``make(rnnkit.nn)`` on ``inputs`` (NumPy arrays; float
    arrays become differentiable leaves of ``dtype``, None stays None, a tuple becomes a
    tuple) and assert outputs and gradients agree. Returns (ours, theirs) modules."""
    tol = TOL[dtype]
    theirs = make(torch.nn).to(getattr(torch, dtype)).train(train)
    ours = make(nn).to(dtype).train(train)
    ours.load_state_dict(theirs.state_dict())

    def leaves(lib):
        made = []

        def conv(a):
            if a is None:
                return None
            if isinstance(a, tuple):
                return tuple(conv(v) for v in a)
            a = np.asarray(a)
            if a.dtype.kind == "f":
                t = (torch.tensor(a.astype(dtype), requires_grad=True) if lib is torch
                     else rnnkit.tensor(a.astype(dtype), requires_grad=True))
                made.append(t)
                return t
            return torch.tensor(a) if lib is torch else rnnkit.tensor(a)

        return [conv(a) for a in inputs], made

    t_args, t_leaves = leaves(torch)
    o_args, o_leaves = leaves(rnnkit)
    t_out, o_out = as_list(theirs(*t_args)), as_list(ours(*o_args))
    assert len(t_out) == len(o_out)
    for a, b in zip(o_out, t_out):
        assert a.dtype == np.dtype(dtype)
        assert max_err(a.numpy(), b.detach().numpy()) <= tol

    rng = np.random.default_rng(seed)
    ups = [rng.normal(size=tuple(t.shape)).astype(dtype) for t in t_out]
    sum((t * torch.tensor(u)).sum() for t, u in zip(t_out, ups)).backward()
    sum((o * rnnkit.tensor(u)).sum() for o, u in zip(o_out, ups)).backward()
    for a, b in zip(o_leaves, t_leaves):
        assert max_err(a.grad.numpy(), b.grad.numpy()) <= tol
    t_params = dict(theirs.named_parameters())
    o_params = dict(ours.named_parameters())
    assert list(o_params) == list(t_params)
    for name, p in o_params.items():
        q = t_params[name]
        if q.grad is None:
            assert p.grad is None, name
        else:
            assert max_err(p.grad.numpy(), q.grad.numpy()) <= tol, name
    return ours, theirs


rng = np.random.default_rng(11)


# -- Linear, Identity, Flatten ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(), (3,), (2, 3)], ids=["unbatched", "2d", "3d"])
def test_linear_equals_torch(lead, bias, dtype):
    compare(lambda L: L.Linear(4, 5, bias=bias), [rng.normal(size=lead + (4,))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_flatten_and_identity_equal_torch(dtype):
    x = rng.normal(size=(2, 3, 4, 5))
    compare(lambda L: L.Flatten(), [x], dtype)
    compare(lambda L: L.Flatten(0, 2), [x], dtype)
    compare(lambda L: L.Flatten(-3, -2), [x], dtype)
    compare(lambda L: L.Identity(54, unused=True), [x], dtype)


# -- Embedding ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_equals_torch(padding_idx, dtype):
    idx = np.array([[1, 3, 3, 6], [0, 1, 6, 2]])
    ours, theirs = compare(lambda L: L.Embedding(7, 3, padding_idx=padding_idx), [idx], dtype)
    assert ours.padding_idx == theirs.padding_idx


def test_embedding_padding_row_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=2)
    assert not emb.weight.numpy()[2].any()
    emb(np.array([2, 2, 1, 2])).sum().backward()
    assert not emb.weight.grad.numpy()[2].any()
    assert emb.weight.grad.numpy()[1].tolist() == [1, 1, 1]


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained_equals_torch(freeze):
    table = rng.normal(size=(6, 4)).astype(np.float32)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze,
                                                padding_idx=0)
    ours = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=0)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    idx = np.array([[0, 5, 2]])
    np.testing.assert_array_equal(ours(idx).numpy(), theirs(torch.tensor(idx)).detach().numpy())
    assert repr(ours) == repr(theirs)


# -- cells ------------------------------------------------------------------------------------
CELLS = {
    "rnn_tanh": lambda L, bias: L.RNNCell(3, 4, bias=bias),
    "rnn_relu": lambda L, bias: L.RNNCell(3, 4, bias=bias, nonlinearity="relu"),
    "lstm": lambda L, bias: L.LSTMCell(3, 4, bias=bias),
    "gru": lambda L, bias: L.GRUCell(3, 4, bias=bias),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_equals_torch(kind, batched, with_hx, bias, dtype, each_backend):
    lead = (5,) if batched else ()
    x = rng.normal(size=lead + (3,))
    hx = None
    if with_hx:
        hx = rng.normal(size=lead + (4,))
        if kind == "lstm":
            hx = (hx, rng.normal(size=lead + (4,)))
    compare(lambda L: CELLS[kind](L, bias), [x, hx], dtype)


def test_cell_steps_chain_like_the_sequence_module():
    """Ten LSTMCell steps equal one nn.LSTM over the ten steps with the same weights."""
    cell, seq = nn.LSTMCell(3, 4), nn.LSTM(3, 4)
    seq.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = rng.normal(size=(10, 2, 3)).astype(np.float32)
    h = c = None
    for t in range(10):
        h, c = cell(x[t], None if h is None else (h, c))
    out, (h_n, c_n) = seq(x)
    assert max_err(h.numpy(), h_n.numpy()[0]) <= 1e-6
    assert max_err(c.numpy(), c_n.numpy()[0]) <= 1e-6
    assert max_err(h.numpy(), out.numpy()[-1]) <= 1e-6


# -- activations and dropout -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [lambda L: L.Tanh(), lambda L: L.Sigmoid(), lambda L: L.ReLU(),
                                  lambda L: L.Softmax(dim=1), lambda L: L.Softmax(dim=-1),
                                  lambda L: L.LogSoftmax(dim=1), lambda L: L.LogSoftmax(0)],
                         ids=["tanh", "sigmoid", "relu", "softmax1", "softmax-1",
                              "log_softmax1", "log_softmax0"])
def test_activation_equals_torch(make, dtype):
    compare(make, [rng.normal(size=(3, 4, 2))], dtype)


def test_dropout_in_eval_mode_equals_torch():
    compare(lambda L: L.Dropout(0.3), [rng.normal(size=(3, 4))], "float64", train=False)


# -- losses -------------------------------------------------------------------------------------
N, C = 6, 4
LOGITS = rng.normal(scale=2.0, size=(N, C))
LABELS = np.array([0, 3, 1, 1, 2, 3])
LABELS_IGNORED = np.array([0, 3, -100, 1, 2, 7])
CLASS_W = np.array([0.5, 2.0, 1.0, 0.25])
PROBS = rng.uniform(0.05, 0.95, size=(N, C))
BINARY = rng.integers(0, 2, size=(N, C)).astype(float)
REGRESS = rng.normal(size=(N, C))


def weighted(cls, **arrays):
    """A loss factory passing ``arrays`` as constants in each library's tensor type."""
    def make(L, **kw):
        conv = (lambda a: torch.tensor(a, dtype=torch.float32)) if L is torch.nn else np.asarray
        return getattr(L, cls)(**{k: conv(v) for k, v in arrays.items()}, **kw)
    return make


LOSSES = {
    "ce": (lambda L: L.CrossEntropyLoss(), LOGITS, LABELS),
    "ce_sum": (lambda L: L.CrossEntropyLoss(reduction="sum"), LOGITS, LABELS),
    "ce_options": (lambda L: weighted("CrossEntropyLoss", weight=CLASS_W)(
        L, ignore_index=7, label_smoothing=0.1, reduction="mean"), LOGITS,
        np.where(LABELS_IGNORED == -100, 7, LABELS_IGNORED)),
    "ce_default_ignore": (lambda L: L.CrossEntropyLoss(reduction="none"), LOGITS,
                          np.where(LABELS_IGNORED == 7, 2, LABELS_IGNORED)),
    "ce_probs": (lambda L: L.CrossEntropyLoss(label_smoothing=0.2),
                 LOGITS, PROBS / PROBS.sum(1, keepdims=True)),
    "nll": (lambda L: weighted("NLLLoss", weight=CLASS_W)(L), LOGITS - 3, LABELS),
    "nll_none": (lambda L: L.NLLLoss(reduction="none", ignore_index=1), LOGITS, LABELS),
    "bce": (lambda L: L.BCELoss(), PROBS, BINARY),
    "bce_weight": (lambda L: weighted("BCELoss", weight=CLASS_W)(L, reduction="sum"),
                   PROBS, BINARY),
    "bce_logits": (lambda L: L.BCEWithLogitsLoss(), LOGITS, BINARY),
    "bce_logits_weights": (lambda L: weighted("BCEWithLogitsLoss", weight=CLASS_W,
                                              pos_weight=CLASS_W[::-1].copy())(
        L, reduction="none"), LOGITS, BINARY),
    "mse": (lambda L: L.MSELoss(), LOGITS, REGRESS),
    "mse_none": (lambda L: L.MSELoss(reduction="none"), LOGITS, REGRESS),
    "l1": (lambda L: L.L1Loss(reduction="sum"), LOGITS, REGRESS),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(LOSSES))
def test_loss_module_equals_torch(case, dtype):
    make, x, y = LOSSES[case]
    ours, theirs = compare(make, [x, y], dtype)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("case", ["ce_options", "nll", "bce_weight", "bce_logits_weights"])
def test_loss_weights_are_buffers_like_torch(case):
    make = LOSSES[case][0]
    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k], v.numpy())


# -- nn.functional, called with torch's positional conventions ------------------------------------
# Each call is written once as call(F, K, x, w, b): F is torch.nn.functional or
# rnnkit.nn.functional, K turns a constant array into that library's tensor.
FUNCTIONAL = {
    "linear": lambda F, K, x, w, b: F.linear(x, w, b),
    "relu": lambda F, K, x, w, b: F.relu(x, False),
    "tanh": lambda F, K, x, w, b: F.tanh(x),
    "sigmoid": lambda F, K, x, w, b: F.sigmoid(x),
    "softmax": lambda F, K, x, w, b: F.softmax(x, 1),
    "log_softmax": lambda F, K, x, w, b: F.log_softmax(x, dim=0),
    "dropout_eval": lambda F, K, x, w, b: F.dropout(x, 0.4, False, False),
    "embedding": lambda F, K, x, w, b: F.embedding(K(LABELS), w, 2),
    "cross_entropy": lambda F, K, x, w, b: F.cross_entropy(x, K(LABELS), K(CLASS_W), None, 3,
                                                           None, "sum", 0.05),
    "nll_loss": lambda F, K, x, w, b: F.nll_loss(F.log_softmax(x, 1), K(LABELS), None, None,
                                                 0, None, "mean"),
    "binary_cross_entropy": lambda F, K, x, w, b: F.binary_cross_entropy(
        F.sigmoid(x), K(BINARY), K(CLASS_W), None, None, "none"),
    "binary_cross_entropy_with_logits": lambda F, K, x, w, b: F.binary_cross_entropy_with_logits(
        x, K(BINARY), None, None, None, "mean", K(CLASS_W)),
    "mse_loss": lambda F, K, x, w, b: F.mse_loss(x, K(REGRESS), None, None, "sum"),
    "l1_loss": lambda F, K, x, w, b: F.l1_loss(x, K(REGRESS)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_nn_functional_equals_torch(name, dtype):
    import torch.nn.functional as TF

    from rnnkit.nn import functional as OF

    arrays = LOGITS, np.random.default_rng(5).normal(size=(C, C)), CLASS_W

    def run(F, K, leaf):
        leaves = [leaf(a.astype(dtype)) for a in arrays]
        return FUNCTIONAL[name](F, K, *leaves), leaves

    def torch_const(a):
        return torch.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)

    def our_const(a):
        return a.astype(dtype) if a.dtype.kind == "f" else a

    t_out, t_leaves = run(TF, torch_const, lambda a: torch.tensor(a, requires_grad=True))
    o_out, o_leaves = run(OF, our_const, lambda a: rnnkit.tensor(a, requires_grad=True))
    tol = TOL[dtype]
    assert max_err(o_out.numpy(), t_out.detach().numpy()) <= tol
    up = np.random.default_rng(3).normal(size=tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(up))
    o_out.backward(up)
    for a, t in zip(o_leaves, t_leaves):
        if t.grad is None:
            assert a.grad is None
        else:
            assert max_err(a.grad.numpy(), t.grad.numpy()) <= tol


# -- containers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_equals_torch(dtype):
    compare(lambda L: L.Sequential(L.Linear(4, 6), L.Tanh(), L.Linear(6, 3), L.LogSoftmax(-1)),
            [rng.normal(size=(5, 4))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_named_sequential_equals_torch(dtype):
    compare(lambda L: L.Sequential(OrderedDict(embed=L.Embedding(9, 4, padding_idx=0),
                                               flat=L.Flatten(), head=L.Linear(12, 2))),
            [np.array([[0, 3, 8], [1, 1, 0]])], dtype)


def tagger(L):
    """A composite in both libraries: ModuleDict and ModuleList around an LSTM."""
    class Tagger(L.Module):
        def __init__(self):
            super().__init__()
            self.parts = L.ModuleDict({"embed": L.Embedding(11, 4),
                                       "rnn": L.LSTM(4, 5, batch_first=True,
                                                     bidirectional=True)})
            self.heads = L.ModuleList([L.Linear(10, 6), L.ReLU(), L.Linear(6, 3)])

        def forward(self, tokens):
            out, _ = self.parts["rnn"](self.parts["embed"](tokens))
            for layer in self.heads:
                out = layer(out)
            return out

    return Tagger()


@pytest.mark.parametrize("dtype", DTYPES)
def test_module_dict_and_list_composite_equals_torch(dtype, each_backend):
    compare(tagger, [rng.integers(0, 11, size=(3, 7))], dtype)


# -- state_dict keys and shapes -----------------------------------------------------------------
MODULES = {
    "linear": lambda L: L.Linear(3, 2),
    "linear_no_bias": lambda L: L.Linear(3, 2, bias=False),
    "embedding": lambda L: L.Embedding(10, 4, padding_idx=3),
    "rnn_cell": lambda L: L.RNNCell(3, 5, nonlinearity="relu"),
    "rnn_cell_no_bias": lambda L: L.RNNCell(3, 5, bias=False),
    "lstm_cell": lambda L: L.LSTMCell(3, 5),
    "gru_cell": lambda L: L.GRUCell(3, 5, bias=False),
    "lstm": lambda L: L.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
    "sequential_lstm_linear": lambda L: L.Sequential(L.LSTM(3, 5, num_layers=2),
                                                     L.Linear(5, 2)),
    "module_dict_lstm_linear": lambda L: L.ModuleDict({"encoder": L.LSTM(3, 5, bidirectional=True),
                                                       "head": L.Linear(10, 2)}),
    "module_list": lambda L: L.ModuleList([L.GRU(3, 4), L.Dropout(), L.Linear(4, 4)]),
    "composite": tagger,
}


@pytest.mark.parametrize("name", list(MODULES))
def test_state_dict_keys_and_shapes_equal_torch(name):
    ours, theirs = MODULES[name](nn), MODULES[name](torch.nn)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]


@pytest.mark.parametrize("name", list(MODULES))
def test_repr_equals_torch(name):
    assert repr(MODULES[name](nn)) == repr(MODULES[name](torch.nn))


# -- default initialisation -------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_init_is_uniform_within_torchs_bound(kind):
    H = 16
    bound = 1 / math.sqrt(H)
    cls, kw = {"rnn_tanh": ("RNNCell", {}), "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
               "lstm": ("LSTMCell", {}), "gru": ("GRUCell", {})}[kind]
    ours, theirs = getattr(nn, cls)(3, H, **kw), getattr(torch.nn, cls)(3, H, **kw)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound
        assert np.abs(q.detach().numpy()).max() <= bound
    w = np.concatenate([p.numpy().ravel() for p in ours.parameters()])
    # a uniform on [-b, b] fills the interval: its extremes come near both ends
    assert w.min() < -0.9 * bound and w.max() > 0.9 * bound


def test_linear_init_is_uniform_within_torchs_bound():
    ours, theirs = nn.Linear(64, 32), torch.nn.Linear(64, 32)
    bound = 1 / math.sqrt(64)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert np.abs(q.detach().numpy()).max() <= bound
        assert np.abs(p.numpy()).max() <= bound
    w = ours.weight.numpy()
    assert w.min() < -0.95 * bound and w.max() > 0.95 * bound
    # the variance of U(-b, b) is b^2 / 3
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.1


def test_embedding_init_is_standard_normal_like_torch():
    rnnkit.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Embedding(400, 50, padding_idx=0), torch.nn.Embedding(400, 50, padding_idx=0)
    w, v = ours.weight.numpy()[1:], theirs.weight.detach().numpy()[1:]
    # 19,950 draws: the mean's standard error is 0.007, the std's 0.005
    assert abs(w.mean()) < 0.035 and abs(w.std() - 1) < 0.025
    assert abs(v.mean()) < 0.035 and abs(v.std() - 1) < 0.025
    assert not ours.weight.numpy()[0].any() and not theirs.weight.detach().numpy()[0].any()


def test_init_draws_from_rnnkit_generator_not_torchs():
    draws = []
    for torch_seed in (1, 2):
        torch.manual_seed(torch_seed)
        rnnkit.manual_seed(5)
        modules = [nn.Linear(3, 2), nn.GRUCell(2, 3), nn.Embedding(4, 2)]
        draws.append([p.numpy().copy() for m in modules for p in m.parameters()])
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
    rnnkit.manual_seed(6)
    assert not np.array_equal(nn.Linear(3, 2).weight.numpy(), draws[0][0])
