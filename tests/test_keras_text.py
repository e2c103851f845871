"""rnnkit.keras.preprocessing: Keras 2's Tokenizer and text helpers equal keras_preprocessing
1.1.2's (Keras 2's own module) on the same corpora; sequence is Keras's."""
import json
import random

import numpy as np
import pytest

from rnnkit import text as T
from rnnkit.keras import utils
from rnnkit.keras.preprocessing import sequence
from rnnkit.keras.preprocessing import text

pytestmark = [pytest.mark.keras]
kp_text = pytest.importorskip("keras_preprocessing.text",
                              reason="Keras 2's keras-preprocessing is not installed")
kp_sequence = pytest.importorskip("keras_preprocessing.sequence")

CORPUS = [
    "The cat sat on the mat.",
    "The DOG ate my homework!!! Don't ask...",
    "A cat, a dog, and a bird: (three) pets?\tYes\nindeed.",
    "dog dog dog cat",
    "",
    "Ünïcödé Words, e-mail@example.com & #hashtags",
]
UNSEEN = ["The cat ate a zebra.", "Quokka quokka the bird", "dog, DOG; dog"]


def _state(tok):
    return (dict(tok.word_counts), list(tok.word_counts), dict(tok.word_docs),
            tok.word_index, tok.index_word, dict(tok.index_docs), tok.document_count)


def _both(**kwargs):
    ours, theirs = text.Tokenizer(**kwargs), kp_text.Tokenizer(**kwargs)
    ours.fit_on_texts(CORPUS)
    theirs.fit_on_texts(CORPUS)
    return ours, theirs


SETTINGS = [dict(), dict(num_words=5), dict(oov_token="<OOV>"),
            dict(num_words=6, oov_token="<OOV>"), dict(lower=False),
            dict(char_level=True), dict(char_level=True, num_words=8, lower=False),
            dict(filters="", split=" "), dict(filters=".!", split="a")]


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
def test_fit_on_texts_counts_and_indices_equal_keras(kwargs):
    ours, theirs = _both(**kwargs)
    assert _state(ours) == _state(theirs)


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
def test_texts_to_sequences_equal_keras_unknown_words_included(kwargs):
    ours, theirs = _both(**kwargs)
    assert ours.texts_to_sequences(CORPUS + UNSEEN) == theirs.texts_to_sequences(
        CORPUS + UNSEEN)


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
def test_sequences_to_texts_equal_keras(kwargs):
    ours, theirs = _both(**kwargs)
    sequences = theirs.texts_to_sequences(CORPUS + UNSEEN) + [[1, 2, 99, 3], [0, 4]]
    assert ours.sequences_to_texts(sequences) == theirs.sequences_to_texts(sequences)


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
@pytest.mark.parametrize("kwargs", [dict(), dict(num_words=6), dict(oov_token="<OOV>")],
                         ids=str)
def test_texts_to_matrix_equals_keras_in_every_mode(mode, kwargs):
    ours, theirs = _both(**kwargs)
    got = ours.texts_to_matrix(CORPUS + UNSEEN, mode=mode)
    want = theirs.texts_to_matrix(CORPUS + UNSEEN, mode=mode)
    assert got.dtype == want.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_fit_on_sequences_then_tfidf_matrix_equals_keras():
    sequences = [[1, 2, 2, 3], [3, 4], [1, 1, 1, 5]]
    ours, theirs = text.Tokenizer(num_words=7), kp_text.Tokenizer(num_words=7)
    ours.fit_on_sequences(sequences)
    theirs.fit_on_sequences(sequences)
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode="tfidf"),
                                  theirs.sequences_to_matrix(sequences, mode="tfidf"))


def test_token_lists_are_taken_as_tokens_like_keras():
    docs = [["Hello", "world"], ["hello", "there", "World"]]
    ours, theirs = text.Tokenizer(), kp_text.Tokenizer()
    ours.fit_on_texts(docs)
    theirs.fit_on_texts(docs)
    assert _state(ours) == _state(theirs)
    assert ours.texts_to_sequences(docs) == theirs.texts_to_sequences(docs)


def test_fitting_twice_accumulates_like_keras():
    ours, theirs = _both(oov_token="<OOV>")
    ours.fit_on_texts(UNSEEN)
    theirs.fit_on_texts(UNSEEN)
    assert _state(ours) == _state(theirs)


def test_oov_token_seen_in_the_texts_ends_where_keras_puts_it():
    docs = ["<oov> a b", "a a"]
    ours, theirs = text.Tokenizer(oov_token="<oov>", filters=""), kp_text.Tokenizer(
        oov_token="<oov>", filters="")
    ours.fit_on_texts(docs)
    theirs.fit_on_texts(docs)
    assert ours.word_index == theirs.word_index and ours.index_word == theirs.index_word


def test_word_index_ties_keep_order_of_first_appearance():
    tok = text.Tokenizer()
    tok.fit_on_texts(["zeta alpha", "alpha mid zeta", "last"])
    assert tok.word_index == {"zeta": 1, "alpha": 2, "mid": 3, "last": 4}


def test_to_json_round_trips_and_keras_reads_it():
    ours, theirs = _both(num_words=6, oov_token="<OOV>")
    again = text.tokenizer_from_json(ours.to_json())
    assert _state(again) == _state(ours)
    assert again.texts_to_sequences(UNSEEN) == ours.texts_to_sequences(UNSEEN)
    from_ours = kp_text.tokenizer_from_json(ours.to_json())
    assert _state(from_ours) == _state(theirs)
    from_keras = text.tokenizer_from_json(theirs.to_json())
    assert _state(from_keras) == _state(ours)
    np.testing.assert_array_equal(from_keras.texts_to_matrix(UNSEEN, mode="tfidf"),
                                  theirs.texts_to_matrix(UNSEEN, mode="tfidf"))


def test_loaded_tokenizer_can_be_fitted_further():
    ours, theirs = _both()
    again = text.tokenizer_from_json(ours.to_json())
    again.fit_on_texts(UNSEEN)
    theirs.fit_on_texts(UNSEEN)
    assert _state(again) == _state(theirs)


def test_get_config_keys_equal_keras():
    ours, theirs = _both()
    assert ours.get_config().keys() == theirs.get_config().keys()
    assert json.loads(ours.get_config()["word_index"]) == theirs.word_index


@pytest.mark.parametrize("kwargs", [dict(), dict(lower=False), dict(filters="", split=","),
                                    dict(split="at")], ids=str)
def test_text_to_word_sequence_equals_keras(kwargs):
    for doc in CORPUS + ["a,b,,c", "Cat at the hat"]:
        assert text.text_to_word_sequence(doc, **kwargs) == kp_text.text_to_word_sequence(
            doc, **kwargs)


def test_hashing_trick_md5_equals_keras():
    for doc in CORPUS:
        assert text.hashing_trick(doc, 17, hash_function="md5") == kp_text.hashing_trick(
            doc, 17, hash_function="md5")


def test_one_hot_equals_keras_within_a_process():
    assert text.one_hot(CORPUS[2], 50) == kp_text.one_hot(CORPUS[2], 50)
    assert all(1 <= i < 50 for i in text.one_hot(CORPUS[2], 50))


def test_pad_sequences_is_the_utils_function():
    assert sequence.pad_sequences is utils.pad_sequences


def test_make_sampling_table_equals_keras():
    np.testing.assert_array_equal(sequence.make_sampling_table(50, 1e-3),
                                  kp_sequence.make_sampling_table(50, 1e-3))


# Keras 2 draws its shuffle seed with random.randint(0, 10e6), a float Python 3.11 warns of.
@pytest.mark.filterwarnings("ignore:non-integer arguments:DeprecationWarning")
@pytest.mark.parametrize("kwargs", [dict(negative_samples=0.0, shuffle=False),
                                    dict(window_size=2, categorical=True, seed=3),
                                    dict(sampling_table=np.linspace(0.2, 1, 12))], ids=str)
def test_skipgrams_equal_keras_from_the_same_random_state(kwargs):
    seq = [1, 4, 0, 7, 3, 3, 9, 11, 2]
    random.seed(42)
    ours = sequence.skipgrams(seq, 12, **kwargs)
    random.seed(42)
    theirs = kp_sequence.skipgrams(seq, 12, **kwargs)
    assert ours == theirs


# -- rnnkit's own rules (checked by hand) -------------------------------------------------
def test_a_single_string_is_refused_not_read_as_characters():
    with pytest.raises(TypeError, match="fit_on_texts: texts must be a list of strings"):
        text.Tokenizer().fit_on_texts("one review")
    with pytest.raises(TypeError, match="texts_to_sequences: texts must be a list"):
        text.Tokenizer().texts_to_sequences("one review")


def test_unknown_matrix_mode_is_named_even_for_empty_sequences():
    tok = text.Tokenizer(num_words=4)
    with pytest.raises(ValueError, match="mode must be one of .* got 'onehot'"):
        tok.sequences_to_matrix([[]], mode="onehot")


def test_unfitted_tokenizer_needs_a_width_for_matrices():
    with pytest.raises(ValueError, match="specify a dimension"):
        text.Tokenizer().sequences_to_matrix([[1]])


def test_unexpected_argument_is_named():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['nb_words'\]"):
        text.Tokenizer(nb_words=3)


def test_analyzer_replaces_the_filters_and_cannot_be_serialized():
    tok = text.Tokenizer(analyzer=lambda s: s.split("|"))
    tok.fit_on_texts(["a|b|a", "c"])
    assert tok.texts_to_sequences(["b|c|z"]) == [[2, 3]]
    with pytest.raises(ValueError, match="analyzer"):
        tok.to_json()


def test_review_words_remove_breaks_and_keep_apostrophes():
    assert T.review_words("Great!<br /><br />Don't miss it,really") == [
        "great", "don't", "miss", "it", "really"]


def test_rank_by_count_tie_rules():
    counts = {"b": 2, "a": 2, "c": 3, "d": 1}
    assert T.rank_by_count(counts, ties="first") == ["c", "b", "a", "d"]
    assert T.rank_by_count(counts, ties="descending") == ["c", "b", "a", "d"]
    counts = {"a": 2, "b": 2}
    assert T.rank_by_count(counts, ties="first") == ["a", "b"]
    assert T.rank_by_count(counts, ties="descending") == ["b", "a"]
