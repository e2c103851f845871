"""Keras 2's text preprocessing (``keras.preprocessing.text``): ``Tokenizer``,
``tokenizer_from_json``, ``text_to_word_sequence``, ``one_hot`` and ``hashing_trick``.

Keras 3 dropped this module; tutorials written for Keras 2 still use it:

    from rnnkit.keras.preprocessing.text import Tokenizer
    tokenizer = Tokenizer(num_words=10000)
    tokenizer.fit_on_texts(texts)
    sequences = tokenizer.texts_to_sequences(texts)       # lists of word indices
    matrix = tokenizer.texts_to_matrix(texts, mode="binary")

Indices, counts and matrices equal those of Keras 2's ``keras_preprocessing`` 1.1.2.
"""
from __future__ import annotations

import collections
import hashlib
import json

import numpy as np

from rnnkit.text import KERAS_FILTERS, rank_by_count, text_to_word_sequence

__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence", "one_hot",
           "hashing_trick"]

_MODES = ("binary", "count", "tfidf", "freq")


def hashing_trick(text, n, hash_function=None, filters=KERAS_FILTERS, lower=True,
                  split=" "):
    """The words of ``text`` (:func:`text_to_word_sequence`) as indices in [1, n - 1]:
    ``hash_function(word) % (n - 1) + 1``; 0 is never used. hash_function: None for
    Python's ``hash`` (which changes between processes unless PYTHONHASHSEED is set),
    "md5" for a stable hash, or a function str -> int. Different words may collide."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"hashing_trick: n must be an integer >= 2, got {n!r}")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word):
            return int(hashlib.md5(word.encode()).hexdigest(), 16)
    elif not callable(hash_function):
        raise ValueError(f"hashing_trick: hash_function must be None, 'md5' or a "
                         f"function, got {hash_function!r}")
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(text, n, filters=KERAS_FILTERS, lower=True, split=" "):
    """:func:`hashing_trick` with Python's ``hash``: word indices in [1, n - 1]."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split)


def _check_texts(fn, texts):
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{fn}: texts must be a list of strings (or of token lists), got "
                        f"a single {type(texts).__name__}")


class Tokenizer:
    """Keras 2's ``Tokenizer``: a word index built from texts, and texts turned into
    index sequences or into matrices (texts, num_words).

    num_words: only words of index below ``num_words`` (the ``num_words - 1`` most
    frequent) are kept when converting; None keeps all. filters, lower, split: how a
    text becomes words (:func:`text_to_word_sequence`). char_level: every character is a
    token. oov_token: if given, it takes index 1 and stands in for unknown words (else
    they are dropped). document_count: the starting count of documents. analyzer
    (tf.keras's): a function text -> list of tokens, used instead of the filters.

    After ``fit_on_texts``: ``word_counts`` (word -> occurrences, in order of first
    appearance), ``word_docs`` (word -> documents holding it), ``word_index`` (word ->
    index: 1 for the most frequent, ties in order of first appearance; 0 is never
    assigned), ``index_word`` (its inverse), ``index_docs`` (index -> documents) and
    ``document_count``. A text that is a list is taken as its tokens.
    """

    def __init__(self, num_words=None, filters=KERAS_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, document_count=0, analyzer=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"Tokenizer: unexpected keyword argument(s) {sorted(kwargs)}")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(
                num_words, (int, np.integer)) or num_words < 0):
            raise ValueError(f"Tokenizer: num_words must be None or a non-negative "
                             f"integer, got {num_words!r}")
        if not isinstance(split, str) or not split:
            raise ValueError(f"Tokenizer: split must be a non-empty str, got {split!r}")
        if analyzer is not None and not callable(analyzer):
            raise ValueError(f"Tokenizer: analyzer must be a function text -> tokens, got "
                             f"{analyzer!r}")
        self.num_words = None if num_words is None else int(num_words)
        self.filters, self.lower, self.split = filters, bool(lower), split
        self.char_level, self.oov_token = bool(char_level), oov_token
        self.analyzer = analyzer
        self.document_count = int(document_count)
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    # -- building the index ---------------------------------------------------------------
    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, token lists, or a generator of them)
        and rebuild ``word_index`` from all counts so far."""
        _check_texts("fit_on_texts", texts)
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in dict.fromkeys(tokens):
                self.word_docs[w] += 1
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + rank_by_count(
            self.word_counts, ties="first")
        self.word_index = {}
        for i, w in enumerate(vocabulary, start=1):
            self.word_index[w] = i   # an oov_token seen in the texts ends at its rank
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count documents per index from index sequences (for tf-idf matrices when the
        tokenizer was not fitted on texts)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    # -- texts <-> sequences --------------------------------------------------------------
    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (see :meth:`texts_to_sequences_generator`)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Yield each text's word indices: unknown words and words of index >=
        ``num_words`` become the oov_token's index, or are dropped without one."""
        _check_texts("texts_to_sequences", texts)
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            out = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None and not (self.num_words and i >= self.num_words):
                    out.append(i)
                elif self.oov_token is not None:
                    out.append(oov)
            yield out

    def sequences_to_texts(self, sequences):
        """Each index sequence as a string of words joined by spaces."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """Yield each sequence as text: unknown indices and indices >= ``num_words``
        become the oov_token, or are dropped without one."""
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(i)
                if w is not None and not (self.num_words and i >= self.num_words):
                    words.append(w)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    # -- matrices -------------------------------------------------------------------------
    def texts_to_matrix(self, texts, mode="binary"):
        """:meth:`sequences_to_matrix` of the texts' sequences: (texts, num_words)."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A float64 matrix (sequences, num_words), as Keras 2's; column j describes
        index j (indices >= the width are ignored; the width is ``num_words``, else
        ``len(word_index) + 1``).

        mode: "binary" (1 where present), "count" (occurrences), "freq" (occurrences /
        the sequence's length) or "tfidf": ``(1 + log(count)) * log(1 + documents /
        (1 + documents holding the index))``.
        """
        if mode not in _MODES:
            raise ValueError(f"sequences_to_matrix: mode must be one of {_MODES}, got "
                             f"{mode!r}")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("sequences_to_matrix: specify a dimension (the num_words "
                             "argument), or fit on some text data first")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("sequences_to_matrix: fit the Tokenizer on some data before "
                             "using tfidf mode")
        x = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            counts = collections.Counter(j for j in seq if j < width)
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    # tf-idf weighting scheme 2 (log-scaled term frequency, smoothed idf)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    # -- serialization --------------------------------------------------------------------
    def get_config(self):
        """The settings and the counts, the counts as JSON strings (Keras 2's layout)."""
        if self.analyzer is not None:
            raise ValueError("Tokenizer.get_config: a tokenizer with an analyzer function "
                             "cannot be serialized (the function would be lost)")
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level,
                "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        """``{"class_name": "Tokenizer", "config": get_config()}`` as a JSON string;
        ``kwargs`` go to ``json.dumps``. Read it back with :func:`tokenizer_from_json`."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def tokenizer_from_json(json_string):
    """The :class:`Tokenizer` that ``to_json`` wrote (Keras 2's files read too)."""
    try:
        doc = json.loads(json_string)
        config = dict(doc["config"])
        counts = {k: json.loads(config.pop(k)) for k in
                  ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    except (TypeError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"tokenizer_from_json: not a Tokenizer's JSON ({type(e).__name__}: "
                         f"{e})") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = collections.OrderedDict(counts["word_counts"])
    tokenizer.word_docs = collections.defaultdict(int, counts["word_docs"])
    # JSON object keys are strings: the indices come back as ints.
    tokenizer.index_docs = collections.defaultdict(
        int, {int(k): v for k, v in counts["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in counts["index_word"].items()}
    tokenizer.word_index = counts["word_index"]
    return tokenizer
