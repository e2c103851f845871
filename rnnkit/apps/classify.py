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

import sys

from rnnkit.apps.classify_model import CELLS, MAXLEN, Loaded, probabilities
from rnnkit.apps.common import AppError, Reporter, add_common_options, positive

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none")


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
    train.add_argument("--standardize", choices=STANDARDIZE,
                       help="what is done to a text before it is cut into tokens, as Keras's "
                            "TextVectorization: lower_and_strip_punctuation (default for "
                            "words), lower, strip_punctuation, none (default for characters)")
    train.add_argument("--max-tokens", type=positive(int), default=10000, metavar="N",
                       help="vocabulary size, padding and unknown tokens included "
                            "(default: 10000)")
    train.add_argument("--maxlen", type=positive(int), metavar="N",
                       help=f"tokens kept per text (default: {MAXLEN['word']} words or "
                            f"{MAXLEN['char']} characters); shorter texts are padded")
    train.add_argument("--truncate", choices=("pre", "post"), default="pre",
                       help="which end of a longer text is cut: pre keeps its end "
                            "(default, as Keras's pad_sequences), post its beginning")
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


def run_train(args):
    """``rnnkit classify train`` (see ``classify_train.run``)."""
    from rnnkit.apps import classify_train

    return classify_train.run(args)


# -- evaluate ----------------------------------------------------------------------------------
def run_evaluate(args):
    """``rnnkit classify evaluate DIR --data PATH``: accuracy, per-class precision,
    recall, F1 and support, and the confusion matrix, as tables (--json: one object)."""
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
    """``rnnkit classify predict DIR TEXT... [--file F]``: each text's label with its
    probability and the other classes' (--json: ``{"predictions": [...]}``)."""
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
