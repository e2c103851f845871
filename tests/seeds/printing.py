"""Helpers for the tutorials' snippets (``../shared/seeds/``): compare what a snippet
printed with what the tutorial shows, number by number.

The tutorials ran on TensorFlow/Keras 2 and PyTorch, which print tensors their own way
(``tf.Tensor(...)``, ``torch.Size([...])``); rnnkit prints ``tensor(...)`` and tuples. The
numbers and shapes are what must agree, so the comparisons parse them out of the text.
"""
import re

import numpy as np

_NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?|-?\d+(?:e[-+]?\d+)?")
_SHAPE = re.compile(r"shape: \(([\d, ]*)\)|Size\(\[([\d, ]*)\]\)|^\(([\d, ]+)\)$", re.M)


def numbers(text):
    """Every number printed in ``text``, in order, as floats."""
    return np.array([float(m) for m in _NUMBER.findall(text)])


def shapes(text):
    """Every shape printed in ``text`` (``shape: (1, 3)``, ``torch.Size([1, 10, 8])``, or
    a line holding only a tuple), as tuples of ints."""
    out = []
    for groups in _SHAPE.findall(text):
        body = next(g for g in groups if g is not None and g != "") if any(groups) else ""
        out.append(tuple(int(v) for v in body.replace(" ", "").split(",") if v))
    return out


_ROW = re.compile(r"\((\w+)\)?\s*[│|]?\s+(\((?:None|\d+)(?:, (?:None|\d+))*,?\)|\?)\s*[│|]?\s+"
                  r"([\d,]+)")
_TOTAL = re.compile(r"(Total|Trainable|Non-trainable) params: ([\d,]+)")


def summary_rows(text):
    """The rows of a model summary, in Keras 2's layout (the tutorials') or Keras 3's
    (rnnkit's): a list of (layer type, output shape as printed, parameter count), then
    a dict {"Total": n, "Trainable": n, "Non-trainable": n}. A layer type that Keras 2
    wrapped onto a second line ("Bidirectiona" / "l)") keeps its first part."""
    rows = [(t, shape, int(params.replace(",", ""))) for t, shape, params in _ROW.findall(text)]
    totals = {k: int(v.replace(",", "")) for k, v in _TOTAL.findall(text)}
    return rows, totals


def assert_same_summary(ours, theirs):
    """Same output shapes, parameter counts and totals, row by row; layer types equal
    (or the tutorial's wrapped prefix of ours)."""
    (rows, totals), (want, want_totals) = summary_rows(ours), summary_rows(theirs)
    assert len(rows) == len(want), ours
    for (t, shape, n), (wt, wshape, wn) in zip(rows, want):
        assert t.startswith(wt) and shape == wshape and n == wn, (ours, theirs)
    assert totals == want_totals
