"""A sequence model trained 20 steps in rnnkit follows torch's loss trajectory.

Embedding -> 2-layer bidirectional LSTM (dropout 0) -> Linear, CrossEntropyLoss, Adam,
gradient clipping by global norm; identical initial weights and batches. Every step's
loss must agree within 1e-4 relative (float32).
"""
import numpy as np
import pytest

import rnnkit
from rnnkit import nn, optim

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch oracle (torch==2.13.0) is not installed")

VOCAB, EMB, HID, CLASSES, T, B = 50, 16, 24, 5, 12, 8


def make(lib):
    class Tagger(lib.nn.Module if lib is torch else nn.Module):
        def __init__(self):
            super().__init__()
            L = lib.nn if lib is torch else nn
            self.emb = L.Embedding(VOCAB, EMB, padding_idx=0)
            self.rnn = L.LSTM(EMB, HID, num_layers=2, bidirectional=True, batch_first=True,
                              dropout=0.0)
            self.head = L.Linear(2 * HID, CLASSES)

        def forward(self, tokens):
            out, _ = self.rnn(self.emb(tokens))
            return self.head(out)          # (batch, time, classes)

    return Tagger()


def test_training_trajectory_equals_torch(each_backend):
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, VOCAB, size=(B, T)), rng.integers(0, CLASSES, size=(B, T)))
               for _ in range(20)]
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(rnnkit)
    ours.load_state_dict(theirs.state_dict())

    t_opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    o_opt = optim.Adam(ours.parameters(), lr=0.01)
    t_loss_fn, o_loss_fn = torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    t_losses, o_losses = [], []
    for tokens, labels in batches:
        t_opt.zero_grad()
        logits = theirs(torch.tensor(tokens))
        loss = t_loss_fn(logits.reshape(-1, CLASSES), torch.tensor(labels).reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        t_opt.step()
        t_losses.append(loss.item())

        o_opt.zero_grad()
        logits = ours(tokens)
        loss = o_loss_fn(logits.reshape(-1, CLASSES), labels.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
        o_opt.step()
        o_losses.append(loss.item())

    t_losses, o_losses = np.array(t_losses), np.array(o_losses)
    assert t_losses[-1] < t_losses[0]          # the model does learn
    np.testing.assert_allclose(o_losses, t_losses, rtol=1e-4)
