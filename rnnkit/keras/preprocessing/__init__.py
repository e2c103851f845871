"""Keras's data preprocessing modules: ``sequence`` (``pad_sequences``) and Keras 2's
``text`` (``Tokenizer``).

    from rnnkit.keras.preprocessing import sequence, text
"""
from rnnkit.keras.preprocessing import sequence, text

__all__ = ["sequence", "text"]
