"""``Progbar``: Keras's progress bar, as ``fit``/``evaluate``/``predict`` print it.

verbose=1 redraws one line per update (``\\r``) on a terminal; elsewhere (a pipe, a log
file) it writes only the finished line of each epoch:

    8/8 ━━━━━━━━━━━━━━━━━━━━ 1s 12ms/step - accuracy: 0.5312 - loss: 0.6915

verbose=2 prints only the finished line, ``8/8 - 1s - 12ms/step - loss: 0.6915``.
Values are shown as given (the trainer already passes running means): 4 decimals, or
scientific notation below 1e-3.
"""
from __future__ import annotations

import math
import re
import sys
import time

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _format_value(v):
    if isinstance(v, str):
        return f" {v}"
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


def _format_time(seconds_per_unit, unit):
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit}"


class Progbar:
    """``Progbar(target, width=20, verbose=1, interval=0.05, unit_name="step")``;
    ``update(current, values=[(name, value), ...], finalize=None)``."""

    def __init__(self, target, width=20, verbose=1, interval=0.05, unit_name="step",
                 stream=None):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self._stream = stream
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._first_step_done = None
        self._prev_width = 0

    @property
    def stream(self):
        return self._stream or sys.stdout

    def _dynamic(self):
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def _seconds_per_step(self, current, now):
        if not current:
            return 0.0
        if current == 1 or self._first_step_done is None:
            if current == 1:
                self._first_step_done = now
            return (now - self._start) / current
        return (now - self._first_step_done) / max(current - 1, 1)

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or []:
            self._values[k] = v
        now = time.time()
        per_step = self._seconds_per_step(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._write_bar(current, now, per_step, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            line += _format_time(per_step, self.unit_name)
            line += "".join(f" - {k}:{_format_value(v)}" for k, v in self._values.items())
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last_update = now

    def _write_bar(self, current, now, per_step, finalize):
        if self.target:
            digits = int(math.log10(self.target)) + 1
            done = int(self.width * current / self.target)
            count = f"{current:{digits}d}/{self.target}"
            if self._dynamic():   # Keras's colours: bold count, green done, white to go
                bar = (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                       f"\x1b[37m{'━' * (self.width - done)}\x1b[0m")
            else:
                bar = f"{count} {'━' * done}{'─' * (self.width - done)}"
        else:
            bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_step * (self.target - current)
            info = (f" {eta // 3600:.0f}:{(eta % 3600) // 60:02.0f}:{eta % 60:02.0f}"
                    if eta > 3600 else f" {eta // 60:.0f}:{eta % 60:02.0f}" if eta > 60
                    else f" {eta:.0f}s")
        else:
            info = f" {now - self._start:.0f}s"
        info += _format_time(per_step, self.unit_name)
        info += "".join(f" - {k}:{_format_value(v)}" for k, v in self._values.items())
        line = bar + info
        visible = len(_ANSI.sub("", line))
        pad = " " * max(self._prev_width - visible, 0)
        self._prev_width = visible
        if self._dynamic():
            self.stream.write("\r" + line + pad + ("\n" if finalize else ""))
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self._seen = getattr(self, "_seen", 0) + n
        self.update(self._seen, values)
