"""Make the README's three pictures: ``python docs/make_plots.py`` (about two minutes).

1. docs/plot_curves.png: ``rnnkit plot curves`` on the metrics.csv of a small character
   LSTM (Embedding -> LSTM -> Linear, ``rnnkit.nn``) trained here for a few epochs on the
   English prose of ``pydoc_data.topics``, its loss and next-character accuracy logged by
   the apps' ``Reporter`` on training and held-out text.
2. docs/plot_hidden.png: ``rnnkit.apps.figures.hidden_figure`` on that LSTM's h_t along a
   sentence (``rnnkit plot hidden`` does the same for a ``rnnkit textgen`` directory).
3. docs/plot_gradients.png: ``rnnkit plot gradients`` with its defaults.
"""
import os
import sys
import tempfile
import types

import numpy as np

import rnnkit
from rnnkit import nn, optim
from rnnkit import functional as F
from rnnkit.apps.common import Reporter
from rnnkit.apps.figures import hidden_figure, save_png
from rnnkit.cli import main

DOCS = os.path.dirname(os.path.abspath(__file__))
SENTENCE = 'The "for" statement is used to iterate over the elements of a sequence.'


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=32, hidden=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.fc(out), out


def corpus():
    from pydoc_data.topics import topics

    text = "\n".join(topics[k] for k in sorted(topics))[:400_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(len(ids) * 0.9)
    return chars, ids[:split], ids[split:]


def windows(ids, rng, batch, length):
    start = rng.integers(0, len(ids) - length - 1, size=batch)
    rows = np.stack([ids[s:s + length + 1] for s in start])
    return rows[:, :-1], rows[:, 1:]


def evaluate(model, x, y):
    with rnnkit.no_grad():
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
        accuracy = float((logits.numpy().argmax(-1) == y).mean())
    return loss, accuracy


def train_char_lstm(run_dir, epochs=10, steps=40, batch=32, length=64):
    chars, train, val = corpus()
    rng = np.random.default_rng(0)
    rnnkit.manual_seed(0)
    model = CharLSTM(len(chars))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    val_x, val_y = windows(val, np.random.default_rng(1), 128, length)
    report = Reporter(types.SimpleNamespace(json=False, quiet=False), run_dir)
    for epoch in range(1, epochs + 1):
        losses, hits = [], []
        with report.progress(steps, desc=f"epoch {epoch}") as bar:
            for _ in range(steps):
                x, y = windows(train, rng, batch, length)
                logits, _ = model(x)
                loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                losses.append(loss.item())
                hits.append(float((logits.numpy().argmax(-1) == y).mean()))
                bar.update(loss=loss.item())
        val_loss, val_accuracy = evaluate(model, val_x, val_y)
        report.log(epoch, loss=float(np.mean(losses)), val_loss=val_loss,
                   accuracy=float(np.mean(hits)), val_accuracy=val_accuracy)
    return model, chars


def main_script():
    run_dir = os.path.join(tempfile.mkdtemp(), "char-lstm")
    os.makedirs(run_dir)
    model, chars = train_char_lstm(run_dir)
    status = main(["plot", "curves", run_dir, "--out", os.path.join(DOCS, "plot_curves.png")])

    index = {c: i for i, c in enumerate(chars)}
    with rnnkit.no_grad():
        _, h = model(np.array([[index[c] for c in SENTENCE]]))
    fig = hidden_figure(SENTENCE, h.numpy()[0], units=24,
                        title="hidden state $h_t$ of a character LSTM (128 units) trained "
                              "for a minute on pydoc's topics")
    save_png(fig, os.path.join(DOCS, "plot_hidden.png"))

    status |= main(["plot", "gradients", "--out", os.path.join(DOCS, "plot_gradients.png")])
    return status


if __name__ == "__main__":
    sys.exit(main_script())
