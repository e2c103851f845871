"""Seeded randomness: one global ``numpy.random.Generator`` that ``manual_seed`` resets.

Every random draw in rnnkit (initializers, dropout masks, shuffling) takes an optional
``generator``; without one it uses the global generator, so ``manual_seed(s)`` makes a
whole run repeatable.
"""
from __future__ import annotations

import numpy as np

_global = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the global generator to ``seed`` (a non-negative int) and return it."""
    global _global
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _global = np.random.default_rng(int(seed))
    return _global


def default_generator():
    """The global generator (the one ``manual_seed`` resets)."""
    return _global


def get_generator(generator=None):
    """``generator`` as a ``numpy.random.Generator``.

    None -> the global generator; an int -> a fresh generator seeded with it;
    a Generator -> itself.
    """
    if generator is None:
        return _global
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator: expected None, an int seed or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")
