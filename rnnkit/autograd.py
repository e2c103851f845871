"""Reverse-mode automatic differentiation: grad mode, graph nodes, and the backward pass.

Every differentiable op creates one :class:`Node` that records its input tensors and a
closure computing the input gradients from the output gradients. The closure is written
right beside the forward computation (see ``rnnkit.functional``), so a reader finds an
op's derivative next to its definition. A node may have several outputs: a recurrent
kernel returns the whole output sequence and the final states from one node, and its
backward (BPTT over the whole sequence) runs once with the gradients of all of them.
"""
from __future__ import annotations

import threading

import numpy as np

_state = threading.local()


def retaining_graph() -> bool:
    """True while a ``backward(retain_graph=True)`` runs: a node's backward must then
    leave its saved buffers usable for another pass."""
    return getattr(_state, "retain_graph", False)


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph for backward."""
    return getattr(_state, "enabled", True)


class _GradMode:
    _mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        """Use as a decorator: run ``fn`` under this grad mode."""
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager (or decorator) under which no op records the graph.

    Like ``torch.no_grad()``: use it for inference and for in-place parameter updates.
    """

    _mode = False


class enable_grad(_GradMode):
    """Context manager (or decorator) that turns graph recording back on."""

    _mode = True


class Node:
    """One recorded op: its input tensors and the closure that back-propagates through it.

    ``backward(*grads_out) -> tuple of grads_in`` receives one ndarray per output (zeros
    for an output that got no gradient) and returns one ndarray or None per parent.
    ``out_meta`` holds each output's (shape, dtype) to build those zeros.
    """

    __slots__ = ("parents", "backward", "out_meta", "name")

    def __init__(self, parents, backward, out_meta, name=""):
        self.parents = parents
        self.backward = backward
        self.out_meta = out_meta
        self.name = name


def _topological_order(root_node):
    """Nodes reachable from ``root_node``, each after every node that consumes it.

    Iterative, so a graph of any depth cannot exhaust Python's recursion limit.
    """
    order, seen = [], {id(root_node)}
    stack = [(root_node, iter(root_node.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            child = p._node
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()  # consumers first
    return order


def backward(root, grad=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    root: the tensor to differentiate; grad: d(loss)/d(root), same shape as root
    (defaults to 1 for a one-element root). The graph is freed afterwards unless
    ``retain_graph`` is true, which releases the BPTT caches as soon as possible.
    """
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph "
                           "(did you compute it under no_grad(), or from tensors with "
                           "requires_grad=False?)")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward(): grad can be implicitly created only for a "
                               f"one-element tensor, got shape {root.shape}; pass gradient=")
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward(): gradient has shape {grad.shape}, expected the "
                             f"tensor's shape {root.shape}")
    if root._node is None:  # a leaf
        _accumulate_leaf(root, grad)
        return

    previous = retaining_graph()
    _state.retain_graph = bool(retain_graph)
    try:
        _run_backward(root, grad, retain_graph)
    finally:
        _state.retain_graph = previous


def _run_backward(root, grad, retain_graph):
    pending = {id(root._node): [None] * len(root._node.out_meta)}
    pending[id(root._node)][root._index] = grad
    for node in _topological_order(root._node):
        grads_out = pending.pop(id(node), None)
        if grads_out is None:
            continue
        if node.backward is None:
            raise RuntimeError("backward(): trying to backward through the graph a second "
                               "time; the saved buffers were freed. Pass retain_graph=True "
                               "to the first backward() call.")
        grads_out = [np.zeros(shape, dtype) if g is None else g
                     for g, (shape, dtype) in zip(grads_out, node.out_meta)]
        grads_in = node.backward(*grads_out)
        if not retain_graph:
            node.backward = None
        for parent, g in zip(node.parents, grads_in):
            if g is None or not parent.requires_grad:
                continue
            if parent._node is None:
                _accumulate_leaf(parent, g)
            else:
                slots = pending.setdefault(id(parent._node), [None] * len(parent._node.out_meta))
                i = parent._index
                slots[i] = g if slots[i] is None else slots[i] + g


def _accumulate_leaf(leaf, g):
    from rnnkit._tensor import Tensor

    g = np.asarray(g)
    if g.shape != leaf.shape:
        raise RuntimeError(f"internal error: gradient of shape {g.shape} for a leaf of shape "
                           f"{leaf.shape}")
    if leaf.grad is None:
        # Copy: an op may hand back an array it shares with another gradient.
        leaf.grad = Tensor(np.array(g, dtype=leaf.dtype, copy=True))
    else:
        leaf.grad.data += g
