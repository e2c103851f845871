"""The Tensor class as PyTorch code uses it, checked against real PyTorch 2.13.

The legacy constructor ``Tensor(*sizes)`` / ``Tensor(data)``, the dtype names, and the
methods (size, view, to, float, div, max(dim), topk, new_zeros...), plus
``nn.functional.one_hot``. Creation functions: test_torch_creation.py; the top-level ops:
test_torch_ops.py.
"""
import numpy as np
import pytest

import rnnkit
import rnnkit.nn as nn

from torch_pair import assert_pair, assert_same, to_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

rng = np.random.default_rng(7)
A = rng.normal(size=(2, 3))


# -- the legacy constructor --------------------------------------------------------------
@pytest.mark.parametrize("args", [(1, 10, 5), (3,), (0,), (2, 0, 4)], ids=str)
def test_sizes_give_a_float32_tensor_of_that_shape(args):
    ours, theirs = rnnkit.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == to_numpy(theirs).dtype


def test_sizes_are_filled_with_zeros():
    # torch leaves the memory uninitialised; rnnkit promises zeros (documented)
    np.testing.assert_array_equal(rnnkit.Tensor(2, 3).data, np.zeros((2, 3), np.float32))


def test_a_size_object_means_sizes():
    x = rnnkit.Tensor(4, 2)
    assert rnnkit.Tensor(x.size()).shape == tuple(torch.Tensor(torch.Size([4, 2])).shape)


@pytest.mark.parametrize("data", [[1, 2], (2, 3), [[1.5, 2], [3, 4]], [True, False], [],
                                  range(3)], ids=repr)
def test_python_data_becomes_float32_values(data):
    assert_same(rnnkit.Tensor(data), torch.Tensor(data))


def test_no_argument_gives_an_empty_float32_vector():
    assert_same(rnnkit.Tensor(), torch.Tensor())


def test_a_tensor_argument_shares_values_and_dtype():
    src = rnnkit.tensor([1, 2])
    ours = rnnkit.Tensor(src)
    assert_same(ours, torch.Tensor(torch.tensor([1, 2])))
    assert ours.data is src.data


def test_a_float32_ndarray_is_shared_as_in_torch():
    a = np.arange(3, dtype=np.float32)
    ours, theirs = rnnkit.Tensor(a), torch.Tensor(a)
    a[0] = 9
    assert_same(ours, theirs)


def test_an_ndarray_keeps_its_dtype_unlike_torch():
    # Documented difference: every op builds its result with Tensor(ndarray), so an
    # int64 array stays int64 and a float64 one float64 (torch converts to float32).
    a = np.array([5, 6], dtype=np.int64)
    assert rnnkit.Tensor(a).data is a
    assert rnnkit.Tensor(np.zeros(2)).dtype == np.float64


def test_the_constructor_records_graph_fields_for_ops():
    a = np.ones(2, np.float32)
    t = rnnkit.Tensor(a, requires_grad=True, _node=None, _index=0)
    assert t.data is a and t.requires_grad


@pytest.mark.parametrize("args, error", [
    ((2.5,), TypeError), ((True,), TypeError), ((2, 3.0), TypeError), ((-1,), ValueError),
    (([1, 2], 3), TypeError), (("ab",), TypeError), (([[1, 2], [3]],), ValueError)],
    ids=repr)
def test_bad_arguments_are_refused_as_in_torch(args, error):
    with pytest.raises(Exception):
        torch.Tensor(*args)
    with pytest.raises(error, match="Tensor"):
        rnnkit.Tensor(*args)


def test_device_cpu_is_accepted_and_others_refused():
    assert rnnkit.Tensor(2, device="cpu").shape == (2,)
    with pytest.raises(RuntimeError, match="device='cuda'.*CPU only"):
        rnnkit.Tensor(2, device="cuda")


# -- dtypes ---------------------------------------------------------------------------------
DTYPE_NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
               "bool", "long", "int", "short", "float", "double", "half"]


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_names_mean_what_they_mean_in_torch(name):
    assert getattr(rnnkit, name) == to_numpy(torch.zeros(1, dtype=getattr(torch, name))).dtype


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_names_work_in_dtype_arguments_and_to(name):
    dt = getattr(rnnkit, name)
    assert rnnkit.zeros(2, dtype=dt).dtype == dt
    assert rnnkit.tensor([1.0, 0.0]).to(dt).dtype == dt


@pytest.mark.parametrize("pytype", [float, int, bool])
def test_python_types_as_dtype_follow_torch(pytype):
    assert_same(rnnkit.zeros(2, dtype=pytype), torch.zeros(2, dtype=pytype))


# -- metadata --------------------------------------------------------------------------------
def test_size_and_dim_follow_torch():
    ours, theirs = rnnkit.tensor(A), torch.tensor(A)
    assert ours.size() == theirs.size() and repr(ours.size()) == "rnnkit.Size([2, 3])"
    assert ours.size(-1) == theirs.size(-1) and ours.size(dim=0) == theirs.size(dim=0)
    assert ours.dim() == theirs.dim() and ours.numel() == theirs.numel()
    assert ours.size().numel() == theirs.size().numel()


def test_size_of_a_missing_dimension_is_an_index_error():
    with pytest.raises(IndexError):
        torch.tensor(A).size(2)
    with pytest.raises(IndexError, match="dimension 2 is out of range"):
        rnnkit.tensor(A).size(2)


def test_device_is_the_cpu():
    x = rnnkit.zeros(2)
    assert str(x.device) == str(torch.zeros(2).device) == "cpu"
    assert x.device == rnnkit.device("cpu") and x.device == "cpu" and not x.is_cuda


# -- view, contiguous, clone -------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 2), (-1,), ((6, 1),)], ids=str)
def test_view_reshapes_and_carries_the_gradient(shape):
    assert_pair(lambda t, x: x.view(*shape), A)


def test_view_shares_memory():
    x = rnnkit.zeros(2, 3)
    x.view(-1)[0] = 5.0
    assert x[0, 0].item() == 5.0


def test_view_of_a_transposed_tensor_is_refused_as_in_torch():
    with pytest.raises(RuntimeError):
        torch.tensor(A).t().view(-1)
    with pytest.raises(RuntimeError, match="contiguous"):
        rnnkit.tensor(A).T.view(-1)


def test_contiguous_then_view_works_after_a_transpose():
    assert_pair(lambda t, x: x.transpose(0, 1).contiguous().view(-1), A)


def test_contiguous_returns_self_when_already_contiguous():
    x, y = rnnkit.tensor(A), torch.tensor(A)
    assert (x.contiguous() is x) == (y.contiguous() is y) is True
    assert x.T.is_contiguous() == y.t().is_contiguous() is False


def test_clone_is_a_differentiable_copy():
    assert_pair(lambda t, x: x.clone() * 2, A)
    x = rnnkit.tensor(A)
    assert x.clone().data is not x.data


def test_detach_shares_memory_and_leaves_the_graph():
    x = rnnkit.tensor(A, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data


# -- dtype and device conversion -------------------------------------------------------
TO_CASES = {
    "dtype": lambda t, x: x.to(t.float32),
    "same_dtype": lambda t, x: x.to(t.float64),
    "cpu": lambda t, x: x.to("cpu"),
    "device_and_dtype": lambda t, x: x.to("cpu", t.float32),
    "keywords": lambda t, x: x.to(device="cpu", dtype=t.float32),
    "long": lambda t, x: x.to(dtype=t.long),
    "other_tensor": lambda t, x: x.to(t.tensor([1], dtype=t.int32)),
    "copy": lambda t, x: x.to(t.float64, copy=True),
    "float": lambda t, x: x.float(),
    "double": lambda t, x: x.double(),
    "half": lambda t, x: x.half(),
    "long_method": lambda t, x: x.long(),
    "int": lambda t, x: x.int(),
    "bool": lambda t, x: x.bool(),
    "type_as": lambda t, x: x.type_as(t.tensor([1])),
    "cpu_method": lambda t, x: x.cpu(),
}


@pytest.mark.parametrize("case", TO_CASES)
def test_conversions_match_torch_in_values_dtypes_and_gradients(case):
    assert_pair(TO_CASES[case], A * 3)


@pytest.mark.parametrize("case", ["same_dtype", "cpu", "cpu_method", "copy", "float"])
def test_conversions_return_self_exactly_when_torch_does(case):
    x, y = rnnkit.tensor(A), torch.tensor(A)
    assert (TO_CASES[case](rnnkit, x) is x) == (TO_CASES[case](torch, y) is y)


def test_to_another_device_is_refused():
    with pytest.raises(RuntimeError, match="CPU only"):
        rnnkit.zeros(2).to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        rnnkit.zeros(2).to(rnnkit.device("cuda", 0))
    with pytest.raises(RuntimeError, match="CPU only"):
        rnnkit.zeros(2).cuda()


def test_to_refuses_two_dtypes():
    with pytest.raises(TypeError):
        torch.zeros(2).to(torch.float32, torch.float64)
    with pytest.raises(TypeError, match="dtype twice"):
        rnnkit.zeros(2).to(rnnkit.float32, rnnkit.float64)


def test_to_accepts_a_torch_device():
    assert rnnkit.zeros(2).to(torch.device("cpu")).dtype == np.float32


# -- Python values ---------------------------------------------------------------------------
def test_item_tolist_int_float_index_follow_torch():
    for data in ([[1.5, 2.0], [3.0, 4.0]], 2.5, [7]):
        assert rnnkit.tensor(data).tolist() == torch.tensor(data).tolist()
    assert rnnkit.tensor([2.5]).item() == torch.tensor([2.5]).item()
    assert float(rnnkit.tensor(2.5)) == 2.5 and int(rnnkit.tensor([3.7])) == 3
    assert [10, 20, 30][rnnkit.tensor(1)] == 20


def test_item_of_several_elements_is_refused():
    with pytest.raises(RuntimeError):
        torch.tensor(A).item()
    with pytest.raises(ValueError, match="one-element"):
        rnnkit.tensor(A).item()


def test_a_float_tensor_is_not_an_index():
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][rnnkit.tensor(1.0)]


# -- arithmetic methods ----------------------------------------------------------------------
IDIV = np.array([-7, 7, 5, -6])


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("divisor", [2, -2.0, np.array([2, -3, 4, 5])], ids=repr)
def test_div_of_integers_follows_torch(mode, divisor):
    assert_pair(lambda t, x: x.div(divisor if np.isscalar(divisor) else t.tensor(divisor),
                                   rounding_mode=mode), IDIV)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_of_floats_follows_torch_with_its_gradients(mode):
    x = np.array([-7.5, 7.5, 5.25, -0.5, 3.0])
    y = np.array([2.0, -2.0, 0.5, 4.0, -1.5])
    assert_pair(lambda t, a, b: a.div(b, rounding_mode=mode), x, y)


def test_div_by_zero_follows_torch():
    assert_pair(lambda t, x: x.div(0), IDIV)
    assert_pair(lambda t, x: x.div(0.0, rounding_mode="floor"), np.array([-7.0, 7.0, 0.0]))
    for lib in (torch, rnnkit):
        with pytest.raises((RuntimeError, ZeroDivisionError)):
            lib.tensor(IDIV).div(0, rounding_mode="floor")


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(RuntimeError):
        torch.tensor(A).div(2, rounding_mode="round")
    with pytest.raises(ValueError, match="rounding_mode"):
        rnnkit.tensor(A).div(2, rounding_mode="round")


def test_floor_division_operator_follows_torch():
    assert_pair(lambda t, x: x // 2, IDIV)
    x = np.array([-7.0, 7.0, 5.0])   # (torch's // has no derivative: values only)
    assert_same(rnnkit.tensor(x) // 2.5, torch.tensor(x) // 2.5)
    assert_same(10 // rnnkit.tensor(IDIV), 10 // torch.tensor(IDIV))


@pytest.mark.parametrize("scalar", [2.5, 3])
def test_an_integer_tensor_with_a_python_scalar_gets_torchs_dtype(scalar):
    for op in (lambda t, x: x * scalar, lambda t, x: x + scalar, lambda t, x: x / scalar,
               lambda t, x: scalar - x):
        assert_pair(op, IDIV)
    assert_pair(lambda t, x: x * scalar, np.array([1, 2], dtype=np.int32))


@pytest.mark.parametrize("left, right", [
    (np.float32, np.int64), (np.int32, np.float64), (np.bool_, np.float32),
    (np.float32, np.float64), (np.int32, np.int64), (np.bool_, np.int64)],
    ids=lambda d: np.dtype(d).name)
def test_tensors_of_mixed_dtypes_promote_as_in_torch(left, right):
    a, b = np.array([1, 0, 3]).astype(left), np.array([2, 5, 1]).astype(right)
    for op in (lambda x, y: x + y, lambda x, y: y * x, lambda x, y: x / y,
               lambda x, y: y / x):
        assert_same(op(rnnkit.from_numpy(a), rnnkit.from_numpy(b)),
                    op(torch.from_numpy(a), torch.from_numpy(b)))


def test_invert_negates_masks_and_integers_as_in_torch():
    for data in ([True, False], [0, 5, -3]):
        assert_same(~rnnkit.tensor(data), ~torch.tensor(data))
    with pytest.raises(TypeError, match="bool or integer"):
        ~rnnkit.tensor([1.5])


# -- reductions and selections as methods ---------------------------------------------------
M = np.array([[1.0, 5.0, 3.0, 5.0], [4.0, -2.0, 4.0, 0.5], [0.0, 1.0, 2.0, 3.0]])
METHOD_CASES = {
    "max": lambda t, x: x.max(),
    "max_dim": lambda t, x: x.max(1),
    "max_dim_keepdim": lambda t, x: x.max(dim=0, keepdim=True),
    "min": lambda t, x: x.min(),
    "min_dim": lambda t, x: x.min(-1),
    "argmax": lambda t, x: x.argmax(),
    "argmax_dim": lambda t, x: x.argmax(1),
    "argmin_dim_keepdim": lambda t, x: x.argmin(0, keepdim=True),
    "topk": lambda t, x: x.topk(2),
    "topk_positional": lambda t, x: x.topk(1, 1, False, True),
    "sum_dtype": lambda t, x: x.sum(1, dtype=t.float32),
    "mean_keepdim": lambda t, x: x.mean(0, keepdim=True),
    "softmax": lambda t, x: x.softmax(0),
    "log_softmax": lambda t, x: x.log_softmax(-1),
    "clamp": lambda t, x: x.clamp(0.5, 4.0),
    "matmul": lambda t, x: x.matmul(x.transpose(0, 1)),
    "exp_log": lambda t, x: (x.abs() + 1).log().exp(),
}


@pytest.mark.parametrize("case", METHOD_CASES)
def test_methods_match_torch_in_values_indices_and_gradients(case):
    assert_pair(METHOD_CASES[case], M)


def test_max_over_a_dimension_is_a_named_tuple_of_values_and_indices():
    result = rnnkit.tensor(M).max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert_same(indices, torch.tensor(M).max(1).indices)


def test_max_without_dim_stays_a_scalar_tensor():
    assert rnnkit.tensor(M).max().shape == ()


# -- new_* ---------------------------------------------------------------------------------------
NEW_CASES = {
    "new_zeros": lambda t, x: x.new_zeros(2, 3),
    "new_zeros_tuple": lambda t, x: x.new_zeros((2,)),
    "new_zeros_dtype": lambda t, x: x.new_zeros(2, dtype=t.long),
    "new_ones": lambda t, x: x.new_ones(3),
    "new_full": lambda t, x: x.new_full((2,), 3.7),
    "new_empty_shape": lambda t, x: x.new_empty(2, 2).zero_() if t is torch else
    x.new_empty(2, 2),
    "new_tensor": lambda t, x: x.new_tensor([1, 2]),
}


@pytest.mark.parametrize("case", NEW_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_new_functions_take_the_tensors_dtype(case, dtype):
    fn = NEW_CASES[case]
    assert_same(fn(rnnkit, rnnkit.tensor(np.array([1], dtype))),
                fn(torch, torch.tensor(np.array([1], dtype))))


# -- nn.functional.one_hot -------------------------------------------------------------------
@pytest.mark.parametrize("indices, num_classes", [
    ([0, 2, 1], -1), ([0, 2, 1], 4), ([[0, 1], [2, 0]], -1), (2, 3), ([], 3)], ids=str)
def test_one_hot_matches_torch(indices, num_classes):
    idx = np.array(indices, dtype=np.int64)
    assert_same(nn.functional.one_hot(rnnkit.tensor(idx), num_classes),
                torch.nn.functional.one_hot(torch.tensor(idx), num_classes))


@pytest.mark.parametrize("indices, num_classes, error, match", [
    (np.array([0, 2, 1]), 2, ValueError, "smaller than num_classes"),
    (np.array([0, -1, 1]), 3, ValueError, "non-negative"),
    (np.array([0.0, 1.0]), 3, TypeError, "int64"),
    (np.array([0, 1], dtype=np.int32), 3, TypeError, "int64"),
    (np.array([], dtype=np.int64), -1, ValueError, "empty"),
    (np.array([0, 1]), 3.0, TypeError, "num_classes"),
], ids=["too_large", "negative", "float", "int32", "empty_infer", "float_classes"])
def test_one_hot_refuses_what_torch_refuses(indices, num_classes, error, match):
    with pytest.raises((RuntimeError, TypeError)):
        torch.nn.functional.one_hot(torch.tensor(indices), num_classes)
    with pytest.raises(error, match=match):
        nn.functional.one_hot(rnnkit.tensor(indices), num_classes)


# -- the tutorial (seed 004) with only the imports changed --------------------------------
def _tutorial(torch_module, nn_module):
    """Seed 004's PyTorch cells, verbatim but for the modules they run on."""
    torch, nn = torch_module, nn_module
    input_size, hidden_size = 5, 8
    inputs = torch.Tensor(1, 10, 5)
    shapes = []
    for cell in (nn.RNN(input_size, hidden_size, batch_first=True),
                 nn.RNN(input_size=5, hidden_size=8, num_layers=2, batch_first=True),
                 nn.RNN(input_size=5, hidden_size=8, num_layers=2, batch_first=True,
                        bidirectional=True)):
        outputs, _status = cell(inputs)
        shapes.append((tuple(outputs.shape), tuple(_status.shape)))
    cell = nn.LSTM(input_size=5, hidden_size=8, num_layers=2, batch_first=True,
                   bidirectional=True)
    outputs, _status = cell(inputs)
    shapes.append(tuple(outputs.shape))
    return shapes


def test_the_rnn_tutorial_runs_with_rnnkit_imported_as_torch():
    assert _tutorial(rnnkit, nn) == _tutorial(torch, torch.nn)
