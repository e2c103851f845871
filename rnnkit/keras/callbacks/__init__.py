"""Keras's callbacks: hooks that ``fit``/``evaluate``/``predict`` call as they run.

Included: History and ProgbarLogger (added by ``fit`` itself), EarlyStopping,
ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, CSVLogger, LambdaCallback,
TensorBoard; see ``base`` for the protocol.
"""
from rnnkit.keras.callbacks.base import (Callback, CallbackList, History, LambdaCallback,
                                         ProgbarLogger)
from rnnkit.keras.callbacks.checkpoint import ModelCheckpoint
from rnnkit.keras.callbacks.logs import CSVLogger, TerminateOnNaN
from rnnkit.keras.callbacks.monitor import EarlyStopping, MonitorCallback, ReduceLROnPlateau
from rnnkit.keras.callbacks.tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "LambdaCallback",
           "ModelCheckpoint", "CSVLogger", "TerminateOnNaN", "EarlyStopping",
           "MonitorCallback", "ReduceLROnPlateau", "TensorBoard"]
