"""``rnnkit classify``: train a text classifier, score it, and label new texts.

    rnnkit classify train --data aclImdb --out imdb-model      # or --dataset imdb
    rnnkit classify evaluate imdb-model --data aclImdb/test
    rnnkit classify predict imdb-model "A gem of a film." --json

The model is the tutorials' (``rnnkit.keras``): Embedding (index 0 masked) -> LSTM, GRU
or SimpleRNN (``--bidirectional``: one per direction, outputs concatenated) ->
optional Dropout -> Dense, a sigmoid for two classes, a softmax over more. Texts become
word or character ids through Keras's ``TextVectorization`` adapted on the training part
only (see ``classify_data``); ``fit`` trains with Adam, a callback carrying each batch
to the progress bar and each epoch to metrics.csv, TensorBoard and the model directory.

A validation part (``--val-split``, stratified) is always held out of ``train/``: it
picks the best epoch, whose weights the model directory keeps. The reported
``accuracy`` is that model's on ``test/`` when the data has one, else on validation.
"""
from __future__ import annotations

import math
import os
import sys
import time

from rnnkit.apps.common import AppError, Reporter, add_common_options, positive

CELLS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
MAXLEN = {"word": 200, "char": 500}    # default --maxlen by token kind


# -- the command line --------------------------------------------------------------------------
def add_parser(sub):
    """``rnnkit classify train | evaluate | predict``."""
    classify = sub.add_parser(
        "classify", help="train a text classifier, evaluate it, label texts",
        description="Text classification: Embedding -> (bidirectional) LSTM/GRU/SimpleRNN "
                    "-> Dense, on a directory in the aclImdb layout (train/<class>/*.txt, "
                    "test/<class>/*.txt), Keras's imdb.npz or --dataset imdb.")
    commands = classify.add_subparsers(dest="classify_command", metavar="COMMAND")
    classify.set_defaults(run=lambda args: _usage(classify))

    train = commands.add_parser("train", help="train a classifier into a model directory")
    _data_options(train)
    train.add_argument("--out", required=True, metavar="DIR", help="the model directory")
    train.add_argument("--tokens", choices=("word", "char"),
                       help="tokens of a text: words (default) or characters")
    train.add_argument("--max-tokens", type=positive(int), default=10000, metavar="N",
                       help="vocabulary size, padding and unknown tokens included "
                            "(default: 10000)")
    train.add_argument("--maxlen", type=positive(int), metavar="N",
                       help=f"tokens kept per text (default: {MAXLEN['word']} words or "
                            f"{MAXLEN['char']} characters); shorter texts are padded")
    train.add_argument("--truncate", choices=("post", "pre"), default="post",
                       help="which end of a longer text is cut: post keeps its beginning "
                            "(default), pre its end")
    train.add_argument("--cell", choices=tuple(CELLS), default="lstm",
                       help="the recurrent layer (default: lstm)")
    train.add_argument("--bidirectional", action="store_true",
                       help="run the recurrent layer in both directions")
    train.add_argument("--units", type=positive(int), default=32,
                       help="hidden size of the recurrent layer (default: 32)")
    train.add_argument("--embed-dim", type=positive(int), default=32,
                       help="embedding size (default: 32)")
    train.add_argument("--dropout", type=float, default=0.0,
                       help="dropout rate before the output layer (default: 0)")
    train.add_argument("--epochs", type=positive(int), default=4, help="(default: 4)")
    train.add_argument("--batch-size", type=positive(int), default=64, help="(default: 64)")
    train.add_argument("--lr", type=positive(float), default=1e-3,
                       help="Adam's learning rate (default: 0.001)")
    train.add_argument("--val-split", type=float, default=0.1,
                       help="share of train/ held out (per class) to pick the best epoch "
                            "(default: 0.1)")
    add_common_options(train)
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class precision/recall/F1 and confusion matrix")
    evaluate.add_argument("dir", metavar="DIR", help="a model directory of classify train")
    _data_options(evaluate, evaluating=True)
    evaluate.add_argument("--batch-size", type=positive(int), default=256,
                          help="(default: 256)")
    add_common_options(evaluate, tensorboard=False)
    evaluate.set_defaults(run=run_evaluate)

    predict = commands.add_parser("predict", help="label texts, with probabilities")
    predict.add_argument("dir", metavar="DIR", help="a model directory of classify train")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to label")
    predict.add_argument("--file", metavar="FILE", help="a file of texts, one per line")
    predict.add_argument("--batch-size", type=positive(int), default=256,
                         help="(default: 256)")
    add_common_options(predict, tensorboard=False)
    predict.set_defaults(run=run_predict)


def _data_options(parser, evaluating=False):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="PATH", help=(
        "a folder of class folders (<class>/*.txt), an aclImdb-layout directory (its "
        "test/ part) or Keras's imdb.npz (its test arrays)" if evaluating else
        "a directory in the aclImdb layout (train/<class>/*.txt, optionally "
        "test/<class>/*.txt) or Keras's imdb.npz"))
    source.add_argument("--dataset", choices=("imdb",),
                        help="the IMDB reviews of the datasets extra "
                             "(pip install 'rnnkit[datasets]')")
    parser.add_argument("--limit", type=positive(int), metavar="N",
                        help="use at most N texts of each part, drawn at random (a quick run)")


def _usage(parser):
    parser.print_help(sys.stderr)
    return 2


# -- the model ---------------------------------------------------------------------------------
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


class Loaded:
    """A classify model directory read back: ``config``, ``metadata``, the Keras
    ``model`` and, for text models, the ``vectorizer`` with its vocabulary."""

    def __init__(self, path):
        from rnnkit.apps import classify_data
        from rnnkit.apps.modeldir import ModelDir

        directory = ModelDir(path)
        doc = directory.manifest("classify")
        self.config, self.metadata = doc["config"], doc["metadata"]
        self.model = build_model(self.config)
        set_weights(self.model, directory.load("weights"), path)
        self.vectorizer = None
        if self.config["input"] == "text":
            vocabulary = directory.load_json("vocab")["tokens"]
            if len(vocabulary) != self.config["vocab_size"]:
                raise AppError(f"{path!r}: vocab.json holds {len(vocabulary)} tokens, the "
                               f"model {self.config['vocab_size']} (a damaged directory?)")
            self.vectorizer = classify_data.vectorizer(self.config["tokens"],
                                                       vocabulary=vocabulary)

    def ids(self, items, report):
        """Texts (or, for an ids model, id lists) as the model's input (items, maxlen)."""
        from rnnkit.apps import classify_data

        c = self.config
        if self.vectorizer is None:
            return classify_data.pad_ids(items, c["maxlen"], c["truncate"])
        with report.progress(len(items), "tokenizing", unit="text") as bar:
            return classify_data.encode(self.vectorizer, items, c["maxlen"], c["truncate"],
                                        progress=bar)


# -- train -------------------------------------------------------------------------------------
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


def _check_train_args(args):
    if not 0 <= args.dropout < 1:
        raise AppError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0 <= args.val_split < 1:
        raise AppError(f"--val-split must be in [0, 1), got {args.val_split}")
    if args.max_tokens < 3:
        raise AppError(f"--max-tokens must be >= 3 (padding, unknown and one token), got "
                       f"{args.max_tokens}")


def _open_out(path):
    """The output model directory, created; an earlier classify model there is replaced
    (its manifest goes first, so the directory is never a mix passing for a model),
    another app's model is refused."""
    from rnnkit.apps import modeldir

    directory = modeldir.ModelDir(path).create()
    if directory.has(modeldir.MANIFEST):
        directory.manifest("classify")      # refuses another app's directory
        os.remove(directory.file(modeldir.MANIFEST))
    return directory


def run_train(args):
    import numpy as np

    from rnnkit.apps import classify_data as data
    from rnnkit.keras import optimizers, utils

    _check_train_args(args)
    started = time.perf_counter()
    corpus = data.load(args.data, args.dataset, num_words=args.max_tokens)
    if corpus.kind == "ids" and args.tokens is not None:
        raise AppError(f"--tokens {args.tokens}: {corpus.source} is already tokenized "
                       f"(word ids); leave --tokens out")
    tokens = None if corpus.kind == "ids" else (args.tokens or "word")
    maxlen = args.maxlen or MAXLEN[tokens or "word"]
    out = _open_out(args.out)
    report = Reporter(args, out.path)
    rng = np.random.default_rng(args.seed)
    utils.set_random_seed(args.seed)

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

    config = {"input": corpus.kind, "tokens": tokens, "maxlen": maxlen,
              "truncate": args.truncate, "cell": args.cell,
              "bidirectional": args.bidirectional, "units": args.units,
              "embed_dim": args.embed_dim, "dropout": args.dropout,
              "classes": corpus.classes}
    if corpus.kind == "text":
        vectorize = data.vectorizer(tokens, max_tokens=args.max_tokens)
        with report.progress(len(train), "vocabulary", unit="text") as bar:
            data.adapt(vectorize, train.items, progress=bar)
        vocabulary = vectorize.get_vocabulary()
        config["vocab_size"] = len(vocabulary)
        out.save_json("vocab", {"tokens": vocabulary})
        total = len(train) + (len(val) if val else 0) + (len(test) if test else 0)
        with report.progress(total, "tokenizing", unit="text") as bar:
            x_train, x_val, x_test = (
                None if part is None else data.encode(vectorize, part.items, maxlen,
                                                      args.truncate, progress=bar)
                for part in (train, val, test))
    else:
        config["vocab_size"] = args.max_tokens
        x_train, x_val, x_test = (None if part is None else data.pad_ids(
            part.items, maxlen, args.truncate) for part in (train, val, test))

    model = build_model(config)
    binary = len(corpus.classes) == 2
    model.compile(optimizer=optimizers.Adam(learning_rate=args.lr),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    report.say(f"model: Embedding({config['vocab_size']}, {args.embed_dim}) -> "
               f"{'Bidirectional ' if args.bidirectional else ''}{CELLS[args.cell]}"
               f"({args.units}) -> Dense({1 if binary else len(corpus.classes)}), "
               f"{model.count_params():,} parameters; {maxlen} {tokens or 'word'} tokens "
               f"per text")

    def targets(part):
        return part.labels.astype(np.float32 if binary else np.int64)

    metadata = {"data": corpus.source, "train_texts": len(train),
                "val_texts": len(val) if val else 0, "test_texts": len(test) if test else 0,
                "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                "val_split": args.val_split, "seed": args.seed}
    best = {"val_accuracy": -1.0, "epoch": 0, "weights": None}

    def on_epoch(epoch, logs):
        line = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "seconds")
        improved = val is None or logs["val_accuracy"] > best["val_accuracy"]
        if improved:
            best.update(val_accuracy=logs.get("val_accuracy"), epoch=epoch + 1,
                        weights=get_weights(model))
            out.save("weights", best["weights"])
            out.write_manifest("classify", config, {**metadata, "best_epoch": epoch + 1,
                                                    "val_accuracy": logs.get("val_accuracy")})
        report.say(f"epoch {epoch + 1}/{args.epochs}: {line}  ({logs['seconds']:.1f} s)"
                   + ("  best so far, saved" if improved and val is not None else ""))

    model.fit(x_train, targets(train), batch_size=args.batch_size, epochs=args.epochs,
              validation_data=None if val is None else (x_val, targets(val)),
              callbacks=[_epoch_bridge(report, args.epochs, on_epoch)], verbose=0)
    set_weights(model, best["weights"], out.path)

    metrics = {}
    if test is not None:
        probs = probabilities(model, x_test, 256, report, desc="testing")
        metrics["test_accuracy"] = float((probs.argmax(axis=1) == test.labels).mean())
    if val is not None:
        metrics["val_accuracy"] = float(best["val_accuracy"])
    metrics["accuracy"] = metrics.get("test_accuracy", metrics.get("val_accuracy"))
    metrics["best_epoch"] = best["epoch"]
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    out.write_manifest("classify", config, {**metadata, **metrics})
    where = "test" if test is not None else "validation"
    report.say(f"accuracy {metrics['accuracy']:.4f} on {where} (epoch {best['epoch']} "
               f"kept) in {metrics['seconds']:.0f} s; model in {out.path}")
    report.finish(metrics)
    return 0


# -- evaluate ----------------------------------------------------------------------------------
def run_evaluate(args):
    import numpy as np

    from rnnkit.apps import classify_data as data
    from rnnkit.apps import classify_metrics as cm

    loaded = Loaded(args.dir)
    c = loaded.config
    split, kind, where = data.load_for_evaluation(
        args.data, args.dataset, c["classes"],
        num_words=c["vocab_size"] if c["input"] == "ids" else None)
    if kind != c["input"]:
        raise AppError(f"the model in {args.dir!r} reads "
                       f"{'texts' if c['input'] == 'text' else 'word ids'}, but {where!r} "
                       f"holds {'texts' if kind == 'text' else 'word ids'}")
    split = data.subsample(split, args.limit, np.random.default_rng(args.seed))
    report = Reporter(args)
    probs = probabilities(loaded.model, loaded.ids(split.items, report), args.batch_size,
                          report)
    matrix = cm.confusion_matrix(split.labels, probs.argmax(axis=1), len(c["classes"]))
    s = cm.scores(matrix)
    report.say(f"accuracy {s['accuracy']:.4f} on {len(split)} texts ({where})\n")
    report.say(cm.scores_table(c["classes"], s) + "\n")
    report.say("confusion matrix (rows: true class, columns: predicted class)")
    report.say(cm.confusion_table(c["classes"], matrix))
    report.finish({"accuracy": s["accuracy"], "classes": c["classes"],
                   "per_class": cm.per_class_json(c["classes"], s),
                   "confusion_matrix": matrix.tolist()})
    return 0


# -- predict -----------------------------------------------------------------------------------
def _texts_to_predict(args):
    from rnnkit.apps.common import read_text_file

    texts = list(args.texts)
    if args.file is not None:
        lines = read_text_file(args.file, "--file").splitlines()
        texts += [line for line in lines if line.strip()]
    if not texts:
        raise AppError("give texts to label (TEXT ... or --file FILE, one text per line)")
    return texts


def run_predict(args):
    loaded = Loaded(args.dir)
    if loaded.vectorizer is None:
        raise AppError(f"the model in {args.dir!r} was trained on word ids (Keras's "
                       f"imdb.npz) and has no vocabulary to read texts with; train on texts "
                       f"(--data DIR or --dataset imdb) to label texts")
    texts = _texts_to_predict(args)
    report = Reporter(args)
    classes = loaded.config["classes"]
    probs = probabilities(loaded.model, loaded.ids(texts, report), args.batch_size, report)
    results = []
    width = max(map(len, classes))
    for text, p in zip(texts, probs):
        k = int(p.argmax())
        results.append({"text": text, "label": classes[k], "probability": float(p[k]),
                        "probabilities": {c: float(v) for c, v in zip(classes, p)}})
        others = ", ".join(f"{c} {v:.4f}" for c, v in zip(classes, p) if c != classes[k])
        short = " ".join(text.split())
        short = short if len(short) <= 60 else short[:57] + "..."
        report.say(f"{classes[k]:<{width}}  {p[k]:.4f}  ({others})  {short}")
    report.finish({"predictions": results})
    return 0
