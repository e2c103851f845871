"""How far back a loss's gradient reaches: ||dL/dh_t|| against the distance T - t.

The experiment behind ``rnnkit plot gradients``: the vanishing gradient the tutorials
describe, measured with rnnkit's own autograd. A SimpleRNN (``nn.RNN``, tanh), an LSTM
and a GRU, each with hidden size H and initialised by PyTorch's rule (every weight and
bias from U(-1/sqrt(H), 1/sqrt(H))), read the same sequences x (time, batch, features)
of standard normal numbers. A linear readout of the last hidden state predicts

    y = sqrt(T) * mean_t x_t[0]      (the running mean of the first feature, variance 1)

a target every step contributes to, so a model that fits it carries information from
the first step to the last. The loss on the last step, summed over the batch,

    L = 1/2 * sum_b (w . h_T[b] + c - y[b])^2

is back-propagated through the cells run step by step, and for every t the mean over
the batch of ||dL/dh_t[b]|| is recorded (for the LSTM, h_t is the hidden state, not
the cell state c_t). That happens at initialisation and again after ``train_steps``
Adam steps on the task, trained with the fused ``nn.RNN``/``nn.LSTM``/``nn.GRU`` layers.
"""
from __future__ import annotations

import math

import numpy as np

import rnnkit
from rnnkit import nn, optim
from rnnkit.clip import clip_grad_norm_

# name -> (the sequence layer that trains, the cell that is measured step by step)
CELLS = {"rnn": ("SimpleRNN", nn.RNN, nn.RNNCell),
         "lstm": ("LSTM", nn.LSTM, nn.LSTMCell),
         "gru": ("GRU", nn.GRU, nn.GRUCell)}
INPUT_SIZE = 4


def task_batch(rng, steps, batch, dtype=np.float32):
    """One batch of the task: x (steps, batch, INPUT_SIZE) ~ N(0, 1) and
    y (batch, 1) = sqrt(steps) * mean over time of x[:, :, 0]."""
    x = rng.standard_normal((steps, batch, INPUT_SIZE))
    y = x[:, :, :1].mean(axis=0) * math.sqrt(steps)
    return x.astype(dtype), y.astype(dtype)


def gradient_norms(cell, readout, x, y):
    """The mean over the batch of ||dL/dh_t||, for t = T, T-1, ..., 1.

    cell: an ``nn.RNNCell``, ``nn.LSTMCell`` or ``nn.GRUCell``; readout: an
    ``nn.Linear(hidden, 1)``; x (time, batch, input_size), y (batch, 1), in the
    modules' dtype. L = 1/2 * sum_b (readout(h_T) - y)^2. Returns an ndarray (time,)
    whose entry d is the norm at distance d from the loss (h_{T-d}).
    """
    lstm = isinstance(cell, nn.LSTMCell)
    state, probes = None, []
    for t in range(x.shape[0]):
        state = cell(x[t], state)
        h = state[0] if lstm else state
        # h_t + 0: the zero leaf's gradient is dL/dh_t, the one non-leaf gradient that
        # autograd does not keep (PyTorch's retain_grad does the same job).
        probe = rnnkit.zeros(h.shape, dtype=h.dtype, requires_grad=True)
        h = h + probe
        state = (h, state[1]) if lstm else h
        probes.append(probe)
    loss = 0.5 * ((readout(h) - rnnkit.tensor(y)) ** 2).sum()
    loss.backward()
    norms = [np.linalg.norm(p.grad.numpy(), axis=1).mean() for p in probes]
    return np.asarray(norms[::-1], dtype=np.float64)


def _measure(kind, layer, readout, x, y):
    """Copy a trained layer's weights into a float64 cell and measure its norms."""
    _, _, cell_cls = CELLS[kind]
    cell = cell_cls(layer.input_size, layer.hidden_size, dtype=np.float64)
    weights = layer.state_dict()
    cell.load_state_dict({name: weights[name + "_l0"]      # cast to float64 on loading
                          for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    head = nn.Linear(layer.hidden_size, 1, dtype=np.float64)
    head.load_state_dict(readout.state_dict())
    # float64: after a hundred steps an RNN's norms fall below float32's range.
    return gradient_norms(cell, head, x.astype(np.float64), y.astype(np.float64))


def vanishing_gradients(steps=100, hidden=32, batch=32, train_steps=300, lr=3e-3,
                        seed=0, kinds=("rnn", "lstm", "gru"), progress=None):
    """Measure ||dL/dh_t|| for each of ``kinds`` at initialisation and after training.

    steps: the sequence length T; hidden: the hidden size H of every model; batch:
    sequences per batch (training and measurement); train_steps: Adam steps (learning
    rate ``lr``, gradients clipped to norm 1) on the task before the second measurement,
    0 for none; seed: initial weights and data (every model sees the same batches);
    progress: an optional ``common.Progress``-like object (``update(n, **values)``).

    Returns a dict: ``distance`` (T,), and per kind ``initial`` (T,) (and, when
    ``train_steps`` > 0, ``trained`` (T,) and ``train_loss``: the mean squared error of
    the last training batch), each norm at distance d = T - t from the loss.
    """
    result = {"distance": np.arange(steps), "steps": steps, "hidden": hidden,
              "batch": batch, "train_steps": train_steps}
    x_eval, y_eval = task_batch(np.random.default_rng([seed, 1]), steps, batch)
    for kind in kinds:
        _, layer_cls, _ = CELLS[kind]
        init = np.random.default_rng([seed, 0])
        layer = layer_cls(INPUT_SIZE, hidden, generator=init)
        readout = nn.Linear(hidden, 1, generator=init)
        entry = {"initial": _measure(kind, layer, readout, x_eval, y_eval)}
        if train_steps:
            data = np.random.default_rng([seed, 2])
            params = list(layer.parameters()) + list(readout.parameters())
            opt = optim.Adam(params, lr=lr)
            for _ in range(train_steps):
                x, y = task_batch(data, steps, batch)
                out, _ = layer(x)
                loss = ((readout(out[-1]) - rnnkit.tensor(y)) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                clip_grad_norm_(params, 1.0)
                opt.step()
                if progress is not None:
                    progress.update(1, model=CELLS[kind][0], loss=loss.item())
            entry["trained"] = _measure(kind, layer, readout, x_eval, y_eval)
            entry["train_loss"] = float(loss.item())
        result[kind] = entry
    return result
