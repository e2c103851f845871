"""Seed 001's IMDB model trained by rnnkit.keras and by PyTorch on the same data.

    python -m bench.imdb [--epochs 10] [--sides rnnkit,torch] [--limit N]

The tutorial's preparation (``imdb.load_data(num_words=10000)``,
``sequence.pad_sequences(maxlen=500)``) runs once here, on rnnkit's IMDB source (the
25,000 reviews of the ``datasets`` extra, or ``--path``). Both sides then start from the
same initial weights (drawn by rnnkit's Keras initializers) and train Embedding(10000, 32)
-> LSTM(32) -> Dense(1, sigmoid) with RMSprop, batch 128, ``validation_split=0.2``, each in
a fresh child process (``imdb_sides.py``) with the same number of threads. Prints the
per-epoch wall time and the test accuracy of each side and writes ``bench/imdb_results.md``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench import child, machine  # noqa: E402

RESULTS = Path(__file__).with_name("imdb_results.md")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.imdb", description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10, help="epochs per side (default 10)")
    p.add_argument("--sides", default="rnnkit,torch", help="rnnkit, torch or both (default)")
    p.add_argument("--path", help="Keras's imdb.npz or an aclImdb directory (default: the "
                                  "reviews of rnnkit's datasets extra)")
    p.add_argument("--limit", type=int, help="use only the first N training and test reviews "
                                             "(a quick run)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for each side (default: the cores)")
    p.add_argument("--no-write", action="store_true", help="do not write imdb_results.md")
    return p.parse_args(argv)


def prepare(args, directory):
    """The tutorial's data preparation, and the initial weights both sides start from."""
    from rnnkit.keras import layers, models, utils
    from rnnkit.keras.datasets import imdb
    from rnnkit.keras.preprocessing import sequence

    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=args.path, num_words=10000)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        x_test, y_test = x_test[:args.limit], y_test[:args.limit]
    data = os.path.join(directory, "data.npz")
    np.savez(data, x_train=sequence.pad_sequences(x_train, maxlen=500), y_train=y_train,
             x_test=sequence.pad_sequences(x_test, maxlen=500), y_test=y_test)
    utils.set_random_seed(args.seed)
    model = models.Sequential([layers.Embedding(10000, 32), layers.LSTM(32),
                               layers.Dense(1, activation="sigmoid")])
    model.build((None, 500))
    weights = os.path.join(directory, "weights.npz")
    np.savez(weights, **{f"w{i}": w for i, w in enumerate(model.get_weights())})
    return data, weights, len(x_train), len(x_test)


def report(results, n_train, n_test, args):
    lines = [
        "# Seed 001's IMDB model: rnnkit.keras against PyTorch",
        "",
        f"`python -m bench.imdb --epochs {args.epochs}"
        + (f" --limit {args.limit}" if args.limit else "") + "`: Embedding(10000, 32) -> "
        "LSTM(32) -> Dense(1, sigmoid), RMSprop (Keras's defaults), batch 128, "
        f"validation_split=0.2; {n_train} training reviews (of which 20% validate), "
        f"{n_test} test reviews, padded to 500 words; the same initial weights on both "
        f"sides, {args.threads} threads each, each side in a fresh process.",
        "",
        f"Machine: {machine.cpu_model()}, {os.cpu_count()} cores.",
        "",
        "| side | first epoch (s) | median epoch (s) | final val acc | test acc | test loss |",
        "|---|---|---|---|---|---|",
    ]
    for side, r in results.items():
        h = r["history"]
        val = h.get("val_acc", [float("nan")])[-1]
        lines.append(f"| {side} | {r['epoch_s'][0]:.1f} | "
                     f"{statistics.median(r['epoch_s'][1:] or r['epoch_s']):.1f} | "
                     f"{val:.4f} | {r['test_acc']:.4f} | {r['test_loss']:.4f} |")
    if len(results) == 2:
        a, b = results["rnnkit"], results["torch"]
        ratio = (statistics.median(a["epoch_s"][1:] or a["epoch_s"])
                 / statistics.median(b["epoch_s"][1:] or b["epoch_s"]))
        lines += ["", f"Epoch time ratio rnnkit / PyTorch (medians): {ratio:.2f}x."]
    lines += ["", "The two sides learn along different paths from the same start: each shuffles "
              "with its own generator, and PyTorch's RMSprop adds epsilon outside the square "
              "root where Keras's adds it inside, which changes the steps of rarely seen "
              "embedding rows (small gradients) by orders of magnitude."]
    lines += ["", "Per epoch (loss, acc, val_loss, val_acc, seconds):", ""]
    for side, r in results.items():
        h = r["history"]
        lines.append(f"- {side}: " + "; ".join(
            f"{h['loss'][i]:.3f} {h['acc'][i]:.3f} {h['val_loss'][i]:.3f} "
            f"{h['val_acc'][i]:.3f} {r['epoch_s'][i]:.1f}s" for i in range(len(r["epoch_s"]))))
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    for s in sides:
        if s not in ("rnnkit", "torch"):
            raise SystemExit(f"--sides: unknown side {s!r} (rnnkit, torch)")
    with tempfile.TemporaryDirectory() as tmp:
        data, weights, n_train, n_test = prepare(args, tmp)
        results = {}
        for side in sides:
            results[side] = child.call("bench.imdb_sides", {
                "side": side, "data": data, "weights": weights, "epochs": args.epochs,
                "batch_size": 128, "validation_split": 0.2, "seed": args.seed,
                "threads": args.threads})
    text = report(results, n_train, n_test, args)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS.relative_to(machine.REPO)}")


if __name__ == "__main__":
    main()
