"""Weight regularizers: L1, L2, L1L2, each a callable ``reg(weight) -> scalar Tensor``."""
from __future__ import annotations

from rnnkit import functional as F


class Regularizer:
    """Base class: a penalty added to the training loss."""

    def __call__(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, v in (("l1", l1), ("l2", l2)):
            if v < 0:
                raise ValueError(f"L1L2: {name} must be >= 0, got {v}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        total = 0.0
        if self.l1:
            total = total + self.l1 * F.sum(F.abs(x))
        if self.l2:
            total = total + self.l2 * F.sum(x * x)
        return total if not isinstance(total, float) else F.sum(x * 0.0)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x^2)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """Keras's shortcut: L1L2 with both defaults 0.01."""
    return L1L2(l1, l2)


l1, l2 = L1, L2
_NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from None, a name ("l2"), an instance, a dict or a callable."""
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return _NAMES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    raise ValueError(f"regularizer: cannot interpret {identifier!r}; expected None, 'l1', "
                     f"'l2', 'l1_l2' or a Regularizer")


def serialize(reg):
    return None if reg is None else {"class_name": type(reg).__name__,
                                     "config": reg.get_config()}
