"""How well a classifier did: accuracy, per-class precision/recall/F1, the confusion
matrix, and their aligned tables.

For class c, with the confusion matrix ``M[true, predicted]``:

    precision_c = M[c, c] / sum_t M[t, c]      (of the items predicted c, the share that is c)
    recall_c    = M[c, c] / sum_p M[c, p]      (of the items that are c, the share found)
    F1_c        = 2 precision_c recall_c / (precision_c + recall_c)

A ratio whose denominator is 0 (no item predicted c, or none is c) is reported as 0, as
scikit-learn does by default. "macro avg" is the unweighted mean over the classes.
"""
from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes):
    """int64 (num_classes, num_classes): ``M[t, p]`` counts items of class t predicted p."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"confusion_matrix: y_true and y_pred must be 1-D of one shape, "
                         f"got {y_true.shape} and {y_pred.shape}")
    return np.bincount(y_true * num_classes + y_pred,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(num, den):
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def scores(matrix):
    """Accuracy and per-class precision, recall, F1 and support of a confusion matrix:
    a dict with ``accuracy`` (float) and float64 arrays (classes,) ``precision``,
    ``recall``, ``f1``, int64 ``support``."""
    m = np.asarray(matrix, np.int64)
    hits = np.diag(m)
    precision = _ratio(hits, m.sum(axis=0))
    recall = _ratio(hits, m.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    total = m.sum()
    return {"accuracy": float(hits.sum() / total) if total else 0.0,
            "precision": precision, "recall": recall, "f1": f1, "support": m.sum(axis=1)}


def _table(header, rows, align):
    """Columns padded to their widest cell; ``align`` per column, "<" or ">"."""
    cells = [header] + rows
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip()
                     for r in cells)


def scores_table(classes, s):
    """Per-class precision, recall, F1 and support, then the macro average."""
    rows = [[name, f"{p:.4f}", f"{r:.4f}", f"{f:.4f}", str(n)] for name, p, r, f, n in
            zip(classes, s["precision"], s["recall"], s["f1"], s["support"])]
    rows.append(["macro avg", f"{s['precision'].mean():.4f}", f"{s['recall'].mean():.4f}",
                 f"{s['f1'].mean():.4f}", str(int(s["support"].sum()))])
    return _table(["class", "precision", "recall", "f1", "support"], rows,
                  ["<", ">", ">", ">", ">"])


def confusion_table(classes, matrix):
    """The confusion matrix with its class names: rows the true class, columns the
    predicted one."""
    rows = [[name] + [str(v) for v in row] for name, row in zip(classes, matrix)]
    return _table(["true \\ predicted"] + list(classes), rows,
                  ["<"] + [">"] * len(classes))


def per_class_json(classes, s):
    """``{class: {"precision", "recall", "f1", "support"}}`` with plain numbers."""
    return {name: {"precision": float(p), "recall": float(r), "f1": float(f),
                   "support": int(n)}
            for name, p, r, f, n in zip(classes, s["precision"], s["recall"], s["f1"],
                                        s["support"])}
