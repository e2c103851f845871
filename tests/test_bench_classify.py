"""bench/classify_imdb.py's two claims, on tiny data: the arrays it hands PyTorch are the
ones ``rnnkit classify train`` trained on, and its PyTorch side learns the task."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench/ package

from rnnkit import cli  # noqa: E402
from rnnkit.apps import classify_train  # noqa: E402
from rnnkit.apps.classify_model import Loaded, probabilities  # noqa: E402
from rnnkit.apps.common import Reporter  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def tree(root, n=(20, 6)):
    rng = np.random.default_rng(1)
    for part, count in zip(("train", "test"), n):
        for name, word in (("neg", "awful"), ("pos", "lovely")):
            folder = Path(root, part, name)
            folder.mkdir(parents=True)
            for i in range(count):
                words = list(rng.choice(["the", "film", "was", "plot", word], size=8))
                (folder / f"{i}_0.txt").write_text(" ".join(words))
    return str(root)


def test_prepare_rebuilds_the_arrays_the_command_trained_on(tmp_path, capsys):
    argv = ["classify", "train", "--data", tree(tmp_path / "data"), "--out",
            str(tmp_path / "m"), "--epochs", "2", "--maxlen", "12", "--seed", "3"]
    assert cli.main(argv + ["--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    options = cli.build_parser().parse_args(argv + ["--quiet"])
    p = classify_train.prepare(options, Reporter(options))
    assert p.vocabulary == json.loads((tmp_path / "m" / "vocab.json").read_text())["tokens"]
    loaded = Loaded(tmp_path / "m")
    probs = probabilities(loaded.model, p.x_test, 64, Reporter(options))
    assert float((probs.argmax(axis=1) == p.y_test).mean()) == metrics["test_accuracy"]


@pytest.mark.torch
def test_the_pytorch_side_learns_an_easy_task(tmp_path):
    pytest.importorskip("torch")
    from bench import classify_torch

    rng = np.random.default_rng(0)

    def part(n):
        y = np.arange(n) % 2
        x = rng.integers(4, 20, size=(n, 10)).astype(np.int32)
        x[np.arange(n), rng.integers(0, 6, size=n)] = 2 + y      # the class's word
        x[rng.random((n, 10)) < 0.2] = 0                           # ragged: some padding
        x.sort(axis=1)
        return x[:, ::-1].copy(), y                                 # padding at the end

    arrays = {}
    for name, n in (("train", 256), ("val", 64), ("test", 64)):
        arrays[f"x_{name}"], arrays[f"y_{name}"] = part(n)
    np.savez(tmp_path / "data.npz", **arrays)
    config = {"vocab_size": 20, "embed_dim": 8, "cell": "gru", "units": 8,
              "bidirectional": True, "dropout": 0.0, "classes": ["neg", "pos"]}
    answer = classify_torch.run({"data": str(tmp_path / "data.npz"), "config": config,
                                 "epochs": 6, "batch_size": 32, "lr": 0.02, "seed": 0,
                                 "threads": 1})
    assert len(answer["epoch_s"]) == 6 and 1 <= answer["best_epoch"] <= 6
    assert answer["val_accuracy"] == max(answer["history"]["val_accuracy"])
    assert answer["test_accuracy"] >= 0.9
