"""The model of ``rnnkit forecast``: a recurrent net that reads a window of a series and
predicts the next ``horizon`` values at once, built and trained on ``rnnkit.nn``.

Multi-step forecasts are *direct*: one linear head gives all ``horizon`` values from the
last hidden state. A recursive forecaster (predict one step, feed it back) trains on one
loss and is used on another, and its early errors compound over the later steps; the
direct head is trained on exactly the error it is scored on, in one pass per window.
"""
from __future__ import annotations

import math

import numpy as np

import rnnkit
from rnnkit import nn, optim
from rnnkit.clip import clip_grad_norm_
from rnnkit.utils.data import DataLoader, TensorDataset

CELLS = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}


class Forecaster(nn.Module):
    """``(batch, window, 1)`` scaled values -> ``(batch, horizon)`` scaled forecasts.

    cell: "LSTM", "GRU" or "RNN" (tanh); hidden_size, num_layers and dropout (between
    stacked layers) as in ``nn.LSTM``. The head is ``nn.Linear(hidden_size, horizon)``
    on the last time step's output.
    """

    def __init__(self, cell="LSTM", hidden_size=32, num_layers=1, dropout=0.0, horizon=1):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"Forecaster: cell must be one of {', '.join(CELLS)}, got "
                             f"{cell!r}")
        self.rnn = CELLS[cell](1, hidden_size, num_layers=num_layers, dropout=dropout,
                               batch_first=True)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, x):
        out, _ = self.rnn(x)            # (batch, window, hidden)
        return self.head(out[:, -1])    # (batch, horizon)


def build(config):
    """The :class:`Forecaster` a model directory's ``config`` describes."""
    return Forecaster(config["cell"], config["hidden_size"], config["num_layers"],
                      config["dropout"], config["horizon"])


def predict(model, x, batch_size=1024):
    """The model's scaled outputs for the windows ``x`` (n, window, 1): float64 (n,
    horizon), in evaluation mode, without building a graph."""
    model.eval()
    outputs = []
    with rnnkit.no_grad():
        for i in range(0, len(x), batch_size):
            outputs.append(model(x[i:i + batch_size]).numpy())
    if not outputs:
        return np.empty((0, model.head.out_features))
    return np.concatenate(outputs).astype(np.float64)


def train(model, x, y, epochs, lr, batch_size, clip, report, on_epoch):
    """Adam on the mean squared error of scaled values, ``epochs`` passes over the
    training windows ``x`` (n, window, 1), ``y`` (n, horizon) in shuffled batches
    (``rnnkit.manual_seed`` fixes the order), gradients clipped to global norm ``clip``
    (0: no clipping). After each epoch ``on_epoch(epoch, train_loss)`` scores the model
    and returns the values shown on the progress bar."""
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    with report.progress(total=epochs, desc="training", unit="epoch") as bar:
        for epoch in range(1, epochs + 1):
            model.train()
            total, count = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                if clip > 0:
                    clip_grad_norm_(model.parameters(), clip)
                opt.step()
                total += loss.item() * len(xb)
                count += len(xb)
            shown = on_epoch(epoch, total / count if count else math.nan)
            bar.update(**shown)
