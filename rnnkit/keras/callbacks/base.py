"""The callback protocol: ``Callback``, the ``CallbackList`` the trainer dispatches to,
and the two callbacks ``fit`` adds itself, ``History`` and ``ProgbarLogger``.

A callback overrides any of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)``, ``on_train_batch_begin/end(batch, logs)`` and the ``test``/``predict``
counterparts; it sees the model as ``self.model`` and stops training by setting
``self.model.stop_training = True``. ``logs`` holds the running metric means (per batch)
or the epoch's results plus ``val_*`` entries (at epoch end).
"""
from __future__ import annotations

from rnnkit.keras.progbar import Progbar

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model, self.params = None, {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """The user's callbacks plus History (fit) and ProgbarLogger (verbose), dispatched
    in that order."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 mode="train", **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected Callback instances, got {cb!r}")
        if add_history:
            self.callbacks.append(History())
        if add_progbar:
            self.callbacks.append(ProgbarLogger(mode))
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(dict(params))

    def __getattr__(self, hook):
        if hook not in _HOOKS:
            raise AttributeError(hook)

        takes_index = "batch" in hook or "epoch" in hook

        def dispatch(*args):
            if len(args) < 1 + takes_index:           # every hook receives a logs dict
                args = args + ({},)
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return dispatch


class History(Callback):
    """Records each epoch's logs: ``history.history = {"loss": [...], ...}``,
    ``history.epoch = [0, 1, ...]``; ``fit`` returns it and sets ``model.history``."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}
        self.model.history = self

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class ProgbarLogger(Callback):
    """Prints "Epoch i/n" and a Keras progress bar (verbose 1) or a line per epoch (2).

    For data of unknown length (a generator without steps) the bar counts
    "step/Unknown"; the number of steps the first epoch made then becomes the target of
    the following ones, as in Keras."""

    def __init__(self, mode="train"):
        super().__init__()
        self.mode = mode
        self.progbar, self.seen, self.target = None, 0, None

    def set_params(self, params):
        super().set_params(params)
        self.target = params.get("steps")

    def _bar(self):
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.params.get("verbose", 1))

    def _update(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs=None):
        if self.target is None:
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)

    def on_epoch_begin(self, epoch, logs=None):
        if self.params.get("epochs", 1) > 1:
            print(f"Epoch {epoch + 1}/{self.params['epochs']}")
        self._bar()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_begin(self, logs=None):
        if self.mode == "test":
            self._bar()

    def on_test_batch_end(self, batch, logs=None):
        if self.mode == "test":
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if self.mode == "test":
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch)

    def on_predict_end(self, logs=None):
        self._finalize()


class LambdaCallback(Callback):
    """A callback from plain functions: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``, or any
    other hook name."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; known: {_HOOKS}")
            if fn is not None:
                setattr(self, name, fn)
