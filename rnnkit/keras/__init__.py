"""``rnnkit.keras``: Keras 3's API on rnnkit's core.

Port Keras code by changing the import: ``from rnnkit.keras import layers, models,
initializers, optimizers, losses, callbacks, utils``, and for data ``datasets`` (IMDB)
and ``preprocessing`` (``sequence.pad_sequences``, Keras 2's ``text.Tokenizer``).
Weight layouts, names, shapes, parameter counts and numbers are Keras's.
``__version__`` is rnnkit's version.
"""
from rnnkit import __version__
from rnnkit.keras import activations, backend, initializers, layers, regularizers
from rnnkit.keras import callbacks, losses, metrics, models, optimizers, utils
from rnnkit.keras import datasets, preprocessing
from rnnkit.keras.layers import Input
from rnnkit.keras.models import Model, Sequential
