"""Where ``rnnkit classify`` gets its texts and labels, and how texts become token ids.

Three sources (:func:`load`):

- a directory in the aclImdb layout: ``train/<class>/*.txt`` and optionally
  ``test/<class>/*.txt``, one text per file, any number of classes with any names (the
  folder names, in sorted order, are the classes; ``unsup`` and plain files are
  ignored);
- Keras's ``imdb.npz``: reviews already tokenized as word indices (read through
  ``rnnkit.keras.datasets.imdb``, so index 0 stays the padding), classes ``neg``, ``pos``;
- ``--dataset imdb``: the reviews of the ``datasets`` extra as text (``rnnkit.datasets``).

Texts become ids through Keras's ``TextVectorization`` (:func:`vectorizer`), adapted on
the training part only; ids are then padded or cut to ``maxlen`` with
``pad_sequences``, padding at the end (index 0, which the model masks).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from rnnkit.apps.common import AppError

IGNORED = ("unsup",)          # aclImdb's unlabelled reviews
IMDB_CLASSES = ["neg", "pos"]


@dataclasses.dataclass
class Split:
    """One part of a corpus: ``items`` (texts as str, or token ids as lists of int) and
    ``labels`` int64 (items,), indices into the corpus's classes."""
    items: list
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)

    def take(self, index):
        """The items at ``index`` (an int array), in that order."""
        return Split([self.items[i] for i in index], self.labels[index])


@dataclasses.dataclass
class Corpus:
    """What ``load`` found: ``classes`` (names, index = label), ``train``, ``test``
    (None when the source has no test part), ``kind`` ("text" or "ids"), ``source``
    (what to print) and, for ids, ``num_words`` (ids lie in [0, num_words))."""
    classes: list
    train: Split
    test: Split | None
    kind: str
    source: str
    num_words: int | None = None


# -- the aclImdb layout -----------------------------------------------------------------------
def class_folders(folder, where):
    """``{class name: [file paths]}`` of a folder of class folders, names sorted; a class
    folder without ``*.txt`` files is an AppError."""
    classes = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name in IGNORED or name.startswith(".") or not os.path.isdir(path):
            continue
        files = sorted(f for f in os.listdir(path) if f.endswith(".txt")
                       and os.path.isfile(os.path.join(path, f)))
        if not files:
            raise AppError(f"class directory {os.path.join(where, name)!r} has no .txt files "
                           f"(expected one text per file)")
        classes[name] = [os.path.join(path, f) for f in files]
    return classes


def _read_texts(files):
    texts = []
    for name in files:
        with open(name, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    return texts


def read_folder(folder, where, classes=None):
    """The texts of a folder of class folders as a :class:`Split`, with the class names
    found. ``classes``: the names labels refer to (default: those found, which must be at
    least two); a folder naming a class outside them is an AppError."""
    found = class_folders(folder, where)
    if classes is None:
        if len(found) < 2:
            names = ", ".join(found) or "none"
            raise AppError(f"{where!r} has {len(found)} class director"
                           f"{'y' if len(found) == 1 else 'ies'} ({names}); a classifier "
                           f"needs at least two (one folder of .txt files per class)")
        classes = list(found)
    unknown = [c for c in found if c not in classes]
    if unknown:
        raise AppError(f"{where!r} has classes {unknown} that the training classes "
                       f"{classes} do not include")
    if not found:
        raise AppError(f"{where!r} has no class directories (expected <class>/*.txt)")
    texts, labels = [], []
    for name, files in found.items():
        texts += _read_texts(files)
        labels += [classes.index(name)] * len(files)
    return Split(texts, np.asarray(labels, np.int64)), classes


def read_layout(root):
    """An aclImdb-layout directory: its classes, ``train/`` split and ``test/`` (or None)."""
    train_dir = os.path.join(root, "train")
    if not os.path.isdir(train_dir):
        raise AppError(f"--data {root!r} has no train/ directory; expected the aclImdb "
                       f"layout train/<class>/*.txt (and optionally test/<class>/*.txt)")
    train, classes = read_folder(train_dir, os.path.join(root, "train"))
    test = None
    test_dir = os.path.join(root, "test")
    if os.path.isdir(test_dir):
        test, _ = read_folder(test_dir, os.path.join(root, "test"), classes)
    return classes, train, test


# -- the sources ------------------------------------------------------------------------------
def _npz(path, num_words):
    from rnnkit.keras.datasets import imdb

    try:
        (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path, num_words=num_words)
    except (ValueError, OSError) as e:
        raise AppError(f"--data {path!r}: {e}") from None
    labels = sorted(set(np.unique(y_train).tolist()) | set(np.unique(y_test).tolist()))
    if labels != [0, 1]:
        raise AppError(f"--data {path!r}: expected Keras's imdb.npz with labels 0 and 1, "
                       f"got labels {labels}")
    return Corpus(list(IMDB_CLASSES), Split(list(x_train), np.asarray(y_train, np.int64)),
                  Split(list(x_test), np.asarray(y_test, np.int64)), "ids",
                  f"{path} (Keras's imdb.npz)", num_words)


def _imdb_dataset():
    from rnnkit import datasets

    try:
        (train, y_train), (test, y_test) = datasets.imdb_reviews()
    except datasets.DatasetNotFoundError as e:
        raise AppError(f"--dataset imdb: {e}") from None
    return Corpus(list(IMDB_CLASSES), Split(train, y_train), Split(test, y_test), "text",
                  "the IMDB reviews of the datasets extra")


def load(data=None, dataset=None, num_words=None):
    """The :class:`Corpus` of ``--data PATH`` (an aclImdb-layout directory or Keras's
    ``imdb.npz``) or of ``--dataset imdb``; ``num_words`` bounds the ids of an npz."""
    if dataset is not None:
        if dataset != "imdb":
            raise AppError(f"--dataset: unknown dataset {dataset!r}; known: imdb")
        return _imdb_dataset()
    path = os.fspath(data)
    if not os.path.exists(path):
        raise AppError(f"--data {path!r} does not exist")
    if os.path.isfile(path):
        if not path.endswith(".npz"):
            raise AppError(f"--data {path!r} is a file but not an .npz; expected a directory "
                           f"in the aclImdb layout or Keras's imdb.npz")
        return _npz(path, num_words)
    classes, train, test = read_layout(path)
    return Corpus(classes, train, test, "text", path)


def load_for_evaluation(data=None, dataset=None, classes=None, num_words=None):
    """The labelled texts ``classify evaluate`` scores, as (Split, kind, description).

    data: a folder of class folders (e.g. ``aclImdb/test``), an aclImdb root (its
    ``test/`` part), or Keras's ``imdb.npz`` (its test arrays); dataset "imdb": the test
    half of the datasets extra. classes: the model's classes, which labels refer to.
    """
    if dataset is not None or (data is not None and os.path.isfile(os.fspath(data))):
        corpus = load(data, dataset, num_words)
        if corpus.classes != classes:
            raise AppError(f"the data's classes {corpus.classes} differ from the model's "
                           f"{classes}")
        return corpus.test, corpus.kind, f"{corpus.source}, test part"
    path = os.fspath(data)
    if not os.path.exists(path):
        raise AppError(f"--data {path!r} does not exist")
    if os.path.isdir(os.path.join(path, "test")):
        path = os.path.join(path, "test")
    elif os.path.isdir(os.path.join(path, "train")):
        raise AppError(f"--data {path!r} has train/ but no test/; to score it on other "
                       f"texts pass their folder of class folders (e.g. {path}/train)")
    split, _ = read_folder(path, path, classes)
    return split, "text", path


# -- splitting --------------------------------------------------------------------------------
def stratified_split(labels, fraction, rng):
    """(keep, held) index arrays: ``fraction`` of each class's items, drawn at random by
    ``rng`` (at least one per class when the class has two or more), held out."""
    keep, held = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n = int(round(fraction * len(idx)))
        if fraction > 0 and len(idx) >= 2:
            n = min(max(n, 1), len(idx) - 1)
        held.append(idx[:n])
        keep.append(idx[n:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def subsample(split, limit, rng):
    """At most ``limit`` items of ``split``, drawn at random by ``rng`` (order kept)."""
    if limit is None or limit >= len(split):
        return split
    return split.take(np.sort(rng.permutation(len(split))[:limit]))


# -- texts -> ids -----------------------------------------------------------------------------
SPLITS = {"word": "whitespace", "char": "character"}
# Words as TextVectorization cuts them by default (ASCII lower-case, punctuation gone);
# characters as they are, since case and punctuation carry much of a character's signal.
STANDARDIZE = {"word": "lower_and_strip_punctuation", "char": None}


def vectorizer(tokens, standardize=None, max_tokens=None, vocabulary=None):
    """Keras's ``TextVectorization`` for ``tokens`` ("word": split at whitespace, or
    "char") after ``standardize`` (TextVectorization's: "lower_and_strip_punctuation",
    "lower", "strip_punctuation" or None): index 0 padding, 1 out-of-vocabulary, then
    the vocabulary (given, or learned later by ``adapt``)."""
    from rnnkit.keras.layers import TextVectorization

    return TextVectorization(max_tokens=max_tokens, vocabulary=vocabulary,
                             standardize=standardize, split=SPLITS[tokens])


def adapt(layer, texts, chunk=1024, progress=None):
    """Learn ``layer``'s vocabulary from ``texts``, ``chunk`` texts at a time."""
    def batches():
        for i in range(0, len(texts), chunk):
            yield texts[i:i + chunk]
            if progress is not None:
                progress.update(min(chunk, len(texts) - i))
    layer.adapt(batches())


def encode(layer, texts, maxlen, truncating="pre", chunk=512, progress=None):
    """``texts`` as int32 ids (texts, maxlen): each text's tokens looked up by ``layer``,
    cut to ``maxlen`` (keeping the last tokens with ``truncating="pre"``, the first with
    "post") and padded with 0 at the end."""
    rows = []
    for i in range(0, len(texts), chunk):
        ids = layer(list(texts[i:i + chunk])).numpy()
        # 0 only pads: a token is never 0 (out-of-vocabulary tokens are 1).
        rows += [r[r > 0] for r in ids]
        if progress is not None:
            progress.update(len(ids))
    return pad_ids(rows, maxlen, truncating)


def pad_ids(rows, maxlen, truncating="pre"):
    """Token id lists as int32 (rows, maxlen), cut as ``truncating`` says, padded with 0
    at the end."""
    from rnnkit.keras.utils import pad_sequences

    return pad_sequences(rows, maxlen=maxlen, padding="post", truncating=truncating,
                         dtype="int32")
