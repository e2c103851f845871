"""Where ``fit``/``evaluate``/``predict`` get their batches: arrays, a Python generator or
a ``PyDataset``, behind one face.

An adapter has ``num_batches`` (None while unknown: generators, endless datasets),
``iterator()`` (a fresh pass over the data, yielding each batch as a tuple (x, y,
sample_weight) of NumPy arrays, y and sample_weight possibly None), ``peek()`` (the look
at a first batch that Keras takes to build a model before training) and the hooks
``on_epoch_begin()`` / ``on_epoch_end()``. ``EpochIterator`` decides how many batches
each epoch takes, and from which pass.

Keras 3's rules, kept here:

- A generator is looked at as soon as it is given: its first two batches are held, and
  every fresh pass over it (the next epoch after it ran out, each validation run) yields
  those two again before asking the generator for more.
- Generators and PyDatasets carry their own targets and weights: ``y``,
  ``sample_weight`` and ``validation_split`` are refused with them, and ``class_weight``
  with generators (a PyDataset's batches are weighted by class, as arrays are).
- ``shuffle``: arrays are shuffled sample by sample with rnnkit's generator; a finite
  PyDataset's batch order with Python's ``random``; a generator or an endless PyDataset
  cannot be shuffled (a warning says so when ``shuffle=True``, the default of ``fit``).

And one rule of Keras 2's: ``batch_size`` is refused with generators and PyDatasets,
whose batches are already made (Keras 3 ignores it without a word).
"""
from __future__ import annotations

import collections
import concurrent.futures
import itertools
import math
import random
import types
import warnings

import numpy as np

from rnnkit.keras.models import data as D
from rnnkit.keras.py_dataset import PyDataset
from rnnkit.random import get_generator

_HEAD = 2     # batches a generator is read ahead when given (Keras's look at its shapes)


def get_adapter(fn, x, y=None, sample_weight=None, batch_size=None, steps=None,
                shuffle=False, class_weight=None, batch_arg="batch_size"):
    """The adapter for data ``x`` given to ``fn`` ("fit", "evaluate", "predict");
    ``batch_arg`` names the batch-size argument in messages (validation_batch_size)."""
    kind = ("PyDataset" if isinstance(x, PyDataset) else
            "generator" if isinstance(x, types.GeneratorType) else None)
    if kind is None:
        if isinstance(x, collections.abc.Iterator):
            raise ValueError(f"{fn}: x is a {type(x).__name__}; pass arrays, a generator "
                             f"(a function that yields batches) or a PyDataset")
        return ArrayAdapter(fn, x, y, sample_weight, batch_size, steps, shuffle,
                            class_weight)
    for arg, value, what in (("y", y, "targets"), ("sample_weight", sample_weight,
                                                     "sample weights")):
        if value is not None:
            raise ValueError(f"{fn}: x is a {kind}, so {arg} must not be passed; its "
                             f"batches carry the {what}: (x, y) or (x, y, sample_weight)")
    if batch_size is not None:
        raise ValueError(f"{fn}: {batch_arg}={batch_size!r} cannot apply to a {kind}, whose "
                         f"batches are already made; leave {batch_arg} out")
    if kind == "PyDataset":
        return PyDatasetAdapter(fn, x, shuffle, class_weight)
    if class_weight is not None:
        raise ValueError(f"{fn}: class_weight is not supported with a generator; yield "
                         f"(x, y, sample_weight) batches instead")
    if shuffle:
        warnings.warn(f"{fn}: shuffle=True has no effect on a generator, whose batches "
                      f"come in the order it yields them (pass shuffle=False to silence "
                      f"this)", stacklevel=4)
    return GeneratorAdapter(fn, x)


def is_array_data(x):
    """Whether ``x`` is arrays (not a generator, a PyDataset or another iterator)."""
    return not isinstance(x, (PyDataset, collections.abc.Iterator))


def unpack_validation(validation_data):
    """``fit``'s validation_data as (x, y, sample_weight): a tuple of arrays is unpacked;
    a generator or a PyDataset is x, carrying its own targets."""
    if is_array_data(validation_data):
        return D.unpack_validation(validation_data)
    return validation_data, None, None


def unpack(fn, batch, source, index):
    """A batch from a generator or a PyDataset as a tuple (x, y, sample_weight) of arrays.

    Generators yield tuples (Keras 3); ``predict`` also takes a bare x (Keras 2). A
    PyDataset may return a list (read as the tuple) or a bare array (x).
    """
    if source == "PyDataset":
        if isinstance(batch, np.ndarray):
            batch = (batch,)
        elif isinstance(batch, list):
            batch = tuple(batch)
    elif not isinstance(batch, tuple) and fn == "predict":
        batch = (batch,)
    if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
        got = (f"a tuple of {len(batch)}" if isinstance(batch, tuple)
               else f"a {type(batch).__name__}")
        raise ValueError(f"{fn}: batch {index} of the {source} is {got}; expected a tuple "
                         f"(x,), (x, y) or (x, y, sample_weight)")
    x, y, sw = (tuple(D.to_arrays(v) for v in batch) + (None, None))[:3]
    if y is None and fn != "predict":
        raise ValueError(f"{fn}: batch {index} of the {source} has no targets; expected "
                         f"(x, y) or (x, y, sample_weight)")
    return x, y, sw


class ArrayAdapter:
    """Arrays cut into batches of ``batch_size`` samples (32 by default or, when only
    ``steps`` is given, ceil(samples / steps), as in Keras), shuffled per pass."""

    def __init__(self, fn, x, y, sample_weight, batch_size, steps, shuffle, class_weight):
        x, y, sample_weight = D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight)
        if y is None and fn != "predict":
            raise ValueError(f"{fn}: pass the targets y with array data (or x as a "
                             f"generator or a PyDataset of (x, y) batches)")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(f"{fn}: pass class_weight or sample_weight, not both")
            sample_weight = D.class_weight_to_sample_weights(y, class_weight)
        self._n = D.num_samples(x, y, sample_weight)
        if batch_size is None and steps:
            batch_size = math.ceil(self._n / steps)
        self.batch_size = D.check_batch_size(batch_size, fn)
        D.check_shuffle(shuffle, fn)
        self._shuffle = shuffle
        self._data = (x, y, sample_weight)
        self.num_batches = math.ceil(self._n / self.batch_size)

    def iterator(self):
        x, y, sw = self._data
        for idx in D.batch_indices(self._n, self.batch_size, self._shuffle, get_generator()):
            yield D.take(x, idx), D.take(y, idx), D.take(sw, idx)

    def peek(self):
        """Nothing to see: arrays' shapes are known (and no permutation is drawn)."""

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class GeneratorAdapter:
    """A Python generator of batches; its first two batches are read at once and begin
    every fresh pass (see the module docstring)."""

    num_batches = None

    def __init__(self, fn, generator):
        self._fn = fn
        self._head = list(itertools.islice(generator, _HEAD))
        if not self._head:
            raise ValueError(f"{fn}: the generator yielded no batch")
        unpack(fn, self._head[0], "generator", 0)          # a bad batch fails here, early
        self._rest = generator

    def iterator(self):
        for index, batch in enumerate(itertools.chain(self._head, self._rest)):
            yield unpack(self._fn, batch, "generator", index)

    def peek(self):
        """Nothing more to see: the first batches are already held."""

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """A PyDataset read by index: in order, or shuffled per pass with Python's
    ``random``, on ``workers`` threads when asked; its hooks are called per epoch."""

    def __init__(self, fn, dataset, shuffle, class_weight):
        self._fn, self.dataset, self._class_weight = fn, dataset, class_weight
        D.check_shuffle(shuffle, fn)
        workers, queue_size = dataset.workers, dataset.max_queue_size
        if dataset.use_multiprocessing:
            raise ValueError(f"{fn}: the PyDataset has use_multiprocessing=True; rnnkit "
                             f"reads batches on threads only (use workers=N with "
                             f"use_multiprocessing=False)")
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) \
                or workers < 0:
            raise ValueError(f"{fn}: the PyDataset's workers must be a non-negative "
                             f"integer, got {workers!r}")
        if workers > 1 and (isinstance(queue_size, bool)
                            or not isinstance(queue_size, (int, np.integer))
                            or queue_size <= 0):
            raise ValueError(f"{fn}: the PyDataset's max_queue_size must be a positive "
                             f"integer, got {queue_size!r}")
        self._workers, self._queue_size = int(workers), int(queue_size)
        n = dataset.num_batches
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              or n <= 0):
            raise ValueError(f"{fn}: the PyDataset must have at least one batch (its "
                             f"len() / num_batches), got {n!r}")
        self.num_batches = None if n is None else int(n)
        if self.num_batches is None and shuffle:
            warnings.warn(f"{fn}: shuffle=True has no effect on an endless PyDataset "
                          f"(num_batches None); it should shuffle its own samples",
                          stacklevel=4)
            shuffle = False
        self._shuffle = shuffle
        self._readers = []

    def _indices(self):
        if self.num_batches is None:
            return itertools.count()
        order = list(range(self.num_batches))
        if self._shuffle:
            random.shuffle(order)     # Python's generator, as Keras: random.seed repeats it
        return order

    def iterator(self):
        indices = self._indices()
        if self._workers > 1:
            reader = _Prefetcher(self.dataset, indices, self._workers, self._queue_size)
            self._readers = [r for r in self._readers if not r.closed] + [reader]
            # the reader walks `indices` itself; a second walk labels its batches
            labels = itertools.count() if self.num_batches is None else indices
            items = zip(labels, reader)
        else:
            items = ((i, self.dataset[i]) for i in indices)
        for index, batch in items:
            yield self._standardize(batch, index)

    def _standardize(self, batch, index):
        x, y, sw = unpack(self._fn, batch, "PyDataset", index)
        if self._class_weight is not None and y is not None:
            if sw is not None:
                raise ValueError(f"{self._fn}: batch {index} of the PyDataset has sample "
                                 f"weights; pass class_weight or sample weights, not both")
            sw = D.class_weight_to_sample_weights(y, self._class_weight)
        return x, y, sw

    def peek(self):
        """Keras's look before training: the epoch hook, then one batch read."""
        self.on_epoch_begin()
        first = self.iterator()
        next(first)
        first.close()

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        for reader in self._readers:     # no read runs while the dataset changes
            reader.pause()
        self.dataset.on_epoch_end()


class _Prefetcher:
    """``dataset[i]`` for each ``i`` of ``indices``, read on ``workers`` threads at most
    ``depth`` batches ahead and handed out in order.

    ``pause()`` waits for the reads under way and forgets the batches read ahead, which
    are read again when asked for: a dataset changed by ``on_epoch_end`` is then seen
    exactly as with one worker."""

    def __init__(self, dataset, indices, workers, depth):
        self._dataset, self._depth = dataset, depth
        self._indices = iter(indices)
        self._pending = collections.deque()          # (index, future), in order
        self._pool = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="rnnkit-pydataset")
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.closed:
            raise StopIteration
        while len(self._pending) < self._depth:
            index = next(self._indices, None)
            if index is None:
                break
            self._pending.append((index, self._pool.submit(self._dataset.__getitem__,
                                                           index)))
        if not self._pending:
            self.close()
            raise StopIteration
        _, future = self._pending.popleft()
        try:
            return future.result()
        except BaseException:
            self.close()
            raise

    def pause(self):
        pending, self._pending = list(self._pending), collections.deque()
        for _, future in pending:
            future.cancel()
        concurrent.futures.wait([f for _, f in pending])
        self._indices = itertools.chain([i for i, _ in pending], self._indices)

    def close(self):
        if not self.closed:
            self.closed = True
            self.pause()
            self._pool.shutdown(wait=True)

    def __del__(self):
        if not getattr(self, "closed", True):
            self._pool.shutdown(wait=False, cancel_futures=True)
