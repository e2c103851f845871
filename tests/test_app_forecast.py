"""``rnnkit forecast train`` and ``rnnkit forecast predict``, end to end on tiny CSV files,
with the naive forecast's errors and the scaling checked by hand, the forecasts checked
against PyTorch running the saved weights, and the sunspots forecast beating the naive
one."""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from rnnkit import cli
from rnnkit.apps import modeldir, series

# 20 values: the first 15 (0..14) train, the last 5 validate under --val-fraction 0.25.
TRAIN = list(range(15))
VAL = [20, 18, 25, 25, 30]
FAST = ["--window", "3", "--val-fraction", "0.25", "--epochs", "3", "--hidden", "4",
        "--quiet"]


def write_csv(path, rows, header=("t", "y")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


@pytest.fixture
def tiny(tmp_path):
    return write_csv(tmp_path / "tiny.csv", [(1990 + i, v) for i, v in enumerate(TRAIN + VAL)])


def train(tmp_path, *argv, csv_path=None, out="model"):
    """Run ``forecast train`` and return (exit status, its stdout lines, the manifest)."""
    args = ["forecast", "train", "--out", str(tmp_path / out), *argv]
    if csv_path is not None:
        args += ["--csv", csv_path]
    return cli.main(args)


def json_line(capsys):
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def manifest(path):
    return modeldir.ModelDir(path).manifest("forecast")


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- training on a CSV file ------------------------------------------------------------------
def test_train_prints_val_and_naive_rmse_as_the_last_json_line(tmp_path, tiny, capsys):
    assert train(tmp_path, *FAST, "--column", "y", "--json", csv_path=tiny) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1           # --quiet: the JSON line only
    metrics = json.loads(out)
    assert {"val_rmse", "naive_rmse", "val_mae", "naive_mae", "best_epoch"} <= set(metrics)
    assert math.isfinite(metrics["val_rmse"])


def test_train_prints_progress_and_the_model_beside_the_naive_forecast(tmp_path, tiny,
                                                                     capsys):
    fast = [a for a in FAST if a != "--quiet"]
    train(tmp_path, *fast, "--column", "y", "--time-column", "t", csv_path=tiny)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("series: y, 20 values; training 15 (1990 to 2004), validation 5 "
                        "(2005 to 2009)")
    assert any(line.startswith("training [####") and "3/3" in line for line in lines)
    naive = [line.split() for line in lines if line.strip().startswith("naive")]
    assert naive == [["naive", "(last", "value)", f"{math.sqrt(114 / 5):.4g}", "4"]]


def test_naive_errors_are_the_last_value_repeated_checked_by_hand(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--json", csv_path=tiny)
    m = json_line(capsys)
    # last known values 14, 20, 18, 25, 25 against 20, 18, 25, 25, 30
    assert m["naive_rmse"] == pytest.approx(math.sqrt((36 + 4 + 49 + 0 + 25) / 5), rel=1e-12)
    assert m["naive_mae"] == pytest.approx((6 + 2 + 7 + 0 + 5) / 5, rel=1e-12)


def test_naive_errors_over_three_steps_checked_by_hand(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--horizon", "3", "--json", csv_path=tiny)
    m = json_line(capsys)
    # origins after 14, 20, 18: [20 18 25] - 14, [18 25 25] - 20, [25 25 30] - 18
    errors = [6, 4, 11, -2, 5, 5, 7, 7, 12]
    assert m["naive_rmse"] == pytest.approx(math.sqrt(np.mean(np.square(errors))), rel=1e-12)
    assert m["naive_mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-12)
    meta = manifest(tmp_path / "model")["metadata"]
    assert meta["naive_rmse_by_step"] == pytest.approx(
        [math.sqrt(np.mean(np.square(errors[k::3]))) for k in range(3)], rel=1e-12)
    assert len(meta["val_rmse_by_step"]) == 3


def test_scaling_is_fitted_on_the_training_part_only(tmp_path, tiny):
    train(tmp_path, *FAST, "--column", "y", csv_path=tiny)
    scaling = manifest(tmp_path / "model")["config"]["scaling"]
    # mean and (population) standard deviation of 0..14, untouched by the validation part
    assert scaling == {"difference": False, "mean": pytest.approx(7.0, rel=1e-12),
                       "scale": pytest.approx(math.sqrt((15 ** 2 - 1) / 12), rel=1e-12)}


def test_differences_are_scaled_by_the_training_changes_only(tmp_path):
    values = [0, 1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 66, 78, 91, 105] + VAL
    path = write_csv(tmp_path / "tri.csv", [(i, v) for i, v in enumerate(values)])
    train(tmp_path, *FAST, "--column", "y", "--difference", csv_path=path)
    scaling = manifest(tmp_path / "model")["config"]["scaling"]
    changes = np.arange(1, 15)            # the training part's changes: 1, 2, ..., 14
    assert scaling == {"difference": True, "mean": pytest.approx(changes.mean(), rel=1e-12),
                       "scale": pytest.approx(changes.std(), rel=1e-12)}


def test_the_split_is_chronological_by_the_time_column(tmp_path, tiny, capsys):
    rows = [(1990 + i, v) for i, v in enumerate(TRAIN + VAL)]
    shuffled = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))]
    path = write_csv(tmp_path / "shuffled.csv", shuffled)
    train(tmp_path, *FAST, "--column", "y", "--time-column", "t", "--json", csv_path=path)
    m = json_line(capsys)
    assert m["naive_rmse"] == pytest.approx(math.sqrt((36 + 4 + 49 + 0 + 25) / 5), rel=1e-12)
    meta = manifest(tmp_path / "model")["metadata"]
    assert (meta["train_values"], meta["val_values"]) == (15, 5)


def test_iso_dates_order_the_rows(tmp_path):
    data = series.read_csv_series(write_csv(tmp_path / "d.csv", [
        ("2024-03-01", 3), ("2023-12-31", 1), ("2024-01-15T08:00", 2)]), "y", "t")
    assert data.values.tolist() == [1, 2, 3]
    assert data.times == ["2023-12-31", "2024-01-15T08:00", "2024-03-01"]


def test_metrics_csv_has_one_row_per_epoch(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--json", csv_path=tiny)
    m = json_line(capsys)
    rows = read_rows(tmp_path / "model" / "metrics.csv")
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {"step", "loss", "val_loss", "val_rmse", "val_mae", "naive_rmse"}
    assert {float(r["naive_rmse"]) for r in rows} == {m["naive_rmse"]}
    assert float(rows[m["best_epoch"] - 1]["val_rmse"]) == m["val_rmse"]
    assert m["val_rmse"] == min(float(r["val_rmse"]) for r in rows)


def test_tensorboard_logs_read_back_with_tensorboard(tmp_path, tiny):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    train(tmp_path, *FAST, "--column", "y", "--tensorboard", str(tmp_path / "tb"),
          csv_path=tiny)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    rows = read_rows(tmp_path / "model" / "metrics.csv")
    assert [(e.step, pytest.approx(e.value, rel=1e-6)) for e in acc.Scalars("val_rmse")] == \
        [(int(r["step"]), float(r["val_rmse"])) for r in rows]


def test_a_gap_is_interpolated_for_the_inputs_and_never_scored(tmp_path, capsys):
    values = TRAIN + [20, "", 25, 25, 30]
    path = write_csv(tmp_path / "gap.csv", [(i, v) for i, v in enumerate(values)])
    train(tmp_path, *FAST, "--column", "y", "--missing", "interpolate", "--json",
          csv_path=path)
    m = json_line(capsys)
    # the gap becomes 22.5: naive errors 20-14, (gap unscored), 25-22.5, 25-25, 30-25
    assert m["naive_rmse"] == pytest.approx(math.sqrt((36 + 6.25 + 0 + 25) / 4), rel=1e-12)


def test_the_command_runs_as_python_dash_m(tmp_path, tiny):
    root = os.path.dirname(os.path.dirname(os.path.abspath(cli.__file__)))
    done = subprocess.run(
        [sys.executable, "-m", "rnnkit", "forecast", "train", "--csv", tiny, "--column", "y",
         "--out", str(tmp_path / "m"), *FAST, "--json"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": root}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "val_rmse" in json.loads(done.stdout.splitlines()[-1])


# -- predict ---------------------------------------------------------------------------------
def test_predict_writes_the_values_after_the_end_with_their_times(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--time-column", "t", "--horizon", "3",
          csv_path=tiny)
    out = tmp_path / "pred.csv"
    assert cli.main(["forecast", "predict", str(tmp_path / "model"), "--csv", tiny,
                     "--out", str(out), "--quiet", "--json"]) == 0
    assert json_line(capsys) == {"forecasts": 3}
    rows = read_rows(out)
    assert [(r["index"], r["t"], r["step"]) for r in rows] == [
        ("20", "2010", "1"), ("21", "2011", "2"), ("22", "2012", "3")]
    assert all(math.isfinite(float(r["forecast"])) for r in rows)
    assert sorted(os.listdir(tmp_path)) == ["model", "pred.csv", "tiny.csv"]   # no temp file


def test_backtest_rows_carry_actuals_and_score_as_training_did(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--horizon", "2", "--json", csv_path=tiny)
    val_rmse = json_line(capsys)["val_rmse"]
    out = tmp_path / "bt.csv"
    cli.main(["forecast", "predict", str(tmp_path / "model"), "--csv", tiny, "--backtest",
              "--out", str(out), "--quiet"])
    rows = read_rows(out)
    values = TRAIN + VAL
    # windows of 3 values: forecasts start at indices 3..20 (20: beyond the end)
    assert len(rows) == 2 * (20 - 3 + 1)
    for r in rows:
        index, step = int(r["index"]), int(r["step"])
        assert r["actual"] == ("" if index >= 20 else str(values[index]))
        assert float(r["naive"]) == values[index - step]
    # the saved (best) model scores the validation windows (origins 15..18, whose two
    # targets both lie in the file) as training reported
    val = [(float(r["forecast"]) - float(r["actual"])) ** 2 for r in rows
           if 15 <= int(r["index"]) - int(r["step"]) + 1 <= 18]
    assert len(val) == 4 * 2
    assert math.sqrt(np.mean(val)) == pytest.approx(val_rmse, rel=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_forecasts_equal_pytorch_running_the_saved_weights(tmp_path, tiny, capsys, cell):
    torch = pytest.importorskip("torch")
    import rnnkit

    train(tmp_path, *FAST, "--column", "y", "--cell", cell, "--horizon", "2",
          "--difference", csv_path=tiny)
    cli.main(["forecast", "predict", str(tmp_path / "model"), "--csv", tiny, "--quiet"])
    ours = [float(r["forecast"]) for r in csv.DictReader(
        capsys.readouterr().out.splitlines())]

    weights = rnnkit.load(str(tmp_path / "model" / "model.rnnkit"))
    scaling = manifest(tmp_path / "model")["config"]["scaling"]
    rnn = getattr(torch.nn, cell)(1, 4, batch_first=True).double()
    head = torch.nn.Linear(4, 2).double()
    rnn.load_state_dict({k[4:]: torch.tensor(v) for k, v in weights.items()
                         if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: torch.tensor(v) for k, v in weights.items()
                          if k.startswith("head.")})
    values = np.array(TRAIN + VAL, np.float64)
    changes = (np.diff(values[-4:]) - scaling["mean"]) / scaling["scale"]
    with torch.no_grad():
        h, _ = rnn(torch.tensor(changes).reshape(1, 3, 1))
        theirs = head(h[:, -1]).numpy()[0] * scaling["scale"] + values[-1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_predict_reads_the_training_column_and_time_by_default(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", "--time-column", "t", csv_path=tiny)
    cli.main(["forecast", "predict", str(tmp_path / "model"), "--csv", tiny, "--quiet"])
    assert capsys.readouterr().out.splitlines()[0] == "index,t,step,forecast"


# -- the real series -------------------------------------------------------------------------
def test_sunspots_model_beats_the_naive_forecast(tmp_path, capsys):
    sunspots = pytest.importorskip("rnnkit.datasets").sunspots
    pytest.importorskip("statsmodels")
    assert cli.main(["forecast", "train", "--out", str(tmp_path / "m"), "--quiet",
                     "--json"]) == 0      # the default settings, on the default series
    m = json_line(capsys)
    _, values = sunspots()
    n_train = len(values) - round(0.2 * len(values))
    naive = np.sqrt(np.mean((values[n_train:] - values[n_train - 1:-1]) ** 2))
    assert m["naive_rmse"] == pytest.approx(naive, rel=1e-12)
    assert m["val_rmse"] < 0.7 * m["naive_rmse"]
    # not only the epoch chosen on the validation part: the last epoch beats it too
    last = read_rows(tmp_path / "m" / "metrics.csv")[-1]
    assert float(last["val_rmse"]) < m["naive_rmse"]


# -- errors ----------------------------------------------------------------------------------
def error_of(capsys, *argv):
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit forecast: error: ") and err.count("\n") == 1
    return err


def test_a_missing_csv_is_named(tmp_path, capsys):
    err = error_of(capsys, "forecast", "train", "--csv", str(tmp_path / "nope.csv"),
                   "--out", str(tmp_path / "m"))
    assert "nope.csv' does not exist" in err


@pytest.mark.parametrize("content, message", [("", "is empty"),
                                              ("t,y\n", "has a header (t, y) but no rows")])
def test_an_empty_csv_is_named(tmp_path, capsys, content, message):
    (tmp_path / "e.csv").write_text(content)
    err = error_of(capsys, "forecast", "train", "--csv", str(tmp_path / "e.csv"),
                   "--column", "y", "--out", str(tmp_path / "m"))
    assert message in err


def test_an_unknown_column_lists_the_columns(tmp_path, tiny, capsys):
    err = error_of(capsys, "forecast", "train", "--csv", tiny, "--column", "sales",
                   "--out", str(tmp_path / "m"))
    assert "has no column 'sales' (--column); its columns are: 't', 'y'" in err


def test_several_columns_without_column_ask_for_one(tmp_path, tiny, capsys):
    err = error_of(capsys, "forecast", "train", "--csv", tiny, "--out", str(tmp_path / "m"))
    assert "has 2 columns: pass --column, one of 't', 'y'" in err


def test_a_non_numeric_value_names_its_line(tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [(1, 5), (2, "12,5"), (3, 7)])
    err = error_of(capsys, "forecast", "train", "--csv", path, "--column", "y",
                   "--out", str(tmp_path / "m"))
    assert "line 3: column 'y' holds '12,5', which is not a number" in err


def test_a_gap_is_an_error_unless_interpolated(tmp_path, capsys):
    path = write_csv(tmp_path / "gap.csv", [(1, 5), (2, ""), (3, 7)])
    err = error_of(capsys, "forecast", "train", "--csv", path, "--column", "y",
                   "--out", str(tmp_path / "m"))
    assert "line 3: column 'y' is empty (a gap in the series)" in err
    assert "--missing interpolate" in err


def test_a_series_too_short_for_window_horizon_and_validation(tmp_path, tiny, capsys):
    # 20 values: 16 train and 4 validate; a window of 15 and its 2 targets need 17
    err = error_of(capsys, "forecast", "train", "--csv", tiny, "--column", "y",
                   "--window", "15", "--horizon", "2", "--out", str(tmp_path / "m"))
    assert ("the series has 20 values, too few for --window 15 and --horizon 2 with "
            "--val-fraction 0.2: the training part (16 values) needs at least 17") in err


def test_an_unordered_time_column_is_refused(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", [("Jan-1-1995", 1), ("Feb-1-1995", 2)])
    err = error_of(capsys, "forecast", "train", "--csv", path, "--column", "y",
                   "--time-column", "t", "--out", str(tmp_path / "m"))
    assert "line 2 holds 'Jan-1-1995', which is neither a number nor an ISO 8601 date" in err


def test_two_rows_at_the_same_time_are_refused(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", [(1990, 1), (1991, 2), (1990, 3)])
    err = error_of(capsys, "forecast", "train", "--csv", path, "--column", "y",
                   "--time-column", "t", "--out", str(tmp_path / "m"))
    assert "lines 2 and 4 have the same time '1990' in --time-column 't'" in err


def test_dropout_with_one_layer_is_refused(tmp_path, capsys):
    err = error_of(capsys, "forecast", "train", "--dropout", "0.2", "--out",
                   str(tmp_path / "m"))
    assert "--dropout 0.2 acts between stacked layers; it needs --layers 2" in err


def test_column_without_csv_is_refused(tmp_path, capsys):
    err = error_of(capsys, "forecast", "train", "--column", "y", "--out", str(tmp_path / "m"))
    assert "--column applies to --csv, which was not given" in err


def test_predict_refuses_another_apps_directory(tmp_path, tiny, capsys):
    d = modeldir.ModelDir(tmp_path / "other").create()
    d.write_manifest("classify", {})
    err = error_of(capsys, "forecast", "predict", str(tmp_path / "other"), "--csv", tiny)
    assert "holds a model of 'rnnkit classify', not of 'rnnkit forecast'" in err


def test_predict_refuses_a_directory_without_a_model(tmp_path, tiny, capsys):
    err = error_of(capsys, "forecast", "predict", str(tmp_path), "--csv", tiny)
    assert "is not an rnnkit model directory" in err


def test_train_refuses_to_overwrite_another_apps_directory(tmp_path, tiny, capsys):
    modeldir.ModelDir(tmp_path / "m").create().write_manifest("textgen", {})
    err = error_of(capsys, "forecast", "train", "--csv", tiny, "--column", "y",
                   "--out", str(tmp_path / "m"))
    assert "holds a model of 'rnnkit textgen'" in err


def test_predict_needs_a_whole_window(tmp_path, tiny, capsys):
    train(tmp_path, *FAST, "--column", "y", csv_path=tiny)
    short = write_csv(tmp_path / "short.csv", [(1, 1), (2, 2)])
    err = error_of(capsys, "forecast", "predict", str(tmp_path / "model"), "--csv", short)
    assert "the series has 2 values; the model reads 3 (--window 3)" in err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")    # the overflow itself
def test_a_diverged_training_says_so_and_suggests_a_smaller_lr(tmp_path, tiny, capsys):
    err = error_of(capsys, "forecast", "train", "--csv", tiny, "--column", "y",
                   "--window", "3", "--epochs", "2", "--lr", "1e38",
                   "--out", str(tmp_path / "m"))
    assert "training diverged: the validation RMSE was not finite at any epoch" in err


# -- the series' pieces ----------------------------------------------------------------------
def test_errors_skip_unknown_actuals_but_never_a_nan_forecast():
    actual = np.array([[1.0, np.nan], [3.0, 5.0]])
    rmse, mae, by_step = series.errors(np.array([[2.0, 9.0], [3.0, 1.0]]), actual)
    assert (rmse, mae) == (pytest.approx(math.sqrt(17 / 3)), pytest.approx(5 / 3))
    assert by_step == [pytest.approx(math.sqrt(1 / 2)), pytest.approx(4.0)]
    assert math.isnan(series.errors(np.array([[np.nan, 0.0], [3.0, 5.0]]), actual)[0])


@pytest.mark.parametrize("difference", [False, True])
def test_scaled_targets_invert_to_the_values(difference):
    values = np.array([3.0, 5.0, 4.0, 8.0, 13.0, 7.0, 6.0])
    scaling = series.Scaling.fit(values[:5], difference)
    starts = np.array([2, 3, 4])
    x, y = series.windows(values, scaling, window=1, horizon=2, starts=starts)
    assert x.shape == (3, 1, 1) and y.shape == (3, 2) and x.dtype == np.float32
    np.testing.assert_allclose(scaling.invert(y, values[starts - 1]),
                               series.future_values(values, 2, starts), rtol=1e-6)
