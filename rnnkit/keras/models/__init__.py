"""Keras-style models (``from rnnkit.keras import models``): ``Sequential``, the
functional ``Model``, and the model file (``save_model`` / ``load_model``)."""
from rnnkit.keras.models.functional import Model
from rnnkit.keras.models.saving import load_model, save_model
from rnnkit.keras.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model"]
