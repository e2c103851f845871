"""The two sides of ``python -m bench.imdb``, each run in a child process of its own.

``python -m bench.imdb_sides`` reads one JSON request on stdin, ``{"side": "rnnkit" |
"torch", "data": npz path, "weights": npz path, "epochs": n, "batch_size": n,
"validation_split": f, "seed": n, "threads": n}``, trains seed 001's model (Embedding(10000,
32) -> LSTM(32) -> Dense(1, sigmoid), RMSprop, binary cross-entropy) from the given initial
weights, and answers with per-epoch wall times, losses and accuracies and the test
accuracy. The torch side imports no rnnkit: it is written as a PyTorch user writes it.
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from bench import child


def _load(request):
    data = np.load(request["data"], allow_pickle=False)
    weights = np.load(request["weights"], allow_pickle=False)
    return data, [weights[f"w{i}"] for i in range(len(weights.files))]


def run_rnnkit(request):
    """The tutorial's Keras code, imports changed to rnnkit."""
    from rnnkit.keras import callbacks, layers, models, utils

    data, weights = _load(request)
    utils.set_random_seed(request["seed"])
    model = models.Sequential([layers.Embedding(10000, 32), layers.LSTM(32),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    model.build((None, data["x_train"].shape[1]))
    model.set_weights(weights)

    class EpochTimer(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)
            print(f"rnnkit epoch {epoch + 1}: {times[-1]:.1f} s {logs}", file=sys.stderr)

    times = []
    history = model.fit(data["x_train"], data["y_train"], epochs=request["epochs"],
                        batch_size=request["batch_size"],
                        validation_split=request["validation_split"],
                        callbacks=[EpochTimer()], verbose=0)
    t0 = time.perf_counter()
    test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"], batch_size=128,
                                         verbose=0)
    return {"epoch_s": times, "history": history.history, "test_loss": test_loss,
            "test_acc": test_acc, "test_s": time.perf_counter() - t0}


def run_torch(request):
    """The same model and loop as PyTorch users write them (Keras's validation split: the
    last fraction, before shuffling; a fresh shuffle each epoch)."""
    import torch
    from torch import nn

    torch.set_num_threads(request["threads"])
    torch.manual_seed(request["seed"])
    data, w = _load(request)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10000, 32)
            self.lstm = nn.LSTM(32, 32, batch_first=True)
            self.fc = nn.Linear(32, 1)

        def forward(self, x):
            _, (h_n, _) = self.lstm(self.embedding(x))
            return torch.sigmoid(self.fc(h_n[-1])).squeeze(1)

    model = Classifier()
    # Keras's LSTM weights: kernel (in, 4H), recurrent (H, 4H), one bias, gates i, f, c, o
    # (PyTorch's order i, f, g, o); Dense kernel (in, out).
    emb, kernel, recurrent, bias, dense_k, dense_b = w
    state = {"embedding.weight": emb, "lstm.weight_ih_l0": kernel.T,
             "lstm.weight_hh_l0": recurrent.T, "lstm.bias_ih_l0": bias,
             "lstm.bias_hh_l0": np.zeros_like(bias), "fc.weight": dense_k.T, "fc.bias": dense_b}
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    # Keras's RMSprop defaults (PyTorch adds eps outside the root, Keras inside: 1e-7 either way)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = nn.BCELoss()

    x = torch.from_numpy(data["x_train"].astype(np.int64))
    y = torch.from_numpy(data["y_train"].astype(np.float32))
    n_train = int(math.floor(len(x) * (1 - request["validation_split"])))
    x_tr, y_tr, x_val, y_val = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    bs = request["batch_size"]

    def evaluate(xs, ys):
        model.eval()
        total_loss, correct = 0.0, 0
        with torch.inference_mode():
            for i in range(0, len(xs), 128):
                p = model(xs[i:i + 128])
                total_loss += loss_fn(p, ys[i:i + 128]).item() * len(p)
                correct += ((p > 0.5).float() == ys[i:i + 128]).sum().item()
        return total_loss / len(xs), correct / len(xs)

    times, history = [], {"loss": [], "acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(request["epochs"]):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n_train)
        total_loss, correct = 0.0, 0
        for i in range(0, n_train, bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            p = model(x_tr[idx])
            loss = loss_fn(p, y_tr[idx])
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
            correct += ((p.detach() > 0.5).float() == y_tr[idx]).sum().item()
        val_loss, val_acc = evaluate(x_val, y_val)
        times.append(time.perf_counter() - t0)
        for k, v in zip(history, (total_loss / n_train, correct / n_train, val_loss, val_acc)):
            history[k].append(v)
        print(f"torch epoch {epoch + 1}: {times[-1]:.1f} s "
              f"{ {k: v[-1] for k, v in history.items()} }", file=sys.stderr)
    t0 = time.perf_counter()
    test_loss, test_acc = evaluate(torch.from_numpy(data["x_test"].astype(np.int64)),
                                   torch.from_numpy(data["y_test"].astype(np.float32)))
    return {"epoch_s": times, "history": history, "test_loss": test_loss,
            "test_acc": test_acc, "test_s": time.perf_counter() - t0}


def run(request):
    return {"rnnkit": run_rnnkit, "torch": run_torch}[request["side"]](request)


if __name__ == "__main__":
    child.serve(run)
