"""The graph behind a functional model: which recorded calls (Nodes) lead from the inputs
to the outputs, in which order to run them, and in which order to list the layers.

Follows Keras's ``map_graph``: a depth-first walk back from each output collects the
nodes; a node's *depth* is its distance from the outputs (an output node has depth 0,
its parents depth 1 or more); nodes run from the deepest to depth 0. Layers are listed
by decreasing depth, ties broken by the order the walk first met them, which is the
order Keras's ``model.layers`` and ``summary()`` use.
"""
from __future__ import annotations

import collections

from rnnkit.keras.keras_tensor import KerasTensor


def flatten(x):
    """Leaves of nested lists/tuples/dicts (dict values in sorted key order)."""
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in flatten(v)]
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in flatten(x[k])]
    return [x]


def pack_like(structure, flat):
    """Rebuild ``structure``'s nesting from the ``flat`` leaves (inverse of flatten)."""
    it = iter(flat)

    def build(s):
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s)
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        return next(it)

    return build(structure)


def map_structure(fn, x):
    """``fn`` applied to every leaf, keeping the nesting."""
    return pack_like(x, [fn(v) for v in flatten(x)])


def node_input_tensors(node):
    """Every KerasTensor a node consumed: its inputs, extra positional arguments, then
    keyword arguments (e.g. ``initial_state``) in sorted key order."""
    leaves = flatten(node.inputs) + flatten(list(node.args)) + flatten(node.kwargs)
    return [t for t in leaves if isinstance(t, KerasTensor)]


def node_outputs(node):
    return flatten(node.outputs)


def is_input_node(node):
    from rnnkit.keras.layers.core import InputLayer

    return isinstance(node.layer, InputLayer) and not flatten(node.inputs)


class Graph:
    """Nodes between ``inputs`` and ``outputs`` (flat lists of KerasTensors).

    nodes: in running order (deepest first); nodes_by_depth: {depth: [node, ...]};
    layers: Keras's listing order; node_index(node): the node's position among its
    layer's calls (Keras's ``[node_index][tensor_index]`` in "Connected to").
    """

    def __init__(self, inputs, outputs):
        self.inputs, self.outputs = list(inputs), list(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"Model: inputs and outputs must be symbolic tensors (from "
                                 f"Input() and layer calls), got {t!r}")
        post_order, first_seen = self._walk()
        node_depth, layer_depth = self._depths(post_order)
        for t in self.inputs:                        # inputs that no output depends on
            if is_input_node(t.node) and t.node.layer not in layer_depth:
                layer_depth[t.node.layer] = 0
                first_seen[t.node.layer] = -1
                node_depth[t.node] = 0
        self.nodes_by_depth = collections.defaultdict(list)
        for node, depth in node_depth.items():
            self.nodes_by_depth[depth].append(node)
        self.nodes = [n for d in sorted(self.nodes_by_depth, reverse=True)
                      for n in self.nodes_by_depth[d]]
        by_depth = collections.defaultdict(list)
        for layer, depth in layer_depth.items():
            by_depth[depth].append(layer)
        self.layers = [l for d in sorted(by_depth, reverse=True)
                       for l in sorted(by_depth[d], key=lambda l: first_seen[l])]
        self._check_computable()
        self._check_unique_names()

    def _walk(self):
        finished, in_progress, post_order, first_seen = set(), set(), [], {}
        input_ids = {id(t) for t in self.inputs}

        def visit(tensor):
            node = tensor.node
            if node is None or node in finished:
                return
            if not is_input_node(node) and id(tensor) in input_ids:
                finished.add(node)        # an intermediate tensor used as a model input
                return
            if node in in_progress:
                raise ValueError(f"Model: tensor {tensor.name} is part of a cycle")
            first_seen.setdefault(node.layer, len(first_seen))
            in_progress.add(node)
            if not is_input_node(node):
                for t in node_input_tensors(node):
                    visit(t)
            in_progress.discard(node)
            finished.add(node)
            post_order.append(node)

        for t in self.outputs:
            visit(t)
        return post_order, first_seen

    @staticmethod
    def _depths(post_order):
        in_graph = set(post_order)
        node_depth, layer_depth = {}, {}
        for node in reversed(post_order):
            depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
            layer_depth[node.layer] = depth
            node_depth[node] = depth
            if is_input_node(node):
                continue
            for t in node_input_tensors(node):
                parent = t.node
                if parent in in_graph:
                    node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
        return node_depth, layer_depth

    def _check_computable(self):
        known = {id(t) for t in self.inputs}
        for node in self.nodes:
            if is_input_node(node):
                if not any(id(t) in known for t in node_outputs(node)):
                    raise ValueError(f"Model: graph disconnected: input {node.layer.name!r} "
                                     f"is needed but is not among the model's inputs")
                continue
            for t in node_input_tensors(node):
                if id(t) not in known:
                    raise ValueError(f"Model: graph disconnected: cannot reach tensor "
                                     f"{t.name} (input of layer {node.layer.name!r}) from "
                                     f"the model's inputs")
            known.update(id(t) for t in node_outputs(node))

    def _check_unique_names(self):
        seen = set()
        for layer in self.layers:
            if layer.name in seen:
                raise ValueError(f"Model: two different layers are named {layer.name!r}; "
                                 f"layer names must be unique within a model")
            seen.add(layer.name)

    @staticmethod
    def node_index(node):
        calls = node.layer._inbound_nodes
        return next((i for i, n in enumerate(calls) if n is node), 0)   # Input: 0
