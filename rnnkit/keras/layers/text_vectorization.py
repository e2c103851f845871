"""Keras 3's ``TextVectorization``: a batch of strings in, token indices or token
counts out, with a vocabulary learned by ``adapt`` (or given).

    vectorize = TextVectorization(max_tokens=20000, output_sequence_length=500)
    vectorize.adapt(train_texts)                 # the vocabulary, most frequent first
    model = Sequential([vectorize, Embedding(20000, 32), LSTM(32), Dense(1)])
    model.fit(np.array(train_texts), y_train)     # strings go straight into the model

Each string is standardized (by default ASCII letters lower-cased and
``string.punctuation`` removed, as TensorFlow does for Keras), split (by default on
ASCII whitespace), optionally turned into n-grams, then looked up:

- ``output_mode="int"``: int64 (batch, output_sequence_length or the longest sample),
  index 0 the padding ``""`` (also the value of missing steps), 1 the out-of-vocabulary
  ``"[UNK]"``, then the vocabulary from 2;
- ``"multi_hot"`` / ``"count"`` / ``"tf_idf"``: floatx (batch, vocabulary size, or
  ``max_tokens`` with ``pad_to_max_tokens``), column 0 counting out-of-vocabulary
  tokens; tf_idf multiplies counts by ``log(1 + documents / (1 + documents holding the
  token))``, column 0 by the mean of the others.

``adapt`` ranks tokens by count, ties broken by the tokens in descending code point
order (Keras's ``np.lexsort((tokens, counts))[::-1]``), keeping ``max_tokens`` minus
the special tokens. Keras runs this layer in TensorFlow, which rnnkit does without; the
rules above are Keras's, and the vocabulary travels in the layer's config, so a saved
model keeps it.
"""
from __future__ import annotations

import codecs
import collections
import itertools
import os

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.keras import backend
from rnnkit.keras.keras_tensor import is_symbolic
from rnnkit.keras.layer import Layer
from rnnkit.text import (as_string_array, ngrams, rank_by_count, split_characters,
                         split_words, standardize)

MASK, OOV = "", "[UNK]"
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")


class TextVectorization(Layer):
    """``TextVectorization(max_tokens=None, standardize="lower_and_strip_punctuation",
    split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
    pad_to_max_tokens=False, vocabulary=None, idf_weights=None, encoding="utf-8")``.

    Input: strings of shape (batch,) or (batch, 1) (with ``split=None``, (batch, tokens):
    each string one token). See the module docstring for the outputs.

    max_tokens: the vocabulary's largest size, special tokens included (> 1).
    standardize: "lower_and_strip_punctuation", "lower", "strip_punctuation", None, or
    a function given an ndarray of str and returning one of the same shape.
    split: "whitespace", "character" (one token per code point), None, or a function
    given an ndarray of str (batch,) and returning each sample's tokens.
    ngrams: None, n (all widths 1..n) or a tuple of widths; tokens joined by a space.
    output_sequence_length: "int" mode only: pad with 0 or cut each sample to this length.
    pad_to_max_tokens: counting modes only: output width ``max_tokens``.
    vocabulary: tokens (list, tuple, ndarray) or a text file with one per line; a layer
    given one cannot be adapted. idf_weights: "tf_idf" with a vocabulary: one weight per
    token. encoding: how byte strings are decoded.
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 has_input_vocabulary=None, **kwargs):
        super().__init__(name=name, **kwargs)
        owner = "TextVectorization"
        if sparse or ragged:
            raise ValueError(f"{owner}: sparse=True and ragged=True are not supported by "
                             f"rnnkit (Keras allows them only on TensorFlow)")
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{owner}: max_tokens must be None or an integer > 1, got "
                             f"{max_tokens!r}")
        if not (standardize is None or standardize in _STANDARDIZE or callable(standardize)):
            raise ValueError(f"{owner}: standardize must be one of {_STANDARDIZE}, None or "
                             f"a function, got {standardize!r}")
        if not (split is None or split in _SPLIT or callable(split)):
            raise ValueError(f"{owner}: split must be one of {_SPLIT}, None or a function, "
                             f"got {split!r}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode,
                                                                      output_mode)
        if output_mode == "one_hot":
            raise ValueError(f"{owner}: output_mode='one_hot' is not supported by rnnkit; "
                             f"use 'int', 'multi_hot', 'count' or 'tf_idf'")
        if output_mode not in _MODES:
            raise ValueError(f"{owner}: output_mode must be one of {_MODES}, got "
                             f"{output_mode!r}")
        self._ngram_widths = _ngram_widths(ngrams)
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{owner}: output_sequence_length is only valid with "
                                 f"output_mode='int', got output_mode={output_mode!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(
                    output_sequence_length, (int, np.integer)) or output_sequence_length < 1:
                raise ValueError(f"{owner}: output_sequence_length must be None or a "
                                 f"positive integer, got {output_sequence_length!r}")
        if pad_to_max_tokens and output_mode == "int":
            raise ValueError(f"{owner}: pad_to_max_tokens is only valid with output_mode "
                             f"'multi_hot', 'count' or 'tf_idf', not 'int'")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{owner}: pad_to_max_tokens=True needs max_tokens")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{owner}: idf_weights is only valid with output_mode="
                             f"'tf_idf', got output_mode={output_mode!r}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{owner}: with output_mode='tf_idf' and a vocabulary, pass "
                             f"idf_weights too")
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ValueError(f"{owner}: unknown encoding {encoding!r}") from None
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._output_mode = output_mode
        self._output_sequence_length = (None if output_sequence_length is None
                                        else int(output_sequence_length))
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._encoding = encoding
        self._tokens, self._index, self._idf = [], {}, None
        self._frozen_size = None
        self._has_input_vocabulary = (vocabulary is not None if has_input_vocabulary is None
                                      else bool(has_input_vocabulary))
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the vocabulary -------------------------------------------------------------------
    def _specials(self):
        return [MASK, OOV] if self._output_mode == "int" else [OOV]

    def vocabulary_size(self):
        """The vocabulary's size, padding and out-of-vocabulary tokens included."""
        return len(self._specials()) + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index: ``["", "[UNK]", ...]`` in int mode, ``["[UNK]", ...]``
        otherwise; without the special tokens if ``include_special_tokens`` is False."""
        return (self._specials() if include_special_tokens else []) + list(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use ``vocabulary`` (tokens, optionally led by the special tokens in order, or a
        text file of one token per line), and for "tf_idf" its ``idf_weights`` (one per
        entry of ``vocabulary``)."""
        owner = f"{self.name}.set_vocabulary"
        if self._output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner}: idf_weights must be set with output_mode='tf_idf'")
        if self._output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{owner}: idf_weights is only valid with output_mode="
                             f"'tf_idf', got output_mode={self._output_mode!r}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if self._output_mode == "tf_idf":
                raise ValueError(f"{owner}: output_mode='tf_idf' cannot read its "
                                 f"vocabulary from a file")
            vocabulary = _read_vocabulary_file(owner, os.fspath(vocabulary))
        if np.size(getattr(vocabulary, "data", vocabulary)) == 0:
            raise ValueError(f"{owner}: cannot set an empty vocabulary")
        tokens = as_string_array(vocabulary, owner, self._encoding)
        if tokens.ndim != 1:
            raise ValueError(f"{owner}: the vocabulary must be 1-D, got shape {tokens.shape}")
        tokens = tokens.tolist()
        specials = self._specials()
        found = tokens[:len(specials)] == specials
        if found:
            tokens = tokens[len(specials):]
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{owner}: the vocabulary repeats the tokens {repeated}")
        if MASK in tokens:
            raise ValueError(f"{owner}: the padding token '' may only appear first, as in "
                             f"{specials}; got it at index {tokens.index(MASK)} of the tokens")
        size = len(specials) + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{owner}: a vocabulary of size {size} exceeds max_tokens="
                             f"{self.max_tokens}")
        idf = None
        if idf_weights is not None:
            idf = np.asarray(getattr(idf_weights, "data", idf_weights), dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(tokens) + (len(specials) if found else 0):
                raise ValueError(f"{owner}: idf_weights must be 1-D with one weight per "
                                 f"vocabulary entry ({len(tokens) + found * len(specials)}), "
                                 f"got shape {idf.shape}")
            if not found:   # the [UNK] slot: no document counts, so the mean weight
                idf = np.concatenate([[idf.mean()], idf])
        self._set(tokens, idf)

    def _set(self, tokens, idf):
        size = len(self._specials()) + len(tokens)
        if (self._output_mode != "int" and not self.pad_to_max_tokens
                and self._frozen_size is not None and size != self._frozen_size):
            raise RuntimeError(f"{self.name}: with output_mode={self._output_mode!r} and "
                               f"pad_to_max_tokens=False the vocabulary size cannot change "
                               f"(it is {self._frozen_size}, the new one {size})")
        self._tokens = list(tokens)
        start = len(self._specials())
        self._index = {t: i for i, t in enumerate(self._tokens, start=start)}
        if idf is not None:
            idf = np.asarray(idf, dtype=backend.floatx())
            if self.pad_to_max_tokens:
                idf = np.pad(idf, (0, self.max_tokens - len(idf)))
        self._idf = idf
        if self._output_mode != "int" and not self.pad_to_max_tokens:
            self._frozen_size = size

    # -- adapt ----------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and for "tf_idf" the idf weights) from ``data``: strings
        (a list, an ndarray (samples,) or (samples, 1)) or any iterable of such batches.
        batch_size: read array data this many samples at a time. steps: read at most
        this many batches of an iterable."""
        if self._has_input_vocabulary:
            raise ValueError(f"{self.name}: cannot adapt a layer made with a fixed "
                             f"vocabulary (the vocabulary argument)")
        for arg, value in (("batch_size", batch_size), ("steps", steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 1):
                raise ValueError(f"{self.name}.adapt: {arg} must be None or a positive "
                                 f"integer, got {value!r}")
        if isinstance(data, (list, tuple, np.ndarray, Tensor, str, bytes)):
            if steps is not None:
                raise ValueError(f"{self.name}.adapt: steps is only for iterables of "
                                 f"batches, not array data")
            data = as_string_array(data, f"{self.name}.adapt", self._encoding)
            if data.ndim == 0:
                raise ValueError(f"{self.name}.adapt: expected a batch of strings, got a "
                                 f"single string")
            size = batch_size or max(len(data), 1)
            batches = (data[i:i + size] for i in range(0, len(data), size))
        elif hasattr(data, "__iter__"):
            if batch_size is not None:
                raise ValueError(f"{self.name}.adapt: batch_size is only for array data; "
                                 f"an iterable already yields batches")
            batches = itertools.islice(data, steps)
        else:
            raise TypeError(f"{self.name}.adapt: expected strings or an iterable of batches "
                            f"of strings, got {type(data).__name__}")
        counts, docs, n_docs = collections.Counter(), collections.Counter(), 0
        for batch in batches:
            rows = self._tokenize(as_string_array(batch, f"{self.name}.adapt",
                                                  self._encoding))
            for row in rows:
                counts.update(row)
                docs.update(set(row))
            n_docs += len(rows)
        for special in (MASK, OOV):
            counts.pop(special, None)
        if not counts:   # as Keras: nothing seen, the vocabulary stays as it was
            return
        tokens = rank_by_count(counts, ties="descending")
        if self.max_tokens is not None:
            tokens = tokens[:self.max_tokens - len(self._specials())]
        idf = None
        if self._output_mode == "tf_idf":
            weights = np.log(1 + n_docs / (1 + np.array([docs[t] for t in tokens], float)))
            weights = weights.astype(backend.floatx())
            idf = np.concatenate([[weights.mean()], weights])
        self._set(tokens, idf)

    # -- the call -------------------------------------------------------------------------
    def _tokenize(self, strings):
        """Each sample's tokens: standardize, split, n-grams."""
        if strings.ndim == 0 or strings.ndim > 2 or (
                self._split is not None and strings.ndim == 2 and strings.shape[1] != 1):
            expected = ("(batch,) or (batch, 1)" if self._split is not None
                        else "(batch,) or (batch, tokens)")
            raise ValueError(f"{self.name}: expected strings of shape {expected}, got shape "
                             f"{strings.shape}")
        if callable(self._standardize):
            out = as_string_array(self._standardize(strings), f"{self.name}: standardize")
            if out.shape != strings.shape:
                raise ValueError(f"{self.name}: the standardize function returned shape "
                                 f"{out.shape} for inputs of shape {strings.shape}")
            strings = out
        elif self._standardize is not None:
            flat = [standardize(s, self._standardize) for s in strings.reshape(-1)]
            strings = np.array(flat, dtype=str).reshape(strings.shape)
        if self._split is None:
            rows = [list(r) for r in strings.reshape(len(strings), -1).tolist()]
        else:
            texts = strings.reshape(-1)
            if callable(self._split):
                rows = [[str(t) for t in r] for r in self._split(texts)]
                if len(rows) != len(texts):
                    raise ValueError(f"{self.name}: the split function returned {len(rows)} "
                                     f"samples for {len(texts)} strings")
            else:
                cut = split_words if self._split == "whitespace" else split_characters
                rows = [cut(s) for s in texts.tolist()]
        if self._ngram_widths is not None:
            rows = [ngrams(r, self._ngram_widths) for r in rows]
        return rows

    def __call__(self, inputs, *args, **kwargs):
        if not is_symbolic(inputs) and not isinstance(inputs, Tensor):
            # A list of str would otherwise be taken for a list of inputs.
            inputs = as_string_array(inputs, self.name, self._encoding)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        rows = self._tokenize(as_string_array(inputs, self.name, self._encoding))
        if self._output_mode == "int":
            length = self._output_sequence_length
            if length is None:
                length = max(map(len, rows), default=0)
            out = np.zeros((len(rows), length), dtype=np.int64)
            for i, row in enumerate(rows):
                ids = [0 if t == MASK else self._index.get(t, 1) for t in row[:length]]
                out[i, :len(ids)] = ids
            return Tensor(out)
        depth = self._depth()
        if depth is None:
            raise RuntimeError(f"{self.name}: with output_mode={self._output_mode!r} and "
                               f"pad_to_max_tokens=False, set the vocabulary (adapt or "
                               f"vocabulary=) before calling the layer")
        if self._output_mode == "tf_idf" and self._idf is None:
            raise RuntimeError(f"{self.name}: output_mode='tf_idf' needs idf weights: adapt "
                               f"the layer or pass vocabulary= and idf_weights=")
        out = np.zeros((len(rows), depth), dtype=backend.floatx())
        for i, row in enumerate(rows):
            ids = [self._index.get(t, 0) for t in row if t != MASK]
            np.add.at(out[i], ids, 1)
        if self._output_mode == "multi_hot":
            np.minimum(out, 1, out=out)
        elif self._output_mode == "tf_idf":
            out *= self._idf[:depth]
        return Tensor(out)

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._output_mode != "int" and not self._tokens:
            return None
        return self.vocabulary_size()

    def compute_output_shape(self, input_shape, **kwargs):
        input_shape = tuple(input_shape)
        if not 1 <= len(input_shape) <= 2 or (self._split is not None and len(input_shape)
                                              == 2 and input_shape[1] not in (1, None)):
            raise ValueError(f"{self.name}: expected inputs of shape (batch,) or (batch, 1), "
                             f"got {input_shape}")
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        return (input_shape[0], self._depth())

    def _output_dtype(self):
        return "int64" if self._output_mode == "int" else backend.floatx()

    def get_config(self):
        """The constructor arguments, the vocabulary (and idf weights) included."""
        vocabulary = self.get_vocabulary() if self._tokens else None
        idf = (None if self._idf is None or vocabulary is None
               else self._idf[:len(vocabulary)].tolist())
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "vocabulary": vocabulary,
                "idf_weights": idf, "encoding": self._encoding,
                "has_input_vocabulary": self._has_input_vocabulary}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):   # JSON has no tuples
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


def _ngram_widths(ngrams):
    if ngrams is None:
        return None
    if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool) and ngrams >= 1:
        return tuple(range(1, int(ngrams) + 1))
    if isinstance(ngrams, tuple) and ngrams and all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
            for n in ngrams):
        return tuple(int(n) for n in ngrams)
    raise ValueError(f"TextVectorization: ngrams must be None, a positive integer or a "
                     f"tuple of positive integers, got {ngrams!r}")


def _read_vocabulary_file(owner, path):
    """One token per line (the line without its end), as TensorFlow's text file tables
    read them; trailing empty lines are ignored."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ValueError(f"{owner}: cannot read the vocabulary file {path!r} "
                         f"({e.strerror})") from None
    while lines and lines[-1] == "":
        lines.pop()
    return lines
