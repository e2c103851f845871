"""``Parameter``: a leaf tensor that a Module registers as one of its weights."""
from __future__ import annotations

import numpy as np

from rnnkit._tensor import Tensor, _to_array


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered when set on a Module.

    data: array-like (kept as float32 unless it already has a floating dtype).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        arr = np.zeros(0, dtype=np.float32) if data is None else _to_array(data)
        super().__init__(np.array(arr, copy=True), requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
