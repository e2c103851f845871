"""Samplers: the order in which a DataLoader visits a map-style dataset, as in torch.

A sampler is any iterable of indices (``SequentialSampler``, ``RandomSampler``...), a
batch sampler any iterable of lists of indices (``BatchSampler``). Random samplers draw
from a numpy Generator: the one given, or rnnkit's global generator at each epoch.
"""
from __future__ import annotations

import itertools
import numbers

from rnnkit.random import get_generator


def fixed_generator(generator):
    """``generator=`` as given to a sampler or loader: None stays None (the global
    generator, looked up at each epoch so that ``manual_seed`` reaches it); an int seed
    becomes one Generator for the object's lifetime (so epochs differ, runs repeat)."""
    return None if generator is None else get_generator(generator)


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``, every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices of ``data_source`` in random order, drawn anew each epoch.

    replacement: False gives a permutation (repeated whole when ``num_samples`` exceeds
        the length, then a part of one more); True draws ``num_samples`` indices
        independently.
    num_samples: how many indices an epoch yields (default: ``len(data_source)``).
    generator: None (rnnkit's global generator), an int seed or a numpy Generator.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = fixed_generator(generator)
        n = self.num_samples
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={n!r}")

    @property
    def num_samples(self):
        # the dataset may grow or shrink between epochs
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = get_generator(self.generator)
        if self.replacement:
            # in blocks of 32, as torch does, so a huge num_samples stays lazy
            for _ in range(self.num_samples // 32):
                yield from rng.integers(0, n, size=32).tolist()
            yield from rng.integers(0, n, size=self.num_samples % 32).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in random order (without replacement), anew each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = fixed_generator(generator)

    def __iter__(self):
        for i in get_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    drop_last: True drops a last, shorter batch; False yields it.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
