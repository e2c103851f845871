"""A numeric series for ``rnnkit forecast``: read from a CSV column, split in time, scaled,
and cut into windows.

    series = read_csv_series("sales.csv", "units", time_column="date")
    n_train = split_point(len(series), val_fraction=0.2, window=24, horizon=3, lag=0)
    scaling = Scaling.fit(series.values[:n_train], difference=False)
    x, y = windows(series.values, scaling, window=24, horizon=3, starts=range(24, n_train - 2))

A window that *starts* the forecast at index t reads the inputs ``values[t - window:t]``
and is scored on the targets ``values[t:t + horizon]``. The split is chronological: the
first ``n_train`` values train (their windows' targets lie entirely among them), the rest
validate; a validation window may read inputs from the end of the training part, which
is known at forecast time. Scaling is fitted on the training part only, so nothing of
the validation part leaks into the model.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import math

import numpy as np

from rnnkit.apps.common import AppError, read_text_file

MISSING = ("", "na", "nan", "n/a", "null")   # cells read as a gap (case-insensitive)


@dataclasses.dataclass
class Series:
    """One column of numbers in time order.

    values: float64 (n,). name: the column's name. times: the time column's cells as
    text, (n,) in the same order, or None. time_name: that column's name, or None.
    gaps: bool (n,), True where a value was missing and interpolated, or None.
    """
    values: np.ndarray
    name: str
    times: list | None = None
    time_name: str | None = None
    gaps: np.ndarray | None = None

    def observed(self):
        """The values with every interpolated gap as NaN: what forecasts are scored on."""
        if self.gaps is None:
            return self.values
        return np.where(self.gaps, np.nan, self.values)

    def __len__(self):
        return len(self.values)

    def future_times(self, count):
        """The ``count`` times after the last one when the times are evenly spaced numbers
        (years, quarters as 1990.25...), else ``count`` empty strings."""
        blank = [""] * count
        if not self.times or len(self.times) < 2:
            return blank
        try:
            t = np.array([float(s) for s in self.times])
        except ValueError:
            return blank
        steps = np.diff(t)
        if not np.allclose(steps, steps[0], rtol=1e-9, atol=1e-9) or steps[0] <= 0:
            return blank
        ahead = t[-1] + steps[0] * np.arange(1, count + 1)
        integral = all(float(s).is_integer() for s in self.times)
        return [str(int(round(v))) if integral else f"{v:.10g}" for v in ahead]


def _rows(path):
    """The header and (line number, cells) of each non-blank data row of the CSV ``path``."""
    text = read_text_file(path, "CSV file")
    text = text.lstrip("\ufeff")   # a byte-order mark some spreadsheets write
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:   # one column, or too little text to tell: commas
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    try:
        header = [h.strip() for h in next(reader)]
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise AppError(f"CSV file {path!r} line {reader.line_num} is malformed: {e}") from None
    if not rows:
        raise AppError(f"CSV file {path!r} has a header ({', '.join(header)}) but no rows "
                       f"of data")
    return header, rows


def _column_index(path, header, column, option):
    if column not in header:
        raise AppError(f"CSV file {path!r} has no column {column!r} ({option}); its "
                       f"columns are: {', '.join(map(repr, header))}")
    return header.index(column)


def _parsed(parse, cell):
    try:
        return parse(cell.strip())
    except ValueError:
        return None


def _time_keys(path, column, cells, lines):
    """Sort keys for the time column: all numbers, else all ISO 8601 dates/times."""
    numbers = [_parsed(float, c) for c in cells]
    if all(k is not None and math.isfinite(k) for k in numbers):
        return numbers
    dates = [_parsed(datetime.datetime.fromisoformat, c) for c in cells]
    if all(d is not None for d in dates):
        return dates
    where = f"cannot order CSV file {path!r} by --time-column {column!r}"
    for cell, line, number, date in zip(cells, lines, numbers, dates):
        if number is None and date is None:
            raise AppError(f"{where}: line {line} holds {cell!r}, which is neither a "
                           f"number nor an ISO 8601 date (YYYY-MM-DD[THH:MM]); sort the "
                           f"file yourself and leave out --time-column")
    raise AppError(f"{where}: it mixes numbers and dates")


def read_csv_series(path, column=None, time_column=None, missing="error"):
    """The numbers of ``column`` in the CSV file ``path`` as a :class:`Series`.

    column: the header's name for the values; None picks the only column besides
        ``time_column`` (an error when there are several: it lists them).
    time_column: a column of numbers or ISO 8601 dates to order the rows by (stable;
        two rows at the same time are an error); None keeps the file's order.
    missing: "error" (a gap is an error naming its line) or "interpolate" (gaps are
        filled linearly between their neighbours, the ends by the nearest value).
    Every problem (a missing or empty file, an unknown column, a cell that is not a
    number) is an :class:`AppError` naming the file, the line and what was expected.
    """
    header, rows = _rows(path)
    if column is None:
        others = [h for h in header if h != time_column]
        if len(others) != 1:
            raise AppError(f"CSV file {path!r} has {len(others)} columns: pass --column, "
                           f"one of {', '.join(map(repr, others))}")
        column = others[0]
    index = _column_index(path, header, column, "--column")
    t_index = None if time_column is None else _column_index(path, header, time_column,
                                                             "--time-column")
    lines = [line for line, _ in rows]
    values = np.empty(len(rows))
    for i, (line, cells) in enumerate(rows):
        raw = cells[index].strip() if index < len(cells) else ""
        if raw.lower() in MISSING:
            if missing == "error":
                raise AppError(f"CSV file {path!r} line {line}: column {column!r} is empty "
                               f"(a gap in the series); fill it, or pass --missing "
                               f"interpolate")
            values[i] = np.nan
            continue
        try:
            values[i] = float(raw)
        except ValueError:
            raise AppError(f"CSV file {path!r} line {line}: column {column!r} holds "
                           f"{raw!r}, which is not a number") from None
        if not math.isfinite(values[i]):
            raise AppError(f"CSV file {path!r} line {line}: column {column!r} holds "
                           f"{raw!r}; expected a finite number")
    times = None
    if t_index is not None:
        times = [cells[t_index].strip() if t_index < len(cells) else "" for _, cells in rows]
        keys = _time_keys(path, time_column, times, lines)
        try:
            order = sorted(range(len(rows)), key=keys.__getitem__)
        except TypeError:   # dates with and without a time zone
            raise AppError(f"cannot order CSV file {path!r} by --time-column "
                           f"{time_column!r}: some times carry a time zone and some do "
                           f"not") from None
        for a, b in zip(order, order[1:]):
            if keys[a] == keys[b]:
                raise AppError(f"CSV file {path!r}: lines {lines[a]} and {lines[b]} have the "
                               f"same time {times[a]!r} in --time-column {time_column!r}")
        values = values[order]
        times = [times[i] for i in order]
    gaps = None
    if missing == "interpolate":
        gaps = np.isnan(values)
        values = _interpolate(path, column, values)
    return Series(values, column, times, time_column, gaps if gaps is not None and gaps.any() else None)


def _interpolate(path, column, values):
    known = ~np.isnan(values)
    if not known.any():
        raise AppError(f"CSV file {path!r}: column {column!r} holds no numbers at all")
    positions = np.arange(len(values))
    return np.interp(positions, positions[known], values[known])


def split_point(n, val_fraction, window, horizon, lag=0):
    """The number of training values of a chronological split of ``n`` values.

    The last ``round(n * val_fraction)`` values validate. The training part must hold
    at least one whole window and its targets (``lag + window + horizon`` values; lag is
    1 when the model reads differences), the validation part at least ``horizon``
    values; otherwise an :class:`AppError` says which part is short and by how much.
    """
    n_val = int(round(n * val_fraction))
    n_train = n - n_val
    need_train = lag + window + horizon
    if n_val < horizon or n_train < need_train:
        raise AppError(
            f"the series has {n} values, too few for --window {window} and --horizon "
            f"{horizon} with --val-fraction {val_fraction:g}: the training part "
            f"({n_train} values) needs at least {need_train} and the validation part "
            f"({n_val} values) at least {horizon}; use a longer series or a smaller "
            f"--window or --horizon")
    return n_train


@dataclasses.dataclass
class Scaling:
    """How values become the model's numbers, fitted on the training part only.

    difference False: inputs are ``(x_t - mean) / scale`` and targets the same of the
    future values. difference True (for a series with a trend, whose future levels lie
    outside the training range): inputs are the scaled changes ``(x_t - x_{t-1} - mean) /
    scale`` and targets ``(x_{t+k} - x_{t-1}) / scale``, the change from the last known
    value; ``mean`` and ``scale`` are then the changes' mean and standard deviation.
    """
    difference: bool
    mean: float
    scale: float

    @property
    def lag(self):
        """Values consumed before the first input exists (1 for differences)."""
        return int(self.difference)

    @classmethod
    def fit(cls, train_values, difference=False):
        x = np.diff(train_values) if difference else np.asarray(train_values)
        scale = float(x.std())
        return cls(bool(difference), float(x.mean()), scale if scale > 0 else 1.0)

    def inputs(self, values):
        """The scaled input sequence (n,), float64; with differences, element 0 is NaN."""
        values = np.asarray(values, np.float64)
        if self.difference:
            return np.concatenate([[np.nan], (np.diff(values) - self.mean) / self.scale])
        return (values - self.mean) / self.scale

    def targets(self, future, last):
        """Scaled targets: ``future`` (windows, horizon), ``last`` the value before each
        window's first target, (windows,)."""
        if self.difference:
            return (future - last[:, None]) / self.scale
        return (future - self.mean) / self.scale

    def invert(self, outputs, last):
        """The model's ``outputs`` (windows, horizon) back in the series' units."""
        outputs = np.asarray(outputs, np.float64)
        if self.difference:
            return outputs * self.scale + last[:, None]
        return outputs * self.scale + self.mean


def windows(values, scaling, window, horizon, starts):
    """Model inputs and targets for the forecasts starting at each index in ``starts``.

    Returns ``x`` float32 (len(starts), window, 1) and ``y`` float32 (len(starts),
    horizon); targets past the end of ``values`` are NaN (a forecast beyond the data).
    Every start needs ``scaling.lag + window <= t``.
    """
    starts = np.asarray(starts, np.int64)
    values = np.asarray(values, np.float64)
    u = scaling.inputs(values)
    x = np.stack([u[t - window:t] for t in starts]) if len(starts) else np.empty((0, window))
    padded = np.concatenate([values, np.full(horizon, np.nan)])
    future = (np.stack([padded[t:t + horizon] for t in starts]) if len(starts)
              else np.empty((0, horizon)))
    y = scaling.targets(future, values[starts - 1]) if len(starts) else future
    return x[:, :, None].astype(np.float32), y.astype(np.float32)


def future_values(values, horizon, starts):
    """The true values ``values[t:t + horizon]`` for each start, NaN past the end:
    float64 (len(starts), horizon)."""
    padded = np.concatenate([np.asarray(values, np.float64), np.full(horizon, np.nan)])
    return np.stack([padded[t:t + horizon] for t in starts]).reshape(len(starts), horizon)


def naive_forecast(values, horizon, starts):
    """The last known value repeated ``horizon`` times: float64 (len(starts), horizon)."""
    last = np.asarray(values, np.float64)[np.asarray(starts, np.int64) - 1]
    return np.repeat(last[:, None], horizon, axis=1)


def errors(forecast, actual):
    """RMSE and MAE over every (window, step) whose actual value is known (not NaN), and
    the RMSE of each step ahead: ``(rmse, mae, rmse_by_step)``. A NaN forecast makes
    them NaN (it is never skipped)."""
    forecast = np.asarray(forecast, np.float64)
    actual = np.asarray(actual, np.float64)
    known = ~np.isnan(actual)
    diff = np.where(known, forecast - np.where(known, actual, 0.0), 0.0)
    count = known.sum(axis=0)

    def rms(d, c):
        return float(np.sqrt(np.sum(d ** 2) / c)) if c else math.nan

    by_step = [rms(diff[:, k], count[k]) for k in range(diff.shape[1])]
    total = int(count.sum())
    mae = float(np.sum(np.abs(diff)) / total) if total else math.nan
    return rms(diff, total), mae, by_step
