"""The model of ``rnnkit classify`` and its directory: built from a config, weights
stored by path, read back for ``evaluate`` and ``predict``.

config (the manifest's): ``input`` ("text" or "ids"), ``tokens`` ("word", "char" or
None for ids), ``standardize``, ``maxlen``, ``truncate``, ``vocab_size``, ``cell``
("lstm", "gru", "simplernn"), ``bidirectional``, ``units``, ``embed_dim``, ``dropout``,
``classes`` (names; a label is an index into them). The directory holds that manifest,
``weights.rnnkit`` (``{weight path: array}``) and, for text models, ``vocab.json``
(``{"tokens": [...]}``, TextVectorization's vocabulary, padding and unknown first).
"""
from __future__ import annotations

import math

from rnnkit.apps.common import AppError

CELLS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
MAXLEN = {"word": 200, "char": 500}    # default maxlen by token kind


def build_model(config):
    """The Keras model a config describes, built for (batch, maxlen) int ids. Layer names
    are fixed, so weight paths (``lstm/lstm_cell/kernel``...) name the same weights in
    every process."""
    from rnnkit.keras import layers, models

    rnn = getattr(layers, CELLS[config["cell"]])(config["units"], name=config["cell"])
    if config["bidirectional"]:
        rnn = layers.Bidirectional(rnn, name="bidirectional")
    stack = [layers.Embedding(config["vocab_size"], config["embed_dim"], mask_zero=True,
                              name="embedding"), rnn]
    if config["dropout"]:
        stack.append(layers.Dropout(config["dropout"], name="dropout"))
    n = len(config["classes"])
    stack.append(layers.Dense(1, activation="sigmoid", name="dense") if n == 2
                 else layers.Dense(n, activation="softmax", name="dense"))
    model = models.Sequential(stack, name="classifier")
    model.build((None, config["maxlen"]))
    return model


def get_weights(model):
    """``{weight path: array copy}``: what the model directory stores."""
    return {v.path: v.numpy().copy() for v in model.weights}


def set_weights(model, weights, where):
    """Assign ``weights`` (``{weight path: array}``) to ``model``; a missing weight or
    one of another shape is an AppError naming ``where`` (the directory)."""
    for v in model.weights:
        value = weights.get(v.path)
        if value is None or tuple(value.shape) != tuple(v.shape):
            found = "missing" if value is None else f"of shape {tuple(value.shape)}"
            raise AppError(f"{where}: weight {v.path!r} of shape {tuple(v.shape)} is "
                           f"{found} (a damaged model directory?)")
        v.assign(value)


def probabilities(model, x, batch_size, report, desc="predicting"):
    """float64 (items, classes): each item's class probabilities."""
    import numpy as np

    from rnnkit.keras import callbacks

    if len(x) == 0:
        raise AppError("there is nothing to classify")
    with report.progress(math.ceil(len(x) / batch_size), desc, unit="batch") as bar:
        step = callbacks.LambdaCallback(on_predict_batch_end=lambda b, logs: bar.update())
        out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0,
                                       callbacks=[step]), np.float64)
    if out.shape[1] == 1:
        return np.concatenate([1 - out, out], axis=1)
    return out


# What each config entry must be, so a damaged manifest is named, not a KeyError later.
_CONFIG = {"input": ("text", "ids"), "tokens": ("word", "char", None),
           "standardize": ("lower_and_strip_punctuation", "lower", "strip_punctuation", None),
           "maxlen": int, "truncate": ("pre", "post"), "vocab_size": int,
           "cell": tuple(CELLS), "bidirectional": bool, "units": int, "embed_dim": int,
           "dropout": float, "classes": list}


def check_config(config, where):
    """An AppError naming the first entry of ``config`` that is missing or wrong."""
    if not isinstance(config, dict):
        raise AppError(f"{where}: the manifest's config is not an object (damaged?)")
    for key, expected in _CONFIG.items():
        value = config.get(key, KeyError)
        if isinstance(expected, tuple):
            ok = value in expected
        elif expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected) and not (expected is int and isinstance(value,
                                                                                    bool))
        if not ok:
            found = "missing" if value is KeyError else f"{value!r}"
            raise AppError(f"{where}: the manifest's config entry {key!r} is {found} (a "
                           f"damaged model directory, or one of an older rnnkit)")
    if len(config["classes"]) < 2 or not all(isinstance(c, str) for c in config["classes"]):
        raise AppError(f"{where}: the manifest's classes {config['classes']!r} are not two "
                       f"or more names")


class Loaded:
    """A classify model directory read back: ``config``, ``metadata``, the Keras
    ``model`` and, for text models, the ``vectorizer`` with its vocabulary."""

    def __init__(self, path):
        from rnnkit.apps import classify_data
        from rnnkit.apps.modeldir import ModelDir

        directory = ModelDir(path)
        doc = directory.manifest("classify")
        self.config, self.metadata = doc["config"], doc["metadata"]
        check_config(self.config, path)
        self.model = build_model(self.config)
        set_weights(self.model, directory.load("weights"), path)
        self.vectorizer = None
        if self.config["input"] == "text":
            vocabulary = directory.load_json("vocab")["tokens"]
            if len(vocabulary) != self.config["vocab_size"]:
                raise AppError(f"{path!r}: vocab.json holds {len(vocabulary)} tokens, the "
                               f"model {self.config['vocab_size']} (a damaged directory?)")
            self.vectorizer = classify_data.vectorizer(
                self.config["tokens"], self.config["standardize"], vocabulary=vocabulary)

    def ids(self, items, report):
        """Texts (or, for an ids model, id lists) as the model's input (items, maxlen)."""
        from rnnkit.apps import classify_data

        c = self.config
        if self.vectorizer is None:
            return classify_data.pad_ids(items, c["maxlen"], c["truncate"])
        with report.progress(len(items), "tokenizing", unit="text") as bar:
            return classify_data.encode(self.vectorizer, items, c["maxlen"], c["truncate"],
                                        progress=bar)
