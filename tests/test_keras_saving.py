"""model.save / models.load_model: rnnkit's zip of model.json + weights.npz.

A round trip rebuilds the same architecture (names, layers, graph), the same weights and
the same predictions, for Sequential and functional models of every layer kind; a
compiled model comes back compiled with its optimizer state, so training continues
exactly as it would have. The file holds no pickle (its arrays load with
allow_pickle=False), is written atomically, and bad files fail with clear errors."""
import io
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import rnnkit.keras as rk

sys.path.insert(0, os.path.dirname(__file__))
import test_keras_summary as zoo  # noqa: E402  (the same dozen architectures)
from summaries import summary_text  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]

BUILT = [m for m in zoo.MODELS if m is not zoo.unbuilt]


def inputs_for(model, seed=0):
    rng = np.random.default_rng(seed)
    xs = []
    for t in model.inputs:
        shape = [3 if d is None else d for d in t.shape]
        shape = [s if s != 3 or i else 3 for i, s in enumerate(shape)]
        is_index = len(shape) == 2 and any(isinstance(l, rk.layers.Embedding)
                                           for l in model.layers)
        xs.append(rng.integers(0, 100, shape) if is_index
                  else rng.normal(size=shape).astype("float32"))
    return xs if len(xs) > 1 else xs[0]


def as_list(x):
    return x if isinstance(x, list) else [x]


@pytest.mark.parametrize("build", BUILT, ids=lambda f: f.__name__)
def test_round_trip_gives_identical_predictions(build, tmp_path):
    rk.backend.clear_session()
    model = build(rk)
    path = str(tmp_path / "m.rnnkit")
    model.save(path)
    again = rk.models.load_model(path)
    assert type(again) is type(model) and again.name == model.name
    assert [l.name for l in again.layers] == [l.name for l in model.layers]
    assert ([(w.name, w.shape) for w in again.weights]
            == [(w.name, w.shape) for w in model.weights])
    x = inputs_for(model)
    for a, b in zip(as_list(model.predict(x, verbose=0)), as_list(again.predict(x, verbose=0))):
        np.testing.assert_array_equal(a, b)
    assert summary_text(again) == summary_text(model)


def test_the_file_is_json_and_npz_without_pickle(tmp_path):
    rk.backend.clear_session()
    model = zoo.encoder_decoder(rk)
    path = tmp_path / "m.rnnkit"
    model.save(str(path))
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["model.json", "weights.npz"]
        doc = json.loads(z.read("model.json"))
        arrays = np.load(io.BytesIO(z.read("weights.npz")), allow_pickle=False)
        assert all(arrays[k].dtype != object for k in arrays.files)
    assert doc["class_name"] == "Functional"
    assert [w["path"] for w in doc["weights"]] == [w.path for w in model.weights]
    assert len(arrays.files) == len(model.weights)


def test_compiled_model_resumes_training_exactly(tmp_path):
    x, y = np.random.default_rng(1).normal(size=(64, 6, 3)).astype("float32"), None
    y = (x[:, -1, 0] > 0).astype("float32")

    def build():
        rk.backend.clear_session()
        m = rk.Sequential([rk.Input(shape=(6, 3)), rk.layers.LSTM(5),
                           rk.layers.Dense(1, activation="sigmoid")])
        m.compile(rk.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
        return m

    model = build()
    model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    path = str(tmp_path / "m.rnnkit")
    model.save(path)
    again = rk.models.load_model(path)
    assert again.compiled and isinstance(again.optimizer, rk.optimizers.Adam)
    assert again.optimizer.iterations == model.optimizer.iterations == 8
    h1 = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    h2 = again.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert h1.history == h2.history
    assert rk.models.load_model(path, compile=False).compiled is False


def test_save_weights_and_load_weights(tmp_path):
    rk.backend.clear_session()
    a = zoo.bilstm_tagger(rk)
    rk.backend.clear_session()
    b = zoo.bilstm_tagger(rk)
    path = str(tmp_path / "w.weights.npz")
    a.save_weights(path)
    b.load_weights(path)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    with np.load(path, allow_pickle=False) as npz:
        assert list(npz["paths"]) == [w.path for w in a.weights]


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    rk.backend.clear_session()
    model = zoo.tutorial_simple_rnn(rk)
    path = str(tmp_path / "m.rnnkit")
    model.save(path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match="must end in '.rnnkit'"):
        model.save(str(tmp_path / "m.keras"))


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[: len(data) // 2], "not a zip"),
    (lambda data: b"not a zip at all", "not a zip"),
])
def test_corrupt_files_fail_with_a_clear_error(tmp_path, damage, message):
    rk.backend.clear_session()
    path = tmp_path / "m.rnnkit"
    zoo.tutorial_simple_rnn(rk).save(str(path))
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message):
        rk.models.load_model(str(path))


def test_files_needing_pickle_or_missing_parts_are_refused(tmp_path):
    path = tmp_path / "evil.rnnkit"
    buffer = io.BytesIO()
    np.savez(buffer, w0000=np.array([{"a": 1}], dtype=object))
    doc = {"format": "rnnkit.keras.model", "version": 1, "class_name": "Sequential",
           "config": {"layers": []}, "weights": [{"path": "x", "shape": [1]}]}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model.json", json.dumps(doc))
        z.writestr("weights.npz", buffer.getvalue())
    with pytest.raises(ValueError, match="pickle"):
        rk.models.load_model(str(path))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model.json", "{}")
    with pytest.raises(ValueError, match="lacks model.json or weights.npz"):
        rk.models.load_model(str(path))


def test_custom_layers_are_refused_with_their_name(tmp_path):
    class Doubler(rk.layers.Layer):
        def call(self, x):
            return x * 2

    rk.backend.clear_session()
    model = rk.Sequential([rk.Input(shape=(3,)), Doubler(name="doubler")])
    with pytest.raises(ValueError, match="'doubler' of class Doubler"):
        model.save(str(tmp_path / "m.rnnkit"))
    assert os.listdir(tmp_path) == []
