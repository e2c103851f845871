"""rnnkit.keras.optimizers take the same steps as Keras 3's optimizers.

Identical float32 variables and gradient sequences go through a keras optimizer and
rnnkit's; after every step the variables must agree to float32 rounding. Covers each
optimizer's options, clipping (clipnorm, clipvalue, global_clipnorm), weight decay, a
missing gradient (zeros, as on JAX), and a learning rate changed between steps.
"""
import numpy as np
import pytest

from rnnkit.keras import optimizers
from rnnkit.keras.layer import Variable

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

SHAPES = [(4, 3), (3,), (2, 5)]
STEPS = 5

CONFIGS = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.05}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5}), ("RMSprop", {"centered": True}),
    ("RMSprop", {"rho": 0.8, "momentum": 0.3, "centered": True, "epsilon": 1e-5}),
    ("RMSprop", {"weight_decay": 0.05}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("Adam", {"clipnorm": 0.1}),
    ("Adam", {"global_clipnorm": 0.5, "beta_1": 0.8, "beta_2": 0.99}),
    ("AdamW", {}), ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("Adagrad", {}), ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.5}),
]


def data(seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return values, grads


def run_both(name, kwargs, values, grads, between_steps=None):
    theirs_opt = getattr(keras.optimizers, name)(**kwargs)
    ours_opt = getattr(optimizers, name)(**kwargs)
    theirs = [keras.Variable(v) for v in values]
    ours = [Variable(v, f"v{i}", f"v{i}") for i, v in enumerate(values)]
    for step, g in enumerate(grads):
        if between_steps is not None:
            between_steps(step, theirs_opt, ours_opt)
        theirs_opt.apply([keras.ops.convert_to_tensor(x) for x in g], theirs)
        ours_opt.apply(g, ours)
        for a, b in zip(theirs, ours):
            np.testing.assert_allclose(b.data, np.asarray(a), rtol=2e-6, atol=2e-7,
                                       err_msg=f"{name}{kwargs} step {step}")
    return theirs_opt, ours_opt


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}{k}" for n, k in CONFIGS])
def test_steps_equal_keras(name, kwargs):
    values, grads = data()
    run_both(name, kwargs, values, grads)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "Adagrad"])
def test_learning_rate_set_between_steps_equals_keras(name):
    def lower(step, theirs, ours):
        if step == 2:
            theirs.learning_rate = 0.0002
            ours.learning_rate = 0.0002

    values, grads = data(1)
    theirs, ours = run_both(name, {}, values, grads, lower)
    assert ours.learning_rate == pytest.approx(0.0002)
    assert ours.iterations == int(theirs.iterations) == STEPS


def test_missing_gradient_counts_as_zero_like_keras_on_jax():
    values, grads = data(2)
    theirs_opt, ours_opt = keras.optimizers.Adam(), optimizers.Adam()
    theirs = [keras.Variable(v) for v in values]
    ours = [Variable(v, f"v{i}", f"v{i}") for i, v in enumerate(values)]
    for step, g in enumerate(grads):
        missing = [step > 0 and i == 1 for i in range(len(g))]   # v1 unused after step 0
        theirs_opt.apply([keras.ops.convert_to_tensor(np.zeros_like(x) if m else x)
                          for x, m in zip(g, missing)], theirs)
        ours_opt.apply([None if m else x for x, m in zip(g, missing)], ours)
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(b.data, np.asarray(a), rtol=2e-6, atol=2e-7)


def test_optimizer_params_count_like_keras():
    values, grads = data()
    theirs, ours = run_both("Adam", {}, values, grads[:1])
    assert sum(np.size(v) for v in ours.variables) == sum(np.size(v) for v in theirs.variables)


def test_get_by_name_and_config_round_trip():
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    opt = optimizers.SGD(0.3, momentum=0.5, clipnorm=1.0)
    again = optimizers.get(optimizers.serialize(opt))
    assert again.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="only one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="use_ema"):
        optimizers.Adam(use_ema=True)
