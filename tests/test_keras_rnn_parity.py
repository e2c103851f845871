"""rnnkit.keras recurrent layers equal Keras 3 (JAX back end) with copied weights.

A randomized grid (fixed seed) over cell type, units, return_sequences, return_state,
go_backwards, masks (with a fully masked row), initial_state, use_bias,
unit_forget_bias, reset_after, stateful calls, Bidirectional merge modes and stacked
layers. Outputs and states: float32 max abs error <= 1e-5.
"""
import itertools
import random

import numpy as np
import pytest

import rnnkit
from rnnkit.keras import layers as L

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

B, T, D = 3, 6, 4
TOL = 1e-5


@pytest.fixture(autouse=True)
def _backends(each_backend):
    return each_backend


def flat(xs):
    xs = xs if isinstance(xs, (list, tuple)) else [xs]
    return [v for x in xs for v in (flat(x) if isinstance(x, (list, tuple)) else [x])]


def assert_same(theirs, ours):
    theirs, ours = flat(theirs), flat(ours)
    assert len(theirs) == len(ours)
    for a, b in zip(theirs, ours):
        assert tuple(a.shape) == tuple(b.shape)
        assert np.abs(np.asarray(a) - np.asarray(b)).max() <= TOL


def data(seed, masked):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    mask = None
    if masked:
        mask = rng.random((B, T)) > 0.3
        mask[-1] = False           # a fully masked sequence
    return rng, x, mask


def pair(kind, units, **kw):
    return getattr(keras.layers, kind)(units, **kw), getattr(L, kind)(units, **kw)


KINDS = [("SimpleRNN", {}), ("LSTM", {}), ("LSTM", {"unit_forget_bias": False}),
         ("GRU", {}), ("GRU", {"reset_after": False})]
GRID = list(itertools.product(range(len(KINDS)), [1, 4], [False, True], [False, True],
                              [False, True], [False, True], [False, True], [True, False]))
CASES = random.Random(5).sample(GRID, 96)


@pytest.mark.parametrize("k,units,seq,state,back,masked,init,bias", CASES)
def test_recurrent_layer_equals_keras(k, units, seq, state, back, masked, init, bias):
    kind, extra = KINDS[k]
    rng, x, mask = data(k * 100 + units, masked)
    kw = dict(return_sequences=seq, return_state=state, go_backwards=back, use_bias=bias,
              **extra)
    theirs, ours = pair(kind, units, **kw)
    n_states = 2 if kind == "LSTM" else 1
    initial = ([rng.normal(size=(B, units)).astype(np.float32) for _ in range(n_states)]
               if init else None)
    call = dict(mask=mask, initial_state=initial)
    t_out = theirs(x, **call)
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    assert_same(t_out, ours(x, **call))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("seq,state", [(False, False), (True, False), (True, True)])
def test_bidirectional_equals_keras(merge_mode, kind, seq, state):
    _, x, mask = data(7, True)
    theirs = keras.layers.Bidirectional(
        getattr(keras.layers, kind)(3, return_sequences=seq, return_state=state),
        merge_mode=merge_mode)
    ours = L.Bidirectional(getattr(L, kind)(3, return_sequences=seq, return_state=state),
                           merge_mode=merge_mode)
    t_out = theirs(x, mask=mask)
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    assert_same(t_out, ours(x, mask=mask))
    with rnnkit.no_grad():      # no graph: each direction writes its half of the output
        assert_same(t_out, ours(x, mask=mask))


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_stateful_calls_carry_state_like_keras(kind):
    _, x, _ = data(11, False)
    theirs, ours = pair(kind, 4, stateful=True, return_sequences=True)
    t1 = theirs(x)
    ours(x)
    ours.reset_state()
    ours.set_weights(theirs.get_weights())
    assert_same(t1, ours(x))
    assert_same(theirs(x), ours(x))              # the second call starts from the first's end
    theirs.reset_state()
    ours.reset_state()
    assert_same(theirs(x), ours(x))


def test_stacked_layers_and_stacked_cells_equal_keras():
    _, x, mask = data(13, True)
    k_cells = keras.layers.RNN([keras.layers.LSTMCell(3), keras.layers.GRUCell(4),
                                keras.layers.SimpleRNNCell(2)], return_sequences=True,
                               return_state=True)
    o_cells = L.RNN([L.LSTMCell(3), L.GRUCell(4), L.SimpleRNNCell(2)], return_sequences=True,
                    return_state=True)
    t_out = k_cells(x, mask=mask)
    o_cells(x[:1])
    o_cells.set_weights(k_cells.get_weights())
    assert_same(t_out, o_cells(x, mask=mask))

    k1, o1 = pair("LSTM", 5, return_sequences=True)
    k2, o2 = pair("GRU", 3)
    t = k2(k1(x, mask=mask), mask=mask)
    o2(o1(x[:1]))
    o1.set_weights(k1.get_weights())
    o2.set_weights(k2.get_weights())
    assert_same(t, o2(o1(x, mask=mask), mask=mask))


def test_zero_output_for_mask_zeroes_masked_steps():
    _, x, mask = data(17, True)
    theirs, ours = pair("GRU", 3, return_sequences=True, zero_output_for_mask=True)
    t = theirs(x, mask=mask)
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    assert_same(t, ours(x, mask=mask))


def test_layer_called_on_numpy_prints_the_tutorial_shapes():
    train_X = np.random.default_rng(0).random((1, 4, 5)).astype(np.float32)
    assert L.SimpleRNN(3)(train_X).shape == (1, 3)
    assert L.SimpleRNN(3, return_sequences=True)(train_X).shape == (1, 4, 3)
    hidden_states, last_state = L.SimpleRNN(3, return_sequences=True,
                                            return_state=True)(train_X)
    assert (hidden_states.shape, last_state.shape) == ((1, 4, 3), (1, 3))
    hidden_state, last_state, last_cell = L.LSTM(3, return_state=True)(train_X)
    assert (hidden_state.shape, last_state.shape, last_cell.shape) == ((1, 3),) * 3
    out = L.Bidirectional(L.LSTM(3, return_sequences=True, return_state=True))(train_X)
    assert [o.shape for o in out] == [(1, 4, 6), (1, 3), (1, 3), (1, 3), (1, 3)]
