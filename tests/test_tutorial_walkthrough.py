"""The tutorials' step-by-step NumPy RNN (seeds 000 and 004) equals the core RNN op."""
import numpy as np

from rnnkit import recurrent as R


def test_numpy_walkthrough_equals_core_rnn():
    timesteps, input_dim, hidden_units = 10, 4, 8
    rng = np.random.default_rng(0)
    inputs = rng.random((timesteps, input_dim))
    Wx = rng.random((hidden_units, input_dim))
    Wh = rng.random((hidden_units, hidden_units))
    b = rng.random((hidden_units,))

    # The tutorial's loop, verbatim in spirit: h_t = tanh(Wx x_t + Wh h_{t-1} + b)
    hidden_state = np.zeros((hidden_units,))
    hidden_state_list = []
    for input_t in inputs:
        hidden_state = np.tanh(np.dot(Wx, input_t) + np.dot(Wh, hidden_state) + b)
        hidden_state_list.append(hidden_state)
    expected = np.stack(hidden_state_list, axis=0)           # (10, 8)

    out, h_n = R.rnn(inputs[:, None, :], None, Wx, Wh, b)   # batch of one: (10, 1, 4)
    assert out.shape == (10, 1, 8) and h_n.shape == (1, 8)
    np.testing.assert_allclose(out.numpy()[:, 0], expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h_n.numpy()[0], expected[-1], rtol=0, atol=1e-14)
