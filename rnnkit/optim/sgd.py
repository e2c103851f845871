"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

import numpy as np

from rnnkit.optim.optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's ``torch.optim.SGD``; per step, with g the gradient:

        g <- -g                            if maximize
        g <- g + weight_decay * theta      if weight_decay != 0
        b <- g (first step), else momentum * b + (1 - dampening) * g
        g <- g + momentum * b if nesterov, else b     (when momentum != 0)
        theta <- theta - lr * g

    State per parameter: ``momentum_buffer`` (only when momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _validate(self, group):
        self._require(group["lr"] >= 0, "lr", group["lr"], ">= 0")
        self._require(group["momentum"] >= 0, "momentum", group["momentum"], ">= 0")
        self._require(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, "
                             f"dampening={group['dampening']}")

    def _update(self, p, grad, state, group):
        dt = p.dtype.type
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + dt(group["weight_decay"]) * p.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= dt(momentum)
                buf += dt(1 - group["dampening"]) * grad
            grad = grad + dt(momentum) * buf if group["nesterov"] else buf
        p.data -= dt(group["lr"]) * grad
