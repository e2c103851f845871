"""rnnkit's top-level ops (cat, stack, where, clamp, topk, max, softmax...) run on the same
inputs as real PyTorch 2.13: equal values, dtypes, shapes, float64 gradients and errors."""
import numpy as np
import pytest

import rnnkit

from torch_pair import assert_pair, assert_same

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

rng = np.random.default_rng(3)
X = rng.normal(size=(3, 4))
Y = rng.normal(size=(3, 4))
V = rng.normal(size=(4,))
TIES = np.array([[1.0, 5.0, 3.0, 5.0], [4.0, -2.0, 4.0, 0.5], [2.0, 2.0, 2.0, 2.0]])
INTS = np.array([[3, 1, 3, 2], [0, 7, 7, -1]])
COND = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])

# float32 results of sums and transcendental functions: NumPy and PyTorch's vectorised
# kernels round differently, within a few ulps
F32 = 2e-6

CASES = {
    # joining
    "cat": (lambda t, a, b: t.cat([a, b]), [X, Y]),
    "cat_dim1_tuple": (lambda t, a, b: t.cat((a, b), 1), [X, Y]),
    "cat_negative_dim": (lambda t, a, b: t.cat([a, b[:2]], dim=-2), [X, Y]),
    "concat": (lambda t, a, b: t.concat([a, b], dim=1), [X, Y]),
    "stack": (lambda t, a, b: t.stack([a, b]), [X, Y]),
    "stack_last": (lambda t, a, b: t.stack([a, b], dim=-1), [X, Y]),
    # indices
    "argmax": (lambda t, x: t.argmax(x), [TIES]),
    "argmax_dim": (lambda t, x: t.argmax(x, dim=1), [TIES]),
    "argmax_keepdim": (lambda t, x: t.argmax(x, 1, keepdim=True), [TIES]),
    "argmax_all_keepdim": (lambda t, x: t.argmax(x, keepdim=True), [TIES]),
    "argmax_ints": (lambda t, x: t.argmax(x, 0), [INTS]),
    "argmin": (lambda t, x: t.argmin(x), [TIES]),
    "argmin_dim": (lambda t, x: t.argmin(x, -1), [TIES]),
    "argmax_nan": (lambda t, x: t.argmax(x), [np.array([1.0, np.nan, 3.0, np.nan])]),
    # selection
    "where": (lambda t, a, b: t.where(t.tensor(COND), a, b), [X, Y]),
    "where_broadcast": (lambda t, a, b: t.where(t.tensor(COND), a, b), [X, V]),
    "where_scalar": (lambda t, a: t.where(t.tensor(COND), a, 0.0), [X]),
    "where_int_tensor_float_scalar": (lambda t, a: t.where(t.tensor(COND), a, 0.5),
                                      [np.arange(12).reshape(3, 4)]),
    "where_two_floats": (lambda t: t.where(t.tensor(COND), 1.0, 0.0), []),
    "where_two_ints": (lambda t: t.where(t.tensor(COND), 1, 0), []),
    "where_mixed_dtypes": (lambda t, a, b: t.where(t.tensor(COND), a, b.float()), [X, Y]),
    "where_condition_only": (lambda t: t.where(t.tensor(COND)), []),
    "clamp": (lambda t, x: t.clamp(x, -0.5, 0.5), [X]),
    "clamp_min_only": (lambda t, x: t.clamp(x, min=0.0), [X]),
    "clamp_max_only": (lambda t, x: t.clamp(x, max=0.1), [X]),
    "clamp_at_the_bounds": (lambda t, x: t.clamp(x, 2.0, 4.0), [TIES]),
    "clamp_min_above_max": (lambda t, x: t.clamp(x, 4.0, 2.0), [TIES]),
    "clamp_tensor_bounds": (lambda t, x, lo, hi: t.clamp(x, lo, hi),
                            [TIES[0], np.array([2.0, 6.0, 2.0, 2.0]),
                             np.array([4.0, 3.0, 3.0, 5.0])]),
    "clamp_broadcast_bound": (lambda t, x, lo: t.clamp(x, min=lo), [X, V]),
    "clamp_int_by_float": (lambda t, x: t.clamp(x, 2.5), [INTS]),
    "clamp_int": (lambda t, x: t.clamp(x, 0, 3), [INTS]),
    "maximum": (lambda t, a, b: t.maximum(a, b), [TIES[0], TIES[1]]),
    "minimum": (lambda t, a, b: t.minimum(a, b), [TIES[0], TIES[2]]),
    "max_two_tensors": (lambda t, a, b: t.max(a, b), [X, V]),
    "min_two_tensors": (lambda t, a, b: t.min(a, b), [TIES[1], TIES[2]]),
    # reductions
    "max_all_with_ties": (lambda t, x: t.max(x), [TIES]),
    "min_all_with_ties": (lambda t, x: t.min(x), [TIES]),
    "max_dim": (lambda t, x: t.max(x, 1), [X]),
    "max_dim_keepdim": (lambda t, x: t.max(x, dim=0, keepdim=True), [X]),
    "min_dim": (lambda t, x: t.min(x, 0), [X]),
    "max_0d": (lambda t, x: t.max(x, 0), [np.array(2.5)]),
    "max_ints": (lambda t, x: t.max(x, 1), [INTS]),
    "sum": (lambda t, x: t.sum(x), [X]),
    "sum_dims": (lambda t, x: t.sum(x, (0, 1), keepdim=True), [X]),
    "sum_ints_is_int64": (lambda t, x: t.sum(x.int(), 1), [INTS]),
    "sum_bools": (lambda t: t.sum(t.tensor(COND)), []),
    "sum_dtype": (lambda t, x: t.sum(x, dtype=t.float32), [X], F32),
    "mean": (lambda t, x: t.mean(x, -1), [X]),
    "mean_int_with_dtype": (lambda t, x: t.mean(x, dtype=t.float64), [INTS]),
    "topk": (lambda t, x: t.topk(x, 2), [X]),
    "topk_ties": (lambda t, x: t.topk(x, 3), [TIES[:2]]),   # (4 equal: order unspecified)
    "topk_smallest_dim0": (lambda t, x: t.topk(x, 2, dim=0, largest=False), [X]),
    "topk_all": (lambda t, x: t.topk(x, 4), [X]),
    "topk_zero": (lambda t, x: t.topk(x, 0), [X]),
    "topk_ints": (lambda t, x: t.topk(x, 2), [INTS]),
    "topk_nan_is_largest": (lambda t, x: t.topk(x, 2), [np.array([1.0, np.nan, 3.0])]),
    # element-wise and softmax
    "exp": (lambda t, x: t.exp(x), [X]),
    "log": (lambda t, x: t.log(x), [np.abs(X) + 0.1]),
    "tanh": (lambda t, x: t.tanh(x), [X]),
    "sigmoid": (lambda t, x: t.sigmoid(x), [X]),
    "abs": (lambda t, x: t.abs(x), [X]),
    "sqrt": (lambda t, x: t.sqrt(x), [np.abs(X) + 0.1]),
    "exp_of_ints": (lambda t, x: t.exp(x), [INTS], F32),
    "log_of_ints": (lambda t, x: t.log(x), [np.abs(INTS) + 1], F32),
    "tanh_of_ints": (lambda t, x: t.tanh(x), [INTS], F32),
    "sigmoid_of_ints": (lambda t, x: t.sigmoid(x), [INTS], F32),
    "softmax": (lambda t, x: t.softmax(x, 0), [X]),
    "softmax_dtype": (lambda t, x: t.softmax(x.float(), -1, dtype=t.float64), [X]),
    "log_softmax": (lambda t, x: t.log_softmax(x, dim=1), [X]),
    "matmul": (lambda t, a, b: t.matmul(a, b.transpose(0, 1)), [X, Y]),
    "matmul_vector": (lambda t, a, v: t.matmul(a, v), [X, V]),
    "div": (lambda t, a, b: t.div(a, b), [X, Y]),
    "div_floor": (lambda t, a, b: t.div(a, b, rounding_mode="floor"), [X * 4, Y]),
    "div_ints": (lambda t, a: t.div(a, 2), [INTS]),
    "true_division_of_ints": (lambda t, a, b: a / b, [INTS, np.abs(INTS) + 1]),
    # shape
    "clone": (lambda t, x: t.clone(x) * 3, [X]),
    "reshape": (lambda t, x: t.reshape(x, (2, -1)), [X]),
    "transpose": (lambda t, x: t.transpose(x, 0, 1), [X]),
    "permute": (lambda t, x: t.permute(x, (1, 0)), [X]),
    "flip": (lambda t, x: t.flip(x, (0,)), [X]),
    "squeeze_unsqueeze": (lambda t, x: t.squeeze(t.unsqueeze(x, 1), 1), [X]),
    "split": (lambda t, x: t.split(x, 3, dim=1), [X]),
}


@pytest.mark.parametrize("case", CASES)
def test_op_matches_torch_in_values_dtypes_and_gradients(case):
    fn, inputs, *rtol = CASES[case]
    assert_pair(fn, *inputs, exact=False, rtol=rtol[0] if rtol else 1e-12)


def test_max_over_a_dim_gives_values_and_indices_by_name_and_position():
    values, indices = rnnkit.max(rnnkit.tensor(X), 1)
    result = torch.max(torch.tensor(X), 1)
    assert_same(values, result.values)
    assert_same(indices, result.indices)
    assert type(rnnkit.max(rnnkit.tensor(X), 1)).__name__ == type(result).__name__ == "max"


def test_manual_seed_is_at_the_top_level():
    rnnkit.manual_seed(5)
    a = rnnkit.rand(3)
    rnnkit.manual_seed(5)
    np.testing.assert_array_equal(a.data, rnnkit.rand(3).data)


ERRORS = {
    "cat_empty": (lambda t: t.cat([]), ValueError),
    "cat_shapes_differ": (lambda t: t.cat([t.zeros(2, 3), t.zeros(1, 2)]), ValueError),
    "cat_bad_dim": (lambda t: t.cat([t.zeros(2, 3)], dim=2), IndexError),
    "stack_shapes_differ": (lambda t: t.stack([t.zeros(2), t.zeros(3)]), ValueError),
    "stack_empty": (lambda t: t.stack([]), ValueError),
    "argmax_empty": (lambda t: t.argmax(t.zeros(0)), ValueError),
    "argmax_bad_dim": (lambda t: t.argmax(t.zeros(2, 3), dim=2), IndexError),
    "argmax_over_an_empty_dim": (lambda t: t.argmax(t.zeros(0, 3), 0), ValueError),
    "max_empty": (lambda t: t.max(t.zeros(0)), ValueError),
    "where_int_condition": (lambda t: t.where(t.tensor([1, 0]), t.zeros(2), 0.0), TypeError),
    "clamp_no_bounds": (lambda t: t.clamp(t.zeros(2)), ValueError),
    "topk_k_too_large": (lambda t: t.topk(t.zeros(3), 4), ValueError),
    "topk_negative_k": (lambda t: t.topk(t.zeros(3), -1), ValueError),
    "mean_of_ints": (lambda t: t.mean(t.tensor([1, 2])), TypeError),
    "softmax_of_ints": (lambda t: t.softmax(t.tensor([1, 2]), 0), TypeError),
    "softmax_bad_dim": (lambda t: t.softmax(t.zeros(2), 1), IndexError),
    "matmul_shapes": (lambda t: t.matmul(t.zeros(2, 3), t.zeros(2, 3)), ValueError),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_input_is_refused_as_in_torch(case):
    call, error = ERRORS[case]
    with pytest.raises(Exception):
        call(torch)
    with pytest.raises(error):
        call(rnnkit)
