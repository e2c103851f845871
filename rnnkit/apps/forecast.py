"""``rnnkit forecast``: learn to forecast a series from a CSV column, then forecast it.

    rnnkit forecast train [--csv FILE --column NAME] --out DIR     # default: sunspots
    rnnkit forecast predict DIR [--csv FILE] [--backtest] [--out PRED.csv]

``train`` cuts the series into windows (``--window`` values in, the next ``--horizon``
values out, predicted at once: see ``forecaster``), splits it in time (the last
``--val-fraction`` validates), fits the scaling on the training part only, trains an
LSTM/GRU/RNN on ``rnnkit.nn`` and keeps the epoch with the lowest validation RMSE. It
reports the model's RMSE and MAE on the validation part, in the series' units, beside
those of the naive forecast (the last known value, repeated).
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys

from rnnkit.apps.common import AppError, add_common_options, positive
from rnnkit.apps.modeldir import MANIFEST, ModelDir

APP = "forecast"


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text}")
    return value


def _non_negative(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _add_series_options(parser, trained):
    """--csv, --column, --time-column, --missing; ``trained``: predict's defaults (those
    of the model's training) rather than train's."""
    if trained:
        notes = ("default: the model's series if it was the built-in sunspots",
                 "default: the one the model was trained on",
                 "default: the training one, if any", "default: the training choice")
    else:
        notes = ("default: the yearly sunspot numbers",
                 "default: the only column besides --time-column",
                 "default: the file's order", "default: error")
    parser.add_argument("--csv", metavar="FILE", help=f"a CSV file with a header row "
                        f"({notes[0]})")
    parser.add_argument("--column", metavar="NAME", help=f"the column to forecast "
                        f"({notes[1]})")
    parser.add_argument("--time-column", metavar="NAME", help=f"order the rows by this "
                        f"column of numbers or ISO 8601 dates ({notes[2]})")
    parser.add_argument("--missing", choices=("error", "interpolate"), help=f"empty "
                        f"cells: an error, or filled linearly from their neighbours and "
                        f"never scored ({notes[3]})")


def add_parser(sub):
    """``rnnkit forecast train`` and ``rnnkit forecast predict``."""
    forecast = sub.add_parser(
        APP, help="forecast a numeric series (train on a CSV column, then predict)",
        description="Learn to forecast a series from a CSV column (train), then forecast "
                    "it (predict).")
    actions = forecast.add_subparsers(dest="action", metavar="ACTION")
    forecast.set_defaults(run=lambda args: _usage(forecast))

    train = actions.add_parser(
        "train", help="train a forecaster; report it beside the naive forecast",
        description="Train an RNN to forecast the next --horizon values from the last "
                    "--window values. Without --csv: the yearly sunspot numbers "
                    "(1700-2008) shipped with statsmodels (pip install 'rnnkit[series]').")
    _add_series_options(train, trained=False)
    train.add_argument("--out", required=True, metavar="DIR", help="the model directory")
    train.add_argument("--window", metavar="N", type=positive(int), default=24,
                       help="values the model reads per forecast (default: 24)")
    train.add_argument("--horizon", metavar="H", type=positive(int), default=1,
                       help="values ahead it predicts, all at once (default: 1)")
    train.add_argument("--val-fraction", metavar="F", type=_fraction, default=0.2,
                       help="the last part of the series kept for validation (default: 0.2)")
    train.add_argument("--difference", action="store_true",
                       help="model the change from the last value (for a series with a "
                            "trend that leaves the training range)")
    train.add_argument("--cell", choices=("LSTM", "GRU", "RNN"), default="LSTM",
                       help="the recurrent layer (default: LSTM)")
    train.add_argument("--layers", metavar="N", type=positive(int), default=1,
                       help="stacked recurrent layers (default: 1)")
    train.add_argument("--hidden", metavar="N", type=positive(int), default=32,
                       help="hidden units per layer (default: 32)")
    train.add_argument("--dropout", metavar="P", type=_non_negative, default=0.0,
                       help="dropout between stacked layers (needs --layers >= 2)")
    train.add_argument("--epochs", metavar="N", type=positive(int), default=100,
                       help="passes over the training windows (default: 100)")
    train.add_argument("--lr", metavar="LR", type=positive(float), default=0.01,
                       help="Adam's learning rate (default: 0.01)")
    train.add_argument("--batch-size", metavar="N", type=positive(int), default=32,
                       help="windows per step (default: 32)")
    train.add_argument("--clip", metavar="NORM", type=_non_negative, default=1.0,
                       help="clip gradients to this global norm; 0: off (default: 1.0)")
    add_common_options(train)
    train.set_defaults(run=run_train)

    predict = actions.add_parser(
        "predict", help="forecast with a trained model; write the forecasts as CSV",
        description="By default, forecast the --horizon values after the end of the "
                    "series (the model's last --window values in). With --backtest, "
                    "forecast after every full window of the file instead, beside the "
                    "actual values and the naive forecast. Columns: index (the "
                    "forecast value's position in the series, 0 = first row; from the "
                    "number of rows on, beyond the file), the time column if any (beyond "
                    "the file too when its values are evenly spaced numbers), step "
                    "(how far ahead), forecast, and with --backtest actual and naive.")
    predict.add_argument("dir", metavar="DIR", help="a model directory from 'forecast train'")
    _add_series_options(predict, trained=True)
    predict.add_argument("--backtest", action="store_true",
                         help="forecast after every full window, not only after the end "
                              "(windows of the training part flatter the model)")
    predict.add_argument("--out", metavar="PRED.csv",
                         help="write the CSV here (atomically); default: stdout")
    add_common_options(predict, tensorboard=False)
    predict.set_defaults(run=run_predict)


def _usage(parser):
    parser.print_help(sys.stderr)
    return 2


# -- the series ---------------------------------------------------------------------------
def _series(args, trained=None):
    """The Series the options name (``trained``: the config and metadata of the model,
    whose column, time column and built-in source are the defaults)."""
    from rnnkit.apps import series as S

    csv_path = args.csv
    if csv_path is None:
        source = "sunspots" if trained is None else trained[1].get("source")
        if source != "sunspots":
            raise AppError(f"the model in {args.dir!r} was trained on a CSV file; pass "
                           f"--csv")
        for option in ("column", "time_column", "missing"):
            if getattr(args, option) is not None:
                raise AppError(f"--{option.replace('_', '-')} applies to --csv, which "
                               f"was not given (the default series is the sunspots)")
        return _sunspots(), "sunspots"
    column, time_column, missing = args.column, args.time_column, args.missing
    if trained is not None and trained[1].get("source") != "sunspots":
        column = column or trained[0]["column"]
        time_column = time_column or trained[0]["time_column"]
        missing = missing or trained[0]["missing"]
    data = S.read_csv_series(csv_path, column, time_column, missing or "error")
    return data, {"csv": os.path.abspath(csv_path)}


def _sunspots():
    from rnnkit.apps.series import Series
    from rnnkit.datasets import DatasetNotFoundError, sunspots

    try:
        years, values = sunspots()
    except DatasetNotFoundError as e:
        raise AppError(str(e)) from None
    return Series(values, "sunspots", [str(y) for y in years], "year")


def _span(data, lo, hi):
    if data.times:
        return f"{data.times[lo]} to {data.times[hi - 1]}"
    return f"rows {lo + 1} to {hi}"


# -- train --------------------------------------------------------------------------------
def _prepare(data, args):
    """Split ``data`` in time, fit the scaling on the training part and cut the windows:
    a namespace with n_train, scaling, x_train/y_train, x_val/y_val, val_starts, the
    validation part's actual values (NaN on gaps) and the naive forecast's errors."""
    import types

    import numpy as np

    from rnnkit.apps import series as S

    window, horizon, n, values = args.window, args.horizon, len(data), data.values
    n_train = S.split_point(n, args.val_fraction, window, horizon, int(args.difference))
    scaling = S.Scaling.fit(values[:n_train], args.difference)
    train_starts = np.arange(scaling.lag + window, n_train - horizon + 1)
    val_starts = np.arange(n_train, n - horizon + 1)
    # Interpolated gaps may be read but are never a target, in training or in scoring.
    observed = data.observed()
    train_starts = train_starts[~np.isnan(S.future_values(observed, horizon,
                                                          train_starts)).any(axis=1)]
    actual = S.future_values(observed, horizon, val_starts)
    if not len(train_starts) or np.isnan(actual).all():
        raise AppError(f"the {'training' if not len(train_starts) else 'validation'} "
                       f"part of the series has no values to forecast, only gaps")
    x_train, y_train = S.windows(values, scaling, window, horizon, train_starts)
    x_val, _ = S.windows(values, scaling, window, horizon, val_starts)
    naive = S.errors(S.naive_forecast(values, horizon, val_starts), actual)
    return types.SimpleNamespace(
        n_train=n_train, scaling=scaling, x_train=x_train, y_train=y_train, x_val=x_val,
        y_val=scaling.targets(actual, values[val_starts - 1]), val_starts=val_starts,
        actual=actual, naive_rmse=naive[0], naive_mae=naive[1], naive_steps=naive[2])


def run_train(args):
    """``rnnkit forecast train``: see the module docstring."""
    if args.dropout > 0 and args.layers < 2:
        raise AppError(f"--dropout {args.dropout:g} acts between stacked layers; it "
                       f"needs --layers 2 or more (got --layers {args.layers})")
    if args.dropout >= 1:
        raise AppError(f"--dropout must be in [0, 1), got {args.dropout:g}")
    import numpy as np

    import rnnkit
    from rnnkit.apps import forecaster, series as S
    from rnnkit.apps.common import Reporter

    out = ModelDir(args.out)
    if out.has(MANIFEST):
        out.manifest(APP)   # refuse to overwrite another app's model
    data, source = _series(args)
    p = _prepare(data, args)
    n, values, scaling = len(data), data.values, p.scaling

    out.create()
    report = Reporter(args, out.path)
    rnnkit.manual_seed(args.seed)
    builtin = source == "sunspots"
    config = {"cell": args.cell, "hidden_size": args.hidden, "num_layers": args.layers,
              "dropout": args.dropout, "window": args.window, "horizon": args.horizon,
              "scaling": {"difference": scaling.difference, "mean": scaling.mean,
                          "scale": scaling.scale},
              "column": None if builtin else data.name,
              "time_column": None if builtin else data.time_name,
              "missing": None if builtin else args.missing or "error"}
    model = forecaster.build(config)
    report.say(f"series: {data.name}, {n} values; training {p.n_train} "
               f"({_span(data, 0, p.n_train)}), validation {n - p.n_train} "
               f"({_span(data, p.n_train, n)})")
    report.say(f"model: {args.cell} {args.layers}x{args.hidden}, "
               f"{sum(w.numel() for w in model.parameters())} parameters; window "
               f"{args.window}, horizon {args.horizon} (direct); {len(p.x_train)} training "
               f"and {len(p.x_val)} validation windows")

    metadata = {"source": source, "values": n, "train_values": p.n_train,
                "val_values": n - p.n_train, "epochs": args.epochs, "lr": args.lr,
                "batch_size": args.batch_size, "clip": args.clip, "seed": args.seed,
                "naive_rmse": p.naive_rmse, "naive_mae": p.naive_mae,
                "naive_rmse_by_step": p.naive_steps}
    best = {}

    def on_epoch(epoch, loss):
        outputs = forecaster.predict(model, p.x_val)
        forecast = scaling.invert(outputs, values[p.val_starts - 1])
        rmse, mae, by_step = S.errors(forecast, p.actual)
        known = ~np.isnan(p.y_val)   # False on interpolated gaps
        val_loss = float(np.mean((outputs[known] - p.y_val[known]) ** 2))
        report.log(epoch, loss=loss, val_loss=val_loss, val_rmse=rmse, val_mae=mae,
                   naive_rmse=p.naive_rmse)
        if math.isfinite(rmse) and (not best or rmse < best["val_rmse"]):
            best.update(best_epoch=epoch, val_rmse=rmse, val_mae=mae,
                        val_rmse_by_step=by_step)
            out.save("model", model.state_dict())
            out.write_manifest(APP, config, {**metadata, **best})
        return {"loss": loss, "val_rmse": rmse}

    forecaster.train(model, p.x_train, p.y_train, args.epochs, args.lr, args.batch_size,
                     args.clip, report, on_epoch)
    if not best:
        raise AppError(f"training diverged: the validation RMSE was not finite at any "
                       f"epoch; try a smaller --lr (got {args.lr:g})")
    h = args.horizon
    report.say(f"best epoch {best['best_epoch']} of {args.epochs}; on the validation part "
               f"({len(p.x_val)} forecasts of {h} value{'s' * (h > 1)}):")
    report.say(f"  {'':<22}{'RMSE':>12}{'MAE':>12}")
    report.say(f"  {'model':<22}{best['val_rmse']:>12.4g}{best['val_mae']:>12.4g}")
    report.say(f"  {'naive (last value)':<22}{p.naive_rmse:>12.4g}{p.naive_mae:>12.4g}")
    report.say(f"model saved in {out.path}")
    report.finish({"val_rmse": best["val_rmse"], "val_mae": best["val_mae"],
                   "naive_rmse": p.naive_rmse, "naive_mae": p.naive_mae,
                   "best_epoch": best["best_epoch"]})
    return 0


# -- predict ------------------------------------------------------------------------------
def run_predict(args):
    """``rnnkit forecast predict``: see the parser's description."""
    import numpy as np

    from rnnkit.apps import forecaster, series as S
    from rnnkit.apps.common import Reporter
    from rnnkit.serialization import atomic_write

    model_dir = ModelDir(args.dir)
    doc = model_dir.manifest(APP)
    config, metadata = doc["config"], doc["metadata"]
    model = forecaster.build(config)
    try:
        model.load_state_dict(model_dir.load("model"))
    except (KeyError, ValueError) as e:
        raise AppError(f"{args.dir!r}: the weights do not fit the model its manifest "
                       f"describes ({e})") from None
    data, _ = _series(args, (config, metadata))
    scaling = S.Scaling(**config["scaling"])
    window, horizon, n = config["window"], config["horizon"], len(data)
    first = scaling.lag + window
    if n < first:
        raise AppError(f"the series has {n} values; the model reads {first} "
                       f"(--window {window}{' plus one to difference' if scaling.lag else ''})")
    starts = np.arange(first, n + 1) if args.backtest else np.array([n])
    x, _ = S.windows(data.values, scaling, window, horizon, starts)
    forecast = scaling.invert(forecaster.predict(model, x), data.values[starts - 1])
    actual = S.future_values(data.observed(), horizon, starts)
    naive = S.naive_forecast(data.values, horizon, starts)

    rows = [["index"] + ([data.time_name] if data.times else []) + ["step", "forecast"]]
    rows[0] += ["actual", "naive"] if args.backtest else []
    future = data.future_times(horizon) if data.times else None
    for i, t in enumerate(starts):
        for k in range(horizon):
            at = int(t) + k
            row = [str(at)]
            if data.times:
                row.append(data.times[at] if at < n else future[at - n])
            row += [str(k + 1), f"{forecast[i, k]:.7g}"]
            if args.backtest:
                known = at < n and not np.isnan(actual[i, k])
                row += [f"{actual[i, k]:.10g}" if known else "", f"{naive[i, k]:.10g}"]
            rows.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()

    report = Reporter(args)
    if args.out:
        parent = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(parent):
            raise AppError(f"--out {args.out!r}: the directory {parent!r} does not exist")
        atomic_write(args.out, lambda f: f.write(text.encode("utf-8")))
        report.say(f"{len(rows) - 1} forecasts written to {args.out}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    metrics = {"forecasts": len(rows) - 1}
    if args.backtest:
        rmse, mae, _ = S.errors(forecast, actual)
        naive_rmse, naive_mae, _ = S.errors(naive, actual)
        metrics.update(rmse=rmse, mae=mae, naive_rmse=naive_rmse, naive_mae=naive_mae)
        report.say(f"backtest: RMSE {rmse:.4g} (naive {naive_rmse:.4g}), MAE {mae:.4g} "
                   f"(naive {naive_mae:.4g})")
    report.finish(metrics)
    return 0
