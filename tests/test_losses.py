"""Losses on hand-checkable inputs, their dtypes, and the errors they raise.

(Numbers against PyTorch and Keras are in test_losses_torch.py / test_losses_keras.py;
gradients against finite differences in test_functional.py.)
"""
import numpy as np
import pytest

import rnnkit
from rnnkit import functional as F

X2 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
PROBS = np.array([[0.2, 0.8], [0.5, 0.5]])
BINARY = np.array([[0.0, 1.0], [1.0, 0.0]])

# name -> a call on float inputs x whose gradient flows to x
CALLS = {
    "mse_loss": lambda x: F.mse_loss(x, np.zeros(x.shape, x.dtype)),
    "l1_loss": lambda x: F.l1_loss(x, np.ones(x.shape)),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(F.sigmoid(x), BINARY),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, BINARY, weight=np.ones(2), pos_weight=np.full(2, 2.0)),
    "nll_loss": lambda x: F.nll_loss(x, np.array([1, 0]), weight=np.ones(2)),
    "cross_entropy": lambda x: F.cross_entropy(x, np.array([1, 0]), weight=np.ones(2),
                                               label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x: F.cross_entropy(x, PROBS),
    "categorical_crossentropy": lambda x: F.categorical_crossentropy(BINARY, F.exp(x)),
    "sparse_categorical_crossentropy": lambda x: F.sparse_categorical_crossentropy(
        [1, 0], F.exp(x)),
    "binary_crossentropy": lambda x: F.binary_crossentropy(BINARY, x, from_logits=True),
}


# -- hand-computed values -------------------------------------------------------------------
def test_cross_entropy_of_uniform_logits_is_log_classes():
    assert F.cross_entropy(X2[:1], np.array([2])).item() == pytest.approx(np.log(3))


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_batch():
    x = rnnkit.tensor(X2, requires_grad=True)
    F.cross_entropy(x, np.array([0, 2])).backward()
    expected = (F.softmax(X2).data - np.eye(3)[[0, 2]]) / 2
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_cross_entropy_weighted_mean_divides_by_the_kept_targets_weight():
    x = np.log(np.array([[0.5, 0.5], [0.9, 0.1], [0.3, 0.7]]))
    loss = F.cross_entropy(x, np.array([0, 1, -100]), weight=np.array([1.0, 3.0]))
    assert loss.item() == pytest.approx((-np.log(0.5) - 3 * np.log(0.1)) / 4)


def test_mse_and_l1_of_a_hand_computed_case():
    x, y = np.array([1.0, -2.0, 4.0]), np.array([0.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx(14 / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == 6.0
    np.testing.assert_array_equal(F.mse_loss(x, y, reduction="none").data, [1, 4, 9])


def test_bce_with_logits_pos_weight_scales_only_positive_examples():
    loss = F.binary_cross_entropy_with_logits(np.zeros(2), np.array([1.0, 0.0]),
                                              pos_weight=np.array([3.0, 3.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [3 * np.log(2), np.log(2)])


def test_keras_losses_return_one_loss_per_sample():
    assert F.categorical_crossentropy(BINARY, PROBS).shape == (2,)
    assert F.sparse_categorical_crossentropy([1, 0], PROBS).shape == (2,)
    assert F.binary_crossentropy(BINARY, PROBS).shape == (2,)


def test_sparse_categorical_crossentropy_gives_ignored_samples_zero_loss_and_gradient():
    p = rnnkit.tensor(np.array([[0.0, 0.0], [0.3, 0.7]]), requires_grad=True)
    loss = F.sparse_categorical_crossentropy([-1, 1], p, ignore_class=-1)
    loss.sum().backward()
    assert loss.data[0] == 0 and loss.data[1] == pytest.approx(-np.log(0.7))
    np.testing.assert_array_equal(p.grad.data[0], [0.0, 0.0])


def test_sparse_categorical_crossentropy_accepts_integral_float_labels():
    np.testing.assert_array_equal(F.sparse_categorical_crossentropy([1.0, 0.0], PROBS).data,
                                  F.sparse_categorical_crossentropy([1, 0], PROBS).data)


# -- dtypes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CALLS)
def test_loss_and_gradient_keep_the_input_dtype(name, dtype):
    x = rnnkit.tensor(np.log(PROBS).astype(dtype), requires_grad=True)
    loss = CALLS[name](x)
    loss.sum().backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype


@pytest.mark.parametrize("reduction, shape", [("mean", ()), ("sum", ()), ("none", (2, 3, 4))])
def test_reductions_give_a_scalar_or_the_per_element_shape(reduction, shape):
    x = np.zeros((2, 5, 3, 4))
    target = np.zeros((2, 3, 4), dtype=np.int64)
    assert F.cross_entropy(x, target, reduction=reduction).shape == shape


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda r: F.mse_loss(X2, X2, reduction=r),
    lambda r: F.l1_loss(X2, X2, reduction=r),
    lambda r: F.binary_cross_entropy(PROBS, BINARY, reduction=r),
    lambda r: F.binary_cross_entropy_with_logits(X2, X2, reduction=r),
    lambda r: F.nll_loss(X2, np.array([0, 1]), reduction=r),
    lambda r: F.cross_entropy(X2, np.array([0, 1]), reduction=r),
])
def test_an_unknown_reduction_is_rejected(call):
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', "
                                         "got 'avg'"):
        call("avg")


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_elementwise_losses_reject_a_target_of_another_shape(fn):
    with pytest.raises(ValueError, match=r"target has shape \(2,\) but input has shape "
                                         r"\(2, 2\)"):
        fn(PROBS, np.array([0.0, 1.0]))


def test_cross_entropy_names_the_expected_target_shape():
    with pytest.raises(ValueError, match=r"class indices must have shape \(2, 4\)"):
        F.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=np.int64))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_class_index_losses_name_an_out_of_range_class(fn):
    with pytest.raises(IndexError, match=r"target contains class 3, outside the valid range "
                                         r"\[0, 3\)"):
        fn(X2, np.array([0, 3]))


def test_cross_entropy_rejects_float_targets_of_the_wrong_shape():
    with pytest.raises(TypeError, match=r"floating target holds class probabilities and must "
                                        r"have the input's shape \(2, 3\), got \(2,\)"):
        F.cross_entropy(X2, np.array([0.0, 1.0]))


def test_cross_entropy_rejects_ignore_index_with_probability_targets():
    with pytest.raises(ValueError, match="ignore_index applies only to class-index targets"):
        F.cross_entropy(np.log(PROBS), PROBS, ignore_index=0)


@pytest.mark.parametrize("smoothing", [-0.1, 1.5])
def test_cross_entropy_rejects_label_smoothing_outside_zero_to_one(smoothing):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(X2, np.array([0, 1]), label_smoothing=smoothing)


def test_cross_entropy_rejects_class_weights_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"weight has shape \(2,\), expected \(3,\)"):
        F.cross_entropy(X2, np.array([0, 1]), weight=np.ones(2))


def test_binary_cross_entropy_rejects_values_that_are_not_probabilities():
    with pytest.raises(ValueError, match="input must hold probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))


def test_bce_with_logits_rejects_a_pos_weight_that_does_not_broadcast():
    with pytest.raises(ValueError, match="pos_weight of shape \\(3,\\) does not broadcast"):
        F.binary_cross_entropy_with_logits(PROBS, BINARY, pos_weight=np.ones(3))


def test_a_weight_that_requires_grad_is_refused_rather_than_silently_frozen():
    w = rnnkit.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="weight is treated as a constant"):
        F.cross_entropy(X2, np.array([0, 1]), weight=w)
    F.cross_entropy(X2, np.array([0, 1]), weight=w.detach())


def test_losses_reject_integer_inputs():
    with pytest.raises(TypeError, match="input must be floating point"):
        F.cross_entropy(np.array([[1, 2]]), np.array([0]))


def test_keras_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) but y_pred has shape"):
        F.categorical_crossentropy(np.array([0.0, 1.0]), PROBS)
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        F.sparse_categorical_crossentropy(np.array([0, 1, 1]), PROBS)


def test_sparse_categorical_crossentropy_names_an_out_of_range_label():
    with pytest.raises(IndexError, match=r"y_true contains class 2, outside the valid range "
                                         r"\[0, 2\)"):
        F.sparse_categorical_crossentropy([0, 2], PROBS)


def test_sparse_categorical_crossentropy_rejects_fractional_labels():
    with pytest.raises(TypeError, match="integer class indices"):
        F.sparse_categorical_crossentropy([0.5, 1.0], PROBS)
