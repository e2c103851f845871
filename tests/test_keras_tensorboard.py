"""keras.callbacks.TensorBoard writes what Keras 3's callback writes (its tags, steps and
directories, from keras/src/callbacks/tensorboard.py), read back by TensorBoard's own
reader (EventAccumulator) and, for the model graph, by TensorBoard's Keras graph code."""
import json

import numpy as np
import pytest

import rnnkit.keras as rk
from rnnkit.keras import callbacks as C

pytest.importorskip("tensorboardX")
ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EPOCHS, N, BATCH = 3, 24, 8          # 3 batches of 8 per epoch (no validation split)


def model():
    L = rk.layers
    m = rk.Sequential([rk.Input(shape=(5, 3)), L.SimpleRNN(4, name="rnn"),
                       L.Dense(1, activation="sigmoid", name="out")])
    m.compile(rk.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return m


def data(n=N):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5, 3)).astype("float32")
    return x, (x[:, -1, 0] > 0).astype("float32")


def read(directory):
    acc = ea.EventAccumulator(str(directory), size_guidance={"scalars": 0, "histograms": 0,
                                                             "tensors": 0})
    acc.Reload()
    return acc


def series(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def fit(m, tensorboard, validation=True, record=None):
    x, y = data()
    extra = [] if record is None else [record]
    return m.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0, shuffle=False,
                 validation_data=(x[:8], y[:8]) if validation else None,
                 callbacks=[tensorboard] + extra)


def test_epoch_logs_go_to_train_and_validation_under_keras_tags(tmp_path):
    m = model()
    h = fit(m, C.TensorBoard(tmp_path, write_graph=False))
    train, val = read(tmp_path / "train"), read(tmp_path / "validation")
    assert sorted(train.Tags()["scalars"]) == ["epoch_accuracy", "epoch_learning_rate",
                                               "epoch_loss"]
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(series(train, f"epoch_{key}"),
                                   list(enumerate(h.history[key])), rtol=1e-6)
        np.testing.assert_allclose(series(val, f"epoch_{key}"),
                                   list(enumerate(h.history[f"val_{key}"])), rtol=1e-6)
    np.testing.assert_allclose(series(train, "epoch_learning_rate"),
                               [(e, 0.01) for e in range(EPOCHS)], rtol=1e-6)


def test_each_evaluation_is_logged_against_the_optimizer_iterations(tmp_path):
    m = model()
    h = fit(m, C.TensorBoard(tmp_path, write_graph=False))
    val = read(tmp_path / "validation")
    steps = N // BATCH
    np.testing.assert_allclose(series(val, "evaluation_loss_vs_iterations"),
                               [(steps * (e + 1), v) for e, v in
                                enumerate(h.history["val_loss"])], rtol=1e-6)


def test_without_validation_no_validation_run_is_written(tmp_path):
    fit(model(), C.TensorBoard(tmp_path, write_graph=False), validation=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train"]


def test_update_freq_n_logs_every_nth_batch_at_the_global_batch_count(tmp_path):
    seen = []
    record = C.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    fit(model(), C.TensorBoard(tmp_path, update_freq=2, write_graph=False), record=record)
    train = read(tmp_path / "train")
    # batches are counted across epochs from 1: 3 per epoch, so 2, 4, 6, 8 of 9
    np.testing.assert_allclose(series(train, "batch_loss"),
                               [(k, seen[k - 1]) for k in (2, 4, 6, 8)], rtol=1e-6)
    assert [s for s, _ in series(train, "batch_accuracy")] == [2, 4, 6, 8]


def test_update_freq_batch_means_every_batch(tmp_path):
    fit(model(), C.TensorBoard(tmp_path, update_freq="batch", write_graph=False))
    steps = [s for s, _ in series(read(tmp_path / "train"), "batch_loss")]
    assert steps == list(range(1, EPOCHS * N // BATCH + 1))


def test_histograms_of_every_weight_every_histogram_freq_epochs(tmp_path):
    m = model()
    fit(m, C.TensorBoard(tmp_path, histogram_freq=2, write_graph=False))
    train = read(tmp_path / "train")
    paths = [w.path for layer in m.layers for w in layer.weights]
    assert sorted(train.Tags()["histograms"]) == sorted(f"{p}/histogram" for p in paths)
    kernel = m.layers[1].weights[0]
    events = train.Histograms(f"{kernel.path}/histogram")
    assert [e.step for e in events] == [0, 2]          # epochs 0 and 2 of 0, 1, 2
    last = events[-1].histogram_value                  # written after the last epoch
    w = kernel.numpy().astype(np.float64)
    assert last.num == w.size
    np.testing.assert_allclose([last.min, last.max, last.sum], [w.min(), w.max(), w.sum()],
                               rtol=1e-6)


def test_steps_per_second_is_logged_when_asked(tmp_path):
    fit(model(), C.TensorBoard(tmp_path, write_steps_per_second=True, write_graph=False))
    rates = series(read(tmp_path / "train"), "epoch_steps_per_second")
    assert [s for s, _ in rates] == [0, 1, 2] and all(v > 0 for _, v in rates)


def test_write_graph_gives_tensorboard_a_keras_model_it_can_draw(tmp_path):
    keras_util = pytest.importorskip("tensorboard.plugins.graph.keras_util")
    m = model()
    fit(m, C.TensorBoard(tmp_path))
    train = read(tmp_path / "train")
    assert train.Tags()["tensors"] == ["keras"]
    event = train.Tensors("keras")[0]
    assert event.step == 0
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    doc = json.loads(event.tensor_proto.string_val[0])
    assert doc["class_name"] == "Sequential"
    nodes = {n.name: n for n in keras_util.keras_model_to_graph_def(doc).node}
    rnn, out = nodes[f"{m.name}/rnn"], nodes[f"{m.name}/out"]
    assert list(out.input) == [f"{m.name}/rnn"]
    assert (rnn.attr["keras_class"].s, out.attr["keras_class"].s) == (b"SimpleRNN", b"Dense")


@pytest.mark.parametrize("option", [dict(write_images=True), dict(profile_batch=2),
                                    dict(embeddings_freq=1),
                                    dict(embeddings_metadata="meta.tsv")])
def test_options_that_need_tensorflow_are_refused_by_name(tmp_path, option):
    (name, value), = option.items()
    with pytest.raises(ValueError, match=f"{name}={value!r} is not supported"):
        C.TensorBoard(tmp_path, **option)


@pytest.mark.parametrize("option, message", [
    (dict(update_freq="sometimes"), "update_freq must be 'epoch', 'batch' or a positive"),
    (dict(update_freq=0), "update_freq must be"),
    (dict(histogram_freq=-1), "histogram_freq must be an integer >= 0"),
])
def test_bad_frequencies_are_named(tmp_path, option, message):
    with pytest.raises(ValueError, match=message):
        C.TensorBoard(tmp_path, **option)
