"""rnnkit.keras Lambda equals Keras 3's (JAX back end): the same Python function gives the
same numbers, gradients and inferred output shapes (None kept unknown); output_shape,
arguments, mask and training behave as in Keras; and a model holding a Lambda refuses
to be saved (rnnkit's model file never holds code) with an error that says what to do,
while its weights save and load."""
import os

import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from rnnkit.keras import layers as L
from rnnkit.keras.layer import get_mask

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
jax = pytest.importorskip("jax", reason="Keras runs on the JAX back end here")

X = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")

# Functions written once, run by both: indexing, arithmetic and reductions read the same
# on rnnkit Tensors and on JAX arrays.
FUNCTIONS = {
    "last_step": lambda x: x[:, -1],
    "every_other_step": lambda x: x[:, ::2],
    "sum_over_time": lambda x: x.sum(1),
    "square_plus_one": lambda x: x * x + 1.0,
}


@pytest.fixture(autouse=True)
def fresh_names():
    rk.backend.clear_session()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_output_equals_keras(name):
    fn = FUNCTIONS[name]
    np.testing.assert_allclose(L.Lambda(fn)(X).numpy(), np.asarray(keras.layers.Lambda(fn)(X)),
                               rtol=1e-6)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (None, 4), (None, None)])
def test_inferred_output_shape_equals_keras(name, shape):
    fn = FUNCTIONS[name]
    ours = L.Lambda(fn)(rk.Input(shape=shape)).shape
    assert ours == keras.layers.Lambda(fn)(keras.Input(shape=shape)).shape


def test_inferred_shape_of_a_list_input_equals_keras():
    def add(xs):
        return xs[0] + xs[1]

    ours = L.Lambda(add)([rk.Input(shape=(None, 3)), rk.Input(shape=(None, 3))])
    theirs = keras.layers.Lambda(add)([keras.Input(shape=(None, 3)), keras.Input(shape=(None, 3))])
    assert ours.shape == theirs.shape == (None, None, 3)


def test_integer_inputs_stay_integers_while_inferring():
    # Indexing rows of a table only works on integers: the trial input keeps the dtype.
    table = rnnkit.Tensor(np.arange(40, dtype="float32").reshape(10, 4))
    out = L.Lambda(lambda ids: table[ids.numpy()])(rk.Input(shape=(7,), dtype="int32"))
    assert out.shape == (None, 7, 4)


@pytest.mark.parametrize("output_shape", [(2, 4), lambda s: (s[0], 2, 4)],
                         ids=["tuple", "function"])
def test_given_output_shape_is_used_as_keras_does(output_shape):
    def build(K):
        return K.Sequential([K.Input(shape=(5, 4)),
                             K.layers.Lambda(lambda x: x[:, :2], output_shape=output_shape)])

    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    assert ours.output_shape == theirs.output_shape == (None, 2, 4)


def test_arguments_are_passed_to_the_function():
    scale = L.Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0})
    np.testing.assert_allclose(scale(X).numpy(), 3 * X)


def test_training_flag_reaches_a_function_that_names_it():
    seen = []

    def record(x, training=None):
        seen.append(training)
        return x

    model = rk.Sequential([rk.Input(shape=(5, 4)), L.Lambda(record)])
    seen.clear()
    model(X, training=True)
    model(X)
    assert seen[0] is True and not seen[1]      # Keras passes None here, rnnkit False


def test_gradient_equals_jax_grad_of_keras():
    fn = FUNCTIONS["square_plus_one"]
    theirs, ours = keras.layers.Lambda(lambda x: fn(x)[:, 1:]), L.Lambda(lambda x: fn(x)[:, 1:])
    upstream = np.random.default_rng(1).normal(size=(3, 4, 4)).astype("float32")
    theirs(X)                                   # stateless_call needs a built layer
    expected = jax.grad(lambda x: jax.numpy.sum(theirs.stateless_call([], [], x)[0] * upstream))(
        jax.numpy.asarray(X))
    x = rnnkit.Tensor(X, requires_grad=True)
    (ours(x) * upstream).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.asarray(expected), rtol=1e-6)


# -- masks -----------------------------------------------------------------------------------
PADDED = np.array([[3, 5, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6], [9, 0, 0, 0, 0, 0]])


@pytest.mark.parametrize("mask", [None, "pass_on"], ids=["no_mask_drops_it", "mask_function"])
def test_mask_argument_decides_what_the_next_layer_sees_like_keras(mask):
    def build(K):
        m = (lambda inputs, previous: previous) if mask else None
        return K.Sequential([K.Input(shape=(6,)), K.layers.Embedding(20, 4, mask_zero=True),
                             K.layers.Lambda(lambda x: x * 2.0, mask=m), K.layers.LSTM(3)])

    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(PADDED, verbose=0),
                               theirs.predict(PADDED, verbose=0), atol=1e-6)


def test_a_fixed_mask_is_attached_to_every_output():
    fixed = np.array([[True, False, True, True, False]] * 3)
    out = L.Lambda(lambda x: x + 1.0, mask=fixed)(X)
    np.testing.assert_array_equal(get_mask(out), fixed)


def test_the_function_sees_the_incoming_mask_when_it_asks_for_it():
    def zero_padding(x, mask=None):
        return x * rnnkit.Tensor(mask[..., None].astype("float32"))

    h = L.Embedding(20, 4, mask_zero=True)(PADDED)
    out = L.Lambda(zero_padding)(h).numpy()
    assert np.all(out[PADDED == 0] == 0) and np.all(out[PADDED != 0] != 0)


# -- saving ------------------------------------------------------------------------------------
def lambda_model():
    return rk.Sequential([rk.Input(shape=(5, 4)), L.LSTM(3, return_sequences=True),
                          L.Lambda(lambda x: x[:, -1]), L.Dense(2)])


def test_saving_a_model_with_a_lambda_names_it_and_says_what_to_do(tmp_path):
    path = tmp_path / "m.rnnkit"
    with pytest.raises(ValueError, match=r"Lambda layer 'lambda' cannot be saved: its function "
                                         r"is Python code.*subclass of Layer.*save_weights"):
        lambda_model().save(str(path))
    assert os.listdir(tmp_path) == []          # nothing written, not even a temporary file


def test_weights_of_a_model_with_a_lambda_save_and_load(tmp_path):
    model, again = lambda_model(), lambda_model()
    path = str(tmp_path / "m.weights.npz")
    model.save_weights(path)
    again.load_weights(path)
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_model_file_naming_a_lambda_is_refused_without_running_anything():
    from rnnkit.keras.models.saving import deserialize_layer

    spec = {"class_name": "Lambda", "config": {"function": "__import__('os').getcwd()"}}
    with pytest.raises(ValueError, match="never reads code"):
        deserialize_layer(spec)


# -- bad arguments -----------------------------------------------------------------------------
def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="Lambda: function must be callable, got 3"):
        L.Lambda(3)
    with pytest.raises(TypeError, match="arguments must be a dict"):
        L.Lambda(lambda x: x, arguments=[1])
    with pytest.raises(ValueError, match="output_shape must be a shape"):
        L.Lambda(lambda x: x, output_shape="wide")


def test_a_shape_that_cannot_be_inferred_asks_for_output_shape():
    def needs_five_steps(x):
        if x.shape[1] != 5:
            raise ValueError("expected 5 steps")
        return x

    with pytest.raises(NotImplementedError, match=r"lambda: could not infer the output shape.*"
                                                  r"expected 5 steps.*pass output_shape="):
        L.Lambda(needs_five_steps)(rk.Input(shape=(None, 4)))
