"""The fused kernels equal the slow step-by-step reference for every option (float64)."""
import numpy as np
import pytest

import rnnkit
from rnnkit import recurrent as R

import reference as ref


@pytest.fixture(autouse=True)
def _backends(each_backend):
    """Every test here runs on each kernel backend (NumPy reference and numba)."""
    return each_backend


T, B, D, H, P = 6, 4, 3, 5, 2


def weights(rng, gates, hidden_in=H):
    return dict(w_ih=rng.normal(size=(gates * H, D)), w_hh=rng.normal(size=(gates * H, hidden_in)),
                b_ih=rng.normal(size=gates * H), b_hh=rng.normal(size=gates * H))


def masks(rng):
    mask = rng.random((T, B)) > 0.3
    mask[:, 0] = False  # a fully masked sequence keeps its initial state
    return mask


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_reference(reverse, masked, nonlinearity):
    rng = np.random.default_rng(1)
    x, h0, w = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), weights(rng, 1)
    mask = masks(rng) if masked else None
    out, h_n = R.rnn(x, h0, **w, nonlinearity=nonlinearity, reverse=reverse, mask=mask)
    ref_out, (ref_h,) = ref.run(ref.step_rnn, x, (h0,), mask, reverse, **w,
                                nonlinearity=nonlinearity)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), ref_h, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("proj", [False, True])
def test_lstm_matches_reference(reverse, masked, proj):
    rng = np.random.default_rng(2)
    w = weights(rng, 4, P if proj else H)
    w_hr = rng.normal(size=(P, H)) if proj else None
    x, mask = rng.normal(size=(T, B, D)), masks(rng) if masked else None
    h0, c0 = rng.normal(size=(B, P if proj else H)), rng.normal(size=(B, H))
    out, h_n, c_n = R.lstm(x, h0, c0, **w, w_hr=w_hr, reverse=reverse, mask=mask)
    ref_out, (ref_h, ref_c) = ref.run(ref.step_lstm, x, (h0, c0), mask, reverse, **w, w_hr=w_hr)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), ref_h, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), ref_c, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_reference(reverse, masked, reset_after):
    rng = np.random.default_rng(3)
    x, h0, w = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), weights(rng, 3)
    mask = masks(rng) if masked else None
    out, h_n = R.gru(x, h0, **w, reset_after=reset_after, reverse=reverse, mask=mask)
    ref_out, (ref_h,) = ref.run(ref.step_gru, x, (h0,), mask, reverse, **w,
                                reset_after=reset_after)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), ref_h, atol=1e-12)


def test_lengths_equal_the_prefix_mask():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(T, B, D)), weights(rng, 3)
    lengths = np.array([6, 1, 0, 3])
    mask = np.arange(T)[:, None] < lengths
    by_len = R.gru(x, None, **w, lengths=lengths)
    by_mask = R.gru(x, None, **w, mask=mask)
    for a, b in zip(by_len, by_mask):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_zero_masked_outputs_zeroes_padding_only():
    rng = np.random.default_rng(5)
    x, h0, w = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), weights(rng, 1)
    mask = masks(rng)
    carried, _ = R.rnn(x, h0, **w, mask=mask)
    zeroed, _ = R.rnn(x, h0, **w, mask=mask, zero_masked_outputs=True)
    np.testing.assert_array_equal(zeroed.numpy(), carried.numpy() * mask[:, :, None])


def test_missing_initial_state_means_zeros():
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=(T, B, D)), weights(rng, 4)
    a = R.lstm(x, None, None, **w)
    b = R.lstm(x, np.zeros((B, H)), np.zeros((B, H)), **w)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_float32_stays_float32():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(T, B, D)).astype(np.float32)
    w = {k: v.astype(np.float32) for k, v in weights(rng, 4).items()}
    xt = rnnkit.tensor(x, requires_grad=True)
    out, h, c = R.lstm(xt, None, None, **w)
    assert out.dtype == h.dtype == c.dtype == np.float32
    (out.sum() + c.sum()).backward()
    assert xt.grad.dtype == np.float32


@pytest.mark.parametrize("shape", [(0, 2, 3), (4, 0, 3)])
def test_empty_time_or_batch_is_a_clear_error(shape):
    w = weights(np.random.default_rng(8), 1)
    with pytest.raises(ValueError, match="time and batch must both be >= 1"):
        R.rnn(np.zeros(shape), None, **w)


def test_mismatched_initial_state_names_the_argument():
    rng = np.random.default_rng(9)
    with pytest.raises(ValueError, match=r"h0 has shape \(2, 5\), expected"):
        R.gru(rng.normal(size=(T, B, D)), np.zeros((2, H)), **weights(rng, 3))


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_numpy_loop_equals_the_step_reference_at_the_edges(each_backend, monkeypatch,
                                                                steps, batch, reverse):
    """The NumPy backend's own LSTM loop (``lstm_loop``) against the per-step cell run by
    the shared scan: one or two steps, batch 1, a sequence of length 0; outputs, final
    states and every gradient."""
    if each_backend != "numpy":
        pytest.skip("the NumPy loop")
    from rnnkit.recurrent.lstm import LSTMCell

    rng = np.random.default_rng(4)
    arrays = dict(x=rng.normal(size=(steps, batch, D)), h0=rng.normal(size=(batch, H)),
                  c0=rng.normal(size=(batch, H)), **weights(rng, 4))
    lengths = np.arange(batch) % (steps + 1)          # includes a sequence of length 0

    def run():
        p = {k: rnnkit.tensor(v, requires_grad=True) for k, v in arrays.items()}
        out, h_n, c_n = R.lstm(p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"],
                               p["b_hh"], reverse=reverse, lengths=lengths)
        ((out * out).sum() + (h_n * c_n).sum()).backward()
        return [out.numpy(), h_n.numpy(), c_n.numpy()] + [p[k].grad.numpy() for k in p]

    ours = run()
    monkeypatch.setattr(LSTMCell, "own_loop", lambda self: False)
    for a, b in zip(ours, run()):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("steps", [7, 9])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_lstm_numpy_loop_equals_the_step_reference_across_chunks(each_backend, monkeypatch,
                                                                 steps, reverse, padded):
    """``lstm_loop``'s backward works a chunk of steps at a time (its buffers, and the
    gradients passed from one chunk to the next): with chunks of 3 steps, sequences of
    7 (a short chunk first) and 9 (whole chunks) steps, padded or not, equal the
    per-step reference in outputs, final states and every gradient."""
    if each_backend != "numpy":
        pytest.skip("the NumPy loop")
    from rnnkit.recurrent import lstm_loop
    from rnnkit.recurrent.lstm import LSTMCell

    monkeypatch.setattr(lstm_loop, "_chunk", lambda hidden, batch: 3)
    rng = np.random.default_rng(5)
    arrays = dict(x=rng.normal(size=(steps, B, D)), h0=rng.normal(size=(B, H)),
                  c0=rng.normal(size=(B, H)), **weights(rng, 4))
    lengths = np.array([steps, steps - 3, 0, 4]) if padded else None
    d_out = rng.normal(size=(steps, B, H))

    def run():
        p = {k: rnnkit.tensor(v, requires_grad=True) for k, v in arrays.items()}
        out, h_n, c_n = R.lstm(p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"],
                               p["b_hh"], reverse=reverse, lengths=lengths)
        ((out * rnnkit.tensor(d_out)).sum() + (h_n * c_n).sum()).backward()
        return [out.numpy(), h_n.numpy(), c_n.numpy()] + [p[k].grad.numpy() for k in p]

    ours = run()
    monkeypatch.setattr(LSTMCell, "own_loop", lambda self: False)
    for a, b in zip(ours, run()):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("mode", ["rnn", "lstm", "gru"])
def test_an_input_without_grad_gets_none_and_the_weights_the_same_gradients(mode,
                                                                           monkeypatch):
    """Backward skips the input's gradient (a GEMM over every step) when x does not
    require grad: that product is not computed, x.grad stays None, and every other
    gradient is what it is when x does require grad."""
    from rnnkit.recurrent import _proj

    products = []

    def spy(a, b, out=None):
        products.append((a.shape, b.shape))
        return np.dot(a, b, out=out)

    monkeypatch.setattr(_proj, "matmul", spy)
    rng = np.random.default_rng(6)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[mode]
    x = rng.normal(size=(T, B, D))
    w = weights(rng, gates)
    states = [rng.normal(size=(B, H)) for _ in range(2 if mode == "lstm" else 1)]

    def grads(x_needs_grad):
        xt = rnnkit.tensor(x, requires_grad=x_needs_grad)
        p = {k: rnnkit.tensor(v, requires_grad=True) for k, v in w.items()}
        s = [rnnkit.tensor(v, requires_grad=True) for v in states]
        out = getattr(R, mode)(xt, *s, **p)[0]
        products.clear()
        (out * out).sum().backward()
        return xt.grad, [p[k].grad.numpy() for k in p] + [v.grad.numpy() for v in s]

    def input_products():   # (T*B, G) @ (G, D): the input's gradient
        return sum(b[1] == D and a[0] == T * B for a, b in products)

    dx_with, with_x = grads(True)
    assert dx_with is not None and input_products() == 1
    dx_without, without_x = grads(False)
    assert dx_without is None and input_products() == 0
    for a, b in zip(with_x, without_x):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("steps", [1, 7])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gru_numpy_inference_loop_equals_the_step_reference(each_backend, monkeypatch,
                                                            steps, batch, reverse, bias):
    """The NumPy backend's own GRU inference loop (``gru_loop``, under no_grad) against
    the per-step cell run by the shared scan: padded sequences (one of length 0), either
    direction, with and without biases; outputs and final state to 1e-12."""
    if each_backend != "numpy":
        pytest.skip("the NumPy loop")
    from rnnkit.recurrent.gru import GRUCell

    rng = np.random.default_rng(7)
    w = weights(rng, 3)
    if not bias:
        w["b_ih"] = w["b_hh"] = None
    x, h0 = rng.normal(size=(steps, batch, D)), rng.normal(size=(batch, H))
    lengths = np.arange(batch) % (steps + 1)

    def run():
        with rnnkit.no_grad():
            out, h_n = R.gru(x, h0, **w, reverse=reverse, lengths=lengths)
        return out.numpy(), h_n.numpy()

    calls = []
    monkeypatch.setattr(GRUCell, "loop_infer",
                        lambda self, *a, _f=GRUCell.loop_infer: calls.append(1) or _f(self, *a))
    ours = run()
    assert calls, "the GRU's own inference loop did not run"
    monkeypatch.setattr(GRUCell, "own_infer", lambda self: False)
    for a, b in zip(ours, run()):
        np.testing.assert_allclose(a, b, atol=1e-12)
