"""PyTorch's side of ``python -m bench.classify_imdb``, in a child process of its own.

``python -m bench.classify_torch`` reads one JSON request on stdin, ``{"data": npz path
(x_train, y_train, x_val, y_val, x_test, y_test: the app's own arrays, ids padded with 0
at the end), "config": the app's model config, "epochs", "batch_size", "lr", "seed",
"threads"}``, trains the same model as ``rnnkit classify train`` the way PyTorch users
write it, and answers with per-epoch times and accuracies and the test accuracy of the
best epoch. It imports no rnnkit.

The model: Embedding(padding_idx=0) -> LSTM/GRU/RNN over the packed sequences
(``pack_padded_sequence``, so padding is skipped as the app's mask skips it) -> the last
hidden state (both directions' when bidirectional) -> optional Dropout -> Linear, with
BCEWithLogitsLoss for two classes (the app's sigmoid + binary cross-entropy) or
CrossEntropyLoss; Adam; a fresh shuffle each epoch; the epoch of best validation
accuracy is kept and scored on the test part, as the app does. PyTorch's own default
initialisation, not Keras's.
"""
from __future__ import annotations

import copy
import sys
import time

import numpy as np

from bench import child


def run(request):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.set_num_threads(request["threads"])
    torch.manual_seed(request["seed"])
    c = request["config"]
    binary = len(c["classes"]) == 2
    data = np.load(request["data"], allow_pickle=False)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(c["vocab_size"], c["embed_dim"], padding_idx=0)
            rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "simplernn": nn.RNN}[c["cell"]]
            self.rnn = rnn(c["embed_dim"], c["units"], batch_first=True,
                           bidirectional=c["bidirectional"])
            self.dropout = nn.Dropout(c["dropout"])
            width = c["units"] * (2 if c["bidirectional"] else 1)
            self.fc = nn.Linear(width, 1 if binary else len(c["classes"]))

        def forward(self, x):
            lengths = (x != 0).sum(dim=1).clamp(min=1)     # an empty text: one pad step
            packed = pack_padded_sequence(self.embedding(x), lengths, batch_first=True,
                                          enforce_sorted=False)
            _, h = self.rnn(packed)
            if isinstance(h, tuple):                       # LSTM: (h_n, c_n)
                h = h[0]
            h = torch.cat([h[-2], h[-1]], dim=1) if c["bidirectional"] else h[-1]
            out = self.fc(self.dropout(h))
            return out.squeeze(1) if binary else out

    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=request["lr"])
    loss_fn = nn.BCEWithLogitsLoss() if binary else nn.CrossEntropyLoss()

    def tensors(part):
        x = torch.from_numpy(data[f"x_{part}"].astype(np.int64))
        y = torch.from_numpy(data[f"y_{part}"])
        return x, (y.float() if binary else y.long())

    def predict(logits):
        return (logits > 0).long() if binary else logits.argmax(dim=1)

    def accuracy(x, y):
        model.eval()
        correct = 0
        with torch.inference_mode():
            for i in range(0, len(x), 256):
                correct += (predict(model(x[i:i + 256])) == y[i:i + 256].long()).sum().item()
        return correct / len(x)

    x_train, y_train = tensors("train")
    x_val, y_val = tensors("val")
    bs = request["batch_size"]
    history = {"loss": [], "accuracy": [], "val_accuracy": []}
    times, best, best_state = [], -1.0, None
    for epoch in range(request["epochs"]):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        total, correct = 0.0, 0
        for i in range(0, len(order), bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            logits = model(x_train[idx])
            loss = loss_fn(logits, y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (predict(logits.detach()) == y_train[idx].long()).sum().item()
        val_acc = accuracy(x_val, y_val)
        times.append(time.perf_counter() - t0)
        for k, v in zip(history, (total / len(order), correct / len(order), val_acc)):
            history[k].append(v)
        if val_acc > best:
            best, best_epoch, best_state = val_acc, epoch + 1, copy.deepcopy(
                model.state_dict())
        print(f"torch epoch {epoch + 1}: {times[-1]:.1f} s "
              f"{ {k: round(v[-1], 4) for k, v in history.items()} }", file=sys.stderr)
    model.load_state_dict(best_state)
    return {"torch": torch.__version__, "epoch_s": times, "history": history,
            "best_epoch": best_epoch,
            "val_accuracy": best, "test_accuracy": accuracy(*tensors("test"))}


if __name__ == "__main__":
    child.serve(run)
