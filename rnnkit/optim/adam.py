"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), with AMSGrad."""
from __future__ import annotations

import numpy as np

from rnnkit.optim.optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's ``torch.optim.Adam``; per step t, with g the gradient:

        g <- -g                                    if maximize
        theta <- theta * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
        g <- g + weight_decay * theta              otherwise, if weight_decay != 0
        m <- m + (1 - beta1) * (g - m)
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v), used instead of v  if amsgrad
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _validate(self, group):
        self._require(group["lr"] >= 0, "lr", group["lr"], ">= 0")
        self._require(group["eps"] >= 0, "eps", group["eps"], ">= 0")
        betas = group["betas"]
        self._require(len(betas) == 2, "betas", betas, "a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            self._require(0 <= beta < 1, f"betas[{i}]", beta, "in [0, 1)")
        self._require(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")

    def _update(self, p, grad, state, group):
        dt = p.dtype.type
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        step = state["step"]
        if group["maximize"]:
            grad = -grad
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.data *= dt(1 - lr * wd)
            else:
                grad = grad + dt(wd) * p.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += dt(1 - beta1) * (grad - m)
        v *= dt(beta2)
        v += dt(1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        step_size = lr / (1 - beta1 ** step)
        denom = np.sqrt(v) / dt((1 - beta2 ** step) ** 0.5) + dt(group["eps"])
        p.data -= dt(step_size) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2), PyTorch's ``torch.optim.AdamW``:
    theta <- theta * (1 - lr * weight_decay) before the Adam step (see :class:`Adam`)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Restore a state dict (see :meth:`Optimizer.load_state_dict`); the decay stays
        decoupled even when the dict came from Adam, as in PyTorch."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
