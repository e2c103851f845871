"""TensorBoard event files through the optional ``tensorboardX`` writer.

    writer = rnnkit.tensorboard.SummaryWriter("runs/imdb")
    writer.add_scalar("loss/train", 0.69, step=1)
    writer.close()

Used by the apps' ``--tensorboard DIR`` and by ``rnnkit.keras.callbacks.TensorBoard``.
tensorboardX is an optional extra (``pip install "rnnkit[tensorboard]"``); without it the
writer raises an ImportError that says so, when it is created, not at import.
"""
from __future__ import annotations

import math
import os


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError:
        raise ImportError('TensorBoard logs need the optional tensorboardX package: '
                          'pip install "rnnkit[tensorboard]" (or pip install tensorboardX)'
                          ) from None
    return tensorboardX


class SummaryWriter:
    """Scalars (and histograms) for TensorBoard, written under ``logdir``.

    logdir: a directory (created if needed); each writer adds one event file to it.
    """

    def __init__(self, logdir, flush_secs=10):
        logdir = os.fspath(logdir)
        if os.path.exists(logdir) and not os.path.isdir(logdir):
            raise NotADirectoryError(f"SummaryWriter: logdir {logdir!r} is a file, not a "
                                     f"directory")
        os.makedirs(logdir, exist_ok=True)
        self.logdir = logdir
        self._writer = _tensorboardx().SummaryWriter(logdir=logdir, flush_secs=flush_secs)

    def add_scalar(self, tag, value, step):
        """Record ``value`` (a real number) under ``tag`` at ``step`` (an int >= 0)."""
        value = float(value)
        if not math.isfinite(value):
            return   # TensorBoard cannot plot nan/inf; the CSV log keeps them
        self._writer.add_scalar(str(tag), value, int(step))

    def add_scalars(self, values, step, prefix=""):
        """Record every ``{name: number}`` of ``values`` at ``step``, tags ``prefix+name``."""
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.add_scalar(prefix + name, value, step)

    def add_histogram(self, tag, values, step):
        """Record the distribution of ``values`` (an array) under ``tag`` at ``step``."""
        import numpy as np

        self._writer.add_histogram(str(tag), np.asarray(values, dtype=np.float64), int(step))

    def add_keras_model(self, model_json, step=0, tag="keras"):
        """Record a Keras model's JSON (``{"class_name": "Sequential", "config": {...}}``)
        as Keras's TensorBoard callback does for ``write_graph``: one string tensor under
        ``tag``, marked for TensorBoard's "graph_keras_model" plugin, which draws the
        layers in the Graphs tab."""
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

        plugin = SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1")
        tensor = TensorProto(dtype="DT_STRING", string_val=[model_json.encode("utf-8")],
                             tensor_shape=TensorShapeProto())
        summary = Summary(value=[Summary.Value(
            tag=str(tag), metadata=SummaryMetadata(plugin_data=plugin), tensor=tensor)])
        self._writer._get_file_writer().add_summary(summary, int(step))

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
