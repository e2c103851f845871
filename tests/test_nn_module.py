"""The Module contract of rnnkit.nn, PyTorch's: registration, state_dict, modes, dtype, repr.

Most tests need nothing but rnnkit; the repr tests compare against torch's text and are
marked ``torch`` (they skip without it).
"""
from collections import OrderedDict

import numpy as np
import pytest

import rnnkit
from rnnkit import nn
from rnnkit.nn import functional as F


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.second = nn.Linear(4, 2)

    def forward(self, x):
        return self.second(self.first(x) * self.scale)


@pytest.fixture
def torch_nn():
    torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not "
                                                "installed")
    return torch.nn


X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


# -- registration ------------------------------------------------------------------------
def test_assigning_a_parameter_or_module_registers_it():
    m = TwoLayer()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["first", "second"]


def test_named_parameters_follow_assignment_order_with_dotted_names():
    names = [n for n, _ in TwoLayer().named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight", "second.bias"]


def test_plain_tensors_and_arrays_are_not_parameters():
    m = nn.Module()
    m.t = rnnkit.tensor([1.0], requires_grad=True)
    m.a = np.zeros(3)
    assert list(m.parameters()) == [] and m.state_dict() == OrderedDict()


def test_a_parameter_shared_by_two_modules_is_listed_once():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    both = nn.Sequential(a, b)
    assert [n for n, _ in both.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_assigning_a_non_parameter_to_a_parameter_slot_raises():
    with pytest.raises(TypeError, match="parameter 'weight'"):
        nn.Linear(2, 2).weight = np.zeros((2, 2))


def test_absent_bias_is_none_and_not_in_state_dict():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert list(lin.state_dict()) == ["weight"]


def test_deleting_an_attribute_unregisters_it():
    m = TwoLayer()
    del m.first, m.scale
    assert list(m.state_dict()) == ["second.weight", "second.bias"]


def test_assigning_a_tensor_to_a_buffer_updates_the_state_dict():
    m = nn.Module()
    m.register_buffer("running", np.zeros(2))
    m.running = rnnkit.tensor(np.ones(2))
    assert m.state_dict()["running"].tolist() == [1.0, 1.0]


def test_module_without_super_init_gets_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


@pytest.mark.parametrize("name", ["a.b", "", "train"])
def test_add_module_rejects_dotted_empty_or_taken_names(name):
    with pytest.raises(KeyError):
        nn.Module().add_module(name, nn.Tanh())


# -- containers --------------------------------------------------------------------------------
def test_sequential_indexes_iterates_and_appends():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    seq.append(nn.Linear(4, 2))
    assert len(seq) == 3
    assert isinstance(seq[-1], nn.Linear) and seq[1] is list(seq)[1]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert seq(X).shape == (5, 2)


def test_sequential_slice_keeps_keys_and_modules():
    seq = nn.Sequential(OrderedDict(a=nn.Linear(3, 4), b=nn.ReLU(), c=nn.Linear(4, 1)))
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["b", "c"]
    assert tail[1] is seq.c


def test_sequential_rejects_non_modules_and_bad_indices():
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(nn.Tanh(), np.tanh)
    with pytest.raises(IndexError, match="out of range"):
        nn.Sequential(nn.Tanh())[1]


def test_module_list_insert_and_delete_renumber_like_a_list():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(2, 2)])
    ml.insert(0, nn.Linear(3, 3))
    ml.extend([nn.Tanh()])
    assert [m.in_features for m in ml[:3]] == [3, 1, 2]
    del ml[1]
    assert list(ml._modules) == ["0", "1", "2"] and ml[1].in_features == 2
    assert isinstance(ml.pop(), nn.Tanh) and len(ml) == 2
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight",
                                                     "1.bias"]


def test_module_list_extend_requires_an_iterable():
    with pytest.raises(TypeError, match="iterable"):
        nn.ModuleList().extend(nn.Tanh())


def test_module_dict_behaves_like_an_ordered_dict():
    md = nn.ModuleDict({"enc": nn.GRU(2, 3), "head": nn.Linear(3, 1)})
    md["drop"] = nn.Dropout()
    assert list(md) == ["enc", "head", "drop"] and "head" in md and len(md) == 3
    assert md.pop("drop").p == 0.5
    assert [k for k, _ in md.items()] == ["enc", "head"]
    assert list(md.state_dict())[-2:] == ["head.weight", "head.bias"]
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []


# -- state_dict --------------------------------------------------------------------------
def test_state_dict_round_trip_restores_the_function():
    a, b = TwoLayer(), TwoLayer()
    assert not np.allclose(a(X).numpy(), b(X).numpy())
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X).numpy(), b(X).numpy())


def test_state_dict_holds_copies():
    m = nn.Linear(2, 2)
    saved = m.state_dict()
    with rnnkit.no_grad():
        m.weight[...] = 7.0
    assert not (saved["weight"] == 7.0).any()


def test_strict_load_names_missing_and_unexpected_keys():
    m = nn.Linear(2, 2)
    state = m.state_dict()
    del state["bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['bias'\].*unexpected keys \['extra'\]"):
        m.load_state_dict(state)


def test_non_strict_load_reports_keys_and_loads_the_rest():
    m = nn.Linear(2, 2)
    state = {"weight": np.full((2, 2), 3.0), "extra": np.zeros(1)}
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["bias"], ["extra"])
    assert (m.weight.numpy() == 3.0).all()


def test_wrong_shape_names_the_key_and_both_shapes_and_loads_nothing():
    m = TwoLayer()
    before = m.state_dict()
    state = m.state_dict()
    state["first.weight"] = np.zeros((4, 3), np.float32)
    state["second.weight"] = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"second.weight has shape \(3, 4\).*expects \(2, 4\)"):
        m.load_state_dict(state)
    np.testing.assert_array_equal(m.first.weight.numpy(), before["first.weight"])


def test_loss_weight_buffers_are_saved_and_non_persistent_buffers_are_not():
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0]))
    loss.register_buffer("scratch", np.zeros(3), persistent=False)
    assert list(loss.state_dict()) == ["weight"]


# -- train / eval ------------------------------------------------------------------------
def test_train_and_eval_propagate_to_every_submodule():
    outer = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.LSTM(2, 2)))
    assert outer.eval() is outer
    assert not any(m.training for m in outer.modules())
    outer[1].train()
    assert outer.training is False and all(m.training for m in outer[1].modules())


def test_dropout_zeros_and_rescales_in_training_and_is_identity_in_eval():
    drop = nn.Dropout(p=0.25)
    x = rnnkit.tensor(np.ones((200, 100), dtype=np.float32))
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())


def test_dropout_masks_repeat_after_manual_seed():
    x = np.ones((4, 5), dtype=np.float32)
    rnnkit.manual_seed(3)
    a = nn.Dropout()(x).numpy()
    rnnkit.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Dropout()(x).numpy())


# -- gradients ---------------------------------------------------------------------------
def test_zero_grad_sets_to_none_by_default_or_zeros_in_place():
    m = TwoLayer()
    m(X).sum().backward()
    grad = m.first.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.first.weight.grad is grad and not grad.numpy().any()
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_false_freezes_parameters():
    m = TwoLayer().requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


# -- dtype -------------------------------------------------------------------------------
def test_double_converts_parameters_and_runs_forward_and_backward_in_float64():
    model = nn.Sequential(nn.Embedding(6, 3), nn.GRU(3, 4, batch_first=True))
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    out, h = model(np.array([[1, 2, 5]]))
    assert out.dtype == h.dtype == np.float64
    out.sum().backward()
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    model.float()
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32
               for p in model.parameters())


def test_mismatched_input_dtype_names_both_dtypes():
    cell = nn.LSTMCell(3, 2).double()
    with pytest.raises(TypeError, match="float32.*float64"):
        cell(X)


# -- options rnnkit does not support are rejected by name -------------------------------------
@pytest.mark.parametrize("build,name", [
    (lambda: nn.Embedding(5, 2, max_norm=1.0), "max_norm"),
    (lambda: nn.Embedding(5, 2, scale_grad_by_freq=True), "scale_grad_by_freq"),
    (lambda: nn.Embedding(5, 2, sparse=True), "sparse"),
    (lambda: nn.Embedding.from_pretrained(np.eye(3), max_norm=2.0), "max_norm"),
    (lambda: nn.Dropout(inplace=True), "inplace"),
    (lambda: nn.Dropout(p=1.0), "p must be"),
    (lambda: nn.ReLU(inplace=True), "inplace"),
    (lambda: nn.Softmax(), "dim"),
    (lambda: nn.LogSoftmax(), "dim"),
    (lambda: nn.CrossEntropyLoss(size_average=False), "size_average"),
    (lambda: nn.NLLLoss(reduce=False), "reduce"),
    (lambda: nn.MSELoss(reduction="avg"), "reduction"),
    (lambda: F.mse_loss(X, X, weight=X), "weight"),
    (lambda: F.embedding(np.array([0]), np.eye(2), max_norm=1.0), "max_norm"),
    (lambda: F.dropout(X, 0.5, True, True), "inplace"),
    (lambda: F.softmax(X), "dim"),
    (lambda: nn.RNNCell(2, 3, nonlinearity="gelu"), "nonlinearity"),
    (lambda: nn.Linear(-1, 2), "in_features"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), "padding_idx"),
])
def test_unsupported_or_invalid_options_raise_naming_them(build, name):
    with pytest.raises(ValueError, match=name):
        build()


@pytest.mark.parametrize("call,pattern", [
    (lambda c: c(np.zeros((2, 2, 3), np.float32)), "1-D .* or 2-D"),
    (lambda c: c(np.zeros((2, 4), np.float32)), "4 features but input_size is 3"),
    (lambda c: c(np.zeros((2, 3), np.float32), np.zeros((3, 5), np.float32)),
     r"hx must have shape \(2, 5\)"),
    (lambda c: c(np.zeros(3, np.float32), np.zeros((1, 5), np.float32)),
     r"unbatched input hx must have shape \(5,\)"),
])
def test_cell_input_errors_are_explicit(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(nn.GRUCell(3, 5))


def test_lstm_cell_state_must_be_a_pair():
    with pytest.raises(TypeError, match=r"tuple \(h, c\)"):
        nn.LSTMCell(3, 5)(np.zeros((2, 3), np.float32), np.zeros((2, 5), np.float32))


# -- repr: identical to torch's text ---------------------------------------------------------
REPRS = [
    lambda L: L.LSTM(5, 8, num_layers=2, batch_first=True, bidirectional=True),
    lambda L: L.GRU(3, 4, num_layers=2, bias=False, dropout=0.25),
    lambda L: L.RNN(3, 4, nonlinearity="relu"),
    lambda L: L.Linear(7, 3),
    lambda L: L.Linear(7, 3, bias=False),
    lambda L: L.Embedding(100, 16),
    lambda L: L.Embedding(100, 16, padding_idx=-1),
    lambda L: L.Sequential(L.Embedding(10, 4, padding_idx=0), L.Dropout(0.1), L.Flatten(),
                           L.Linear(4, 2), L.Softmax(dim=-1)),
    lambda L: L.Sequential(OrderedDict(rnn=L.LSTM(2, 3), act=L.Tanh(),
                                       inner=L.Sequential(L.Sigmoid(), L.ReLU()))),
    lambda L: L.ModuleList([L.GRUCell(2, 2), L.GRUCell(2, 2), L.RNNCell(2, 2), L.GRUCell(2, 2)]),
    lambda L: L.ModuleDict({"cell": L.LSTMCell(2, 3, bias=False), "out": L.LogSoftmax(1)}),
    lambda L: L.Sequential(L.Identity(), L.Dropout(p=0), L.BCEWithLogitsLoss(), L.MSELoss()),
]


@pytest.mark.torch
@pytest.mark.parametrize("make", REPRS)
def test_repr_is_torchs_text(make, torch_nn):
    assert repr(make(nn)) == repr(make(torch_nn))


@pytest.mark.torch
def test_repr_of_a_module_with_extra_repr_and_children_is_torchs_text(torch_nn):
    def make(L):
        class Wrapper(L.Module):
            def __init__(self):
                super().__init__()
                self.rnn = L.GRU(2, 3)

            def extra_repr(self):
                return "mode=demo"

        return Wrapper()

    assert repr(make(nn)) == repr(make(torch_nn))


# -- namespaces a PyTorch user imports -----------------------------------------------------
def test_nn_utils_exports_gradient_clipping_and_nn_init_is_rnnkit_init():
    import rnnkit.clip
    import rnnkit.init

    assert nn.utils.clip_grad_norm_ is rnnkit.clip.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is rnnkit.clip.clip_grad_value_
    assert nn.init is rnnkit.init


def test_nn_functional_offers_torchs_names():
    for name in ["linear", "embedding", "dropout", "relu", "tanh", "sigmoid", "softmax",
                 "log_softmax", "cross_entropy", "nll_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "mse_loss", "l1_loss"]:
        assert callable(getattr(F, name)), name
