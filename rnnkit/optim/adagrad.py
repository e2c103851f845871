"""Adagrad (Duchi, Hazan & Singer, 2011) with learning-rate decay."""
from __future__ import annotations

import numpy as np

from rnnkit.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """PyTorch's ``torch.optim.Adagrad``; per step t, with g the gradient:

        g <- -g                                  if maximize
        g <- g + weight_decay * theta            if weight_decay != 0
        s <- s + g^2                             (s starts at initial_accumulator_value)
        theta <- theta - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter, created with the group (so ``state_dict`` has it at once):
    ``step`` and ``sum`` (s).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _validate(self, group):
        for option in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._require(group[option] >= 0, option, group[option], ">= 0")

    def add_param_group(self, param_group):
        """Add a group (see :meth:`Optimizer.add_param_group`) and create its state."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": 0, "sum": np.full_like(
                p.data, group["initial_accumulator_value"])}

    def _update(self, p, grad, state, group):
        dt = p.dtype.type
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + dt(group["weight_decay"]) * p.data
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += grad * grad
        p.data -= dt(clr) * grad / (np.sqrt(s) + dt(group["eps"]))
