"""embedding and dropout: shapes, gradients, padding, seeding, and their errors."""
import numpy as np
import pytest

import rnnkit
from rnnkit import functional as F


# -- embedding ------------------------------------------------------------------------------
def table(num=5, dim=3, dtype=np.float32):
    return rnnkit.tensor(np.arange(num * dim, dtype=dtype).reshape(num, dim),
                         requires_grad=True)


def test_embedding_looks_up_rows_for_indices_of_any_shape():
    w = table()
    idx = np.array([[[4], [0]], [[1], [1]]])
    out = F.embedding(idx, w)
    assert out.shape == (2, 2, 1, 3)
    np.testing.assert_array_equal(out.data[0, 0, 0], w.data[4])


def test_embedding_of_a_scalar_index_is_one_row():
    assert F.embedding(np.array(2), table()).shape == (3,)


def test_embedding_accumulates_the_gradient_of_repeated_indices():
    w = table()
    F.embedding(rnnkit.tensor([1, 3, 1, 1]), w).sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [0, 3, 0, 1, 0])


def test_embedding_gives_no_gradient_to_the_padding_row():
    w = table()
    out = F.embedding(np.array([[0, 2], [2, 4]]), w, padding_idx=2)
    np.testing.assert_array_equal(out.data[0, 1], w.data[2])  # the forward is unchanged
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [1, 0, 0, 0, 1])


def test_embedding_padding_idx_may_count_from_the_end():
    w = table()
    F.embedding(np.array([4, 3]), w, padding_idx=-1).sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [0, 0, 0, 1, 0])


def test_embedding_keeps_the_weight_dtype():
    w = table(dtype=np.float64)
    out = F.embedding([0, 1], w)
    out.sum().backward()
    assert out.dtype == np.float64 and w.grad.dtype == np.float64


@pytest.mark.parametrize("bad", [5, -1])
def test_embedding_names_an_out_of_range_index_and_the_valid_range(bad):
    with pytest.raises(IndexError, match=rf"indices contains {bad}, outside the valid range "
                                         r"\[0, 5\)"):
        F.embedding(np.array([0, bad]), table())


def test_embedding_rejects_non_integer_indices():
    with pytest.raises(TypeError, match="indices must hold integers, got dtype float"):
        F.embedding(np.array([0.0, 1.0]), table())


def test_embedding_rejects_a_padding_idx_outside_the_table():
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(np.array([0]), table(), padding_idx=5)


def test_embedding_rejects_a_weight_that_is_not_a_matrix():
    with pytest.raises(ValueError, match=r"\(num_embeddings, embedding_dim\)"):
        F.embedding(np.array([0]), rnnkit.tensor(np.zeros(5)))


# -- dropout ------------------------------------------------------------------------------
def test_dropout_is_the_identity_when_not_training_or_p_is_zero():
    x = rnnkit.tensor(np.ones((4, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_zeroes_some_elements_and_scales_the_rest_by_one_over_keep():
    x = rnnkit.tensor(np.ones((100, 100), dtype=np.float32))
    out = F.dropout(x, 0.25, generator=0).data
    assert set(np.unique(out)) == {np.float32(0), np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02


def test_dropout_gradient_is_the_same_mask_and_scale():
    x = rnnkit.tensor(np.ones((10, 10)), requires_grad=True)
    out = F.dropout(x, 0.5, generator=1)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)


def test_dropout_keeps_float32():
    x = rnnkit.tensor(np.ones(8, dtype=np.float32), requires_grad=True)
    out = F.dropout(x, 0.3)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_dropout_with_the_same_seed_draws_the_same_mask():
    x = np.ones((6, 6))
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=3).data,
                                  F.dropout(x, 0.5, generator=3).data)


def test_dropout_follows_manual_seed():
    x = np.ones((6, 6))
    rnnkit.manual_seed(42)
    first = F.dropout(x, 0.5).data
    rnnkit.manual_seed(42)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, True, "0.5"])
def test_dropout_rejects_a_p_outside_zero_to_one(p):
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\)"):
        F.dropout(np.ones(3), p)
