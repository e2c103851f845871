"""Every kernel option's BPTT equals central finite differences (float64, rel. err <= 1e-6).

Gradients are checked for the input sequence, the initial states and every weight and
bias, in both directions, with masks and lengths, with the LSTM projection, both GRU forms,
the relu RNN, and Keras's alternative gate activations.
"""
import numpy as np
import pytest

from rnnkit import recurrent as R

from gradcheck import gradcheck


@pytest.fixture(autouse=True)
def _backends(each_backend):
    """Every test here runs on each kernel backend (NumPy reference and numba)."""
    return each_backend


T, B, D, H, P = 5, 3, 2, 4, 3
MASK = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=bool)
LENGTHS = np.array([5, 2, 0])


def arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(scale=0.6, size=s) for s in shapes]


def masking(kind):
    return {"none": {}, "mask": {"mask": MASK}, "lengths": {"lengths": LENGTHS},
            "zeroed": {"mask": MASK, "zero_masked_outputs": True}}[kind]


DIRECTIONS = [False, True]
MASKINGS = ["none", "mask", "lengths", "zeroed"]


@pytest.mark.parametrize("reverse", DIRECTIONS)
@pytest.mark.parametrize("masked", MASKINGS)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_bptt(reverse, masked, nonlinearity):
    inputs = arrays(1, (T, B, D), (B, H), (H, D), (H, H), (H,), (H,))
    opts = dict(nonlinearity=nonlinearity, reverse=reverse, **masking(masked))
    gradcheck(lambda x, h0, *w: R.rnn(x, h0, *w, **opts), inputs)


@pytest.mark.parametrize("reverse", DIRECTIONS)
@pytest.mark.parametrize("masked", MASKINGS)
@pytest.mark.parametrize("proj", [False, True])
def test_lstm_bptt(reverse, masked, proj):
    out = P if proj else H
    shapes = [(T, B, D), (B, out), (B, H), (4 * H, D), (4 * H, out), (4 * H,), (4 * H,)]
    if proj:
        shapes.append((P, H))
    opts = dict(reverse=reverse, **masking(masked))
    gradcheck(lambda x, h0, c0, *w: R.lstm(x, h0, c0, *w, **opts), arrays(2, *shapes))


@pytest.mark.parametrize("reverse", DIRECTIONS)
@pytest.mark.parametrize("masked", MASKINGS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_bptt(reverse, masked, reset_after):
    inputs = arrays(3, (T, B, D), (B, H), (3 * H, D), (3 * H, H), (3 * H,), (3 * H,))
    opts = dict(reset_after=reset_after, reverse=reverse, **masking(masked))
    gradcheck(lambda x, h0, *w: R.gru(x, h0, *w, **opts), inputs)


@pytest.mark.parametrize("op", ["rnn", "lstm", "gru"])
def test_bptt_without_biases_or_initial_state(op):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[op]
    inputs = arrays(4, (T, B, D), (G * H, D), (G * H, H))
    if op == "lstm":
        fn = lambda x, wi, wh: R.lstm(x, None, None, wi, wh)  # noqa: E731
    else:
        fn = lambda x, wi, wh: getattr(R, op)(x, None, wi, wh)  # noqa: E731
    gradcheck(fn, inputs)


@pytest.mark.parametrize("act", ["sigmoid", "hard_sigmoid", "linear", "relu"])
def test_lstm_and_gru_bptt_with_other_activations(act):
    # Small weights keep hard_sigmoid and relu away from their kinks.
    rng = np.random.default_rng(5)
    small = lambda *s: rng.normal(scale=0.3, size=s)  # noqa: E731
    lstm_in = [small(T, B, D), small(4 * H, D), small(4 * H, H), small(4 * H)]
    gradcheck(lambda x, wi, wh, b: R.lstm(x, None, None, wi, wh, b, activation="tanh",
                                          recurrent_activation=act), lstm_in)
    gru_in = [small(T, B, D), small(3 * H, D), small(3 * H, H), small(3 * H)]
    gradcheck(lambda x, wi, wh, b: R.gru(x, None, wi, wh, b, activation=act
                                         if act != "hard_sigmoid" else "tanh",
                                         recurrent_activation=act), gru_in)
