"""Buffer lifetimes around the recurrent ops: graphs alive together, graphs backed twice,
and the NumPy loops' reused scratch (``rnnkit.recurrent._workspace``).

The independent source here is the op itself run alone: gradients from a graph that
shared the machine with other graphs, or was backed twice, must equal those from one
clean forward and backward (twice them, for retain_graph), on each backend.
"""
import threading

import numpy as np
import pytest

import rnnkit
from rnnkit import recurrent as R
from rnnkit.recurrent import _workspace

T, B, D, H = 6, 3, 4, 5
OPS = {"rnn": (R.rnn, 1), "lstm": (R.lstm, 4), "gru": (R.gru, 3)}


@pytest.fixture(autouse=True)
def _backends(each_backend):
    return each_backend


def _params(op, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    G = OPS[op][1] * H
    arrays = dict(x=rng.normal(size=(T, B, D)), w_ih=rng.normal(size=(G, D)) * 0.5,
                  w_hh=rng.normal(size=(G, H)) * 0.5, b_ih=rng.normal(size=G) * 0.1,
                  b_hh=rng.normal(size=G) * 0.1)
    return {k: rnnkit.tensor(v.astype(dtype), requires_grad=True) for k, v in arrays.items()}


def _forward(op, p, reverse=False):
    fn = OPS[op][0]
    init = (None, None) if op == "lstm" else (None,)
    out = fn(p["x"], *init, p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], reverse=reverse)
    return (out[0] * out[0]).sum() + out[-1].sum()      # uses the output and a final state


def _grads(p):
    return {k: v.grad.numpy().copy() for k, v in p.items()}


def _alone(op, seed, reverse=False):
    p = _params(op, seed)
    _forward(op, p, reverse).backward()
    return _grads(p)


@pytest.mark.parametrize("op", sorted(OPS))
def test_backward_twice_with_retain_graph_accumulates_the_gradients_twice(op):
    p = _params(op, 0)
    loss = _forward(op, p)
    loss.backward(retain_graph=True)
    loss.backward()
    for k, g in _alone(op, 0).items():
        np.testing.assert_allclose(p[k].grad.numpy(), 2 * g, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("reverse", [False, True])
def test_graphs_alive_together_keep_their_own_buffers(op, reverse):
    """Two graphs of the same shapes: the second forward and backward run while the
    first graph still holds its cache, then the first backward runs."""
    p1, p2 = _params(op, 1), _params(op, 2)
    loss1 = _forward(op, p1, reverse)
    loss2 = _forward(op, p2, reverse)
    loss2.backward()
    _forward(op, _params(op, 3), reverse).backward()     # reuses the scratch loss2 freed
    loss1.backward()
    for p, seed in ((p1, 1), (p2, 2)):
        for k, g in _alone(op, seed, reverse).items():
            np.testing.assert_allclose(p[k].grad.numpy(), g, rtol=1e-12, atol=1e-12)


def test_workspace_gives_back_a_freed_buffer_of_the_same_shape_and_dtype():
    _workspace.empty_cache()
    a = _workspace.take((3, 4), np.float32)
    _workspace.give(a)
    assert _workspace.cached_bytes() == a.nbytes
    assert _workspace.take((3, 4), np.float64) is not a
    assert _workspace.take((4, 3), np.float32) is not a
    assert _workspace.take((3, 4), np.float32) is a
    assert _workspace.cached_bytes() == 0


def test_workspace_keeps_at_most_its_limit_and_empties_on_request(monkeypatch):
    _workspace.empty_cache()
    monkeypatch.setattr(_workspace, "LIMIT", 1000)
    small = [_workspace.take((100,), np.float32) for _ in range(3)]    # 400 bytes each
    _workspace.give(*small)
    assert _workspace.cached_bytes() <= 1000
    _workspace.give(np.empty(2000, np.float32))                      # over the limit alone
    assert _workspace.cached_bytes() <= 1000
    R.empty_cache()
    assert _workspace.cached_bytes() == 0


def test_workspace_is_per_thread():
    _workspace.empty_cache()
    a = _workspace.take((5,), np.float32)
    _workspace.give(a)
    seen = []
    t = threading.Thread(target=lambda: seen.append(_workspace.take((5,), np.float32)))
    t.start()
    t.join()
    assert seen[0] is not a
    assert _workspace.take((5,), np.float32) is a


@pytest.mark.parametrize("op", sorted(OPS))
def test_a_training_step_runs_on_the_previous_steps_buffers(op):
    """A training step's big buffers (the projected gates, state histories, backward's
    factors) come from the workspace and go back to it by the end of backward, so the
    next step runs on the same memory instead of fresh pages (a page fault each)."""
    gates_bytes = T * B * OPS[op][1] * H * 8            # the projected gates, float64
    p = _params(op, 4)
    _forward(op, p).backward()
    _workspace.empty_cache()
    _forward(op, p).backward()
    held = _workspace.cached_bytes()
    assert held >= gates_bytes
    _forward(op, p).backward()
    assert _workspace.cached_bytes() == held             # the same buffers, no new ones


def test_a_lent_buffer_goes_back_when_its_owner_is_collected():
    class Owner:
        pass

    _workspace.empty_cache()
    owner = Owner()
    a = _workspace.lend(owner, (7,), np.float32)
    assert _workspace.cached_bytes() == 0
    del owner
    assert _workspace.cached_bytes() == a.nbytes
    assert _workspace.take((7,), np.float32) is a


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("reverse", [False, True])
def test_out_receives_the_output_even_as_half_of_a_wider_array(op, reverse):
    """out= (what a bidirectional module passes: each direction its half of one array)
    gets exactly the output the op returns without it, and is what it returns."""
    p = {k: rnnkit.tensor(v.numpy()) for k, v in _params(op, 5).items()}
    init = (None, None) if op == "lstm" else (None,)
    args = (p["x"], *init, p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
    fn = OPS[op][0]
    with rnnkit.no_grad():
        plain = fn(*args, reverse=reverse)
        wide = np.zeros((T, B, 2 * H))
        got = fn(*args, reverse=reverse, out=wide[..., H:])
    assert np.shares_memory(got[0].numpy(), wide)
    np.testing.assert_array_equal(wide[..., H:], plain[0].numpy())
    np.testing.assert_array_equal(wide[..., :H], 0)
    for a, b in zip(got[1:], plain[1:]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_out_is_refused_with_a_graph_or_the_wrong_shape():
    p = _params("lstm", 6)
    args = (p["x"], None, None, p["w_ih"], p["w_hh"])
    with pytest.raises(ValueError, match="out= is for runs that record no graph"):
        R.lstm(*args, out=np.empty((T, B, H)))
    with rnnkit.no_grad(), pytest.raises(ValueError, match=r"shape \(6, 3, 5\).*got .*\(6, 3, 4\)"):
        R.lstm(*args, out=np.empty((T, B, H - 1)))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_a_stacked_bidirectional_module_without_a_graph_allocates_about_its_output(mode):
    """Under no_grad, each layer's directions write into one array (the layer below's is
    workspace scratch), so a call's new memory is about its output's size: no output per
    direction and layer, no concatenation (3-4x the output before), whose pages a fresh
    process would fault in again on every call."""
    import tracemalloc

    from rnnkit import nn

    m = getattr(nn, mode)(D, 16, num_layers=2, bidirectional=True).double()
    x = rnnkit.tensor(np.random.default_rng(7).normal(size=(50, 8, D)))
    _workspace.empty_cache()
    with rnnkit.no_grad():
        m(x), m(x)                                # the workspace fills
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            out, _ = m(x)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert peak <= 2 * out.numpy().nbytes


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_a_keras_bidirectional_predict_allocates_about_its_output(kind):
    """The Keras front end the same way: each direction of a Bidirectional layer writes
    its half of the output, and a predict of one batch hands that output back as it is
    (no concatenation of one chunk, no copy of the batch)."""
    import tracemalloc

    from rnnkit import keras

    model = keras.Sequential([keras.layers.Input((50, D)), keras.layers.Bidirectional(
        getattr(keras.layers, kind)(16, return_sequences=True))])
    x = np.random.default_rng(8).normal(size=(8, 50, D)).astype(np.float32)
    _workspace.empty_cache()
    model.predict(x, verbose=0), model.predict(x, verbose=0)    # the workspace fills
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = model.predict(x, verbose=0)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert out.shape == (8, 50, 32)
    assert peak <= 2 * out.nbytes
