"""TextVectorization: Keras 3's documented behaviour and the rules of its source
(text_vectorization.py, index_lookup.py), checked on hand-computed cases. Keras's own
layer needs TensorFlow, which the oracles do not include."""
import math

import numpy as np
import pytest

from rnnkit.keras import Input, layers, models

TV = layers.TextVectorization


def _out(layer, data):
    return np.asarray(layer(data).data)


# -- Keras's docstring examples -----------------------------------------------------------
def test_keras_docstring_adapt_example():
    layer = TV(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    np.testing.assert_array_equal(_out(layer, [["foo qux bar"], ["qux baz"]]),
                                  [[4, 1, 3, 0], [1, 2, 0, 0]])


def test_keras_docstring_vocabulary_example():
    layer = TV(max_tokens=5000, output_sequence_length=4,
               vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert layer.vocabulary_size() == 6


# -- the vocabulary -----------------------------------------------------------------------
def test_adapt_ranks_by_count_then_tokens_in_descending_order():
    layer = TV()
    layer.adapt(["b a c", "c", "b d"])
    # c and b twice ("c" > "b"), then a and d once ("d" > "a")
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b", "d", "a"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["c", "b", "d", "a"]


def test_ties_follow_code_points_not_case_or_locale():
    layer = TV(standardize=None)
    layer.adapt(["Zebra apple école"])
    assert layer.get_vocabulary(False) == ["école", "apple", "Zebra"]


def test_max_tokens_counts_the_special_tokens():
    data = ["a a a a b b b c c d"]
    int_layer = TV(max_tokens=4)
    int_layer.adapt(data)
    assert int_layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    hot = TV(max_tokens=4, output_mode="multi_hot")
    hot.adapt(data)
    assert hot.get_vocabulary() == ["[UNK]", "a", "b", "c"]


def test_special_tokens_in_the_data_are_not_learned():
    layer = TV(standardize=None, split=None)
    layer.adapt(np.array([["[UNK]"], [""], ["x"], ["x"]]))
    assert layer.get_vocabulary() == ["", "[UNK]", "x"]


def test_adapt_from_batches_respects_steps_and_batch_size():
    def batches():
        yield ["a b"]
        yield ["c c c"]

    layer = TV()
    layer.adapt(batches(), steps=1)
    assert layer.get_vocabulary(False) == ["b", "a"]
    chunked, whole = TV(), TV()
    data = np.array(["x y", "y z", "z z", "w"])
    chunked.adapt(data, batch_size=3)
    whole.adapt(data)
    assert chunked.get_vocabulary() == whole.get_vocabulary() == ["", "[UNK]", "z", "y", "x",
                                                                  "w"]


def test_adapt_again_starts_from_scratch():
    layer = TV()
    layer.adapt(["a a b"])
    layer.adapt(["c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "c"]


def test_set_vocabulary_with_or_without_special_tokens():
    layer = TV()
    layer.set_vocabulary(["", "[UNK]", "x", "y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    layer.set_vocabulary(["p", "q"])
    assert layer.get_vocabulary() == ["", "[UNK]", "p", "q"]


def test_vocabulary_from_a_file_one_token_per_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("earth\nwind\nand fire\n\n", encoding="utf-8")
    layer = TV(vocabulary=str(path), split=None, standardize=None)
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and fire"]
    np.testing.assert_array_equal(_out(layer, ["and fire", "rain"]), [[4], [1]])


@pytest.mark.parametrize("vocabulary, message", [
    (["a", "b", "a"], r"repeats the tokens \['a'\]"),
    (["a", "", "b"], "padding token '' may only appear first"),
    (["a", "b", "c", "d"], "size 6 exceeds max_tokens=5"),
    ([], "cannot set an empty vocabulary"),
])
def test_bad_vocabularies_are_refused(vocabulary, message):
    with pytest.raises(ValueError, match=message):
        TV(max_tokens=5).set_vocabulary(vocabulary)


def test_a_layer_given_a_vocabulary_cannot_be_adapted():
    layer = TV(vocabulary=["a"])
    with pytest.raises(ValueError, match="cannot adapt a layer made with a fixed vocabulary"):
        layer.adapt(["b"])


# -- standardize and split ----------------------------------------------------------------
@pytest.mark.parametrize("standardize, tokens", [
    ("lower_and_strip_punctuation", ["hello", "world", "dont", "École"]),
    ("lower", ["hello,", "world!", "don't", "École"]),
    ("strip_punctuation", ["Hello", "WORLD", "Dont", "ÉCOLE"]),
    (None, ["Hello,", "WORLD!", "Don't", "ÉCOLE"]),
])
def test_standardize_modes_lower_ascii_only_like_tensorflow(standardize, tokens):
    # tf.strings.lower without an encoding leaves non-ASCII letters as they are
    # (tensorflow/tensorflow#48551), so "ÉCOLE" becomes "École".
    layer = TV(standardize=standardize, vocabulary=tokens)
    np.testing.assert_array_equal(_out(layer, ["Hello, WORLD! Don't ÉCOLE"]), [[2, 3, 4, 5]])


def test_callable_standardize_gets_an_array_of_str():
    seen = []

    def keep_vowels(x):
        seen.append((type(x), x.dtype.kind, x.shape))
        return np.char.replace(np.char.replace(x, "b", ""), "c", "")

    layer = TV(standardize=keep_vowels, vocabulary=["a", "aa"])
    np.testing.assert_array_equal(_out(layer, ["ab aca", "bb"]), [[2, 3], [0, 0]])
    assert seen == [(np.ndarray, "U", (2,))]


def test_whitespace_split_is_ascii_whitespace_only():
    layer = TV(standardize=None, vocabulary=["a\u00a0b", "c", "d", "e"])
    np.testing.assert_array_equal(_out(layer, ["  a\u00a0b\tc\nd\re  "]), [[2, 3, 4, 5]])
    np.testing.assert_array_equal(_out(layer, ["c\x1fd"]), [[1]])


def test_character_split_keeps_spaces():
    layer = TV(split="character")
    layer.adapt(["ab a"])
    assert layer.get_vocabulary(False) == ["a", "b", " "]
    np.testing.assert_array_equal(_out(layer, ["Ba!"]), [[3, 2]])


def test_split_none_makes_each_string_one_token():
    layer = TV(split=None, vocabulary=["new york", "paris"])
    np.testing.assert_array_equal(_out(layer, ["New York", "Paris", "Rome"]), [[2], [3], [1]])
    np.testing.assert_array_equal(_out(layer, [["paris", "new york"], ["rome", ""]]),
                                  [[3, 2], [1, 0]])


def test_callable_split_returns_each_samples_tokens():
    layer = TV(split=lambda texts: [t.split("|") for t in texts],
               vocabulary=["a", "b c"], standardize=None)
    np.testing.assert_array_equal(_out(layer, ["a|b c|d", "a"]), [[2, 3, 1], [2, 0, 0]])


def test_ngrams_width_n_gives_all_widths_up_to_n_in_order():
    layer = TV(ngrams=2, vocabulary=["a", "b", "c", "a b", "b c"])
    np.testing.assert_array_equal(_out(layer, ["a b c", "c"]),
                                  [[2, 3, 4, 5, 6], [4, 0, 0, 0, 0]])


def test_ngrams_tuple_gives_only_those_widths():
    layer = TV(ngrams=(2, 3))
    layer.adapt(["x y z"])
    assert sorted(layer.get_vocabulary(False)) == ["x y", "x y z", "y z"]
    assert _out(layer, ["x y"]).tolist() == [[layer.get_vocabulary().index("x y")]]


# -- the outputs --------------------------------------------------------------------------
def test_int_output_pads_to_the_longest_sample_without_a_length():
    layer = TV(vocabulary=["a", "b"])
    out = _out(layer, ["a b a", "b", ""])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[2, 3, 2], [3, 0, 0], [0, 0, 0]])


def test_output_sequence_length_cuts_the_end_and_pads_with_zeros():
    layer = TV(vocabulary=["a", "b"], output_sequence_length=2)
    np.testing.assert_array_equal(_out(layer, ["a b b a", "b"]), [[2, 3], [3, 0]])


def test_a_layer_without_vocabulary_maps_every_token_to_unk():
    np.testing.assert_array_equal(_out(TV(), ["any words"]), [[1, 1]])


def test_multi_hot_and_count_have_unk_in_column_zero():
    hot = TV(output_mode="multi_hot", vocabulary=["a", "b", "c"])
    count = TV(output_mode="count", vocabulary=["a", "b", "c"])
    data = ["a a z y", "c"]
    assert hot.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    out = _out(hot, data)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, 1, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(_out(count, data), [[2, 2, 0, 0], [0, 0, 0, 1]])


def test_pad_to_max_tokens_widens_the_output():
    layer = TV(output_mode="count", max_tokens=6, pad_to_max_tokens=True, vocabulary=["a"])
    np.testing.assert_array_equal(_out(layer, ["a a b"]), [[1, 2, 0, 0, 0, 0]])


def test_tf_idf_weights_learned_by_adapt():
    layer = TV(output_mode="tf_idf")
    layer.adapt(["a a b", "a c", "b"])
    # a 3 times, b twice, c once; documents: a 2, b 2, c 1 of 3
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    idf_a = idf_b = math.log(1 + 3 / 3)
    idf_c = math.log(1 + 3 / 2)
    idf_unk = (idf_a + idf_b + idf_c) / 3
    np.testing.assert_allclose(_out(layer, ["a a c z"]),
                               [[idf_unk, 2 * idf_a, 0, idf_c]], rtol=1e-6)


def test_tf_idf_with_given_weights_pads_unk_with_their_mean():
    layer = TV(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(_out(layer, ["a b b q"]), [[1.25, 0.5, 4.0]])
    with_unk = TV(output_mode="tf_idf", vocabulary=["[UNK]", "a"], idf_weights=[9.0, 1.0])
    np.testing.assert_allclose(_out(with_unk, ["q a"]), [[9.0, 1.0]])


def test_counting_modes_need_a_vocabulary_first():
    with pytest.raises(RuntimeError, match="set the vocabulary"):
        TV(output_mode="multi_hot")(["a"])


def test_counting_modes_keep_their_vocabulary_size():
    layer = TV(output_mode="multi_hot")
    layer.adapt(["a b"])
    with pytest.raises(RuntimeError, match="vocabulary size cannot change"):
        layer.adapt(["a b c"])


def test_bytes_are_decoded():
    layer = TV(vocabulary=["café"])
    np.testing.assert_array_equal(_out(layer, np.array(["café x".encode()], dtype=object)),
                                  [[2, 1]])


def test_input_of_several_strings_per_sample_is_refused_when_splitting():
    with pytest.raises(ValueError, match=r"expected strings of shape \(batch,\) or \(batch, 1\), "
                                         r"got shape \(2, 2\)"):
        TV()(np.array([["a", "b"], ["c", "d"]]))


def test_symbolic_input_of_several_strings_is_refused_when_splitting():
    with pytest.raises(ValueError, match=r"got \(None, 3\)"):
        TV()(Input(shape=(3,), dtype="string"))


def test_non_strings_are_refused():
    with pytest.raises(TypeError, match="expected strings"):
        TV()(np.array([1.0, 2.0]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(output_mode="one_hot"), "output_mode='one_hot' is not supported"),
    (dict(sparse=True), "sparse=True and ragged=True are not supported"),
    (dict(ragged=True), "sparse=True and ragged=True are not supported"),
    (dict(output_mode="count", output_sequence_length=3),
     "output_sequence_length is only valid with output_mode='int'"),
    (dict(pad_to_max_tokens=True, max_tokens=5), "pad_to_max_tokens is only valid"),
    (dict(output_mode="count", pad_to_max_tokens=True), "pad_to_max_tokens=True needs max_tokens"),
    (dict(ngrams=0), "ngrams must be None, a positive integer"),
    (dict(max_tokens=1), "max_tokens must be None or an integer > 1"),
    (dict(standardize="upper"), "standardize must be one of"),
    (dict(split="comma"), "split must be one of"),
    (dict(idf_weights=[1.0]), "idf_weights is only valid with output_mode='tf_idf'"),
    (dict(output_mode="tf_idf", vocabulary=["a"]), "pass idf_weights too"),
])
def test_unsupported_or_inconsistent_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TV(**kwargs)


def test_deprecated_mode_names_are_keras_aliases():
    assert TV(output_mode="binary").get_config()["output_mode"] == "multi_hot"
    assert TV(output_mode="tf-idf").get_config()["output_mode"] == "tf_idf"


# -- inside a model -----------------------------------------------------------------------
TEXTS = np.array(["a great film", "an awful film", "great great acting", "awful plot",
                  "great plot", "awful acting"])
LABELS = np.array([1, 0, 1, 0, 1, 0])


def _sequential():
    vectorize = TV(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(TEXTS)
    model = models.Sequential([vectorize, layers.Embedding(20, 4), layers.LSTM(3),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_sequential_model_trains_and_predicts_on_strings():
    model = _sequential()
    history = model.fit(TEXTS, LABELS, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    vectorize = model.layers[0]
    tail = models.Sequential(model.layers[1:])
    np.testing.assert_allclose(model.predict(list(TEXTS), verbose=0),
                               tail.predict(_out(vectorize, TEXTS), verbose=0), rtol=1e-6)


def test_object_arrays_of_text_are_accepted_like_pandas_columns():
    model = _sequential()
    np.testing.assert_array_equal(model.predict(TEXTS.astype(object), verbose=0),
                                  model.predict(TEXTS, verbose=0))


def test_saved_model_keeps_the_vocabulary(tmp_path):
    model = _sequential()
    model.fit(TEXTS, LABELS, epochs=1, batch_size=6, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = models.load_model(tmp_path / "m.rnnkit")
    assert loaded.layers[0].get_vocabulary() == model.layers[0].get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(TEXTS, verbose=0),
                                  model.predict(TEXTS, verbose=0))
    loaded.layers[0].adapt(["still adaptable"])   # an adapted layer stays adaptable


def test_functional_model_with_string_input_saves_tf_idf_weights(tmp_path):
    inputs = Input(shape=(1,), dtype="string")
    vectorize = TV(output_mode="tf_idf", max_tokens=8, pad_to_max_tokens=True, ngrams=2)
    vectorize.adapt(TEXTS)
    model = models.Model(inputs, layers.Dense(2)(vectorize(inputs)))
    data = TEXTS[:, None]
    model.save(tmp_path / "f.rnnkit")
    loaded = models.load_model(tmp_path / "f.rnnkit")
    np.testing.assert_array_equal(loaded.layers[1](data).data, vectorize(data).data)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data,
                                                                                verbose=0))


def test_a_callable_standardize_cannot_be_saved(tmp_path):
    vectorize = TV(standardize=lambda x: np.char.lower(x), vocabulary=["a"])
    model = models.Sequential([vectorize, layers.Embedding(4, 2)])
    model.build((None,))
    with pytest.raises(ValueError, match="text_vectorization.* is not JSON-serialisable"):
        model.save(tmp_path / "m.rnnkit")
