"""The apps' shared pieces: the model directory, the reporter (metrics.csv, --json,
--quiet, TensorBoard), progress lines, and the command's error handling."""
import argparse
import csv
import io
import json

import numpy as np
import pytest

import rnnkit
from rnnkit import cli
from rnnkit.apps import modeldir
from rnnkit.apps.common import AppError, Progress, Reporter, add_common_options


def options(*argv):
    parser = argparse.ArgumentParser()
    add_common_options(parser)
    return parser.parse_args(list(argv))


# -- the model directory ---------------------------------------------------------------------
def test_a_model_directory_round_trips_config_weights_and_documents(tmp_path):
    d = modeldir.ModelDir(tmp_path / "run").create()
    weights = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(3)}
    d.save("weights", weights)
    d.save_json("vocab", {"chars": "abc"})
    d.write_manifest("textgen", {"hidden": 8}, {"val_bpc": 2.5})

    again = modeldir.ModelDir(tmp_path / "run")
    doc = again.manifest("textgen")
    assert (doc["config"], doc["metadata"], doc["version"]) == ({"hidden": 8},
                                                                {"val_bpc": 2.5}, 1)
    assert doc["rnnkit"] == rnnkit.__version__
    loaded = again.load("weights")
    np.testing.assert_array_equal(loaded["w"], weights["w"])
    assert loaded["b"].dtype == np.float64
    assert again.load_json("vocab") == {"chars": "abc"}


def test_a_directory_made_by_another_app_is_refused_by_name(tmp_path):
    d = modeldir.ModelDir(tmp_path).create()
    d.write_manifest("classify", {})
    with pytest.raises(AppError, match="holds a model of 'rnnkit classify', not of "
                                       "'rnnkit textgen'"):
        d.manifest("textgen")


def test_a_newer_format_version_asks_for_a_newer_rnnkit(tmp_path):
    (tmp_path / modeldir.MANIFEST).write_text(json.dumps(
        {"format": modeldir.FORMAT, "version": modeldir.VERSION + 1, "app": "textgen"}))
    with pytest.raises(AppError, match="format version 2, newer .* upgrade rnnkit"):
        modeldir.ModelDir(tmp_path).manifest("textgen")


@pytest.mark.parametrize("content, message", [
    (None, "is not an rnnkit model directory: it has no rnnkit-model.json"),
    ("{not json", "is damaged"),
    ('{"format": "something else"}', "is not an rnnkit model manifest"),
])
def test_a_directory_without_a_valid_manifest_is_refused(tmp_path, content, message):
    if content is not None:
        (tmp_path / modeldir.MANIFEST).write_text(content)
    with pytest.raises(AppError, match=message):
        modeldir.ModelDir(tmp_path).manifest("textgen")


def test_missing_weights_are_named(tmp_path):
    d = modeldir.ModelDir(tmp_path).create()
    d.write_manifest("textgen", {})
    with pytest.raises(AppError, match="has no weights.rnnkit"):
        d.load("weights")
    with pytest.raises(AppError, match="has no vocab.json"):
        d.load_json("vocab")


def test_writes_are_atomic_no_temporary_file_is_left(tmp_path):
    d = modeldir.ModelDir(tmp_path).create()
    d.save("weights", {"w": np.zeros(3)})
    d.save_json("vocab", {"a": 1})
    d.write_manifest("textgen", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "rnnkit-model.json", "vocab.json", "weights.rnnkit"]


# -- the reporter ------------------------------------------------------------------------------
def test_metrics_are_logged_to_csv_with_every_column(tmp_path):
    out = io.StringIO()
    report = Reporter(options(), tmp_path, stream=out)
    report.log(1, loss=0.9)
    report.log(2, loss=0.5, val_loss=0.7)
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"step": "1", "loss": "0.9", "val_loss": ""},
                    {"step": "2", "loss": "0.5", "val_loss": "0.7"}]


def test_json_is_the_last_line_of_stdout_and_quiet_prints_nothing_else():
    out = io.StringIO()
    report = Reporter(options("--json", "--quiet"), stream=out)
    report.say("hello")
    with report.progress(total=3) as bar:
        for _ in range(3):
            bar.update(loss=1.0)
    report.finish({"val_bpc": 2.25})
    assert out.getvalue() == '{"val_bpc": 2.25}\n'

    out = io.StringIO()
    report = Reporter(options("--json"), stream=out)
    report.say("training...")
    report.finish({"accuracy": 0.5})
    lines = out.getvalue().splitlines()
    assert lines[0] == "training..." and json.loads(lines[-1]) == {"accuracy": 0.5}


def test_progress_prints_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    with Progress(total=4, desc="epoch 1", stream=out, interval=0) as bar:
        for i in range(4):
            bar.update(loss=1.0 / (i + 1))
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 5     # 4 updates + the final line
    assert lines[-1].startswith("epoch 1 [########################] 4/4 loss 0.2500")
    assert lines[1].startswith("epoch 1 [############............] 2/4 loss 0.5000")
    assert "ETA" in lines[1] and "it/s" in lines[1]


def test_tensorboard_scalars_are_read_back_by_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    report = Reporter(options("--tensorboard", str(tmp_path / "tb")), tmp_path)
    report.log(1, loss=0.9, val_loss=1.1)
    report.log(2, loss=0.5, val_loss=0.8)
    report.finish({})
    acc = event_accumulator.EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["loss", "val_loss"]
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("val_loss")] == [(1, 1.1),
                                                                              (2, 0.8)]


# -- the command -------------------------------------------------------------------------------
def test_an_input_error_is_one_line_and_exit_status_2(capsys):
    assert cli.main(["demo", "--steps", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "rnnkit demo: error: --steps must be >= 1, got 0\n"


def test_no_command_prints_help_and_exit_status_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
