"""What every app shares: its common options, its progress bars, its logs, its errors.

Every subcommand takes ``--json`` (its final metrics as one JSON object on the last line
of stdout), ``--quiet`` (nothing else on stdout), ``--seed`` and, where it trains,
``--tensorboard DIR``. A :class:`Reporter` carries them through a run:

    report = Reporter(args, out_dir)                 # args from add_common_options
    for epoch in range(epochs):
        with report.progress(total=steps, desc=f"epoch {epoch + 1}") as bar:
            for step in range(steps):
                bar.update(loss=loss)                # bar on a terminal, lines elsewhere
        report.log(epoch + 1, loss=..., val_loss=...)  # metrics.csv + TensorBoard
    report.finish({"val_bpc": 2.1})                  # the --json line

Human-readable messages go through ``report.say``; under ``--quiet`` they are dropped.
A problem with the user's input raises :class:`AppError`, which the command prints
without a traceback (exit status 2).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time

from rnnkit.serialization import atomic_write


class AppError(Exception):
    """A problem with the user's input (a file, a directory, an argument): the ``rnnkit``
    command prints the message alone and exits with status 2."""


def add_common_options(parser, tensorboard=True):
    """--json, --quiet, --seed (and --tensorboard DIR for commands that train)."""
    parser.add_argument("--json", action="store_true",
                        help="print the final metrics as one JSON object on the last line")
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing else on stdout (no progress, no messages)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    if tensorboard:
        parser.add_argument("--tensorboard", metavar="DIR",
                            help="also write TensorBoard event files to DIR (needs "
                                 "tensorboardX: pip install 'rnnkit[tensorboard]')")


def positive(kind=int):
    """An argparse type: a number > 0 of ``kind`` (int or float)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0 or (kind is float and not math.isfinite(value)):
            raise ValueError(f"expected a number > 0, got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def read_text_file(path, what="text file"):
    """The UTF-8 text of ``path``; a missing, unreadable or empty file is an AppError."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        raise AppError(f"{what} {path!r} does not exist") from None
    except IsADirectoryError:
        raise AppError(f"{what} {path!r} is a directory, not a file") from None
    except OSError as e:
        raise AppError(f"cannot read {what} {path!r}: {e.strerror}") from None
    if not text.strip():
        raise AppError(f"{what} {path!r} is empty")
    return text


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3e}"
    return str(value)


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """A progress bar over ``total`` items (None: unknown) with running values.

    On a terminal it redraws one line: ``desc [####......] 40/100 loss 1.2345 12.3 it/s
    ETA 5s``. Elsewhere (a pipe, a log file) it prints a plain line at most every
    ``interval`` seconds and once at the end, so logs stay readable.
    """

    def __init__(self, total, desc="", unit="it", stream=None, enabled=True,
                 interval=None, width=24):
        self.total, self.desc, self.unit, self.width = total, desc, unit, width
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if interval is not None else (0.1 if self.tty else 30.0)
        self.n, self.values = 0, {}
        self.start = self._last = time.monotonic()
        self._drawn = 0

    def update(self, n=1, **values):
        """Count ``n`` more items done; ``values`` (e.g. loss=...) replace the shown ones."""
        self.n += n
        self.values.update(values)
        now = time.monotonic()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._draw(final=False)

    def line(self):
        """The progress line as it would be drawn now."""
        elapsed = time.monotonic() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total:
            done = min(1.0, self.n / self.total)
            filled = int(done * self.width)
            parts.append("[" + "#" * filled + "." * (self.width - filled) + "]")
            parts.append(f"{self.n}/{self.total}")
        else:
            parts.append(f"{self.n}")
        parts += [f"{k} {_fmt(v)}" for k, v in self.values.items()]
        parts.append(f"{rate:.1f} {self.unit}/s" if rate < 100 else f"{rate:.0f} {self.unit}/s")
        if self.total and 0 < self.n < self.total and rate > 0:
            parts.append(f"ETA {_duration((self.total - self.n) / rate)}")
        else:
            parts.append(_duration(elapsed))
        return " ".join(parts)

    def _draw(self, final):
        text = self.line()
        if self.tty:
            pad = max(0, self._drawn - len(text))
            self.stream.write("\r" + text + " " * pad + ("\n" if final else ""))
            self._drawn = 0 if final else len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self._draw(final=True)
            self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is None:
            self.close()
        elif self.tty and self._drawn:
            self.stream.write("\n")


class Reporter:
    """One run's output: messages, progress bars, the metrics log (``metrics.csv`` in
    ``out_dir``), TensorBoard scalars (``--tensorboard``) and the final ``--json`` line.

    args: the parsed options of :func:`add_common_options` (``json``, ``quiet``,
    optionally ``tensorboard``). out_dir: where ``metrics.csv`` goes (None: no log).
    """

    def __init__(self, args, out_dir=None, csv_name="metrics.csv", stream=None):
        self.quiet = bool(getattr(args, "quiet", False))
        self.json = bool(getattr(args, "json", False))
        self.stream = stream or sys.stdout
        self.csv_path = os.path.join(out_dir, csv_name) if out_dir else None
        self.rows = []
        self._writer = None
        logdir = getattr(args, "tensorboard", None)
        if logdir:
            from rnnkit.tensorboard import SummaryWriter

            try:
                self._writer = SummaryWriter(logdir)
            except ImportError as e:
                raise AppError(str(e)) from None

    def say(self, message=""):
        """Print a human-readable line (nothing under --quiet)."""
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def progress(self, total, desc="", unit="it"):
        """A :class:`Progress` bar on this run's stream (silent under --quiet)."""
        return Progress(total, desc, unit, stream=self.stream, enabled=not self.quiet)

    def resume_log(self, rows):
        """Start from earlier rows (a resumed run keeps its history)."""
        self.rows = [dict(r) for r in rows]

    def log(self, step, **metrics):
        """Record one row of metrics at ``step`` (an epoch or a step count): appended to
        metrics.csv (rewritten atomically) and sent to TensorBoard."""
        row = {"step": int(step), **metrics}
        self.rows.append(row)
        if self.csv_path:
            self._write_csv()
        if self._writer is not None:
            self._writer.add_scalars(metrics, int(step))
            self._writer.flush()

    def _write_csv(self):
        columns = []
        for row in self.rows:
            columns += [k for k in row if k not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        data = buffer.getvalue().encode("utf-8")
        atomic_write(self.csv_path, lambda f: f.write(data))

    def finish(self, metrics):
        """End the run: close TensorBoard and, under --json, print ``metrics`` as one
        JSON object on the last line of stdout. Returns ``metrics``."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.json:
            print(json.dumps(metrics, allow_nan=True, default=float), file=self.stream,
                  flush=True)
        return metrics
