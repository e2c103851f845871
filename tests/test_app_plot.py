"""``rnnkit plot``: training curves, hidden-state heatmaps and the vanishing gradient.

Each command runs through ``rnnkit.cli.main`` and must write a real PNG; the figures
its functions return are inspected (axes, lines, the numbers on them); the gradient
norms are compared with PyTorch's on the same weights and must show the behaviour the
tutorials describe; every refusal names what is wrong.
"""
import json
import os
import struct
import subprocess
import sys
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from rnnkit import cli, nn  # noqa: E402
from rnnkit.apps import figures, gradient_flow, plot  # noqa: E402
from rnnkit.apps.common import AppError, Reporter  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = open(path, "rb").read()
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def log_run(directory, rows):
    """Write a metrics.csv the way every app does (common.Reporter.log)."""
    report = Reporter(types.SimpleNamespace(json=False, quiet=True), directory)
    for step, metrics in rows:
        report.log(step, **metrics)


RUN = [(1, dict(loss=2.0, val_loss=2.2, accuracy=0.3, val_accuracy=0.25)),
       (2, dict(loss=1.5, val_loss=1.8, accuracy=0.5, val_accuracy=0.45)),
       (3, dict(loss=1.2, val_loss=1.7, accuracy=0.6, val_accuracy=0.5))]


# -- curves ----------------------------------------------------------------------------------
def test_plot_curves_writes_a_png_into_the_model_directory(tmp_path, capsys):
    log_run(tmp_path, RUN)
    assert cli.main(["plot", "curves", str(tmp_path)]) == 0
    width, height = png_size(tmp_path / "curves.png")
    assert (width, height) == (1040, 390)        # two axes side by side at 100 dpi
    assert f"written to {tmp_path / 'curves.png'}" in capsys.readouterr().out


def test_each_metric_gets_one_axes_with_its_validation_twin(tmp_path):
    log_run(tmp_path, RUN)
    fig = figures.curves_figure(figures.read_metrics(tmp_path))
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    loss = {line.get_label(): line for line in axes[0].get_lines()}
    assert sorted(loss) == ["training (loss)", "validation (val_loss)"]
    np.testing.assert_array_equal(loss["validation (val_loss)"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss["validation (val_loss)"].get_ydata(), [2.2, 1.8, 1.7])
    np.testing.assert_array_equal(loss["training (loss)"].get_ydata(), [2.0, 1.5, 1.2])
    assert axes[0].get_xlabel() == "step" and axes[0].get_legend() is not None


def test_train_and_val_prefixes_meet_and_a_naive_baseline_joins_its_metric(tmp_path):
    log_run(tmp_path, [(1, dict(train_bpc=3.0, val_bpc=2.9, val_rmse=9.0, naive_rmse=8.0,
                                lr=0.01)),
                       (2, dict(train_bpc=2.5, val_bpc=2.6, val_rmse=7.0, naive_rmse=8.0,
                                lr=0.005))])
    axes = figures.curves_figure(figures.read_metrics(tmp_path)).get_axes()
    assert [ax.get_title() for ax in axes] == ["bpc", "rmse", "lr"]
    labels = [[line.get_label() for line in ax.get_lines()] for ax in axes]
    assert labels == [["training (train_bpc)", "validation (val_bpc)"],
                      ["validation (val_rmse)", "naive forecast (naive_rmse)"],
                      ["lr"]]
    assert axes[1].get_lines()[1].get_linestyle() == "--"
    assert axes[2].get_legend() is None               # one line, named by the title


def test_bookkeeping_columns_are_left_out_and_said_so_unless_asked_for(tmp_path, capsys):
    log_run(tmp_path, [(1, dict(epoch=1.0, loss=0.9, seconds=3.2)),
                       (2, dict(epoch=2.0, loss=0.7, seconds=6.1))])
    assert cli.main(["plot", "curves", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert "not plotted: epoch, seconds (name them with --metrics" in out
    assert json.loads(out.splitlines()[-1])["metrics"] == ["loss"]
    assert cli.main(["plot", "curves", str(tmp_path), "--metrics", "seconds", "--json",
                     "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"] == ["seconds"]


def test_an_unknown_metric_is_refused_with_the_columns_there_are(tmp_path, capsys):
    log_run(tmp_path, RUN)
    assert cli.main(["plot", "curves", str(tmp_path), "--metrics", "bpc"]) == 2
    err = capsys.readouterr().err
    assert "--metrics: bpc not in" in err and "(it has: loss, val_loss, accuracy" in err


def test_a_metric_logged_on_some_steps_only_is_drawn_through_those_steps(tmp_path):
    log_run(tmp_path, [(1, dict(loss=1.0)), (2, dict(loss=0.8, val_loss=0.9)),
                       (3, dict(loss=0.7)), (4, dict(loss=0.6, val_loss=0.75))])
    [ax] = figures.curves_figure(figures.read_metrics(tmp_path)).get_axes()
    val = [line for line in ax.get_lines() if "val_loss" in line.get_label()][0]
    np.testing.assert_array_equal(val.get_xdata(), [2, 4])
    np.testing.assert_array_equal(val.get_ydata(), [0.9, 0.75])


def test_a_metric_spanning_two_decades_is_drawn_on_a_log_scale(tmp_path):
    log_run(tmp_path, [(1, dict(loss=5.0, lr=1e-3)), (2, dict(loss=0.04, lr=1e-3))])
    loss, lr = figures.curves_figure(figures.read_metrics(tmp_path)).get_axes()
    assert (loss.get_yscale(), lr.get_yscale()) == ("log", "linear")


def test_a_text_column_is_named_and_left_out(tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("step,loss,phase\n1,0.5,warmup\n2,0.4,main\n")
    assert cli.main(["plot", "curves", str(tmp_path), "--out",
                     str(tmp_path / "c.png")]) == 0
    assert "not plotted (not numbers): phase" in capsys.readouterr().out


def test_a_directory_without_metrics_csv_is_refused(tmp_path, capsys):
    assert cli.main(["plot", "curves", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit plot: error: ") and "has no metrics.csv" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("content", ["", "step,loss\n"])
def test_an_empty_metrics_csv_is_refused(tmp_path, capsys, content):
    (tmp_path / "metrics.csv").write_text(content)
    assert cli.main(["plot", "curves", str(tmp_path)]) == 2
    assert "metrics.csv' is empty: no metrics have been logged yet" in capsys.readouterr().err


def test_a_csv_that_is_not_a_metrics_log_is_refused(tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
    assert cli.main(["plot", "curves", str(tmp_path)]) == 2
    assert "expected a 'step' column" in capsys.readouterr().err


def test_out_must_name_a_png(tmp_path, capsys):
    log_run(tmp_path, RUN)
    assert cli.main(["plot", "curves", str(tmp_path), "--out", str(tmp_path / "c.jpg")]) == 2
    assert "--out must name a .png file" in capsys.readouterr().err


def test_an_out_file_in_a_missing_directory_is_refused_by_name(tmp_path, capsys):
    log_run(tmp_path, RUN)
    target = tmp_path / "no" / "such" / "c.png"
    assert cli.main(["plot", "curves", str(tmp_path), "--out", str(target)]) == 2
    assert f"cannot write {str(target)!r}: No such file or directory" in \
        capsys.readouterr().err


# -- hidden ----------------------------------------------------------------------------------
def test_the_heatmap_has_units_as_rows_and_the_characters_as_tick_labels():
    rng = np.random.default_rng(0)
    activations = np.tanh(rng.normal(size=(6, 5)))
    fig = figures.hidden_figure("ab c\n.", activations)
    [ax, colorbar] = fig.get_axes()
    [image] = ax.get_images()
    np.testing.assert_array_equal(image.get_array(), activations.T)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["a", "b", "\u2423", "c", "\u21b5", "."]    # blanks made visible
    assert image.get_clim() == (-1.0, 1.0)
    assert ax.get_ylabel() == "hidden unit"


def test_the_heatmap_keeps_the_units_that_vary_most_in_index_order():
    n = 10
    activations = np.zeros((n, 6))
    activations[:, 4] = np.linspace(-0.9, 0.9, n)       # varies most
    activations[:, 1] = np.linspace(-0.5, 0.5, n)
    activations[:, 3] = 0.7                             # large but constant
    fig = figures.hidden_figure("x" * n, activations, units=2)
    ax = fig.get_axes()[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), activations[:, [1, 4]].T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "4"]
    assert ax.get_ylabel() == "hidden unit (2 of 6 that vary most)"


def test_the_heatmap_refuses_activations_that_do_not_match_the_characters():
    with pytest.raises(ValueError, match=r"shape \(len\(chars\), hidden\) = \(3, hidden\).*"
                                         r"got \(4, 8\)"):
        figures.hidden_figure("abc", np.zeros((4, 8)))


@pytest.fixture
def fake_textgen(monkeypatch):
    """A stand-in ``rnnkit.apps.textgen`` whose model's h_t is a fixed function of the
    characters, so the command's wiring is tested whatever the real app does."""
    module = types.ModuleType("rnnkit.apps.textgen")

    def hidden_activations(directory, text):
        if "\u20ac" in text:
            raise AppError("the text has a character the model never saw: '\u20ac'")
        codes = np.array([ord(c) for c in text], dtype=np.float64)
        return list(text), np.tanh(np.outer(codes - 100, np.linspace(-0.02, 0.02, 4)))

    module.hidden_activations = hidden_activations
    monkeypatch.setitem(sys.modules, "rnnkit.apps.textgen", module)
    return module


def test_plot_hidden_writes_the_heatmap_of_what_textgen_returns(tmp_path, fake_textgen,
                                                                capsys):
    assert cli.main(["plot", "hidden", str(tmp_path), "--text", "hello world"]) == 0
    width, height = png_size(tmp_path / "hidden.png")
    assert width == 600 and height > 100
    assert "(4 units x 11 characters) written to" in capsys.readouterr().out


def test_plot_hidden_passes_textgens_refusal_on_as_one_line(tmp_path, fake_textgen, capsys):
    assert cli.main(["plot", "hidden", str(tmp_path), "--text", "5 \u20ac"]) == 2
    assert capsys.readouterr().err == ("rnnkit plot: error: the text has a character the "
                                       "model never saw: '\u20ac'\n")


def test_plot_hidden_refuses_a_text_too_long_for_one_picture(tmp_path, fake_textgen, capsys):
    text = "a" * (plot.MAX_CHARS + 1)
    assert cli.main(["plot", "hidden", str(tmp_path), "--text", text]) == 2
    assert f"--text has {plot.MAX_CHARS + 1} characters; at most" in capsys.readouterr().err


def _real_textgen():
    try:
        from rnnkit.apps import textgen
    except ImportError:
        pytest.skip("rnnkit.apps.textgen is not on this branch yet")
    if not hasattr(textgen, "hidden_activations"):
        pytest.skip("rnnkit.apps.textgen has no hidden_activations yet")


def test_plot_hidden_on_a_real_textgen_model(tmp_path, capsys):
    _real_textgen()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat. " * 40)
    run = tmp_path / "run"
    assert cli.main(["textgen", "train", "--text", str(corpus), "--out", str(run),
                     "--hidden", "8", "--embedding", "4", "--seq-len", "8",
                     "--batch-size", "2", "--steps", "2", "--quiet"]) == 0
    assert cli.main(["plot", "hidden", str(run), "--text", "the mat"]) == 0
    assert png_size(run / "hidden.png")[0] > 0
    capsys.readouterr()
    # a character the model never saw is refused by textgen, by name
    assert cli.main(["plot", "hidden", str(run), "--text", "the dog"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit plot: error: ") and "'d'" in err


# -- gradients -------------------------------------------------------------------------------
def test_gradient_norms_equal_pytorchs_on_the_same_weights():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    T, B, H = 7, 3, 5
    x, y = gradient_flow.task_batch(rng, T, B, dtype=np.float64)
    for kind, (_, _, cell_cls) in gradient_flow.CELLS.items():
        cell = cell_cls(gradient_flow.INPUT_SIZE, H, dtype=np.float64, generator=rng)
        head = nn.Linear(H, 1, dtype=np.float64, generator=rng)
        ours = gradient_flow.gradient_norms(cell, head, x, y)

        theirs_cell = getattr(torch.nn, cell_cls.__name__)(gradient_flow.INPUT_SIZE, H,
                                                            dtype=torch.float64)
        theirs_cell.load_state_dict({k: torch.from_numpy(v)
                                     for k, v in cell.state_dict().items()})
        theirs_head = torch.nn.Linear(H, 1, dtype=torch.float64)
        theirs_head.load_state_dict({k: torch.from_numpy(v)
                                     for k, v in head.state_dict().items()})
        state, hs = None, []
        for t in range(T):
            state = theirs_cell(torch.from_numpy(x[t]), state)
            h = state[0] if kind == "lstm" else state
            h.retain_grad()
            hs.append(h)
        loss = 0.5 * ((theirs_head(h) - torch.from_numpy(y)) ** 2).sum()
        loss.backward()
        expected = [float(h.grad.norm(dim=1).mean()) for h in hs[::-1]]
        np.testing.assert_allclose(ours, expected, rtol=1e-10, err_msg=kind)


def test_at_initialisation_the_rnns_gradient_vanishes_fastest():
    r = gradient_flow.vanishing_gradients(steps=60, hidden=32, batch=16, train_steps=0)
    ratio = {kind: r[kind]["initial"][50] / r[kind]["initial"][0] for kind in
             gradient_flow.CELLS}
    assert all(value < 1e-8 for value in ratio.values())       # all three vanish ...
    assert ratio["rnn"] < ratio["lstm"] < ratio["gru"]         # ... the RNN's fastest
    rnn = r["rnn"]["initial"]
    assert np.all(np.diff(rnn[::10]) < 0)                      # falling with distance


def test_after_training_the_gated_cells_carry_the_gradient_and_the_rnn_does_not():
    r = gradient_flow.vanishing_gradients(steps=50, hidden=16, batch=16, train_steps=200,
                                          lr=1e-2)
    ratio = {kind: r[kind]["trained"][45] / r[kind]["trained"][0] for kind in
             gradient_flow.CELLS}
    assert ratio["lstm"] > 0.1 and ratio["gru"] > 0.1
    assert ratio["rnn"] < 1e-3
    assert r["lstm"]["train_loss"] < 0.2 and r["gru"]["train_loss"] < 0.2
    assert r["rnn"]["train_loss"] > 0.3                        # it could not learn the task


def test_plot_gradients_draws_two_curves_per_cell_on_a_log_scale():
    r = gradient_flow.vanishing_gradients(steps=8, hidden=4, batch=2, train_steps=2)
    ax = figures.gradients_figure(r).get_axes()[0]
    assert ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert [label.split(",")[0] for label in labels] == [
        "SimpleRNN", "SimpleRNN", "LSTM", "LSTM", "GRU", "GRU"]
    first = ax.get_lines()[0]
    np.testing.assert_array_equal(first.get_xdata(), np.arange(8))
    np.testing.assert_allclose(first.get_ydata(), r["rnn"]["initial"] / r["rnn"]["initial"][0])


def test_plot_gradients_json_is_the_last_line_with_the_norms(tmp_path, capsys):
    out = tmp_path / "g.png"
    assert cli.main(["plot", "gradients", "--steps", "6", "--hidden", "4", "--batch", "2",
                     "--train", "3", "--out", str(out), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    result = json.loads(lines[-1])
    assert result["out"] == str(out) and png_size(out) == (750, 480)
    assert sorted(result["initial"]) == sorted(result["trained"]) == ["gru", "lstm", "rnn"]
    assert all(len(v) == 6 for v in result["trained"].values())
    again = gradient_flow.vanishing_gradients(steps=6, hidden=4, batch=2, train_steps=3)
    np.testing.assert_allclose(result["trained"]["lstm"], again["lstm"]["trained"])


def test_plot_gradients_through_python_m_rnnkit_quiet_prints_only_the_json(tmp_path):
    out = tmp_path / "g.png"
    proc = subprocess.run(
        [sys.executable, "-m", "rnnkit", "plot", "gradients", "--steps", "5", "--hidden",
         "3", "--batch", "2", "--train", "0", "--out", str(out), "--json", "--quiet"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    result = json.loads(proc.stdout)
    assert set(result["initial"]) == {"rnn", "lstm", "gru"} and "trained" not in result
    assert png_size(out)[0] > 0
    assert oct(os.stat(out).st_mode & 0o777) != "0o600"      # not private to its writer


# -- matplotlib is optional ----------------------------------------------------------------
@pytest.mark.parametrize("argv", [["curves", "DIR"], ["hidden", "DIR", "--text", "ab"],
                                  ["gradients", "--steps", "3", "--train", "0"]])
def test_without_matplotlib_every_plot_names_the_extra(tmp_path, monkeypatch, capsys, argv):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)       # makes `import name` fail
    log_run(tmp_path, RUN)
    argv = [str(tmp_path) if a == "DIR" else a for a in argv]
    assert cli.main(["plot", *argv, "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == ('rnnkit plot: error: plots need the optional '
                                       'matplotlib package: pip install "rnnkit[plot]" '
                                       '(or pip install matplotlib)\n')
    assert not (tmp_path / "x.png").exists()


def test_the_command_line_parser_does_not_import_matplotlib():
    code = "import sys; from rnnkit import cli; cli.build_parser(); " \
           "print('matplotlib' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT}, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_plot_without_a_picture_prints_its_help(capsys):
    assert cli.main(["plot"]) == 2
    assert "curves" in capsys.readouterr().err
