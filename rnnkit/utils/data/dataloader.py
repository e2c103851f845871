"""``DataLoader``: batches from a dataset, with torch.utils.data.DataLoader's semantics.

Loading happens in the calling process: the options that only concern worker processes
or accelerators are refused with an error when they ask for something (``num_workers >
0``, ``timeout > 0``, ``prefetch_factor``, ``persistent_workers``,
``multiprocessing_context``), and ``pin_memory=True`` warns as torch does on a machine
without an accelerator.
"""
from __future__ import annotations

import math
import numbers
import warnings

from rnnkit.utils.data.collate import default_collate, default_convert
from rnnkit.utils.data.dataset import IterableDataset
from rnnkit.utils.data.sampler import (BatchSampler, RandomSampler, SequentialSampler,
                                       fixed_generator)

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class _InfiniteConstantSampler:
    """None forever: the 'indices' of an IterableDataset, which ignores them."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches.

    dataset: map-style (``__getitem__``, ``__len__``) or an :class:`IterableDataset`.
    batch_size: samples per batch (default 1); None turns automatic batching off: each
        sample comes alone, through ``default_convert`` (NumPy -> Tensor).
    shuffle: a new random order every epoch (map-style datasets only).
    sampler: an iterable of indices (instead of shuffle); batch_sampler: an iterable of
        lists of indices (instead of batch_size, shuffle, sampler and drop_last).
    num_workers: must be 0: rnnkit loads in the calling process.
    collate_fn: list of samples -> batch (default :func:`default_collate`: a batch of
        samples ``(x_i, y_i)`` with x_i of shape ``(time,)`` becomes ``[X, Y]`` with X of
        shape ``(batch, time)``).
    pin_memory: there is no accelerator to pin memory for: warns, as torch does then.
    drop_last: drop a last batch smaller than batch_size.
    timeout, prefetch_factor, persistent_workers, multiprocessing_context: worker
        options; only their 'no workers' values are accepted (as torch requires when
        num_workers=0). worker_init_fn and in_order apply to workers, so with none they
        change nothing, as in torch.
    generator: the shuffle's generator: None (rnnkit's global one, so
        ``rnnkit.manual_seed`` makes epochs repeatable), an int seed or a numpy Generator.

    ``len(loader)`` is the number of batches; every ``iter(loader)`` is a new epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        _check_single_process(num_workers, timeout, prefetch_factor, persistent_workers,
                              multiprocessing_context)
        generator = fixed_generator(generator)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterable = iterable
        self._IterableDataset_len_called = None
        self._initialized = True

    def __setattr__(self, name, value):
        if self.__dict__.get("_initialized") and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # what the iterator draws from: lists of indices when batching, else indices
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.pin_memory:
            if self.pin_memory_device:
                warnings.warn(f"pin_memory_device is deprecated, the current accelerator "
                              f"will be used as the device,ignore "
                              f"pin_memory_device='{self.pin_memory_device}'.", stacklevel=2)
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        return _LoaderIter(self)

    def __len__(self):
        if self._iterable:
            # an estimate that trusts the dataset's own __len__, as torch does
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)


class _LoaderIter:
    """One epoch: indices from the loader's sampler, samples from its dataset, collated."""

    def __init__(self, loader):
        self._loader = loader
        self._dataset = loader.dataset
        self._collate = loader.collate_fn
        self._auto = loader._auto_collation
        self._drop_last = loader.drop_last
        self._indices = iter(loader._index_sampler)
        self._stream = iter(loader.dataset) if loader._iterable else None
        self._ended = False
        self._len_called = loader._IterableDataset_len_called
        self._yielded = 0

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader._index_sampler)

    def __next__(self):
        index = next(self._indices)
        data = self._fetch_stream(index) if self._stream is not None else self._fetch(index)
        self._yielded += 1
        if self._len_called is not None and self._yielded > self._len_called:
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be "
                          f"{self._len_called}(when accessing len(dataloader)), but "
                          f"{self._yielded} samples have been fetched. ", stacklevel=2)
        return data

    def _fetch(self, index):
        if not self._auto:
            return self._collate(self._dataset[index])
        getitems = getattr(self._dataset, "__getitems__", None)
        samples = getitems(index) if callable(getitems) else [self._dataset[i] for i in index]
        return self._collate(samples)

    def _fetch_stream(self, index):
        if self._ended:
            raise StopIteration
        if not self._auto:
            return self._collate(next(self._stream))
        samples = []
        for _ in index:
            try:
                samples.append(next(self._stream))
            except StopIteration:
                self._ended = True
                break
        if not samples or (self._drop_last and len(samples) < len(index)):
            raise StopIteration
        return self._collate(samples)


def _check_single_process(num_workers, timeout, prefetch_factor, persistent_workers,
                          multiprocessing_context):
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
        raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if num_workers > 0:
        raise ValueError(f"DataLoader: num_workers={num_workers}: rnnkit loads batches in the "
                         f"calling process only; worker processes are not supported, use "
                         f"num_workers=0")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if timeout > 0:
        raise ValueError(f"DataLoader: timeout={timeout} applies to worker processes, which "
                         f"rnnkit does not start; use timeout=0")
    if prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing "
                         "(num_workers > 0), which rnnkit does not support; leave it None")
    if persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0, which rnnkit "
                         "does not support")
    if multiprocessing_context is not None:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
