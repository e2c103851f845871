"""``Sequential``: a plain stack of layers, each feeding the next.

    model = Sequential([Embedding(10000, 32), SimpleRNN(32), Dense(1, activation="sigmoid")])
    model = Sequential([SimpleRNN(3, input_shape=(10, 4))])        # built at once
    model = Sequential(); model.add(SimpleRNN(3, batch_input_shape=(5, 10, 4)))

The model knows its input shape from an ``Input``/``InputLayer`` placed first, from the
first layer's ``input_shape=`` / ``batch_input_shape=`` / ``input_dim=`` (Keras 2's
ways, ``Embedding(input_length=)`` among them: see ``Layer``; Keras then inserts an
``InputLayer``, which ``layers`` does not list), from ``build(input_shape)``,
or from the first batch it is called on (the shape then includes that batch size, as in
Keras). Once the shape is known, every layer is called symbolically in turn, so weights
exist and ``summary()`` can show output shapes; until then the layers are unbuilt.

Each layer must produce a single tensor (e.g. no ``return_state=True``).
"""
from __future__ import annotations

from rnnkit.keras import backend
from rnnkit.keras.keras_tensor import KerasTensor
from rnnkit.keras.layer import Layer, get_mask, set_mask
from rnnkit.keras.models.functional import Model
from rnnkit.keras.models.graph import Graph


def _input_layer_class():
    from rnnkit.keras.layers.core import InputLayer

    return InputLayer


class Sequential(Model):
    """``Sequential(layers=None, name=None, trainable=True)``."""

    def __init__(self, layers=None, name=None, trainable=True):
        self._init_model(name, trainable, "sequential")
        self._layers = []          # may start with an InputLayer, hidden from `layers`
        self._graph = None
        self._build_input_shape = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # -- building the stack ---------------------------------------------------------------
    def add(self, layer, rebuild=True):
        """Append ``layer`` (or the InputLayer behind an ``Input(...)`` tensor)."""
        InputLayer = _input_layer_class()
        if isinstance(layer, KerasTensor):
            if layer.node is None or not isinstance(layer.node.layer, InputLayer):
                raise ValueError("Sequential.add: only tensors made by Input() can be added")
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("Sequential.add: an Input/InputLayer can only be the first "
                                 "layer of a Sequential model")
        elif not self._layers and layer._batch_input_shape is not None:
            self._layers.append(InputLayer(batch_shape=layer._batch_input_shape))
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"Sequential.add: the model already has a layer named "
                             f"{layer.name!r}; layer names must be unique")
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError("Sequential.pop: the model has no layers")
        layer = self._layers.pop()
        self.built, self._graph = False, None
        if rebuild:
            self._maybe_rebuild()
        return layer

    @property
    def layers(self):
        InputLayer = _input_layer_class()
        return [l for l in self._layers if not isinstance(l, InputLayer)]

    def _maybe_rebuild(self):
        InputLayer = _input_layer_class()
        if self._layers and isinstance(self._layers[0], InputLayer) and len(self._layers) > 1:
            self._build_graph()

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch first, None = any)."""
        InputLayer = _input_layer_class()
        if self._layers and isinstance(self._layers[0], InputLayer):
            if input_shape is not None and tuple(input_shape) != self._layers[0].batch_shape:
                raise ValueError(f"{self.name}: build({tuple(input_shape)}) disagrees with "
                                 f"the model's input shape {self._layers[0].batch_shape}")
        else:
            if input_shape is None:
                raise ValueError(f"{self.name}: build() needs an input_shape, as the first "
                                 f"layer does not declare one")
            if isinstance(input_shape, list):
                raise ValueError(f"{self.name}: a Sequential model takes a single input")
            self._layers.insert(0, InputLayer(batch_shape=tuple(input_shape)))
        if not self.layers:
            raise ValueError(f"{self.name}: cannot build a Sequential model with no layers")
        self._build_graph()

    def _build_graph(self):
        inp = self._layers[0].output
        x = inp
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, (list, tuple)):
                raise ValueError(f"{self.name}: every layer of a Sequential model must give a "
                                 f"single tensor; {layer.name!r} gives {len(x)} (use a "
                                 f"functional Model for return_state and the like)")
        backend.unique_name("functional")   # Keras's Sequential builds a Functional inside
        self._graph = Graph([inp], [x])
        self._input_struct, self._output_struct = inp, x
        self._build_input_shape = self._layers[0].batch_shape
        self.built = True

    # -- the eager call -------------------------------------------------------------------
    def call(self, inputs, training=False, mask=None):
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self.name}: a Sequential model takes a single input, got a "
                             f"list of {len(inputs)}")
        if mask is not None:
            set_mask(inputs, mask)
        x = inputs
        for layer in self.layers:
            x = layer(x, training=training)
        self._output_masks = get_mask(x)
        return x

    def compute_output_shape(self, input_shape, **kwargs):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def _symbolic_mask(self, in_mask):
        return bool(self._graph.outputs[0].has_mask) if self._graph else False

    def get_config(self):
        from rnnkit.keras.models.saving import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config):
        from rnnkit.keras.models.saving import sequential_from_config

        return sequential_from_config(config)
