"""Sequential and functional Model: how they are put together, called and refused."""
import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from rnnkit.keras import layers as L
from rnnkit.keras.layer import get_mask

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.fixture(autouse=True)
def fresh_names():
    rk.backend.clear_session()


def test_sequential_builds_from_the_first_layers_input_shape():
    m = rk.Sequential()
    assert not m.built
    m.add(L.SimpleRNN(3, input_shape=(10, 4)))
    assert m.built and m.input_shape == (None, 10, 4) and m.output_shape == (None, 3)
    m.add(L.Dense(2))
    assert [l.name for l in m.layers] == ["simple_rnn", "dense"]   # no InputLayer listed
    assert m.count_params() == 24 + 8


def test_sequential_input_dim_and_input_length_like_the_tutorial():
    m = rk.Sequential([L.SimpleRNN(32, input_length=10, input_dim=4)])
    assert m.input_shape == (None, 10, 4)


def test_pop_removes_the_last_layer_and_rebuilds():
    m = rk.Sequential([rk.Input(shape=(5, 2)), L.LSTM(3), L.Dense(4), L.Dense(1)])
    assert m.pop().name == "dense_1"
    assert m.output_shape == (None, 4) and len(m.layers) == 2


def test_an_unbuilt_sequential_builds_on_its_first_batch():
    m = rk.Sequential([L.Embedding(50, 4), L.GRU(3)])
    out = m(np.ones((2, 7), np.int32))
    assert out.shape == (2, 3) and m.built and m.input_shape == (2, 7)


def test_sequential_calls_propagate_masks_and_gradients():
    m = rk.Sequential([rk.Input(shape=(6,)), L.Embedding(20, 4, mask_zero=True),
                       L.LSTM(3, return_sequences=True)])
    x = np.array([[0, 0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 1]])
    y = m(x)
    np.testing.assert_array_equal(get_mask(y), x != 0)
    y.sum().backward()
    assert all(w.grad is not None for w in m.trainable_weights)


def test_sequential_rejects_multi_output_layers_and_duplicate_names():
    with pytest.raises(ValueError, match="single tensor"):
        rk.Sequential([rk.Input(shape=(3, 2)), L.LSTM(2, return_state=True)])
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        rk.Sequential([L.Dense(2, name="a"), L.Dense(2, name="a")])
    with pytest.raises(ValueError, match="can only be the first"):
        rk.Sequential([L.Dense(2), rk.Input(shape=(3,))])


def test_functional_model_shares_weights_between_calls():
    a, b = rk.Input(shape=(4, 3)), rk.Input(shape=(4, 3))
    rnn = L.GRU(2)
    m = rk.Model([a, b], L.Concatenate()([rnn(a), rnn(b)]))
    assert m.count_params() == rnn.count_params()
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    out = m([x, x]).numpy()
    np.testing.assert_array_equal(out[:, :2], out[:, 2:])


def test_functional_replays_training_to_dropout():
    inp = rk.Input(shape=(100,))
    m = rk.Model(inp, L.Dropout(0.5)(inp))
    x = np.ones((1, 100), np.float32)
    np.testing.assert_array_equal(m(x).numpy(), x)
    rnnkit.manual_seed(0)
    dropped = m(x, training=True).numpy()
    assert (dropped == 0).any() and set(np.unique(dropped)) <= {0.0, 2.0}


def test_get_layer_by_name_or_index():
    inp = rk.Input(shape=(3,), name="x")
    m = rk.Model(inp, L.Dense(2, name="head")(inp))
    assert m.get_layer("head") is m.layers[1] and m.get_layer(index=0).name == "x"
    with pytest.raises(ValueError, match="no layer named 'tail'"):
        m.get_layer("tail")


def test_disconnected_graphs_and_duplicate_names_are_refused():
    a, b = rk.Input(shape=(3,)), rk.Input(shape=(3,))
    with pytest.raises(ValueError, match="graph disconnected"):
        rk.Model(a, L.Dense(1)(b))
    x = rk.Input(shape=(3,))
    with pytest.raises(ValueError, match="two different layers are named 'd'"):
        rk.Model(x, L.Dense(1, name="d")(L.Dense(2, name="d")(x)))
    with pytest.raises(TypeError, match="inputs= and outputs="):
        rk.Model()


def test_wrong_number_of_inputs_is_named():
    a, b = rk.Input(shape=(3,)), rk.Input(shape=(3,))
    m = rk.Model([a, b], L.Concatenate()([a, b]))
    with pytest.raises(ValueError, match="expected 2 input"):
        m(np.zeros((1, 3), np.float32))
