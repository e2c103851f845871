"""Datasets: map-style (``dataset[i]``, ``len``) and iterable-style (a stream), as in torch.

``TensorDataset`` slices Tensors or NumPy arrays along their first dimension;
``Subset`` and ``random_split`` pick samples by index; ``ConcatDataset`` and
``ChainDataset`` join datasets end to end.
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.random import get_generator


class Dataset:
    """A map from keys (usually ints ``0 <= i < len(dataset)``) to samples.

    Subclasses define ``__getitem__`` and, for the default samplers, ``__len__``; they
    may define ``__getitems__(indices) -> list of samples`` to fetch a batch at once.
    ``a + b`` concatenates two datasets.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and optionally ``__len__``).

    A DataLoader reads it in order; it takes no sampler and no shuffle. ``a + b``
    chains two streams.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples ``(t0[i], t1[i], ...)`` taken along the first dimension of each array.

    tensors: rnnkit Tensors or NumPy arrays of shapes ``(n, ...)``, all with the same n;
    a Tensor gives Tensor slices, an array gives array slices (collated into Tensors).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        for i, t in enumerate(tensors):
            if not isinstance(t, (Tensor, np.ndarray)):
                raise TypeError(f"TensorDataset: argument {i} must be an rnnkit Tensor or a "
                                f"NumPy array, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; expected shape (n, ...)")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first "
                             f"dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """Map-style datasets one after the other: index ``len(a) + j`` is ``b[j]``."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got none")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: {type(d).__name__} is an IterableDataset; "
                                f"chain streams with ChainDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} is out of range for length "
                                 f"{len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets streamed one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            _check_iterable(d)
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            _check_iterable(d)
            total += len(d)
        return total


def _check_iterable(d):
    if not isinstance(d, IterableDataset):
        raise TypeError(f"ChainDataset: {type(d).__name__} is not an IterableDataset")


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``subset[i] == dataset[indices[i]]``.

    A subclass that overrides ``__getitem__`` must override ``__getitems__`` too, which
    the DataLoader calls for whole batches (torch's rule).
    """

    def __init__(self, dataset, indices):
        if (type(self).__getitem__ is not Subset.__getitem__
                and type(self).__getitems__ is Subset.__getitems__):
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__, which "
                f"the DataLoader uses for batches; define "
                f"__getitems__(self, indices) as [self[i] for i in indices]")
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        picked = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(picked)
        return [self.dataset[i] for i in picked]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping Subsets of the given lengths.

    lengths: ints summing to ``len(dataset)``, or fractions summing to 1. Fractions
        become ``floor(n * f)`` each, then the remaining samples are handed out one at a
        time to the splits in order (torch's rule: ``[0.5, 0.5]`` of 5 gives 3 and 2).
    generator: None (rnnkit's global generator), an int seed or a numpy Generator.

    Returns a list of :class:`Subset`, one per length.
    """
    lengths = list(lengths)
    for i, x in enumerate(lengths):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"random_split: lengths[{i}] must be an int or a fraction, got "
                            f"{x!r}")
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction lengths[{i}]={frac} is not between "
                                 f"0 and 1")
        counts = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
        lengths = counts
    for i, x in enumerate(lengths):
        if not isinstance(x, numbers.Integral) or x < 0:
            raise ValueError(f"random_split: lengths[{i}]={x!r} must be a non-negative int "
                             f"(or every length a fraction, summing to 1)")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    order = get_generator(generator).permutation(n).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - k:end]) for end, k in zip(ends, lengths)]
