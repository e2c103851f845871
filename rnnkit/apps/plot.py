"""``rnnkit plot``: pictures of training curves, hidden states and vanishing gradients.

    rnnkit plot curves DIR [--out FILE.png]               any app's metrics.csv
    rnnkit plot hidden DIR --text TEXT [--out FILE.png]   a textgen model's h_t along TEXT
    rnnkit plot gradients [--out FILE.png] [--steps T]    ||dL/dh_t||: SimpleRNN, LSTM, GRU

The pictures themselves are drawn in ``rnnkit.apps.figures`` (matplotlib, the optional
``plot`` extra, imported only when one is drawn, so ``rnnkit --help`` stays fast and
works without it); this module reads the arguments, gathers the data and says where
each PNG went.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

from rnnkit.apps.common import AppError, Reporter, positive
from rnnkit.apps.figures import (BOOKKEEPING, curves_figure, gradients_figure,
                                 hidden_figure, new_figure, read_metrics, save_png)

MAX_CHARS = 300      # wider heatmaps no longer fit one picture with readable tick labels


# -- curves ----------------------------------------------------------------------------------
def choose_metrics(log, names=None):
    """``log`` keeping only the metrics ``names`` (None: all but BOOKKEEPING); an
    AppError names a metric the log does not have. Returns (log, left-out names)."""
    if names is None:
        chosen = [m for m in log["metrics"] if m not in BOOKKEEPING] or list(log["metrics"])
    else:
        unknown = [m for m in names if m not in log["metrics"]]
        if unknown:
            raise AppError(f"--metrics: {', '.join(unknown)} not in {log['file']!r} "
                           f"(it has: {', '.join(log['metrics'])})")
        chosen = list(dict.fromkeys(names))
    left_out = [m for m in log["metrics"] if m not in chosen]
    return {**log, "metrics": {m: log["metrics"][m] for m in chosen}}, left_out


def _app_of(directory):
    """The app named in a directory's manifest, for a title (None when there is none)."""
    try:
        with open(os.path.join(directory, "rnnkit-model.json"), encoding="utf-8") as f:
            app = json.load(f).get("app")
    except (OSError, ValueError, AttributeError):
        return None
    return app if isinstance(app, str) else None


def _run_curves(args):
    new_figure()   # matplotlib first: a missing extra is the first thing to hear about
    report = Reporter(args)
    log, left_out = choose_metrics(read_metrics(args.directory), args.metrics)
    directory = args.directory if os.path.isdir(args.directory) else \
        os.path.dirname(os.path.abspath(args.directory))
    out = _png_path(args.out or os.path.join(directory, "curves.png"))
    if log["skipped"]:
        report.say(f"not plotted (not numbers): {', '.join(log['skipped'])}")
    if left_out:
        report.say(f"not plotted: {', '.join(left_out)} (name them with --metrics to draw "
                   f"them)")
    app = _app_of(directory)
    name = os.path.basename(os.path.abspath(directory))
    title = f"rnnkit {app} train: {name}" if app else name
    save_png(curves_figure(log, title), out)
    report.say(f"training curves ({', '.join(log['metrics'])}) written to {out}")
    report.finish({"out": out, "metrics": list(log["metrics"])})
    return 0


# -- hidden ----------------------------------------------------------------------------------
def _run_hidden(args):
    new_figure()
    report = Reporter(args)
    out = _png_path(args.out or os.path.join(args.directory, "hidden.png"))
    text = args.text
    if not text:
        raise AppError("--text is empty: give the characters to read")
    if len(text) > MAX_CHARS:
        raise AppError(f"--text has {len(text)} characters; at most {MAX_CHARS} fit in one "
                       f"heatmap")
    try:
        from rnnkit.apps.textgen import hidden_activations
    except ImportError:
        raise AppError("plot hidden reads a model of 'rnnkit textgen', which this rnnkit "
                       "does not have") from None
    chars, activations = hidden_activations(args.directory, text)
    hidden = activations.shape[1]
    name = os.path.basename(os.path.abspath(args.directory))
    fig = hidden_figure(chars, activations, units=args.units,
                        title=f"hidden state $h_t$ of the last layer along the input "
                              f"({name}, {hidden} units)")
    save_png(fig, out)
    report.say(f"hidden-state heatmap ({min(args.units, hidden)} units x {len(chars)} "
               f"characters) written to {out}")
    report.finish({"out": out, "characters": len(chars), "hidden": hidden})
    return 0


# -- gradients -------------------------------------------------------------------------------
def _run_gradients(args):
    new_figure()
    from rnnkit.apps.gradient_flow import CELLS, vanishing_gradients

    report = Reporter(args)
    out = _png_path(args.out or "gradients.png")
    report.say(f"SimpleRNN, LSTM and GRU (hidden {args.hidden}) on sequences of "
               f"{args.steps} steps" + (f", trained {args.train} steps each" if args.train
                                        else ", at initialisation"))
    bar = report.progress(3 * args.train, desc="training") if args.train else None
    with bar or contextlib.nullcontext():
        result = vanishing_gradients(steps=args.steps, hidden=args.hidden, batch=args.batch,
                                     train_steps=args.train, lr=args.lr, seed=args.seed,
                                     progress=bar)
    save_png(gradients_figure(result), out)
    summary = {"out": out, "steps": args.steps, "hidden": args.hidden,
               "train_steps": args.train}
    for key in ("initial", "trained") if args.train else ("initial",):
        summary[key] = {kind: [float(v) for v in result[kind][key]] for kind in CELLS}
    if args.train:
        summary["train_loss"] = {kind: result[kind]["train_loss"] for kind in CELLS}
    last = args.steps - 1
    key, when = ("trained", "after training") if args.train else ("initial", "at "
                                                                    "initialisation")
    for kind in CELLS:
        norms = result[kind][key]
        report.say(f"  {CELLS[kind][0]:9s} ||dL/dh_t|| {when}: {norms[0]:.3e} at distance "
                   f"0, {norms[last]:.3e} at {last}")
    report.say(f"gradient norms written to {out}")
    report.finish(summary)
    return 0


# -- the command -----------------------------------------------------------------------------
def _png_path(path):
    if not str(path).lower().endswith(".png"):
        raise AppError(f"--out must name a .png file, got {path!r}")
    return path


def _non_negative(text):
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected an int, got {text!r}") from None
    if value < 0:
        raise ValueError(f"expected an int >= 0, got {value}")
    return value


def _output_options(parser, default):
    parser.add_argument("--out", metavar="FILE.png", help=f"where the PNG goes "
                        f"(default: {default})")
    parser.add_argument("--json", action="store_true",
                        help="print the results as one JSON object on the last line")
    parser.add_argument("--quiet", action="store_true", help="print nothing else on stdout")


def add_parser(sub):
    """``rnnkit plot {curves,hidden,gradients}``."""
    plot = sub.add_parser("plot", help="draw training curves, hidden states, vanishing "
                                       "gradients (needs matplotlib)",
                          description="Pictures as PNG files (needs the optional matplotlib:"
                                      ' pip install "rnnkit[plot]").')
    kinds = plot.add_subparsers(dest="picture", metavar="PICTURE")
    plot.set_defaults(run=lambda args: (plot.print_help(sys.stderr), 2)[1])

    curves = kinds.add_parser("curves", help="training and validation curves of a run",
                              description="Training and validation curves from the "
                                          "metrics.csv of any app's model directory.")
    curves.add_argument("directory", metavar="DIR",
                        help="a model directory (or a metrics.csv file)")
    curves.add_argument("--metrics", nargs="+", metavar="NAME",
                        help="the columns to draw (default: all but "
                             f"{' and '.join(BOOKKEEPING)})")
    _output_options(curves, "DIR/curves.png")
    curves.set_defaults(run=_run_curves)

    hidden = kinds.add_parser("hidden", help="heatmap of a textgen model's hidden states "
                                             "along a text")
    hidden.add_argument("directory", metavar="DIR", help="a model directory of "
                                                         "'rnnkit textgen train'")
    hidden.add_argument("--text", required=True,
                        help=f"the characters to read (at most {MAX_CHARS})")
    hidden.add_argument("--units", type=positive(int), default=32,
                        help="units to show: those that vary most along the text "
                             "(default: 32)")
    _output_options(hidden, "DIR/hidden.png")
    hidden.set_defaults(run=_run_hidden)

    grads = kinds.add_parser(
        "gradients", help="||dL/dh_t|| against distance for SimpleRNN, LSTM and GRU",
        description="The vanishing gradient: the norm of dL/dh_t against the distance "
                    "T - t from a loss on the last step, for SimpleRNN, LSTM and GRU at "
                    "PyTorch's initialisation and after training on the same task.")
    grads.add_argument("--steps", type=positive(int), default=100,
                       help="sequence length T (default: 100)")
    grads.add_argument("--hidden", type=positive(int), default=32,
                       help="hidden size of every model (default: 32)")
    grads.add_argument("--batch", type=positive(int), default=32,
                       help="sequences per batch (default: 32)")
    grads.add_argument("--train", type=_non_negative, default=300, metavar="N",
                       help="Adam steps on the task before measuring again; 0 measures "
                            "at initialisation only (default: 300)")
    grads.add_argument("--lr", type=positive(float), default=3e-3,
                       help="learning rate (default: 0.003)")
    grads.add_argument("--seed", type=_non_negative, default=0,
                       help="random seed: initial weights and data (default: 0)")
    _output_options(grads, "gradients.png")
    grads.set_defaults(run=_run_gradients)
