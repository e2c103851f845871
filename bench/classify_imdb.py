"""``rnnkit classify train --dataset imdb`` against the same model trained by PyTorch.

    python -m bench.classify_imdb [--epochs N] [--limit N] [--seed S] [--threads T]
                                  [-- extra options of classify train]

1. rnnkit: the command itself, ``python -m rnnkit classify train --dataset imdb --json``
   with its defaults, in a fresh process (``RNNKIT_NUM_THREADS`` threads).
2. The same arrays for PyTorch: this process runs the app's own ``prepare`` on the same
   options (the same texts, validation part, vocabulary, padding), checks that its
   vocabulary is the one the app saved, and writes them to a temporary ``.npz``.
3. PyTorch: ``bench/classify_torch.py`` in a fresh process trains the same layers for the
   same epochs with the same batch size, optimizer and learning rate, keeps the epoch of
   best validation accuracy as the app does, and scores it on the test part.

Prints both test accuracies and per-epoch times and writes ``bench/classify_results.md``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench import child, machine  # noqa: E402

RESULTS = Path(__file__).with_name("classify_results.md")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.classify_imdb",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, help="epochs of both sides (default: the app's)")
    p.add_argument("--limit", type=int, help="at most N training and N test reviews "
                                             "(a quick check of this script)")
    p.add_argument("--seed", type=int, default=0, help="seed of both sides (default 0)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for each side (default: the cores)")
    p.add_argument("--no-write", action="store_true", help="do not write classify_results.md")
    p.add_argument("extra", nargs="*", help="more options for classify train (after --)")
    return p.parse_args(argv)


def app_argv(args, out):
    argv = ["classify", "train", "--dataset", "imdb", "--out", out, "--seed", str(args.seed)]
    if args.epochs:
        argv += ["--epochs", str(args.epochs)]
    if args.limit:
        argv += ["--limit", str(args.limit)]
    return argv + list(args.extra)


def run_rnnkit(args, out):
    """The command in a fresh process: its --json metrics and its metrics.csv rows."""
    env = dict(os.environ, RNNKIT_NUM_THREADS=str(args.threads),
               PYTHONPATH=str(machine.REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [sys.executable, "-m", "rnnkit"] + app_argv(args, out) + ["--json"]
    print("rnnkit:", " ".join(argv[1:]), file=sys.stderr)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, env=env, cwd=machine.REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"rnnkit classify train failed (exit {proc.returncode})")
    sys.stderr.write(proc.stdout)
    metrics = json.loads(proc.stdout.splitlines()[-1])
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return metrics, rows


def prepare_for_torch(args, out, directory):
    """The app's arrays, by the app's own ``prepare`` on the same options."""
    from rnnkit import cli
    from rnnkit.apps import classify_train
    from rnnkit.apps.common import Reporter

    options = cli.build_parser().parse_args(app_argv(args, out) + ["--quiet"])
    p = classify_train.prepare(options, Reporter(options))
    with open(os.path.join(out, "vocab.json"), encoding="utf-8") as f:
        if json.load(f)["tokens"] != p.vocabulary:
            raise RuntimeError("the arrays prepared here differ from the app's (its "
                               "vocabulary is not the same)")
    if p.x_val is None or p.x_test is None:
        raise RuntimeError("the comparison needs a validation and a test part")
    path = os.path.join(directory, "data.npz")
    np.savez(path, x_train=p.x_train, y_train=p.y_train, x_val=p.x_val, y_val=p.y_val,
             x_test=p.x_test, y_test=p.y_test)
    with open(os.path.join(out, "rnnkit-model.json"), encoding="utf-8") as f:
        doc = json.load(f)
    return path, doc["config"], doc["metadata"]


def report(args, config, metadata, rk, rk_rows, pt):
    rk_epochs = [float(r["seconds"]) for r in rk_rows]
    c = config
    model = (f"Embedding({c['vocab_size']}, {c['embed_dim']}, masked) -> "
             f"{'Bidirectional ' if c['bidirectional'] else ''}{c['cell'].upper()}"
             f"({c['units']}) -> Dense(1, sigmoid)")
    lines = [
        "# `rnnkit classify train --dataset imdb` against PyTorch",
        "",
        f"`python -m bench.classify_imdb" + (f" --epochs {args.epochs}" if args.epochs else "")
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" -- {' '.join(args.extra)}" if args.extra else "") + "`: "
        f"{model}; {c['maxlen']} {c['tokens']} tokens per review (longer ones keep their "
        f"end), Adam (lr {metadata['lr']}), batch {metadata['batch_size']}, "
        f"{metadata['epochs']} epochs; {metadata['train_texts']} training reviews, "
        f"{metadata['val_texts']} validation (picking the epoch kept), "
        f"{metadata['test_texts']} test. Both sides train on the same arrays (the app's "
        f"own tokenization), each in a fresh process with {args.threads} threads; "
        f"each starts from its framework's own initial weights.",
        "",
        f"Machine: {machine.cpu_model()}, {os.cpu_count()} cores.",
        "",
        "| side | median epoch (s) | epoch kept | its val acc | test acc |",
        "|---|---|---|---|---|",
        f"| rnnkit classify | {statistics.median(rk_epochs):.1f} | {rk['best_epoch']} | "
        f"{rk['val_accuracy']:.4f} | {rk['test_accuracy']:.4f} |",
        f"| PyTorch {pt['torch']} (same layers, packed sequences) | "
        f"{statistics.median(pt['epoch_s']):.1f}"
        f" | {pt['best_epoch']} | {pt['val_accuracy']:.4f} | {pt['test_accuracy']:.4f} |",
        "",
        "Per epoch (training loss, training accuracy, validation accuracy, seconds; "
        "rnnkit's seconds include its validation pass, as PyTorch's do):",
        "",
        "- rnnkit: " + "; ".join(
            f"{float(r['loss']):.3f} {float(r['accuracy']):.3f} "
            f"{float(r['val_accuracy']):.3f} {float(r['seconds']):.1f}s" for r in rk_rows),
        "- torch: " + "; ".join(
            f"{pt['history']['loss'][i]:.3f} {pt['history']['accuracy'][i]:.3f} "
            f"{pt['history']['val_accuracy'][i]:.3f} {pt['epoch_s'][i]:.1f}s"
            for i in range(len(pt["epoch_s"]))),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "model")
        rk, rk_rows = run_rnnkit(args, out)
        data, config, metadata = prepare_for_torch(args, out, tmp)
        pt = child.call("bench.classify_torch", {
            "data": data, "config": config, "epochs": metadata["epochs"],
            "batch_size": metadata["batch_size"], "lr": metadata["lr"], "seed": args.seed,
            "threads": args.threads})
    text = report(args, config, metadata, rk, rk_rows, pt)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(machine.REPO)}")


if __name__ == "__main__":
    main()
