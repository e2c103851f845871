"""``Trainer``: Keras's compile / fit / evaluate / predict, mixed into every model.

One training step (``train_on_batch`` or a step of ``fit``):

    y_pred = model(x, training=True)
    loss   = sum over outputs of loss_weight * sum(per_sample_loss * sample_weight) / n
             + sum(model.losses)                      # weight and activity penalties
    loss.backward(); optimizer.apply(grads, model.trainable_weights)

Data comes as arrays, a Python generator or a ``utils.PyDataset`` (see ``adapters``);
``EpochIterator`` decides which batches make each epoch, by Keras 3's rules.

Metrics are means over the epoch so far: the ``loss`` is the mean of batch losses
weighted by batch size; accuracies and errors are means over every sample seen. Logs
reach callbacks as a dict with keys in sorted order (``accuracy``, ``loss``,
``val_accuracy``, ``val_loss``), as Keras on JAX reports them; ``fit`` returns the
``History`` whose ``.history`` maps each key to its per-epoch list.
"""
from __future__ import annotations

import numpy as np

from rnnkit.autograd import no_grad
from rnnkit.keras import optimizers
from rnnkit.keras.layer import get_mask
from rnnkit.keras.metrics import Mean
from rnnkit.keras.models import adapters as A
from rnnkit.keras.models import data as D
from rnnkit.keras.models.compile_utils import CompiledLoss, CompiledMetrics
from rnnkit.keras.models.epoch_iterator import EpochIterator
from rnnkit.keras.models.graph import flatten


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)


class Trainer:
    """The training API of ``Model`` and ``Sequential`` (see the module docstring)."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = self.stop_evaluating = self.stop_predicting = False
        self.history = None
        self._compiled_loss = self._compiled_metrics = None
        self._loss_tracker = Mean(name="loss")
        self._part_trackers = []

    # -- compile --------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer (a name like "rmsprop"/"adam"/"sgd" or an instance), the
        loss (a name like "binary_crossentropy"/"mse", a Loss, a function, or one per
        output as a list/dict), ``loss_weights`` per output, and the metrics ("accuracy",
        "mae", ...). ``run_eagerly`` and ``jit_compile`` are accepted for compatibility:
        rnnkit always runs eagerly, with the same numbers either way."""
        if steps_per_execution != 1:
            raise ValueError(f"compile: steps_per_execution={steps_per_execution} is not "
                             f"supported by rnnkit (only 1)")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._compiled_loss = CompiledLoss(loss, loss_weights) if loss is not None else None
        self._compiled_metrics = CompiledMetrics(metrics, weighted_metrics)
        self._part_trackers = []
        self._compile_config = {"loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics, "weighted_metrics": weighted_metrics}
        self.compiled = True

    def _require_compiled(self, fn):
        if not self.compiled:
            raise RuntimeError(f"{fn}: call model.compile(optimizer, loss, metrics) first")

    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, then each output's loss tracker."""
        out = [self._loss_tracker]
        if self._compiled_metrics is not None:
            out += self._compiled_metrics.metrics
        return out + self._part_trackers

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    # -- one batch ------------------------------------------------------------------------
    def _structure(self, y, y_pred, sample_weight):
        """Per-output lists of targets, predictions, sample weights and masks."""
        preds = flatten(y_pred)
        n = len(preds)
        if y is None:
            targets = [None] * n
        elif n == 1:
            targets = [y[0] if isinstance(y, (list, tuple)) and len(y) == 1 else y]
        else:
            if not isinstance(y, (list, tuple)) or len(y) != n:
                raise ValueError(f"the model has {n} outputs; pass y as a list of {n} arrays")
            targets = list(y)
        if isinstance(sample_weight, (list, tuple)):
            if len(sample_weight) != n:
                raise ValueError(f"sample_weight: expected {n} arrays (one per output), got "
                                 f"{len(sample_weight)}")
            weights = list(sample_weight)
        else:
            weights = [sample_weight] * n
        masks = [get_mask(p) for p in preds]
        return targets, preds, weights, masks

    def _build_compiled(self, targets, preds):
        names = self.output_names if len(preds) > 1 else [self.output_names[0]]
        if self._compiled_loss is not None and not self._compiled_loss.built:
            self._compiled_loss.build(names, targets, preds)
            self._part_trackers = [Mean(name=n) for n in self._compiled_loss.names]
        if not self._compiled_metrics.built:
            self._compiled_metrics.build(names, targets, preds)

    def _loss_and_update(self, x, y, sample_weight, training):
        y_pred = self(x, training=training)
        targets, preds, weights, masks = self._structure(y, y_pred, sample_weight)
        self._build_compiled(targets, preds)
        if self._compiled_loss is None:
            raise ValueError("compile() was given no loss; pass loss= to compile")
        loss, parts = self._compiled_loss(targets, preds, weights, masks)
        for penalty in self.losses:
            loss = loss + penalty
        batch = len(flatten(x)[0])
        self._loss_tracker.update_state(float(loss.data), batch)
        for tracker in self._part_trackers:
            tracker.update_state(parts[tracker.name], batch)
        self._compiled_metrics.update_state(targets, [p.data for p in preds], weights, masks)
        return loss

    def train_step(self, x, y, sample_weight=None):
        """One optimizer step on a batch; returns the logs (running means)."""
        loss = self._loss_and_update(x, y, sample_weight, training=True)
        variables = self.trainable_weights
        for v in self.weights:
            v.grad = None
        if loss.requires_grad:
            loss.backward()
        self.optimizer.apply([v.grad for v in variables], variables)
        return self._logs()

    def test_step(self, x, y, sample_weight=None):
        """Loss and metrics of a batch, no update; returns the logs (running means)."""
        with no_grad():
            self._loss_and_update(x, y, sample_weight, training=False)
        return self._logs()

    def predict_step(self, x):
        with no_grad():
            out = self(x, training=False)
        return [o.data for o in flatten(out)]

    def _logs(self):
        logs = {m.name: m.result() for m in self.metrics}
        return dict(sorted(logs.items()))

    def _ordered(self, logs):
        """Logs as Keras returns them from evaluate: the loss, each output's loss, then
        the metrics (compile order for one output), a single number when alone."""
        names = [self._loss_tracker.name] + [t.name for t in self._part_trackers]
        metric_names = [m.name for m in self._compiled_metrics.metrics]
        names += metric_names if len(self._part_trackers) == 0 else sorted(metric_names)
        values = [logs[k] for k in names if k in logs]
        return values[0] if len(values) == 1 else values

    # -- batch methods --------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One step on one batch; the loss (and metrics) of that batch before the step."""
        self._require_compiled("train_on_batch")
        x, y, sample_weight = D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("train_on_batch: pass class_weight or sample_weight, not both")
            sample_weight = D.class_weight_to_sample_weights(y, class_weight)
        self.reset_metrics()
        logs = self.train_step(x, y, sample_weight)
        return logs if return_dict else self._ordered(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        logs = self.test_step(D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight))
        return logs if return_dict else self._ordered(logs)

    def predict_on_batch(self, x):
        out = self.predict_step(D.to_arrays(x))
        return out[0] if len(out) == 1 else out

    # -- whole datasets -------------------------------------------------------------------
    def _needs_build(self):
        """Whether Keras would build something on a first batch before the loop: the
        model's layers or the compiled loss and metrics."""
        return (not self.built
                or (self._compiled_loss is not None and not self._compiled_loss.built)
                or (self._compiled_metrics is not None and not self._compiled_metrics.built))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs (from ``initial_epoch``); returns the History.

        x: arrays (with targets ``y``, in batches of ``batch_size``, 32 by default), a
        generator yielding ``(x, y)`` / ``(x, y, sample_weight)`` batches, or a
        ``utils.PyDataset``. ``steps_per_epoch`` batches make an epoch (default: one
        pass over the data; see ``epoch_iterator`` for what happens when data runs
        out). ``validation_data``: ``(x_val, y_val[, sample_weight_val])``, a generator
        or a PyDataset, evaluated after every ``validation_freq``-th epoch on
        ``validation_steps`` batches (default: all); ``validation_split`` (arrays only)
        holds out the last fraction of the samples instead.
        """
        from rnnkit.keras.callbacks import CallbackList

        self._require_compiled("fit")
        steps_per_epoch = _check_steps(steps_per_epoch, "fit", "steps_per_epoch")
        validation_steps = _check_steps(validation_steps, "fit", "validation_steps")
        if validation_split and validation_data is None:
            if not A.is_array_data(x):
                raise ValueError("fit: validation_split needs array data; with a generator "
                                 "or a PyDataset pass validation_data= instead")
            x, y, sample_weight = D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight)
            (x, y, sample_weight), validation_data = D.split_validation(
                x, y, sample_weight, validation_split)
        val = None if validation_data is None else A.unpack_validation(validation_data)

        def validation_iterator():
            adapter = A.get_adapter("fit", *val, validation_batch_size or _val_batch(
                batch_size, val), validation_steps, False, batch_arg="validation_batch_size")
            return EpochIterator(adapter, validation_steps, "fit")

        # Array validation data is checked now; a generator is read when first needed,
        # as Keras reads it.
        val_iterator = validation_iterator() if val and A.is_array_data(val[0]) else None
        train = EpochIterator(A.get_adapter("fit", x, y, sample_weight, batch_size,
                                            steps_per_epoch, shuffle, class_weight),
                              steps_per_epoch, "fit")
        self._prepare(train)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=train.num_batches)
        self.stop_training = False
        cbs.on_train_begin()
        logs, epoch_logs = {}, {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            for step in train.epoch():
                cbs.on_train_batch_begin(step)
                batch = train.next_batch(step)
                if batch is None:
                    break
                logs = self.train_step(*batch)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            # An epoch that got no batch reports the last one's logs, as Keras does.
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                if val_iterator is None:
                    val_iterator = validation_iterator()
                self._prepare(val_iterator)
                val_logs = self._test_epoch(val_iterator, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return self.history

    def _prepare(self, iterator):
        """Before a loop, as Keras: a look at a first batch if something is unbuilt,
        then a fresh start (which ends the data's epoch)."""
        if self._needs_build():
            iterator.peek()
        iterator.reset()

    def _test_epoch(self, iterator, cbs):
        """The loss and metrics over one epoch of ``iterator`` (no update)."""
        self.reset_metrics()
        self.stop_evaluating = False
        cbs.on_test_begin()
        logs = {}
        for step in iterator.epoch():
            cbs.on_test_batch_begin(step)
            batch = iterator.next_batch(step)
            if batch is None:
                break
            logs = self.test_step(*batch)
            cbs.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over the data (arrays with ``y``, a generator or a
        PyDataset, as for ``fit``; ``steps`` batches, default all): a number, a list
        ordered like ``metrics_names`` (loss first), or with ``return_dict`` a dict."""
        from rnnkit.keras.callbacks import CallbackList

        self._require_compiled("evaluate")
        steps = _check_steps(steps, "evaluate", "steps")
        iterator = EpochIterator(A.get_adapter("evaluate", x, y, sample_weight, batch_size,
                                               steps), steps, "evaluate")
        self._prepare(iterator)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=iterator.num_batches, mode="test")
        logs = self._test_epoch(iterator, cbs)
        return logs if return_dict else self._ordered(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The outputs for ``x`` (arrays, a generator yielding ``x`` or ``(x,)`` batches
        (``(x, y)`` too: y is not used), or a PyDataset), ``steps`` batches (default
        all), as NumPy arrays (a list for several outputs)."""
        from rnnkit.keras.callbacks import CallbackList

        steps = _check_steps(steps, "predict", "steps")
        iterator = EpochIterator(A.get_adapter("predict", x, batch_size=batch_size,
                                               steps=steps), steps, "predict")
        if not self.built:
            iterator.peek()
            iterator.reset()
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=iterator.num_batches, mode="predict")
        self.stop_predicting = False
        cbs.on_predict_begin()
        chunks = []
        for step in iterator.epoch():
            cbs.on_predict_batch_begin(step)
            batch = iterator.next_batch(step)
            if batch is None:
                break
            chunks.append(self.predict_step(batch[0]))
            cbs.on_predict_batch_end(step, {"outputs": chunks[-1]})
            if self.stop_predicting:
                break
        cbs.on_predict_end()
        if not chunks:
            raise ValueError("predict: the data gave no batch to predict on")
        # One batch: its outputs as they are (C-contiguous), not copied by a concatenation.
        outs = ([np.ascontiguousarray(o) for o in chunks[0]] if len(chunks) == 1 else
                [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(chunks[0]))])
        return outs[0] if len(outs) == 1 else outs


def _check_steps(steps, fn, arg):
    """None, or a positive number of batches."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"{fn}: {arg} must be a positive integer or None, got {steps!r}")
    return int(steps)


def _val_batch(batch_size, val):
    """The validation batch size: fit's own, for array validation data only (a
    generator's batches are made already)."""
    return batch_size if A.is_array_data(val[0]) else None
