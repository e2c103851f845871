"""The pictures of ``rnnkit plot``, drawn from data: training curves, hidden states,
the vanishing gradient.

    fig = curves_figure(read_metrics("runs/imdb"))        # any app's metrics.csv
    fig = hidden_figure("hello", activations)             # activations (5, hidden)
    fig = gradients_figure(vanishing_gradients())         # rnnkit.apps.gradient_flow
    save_png(fig, "curves.png")

matplotlib is the optional ``plot`` extra (``pip install "rnnkit[plot]"``), imported
only when a figure is made: :func:`new_figure` raises an AppError naming the extra when
it is absent. Figures use matplotlib's object API on the Agg canvas (no pyplot, no
global state, no display) and are written as PNG atomically.
"""
from __future__ import annotations

import csv
import io
import math
import os

from rnnkit.apps.common import AppError

MISSING_MATPLOTLIB = ('plots need the optional matplotlib package: pip install '
                      '"rnnkit[plot]" (or pip install matplotlib)')
_SHOWN = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"}   # visible blank characters


def new_figure(**kwargs):
    """A matplotlib ``Figure`` on the Agg canvas; an AppError when matplotlib is absent."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise AppError(MISSING_MATPLOTLIB) from None
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path):
    """Write ``fig`` as a PNG to ``path`` atomically; returns the path."""
    from rnnkit.serialization import atomic_write

    path = os.fspath(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    try:
        atomic_write(path, lambda f: f.write(buffer.getvalue()))
    except OSError as e:
        raise AppError(f"cannot write {path!r}: {e.strerror or e}") from None
    return path


# -- curves ----------------------------------------------------------------------------------
def read_metrics(path):
    """The metrics log of a model directory (or a metrics.csv file itself).

    Returns a dict: ``x`` (the first column's name, ``step``), ``steps`` (rows,) and
    ``metrics`` {name: (rows,) float ndarray, nan where a row has no value} in the file's
    column order, and ``skipped``: columns whose values are not numbers.
    """
    import numpy as np

    path = os.fspath(path)
    if os.path.isdir(path):
        file = os.path.join(path, "metrics.csv")
        if not os.path.isfile(file):
            raise AppError(f"{path!r} has no metrics.csv: nothing was logged there (every "
                           f"'rnnkit <app> train' writes one in its output directory)")
    elif os.path.isfile(path):
        file = path
    else:
        raise AppError(f"{path!r} does not exist (expected a model directory with a "
                       f"metrics.csv)")
    try:
        with open(file, encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise AppError(f"cannot read {file!r}: {e}") from None
    table = [row for row in table if row]
    if len(table) < 2:
        raise AppError(f"{file!r} is empty: no metrics have been logged yet")
    header, rows = table[0], table[1:]
    if header[0] != "step" or len(header) < 2:
        raise AppError(f"{file!r} is not a metrics log: expected a 'step' column followed "
                       f"by metrics, got columns {header}")
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise AppError(f"{file!r} line {i} has {len(row)} values for {len(header)} "
                           f"columns")
    try:
        steps = np.array([float(r[0]) for r in rows])
    except ValueError:
        raise AppError(f"{file!r}: the 'step' column holds something that is not a "
                       f"number") from None
    metrics, skipped = {}, []
    for j, name in enumerate(header[1:], start=1):
        try:
            metrics[name] = np.array([float(r[j]) if r[j] != "" else math.nan
                                      for r in rows])
        except ValueError:
            skipped.append(name)
    if not metrics:
        raise AppError(f"{file!r} has no numeric metric to plot (columns {header})")
    return {"x": header[0], "steps": steps, "metrics": metrics, "skipped": skipped,
            "file": file}


# A prefix says whose number a column is; the rest of its name picks its axes, so that
# train_bpc meets val_bpc, and forecast's naive_rmse sits under val_rmse as a baseline.
_ROLES = (("train_", "training", "C0", "-"), ("val_", "validation", "C1", "-"),
          ("naive_", "naive forecast", "0.4", "--"))
_UNPREFIXED = ("training", "C0", "-")
BOOKKEEPING = ("epoch", "seconds")   # logged beside the metrics, not curves to look at


def _groups(names):
    """[(base, [(name, label, color, style), ...]), ...]: one entry per axes, in the
    order the bases first appear; within one, training before validation before naive."""
    groups = {}
    for name in names:
        for prefix, label, color, style in _ROLES:
            if name.startswith(prefix) and len(name) > len(prefix):
                groups.setdefault(name[len(prefix):], []).append((name, label, color, style))
                break
        else:
            groups.setdefault(name, []).append((name, *_UNPREFIXED))
    order = [role[1] for role in _ROLES]
    out = []
    for base, lines in groups.items():
        if len(lines) == 1 and lines[0][0] == base:   # alone and unprefixed: just its name
            lines = [(base, base, "C0", "-")]
        out.append((base, sorted(lines, key=lambda line: order.index(line[1])
                                 if line[1] in order else -1)))
    return out


def curves_figure(log, title=None):
    """Training and validation curves from :func:`read_metrics`'s dict, one axes per
    metric: ``loss`` (or ``train_loss``) with ``val_loss``, and ``naive_x`` dashed
    beside them. Rows where a metric was not logged are skipped; a metric of positive
    values spanning two decades or more is drawn on a log scale. Returns the Figure."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    groups = _groups(log["metrics"])
    cols = min(len(groups), 2)
    rows = math.ceil(len(groups) / cols)
    fig = new_figure(figsize=(5.2 * cols, 3.4 * rows + 0.5), dpi=100,
                     layout="constrained")
    steps = log["steps"]
    for k, (base, lines) in enumerate(groups):
        ax = fig.add_subplot(rows, cols, k + 1)
        values = []
        for name, label, color, style in lines:
            y = log["metrics"][name]
            keep = np.isfinite(y)
            if not keep.any():
                continue
            ax.plot(steps[keep], y[keep], style, color=color,
                    label=label if label == name else f"{label} ({name})",
                    marker=None if keep.sum() > 40 or style == "--" else "o",
                    markersize=3.5, linewidth=1.6)
            values.append(y[keep])
        if values:
            v = np.concatenate(values)
            if v.min() > 0 and v.max() / v.min() >= 100:
                ax.set_yscale("log")
        ax.set_title(base)
        ax.set_xlabel(log["x"])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if len(lines) > 1 or lines[0][1] != base:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# -- hidden ----------------------------------------------------------------------------------
def hidden_figure(chars, activations, units=32, title=None):
    """A heatmap of hidden-state activations along an input: units (rows) x characters
    (columns, each character a tick label; blanks drawn as visible symbols).

    chars: the input's characters (a str or a sequence of one-character strings), length
    n; activations: an array (n, hidden), row t being h_t after reading chars[t].
    units: how many units to show; when fewer than ``hidden``, the ``units`` that vary
    most along the input (largest standard deviation), in index order. Returns the Figure.
    """
    import numpy as np

    chars = list(chars)
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != len(chars) or a.shape[0] == 0:
        raise ValueError(f"hidden_figure: activations must have shape (len(chars), hidden) "
                         f"= ({len(chars)}, hidden) with at least one character, got "
                         f"{a.shape}")
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise ValueError(f"hidden_figure: units must be a positive int, got {units!r}")
    n, hidden = a.shape
    if units >= hidden:
        shown = np.arange(hidden)
    else:
        shown = np.sort(np.argsort(-a.std(axis=0), kind="stable")[:units])
    data = a[:, shown].T
    # tanh-bounded states share one fixed scale, so pictures compare; others their own
    peak = float(np.abs(data).max()) if np.isfinite(data).all() else 1.0
    vmax = 1.0 if peak <= 1.0 else peak
    width = min(max(6.0, 1.8 + 0.13 * n), 40.0)
    height = min(max(2.8, 1.4 + 0.16 * len(shown)), 24.0)
    fig = new_figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(data, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                      interpolation="nearest")
    ax.set_xticks(range(n))
    ax.set_xticklabels([_SHOWN.get(c, c if c.isprintable() else repr(c)[1:-1])
                        for c in chars], fontfamily="monospace", fontsize=9)
    ax.tick_params(axis="x", length=0)
    every = max(1, math.ceil(len(shown) / 32))
    ax.set_yticks(range(0, len(shown), every))
    ax.set_yticklabels([str(u) for u in shown[::every]], fontsize=8)
    ax.set_xlabel("input character")
    ax.set_ylabel("hidden unit" if len(shown) == hidden
                  else f"hidden unit ({len(shown)} of {hidden} that vary most)")
    fig.colorbar(image, ax=ax, label="$h_t$", fraction=0.04, pad=0.01)
    if title:
        ax.set_title(title)
    return fig


# -- gradients -------------------------------------------------------------------------------
def gradients_figure(result):
    """||dL/dh_t|| against the distance T - t, one colour per cell, log-scale y, from
    :func:`rnnkit.apps.gradient_flow.vanishing_gradients`'s dict: dashed at
    initialisation, solid after training. Each curve is divided by its value at
    distance 0 so that cells whose fit differs start from the same point."""
    import numpy as np

    from rnnkit.apps.gradient_flow import CELLS

    fig = new_figure(figsize=(7.5, 4.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    d = result["distance"]
    for k, kind in enumerate(kind for kind in CELLS if kind in result):
        name, entry, color = CELLS[kind][0], result[kind], f"C{k}"
        for key, style in (("initial", "--"), ("trained", "-")):
            if key not in entry:
                continue
            norms = np.asarray(entry[key], dtype=np.float64)
            rel = norms / norms[0]
            rel = np.where(rel > 0, rel, np.nan)   # an underflow to 0 has no logarithm
            label = (f"{name}, at initialisation" if key == "initial" else
                     f"{name}, trained (final MSE {entry['train_loss']:.3f})")
            ax.plot(d, rel, style, color=color, label=label, linewidth=1.8)
    ax.set_yscale("log")
    ax.set_xlim(0, d[-1])
    ax.set_xlabel("distance from the loss, T - t (steps)")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$ relative to $t = T$")
    trained = (f"; trained {result['train_steps']} Adam steps" if result["train_steps"]
               else "")
    fig.suptitle(r"How far back the gradient reaches: $\|\partial L / \partial h_t\|$ "
                 r"against the distance from the loss")
    ax.set_title(f"task: predict the mean of the first input over T = {result['steps']} steps "
                 f"from $h_T$; hidden {result['hidden']}, mean over {result['batch']} "
                 f"sequences;\nPyTorch's initialisation "
                 rf"U$(-1/\sqrt{{H}}, 1/\sqrt{{H}})$ for all three{trained}",
                 fontsize=9, color="0.3")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    return fig
