"""A Char-RNN written the way PyTorch users write one, run with ``import rnnkit as torch``.

Dataset / DataLoader, Embedding -> LSTM -> Linear, cross-entropy, gradient clipping,
``torch.save(model.state_dict(), path)`` and back with
``model.load_state_dict(torch.load(path))``, and temperature sampling with
``torch.multinomial``. The loaded model must give exactly the saved model's outputs and
the same generated text under the same seed; a checkpoint with the optimizer resumes
training on exactly the same losses. Real PyTorch runs this very file with only its
import lines changed, and from the same weights trains on the same losses.
"""
import types
from pathlib import Path

import numpy as np
import pytest

import rnnkit as torch
from rnnkit import nn
from rnnkit.utils.data import DataLoader, Dataset

TEXT = ("the quick brown fox jumps over the lazy dog. "
        "a lazy dog sleeps in the sun; the fox runs on. ") * 4
CHARS = sorted(set(TEXT))
STOI = {c: i for i, c in enumerate(CHARS)}
ITOS = {i: c for c, i in STOI.items()}
SEQ_LEN = 16


class CharDataset(Dataset):
    """Every window of SEQ_LEN characters, with the next character as each target."""

    def __init__(self, text, seq_len):
        self.data = [STOI[c] for c in text]
        self.seq_len = seq_len

    def __len__(self):
        return len(self.data) - self.seq_len

    def __getitem__(self, i):
        chunk = self.data[i:i + self.seq_len + 1]
        return torch.tensor(chunk[:-1]), torch.tensor(chunk[1:])


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden_size=48):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.embed(x), hidden)
        return self.fc(out), hidden


def train(model, optimizer, loader, steps):
    criterion = nn.CrossEntropyLoss()
    losses = []
    model.train()
    while len(losses) < steps:
        for x, y in loader:
            optimizer.zero_grad()
            logits, _ = model(x)
            loss = criterion(logits.view(-1, logits.size(-1)), y.view(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


def generate(model, start, length, temperature=0.8):
    model.eval()
    out = list(start)
    with torch.no_grad():
        logits, hidden = model(torch.tensor([[STOI[c] for c in start]]))
        for _ in range(length):
            probs = nn.functional.softmax(logits[:, -1] / temperature, dim=-1)
            next_id = torch.multinomial(probs, num_samples=1)
            out.append(ITOS[next_id.item()])
            logits, hidden = model(next_id, hidden)
    return "".join(out)


def trained(steps=30):
    torch.manual_seed(0)
    model = CharRNN(len(CHARS))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(CharDataset(TEXT, SEQ_LEN), batch_size=8, shuffle=True, drop_last=True)
    losses = train(model, optimizer, loader, steps)
    return model, optimizer, loader, losses


def test_the_loop_learns_the_text():
    *_, losses = trained(60)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert losses[0] > 0.9 * np.log(len(CHARS))          # it started from chance


def test_a_saved_state_dict_loads_into_a_fresh_model_with_the_same_outputs(tmp_path):
    model, *_ = trained()
    torch.save(model.state_dict(), tmp_path / "char_rnn.pt")
    fresh = CharRNN(len(CHARS))
    x, _ = next(iter(DataLoader(CharDataset(TEXT, SEQ_LEN), batch_size=4)))
    assert not np.array_equal(fresh(x)[0].numpy(), model(x)[0].numpy())
    fresh.load_state_dict(torch.load(tmp_path / "char_rnn.pt"))
    np.testing.assert_array_equal(fresh(x)[0].numpy(), model(x)[0].numpy())


def test_the_loaded_model_generates_the_same_text_under_the_same_seed(tmp_path):
    model, *_ = trained()
    torch.save(model.state_dict(), tmp_path / "char_rnn.pt")
    fresh = CharRNN(len(CHARS))
    fresh.load_state_dict(torch.load(tmp_path / "char_rnn.pt", map_location="cpu",
                                     weights_only=True))
    torch.manual_seed(42)
    ours = generate(model, "the ", 40)
    torch.manual_seed(42)
    assert generate(fresh, "the ", 40) == ours
    assert len(ours) == 44 and set(ours) <= set(CHARS)


def test_a_checkpoint_with_the_optimizer_resumes_on_the_same_losses(tmp_path):
    model, optimizer, loader, _ = trained(10)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 10},
               tmp_path / "ckpt.pt")
    torch.manual_seed(1)
    expected = train(model, optimizer, loader, 5)

    ckpt = torch.load(tmp_path / "ckpt.pt")
    resumed = CharRNN(len(CHARS))
    resumed.load_state_dict(ckpt["model"])
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.01)
    resumed_opt.load_state_dict(ckpt["optimizer"])
    torch.manual_seed(1)
    assert ckpt["step"] == 10
    assert train(resumed, resumed_opt, loader, 5) == expected


RNNKIT_IMPORTS = ("import rnnkit as torch\nfrom rnnkit import nn\n"
                  "from rnnkit.utils.data import DataLoader, Dataset\n")
TORCH_IMPORTS = ("import torch\nfrom torch import nn\n"
                 "from torch.utils.data import DataLoader, Dataset\n")


@pytest.mark.torch
def test_real_pytorch_runs_this_file_with_its_imports_changed_on_the_same_losses():
    real_torch = pytest.importorskip("torch")
    source = Path(__file__).read_text()
    assert source.count(RNNKIT_IMPORTS) == 1
    real = types.ModuleType("char_rnn_on_pytorch")
    exec(compile(source.replace(RNNKIT_IMPORTS, TORCH_IMPORTS), "char_rnn_on_pytorch", "exec"),
         real.__dict__)
    assert real.torch is real_torch

    ours = CharRNN(len(CHARS))
    theirs = real.CharRNN(len(CHARS))
    theirs.load_state_dict({k: real_torch.from_numpy(np.array(v))
                            for k, v in ours.state_dict().items()})
    our_losses = train(ours, torch.optim.Adam(ours.parameters(), lr=0.01),
                       DataLoader(CharDataset(TEXT, SEQ_LEN), batch_size=8), 25)
    their_losses = real.train(theirs, real_torch.optim.Adam(theirs.parameters(), lr=0.01),
                              real.DataLoader(real.CharDataset(TEXT, SEQ_LEN), batch_size=8),
                              25)
    assert our_losses[-1] < 0.8 * our_losses[0]
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)
