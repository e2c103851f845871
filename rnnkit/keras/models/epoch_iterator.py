"""``EpochIterator``: how many batches each epoch takes, and from which pass over the data
(Keras 3's rule, for arrays, generators and PyDatasets alike).

    it = EpochIterator(adapter, steps=steps_per_epoch, fn="fit")
    for step in it.epoch():
        callbacks.on_train_batch_begin(step)
        batch = it.next_batch(step)          # (x, y, sample_weight), or None: ran out
        if batch is None:
            break
        ...

- Without ``steps``, an epoch is one whole pass: every batch of the arrays or of the
  PyDataset, or a generator until it stops. A generator's length is then learnt (one
  more than it gave) and each later epoch starts a fresh pass, which for a generator
  that has run dry is only the two batches it held from the start (see ``adapters``).
- With ``steps``, an epoch is ``steps`` batches and the pass goes on across epochs; when
  it ends (the arrays or the PyDataset are used up, or the generator stops) the epoch
  ends early, with a warning, and the next epoch starts a fresh pass.
- Running out of data always warns, naming the function; even a finite generator
  without ``steps`` warns at the end of each epoch, as in Keras.

The adapter's ``on_epoch_begin`` is called when an epoch starts and its ``on_epoch_end``
when the epoch ends (or the data runs out) and on every ``reset()``.
"""
from __future__ import annotations

import warnings


class EpochIterator:
    """Steps through ``adapter``'s data epoch by epoch; ``steps`` is None or the number
    of batches per epoch (``steps_per_epoch``, ``validation_steps``, ``steps``)."""

    def __init__(self, adapter, steps=None, fn="fit"):
        self.adapter, self.steps, self.fn = adapter, steps, fn
        self._iterator = None
        self._seen = 0                     # batches taken from the current pass
        self._num_batches = adapter.num_batches

    @property
    def num_batches(self):
        """Batches per epoch, as the progress bar and callbacks' ``params["steps"]``
        see them: ``steps`` if given, else the data's length (None while unknown)."""
        return self.steps or self._num_batches

    def peek(self):
        """What Keras does to build a model before training: look at a first batch."""
        self.adapter.peek()

    def reset(self):
        """Forget the current pass (the next epoch starts a fresh one) and end the
        adapter's epoch."""
        self._drop_iterator()
        self._seen = 0
        self._num_batches = self.adapter.num_batches
        self.adapter.on_epoch_end()

    def _drop_iterator(self):
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()
        self._iterator = None

    def _fresh_iterator(self):
        self._drop_iterator()
        self._iterator = iter(self.adapter.iterator())
        self._seen = 0

    def epoch(self):
        """The step numbers of one epoch (0, 1, ...); take each step's batch with
        ``next_batch``."""
        self.adapter.on_epoch_begin()
        limit = self.steps or self._num_batches
        if limit is None:                  # unknown length: until the data runs out
            self._fresh_iterator()
            step = 0
            while True:
                yield step
                step += 1
        if self._iterator is None or self.steps is None:
            self._fresh_iterator()
        for step in range(limit):
            if self._num_batches and self._seen >= self._num_batches:
                if self.steps:
                    self._warn_ran_out(step)
                break
            yield step
        if self._num_batches and self._seen >= self._num_batches:
            self._drop_iterator()          # used up: the next epoch starts a new pass
        self.adapter.on_epoch_end()

    def next_batch(self, step):
        """The batch of ``step``: a tuple (x, y, sample_weight), or None when the data
        has run out (after a warning; the epoch is over)."""
        self._seen += 1
        try:
            return next(self._iterator)
        except StopIteration:
            if self._num_batches is None:
                self._num_batches = self._seen
            self._warn_ran_out(step)
            self._iterator = None
            self.adapter.on_epoch_end()
            return None

    def _warn_ran_out(self, step):
        needed = ("steps_per_epoch * epochs batches" if self.fn == "fit" else
                  "as many batches as steps")
        warnings.warn(f"{self.fn}: the data ran out after {step} batch(es) of this epoch, "
                      f"which ends here. A generator or dataset should provide {needed} "
                      f"(a generator can loop over its data: while True: ...)",
                      UserWarning, stacklevel=4)
