"""Callbacks behave as Keras 3's: EarlyStopping (patience, restore_best_weights),
ModelCheckpoint (save_best_only, atomic writes), ReduceLROnPlateau, TerminateOnNaN,
CSVLogger's columns, LambdaCallback, History.

Where a callback watches a metric, a scripted LambdaCallback placed before it writes the
value into the epoch logs, so each test states exactly which epochs improve."""
import csv
import os

import numpy as np
import pytest

import rnnkit.keras as rk
from rnnkit.keras import callbacks as C

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def small_model():
    rk.backend.clear_session()
    L = rk.layers
    m = rk.Sequential([rk.Input(shape=(5, 3)), L.SimpleRNN(4), L.Dense(1)])
    m.compile(rk.optimizers.SGD(0.01), "mse", metrics=["mae"])
    return m


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5, 3)).astype("float32")
    return x, x[:, -1, :1] * 0.5


def scripted(key, values, snapshots=None):
    """Writes values[epoch] into logs[key] at each epoch end (and records the weights)."""
    def on_epoch_end(epoch, logs):
        logs[key] = values[epoch]
        if snapshots is not None:
            snapshots.append(model_ref[0].get_weights())
    model_ref = []
    cb = C.LambdaCallback(on_epoch_end=on_epoch_end)
    cb.set_model = lambda m: (model_ref.append(m), setattr(cb, "model", m))
    return cb


def test_history_records_every_epoch_in_sorted_key_order():
    m = small_model()
    x, y = data()
    h = m.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x[:8], y[:8]))
    assert h is m.history and h.epoch == [0, 1, 2]
    assert list(h.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(v) == 3 for v in h.history.values())


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    m = small_model()
    x, y = data()
    snapshots = []
    losses = [5.0, 3.0, 4.0, 3.5, 3.2, 1.0]          # best at epoch 1; patience 3
    es = C.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    h = m.fit(x, y, epochs=6, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[scripted("val_loss", losses, snapshots), es])
    assert h.epoch == [0, 1, 2, 3, 4]                # stopped at epoch 4
    assert es.stopped_epoch == 4 and es.best_epoch == 1 and es.best == 3.0
    for restored, best in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(restored, best)
    assert not all(np.array_equal(a, b) for a, b in zip(snapshots[-1], snapshots[1]))


def test_early_stopping_on_an_accuracy_maximises_it_and_keeps_last_weights():
    m = small_model()
    x, y = data()
    es = C.EarlyStopping(monitor="acc_like", mode="max", patience=1, min_delta=0.1)
    h = m.fit(x, y, epochs=5, batch_size=8, verbose=0,
              callbacks=[scripted("acc_like", [0.5, 0.55, 0.58, 0.9, 0.95]), es])
    assert h.epoch == [0, 1]         # +0.05 is below min_delta: no improvement at epoch 1


@pytest.mark.keras
def test_early_stopping_decisions_equal_keras():
    keras = pytest.importorskip("keras")
    series = [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.88]

    def stops(module, model):
        es = module.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=0.01)
        es.set_model(model)
        es.on_train_begin()
        for epoch, v in enumerate(series):
            es.on_epoch_end(epoch, {"val_loss": v})
            if model.stop_training:
                return epoch, es.best
        return None, es.best

    theirs = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    theirs.stop_training = False
    ours = small_model()
    ours.stop_training = False
    assert stops(rk, ours) == stops(keras, theirs)


def test_model_checkpoint_save_best_only_writes_only_improvements(tmp_path):
    m = small_model()
    x, y = data()
    path = tmp_path / "best.rnnkit"
    snapshots, writes = [], []
    ckpt = C.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    real_save = m.save
    m.save = lambda p, overwrite=True: (writes.append(p), real_save(p, overwrite))
    m.fit(x, y, epochs=4, batch_size=8, verbose=0, validation_data=(x, y),
          callbacks=[scripted("val_loss", [2.0, 1.0, 1.5, 1.2], snapshots), ckpt])
    assert len(writes) == 2                           # epochs 0 and 1 improve
    best = rk.models.load_model(str(path))
    for a, b in zip(best.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)
    assert sorted(os.listdir(tmp_path)) == ["best.rnnkit"]       # no temporary files left


def test_model_checkpoint_fills_the_path_and_saves_weights_only(tmp_path):
    m = small_model()
    x, y = data()
    pattern = str(tmp_path / "w-{epoch:02d}-{loss:.3f}.weights.npz")
    m.fit(x, y, epochs=2, batch_size=8, verbose=0,
          callbacks=[C.ModelCheckpoint(pattern, save_weights_only=True, monitor="loss")])
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2 and names[0].startswith("w-01-") and names[1].startswith("w-02-")
    other = small_model()
    other.load_weights(str(tmp_path / names[1]))
    for a, b in zip(other.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=".weights.npz"):
        C.ModelCheckpoint(str(tmp_path / "x.rnnkit"), save_weights_only=True)
    with pytest.raises(ValueError, match=".rnnkit"):
        C.ModelCheckpoint(str(tmp_path / "x.keras"))


def test_model_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    m = small_model()
    x, y = data()
    path = tmp_path / "model.rnnkit"
    m.save(str(path))
    before = path.read_bytes()
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[C.ModelCheckpoint(str(path), monitor="loss")])
    assert path.read_bytes() == before                # the old checkpoint is intact
    assert sorted(os.listdir(tmp_path)) == ["model.rnnkit"]


def test_reduce_lr_on_plateau_lowers_the_rate_after_patience():
    m = small_model()
    x, y = data()
    cb = C.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=1,
                             min_lr=0.002)
    h = m.fit(x, y, epochs=8, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[scripted("val_loss", [1.0] * 8), cb])
    # Logged before the epoch's decision; halved after epochs 2, 4 and 6 (two epochs of
    # patience, the cooldown epoch counting as one of them), floored at min_lr.
    np.testing.assert_allclose(h.history["learning_rate"],
                               [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002])
    assert m.optimizer.learning_rate == pytest.approx(0.002)


@pytest.mark.keras
def test_reduce_lr_on_plateau_decisions_equal_keras():
    keras = pytest.importorskip("keras")
    series = [1.0, 0.8, 0.8, 0.79995, 0.9, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7, 0.7]

    def rates(module, model):
        cb = module.callbacks.ReduceLROnPlateau(factor=0.3, patience=2, cooldown=2,
                                                min_lr=1e-4, min_delta=1e-3)
        cb.set_model(model)
        cb.on_train_begin()
        out = []
        for epoch, v in enumerate(series):
            cb.on_epoch_end(epoch, {"val_loss": v})
            out.append(float(model.optimizer.learning_rate))
        return out

    theirs = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    theirs.compile(keras.optimizers.SGD(0.01), "mse")
    np.testing.assert_allclose(rates(rk, small_model()), rates(keras, theirs), rtol=1e-6)


def test_terminate_on_nan_stops_at_the_first_bad_batch():
    m = small_model()
    x, y = data()
    x[8:16] = np.nan                                  # the second batch
    seen = []
    cb = C.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    h = m.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
              callbacks=[cb, C.TerminateOnNaN()])
    assert seen == [0, 1] and h.epoch == [0] and np.isnan(h.history["loss"][0])
    with pytest.raises(RuntimeError, match="invalid loss"):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False,
              callbacks=[C.TerminateOnNaN(raise_error=True)])


def test_csv_logger_writes_epoch_and_sorted_columns(tmp_path):
    m = small_model()
    x, y = data()
    path = tmp_path / "log.csv"
    m.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25,
          callbacks=[C.CSVLogger(str(path))])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    m.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[C.CSVLogger(str(path))])
    rows = list(csv.reader(path.open()))            # no validation: val_ columns say NA
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert rows[1][3:] == ["NA", "NA"]
    m.fit(x, y, epochs=1, batch_size=8, verbose=0,
          callbacks=[C.CSVLogger(str(path), append=True)])
    assert len(list(csv.reader(path.open()))) == 3  # appended, header not repeated


def test_lambda_callback_calls_its_functions_in_order():
    m = small_model()
    x, y = data(16)
    events = []
    cb = C.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch {batch}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch}"),
        on_train_end=lambda logs: events.append("train_end"))
    m.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb], initial_epoch=0)
    assert events == ["train_begin", "epoch_begin 0", "batch 0", "batch 1", "epoch_end 0",
                      "epoch_begin 1", "batch 0", "batch 1", "epoch_end 1", "train_end"]
    with pytest.raises(TypeError, match="unknown hook"):
        C.LambdaCallback(on_epoch_finish=print)


def test_initial_epoch_resumes_the_epoch_count():
    m = small_model()
    x, y = data(16)
    h = m.fit(x, y, epochs=5, initial_epoch=3, batch_size=8, verbose=0)
    assert h.epoch == [3, 4]
