"""Words from text, counted and ranked: the pieces that Keras's ``Tokenizer``, its
``TextVectorization`` layer and the IMDB loader share.

Three tokenizations live here, each the one its framework uses:

- :func:`text_to_word_sequence` is Keras 2's (``Tokenizer``): lower-case, every character
  of ``filters`` becomes ``split``, then split on ``split`` (one space by default).
- :func:`review_words` is the IMDB loader's: ``<br />`` removed, lower-case, Keras 2's
  filters (punctuation except the apostrophe, tab, newline) become spaces, then split on
  ASCII whitespace. "Don't!" gives ``["don't"]``, as in Keras's imdb word index.
- :func:`standardize` / :func:`split_words` / :func:`split_characters` / :func:`ngrams`
  are ``TextVectorization``'s, which TensorFlow runs in Keras: only ASCII letters are
  lower-cased (``tf.strings.lower`` without an encoding), ``string.punctuation`` is
  stripped (the apostrophe included), words are split on ASCII whitespace.

Vocabularies are ranked by frequency with :func:`rank_by_count`; its ``ties`` names the
two rules in use (see there).
"""
from __future__ import annotations

import string

import numpy as np

# Keras 2's Tokenizer default: punctuation without the apostrophe, plus tab and newline.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
# TextVectorization's "strip_punctuation": all of string.punctuation.
PUNCTUATION = string.punctuation
# What tf.strings.split and bytes.split() treat as whitespace (absl's ascii_isspace).
ASCII_WHITESPACE = " \t\n\v\f\r"

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STRIP_PUNCTUATION = str.maketrans("", "", PUNCTUATION)
_WHITESPACE_TO_SPACE = str.maketrans(ASCII_WHITESPACE, " " * len(ASCII_WHITESPACE))


# -- Keras 2: Tokenizer -------------------------------------------------------------------
def text_to_word_sequence(text, filters=KERAS_FILTERS, lower=True, split=" "):
    """Keras 2's word splitting: the words of ``text`` as a list of strings.

    ``lower`` lower-cases first (full Unicode); every character of ``filters`` is then
    replaced by ``split`` and the text is cut at each ``split``; empty pieces are dropped.
    ``"Hello, World!"`` gives ``["hello", "world"]``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text_to_word_sequence: text must be a str, got "
                        f"{type(text).__name__}")
    if not isinstance(split, str) or not split:
        raise ValueError(f"text_to_word_sequence: split must be a non-empty str, got "
                         f"{split!r}")
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


# -- the IMDB reviews ---------------------------------------------------------------------
# Review punctuation is ASCII, and UTF-8 never uses an ASCII byte inside a multi-byte
# character, so one C-level bytes.translate does what str.translate does, several times
# faster on the 25,000 reviews.
_REVIEW_TABLE = bytes(32 if chr(b) in KERAS_FILTERS else b for b in range(256))


def review_word_bytes(text):
    """:func:`review_words` as UTF-8 ``bytes`` words (the loader's fast path)."""
    return text.replace("<br />", " ").lower().encode("utf-8").translate(
        _REVIEW_TABLE).split()


def review_words(text):
    """The IMDB loader's words of one review: ``<br />`` line breaks removed, lower-cased,
    Keras 2's filters (punctuation except ``'``, tab, newline) turned into spaces, split
    on ASCII whitespace. ``"Great!<br /><br />Don't miss it"`` gives
    ``["great", "don't", "miss", "it"]``."""
    return [w.decode("utf-8") for w in review_word_bytes(text)]


# -- ranking a vocabulary -----------------------------------------------------------------
def rank_by_count(counts, ties="first"):
    """The tokens of ``counts`` (a mapping token -> count), most frequent first.

    ties="first": equal counts keep the mapping's own order, which for a dict filled
    while reading is the order of first appearance (Keras 2's Tokenizer and the IMDB
    loader: Python's stable sort). ties="descending": equal counts in descending order of
    the tokens themselves, by code point (Keras 3's ``TextVectorization``/``StringLookup``:
    ``np.lexsort((tokens, counts))[::-1]``; UTF-8 byte order equals code point order).
    """
    if ties == "first":
        return sorted(counts, key=counts.__getitem__, reverse=True)
    if ties == "descending":
        return sorted(counts, key=lambda t: (counts[t], t), reverse=True)
    raise ValueError(f"rank_by_count: ties must be 'first' or 'descending', got {ties!r}")


# -- Keras 3: TextVectorization -----------------------------------------------------------
def standardize(text, mode):
    """TextVectorization's standardization of one string.

    mode: "lower_and_strip_punctuation", "lower" (ASCII letters only, as TensorFlow does),
    "strip_punctuation" (every character of ``string.punctuation``) or None (unchanged).
    """
    if mode in ("lower", "lower_and_strip_punctuation"):
        text = text.translate(_ASCII_LOWER)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = text.translate(_STRIP_PUNCTUATION)
    elif mode not in (None, "lower"):
        raise ValueError(f"standardize: unknown mode {mode!r}; expected "
                         f"'lower_and_strip_punctuation', 'lower', 'strip_punctuation' or "
                         f"None")
    return text


def split_words(text):
    """``tf.strings.split``: the words between runs of ASCII whitespace (leading and
    trailing whitespace give no empty words)."""
    # Not str.split(): it also cuts at U+00A0, U+2003, and even at the ASCII separators
    # U+001C..U+001F, all of which TensorFlow keeps inside words.
    return [w for w in text.translate(_WHITESPACE_TO_SPACE).split(" ") if w]


def split_characters(text):
    """``tf.strings.unicode_split``: one token per Unicode code point, spaces included."""
    return list(text)


def ngrams(tokens, widths):
    """``tf.strings.ngrams`` with ``separator=" "``: for each width in ``widths`` in turn,
    every run of that many consecutive tokens joined by a space. A sequence shorter than
    a width gives no n-grams of that width. ``ngrams(["a", "b", "c"], (1, 2))`` gives
    ``["a", "b", "c", "a b", "b c"]``."""
    out = []
    for n in widths:
        out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return out


def as_string_array(data, owner, encoding="utf-8"):
    """``data`` (a str, a list of str, an ndarray of str/bytes/objects) as an ndarray of
    str; bytes are decoded with ``encoding``. A clear error names ``owner`` otherwise."""
    arr = np.asarray(getattr(data, "data", data))
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "S":
        return np.char.decode(arr, encoding)
    if arr.dtype == object:
        flat = arr.reshape(-1)
        if all(isinstance(v, str) for v in flat):
            return arr.astype(str) if flat.size else arr.astype("U1")
        if all(isinstance(v, (str, bytes)) for v in flat):
            return np.array([v.decode(encoding) if isinstance(v, bytes) else v
                             for v in flat], dtype=str).reshape(arr.shape)
    raise TypeError(f"{owner}: expected strings (a list or array of str), got an array of "
                    f"dtype {arr.dtype} and shape {arr.shape}")
