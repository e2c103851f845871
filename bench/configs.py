"""What is benchmarked: the configurations, their FLOP count, and their seeded data.

Both processes (rnnkit here, PyTorch in the worker) rebuild the weights and the input
from the configuration's seed with NumPy alone, so the two frameworks run the very same
numbers and their outputs can be compared (``checksum``), and nothing large crosses the
process boundary.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@dataclasses.dataclass(frozen=True)
class Config:
    """One benchmark shape: a stack of ``layers`` recurrent layers of ``cell``.

    Input (seq, batch, input) time-major, as ``torch.nn`` without batch_first.
    """

    name: str
    cell: str            # "rnn" (tanh), "gru" or "lstm"
    batch: int
    seq: int
    input: int
    hidden: int
    layers: int = 1
    bidirectional: bool = False
    seed: int = 0

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    @property
    def tokens(self):
        """Time steps processed per call, counted once per sequence element."""
        return self.batch * self.seq

    def shape(self):
        """A short description: B, T, D, H, layers, bi."""
        s = f"B{self.batch} T{self.seq} D{self.input} H{self.hidden}"
        if self.layers > 1:
            s += f" L{self.layers}"
        return s + (" bi" if self.bidirectional else "")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


def _ref(name, cell, batch, seq, inp, hidden, layers=1, bidirectional=False):
    return Config(name, cell, batch, seq, inp, hidden, layers, bidirectional)


# The reference configurations of the performance issue.
REFERENCE = (
    _ref("small-lstm", "lstm", 32, 100, 64, 128),
    _ref("small-gru", "gru", 32, 100, 64, 128),
    _ref("small-rnn", "rnn", 32, 100, 64, 128),
    _ref("medium-lstm", "lstm", 32, 100, 128, 512, layers=2),
    _ref("medium-gru", "gru", 32, 100, 128, 512, layers=2),
    _ref("imdb-rnn", "rnn", 32, 500, 32, 32),
    _ref("imdb-lstm", "lstm", 32, 500, 32, 32),
    _ref("latency-lstm", "lstm", 1, 50, 32, 64),
    _ref("latency-gru", "gru", 1, 50, 32, 64),
    _ref("bilstm", "lstm", 32, 100, 64, 128, bidirectional=True),
)

# The sweep: the small LSTM's layer, one axis varied at a time around (B=32, T=100).
SWEEP_SEQ = (50, 100, 200, 500, 1000, 2000, 5000)
SWEEP_BATCH = (1, 4, 16, 64, 128, 256)


def sweep_configs():
    """{"seq": [...], "batch": [...]}: LSTM input 64, hidden 128, one axis varied."""
    seq = [Config(f"sweep-T{t}", "lstm", 32, t, 64, 128) for t in SWEEP_SEQ]
    batch = [Config(f"sweep-B{b}", "lstm", b, 100, 64, 128) for b in SWEEP_BATCH]
    return {"seq": seq, "batch": batch}


def select(names):
    """The reference configs named in ``names`` (a comma-separated string or a list).

    A name matches a config exactly or is the group before the dash ("small" selects
    small-lstm, small-gru and small-rnn). An unknown name raises, listing the valid ones.
    """
    if names is None:
        return list(REFERENCE)
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    chosen = []
    for n in names:
        hits = [c for c in REFERENCE if c.name == n or c.name.split("-")[0] == n]
        if not hits:
            valid = ", ".join(c.name for c in REFERENCE)
            raise ValueError(f"--configs: unknown configuration {n!r}; valid names: {valid} "
                             f"(or a group: small, medium, imdb, latency)")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def flops(cfg, mode):
    """Multiply-add FLOPs of one call: the recurrent GEMMs only (gate math not counted).

    Per time step, layer and direction: 2 * B * G * H * (D_l + H), where G is the number
    of gate blocks (1 RNN, 3 GRU, 4 LSTM) and D_l the layer's input size (``input`` for
    the first layer, directions * hidden above it). A training step counts 3x the
    forward: backward repeats each GEMM twice (the gradients for the input and for the
    weights).
    """
    G, H, B = GATES[cfg.cell], cfg.hidden, cfg.batch
    total = 0
    for layer in range(cfg.layers):
        d_in = cfg.input if layer == 0 else cfg.directions * H
        total += 2 * B * G * H * (d_in + H) * cfg.seq * cfg.directions
    if mode == "train":
        return 3 * total
    if mode == "infer":
        return total
    raise ValueError(f"flops: mode must be 'infer' or 'train', got {mode!r}")


def parameter_names(cfg):
    """PyTorch's parameter names and shapes, in its order (rnnkit uses the same)."""
    G, H = GATES[cfg.cell], cfg.hidden
    out = []
    for layer in range(cfg.layers):
        d_in = cfg.input if layer == 0 else cfg.directions * H
        for d in range(cfg.directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            out += [(f"weight_ih{sfx}", (G * H, d_in)), (f"weight_hh{sfx}", (G * H, H)),
                    (f"bias_ih{sfx}", (G * H,)), (f"bias_hh{sfx}", (G * H,))]
    return out


def make_data(cfg):
    """(state_dict, x): float32 weights drawn like PyTorch's, U(-1/sqrt(H), 1/sqrt(H)),
    and an input x of shape (seq, batch, input) from N(0, 1), both from ``cfg.seed``."""
    rng = np.random.default_rng(cfg.seed)
    k = 1.0 / math.sqrt(cfg.hidden)
    weights = {name: rng.uniform(-k, k, shape).astype(np.float32)
               for name, shape in parameter_names(cfg)}
    x = rng.standard_normal((cfg.seq, cfg.batch, cfg.input), dtype=np.float32)
    return weights, x


def checksum(out):
    """(sum, sum of |.|) of an output array in float64: equal outputs, equal sums."""
    out = np.asarray(out, dtype=np.float64)
    return float(out.sum()), float(np.abs(out).sum())
