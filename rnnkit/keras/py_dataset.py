"""``PyDataset`` (Keras 2's name: ``Sequence``): a dataset that hands out whole batches.

    class Batches(PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)            # workers=, max_queue_size=
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):                        # number of batches
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):             # batch number `index`
            s = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[s], self.y[s]

    model.fit(Batches(x, y, 32), epochs=10)

``fit``/``evaluate``/``predict`` ask for batches by index, each epoch in order or, with
``fit(shuffle=True)`` (the default), in an order drawn from Python's ``random`` module,
as Keras draws it (so ``random.seed`` or ``utils.set_random_seed`` repeats it). A batch
is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (a list is read as that tuple, a
bare array as ``(x,)``). ``on_epoch_begin()`` and ``on_epoch_end()`` are called around
each epoch, at the moments Keras calls them. A dataset without ``__len__`` may define
``num_batches`` as None instead: it is then endless and ``fit`` needs ``steps_per_epoch``.

``workers=N`` (N > 1) reads up to ``max_queue_size`` batches ahead on N threads, handing
them out in the same order as ``workers=1``; ``use_multiprocessing=True`` is not
supported (rnnkit starts no processes) and is refused when the dataset is used.
"""
from __future__ import annotations

import itertools
import warnings

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for datasets that produce whole batches by index (see the module
    docstring). Subclasses implement ``__getitem__(index)`` and ``__len__()`` (the
    number of batches), and may override ``on_epoch_begin()`` / ``on_epoch_end()``.

    workers: threads reading batches ahead during ``fit``/``evaluate``/``predict``
    (1: read each batch when it is needed). use_multiprocessing: must stay False.
    max_queue_size: how many batches the threads may read ahead (default 10).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _defaults_if_super_not_called(self):
        # A subclass that forgot super().__init__() still works, with the defaults,
        # and is told once: Keras warns the same way.
        missing = [a for a in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, a)]
        if missing:
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
            warnings.warn(f"{type(self).__name__} should call super().__init__(**kwargs) "
                          f"in its __init__ (kwargs may hold workers, use_multiprocessing, "
                          f"max_queue_size); using the defaults", stacklevel=3)

    @property
    def workers(self):
        """Threads that read batches ahead (1: none)."""
        self._defaults_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Keras's switch to worker processes; rnnkit supports only False."""
        self._defaults_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """How many batches the worker threads may read ahead."""
        self._defaults_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Batch number ``index``: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"__getitem__(index), returning batch number index")

    @property
    def num_batches(self):
        """The number of batches: ``len(self)``, or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__() (the "
                                  f"number of batches) or a num_batches property (None "
                                  f"for an endless dataset)")

    def __iter__(self):
        """The batches in order (all of them, or without end if ``num_batches`` is None)."""
        n = self.num_batches
        for index in (itertools.count() if n is None else range(n)):
            yield self[index]

    def on_epoch_begin(self):
        """Called before each epoch's first batch (override to prepare an epoch)."""

    def on_epoch_end(self):
        """Called after each epoch (override, e.g. to reshuffle your samples)."""


Sequence = PyDataset
