"""``Model``: Keras's functional model, a graph of layer calls from ``Input``s to outputs.

    inputs = Input(shape=(None, 8))
    h = LSTM(16)(inputs)
    model = Model(inputs, [Dense(1, activation="sigmoid")(h), Dense(3)(h)])

Building the graph runs nothing: each layer call on a symbolic tensor recorded a Node.
Calling the model on arrays replays those Nodes eagerly, deepest first (see
``graph.Graph``), so the result is an rnnkit Tensor with autograd. Masks travel as in
any eager call (an ``Embedding(mask_zero=True)`` masks the RNN after it), keyword
arguments recorded in the graph (``initial_state=[h, c]`` for a decoder) are replayed with
their tensors, and ``training`` reaches every layer that takes it (Dropout, recurrent
dropout). Multiple inputs and outputs are lists; a layer called twice shares its weights.

``Model`` is also the base of ``Sequential`` and holds what both share: weights, layers,
``summary()``, ``save()`` and, from ``Trainer``, compile/fit/evaluate/predict.
"""
from __future__ import annotations

from rnnkit.keras import backend
from rnnkit.keras.keras_tensor import KerasTensor
from rnnkit.keras.layer import Layer, get_mask, set_mask
from rnnkit.keras.models.graph import Graph, flatten, is_input_node, pack_like
from rnnkit.keras.models.training import Trainer


class Model(Trainer, Layer):
    """A functional model: ``Model(inputs, outputs, name=None)``.

    inputs / outputs: a KerasTensor or a list of them (from ``Input`` and layer calls).
    Called on arrays of shapes matching the inputs (batch first), it returns Tensors of
    the outputs' shapes, a list when there are several outputs.
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("Model: pass inputs= and outputs= (symbolic tensors); "
                            "subclassed models without a graph are not supported by rnnkit")
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument(s) {sorted(kwargs)}")
        self._init_model(name, trainable, "functional")
        if isinstance(inputs, dict) or isinstance(outputs, dict):
            raise ValueError("Model: dict inputs/outputs are not supported; use lists")
        self._input_struct, self._output_struct = inputs, outputs
        self._graph = Graph(flatten(inputs), flatten(outputs))
        self.built = True

    def _init_model(self, name, trainable, prefix):
        Layer.__init__(self, name=name or backend.unique_name(prefix), trainable=trainable)
        Trainer.__init__(self)
        self.supports_masking = True
        self._output_masks = None

    # -- structure ------------------------------------------------------------------------
    @property
    def layers(self):
        """Every layer in Keras's order (for a functional model: InputLayers first)."""
        return list(self._graph.layers) if self._graph is not None else []

    @property
    def inputs(self):
        return list(self._graph.inputs) if self._graph is not None else None

    @property
    def outputs(self):
        return list(self._graph.outputs) if self._graph is not None else None

    @property
    def output_names(self):
        """The names of the layers producing the outputs (used in multi-output logs)."""
        return [t.node.layer.name for t in self.outputs or []]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by position ``index`` in ``layers``."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: pass exactly one of name= or index=")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model of "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; layers: "
                         f"{[l.name for l in self.layers]}")

    # -- weights --------------------------------------------------------------------------
    def _unique(self, attr):
        out, seen = [], set()
        for layer in self.layers:
            for w in getattr(layer, attr):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self):
        """Every weight once (shared layers count once), layer by layer."""
        return self._unique("weights")

    @property
    def trainable_weights(self):
        return self._unique("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def count_params(self):
        if not self.built:
            raise ValueError(f"count_params: model {self.name!r} is not built yet; give its "
                             f"first layer an input shape, call build(), or call it on data")
        return int(sum(w.data.size for w in self.weights))

    @property
    def losses(self):
        """Weight-regularization penalties plus the layers' activity penalties."""
        out = [w.regularizer(w) for w in self.weights if w.regularizer is not None]
        stack, seen = list(self.layers), set()
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if isinstance(layer, Model):
                out += [l for l in layer.losses if not any(l is w for w in out)]
                continue
            out += list(layer._losses)
            stack += list(layer._sublayers)
        return out

    # -- the eager call -------------------------------------------------------------------
    def call(self, inputs, training=False, mask=None):
        flat = flatten(inputs)
        if len(flat) != len(self._graph.inputs):
            raise ValueError(f"{self.name}: expected {len(self._graph.inputs)} input(s), got "
                             f"{len(flat)}")
        masks = flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(flat)
        values = {}
        for kt, value, m in zip(self._graph.inputs, flat, masks):
            if m is not None:
                set_mask(value, m)
            values[id(kt)] = value
        for node in self._graph.nodes:
            if is_input_node(node):
                continue
            self._run_node(node, values, training)
        outputs = [values[id(t)] for t in self._graph.outputs]
        self._output_masks = [get_mask(o) for o in outputs]
        if len(outputs) == 1 and not isinstance(self._output_struct, (list, tuple)):
            self._output_masks = self._output_masks[0]
            return outputs[0]
        return pack_like(self._output_struct, outputs)

    @staticmethod
    def _run_node(node, values, training):
        def value_of(x):
            if isinstance(x, KerasTensor):
                return values[id(x)]
            if isinstance(x, (list, tuple)):
                return type(x)(value_of(v) for v in x)
            return x

        args = [value_of(node.inputs)] + [value_of(a) for a in node.args]
        kwargs = {k: value_of(v) for k, v in node.kwargs.items()}
        kwargs.setdefault("training", training)
        out = node.layer(*args, **kwargs)
        for kt, value in zip(flatten(node.outputs), flatten(out)):
            values[id(kt)] = value

    def compute_mask(self, inputs, mask=None):
        return self._output_masks

    def _symbolic_mask(self, in_mask):
        flags = [t.has_mask for t in self._graph.outputs]
        return flags if len(flags) > 1 else flags[0]

    def compute_output_shape(self, input_shape, **kwargs):
        """Output shape(s) for ``input_shape``, by replaying shape inference."""
        shapes = {}
        in_shapes = ([input_shape] if len(self._graph.inputs) == 1
                     else list(input_shape))
        for kt, s in zip(self._graph.inputs, in_shapes):
            shapes[id(kt)] = tuple(s)

        def shape_of(x):
            if isinstance(x, KerasTensor):
                return shapes.get(id(x), x.shape)
            if isinstance(x, (list, tuple)):
                return [shape_of(v) for v in x]
            return x

        for node in self._graph.nodes:
            if is_input_node(node):
                continue
            out = node.layer.compute_output_shape(shape_of(node.inputs),
                                                  **node.layer._shape_kwargs(node.kwargs))
            outs = out if isinstance(node.outputs, list) else [out]
            for kt, s in zip(flatten(node.outputs), outs):
                shapes[id(kt)] = tuple(s)
        result = [shapes[id(t)] for t in self._graph.outputs]
        return result[0] if len(result) == 1 else result

    # -- reporting and saving -------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras's table of layers, output shapes and parameter counts."""
        from rnnkit.keras.models.summary import print_summary

        print_summary(self, line_length, positions, print_fn, expand_nested,
                      show_trainable, layer_range)

    def save(self, filepath, overwrite=True):
        """Write the model (config, weights, compile state) to ``filepath`` atomically;
        see ``rnnkit.keras.models.saving``."""
        from rnnkit.keras.models.saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights (``*.weights.npz``) atomically."""
        from rnnkit.keras.models.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by ``save_weights`` (or the weights of a model file)."""
        from rnnkit.keras.models.saving import load_weights

        load_weights(self, filepath)

    def get_config(self):
        from rnnkit.keras.models.saving import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config):
        from rnnkit.keras.models.saving import functional_from_config

        return functional_from_config(config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
