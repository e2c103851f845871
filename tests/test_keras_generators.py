"""fit/evaluate/predict on Python generators and PyDatasets follow Keras 3 (JAX) batch
for batch.

The same model is built with keras and with rnnkit.keras, rnnkit's copy takes Keras's
initial weights, and both read the same batches: the final weights and every epoch's
loss and metrics must agree to float32 round-off. Where Keras's rules decide which
batches an epoch sees (steps_per_epoch, a generator that runs dry, validation_steps,
the first two batches a generator is read ahead, PyDataset hooks, shuffling with
Python's random), the batches each framework asked for are logged and compared too.
"""
import random
import threading
import time
import warnings

import numpy as np
import pytest

import rnnkit.keras as rk

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")

T, VOCAB = 12, 200


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, (n, T)).astype("int32")
    y = (x[:, -3:].mean(axis=1) > VOCAB / 2).astype("float32")
    return x, y


def batches(x, y, size, sw=None, loop=True, log=None):
    """The tutorials' generator: consecutive batches, over and over (or once)."""
    while True:
        for i in range(0, len(x), size):
            if log is not None:
                log.append(i // size)
            yield (x[i:i + size], y[i:i + size]) + (() if sw is None else (sw[i:i + size],))
        if not loop:
            return


def classifier(K):
    L = K.layers
    return K.Sequential([K.Input(shape=(T,)), L.Embedding(VOCAB, 8), L.LSTM(6),
                         L.Dense(1, activation="sigmoid")])


def pair(build=classifier, compile_args=("rmsprop", "binary_crossentropy")):
    """(keras model, rnnkit model), compiled, rnnkit holding Keras's initial weights."""
    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    ours.set_weights(theirs.get_weights())
    for m in (theirs, ours):
        m.compile(*compile_args, metrics=["accuracy"])
    return theirs, ours


def assert_same_training(theirs, ours, h_theirs, h_ours):
    assert sorted(h_ours.history) == sorted(h_theirs.history)
    for key, values in h_theirs.history.items():
        np.testing.assert_allclose(h_ours.history[key], values, rtol=2e-4, atol=1e-6,
                                   err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def both_fit(theirs, ours, make_data, **kwargs):
    """Fit each model on its own fresh copy of the data (make_data(framework))."""
    hs = [m.fit(make_data(K), verbose=0, **kwargs) for K, m in ((keras, theirs), (rk, ours))]
    return hs


class StepLog:
    """Records the training steps each framework announces (on_train_batch_begin)."""

    def __init__(self):
        self.events = []

    def callback(self, K):
        log = self.events

        class Log(K.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                log.append(f"b{batch}")

            def on_epoch_end(self, epoch, logs=None):
                log.append(f"E{epoch}")
        return Log()


def dataset_class(K, log, offset_per_epoch=0, delay=0.0):
    """A PyDataset of the data in batches, logging its calls; with offset_per_epoch its
    on_epoch_end rotates which batch each index returns (a dataset that changes)."""
    class Batches(K.utils.PyDataset):
        def __init__(self, x, y, size, tag="T", **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.size, self.tag, self.shift = x, y, size, tag, 0

        def __len__(self):
            return -(-len(self.x) // self.size)

        def __getitem__(self, index):
            log.append(f"{self.tag}{index}")
            if delay:
                time.sleep(delay * (1 + index % 3))    # out-of-order finishing threads
            j = (index + self.shift) % len(self)
            s = slice(j * self.size, (j + 1) * self.size)
            return self.x[s], self.y[s]

        def on_epoch_begin(self):
            log.append(f"{self.tag}<")

        def on_epoch_end(self):
            log.append(f"{self.tag}>")
            self.shift += offset_per_epoch
    return Batches


# -- generators -------------------------------------------------------------------------
def test_endless_generator_with_steps_and_validation_steps_trains_like_keras():
    x, y = data()
    xv, yv = data(40, seed=1)
    theirs, ours = pair()
    hs = [m.fit(batches(x, y, 16), steps_per_epoch=4, epochs=3, verbose=0, shuffle=False,
                validation_data=batches(xv, yv, 8), validation_steps=3)
          for m in (theirs, ours)]
    assert_same_training(theirs, ours, *hs)
    assert sorted(hs[1].history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_finite_generator_restarts_with_its_first_two_batches_like_keras():
    # Keras keeps the two batches it looked at first; once the generator has stopped,
    # every later epoch trains on those two, then warns that the data ran out.
    x, y = data(80)
    theirs, ours = pair()
    logs = StepLog(), StepLog()
    hs = []
    for (K, m), log in zip(((keras, theirs), (rk, ours)), logs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hs.append(m.fit(batches(x, y, 16, loop=False), epochs=3, shuffle=False,
                            verbose=0, callbacks=[log.callback(K)]))
        assert sum("ran out" in str(w.message) for w in caught) == 3
    assert_same_training(theirs, ours, *hs)
    assert logs[1].events == logs[0].events
    assert logs[1].events[-4:] == ["b0", "b1", "b2", "E2"]     # 2 batches, then dry


def test_generator_that_runs_out_under_steps_per_epoch_ends_the_epoch_like_keras():
    x, y = data(112)                               # 7 batches for 5 epochs of 3 steps
    theirs, ours = pair()
    logs = StepLog(), StepLog()
    hs = [m.fit(batches(x, y, 16, loop=False), steps_per_epoch=3, epochs=5, shuffle=False,
                verbose=0, callbacks=[log.callback(K)])
          for (K, m), log in zip(((keras, theirs), (rk, ours)), logs)]
    assert_same_training(theirs, ours, *hs)
    assert logs[1].events == logs[0].events
    with pytest.warns(UserWarning, match="fit: the data ran out after 1 batch"):
        rk.backend.clear_session()
        m = classifier(rk)
        m.compile("sgd", "binary_crossentropy")
        m.fit(batches(x, y, 16, loop=False), steps_per_epoch=3, epochs=3, shuffle=False,
              verbose=0)


def test_validation_generator_restarts_each_validation_like_keras():
    # Each validation run starts a fresh pass: the two held batches, then the next ones.
    x, y = data(64)
    xv, yv = data(96, seed=2)
    theirs, ours = pair()
    hs = [m.fit(batches(x, y, 16), steps_per_epoch=2, epochs=3, shuffle=False, verbose=0,
                validation_data=batches(xv, yv, 16, loop=False), validation_steps=3)
          for m in (theirs, ours)]
    assert_same_training(theirs, ours, *hs)


def test_sample_weights_yielded_by_a_generator_weigh_like_keras():
    x, y = data(64)
    sw = np.random.default_rng(3).uniform(0.2, 2.0, 64).astype("float32")
    theirs, ours = pair()
    hs = [m.fit(batches(x, y, 16, sw), steps_per_epoch=4, epochs=2, shuffle=False,
                verbose=0) for m in (theirs, ours)]
    assert_same_training(theirs, ours, *hs)


def test_steps_per_epoch_with_arrays_continues_the_pass_like_keras():
    x, y = data(80)
    theirs, ours = pair()
    hs = [m.fit(x, y, batch_size=16, steps_per_epoch=3, epochs=4, shuffle=False,
                verbose=0) for m in (theirs, ours)]
    assert_same_training(theirs, ours, *hs)


def test_evaluate_on_a_generator_with_and_without_steps_equals_keras():
    x, y = data(64)
    theirs, ours = pair()
    for kwargs in ({}, {"steps": 3}):
        got = ours.evaluate(batches(x, y, 16, loop=False), verbose=0, **kwargs)
        want = theirs.evaluate(batches(x, y, 16, loop=False), verbose=0, **kwargs)
        np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("shape", ["x", "(x,)", "(x, y)"])
def test_predict_on_a_generator_equals_keras(shape):
    x, y = data(40)
    theirs, ours = pair()
    pack = {"x": lambda a, b: a, "(x,)": lambda a, b: (a,), "(x, y)": lambda a, b: (a, b)}

    def gen(keras_form=False):
        form = "(x,)" if keras_form and shape == "x" else shape   # Keras 3 wants tuples
        for a, b in batches(x, y, 16, loop=False):
            yield pack[form](a, b)

    got = ours.predict(gen(), verbose=0)
    assert got.shape == (40, 1)
    np.testing.assert_allclose(got, theirs.predict(gen(keras_form=True), verbose=0),
                               atol=1e-5)
    np.testing.assert_allclose(ours.predict(gen(), steps=2, verbose=0),
                               theirs.predict(gen(keras_form=True), steps=2, verbose=0),
                               atol=1e-5)


def test_callbacks_see_unknown_steps_for_a_generator_like_keras():
    seen = {}

    def spy(K, name):
        class Spy(K.callbacks.Callback):
            def on_train_begin(self, logs=None):
                seen[name] = dict(self.params)
        return Spy()

    x, y = data(32)
    theirs, ours = pair()
    theirs.fit(batches(x, y, 16), steps_per_epoch=2, verbose=0, callbacks=[spy(keras, "k")])
    ours.fit(batches(x, y, 16), steps_per_epoch=2, verbose=0, callbacks=[spy(rk, "r")])
    theirs.fit(batches(x, y, 16, loop=False), verbose=0, callbacks=[spy(keras, "k2")])
    ours.fit(batches(x, y, 16, loop=False), verbose=0, callbacks=[spy(rk, "r2")])
    assert seen["r"] == seen["k"] and seen["r"]["steps"] == 2
    assert seen["r2"] == seen["k2"] and seen["r2"]["steps"] is None


def test_progress_bar_of_a_generator_counts_its_steps(capsys):
    x, y = data(64)
    rk.backend.clear_session()
    m = classifier(rk)
    m.compile("sgd", "binary_crossentropy")
    m.fit(batches(x, y, 16, loop=False), epochs=1, shuffle=False, verbose=1)
    m.evaluate(batches(x, y, 32, loop=False), verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("4/4 ━━━━━━━━━━━━━━━━━━━━ ") and " - loss: " in lines[0]
    assert lines[1].startswith("2/2 ━━━━━━━━━━━━━━━━━━━━ ")


# -- PyDataset --------------------------------------------------------------------------
def test_pydataset_trains_and_validates_like_keras():
    x, y = data(80)
    xv, yv = data(40, seed=4)
    theirs, ours = pair()
    log_k, log_r = [], []
    hs = []
    for K, m, log in ((keras, theirs, log_k), (rk, ours, log_r)):
        Batches = dataset_class(K, log)
        hs.append(m.fit(Batches(x, y, 16), epochs=3, shuffle=False, verbose=0,
                        validation_data=Batches(xv, yv, 16, tag="V")))
    assert_same_training(theirs, ours, *hs)
    assert log_r == log_k          # every __getitem__, on_epoch_begin and on_epoch_end


def test_pydataset_class_weights_and_steps_train_like_keras():
    x, y = data(80)
    theirs, ours = pair()
    hs = [m.fit(dataset_class(K, [])(x, y, 16), steps_per_epoch=3, epochs=3, verbose=0,
                shuffle=False, class_weight={0: 0.5, 1: 2.0})
          for K, m in ((keras, theirs), (rk, ours))]
    assert_same_training(theirs, ours, *hs)


def test_pydataset_shuffle_draws_the_batch_order_from_python_random_like_keras():
    x, y = data(96)
    theirs, ours = pair()
    log_k, log_r = [], []
    hs = []
    for K, m, log in ((keras, theirs, log_k), (rk, ours, log_r)):
        random.seed(7)
        hs.append(m.fit(dataset_class(K, log)(x, y, 16), epochs=3, verbose=0))
    assert_same_training(theirs, ours, *hs)
    assert log_r == log_k
    assert [e for e in log_r[4:10]] != ["T0", "T1", "T2", "T3", "T4", "T5"]   # shuffled


def test_pydataset_evaluate_and_predict_call_hooks_and_equal_keras():
    x, y = data(48)
    theirs, ours = pair()
    log_k, log_r = [], []
    results = {}
    for K, m, log in ((keras, theirs, log_k), (rk, ours, log_r)):
        Batches = dataset_class(K, log)
        results[K] = (m.evaluate(Batches(x, y, 16, tag="E"), verbose=0),
                      m.evaluate(Batches(x, y, 16, tag="S"), steps=2, verbose=0),
                      m.predict(Batches(x, y, 16, tag="P"), verbose=0))
    assert log_r == log_k
    for got, want in zip(results[rk], results[keras]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("offset", [0, 1])
def test_pydataset_workers_read_ahead_on_threads_in_keras_order(offset):
    # Keras with one worker is the reference; rnnkit with 3 threads must give the same
    # batches in the same order, even when on_epoch_end changes what an index returns
    # while the threads had read ahead (steps_per_epoch=2 of 5 batches).
    x, y = data(80)
    theirs, ours = pair()
    threads = set()
    log_k, log_r = [], []
    reference = dataset_class(keras, log_k, offset)(x, y, 16)
    h_theirs = theirs.fit(reference, steps_per_epoch=2, epochs=4, shuffle=False, verbose=0)

    class Threaded(dataset_class(rk, log_r, offset, delay=0.002)):
        def __getitem__(self, index):
            threads.add(threading.current_thread().name)
            return super().__getitem__(index)

    h_ours = ours.fit(Threaded(x, y, 16, workers=3, max_queue_size=4), steps_per_epoch=2,
                      epochs=4, shuffle=False, verbose=0)
    assert_same_training(theirs, ours, h_theirs, h_ours)
    assert len(threads) > 1 and all(t.startswith("rnnkit-pydataset") for t in threads)
    assert [e for e in log_r if e[1] in "<>"] == [e for e in log_k if e[1] in "<>"]


def test_pydataset_without_super_init_warns_and_uses_defaults():
    class Bare(rk.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros((2, T), "int32"), np.zeros(2, "float32")

    with pytest.warns(UserWarning, match=r"super\(\).__init__"):
        assert Bare().workers == 1
    assert rk.utils.Sequence is rk.utils.PyDataset


# -- what is refused --------------------------------------------------------------------
@pytest.fixture
def model():
    rk.backend.clear_session()
    m = classifier(rk)
    m.compile("sgd", "binary_crossentropy")
    return m


def test_batch_size_is_refused_with_generators_and_pydatasets(model):
    x, y = data(32)
    with pytest.raises(ValueError, match="batch_size=8 cannot apply to a generator"):
        model.fit(batches(x, y, 16), batch_size=8, steps_per_epoch=1)
    with pytest.raises(ValueError, match="batch_size=8 cannot apply to a PyDataset"):
        model.evaluate(dataset_class(rk, [])(x, y, 16), batch_size=8)
    with pytest.raises(ValueError, match="validation_batch_size=8 cannot apply to a gen"):
        model.fit(x, y, validation_data=batches(x, y, 16), validation_batch_size=8,
                  validation_steps=1, verbose=0)


def test_targets_weights_and_validation_split_are_refused_with_generators(model):
    x, y = data(32)
    with pytest.raises(ValueError, match="y must not be passed"):
        model.fit(batches(x, y, 16), y, steps_per_epoch=1)
    with pytest.raises(ValueError, match="sample_weight must not be passed"):
        model.fit(dataset_class(rk, [])(x, y, 16), sample_weight=np.ones(32))
    with pytest.raises(ValueError, match="validation_split needs array data"):
        model.fit(batches(x, y, 16), validation_split=0.2, steps_per_epoch=1)
    with pytest.raises(ValueError, match="class_weight is not supported with a generator"):
        model.fit(batches(x, y, 16), class_weight={0: 1.0}, steps_per_epoch=1)


def test_shuffle_on_a_generator_warns_that_it_has_no_effect(model):
    x, y = data(32)
    with pytest.warns(UserWarning, match="shuffle=True has no effect on a generator"):
        model.fit(batches(x, y, 16), steps_per_epoch=1, verbose=0)


def test_bad_batches_and_empty_data_are_named(model):
    x, y = data(32)
    with pytest.raises(ValueError, match="the generator yielded no batch"):
        model.fit(batches(x[:0], y[:0], 16, loop=False), shuffle=False)
    with pytest.raises(ValueError, match=r"batch 0 of the generator is a list; expected a "
                                         r"tuple \(x,\), \(x, y\)"):
        model.fit(([a, b] for a, b in batches(x, y, 16)), shuffle=False)
    with pytest.raises(ValueError, match="batch 0 of the generator has no targets"):
        model.evaluate((a,) for a, b in batches(x, y, 16, loop=False))
    with pytest.raises(ValueError, match="x is a list_iterator; pass arrays, a generator"):
        model.predict(iter([x]))
    with pytest.raises(ValueError, match="steps must be a positive integer or None, got -1"):
        model.predict(x, steps=-1)


def test_unsupported_pydataset_settings_are_named(model):
    x, y = data(32)
    Batches = dataset_class(rk, [])
    with pytest.raises(ValueError, match="use_multiprocessing=True"):
        model.fit(Batches(x, y, 16, workers=2, use_multiprocessing=True))
    with pytest.raises(ValueError, match="max_queue_size must be a positive integer"):
        model.fit(Batches(x, y, 16, workers=2, max_queue_size=0))

    class Empty(Batches):
        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="must have at least one batch"):
        model.evaluate(Empty(x, y, 16))
