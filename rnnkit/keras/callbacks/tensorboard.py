"""``TensorBoard``: the logs of ``fit`` (and ``evaluate``) as TensorBoard event files.

    model.fit(x, y, validation_split=0.2, callbacks=[TensorBoard(log_dir="logs")])
    # then: tensorboard --logdir logs

Written as Keras 3 writes them (its ``callbacks/tensorboard.py``), through the optional
tensorboardX writer (``rnnkit.tensorboard``):

- ``log_dir/train``: ``epoch_<metric>`` (``epoch_loss``, ``epoch_accuracy``...) and
  ``epoch_learning_rate`` at step ``epoch`` (from 0); with ``update_freq`` "batch" or
  n, ``batch_<metric>`` every n-th batch at step = batches so far; with
  ``histogram_freq`` n, every weight's histogram ``<weight path>/histogram`` every
  n-th epoch; with ``write_graph``, the model's JSON under ``keras`` (step 0), which
  TensorBoard's Graphs tab draws; with ``write_steps_per_second``,
  ``epoch_steps_per_second`` (and ``batch_steps_per_second``).
- ``log_dir/validation``: the ``val_`` logs of each epoch without their prefix
  (``epoch_loss``...), and after every evaluation ``evaluation_<metric>_vs_iterations``
  at step = the optimizer's iterations.
"""
from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from rnnkit.keras.callbacks.base import Callback


class TensorBoard(Callback):
    """``TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True,
    write_images=False, write_steps_per_second=False, update_freq="epoch",
    profile_batch=0, embeddings_freq=0, embeddings_metadata=None)``.

    log_dir: the directory of the run (``train/`` and ``validation/`` go inside).
    histogram_freq: every how many epochs to write weight histograms (0: never).
    write_graph: write the model's JSON for TensorBoard's Graphs tab.
    write_steps_per_second: also log training steps per second.
    update_freq: "epoch" (epoch logs only), "batch" (also every batch's running logs) or
    an int n (every n-th batch). write_images, profile_batch, embeddings_freq and
    embeddings_metadata need TensorFlow: anything but their defaults is an error.
    Needs tensorboardX (``pip install "rnnkit[tensorboard]"``).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True,
                 write_images=False, write_steps_per_second=False, update_freq="epoch",
                 profile_batch=0, embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        unsupported = {"write_images": (write_images, False),
                       "profile_batch": (profile_batch, 0),
                       "embeddings_freq": (embeddings_freq, 0),
                       "embeddings_metadata": (embeddings_metadata, None)}
        for name, (value, default) in unsupported.items():
            if value != default:
                raise ValueError(f"TensorBoard: {name}={value!r} is not supported by rnnkit "
                                 f"(Keras needs TensorFlow for it); leave it at {default!r}")
        if isinstance(histogram_freq, bool) or not isinstance(
                histogram_freq, (int, np.integer)) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got "
                             f"{histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(
                update_freq, (int, np.integer)) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a "
                             f"positive integer, got {update_freq!r}")
        from rnnkit import tensorboard

        tensorboard._tensorboardx()      # a missing tensorboardX is reported here, at once
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_iterations = 0

    # -- writers --------------------------------------------------------------------------
    def _writer(self, part):
        """The writer of ``train`` or ``validation``, made when first needed (a run
        without validation leaves no validation/ directory)."""
        if part not in self._writers:
            from rnnkit.tensorboard import SummaryWriter

            self._writers[part] = SummaryWriter(os.path.join(self.log_dir, part))
        return self._writers[part]

    def _close(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        """Start a fresh set of writers for ``model`` (and write its graph)."""
        super().set_model(model)
        self._close()
        if self.write_graph:
            self._write_model_json()

    def _write_model_json(self):
        from rnnkit.keras.models.functional import Model
        from rnnkit.keras.models.saving import serialize_layer

        if not isinstance(self.model, Model):
            return
        try:
            text = json.dumps(serialize_layer(self.model))
        except (ValueError, TypeError) as e:
            warnings.warn(f"TensorBoard: the model failed to serialize as JSON; no graph "
                          f"is written ({e})", stacklevel=3)
            return
        writer = self._writer("train")
        writer.add_keras_model(text, step=0)
        writer.flush()

    # -- training -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        step, writer = self._global_train_batch, self._writer("train")
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second",
                              1.0 / max(time.time() - self._batch_start, 1e-9), step)
        writer.add_scalars(logs or {}, step, prefix="batch_")

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = time.time()
            self._epoch_start_iterations = self._iterations() or 0

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if logs and self.write_steps_per_second:
            steps = (self._iterations() or 0) - self._epoch_start_iterations
            train["steps_per_second"] = steps / max(time.time() - self._epoch_start, 1e-9)
        if train:
            self._writer("train").add_scalars(train, epoch, prefix="epoch_")
        if val:
            self._writer("validation").add_scalars(val, epoch, prefix="epoch_")
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for weight in layer.weights:
                    writer.add_histogram(f"{weight.path.replace(':', '_')}/histogram",
                                         weight.numpy(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._close()

    # -- evaluation -----------------------------------------------------------------------
    def _iterations(self):
        return getattr(getattr(self.model, "optimizer", None), "iterations", None)

    def on_test_end(self, logs=None):
        step = self._iterations()
        if step is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, int(step))
        writer.flush()
