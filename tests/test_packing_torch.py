"""rnnkit.nn.utils.rnn's padding and packing equal torch.nn.utils.rnn's.

Every conversion is compared field by field (data, batch_sizes, sorted_indices,
unsorted_indices, padded values, lengths) and, since each is a differentiable gather,
by the gradient a random upstream gradient sends back through it. Invalid lengths get
clear errors.
"""
import numpy as np
import pytest

import rnnkit
from rnnkit.nn.utils import rnn as ours

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")
from torch.nn.utils import rnn as theirs  # noqa: E402

TOL = {"float32": 1e-6, "float64": 1e-12}
T, B, D = 6, 4, 2
SORTED = np.array([6, 4, 4, 1])
UNSORTED = np.array([4, 6, 1, 4])  # ties too: both libraries keep them in input order


def leaf(lib, a):
    return (torch.tensor(a, requires_grad=True) if lib is theirs
            else rnnkit.tensor(a, requires_grad=True))


def assert_same(a, b, tol=0.0):
    """rnnkit array/tensor ``a`` equals torch tensor (or None) ``b``."""
    if b is None:
        assert a is None
        return
    a = np.asarray(getattr(a, "data", a))
    b = b.detach().numpy()
    assert a.shape == b.shape
    assert np.abs(a.astype(np.float64) - b.astype(np.float64)).max(initial=0) <= tol


def backprop_equal(o_out, t_out, o_leaf, t_leaf, dtype):
    """The same random upstream gradient sent back through both gives the same leaf grad."""
    up = np.random.default_rng(1).normal(size=tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(up))
    o_out.backward(up)
    assert_same(o_leaf.grad, t_leaf.grad, TOL[dtype])


def padded_input(batch_first, dtype, trailing=(D,)):
    shape = ((B, T) if batch_first else (T, B)) + trailing
    return np.random.default_rng(0).normal(size=shape).astype(dtype)


# -- pad_sequence ----------------------------------------------------------------------------
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("padding_value", [0.0, -1.5])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pad_sequence_equals_torch(dtype, batch_first, padding_value, padding_side):
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(n, D)).astype(dtype) for n in (3, 5, 1)]
    results = []
    for lib in (theirs, ours):
        leaves = [leaf(lib, s) for s in seqs]
        results.append((lib.pad_sequence(leaves, batch_first=batch_first,
                                         padding_value=padding_value,
                                         padding_side=padding_side), leaves))
    (t_out, t_leaves), (o_out, o_leaves) = results
    assert_same(o_out, t_out)
    up = np.random.default_rng(1).normal(size=tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(up))
    o_out.backward(up)
    for a, b in zip(o_leaves, t_leaves):
        assert_same(a.grad, b.grad, TOL[dtype])


# -- pack_padded_sequence --------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, SORTED), (False, UNSORTED),
                                                    (False, SORTED)],
                         ids=["sorted", "unsorted", "sorted-not-enforced"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pack_padded_sequence_equals_torch(dtype, enforce_sorted, lengths, batch_first):
    x = padded_input(batch_first, dtype)
    t_x, o_x = leaf(theirs, x), leaf(ours, x)
    t = theirs.pack_padded_sequence(t_x, torch.tensor(lengths), batch_first=batch_first,
                                    enforce_sorted=enforce_sorted)
    o = ours.pack_padded_sequence(o_x, lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    assert_same(o.data, t.data)
    assert_same(o.batch_sizes, t.batch_sizes)
    assert np.asarray(o.batch_sizes).dtype == np.int64
    assert_same(o.sorted_indices, t.sorted_indices)
    assert_same(o.unsorted_indices, t.unsorted_indices)
    backprop_equal(o.data, t.data, o_x, t_x, dtype)


def test_pack_padded_sequence_without_feature_dimension_equals_torch():
    x = np.random.default_rng(3).normal(size=(T, B))
    t = theirs.pack_padded_sequence(torch.tensor(x), torch.tensor(UNSORTED),
                                    enforce_sorted=False)
    o = ours.pack_padded_sequence(x, UNSORTED, enforce_sorted=False)
    assert_same(o.data, t.data)


def test_lengths_may_be_a_list_or_an_rnnkit_tensor():
    x = padded_input(False, "float64")
    a = ours.pack_padded_sequence(x, [4, 6, 1, 4], enforce_sorted=False)
    b = ours.pack_padded_sequence(x, rnnkit.tensor(UNSORTED), enforce_sorted=False)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())


# -- pad_packed_sequence ---------------------------------------------------------------------
@pytest.mark.parametrize("total_length", [None, T + 2])
@pytest.mark.parametrize("padding_value", [0.0, 9.0])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, np.array([5, 4, 4, 1])),
                                                    (False, UNSORTED)],
                         ids=["sorted", "unsorted"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pad_packed_sequence_equals_torch(dtype, enforce_sorted, lengths, batch_first,
                                          padding_value, total_length):
    x = padded_input(batch_first, dtype)
    t_x, o_x = leaf(theirs, x), leaf(ours, x)
    kw = dict(batch_first=batch_first, padding_value=padding_value, total_length=total_length)
    t_pad, t_len = theirs.pad_packed_sequence(
        theirs.pack_padded_sequence(t_x, torch.tensor(lengths), batch_first=batch_first,
                                    enforce_sorted=enforce_sorted), **kw)
    o_pad, o_len = ours.pad_packed_sequence(
        ours.pack_padded_sequence(o_x, lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted), **kw)
    assert_same(o_pad, t_pad)
    assert_same(o_len, t_len)
    assert np.asarray(o_len).dtype == np.int64
    backprop_equal(o_pad, t_pad, o_x, t_x, dtype)


# -- pack_sequence / unpack_sequence ----------------------------------------------------------
@pytest.mark.parametrize("enforce_sorted,sizes", [(True, (5, 3, 3, 1)), (False, (2, 5, 1, 3))])
def test_pack_sequence_and_unpack_sequence_equal_torch(enforce_sorted, sizes):
    rng = np.random.default_rng(4)
    seqs = [rng.normal(size=(n, D)) for n in sizes]
    t_leaves = [leaf(theirs, s) for s in seqs]
    o_leaves = [leaf(ours, s) for s in seqs]
    t = theirs.pack_sequence(t_leaves, enforce_sorted=enforce_sorted)
    o = ours.pack_sequence(o_leaves, enforce_sorted=enforce_sorted)
    assert_same(o.data, t.data)
    assert_same(o.batch_sizes, t.batch_sizes)
    assert_same(o.sorted_indices, t.sorted_indices)
    assert_same(o.unsorted_indices, t.unsorted_indices)

    t_back, o_back = theirs.unpack_sequence(t), ours.unpack_sequence(o)
    assert len(o_back) == len(t_back) == len(seqs)
    for a, b, s in zip(o_back, t_back, seqs):
        assert_same(a, b)
        np.testing.assert_array_equal(a.numpy(), s)
    ups = [np.random.default_rng(i).normal(size=s.shape) for i, s in enumerate(seqs)]
    sum((b * torch.tensor(u)).sum() for b, u in zip(t_back, ups)).backward()
    sum((a * rnnkit.tensor(u)).sum() for a, u in zip(o_back, ups)).backward()
    for a, b in zip(o_leaves, t_leaves):
        assert_same(a.grad, b.grad, 1e-12)


# -- errors -------------------------------------------------------------------------------------
def test_unsorted_lengths_with_enforce_sorted_name_the_fix():
    with pytest.raises(ValueError, match="not sorted in decreasing order.*enforce_sorted=False"):
        ours.pack_padded_sequence(padded_input(False, "float32"), UNSORTED)
    with pytest.raises(ValueError, match="enforce_sorted=False"):
        ours.pack_sequence([np.zeros((1, D)), np.zeros((2, D))])


@pytest.mark.parametrize("lengths", [[6, 4, 4, 0], [7, 4, 4, 1], [-1, 4, 4, 1]])
def test_lengths_outside_one_to_time_are_rejected(lengths):
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 6\]"):
        ours.pack_padded_sequence(padded_input(False, "float32"), np.array(lengths))


def test_wrong_number_of_lengths_is_rejected():
    with pytest.raises(ValueError, match="expected 4 integers"):
        ours.pack_padded_sequence(padded_input(False, "float32"), [6, 4, 1])


def test_total_length_shorter_than_the_longest_sequence_is_rejected():
    packed = ours.pack_padded_sequence(padded_input(False, "float32"), SORTED)
    with pytest.raises(ValueError, match="total_length=5 is less than the longest"):
        ours.pad_packed_sequence(packed, total_length=5)
