"""Keras's built-in datasets (``from rnnkit.keras.datasets import imdb``), read from files
on this machine: rnnkit never downloads."""
from rnnkit.keras.datasets import imdb

__all__ = ["imdb"]
