"""Every op in rnnkit.functional: its gradient equals central finite differences (float64),
and the ops that exponentiate stay finite, with the exact limiting gradient, at +-1000."""
import inspect

import numpy as np
import pytest

from rnnkit import functional as F
import rnnkit

from gradcheck import gradcheck

rng = np.random.default_rng(1234)


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def probs(*shape):
    return rng.uniform(0.05, 0.95, size=shape)


def away_from_zero(*shape):
    """Normal values pushed at least 0.1 away from 0, where relu and |x| have their kinks."""
    x = normal(*shape)
    return x + 0.1 * np.sign(x)


# Inputs sit away from kinks (clamp's bounds, hard_sigmoid's +-3) on purpose.
KINKED = np.array([[-3.7, -1.3, -0.3, 0.2], [0.9, 1.7, 2.6, 4.1]])
IDX = np.array([[0, 3, 3], [1, 0, 4]])
MASK = np.array([True, False, True, True])
T4, LABELS = normal(4, 3), np.array([2, 0, 1, 2])
KDIM, KLABELS = normal(2, 3, 2, 2), np.array([[[0, 2], [1, 1]], [[2, 2], [0, -100]]])
CW = np.array([0.2, 1.0, 2.5])
W3, W21, PW3 = positive(3), positive(2, 1), positive(3)
SOFT43, SOFT23 = probs(4, 3), probs(2, 3)

# op name -> [(case id, fn, inputs)]: the name is the public function being checked.
CASES = {
    "add": [("broadcast", F.add, [normal(2, 3), normal(3)])],
    "sub": [("broadcast", F.sub, [normal(2, 1), normal(1, 3)])],
    "mul": [("broadcast", F.mul, [normal(2, 3), normal(2, 1)])],
    "div": [("broadcast", F.div, [normal(2, 3), positive(3)]),
            ("floor_has_zero_gradient", lambda a, b: F.div(a, b, rounding_mode="floor"),
             [normal(2, 3) * 3, positive(3)])],
    "neg": [("", F.neg, [normal(2, 3)])],
    "pow": [("tensor_exponent", F.pow, [positive(2, 3), normal(2, 3)]),
            ("scalar_exponent", lambda a: F.pow(a, 3), [normal(2, 3)]),
            ("scalar_base", lambda b: F.pow(2.0, b), [normal(4)])],
    "exp": [("", F.exp, [normal(2, 3)])],
    "log": [("", F.log, [positive(2, 3)])],
    "sqrt": [("", F.sqrt, [positive(2, 3)])],
    "abs": [("", F.abs, [away_from_zero(2, 3)])],
    "clamp": [("both", lambda x: F.clamp(x, -0.5, 1.0), [KINKED]),
              ("min_only", lambda x: F.clamp(x, min=0.0), [KINKED]),
              ("tensor_bounds_broadcast", F.clamp,
               [KINKED, np.array([[-1.0], [1.0]]), np.array([1.5, 0.0, 2.0, 3.0])])],
    "maximum": [("broadcast", F.maximum, [normal(2, 3), normal(3)])],
    "minimum": [("broadcast", F.minimum, [normal(2, 1), normal(2, 3)])],
    "where": [("broadcast", lambda a, b: F.where(MASK[:3], a, b), [normal(2, 3), normal(3)]),
              ("scalar_other", lambda a: F.where(MASK[:3], a, 0.5), [normal(2, 3)])],
    "matmul": [("vector_vector", F.matmul, [normal(4), normal(4)]),
               ("matrix_vector", F.matmul, [normal(3, 4), normal(4)]),
               ("vector_matrix", F.matmul, [normal(4), normal(4, 2)]),
               ("matrix_matrix", F.matmul, [normal(3, 4), normal(4, 2)]),
               ("batched", F.matmul, [normal(2, 3, 4), normal(2, 4, 5)]),
               ("batched_times_matrix", F.matmul, [normal(2, 3, 4), normal(4, 5)]),
               ("broadcast_batches", F.matmul, [normal(2, 1, 3, 4), normal(3, 4, 2)]),
               ("batched_times_vector", F.matmul, [normal(2, 3, 4), normal(4)])],
    "linear": [("with_bias", F.linear, [normal(2, 5, 3), normal(4, 3), normal(4)]),
               ("without_bias", F.linear, [normal(3), normal(4, 3)])],
    "tanh": [("", F.tanh, [normal(2, 3)])],
    "sigmoid": [("", F.sigmoid, [normal(2, 3)])],
    "relu": [("", F.relu, [away_from_zero(2, 3)])],
    "hard_sigmoid": [("both_sides_of_the_ramp", F.hard_sigmoid, [KINKED])],
    "softmax": [("last_dim", F.softmax, [normal(2, 3, 4)]),
                ("dim_1", lambda x: F.softmax(x, dim=1), [normal(2, 3, 4)])],
    "log_softmax": [("last_dim", F.log_softmax, [normal(2, 3, 4)]),
                    ("dim_0", lambda x: F.log_softmax(x, dim=0), [normal(2, 3, 4)])],
    # (padding_idx deliberately departs from the true gradient: see test_layers.py)
    "embedding": [("repeated_indices", lambda w: F.embedding(IDX, w), [normal(5, 3)])],
    "dropout": [("fixed_generator", lambda x: F.dropout(x, 0.4, generator=7), [normal(3, 5)])],
    "concat": [("dim_1", lambda a, b: F.concat([a, b], dim=1), [normal(2, 3), normal(2, 1)])],
    "cat": [("dim_0", lambda a, b: F.cat([a, b]), [normal(2, 3), normal(1, 3)])],
    "stack": [("dim_1", lambda a, b: F.stack([a, b], dim=1), [normal(2, 3), normal(2, 3)])],
    "split": [("sizes", lambda x: F.split(x, [1, 3], dim=1), [normal(2, 4)]),
              ("chunk_size", lambda x: F.split(x, 2), [normal(5, 2)]),
              ("numpy_int_chunk_size", lambda x: F.split(x, np.int64(3), dim=1), [normal(2, 4)])],
    "reshape": [("", lambda x: F.reshape(x, (3, -1)), [normal(2, 3, 2)])],
    "view": [("", lambda x: F.view(x, (3, -1)), [normal(2, 3, 2)])],
    "clone": [("", F.clone, [normal(2, 3)])],
    "transpose": [("", lambda x: F.transpose(x, 0, 2), [normal(2, 3, 4)])],
    "permute": [("", lambda x: F.permute(x, (2, 0, 1)), [normal(2, 3, 4)])],
    "flip": [("two_dims", lambda x: F.flip(x, (0, 2)), [normal(2, 3, 4)])],
    "getitem": [("slices", lambda x: F.getitem(x, (slice(1, None), slice(None, None, 2))),
                 [normal(3, 4)]),
                ("repeated_advanced", lambda x: F.getitem(x, np.array([2, 0, 2])),
                 [normal(3, 2)]),
                ("boolean_mask", lambda x: F.getitem(x, MASK), [normal(4, 2)])],
    "squeeze": [("all", F.squeeze, [normal(2, 1, 3, 1)]),
                ("one_dim", lambda x: F.squeeze(x, 1), [normal(2, 1, 3)])],
    "unsqueeze": [("", lambda x: F.unsqueeze(x, -1), [normal(2, 3)])],
    "sum": [("all", F.sum, [normal(2, 3)]),
            ("dim_keepdim", lambda x: F.sum(x, 1, keepdim=True), [normal(2, 3, 4)]),
            ("two_dims", lambda x: F.sum(x, (0, 2)), [normal(2, 3, 4)])],
    "mean": [("all", F.mean, [normal(2, 3)]),
             ("dim", lambda x: F.mean(x, -1), [normal(2, 3, 4)]),
             ("two_dims_keepdim", lambda x: F.mean(x, (0, 1), keepdim=True), [normal(2, 3, 4)])],
    "max": [("all", F.max, [normal(3, 4)]),
            ("dim", lambda x: F.max(x, 1).values, [normal(3, 4)]),
            ("dim_keepdim", lambda x: F.max(x, 0, keepdim=True).values, [normal(3, 4)]),
            ("elementwise", lambda a, b: F.max(a, b), [normal(2, 3), normal(3)])],
    "min": [("all", F.min, [normal(3, 4)]),
            ("dim", lambda x: F.min(x, -1).values, [normal(3, 4)])],
    "topk": [("largest", lambda x: F.topk(x, 2).values, [normal(3, 4)]),
             ("smallest_dim_0", lambda x: F.topk(x, 2, dim=0, largest=False).values,
              [normal(3, 4)])],
    # -- losses --------------------------------------------------------------------------
    "mse_loss": [(red, lambda x, t, r=red: F.mse_loss(x, t, reduction=r),
                  [normal(2, 3), normal(2, 3)]) for red in ("mean", "sum", "none")],
    "l1_loss": [(red, lambda x, t, r=red: F.l1_loss(x, t, reduction=r),
                 [normal(2, 3), away_from_zero(2, 3) * 3]) for red in ("mean", "sum", "none")],
    "binary_cross_entropy": [
        (red, lambda p, t, r=red: F.binary_cross_entropy(p, t, reduction=r),
         [probs(2, 3), probs(2, 3)]) for red in ("mean", "sum", "none")] + [
        ("weight", lambda p, t: F.binary_cross_entropy(p, t, weight=W3),
         [probs(2, 3), rng.integers(0, 2, (2, 3)).astype(float)])],
    "binary_cross_entropy_with_logits": [
        (red, lambda x, t, r=red: F.binary_cross_entropy_with_logits(x, t, reduction=r),
         [normal(2, 3), probs(2, 3)]) for red in ("mean", "sum", "none")] + [
        ("weight_and_pos_weight", lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, weight=W21, pos_weight=PW3), [normal(2, 3), probs(2, 3)])],
    "nll_loss": [
        (red, lambda x, r=red: F.nll_loss(x, LABELS, reduction=r), [T4])
        for red in ("mean", "sum", "none")] + [
        ("weight_ignore_index", lambda x: F.nll_loss(x, np.array([2, 1, 1, 0]), weight=CW,
                                                    ignore_index=1), [T4]),
        ("k_dim", lambda x: F.nll_loss(x, KLABELS, weight=CW), [KDIM]),
        ("unbatched", lambda x: F.nll_loss(x, np.array(1)), [normal(3)])],
    "cross_entropy": [
        (red, lambda x, r=red: F.cross_entropy(x, LABELS, reduction=r), [T4])
        for red in ("mean", "sum", "none")] + [
        ("weight", lambda x: F.cross_entropy(x, LABELS, weight=CW), [T4]),
        ("ignore_index", lambda x: F.cross_entropy(x, np.array([0, 3, 1, 3]), ignore_index=3),
         [T4]),
        ("label_smoothing_weight_ignore", lambda x: F.cross_entropy(
            x, np.array([0, -1, 2, 1]), weight=CW, ignore_index=-1, label_smoothing=0.2), [T4]),
        ("k_dim_smoothing_none", lambda x: F.cross_entropy(
            x, KLABELS, weight=CW, label_smoothing=0.1, reduction="none"), [KDIM]),
        ("unbatched", lambda x: F.cross_entropy(x, np.array(2)), [normal(3)]),
        ("probabilities", lambda x, t: F.cross_entropy(x, t), [T4, probs(4, 3)]),
        ("probabilities_weight_smoothing_k_dim", lambda x, t: F.cross_entropy(
            x, t, weight=CW, label_smoothing=0.3, reduction="sum"), [KDIM, probs(2, 3, 2, 2)])],
    "categorical_crossentropy": [
        ("probabilities", lambda p: F.categorical_crossentropy(np.eye(3)[LABELS], p),
         [positive(4, 3)]),
        ("logits_smoothing", lambda x: F.categorical_crossentropy(
            SOFT43, x, from_logits=True, label_smoothing=0.2), [T4]),
        ("axis_0", lambda p: F.categorical_crossentropy(np.eye(3)[[0, 2]].T, p, axis=0),
         [positive(3, 2)])],
    "sparse_categorical_crossentropy": [
        ("probabilities", lambda p: F.sparse_categorical_crossentropy(LABELS, p),
         [positive(4, 3)]),
        ("logits", lambda x: F.sparse_categorical_crossentropy(LABELS, x, from_logits=True),
         [T4]),
        ("ignore_class_probabilities", lambda p: F.sparse_categorical_crossentropy(
            np.array([[2], [-1], [0], [-1]]), p, ignore_class=-1), [positive(4, 3)]),
        ("ignore_class_logits_sequence", lambda x: F.sparse_categorical_crossentropy(
            np.array([[1, 0, -1], [2, -1, -1]]), x, from_logits=True, ignore_class=-1),
         [normal(2, 3, 3)])],
    "binary_crossentropy": [
        ("probabilities", lambda p: F.binary_crossentropy(np.array([[0, 1, 1], [1, 0, 0]]), p),
         [probs(2, 3)]),
        ("logits_smoothing", lambda x: F.binary_crossentropy(
            np.array([[0, 1, 1], [1, 0, 0]]), x, from_logits=True, label_smoothing=0.1),
         [normal(2, 3)]),
        ("axis_0_soft_labels", lambda p: F.binary_crossentropy(SOFT23, p, axis=0),
         [probs(2, 3)])],
}

# cast is the identity in float64; test_tensor checks it between dtypes. The index ops
# give integers (tests/test_torch_tensor_api.py checks them against PyTorch).
NOT_GRADCHECKED = {"cast", "argmax", "argmin", "one_hot"}


ALL_CASES = [pytest.param(fn, inputs, id=f"{name}-{case}" if case else name)
             for name, cases in CASES.items() for case, fn, inputs in cases]


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_gradient_matches_finite_differences(fn, inputs):
    gradcheck(fn, inputs)


@pytest.mark.parametrize("fn, inputs", ALL_CASES)
def test_float32_inputs_give_float32_outputs_and_gradients(fn, inputs):
    args = [rnnkit.tensor(a.astype(np.float32), requires_grad=True) for a in inputs]
    result = fn(*args)
    outs = result if isinstance(result, tuple) else (result,)
    F.sum(F.stack([F.sum(o) for o in outs])).backward()
    assert all(o.dtype == np.float32 for o in outs)
    assert all(a.grad.dtype == np.float32 for a in args)


def test_every_public_op_has_a_gradient_check():
    public = {n for n, f in vars(F).items() if inspect.isfunction(f) and not n.startswith("_")}
    assert public - NOT_GRADCHECKED - set(CASES) == set()


# -- stability at +-1000 --------------------------------------------------------------
BIG = np.array([1000.0, -1000.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_to_exact_limits(dtype):
    x = rnnkit.tensor(BIG.astype(dtype), requires_grad=True)
    y = F.sigmoid(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.25])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_huge_logits_is_one_hot_with_zero_gradient(dtype):
    x = rnnkit.tensor(BIG.astype(dtype), requires_grad=True)
    y = F.softmax(x)
    (y * rnnkit.tensor(np.array([1.0, 2.0, 3.0], dtype))).sum().backward()
    np.testing.assert_array_equal(y.data, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_of_huge_logits_is_finite_with_exact_gradient(dtype):
    x = rnnkit.tensor(BIG.astype(dtype), requires_grad=True)
    y = F.log_softmax(x)
    (y * rnnkit.tensor(np.array([1.0, 2.0, 3.0], dtype))).sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, -2000.0, -1000.0])
    # d/dx sum(w * log_softmax(x)) = w - softmax(x) sum(w), softmax = (1, 0, 0)
    np.testing.assert_array_equal(x.grad.data, [-5.0, 2.0, 3.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_at_huge_logits_is_finite_with_exact_gradient(dtype):
    x = rnnkit.tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype), requires_grad=True)
    target = np.array([0.0, 1.0, 1.0, 0.0], dtype)
    loss = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    F.sum(loss).backward()
    np.testing.assert_array_equal(loss.data, [1000.0, 1000.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, -1.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_huge_logits_is_finite_with_exact_gradient(dtype):
    x = rnnkit.tensor(np.array([[1000.0, -1000.0]], dtype), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1]))
    loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_array_equal(x.grad.data, [[1.0, -1.0]])


def test_keras_losses_at_huge_logits_are_finite_with_exact_gradient():
    x = rnnkit.tensor(np.array([[1000.0, -1000.0]]), requires_grad=True)
    F.sum(F.sparse_categorical_crossentropy([1], x, from_logits=True)
          + F.categorical_crossentropy([[0.0, 1.0]], x, from_logits=True)
          + F.binary_crossentropy([[0.0, 1.0]], x, from_logits=True)).backward()
    np.testing.assert_array_equal(x.grad.data, [[2.5, -2.5]])


def test_binary_cross_entropy_at_certain_probabilities_is_clamped_not_infinite():
    p = rnnkit.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
    F.sum(loss).backward()
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    assert np.isfinite(p.grad.data).all()


def test_keras_probabilities_of_zero_and_one_are_clipped_not_infinite():
    p = rnnkit.tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    loss = (F.binary_crossentropy([[1.0, 0.0]], p) + F.categorical_crossentropy([[1.0, 0.0]], p)
            + F.sparse_categorical_crossentropy([0], p))
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [-np.log(1e-7) * 3], rtol=1e-6)
    np.testing.assert_array_equal(p.grad.data, [[0.0, 0.0]])  # the clip stops the gradient


@pytest.mark.parametrize("rows", [(40, 500), (3, 7)], ids=["bincount_path", "add_at_path"])
def test_embedding_style_gather_accumulates_repeated_rows_exactly(rows):
    # Rows of a (V, D) table gathered by an integer array, many of them repeated (and one
    # negative): each row's gradient is the sum of the output gradients that read it.
    rng = np.random.default_rng(0)
    table = rnnkit.tensor(rng.standard_normal((50, 32)), requires_grad=True)
    index = rng.integers(-50, 50, size=rows)
    g = rng.standard_normal(rows + (32,))
    F.getitem(table, index).backward(g)
    expected = np.zeros((50, 32))
    for i, row in enumerate(index.ravel()):
        expected[row] += g.reshape(-1, 32)[i]
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=0, atol=1e-12)
