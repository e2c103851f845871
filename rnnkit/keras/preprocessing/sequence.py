"""Keras's ``keras.preprocessing.sequence``: ``pad_sequences`` (the very function of
``rnnkit.keras.utils``), and from Keras 2 ``make_sampling_table`` and ``skipgrams``.

    from rnnkit.keras.preprocessing import sequence
    x_train = sequence.pad_sequences(x_train, maxlen=500)     # (reviews, 500) int32
"""
from __future__ import annotations

import random

import numpy as np

from rnnkit.keras.utils import pad_sequences

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams"]


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's keep probability of the word of each frequency rank: float64 (size,).

    ``p(rank) = min(1, f(rank) / sqrt(f(rank)))`` with ``f = sampling_factor *
    rank * (log(rank) + gamma) + 1/2 - 1/(12 rank)`` (Zipf's law, gamma = 0.577), the
    approximation Keras 2 uses; rank 0 is computed as rank 1.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"make_sampling_table: size must be a positive integer, got "
                         f"{size!r}")
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """Keras 2's skip-gram pairs of one sequence of word indices: ``(couples, labels)``.

    Each word wi (index 0 is skipped) pairs with every non-zero word within
    ``window_size`` on either side, label 1; then ``int(positives * negative_samples)``
    pairs of a (shuffled) first word with a random index in [1, vocabulary_size), label
    0. ``categorical`` gives labels as [0, 1] / [1, 0]. ``sampling_table[wi]`` is the
    probability of keeping wi as a first word. ``shuffle`` shuffles couples and labels
    alike with ``seed``. Random draws come from Python's ``random`` module, call for
    call as in Keras 2, so ``random.seed(s)`` reproduces Keras 2's pairs.
    """
    if isinstance(vocabulary_size, bool) or not isinstance(
            vocabulary_size, (int, np.integer)) or vocabulary_size < 2:
        raise ValueError(f"skipgrams: vocabulary_size must be an integer >= 2, got "
                         f"{vocabulary_size!r}")
    if negative_samples < 0:
        raise ValueError(f"skipgrams: negative_samples must be >= 0, got "
                         f"{negative_samples!r}")
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)]
                    for k in range(count)]
        labels += [[1, 0] if categorical else 0] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10_000_000)
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
