"""RMSprop (Hinton's lecture 6e), optionally centered (Graves, 2013) and with momentum."""
from __future__ import annotations

import numpy as np

from rnnkit.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's ``torch.optim.RMSprop``; per step, with g the gradient:

        g <- -g                                  if maximize
        g <- g + weight_decay * theta            if weight_decay != 0
        v <- alpha * v + (1 - alpha) * g^2
        a <- sqrt(v - g_avg^2) + eps, with g_avg <- g_avg + (1 - alpha) * (g - g_avg)
             if centered, else sqrt(v) + eps
        b <- momentum * b + g / a;  theta <- theta - lr * b      if momentum > 0
        theta <- theta - lr * g / a                                otherwise

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when
    momentum > 0) and ``grad_avg`` (g_avg, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate(self, group):
        for option in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            self._require(group[option] >= 0, option, group[option], ">= 0")

    def _update(self, p, grad, state, group):
        dt = p.dtype.type
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + dt(group["weight_decay"]) * p.data
        v = state["square_avg"]
        v *= dt(alpha)
        v += dt(1 - alpha) * grad * grad
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg += dt(1 - alpha) * (grad - g_avg)
            avg = np.sqrt(v - g_avg * g_avg)
        else:
            avg = np.sqrt(v)
        avg += dt(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= dt(momentum)
            buf += grad / avg
            p.data -= dt(group["lr"]) * buf
        else:
            p.data -= dt(group["lr"]) * grad / avg
