"""utils.pad_sequences and utils.to_categorical return exactly what keras.utils' do."""
import itertools

import numpy as np
import pytest

from rnnkit.keras import utils

pytestmark = [pytest.mark.keras]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

SEQUENCES = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10, 11], [12]]


@pytest.mark.parametrize("padding, truncating, maxlen", list(itertools.product(
    ["pre", "post"], ["pre", "post"], [None, 1, 3, 4, 8])))
def test_pad_sequences_equals_keras(padding, truncating, maxlen):
    ours = utils.pad_sequences(SEQUENCES, maxlen=maxlen, padding=padding,
                               truncating=truncating)
    theirs = keras.utils.pad_sequences(SEQUENCES, maxlen=maxlen, padding=padding,
                                       truncating=truncating)
    assert ours.dtype == theirs.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("kwargs", [dict(value=-1), dict(dtype="float32", value=0.5),
                                    dict(dtype="int64", maxlen=5, padding="post")])
def test_pad_sequences_value_and_dtype_equal_keras(kwargs):
    ours = utils.pad_sequences(SEQUENCES, **kwargs)
    theirs = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_equals_keras():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)) for n in (2, 5, 1)]
    np.testing.assert_array_equal(utils.pad_sequences(seqs, dtype="float32", maxlen=4),
                                  keras.utils.pad_sequences(seqs, dtype="float32", maxlen=4))


def test_pad_sequences_rejects_unknown_modes():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        utils.pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        utils.pad_sequences(SEQUENCES, truncating="both")
    with pytest.raises(ValueError, match="list of iterables"):
        utils.pad_sequences([1, 2, 3])


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 2, 1, 2], None), ([0, 2, 1, 2], 5), ([[1], [0], [3]], None),
    (np.arange(6).reshape(2, 3), None), (np.array([[0, 1], [2, 0]])[..., None], 4)])
def test_to_categorical_equals_keras(labels, num_classes):
    ours = utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_rejects_out_of_range_classes():
    with pytest.raises(ValueError, match=r"classes must lie in \[0, 2\)"):
        utils.to_categorical([0, 1, 2], num_classes=2)
