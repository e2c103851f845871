"""The Tensor and its autograd engine: dtypes, NumPy interop, indexing, broadcasting, graph life."""
import numpy as np
import pytest

import rnnkit
from rnnkit import functional as F


# -- dtype inference -------------------------------------------------------------------
def test_python_floats_default_to_float32():
    assert rnnkit.tensor([1.0, 2.0]).dtype == np.float32
    assert rnnkit.tensor(3.5).dtype == np.float32


def test_python_ints_become_int64():
    assert rnnkit.tensor([1, 2, 3]).dtype == np.int64


def test_numpy_float64_is_preserved():
    assert rnnkit.tensor(np.zeros(3)).dtype == np.float64


def test_float64_is_preserved_end_to_end_through_forward_and_backward():
    x = rnnkit.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    w = rnnkit.tensor(np.ones((4, 3)), requires_grad=True)
    y = F.sigmoid(F.linear(x, w)).sum() * 2.0
    y.backward()
    assert y.dtype == np.float64
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float64


def test_scalar_operands_keep_float32():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x + 1, 1 - x, x / 3.0, 3.0 / x, x ** 2, 2.0 ** x,
              x * np.float64(2.0)):
        assert y.dtype == np.float32
    (x * 2.5).sum().backward()
    assert x.grad.dtype == np.float32


def test_only_floating_tensors_may_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        rnnkit.tensor([1, 2], requires_grad=True)


def test_casting_a_grad_tensor_to_integers_leaves_the_graph():
    x = rnnkit.tensor([1.7, 2.2], requires_grad=True)
    idx = x.long()
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.data, [1, 2])


def test_cast_between_float_dtypes_carries_the_gradient_back_in_the_source_dtype():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# -- NumPy interop -----------------------------------------------------------------------
def test_array_protocol_gives_the_values_without_grad():
    t = rnnkit.tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])


def test_array_protocol_gives_the_values_with_grad():
    t = rnnkit.tensor([[1.0, 2.0]], requires_grad=True) * 2
    assert t.requires_grad
    np.testing.assert_array_equal(np.asarray(t), [[2.0, 4.0]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_transpose_property_reverses_dimensions_and_is_differentiable():
    x = rnnkit.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    (x.T * rnnkit.tensor(np.arange(24.0).reshape(2, 3, 4).T)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.arange(24.0).reshape(2, 3, 4))


# -- indexing ---------------------------------------------------------------------------
def test_basic_indexing_routes_gradient_to_the_selected_slice():
    x = rnnkit.tensor(np.zeros((3, 4)), requires_grad=True)
    x[1:, ::2].sum().backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] = 1
    np.testing.assert_array_equal(x.grad.data, expected)


def test_repeated_advanced_indices_accumulate_their_gradients():
    x = rnnkit.tensor(np.zeros(4), requires_grad=True)
    x[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0, 0.0])


def test_index_tensors_work_like_arrays():
    x = rnnkit.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = rnnkit.tensor([2, 2])
    y = x[rows, 1]
    np.testing.assert_array_equal(y.data, [5.0, 5.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0], [0, 0], [0, 2]])


def test_boolean_mask_indexing_is_differentiable():
    x = rnnkit.tensor(np.arange(4.0), requires_grad=True)
    (x[x.data > 1] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 3, 3])


# -- broadcasting ---------------------------------------------------------------------------
@pytest.mark.parametrize("op", [F.add, F.sub, F.mul, F.div])
def test_broadcast_gradients_are_reduced_to_each_operands_shape(op):
    a = rnnkit.tensor(np.full((2, 1, 3), 2.0), requires_grad=True)
    b = rnnkit.tensor(np.full((4, 1), 4.0), requires_grad=True)
    op(a, b).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1)


def test_broadcast_gradient_sums_over_the_copies():
    a = rnnkit.tensor(np.ones((2, 3)), requires_grad=True)
    b = rnnkit.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(a.grad.data, [[1, 2, 3], [1, 2, 3]])


# -- graph life -------------------------------------------------------------------------------
def test_no_grad_stops_recording():
    x = rnnkit.tensor([1.0], requires_grad=True)
    with rnnkit.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_no_grad_works_as_a_decorator():
    x = rnnkit.tensor([1.0], requires_grad=True)
    assert not rnnkit.no_grad()(lambda: x * 2)().requires_grad
    assert rnnkit.is_grad_enabled()


def test_backward_twice_raises_a_clear_error():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_backward_needs_a_gradient_for_non_scalar_outputs():
    x = rnnkit.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0], dtype=np.float32))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])


def test_backward_without_graph_explains_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rnnkit.tensor([1.0]).sum().backward()


def test_a_tensor_used_twice_gets_both_gradients():
    x = rnnkit.tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0])


def test_detach_cuts_the_graph():
    x = rnnkit.tensor([3.0], requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0])


def test_deep_graphs_do_not_hit_the_recursion_limit():
    x = rnnkit.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0])
