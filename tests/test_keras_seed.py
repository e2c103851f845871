"""utils.set_random_seed makes a Keras-style run repeat; rnnkit.keras.__version__."""
import pathlib
import random
import tomllib

import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from rnnkit.random import default_generator

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]


def test_set_random_seed_seeds_python_numpy_and_rnnkit_as_their_own_seed_calls():
    rk.utils.set_random_seed(5)
    got = (random.random(), np.random.rand(), default_generator().random())
    random.seed(5)
    np.random.seed(5)
    want = (random.random(), np.random.rand(), np.random.default_rng(5).random())
    assert got == want


def run(seed):
    """A small training run touching every random draw: initializers, dropout,
    recurrent dropout and the shuffling of arrays."""
    rk.utils.set_random_seed(seed)
    rk.backend.clear_session()
    L = rk.layers
    m = rk.Sequential([rk.Input(shape=(6,)), L.Embedding(30, 4),
                       L.LSTM(5, dropout=0.2, recurrent_dropout=0.3), L.Dropout(0.5),
                       L.Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 30, (40, 6)), rng.integers(0, 2, 40).astype("float32")
    history = m.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0).history
    return m.get_weights(), history["loss"]


def test_set_random_seed_repeats_a_whole_training_run():
    (w1, loss1), (w2, loss2), (w3, loss3) = run(11), run(11), run(12)
    assert loss1 == loss2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert loss3 != loss1


@pytest.mark.keras
def test_set_random_seed_gives_keras_order_to_a_shuffled_pydataset():
    keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
    orders = {}
    for K in (keras, rk):
        order = orders.setdefault(K.__name__, [])

        class Batches(K.utils.PyDataset):
            def __len__(self):
                return 8

            def __getitem__(self, index):
                order.append(index)
                return np.full((2, 3), index, "float32"), np.zeros((2, 1), "float32")

        model = K.Sequential([K.Input(shape=(3,)), K.layers.Dense(1)])
        model.compile("sgd", "mse")
        K.utils.set_random_seed(21)
        model.fit(Batches(), epochs=2, verbose=0)
    assert orders["rnnkit.keras"] == orders["keras"]
    assert orders["keras"][1:9] != list(range(8))


@pytest.mark.parametrize("seed", [1.5, "3", True, -1, 2 ** 32])
def test_set_random_seed_refuses_what_is_not_a_32_bit_integer(seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
        rk.utils.set_random_seed(seed)


def test_keras_version_is_rnnkits_version_from_pyproject():
    pyproject = pathlib.Path(rnnkit.__file__).parent.parent / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert rk.__version__ == rnnkit.__version__ == version
