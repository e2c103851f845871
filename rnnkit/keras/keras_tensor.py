"""Symbolic tensors: what ``Input`` returns and what layers return when called on one.

A ``KerasTensor`` carries only a shape (``None`` for the batch and any unknown size) and
a dtype, plus the call that produced it, so a functional ``Model`` can replay the graph
and ``summary()`` can print output shapes without running anything.
"""
from __future__ import annotations


class Node:
    """One call of a layer in a graph: its input KerasTensors and call arguments."""

    def __init__(self, layer, inputs, args, kwargs, outputs):
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs
        self.outputs = outputs


class KerasTensor:
    """A placeholder with ``shape`` (tuple, None where unknown) and ``dtype``."""

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0, mask=False):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self.node = node       # the Node that produced it (None for an Input)
        self.index = index     # which of the node's outputs
        self.has_mask = mask   # whether a mask travels with it (Embedding(mask_zero))

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __getitem__(self, index):
        raise TypeError("KerasTensor: slicing a symbolic tensor is not supported; use a "
                        "layer (e.g. a Lambda-free Dense/Concatenate) instead")


def is_symbolic(x):
    """True if ``x`` is, or is a list/tuple containing, a KerasTensor."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(v) for v in x)
    return False
