"""Slow, obvious reference implementations of the recurrent cells, one step at a time.

Written straight from the equations, with no buffers, folding or in-place tricks, so the
fused kernels have something independent to be compared against (including Keras's
reset-before GRU, which PyTorch does not have).
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def step_rnn(x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    (h,) = state
    a = w_ih @ x + w_hh @ h + b_ih + b_hh
    return (np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0),)


def step_lstm(x, state, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    h, c = state
    a = w_ih @ x + w_hh @ h + b_ih + b_hh
    i, f, g, o = np.split(a, 4)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h = sigmoid(o) * np.tanh(c)
    if w_hr is not None:
        h = w_hr @ h
    return h, c


def step_gru(x, state, w_ih, w_hh, b_ih, b_hh, reset_after=True):
    (h,) = state
    xr, xz, xn = np.split(w_ih @ x + b_ih, 3)
    W_hr, W_hz, W_hn = np.split(w_hh, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sigmoid(xr + W_hr @ h + b_hr)
    z = sigmoid(xz + W_hz @ h + b_hz)
    if reset_after:
        n = np.tanh(xn + r * (W_hn @ h + b_hn))
    else:
        n = np.tanh(xn + W_hn @ (r * h) + b_hn)
    return ((1 - z) * n + z * h,)


def run(step, x, init, mask=None, reverse=False, **weights):
    """Loop ``step`` over x (time, batch, input) one sequence and one step at a time.

    A masked step keeps the state and repeats the previous state as output.
    Returns (outputs (time, batch, out), final states).
    """
    T, B = x.shape[:2]
    outputs = np.zeros((T, B, init[0].shape[1]))
    finals = [np.zeros_like(s) for s in init]
    for b in range(B):
        state = tuple(s[b] for s in init)
        for t in (reversed(range(T)) if reverse else range(T)):
            if mask is None or mask[t, b]:
                state = step(x[t, b], state, **weights)
            outputs[t, b] = state[0]
        for k, s in enumerate(state):
            finals[k][b] = s
    return outputs, finals
