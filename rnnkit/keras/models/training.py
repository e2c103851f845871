"""``Trainer``: Keras's compile / fit / evaluate / predict, mixed into every model.

One training step (``train_on_batch`` or a step of ``fit``):

    y_pred = model(x, training=True)
    loss   = sum over outputs of loss_weight * sum(per_sample_loss * sample_weight) / n
             + sum(model.losses)                      # weight and activity penalties
    loss.backward(); optimizer.apply(grads, model.trainable_weights)

Metrics are means over the epoch so far: the ``loss`` is the mean of batch losses
weighted by batch size; accuracies and errors are means over every sample seen. Logs
reach callbacks as a dict with keys in sorted order (``accuracy``, ``loss``,
``val_accuracy``, ``val_loss``), as Keras on JAX reports them; ``fit`` returns the
``History`` whose ``.history`` maps each key to its per-epoch list.
"""
from __future__ import annotations

import math

import numpy as np

from rnnkit.autograd import no_grad
from rnnkit.keras import optimizers
from rnnkit.keras.layer import get_mask
from rnnkit.keras.metrics import Mean
from rnnkit.keras.models import data as D
from rnnkit.keras.models.compile_utils import CompiledLoss, CompiledMetrics
from rnnkit.keras.models.graph import flatten
from rnnkit.random import get_generator


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)


class Trainer:
    """The training API of ``Model`` and ``Sequential`` (see the module docstring)."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
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
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs (from ``initial_epoch``) in batches of ``batch_size``
        (32 by default); see the module docstring. Returns the History."""
        from rnnkit.keras.callbacks import CallbackList

        self._require_compiled("fit")
        for arg, value in (("steps_per_epoch", steps_per_epoch),
                           ("validation_steps", validation_steps)):
            if value is not None:
                raise ValueError(f"fit: {arg} is not supported by rnnkit (array data only)")
        if y is None:
            raise ValueError("fit: pass the targets y (datasets and generators are not "
                             "supported)")
        x, y, sample_weight = D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight)
        val = None
        if validation_data is not None:
            val = tuple(D.to_arrays(v) for v in D.unpack_validation(validation_data))
        elif validation_split:
            (x, y, sample_weight), val = D.split_validation(x, y, sample_weight,
                                                            validation_split)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("fit: pass class_weight or sample_weight, not both")
            sample_weight = D.class_weight_to_sample_weights(y, class_weight)
        n = D.num_samples(x, y, sample_weight)
        batch_size = D.check_batch_size(batch_size, "fit")
        verbose = _verbosity(verbose)
        steps = math.ceil(n / batch_size)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        rng = get_generator()
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs = {}
            for step, idx in enumerate(D.batch_indices(n, batch_size, shuffle, rng)):
                cbs.on_train_batch_begin(step)
                logs = self.train_step(D.take(x, idx), D.take(y, idx),
                                       D.take(sample_weight, idx))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate(*val, validation_batch_size or batch_size, cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return self.history

    def _evaluate(self, x, y, sample_weight, batch_size, cbs):
        n = D.num_samples(x, y, sample_weight)
        self.reset_metrics()
        cbs.on_test_begin()
        logs = {}
        for step, idx in enumerate(D.batch_indices(n, batch_size, False, None)):
            cbs.on_test_batch_begin(step)
            logs = self.test_step(D.take(x, idx), D.take(y, idx), D.take(sample_weight, idx))
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over the data: a number, a list ordered like
        ``metrics_names`` (loss first), or with ``return_dict`` a dict."""
        from rnnkit.keras.callbacks import CallbackList

        self._require_compiled("evaluate")
        if steps is not None:
            raise ValueError("evaluate: steps is not supported by rnnkit (array data only)")
        x, y, sample_weight = D.to_arrays(x), D.to_arrays(y), D.to_arrays(sample_weight)
        batch_size = D.check_batch_size(batch_size, "evaluate")
        n = D.num_samples(x, y, sample_weight)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=math.ceil(n / batch_size), mode="test")
        logs = self._evaluate(x, y, sample_weight, batch_size, cbs)
        return logs if return_dict else self._ordered(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The outputs for ``x``, batch by batch, as NumPy arrays (a list for several
        outputs)."""
        from rnnkit.keras.callbacks import CallbackList

        if steps is not None:
            raise ValueError("predict: steps is not supported by rnnkit (array data only)")
        x = D.to_arrays(x)
        batch_size = D.check_batch_size(batch_size, "predict")
        n = D.num_samples(x)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=math.ceil(n / batch_size), mode="predict")
        cbs.on_predict_begin()
        chunks = []
        for step, idx in enumerate(D.batch_indices(n, batch_size, False, None)):
            cbs.on_predict_batch_begin(step)
            chunks.append(self.predict_step(D.take(x, idx)))
            cbs.on_predict_batch_end(step, {"outputs": chunks[-1]})
        cbs.on_predict_end()
        # One batch: its outputs as they are (C-contiguous), not copied by a concatenation.
        outs = ([np.ascontiguousarray(o) for o in chunks[0]] if len(chunks) == 1 else
                [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(chunks[0]))])
        return outs[0] if len(outs) == 1 else outs
