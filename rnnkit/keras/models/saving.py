"""rnnkit's model file: a zip holding ``model.json`` and ``weights.npz``. Never pickle.

    model.save("imdb.rnnkit")
    model = rnnkit.keras.models.load_model("imdb.rnnkit")

``model.json`` holds the architecture (every layer's ``get_config()``, and for a
functional model the recorded calls that wire them), the weights' paths and shapes, the
compile arguments and the optimizer's iteration count. ``weights.npz`` holds the weight
arrays in ``model.weights`` order (``w0000``, ``w0001``...) and the optimizer's slots
(``o0000``...), written by ``np.savez`` and read back with ``allow_pickle=False``, so
loading a file can never run code. Only rnnkit's own layers, losses, metrics and
optimizers can be saved; anything else is refused with an error naming it.

Every write is atomic (``rnnkit.serialization.atomic_write``, the one writer): the file
is written beside its destination under a temporary name, flushed to disk, then renamed
over the destination with ``os.replace``; a crash leaves either the old file or the new
one, never half of one.
"""
from __future__ import annotations

import io
import json
import os
import warnings
import zipfile

import numpy as np

from rnnkit.keras.keras_tensor import KerasTensor
from rnnkit.keras.models.graph import flatten, is_input_node
from rnnkit.serialization import atomic_write

FORMAT, VERSION = "rnnkit.keras.model", 1


def _npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _read_npz(data, where):
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as e:
        raise ValueError(f"load: {where} holds data that would need pickle to read; rnnkit "
                         f"never unpickles ({e})") from None
    except Exception as e:
        raise ValueError(f"load: {where} is corrupt ({type(e).__name__}: {e})") from None


# -- layers <-> JSON ----------------------------------------------------------------------
def serialize_layer(layer):
    """``{"class_name", "config"}`` for one of rnnkit's layers (nested layers included)."""
    from rnnkit.keras import layers as L
    from rnnkit.keras.models.functional import Model

    if isinstance(layer, Model):
        kind = "Sequential" if type(layer).__name__ == "Sequential" else "Functional"
        return {"class_name": kind, "config": layer.get_config()}
    name = type(layer).__name__
    if getattr(L, name, None) is not type(layer):
        raise ValueError(f"save: layer {layer.name!r} of class {name} is not one of "
                         f"rnnkit's layers and cannot be saved")
    config = dict(layer.get_config())
    # Wrappers and generic RNNs hold layers; their configs carry them nested.
    if isinstance(layer, L.Bidirectional):
        config["layer"] = serialize_layer(layer.forward_layer)
        config["backward_layer"] = serialize_layer(layer.backward_layer)
    elif isinstance(layer, L.TimeDistributed):
        config["layer"] = serialize_layer(layer.layer)
    elif type(layer) is L.RNN:
        config["cell"] = serialize_layer(layer.cell)
    elif isinstance(layer, L.StackedRNNCells):
        config["cells"] = [serialize_layer(c) for c in layer.cells]
    try:
        json.dumps(config)
    except TypeError as e:
        raise ValueError(f"save: the config of layer {layer.name!r} is not JSON-serialisable "
                         f"({e})") from None
    return {"class_name": name, "config": config}


def deserialize_layer(spec):
    from rnnkit.keras import layers as L
    from rnnkit.keras.layer import Layer

    name, config = spec.get("class_name"), dict(spec.get("config", {}))
    if name == "Sequential":
        return sequential_from_config(config)
    if name == "Functional":
        return functional_from_config(config)
    cls = getattr(L, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"load: unknown layer class {name!r}")
    for key in ("layer", "backward_layer", "cell"):
        if isinstance(config.get(key), dict):
            config[key] = deserialize_layer(config[key])
    if isinstance(config.get("cells"), list):
        config["cells"] = [deserialize_layer(c) for c in config["cells"]]
    return cls.from_config(config)


# -- models <-> JSON ----------------------------------------------------------------------
def sequential_config(model):
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(l) for l in model._layers],
            "build_input_shape": (None if model._build_input_shape is None
                                  else list(model._build_input_shape))}


def sequential_from_config(config):
    from rnnkit.keras.models.sequential import Sequential

    model = Sequential([deserialize_layer(l) for l in config["layers"]],
                       name=config.get("name"), trainable=config.get("trainable", True))
    if not model.built and config.get("build_input_shape") is not None:
        model.build(tuple(config["build_input_shape"]))
    return model


def functional_config(model):
    """Layers plus the recorded calls (in running order) that wire them."""
    graph, ids, counts, nodes = model._graph, {}, {}, []

    def encode(x):
        if isinstance(x, KerasTensor):
            if x.node not in ids:
                raise ValueError(f"save: tensor {x.name} comes from outside the model")
            return {"__keras_tensor__": list(ids[x.node]) + [x.index]}
        if isinstance(x, (list, tuple)):
            return [encode(v) for v in x]
        if isinstance(x, dict):
            return {k: encode(v) for k, v in x.items()}
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        raise ValueError(f"save: a call argument of type {type(x).__name__} cannot be saved")

    for node in graph.nodes:
        k = counts.get(node.layer.name, 0)
        counts[node.layer.name] = k + 1
        ids[node] = (node.layer.name, k)
        if not is_input_node(node):
            nodes.append({"layer": node.layer.name,
                          "args": encode([node.inputs] + list(node.args)),
                          "kwargs": encode(node.kwargs)})
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(l) for l in graph.layers], "nodes": nodes,
            "inputs": encode(model._input_struct), "outputs": encode(model._output_struct)}


def functional_from_config(config):
    from rnnkit.keras.layers.core import InputLayer
    from rnnkit.keras.models.functional import Model

    layers = {}
    produced = {}
    for spec in config["layers"]:
        layer = deserialize_layer(spec)
        layers[layer.name] = layer
        if isinstance(layer, InputLayer):
            produced[(layer.name, 0)] = [layer.output]

    def decode(x):
        if isinstance(x, dict) and "__keras_tensor__" in x:
            name, k, index = x["__keras_tensor__"]
            try:
                return produced[(name, k)][index]
            except KeyError:
                raise ValueError(f"load: the graph refers to call {k} of layer {name!r} "
                                 f"before it is made (corrupt model.json?)") from None
        if isinstance(x, list):
            return [decode(v) for v in x]
        if isinstance(x, dict):
            return {k: decode(v) for k, v in x.items()}
        return x

    calls = {}
    for node in config["nodes"]:
        layer = layers.get(node["layer"])
        if layer is None:
            raise ValueError(f"load: the graph calls unknown layer {node['layer']!r}")
        args, kwargs = decode(node["args"]), decode(node["kwargs"])
        out = layer(*args, **kwargs)
        k = calls.get(layer.name, 0)
        calls[layer.name] = k + 1
        produced[(layer.name, k)] = flatten(out)
    return Model(decode(config["inputs"]), decode(config["outputs"]), name=config.get("name"),
                 trainable=config.get("trainable", True))


# -- compile state ------------------------------------------------------------------------
def _compile_config(model):
    from rnnkit.keras import losses, metrics, optimizers

    def loss_spec(x):
        if isinstance(x, (list, tuple)):
            return [loss_spec(v) for v in x]
        if isinstance(x, dict):
            return {k: loss_spec(v) for k, v in x.items()}
        return x if x is None or isinstance(x, str) else losses.serialize(losses.get(x))

    def metric_spec(x):
        if isinstance(x, (list, tuple)):
            return [metric_spec(v) for v in x]
        if isinstance(x, dict):
            return {k: metric_spec(v) for k, v in x.items()}
        if x is None or isinstance(x, str):
            return x
        if type(x).__name__ in metrics._CLASSES and isinstance(x, metrics.Metric):
            return type(x).__name__
        raise ValueError(f"the metric {x!r} cannot be saved")

    if not model.compiled:
        return None
    try:
        c = model._compile_config
        return {"optimizer": optimizers.serialize(model.optimizer),
                "loss": loss_spec(c["loss"]), "loss_weights": c["loss_weights"],
                "metrics": metric_spec(c["metrics"]),
                "weighted_metrics": metric_spec(c["weighted_metrics"])}
    except ValueError as e:
        warnings.warn(f"save: the model is saved uncompiled: {e}", stacklevel=3)
        return None


# -- the file -----------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True):
    """Write ``model`` to ``filepath`` (must end in ``.rnnkit``), atomically."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".rnnkit"):
        raise ValueError(f"save: the file name must end in '.rnnkit', got {filepath!r}")
    if not model.built:
        raise ValueError(f"save: model {model.name!r} is not built yet; build it or call it "
                         f"on data first")
    weights = model.weights
    arrays = {f"w{i:04d}": w.data for i, w in enumerate(weights)}
    compile_config = _compile_config(model)
    opt = model.optimizer if compile_config is not None else None
    state = opt.state_arrays() if opt is not None and opt.built else []
    arrays.update({f"o{i:04d}": a for i, a in enumerate(state)})
    doc = {"format": FORMAT, "version": VERSION,
           "class_name": "Sequential" if type(model).__name__ == "Sequential" else "Functional",
           "config": model.get_config(),
           "weights": [{"path": w.path, "shape": list(w.shape), "dtype": str(w.dtype)}
                       for w in weights],
           "compile": compile_config,
           "optimizer": None if not state else {"iterations": opt.iterations,
                                               "slots": len(state)}}
    text = json.dumps(doc, indent=1)
    blob = _npz_bytes(arrays)

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("model.json", text)
            z.writestr("weights.npz", blob)

    atomic_write(filepath, write, overwrite)


def _read(filepath):
    try:
        with zipfile.ZipFile(filepath) as z:
            names = set(z.namelist())
            if not {"model.json", "weights.npz"} <= names:
                raise ValueError(f"load: {filepath!r} is not an rnnkit model file (it lacks "
                                 f"model.json or weights.npz)")
            text, blob = z.read("model.json"), z.read("weights.npz")
    except zipfile.BadZipFile:
        raise ValueError(f"load: {filepath!r} is not an rnnkit model file (not a zip "
                         f"archive; truncated or corrupt?)") from None
    try:
        doc = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"load: {filepath!r} has a corrupt model.json ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"load: {filepath!r} is not an rnnkit model file")
    if doc.get("version") != VERSION:
        raise ValueError(f"load: {filepath!r} has format version {doc.get('version')}; this "
                         f"rnnkit reads version {VERSION}")
    return doc, _read_npz(blob, f"{filepath!r}/weights.npz")


def load_model(filepath, compile=True):
    """The model saved at ``filepath``, with its weights, compiled again (with its
    optimizer state) when it was saved compiled and ``compile`` is True."""
    from rnnkit.keras import optimizers

    filepath = os.fspath(filepath)
    doc, arrays = _read(filepath)
    spec = {"class_name": doc["class_name"], "config": doc["config"]}
    try:
        model = deserialize_layer(spec)
    except (KeyError, TypeError) as e:
        raise ValueError(f"load: {filepath!r} has a corrupt model.json ({type(e).__name__}: "
                         f"{e})") from None
    _set_weights(model, [arrays.get(f"w{i:04d}") for i in range(len(doc["weights"]))],
                 filepath)
    c = doc.get("compile")
    if compile and c is not None:
        model.compile(optimizer=optimizers.get(c["optimizer"]), loss=c["loss"],
                      loss_weights=c["loss_weights"], metrics=c["metrics"],
                      weighted_metrics=c["weighted_metrics"])
        state = doc.get("optimizer")
        if state:
            model.optimizer.build(model.trainable_weights)
            model.optimizer.load_state_arrays(
                state["iterations"], [arrays[f"o{i:04d}"] for i in range(state["slots"])])
    return model


def _set_weights(model, values, where):
    weights = model.weights
    if len(values) != len(weights) or any(v is None for v in values):
        raise ValueError(f"load: {where!r} holds {len(values)} weight arrays but the model "
                         f"has {len(weights)} weights")
    for w, v in zip(weights, values):
        if tuple(v.shape) != tuple(w.shape):
            raise ValueError(f"load: weight {w.path} has shape {w.shape} in the model but "
                             f"{v.shape} in {where!r}")
    model.set_weights(values)


def save_weights(model, filepath, overwrite=True):
    """Only the weights, as ``.weights.npz`` (``w0000``... plus their paths)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.npz"):
        raise ValueError(f"save_weights: the file name must end in '.weights.npz', got "
                         f"{filepath!r}")
    weights = model.weights
    arrays = {f"w{i:04d}": w.data for i, w in enumerate(weights)}
    arrays["paths"] = np.array([w.path for w in weights], dtype=str)
    blob = _npz_bytes(arrays)
    atomic_write(filepath, lambda f: f.write(blob), overwrite)


def load_weights(model, filepath):
    """Weights from a ``.weights.npz`` file or from a ``.rnnkit`` model file."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".rnnkit"):
        doc, arrays = _read(filepath)
        n = len(doc["weights"])
    else:
        with open(filepath, "rb") as f:
            arrays = _read_npz(f.read(), repr(filepath))
        n = len([k for k in arrays if k.startswith("w")])
    _set_weights(model, [arrays.get(f"w{i:04d}") for i in range(n)], filepath)
