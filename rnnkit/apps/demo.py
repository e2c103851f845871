"""``rnnkit demo``: the tutorials' NumPy RNN beside the core op, then an LSTM that learns.

Part 1 repeats the tutorials' loop h_t = tanh(W_x x_t + W_h h_{t-1} + b) (10 steps,
input 4, hidden 8) and runs the fused kernel on the same numbers. Part 2 trains a small
LSTM with backpropagation through time to continue a noisy sine wave, printing the loss.
"""
from __future__ import annotations

import time

import numpy as np

import rnnkit
from rnnkit import functional as F
from rnnkit import optim
from rnnkit import recurrent as R
from rnnkit.apps.common import AppError
from rnnkit.clip import clip_grad_norm_


def walkthrough(rng, out=print):
    timesteps, input_dim, hidden_units = 10, 4, 8
    inputs = rng.random((timesteps, input_dim))
    Wx = rng.random((hidden_units, input_dim))
    Wh = rng.random((hidden_units, hidden_units))
    b = rng.random((hidden_units,))

    out("1. The tutorials' RNN, step by step in NumPy:")
    out("   h_t = tanh(Wx x_t + Wh h_{t-1} + b)   inputs (10, 4), Wx (8, 4), Wh (8, 8), b (8,)")
    hidden_state = np.zeros((hidden_units,))
    loop = []
    for input_t in inputs:
        hidden_state = np.tanh(Wx @ input_t + Wh @ hidden_state + b)
        loop.append(hidden_state)
    loop = np.stack(loop)
    fused, h_n = R.rnn(inputs[:, None, :], None, Wx, Wh, b)
    fused = fused.numpy()[:, 0]
    np.set_printoptions(precision=5, suppress=True, linewidth=100)
    out(f"   NumPy loop, first two steps:\n{_indent(loop[:2])}")
    out(f"   rnnkit.recurrent.rnn on the same numbers:\n{_indent(fused[:2])}")
    out(f"   all 10 steps agree: max |difference| = {np.abs(loop - fused).max():.1e}; "
        f"output {fused.shape}, final state {tuple(h_n.shape)}")


def train_lstm(steps, rng, out=print):
    T, B, H = 30, 32, 24
    out(f"\n2. An LSTM (hidden {H}) learns to continue a noisy sine wave, trained by BPTT")
    k = 1 / np.sqrt(H)
    shapes = dict(w_ih=(4 * H, 1), w_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,),
                  w_out=(1, H), b_out=(1,))
    params = {n: rnnkit.tensor(rng.uniform(-k, k, s), requires_grad=True, dtype="float32")
              for n, s in shapes.items()}
    opt = optim.Adam(params.values(), lr=0.01)

    started = time.perf_counter()
    for step in range(1, steps + 1):
        phase = rng.uniform(0, 2 * np.pi, size=(1, B, 1))
        freq = rng.uniform(0.15, 0.35, size=(1, B, 1))
        t = np.arange(T + 1)[:, None, None]
        wave = (np.sin(freq * t + phase) + 0.05 * rng.normal(size=(T + 1, B, 1)))
        x, y = wave[:-1].astype(np.float32), wave[1:].astype(np.float32)

        seq, _, _ = R.lstm(x, None, None, params["w_ih"], params["w_hh"], params["b_ih"],
                           params["b_hh"])
        pred = F.linear(seq, params["w_out"], params["b_out"])   # (T, B, 1)
        loss = ((pred - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()                                          # BPTT through 30 steps
        clip_grad_norm_(params.values(), 1.0)
        opt.step()
        if step == 1 or step % max(1, steps // 10) == 0 or step == steps:
            bar = "#" * int(min(40, 40 * loss.item() / 0.6))
            out(f"   step {step:4d}  loss {loss.item():.4f}  {bar}")
    elapsed = time.perf_counter() - started
    out(f"   {steps} steps in {elapsed:.2f} s; the mean squared error fell from about 0.5 "
        f"(the wave's own variance) toward the noise floor (0.0025).")
    return loss.item()


def run_demo(steps=150, seed=0, out=print):
    """Run both parts of the demo; returns the final training loss."""
    rng = np.random.default_rng(seed)
    walkthrough(rng, out)
    return train_lstm(steps, rng, out)


def _indent(a):
    return "\n".join("     " + line for line in str(a).splitlines())


def add_parser(sub):
    """``rnnkit demo [--steps N] [--seed S]``."""
    demo = sub.add_parser(
        "demo", help="walk through the tutorials' NumPy RNN and train a tiny LSTM by BPTT")
    demo.add_argument("--steps", type=int, default=150,
                      help="training steps for the LSTM (default: 150)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=_run)


def _run(args):
    if args.steps < 1:
        raise AppError(f"--steps must be >= 1, got {args.steps}")
    run_demo(steps=args.steps, seed=args.seed)
    return 0
