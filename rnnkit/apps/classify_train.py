"""``rnnkit classify train``: data in, the best epoch's model directory out.

:func:`prepare` turns the options into arrays (the texts read, the validation part
held out, the vocabulary learned on the training part, every text padded or cut);
:func:`run` builds the model, trains it with ``fit`` and keeps the best epoch. The
benchmark calls ``prepare`` too, so PyTorch trains on exactly these arrays.
"""
from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from rnnkit.apps import classify_data as data
from rnnkit.apps.classify_model import (CELLS, MAXLEN, build_model, get_weights,
                                        probabilities, set_weights)
from rnnkit.apps.common import AppError, Reporter


@dataclasses.dataclass
class Prepared:
    """The arrays of a run: ``x_*`` int32 (texts, maxlen) and ``y_*`` int64 (texts,)
    for the train, validation and test parts (None when a part is absent), the model's
    ``config`` (see ``classify_model``), the ``vocabulary`` (text data) and the corpus's
    ``source``."""
    config: dict
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    vocabulary: list | None


def check_args(args):
    """Option values argparse cannot check alone (ranges), as AppErrors."""
    if not 0 <= args.dropout < 1:
        raise AppError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0 <= args.val_split < 1:
        raise AppError(f"--val-split must be in [0, 1), got {args.val_split}")
    if args.max_tokens < 3:
        raise AppError(f"--max-tokens must be >= 3 (padding, unknown and one token), got "
                       f"{args.max_tokens}")


def _tokenization(args, corpus):
    """(tokens, standardize) of the options; None, None for data already tokenized."""
    for option, value in (("--tokens", args.tokens), ("--standardize", args.standardize)):
        if corpus.kind == "ids" and value is not None:
            raise AppError(f"{option} {value}: {corpus.source} is already tokenized "
                           f"(word ids); leave {option} out")
    if corpus.kind == "ids":
        return None, None
    tokens = args.tokens or "word"
    if args.standardize is None:
        return tokens, data.STANDARDIZE[tokens]
    return tokens, None if args.standardize == "none" else args.standardize


def prepare(args, report):
    """The :class:`Prepared` arrays of the parsed ``classify train`` options."""
    check_args(args)
    corpus = data.load(args.data, args.dataset, num_words=args.max_tokens)
    tokens, standardize = _tokenization(args, corpus)
    maxlen = args.maxlen or MAXLEN[tokens or "word"]
    rng = np.random.default_rng(args.seed)
    train = data.subsample(corpus.train, args.limit, rng)
    test = None if corpus.test is None else data.subsample(corpus.test, args.limit, rng)
    val = None
    if args.val_split > 0:
        keep, held = data.stratified_split(train.labels, args.val_split, rng)
        train, val = train.take(keep), train.take(held)
    if val is None and test is None:
        raise AppError(f"{corpus.source} has no test/ part, so --val-split must be > 0 to "
                       f"measure accuracy")
    counts = ", ".join(f"{name} {int((train.labels == i).sum())}"
                       for i, name in enumerate(corpus.classes))
    report.say(f"data: {corpus.source}: {len(corpus.classes)} classes; {len(train)} "
               f"training texts ({counts}), {len(val) if val else 0} validation, "
               f"{len(test) if test else 0} test")

    parts = (train, val, test)
    vocabulary = None
    if corpus.kind == "text":
        vectorize = data.vectorizer(tokens, standardize, max_tokens=args.max_tokens)
        with report.progress(len(train), "vocabulary", unit="text") as bar:
            data.adapt(vectorize, train.items, progress=bar)
        vocabulary = vectorize.get_vocabulary()
        with report.progress(sum(len(p) for p in parts if p), "tokenizing",
                             unit="text") as bar:
            xs = [None if p is None else data.encode(vectorize, p.items, maxlen,
                                                     args.truncate, progress=bar)
                  for p in parts]
    else:
        xs = [None if p is None else data.pad_ids(p.items, maxlen, args.truncate)
              for p in parts]
    config = {"input": corpus.kind, "tokens": tokens, "standardize": standardize,
              "maxlen": maxlen, "truncate": args.truncate,
              "vocab_size": len(vocabulary) if vocabulary else args.max_tokens,
              "cell": args.cell, "bidirectional": args.bidirectional, "units": args.units,
              "embed_dim": args.embed_dim, "dropout": args.dropout,
              "classes": corpus.classes}
    ys = [None if p is None else p.labels for p in parts]
    return Prepared(config, corpus.source, xs[0], ys[0], xs[1], ys[1], xs[2], ys[2],
                    vocabulary)


def _check_out(path):
    """Refuse, before any work, an output directory that holds another app's model."""
    from rnnkit.apps import modeldir

    directory = modeldir.ModelDir(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise AppError(f"--out {os.fspath(path)!r} exists and is not a directory")
    if directory.has(modeldir.MANIFEST):
        directory.manifest("classify")      # refuses another app's directory


def _open_out(path):
    """The output model directory, created; an earlier classify model there is replaced:
    its manifest goes first, so the directory never passes for a model while it holds a
    mix of two, and its vocabulary, which a model of word ids would not overwrite."""
    from rnnkit.apps import modeldir

    _check_out(path)
    directory = modeldir.ModelDir(path).create()
    for name in (modeldir.MANIFEST, "vocab.json"):
        if directory.has(name):
            os.remove(directory.file(name))
    return directory


def _epoch_bridge(report, epochs, on_epoch):
    """A Keras callback: each batch moves the progress bar, each epoch's logs go to the
    Reporter (metrics.csv, TensorBoard) and then to ``on_epoch(epoch, logs)``."""
    from rnnkit.keras import callbacks

    class EpochBridge(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.bar = report.progress(self.params.get("steps"),
                                       f"epoch {epoch + 1}/{epochs}", unit="batch")

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(loss=logs["loss"], accuracy=logs["accuracy"])

        def on_epoch_end(self, epoch, logs=None):
            self.bar.close()
            row = {k: float(v) for k, v in logs.items()}
            row["seconds"] = round(time.perf_counter() - self.started, 3)
            report.log(epoch + 1, **row)
            on_epoch(epoch, row)

    return EpochBridge()


def run(args):
    """``rnnkit classify train``; see the module docstring of ``rnnkit.apps.classify``."""
    from rnnkit.keras import optimizers, utils

    started = time.perf_counter()
    check_args(args)
    _check_out(args.out)
    report = Reporter(args, args.out)    # metrics.csv is written from the first epoch on
    p = prepare(args, report)
    out = _open_out(args.out)            # only now: a mistake above leaves DIR as it was
    config = p.config
    if p.vocabulary is not None:
        out.save_json("vocab", {"tokens": p.vocabulary})

    utils.set_random_seed(args.seed)
    model = build_model(config)
    classes = config["classes"]
    binary = len(classes) == 2
    model.compile(optimizer=optimizers.Adam(learning_rate=args.lr),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    report.say(f"model: Embedding({config['vocab_size']}, {args.embed_dim}) -> "
               f"{'Bidirectional ' if args.bidirectional else ''}{CELLS[args.cell]}"
               f"({args.units}) -> Dense({1 if binary else len(classes)}), "
               f"{model.count_params():,} parameters; {config['maxlen']} "
               f"{config['tokens'] or 'word'} tokens per text")

    def targets(y):
        return y.astype(np.float32 if binary else np.int64)

    has_val, has_test = p.x_val is not None, p.x_test is not None
    metadata = {"data": p.source, "train_texts": len(p.y_train),
                "val_texts": len(p.y_val) if has_val else 0,
                "test_texts": len(p.y_test) if has_test else 0, "epochs": args.epochs,
                "batch_size": args.batch_size, "lr": args.lr, "val_split": args.val_split,
                "seed": args.seed}
    best = {"val_accuracy": None, "epoch": 0, "weights": None}

    def on_epoch(epoch, logs):
        # The best epoch is the first with the highest validation accuracy; without a
        # validation part, the last one.
        improved = not has_val or best["val_accuracy"] is None or (
            logs["val_accuracy"] > best["val_accuracy"])
        if improved:
            best.update(val_accuracy=logs.get("val_accuracy"), epoch=epoch + 1,
                        weights=get_weights(model))
            out.save("weights", best["weights"])
            out.write_manifest("classify", config, {**metadata, "best_epoch": epoch + 1,
                                                    "val_accuracy": logs.get("val_accuracy")})
        line = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "seconds")
        report.say(f"epoch {epoch + 1}/{args.epochs}: {line}  ({logs['seconds']:.1f} s)"
                   + ("  best so far, saved" if improved and has_val else ""))

    model.fit(p.x_train, targets(p.y_train), batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(p.x_val, targets(p.y_val)) if has_val else None,
              callbacks=[_epoch_bridge(report, args.epochs, on_epoch)], verbose=0)
    set_weights(model, best["weights"], out.path)

    metrics = {}
    if has_test:
        probs = probabilities(model, p.x_test, 256, report, desc="testing")
        metrics["test_accuracy"] = float((probs.argmax(axis=1) == p.y_test).mean())
    if has_val:
        metrics["val_accuracy"] = float(best["val_accuracy"])
    metrics["accuracy"] = metrics.get("test_accuracy", metrics.get("val_accuracy"))
    metrics["best_epoch"] = best["epoch"]
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    out.write_manifest("classify", config, {**metadata, **metrics})
    report.say(f"accuracy {metrics['accuracy']:.4f} on {'test' if has_test else 'validation'}"
               f" (epoch {best['epoch']} kept) in {metrics['seconds']:.0f} s; model in "
               f"{out.path}")
    report.finish(metrics)
    return 0
