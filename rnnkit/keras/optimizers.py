"""Keras 3's optimizers: SGD, RMSprop, Adam, AdamW, Adagrad, with Keras's own update rules.

Keras's formulas differ from PyTorch's (epsilon outside or inside the square root,
Adam's bias correction folded into the step size, SGD's momentum sign), so these are
written from Keras's definitions, step for step, in the variable's dtype (float32), so
that a model trained here follows the same path as the same model trained in Keras.

Each optimizer updates rnnkit ``Variable``s in place from their gradients:
``opt.apply(grads, variables)`` or ``opt.apply_gradients(zip(grads, variables))``.
Before the update rule, every step applies (in Keras's order) gradient clipping
(``clipnorm`` per tensor, ``global_clipnorm`` over all tensors, or ``clipvalue``), then
decoupled weight decay ``w <- w - w * weight_decay * lr``. A missing gradient (None)
counts as zeros, as on Keras's JAX back end.

``learning_rate`` is a float, settable between steps (``ReduceLROnPlateau`` does), or a
callable ``schedule(iterations) -> float``.
"""
from __future__ import annotations

import numpy as np

from rnnkit.keras import backend

_UNSUPPORTED = ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps")


class Optimizer:
    """Base class: learning rate, clipping, weight decay, slots, iteration counter.

    Subclasses define ``_slot_names`` (with their initial values) and
    ``update_step(gradient, variable, lr)`` acting on NumPy arrays in place.
    """

    _slot_names = ()        # e.g. ("momentum", "velocity")
    _slot_init = {}         # slot name -> initial value (default 0)

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls}: unexpected keyword argument(s) {sorted(kwargs)}")
        given = dict(use_ema=use_ema, ema_overwrite_frequency=ema_overwrite_frequency,
                     loss_scale_factor=loss_scale_factor,
                     gradient_accumulation_steps=gradient_accumulation_steps)
        for arg, value in given.items():
            if value not in (None, False):
                raise ValueError(f"{cls}: {arg} is not supported by rnnkit (got {value!r})")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{cls}: only one of clipnorm, clipvalue and global_clipnorm can "
                             f"be set; got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name or backend.unique_name(backend.to_snake_case(cls))
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.learning_rate = learning_rate
        self.iterations = 0
        self.built = False
        self._trainable_variables = []
        self._slots = {}          # slot name -> list of arrays, one per variable

    # -- learning rate --------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (a schedule is evaluated at ``iterations``)."""
        if callable(self._learning_rate):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            if getattr(self, "_learning_rate", None) is not None and not callable(
                    self._learning_rate):
                raise TypeError(f"{self.name}: cannot replace a float learning rate by a "
                                f"schedule after creation")
            self._learning_rate = value
            return
        if getattr(self, "_learning_rate", None) is not None and callable(self._learning_rate):
            raise TypeError(f"{self.name}: this optimizer's learning rate is a schedule; it "
                            f"cannot be set to a number")
        value = float(getattr(value, "item", lambda: value)())
        if value < 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be >= 0, got {value}")
        self._learning_rate = value

    # -- state ----------------------------------------------------------------------------
    def build(self, var_list):
        """Create the slots (zeros, or the optimizer's initial value) for ``var_list``."""
        if self.built:
            return
        self._trainable_variables = list(var_list)
        for slot in self._slot_names:
            fill = self._slot_init.get(slot, 0.0)
            self._slots[slot] = [np.full(v.shape, fill, dtype=v.dtype)
                                 for v in self._trainable_variables]
        self.built = True

    @property
    def variables(self):
        """The optimizer's state as arrays: iteration, learning rate, then every slot."""
        out = [np.asarray(self.iterations, dtype=np.int32),
               np.asarray(self.learning_rate, dtype=backend.floatx())]
        for i in range(len(self._trainable_variables)):
            out += [self._slots[s][i] for s in self._slot_names]
        return out

    def _slot(self, name, variable_index):
        return self._slots[name][variable_index]

    def state_arrays(self):
        """Every slot array, slot-major (for saving); see ``load_state_arrays``."""
        return [a for s in self._slot_names for a in self._slots[s]]

    def load_state_arrays(self, iterations, arrays):
        """Restore ``iterations`` and the slots written by ``state_arrays``."""
        n = len(self._trainable_variables)
        if len(arrays) != n * len(self._slot_names):
            raise ValueError(f"{self.name}: expected {n * len(self._slot_names)} slot arrays, "
                             f"got {len(arrays)}")
        for k, s in enumerate(self._slot_names):
            for i in range(n):
                self._slots[s][i][...] = arrays[k * n + i]
        self.iterations = int(iterations)

    # -- one step -------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Keras's form: an iterable of (gradient, variable) pairs."""
        grads, variables = zip(*list(grads_and_vars))
        self.apply(list(grads), list(variables))

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (the built list when omitted) in place."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{self.name}: pass trainable_variables on the first call "
                                 f"(or call build(variables) first)")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for "
                             f"{len(trainable_variables)} variables")
        index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        missing = [v for v in trainable_variables if id(v) not in index]
        if missing:
            raise ValueError(f"{self.name}: variable {getattr(missing[0], 'path', '?')} was "
                             f"not in the list this optimizer was built with")
        grads = [np.zeros(v.shape, v.dtype) if g is None
                 else np.asarray(getattr(g, "data", g), dtype=v.dtype)
                 for g, v in zip(grads, trainable_variables)]
        grads = self._clip(grads)
        lr = self.learning_rate
        if self.weight_decay is not None:
            for v in trainable_variables:
                v.data -= v.data * v.dtype.type(self.weight_decay) * v.dtype.type(lr)
        for g, v in zip(grads, trainable_variables):
            self._index = index[id(v)]
            self.update_step(g, v.data, v.dtype.type(lr))
        self.iterations += 1

    def _clip(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            out = []
            for g in grads:
                norm = np.sqrt(np.sum(np.square(g)))
                out.append(g * g.dtype.type(self.clipnorm)
                           / np.maximum(norm, g.dtype.type(self.clipnorm)))
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
            c = np.float32(self.global_clipnorm)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = c * np.minimum(1 / norm, 1 / c) + (norm - norm)  # NaN if norm is
            return [g * g.dtype.type(scale) for g in grads]           # not finite
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue).astype(g.dtype) for g in grads]
        return grads

    def update_step(self, gradient, variable, lr):
        """Update the array ``variable`` in place from ``gradient`` (override)."""
        raise NotImplementedError

    # -- config ---------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if callable(lr):
            raise ValueError(f"{self.name}: a schedule learning rate cannot be serialised")
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, learning_rate={self._learning_rate}>"


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras's form).

    Without momentum: w <- w - lr * g. With momentum mu:
    m <- mu * m - lr * g, then w <- w + m, or with Nesterov w <- w + mu * m - lr * g.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._slot_names = ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, lr):
        if self.momentum == 0:
            variable -= gradient * lr
            return
        m = self._slot("momentum", self._index)
        mu = variable.dtype.type(self.momentum)
        m[...] = m * mu - gradient * lr
        if self.nesterov:
            variable += m * mu - gradient * lr
        else:
            variable += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Root mean square propagation (Keras's form: epsilon inside the square root).

    v <- rho v + (1 - rho) g^2; centered: a <- rho a + (1 - rho) g, denominator
    v - a^2 + eps, else v + eps; step = lr g / sqrt(denominator); with momentum mu:
    m <- mu m + step, w <- w - m; else w <- w - step.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self._slot_names = (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                            + (("average_gradient",) if self.centered else ()))

    def update_step(self, gradient, variable, lr):
        i, rho = self._index, self.rho
        velocity = self._slot("velocity", i)
        velocity[...] = rho * velocity + (1 - rho) * np.square(gradient)
        if self.centered:
            avg = self._slot("average_gradient", i)
            avg[...] = rho * avg + (1 - rho) * gradient
            denominator = velocity - np.square(avg) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = lr * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            m = self._slot("momentum", i)
            m[...] = self.momentum * m + increment
            variable -= m
        else:
            variable -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam (Keras's form: bias correction folded into the step, epsilon outside the root).

    t = iterations + 1; alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
    m <- m + (g - m)(1 - beta_1); v <- v + (g^2 - v)(1 - beta_2);
    amsgrad: v_hat <- max(v_hat, v) is used for v; w <- w - alpha m / (sqrt(v) + eps).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)
        self._slot_names = ("momentum", "velocity") + (("velocity_hat",) if amsgrad else ())

    def update_step(self, gradient, variable, lr):
        i, f = self._index, variable.dtype.type
        t = f(self.iterations + 1)
        beta_1_power, beta_2_power = np.power(f(self.beta_1), t), np.power(f(self.beta_2), t)
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m, v = self._slot("momentum", i), self._slot("velocity", i)
        m += (gradient - m) * (1 - self.beta_1)
        v += (np.square(gradient) - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slot("velocity_hat", i)
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): w <- w - w * wd * lr first."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adagrad(Optimizer):
    """Adagrad: a <- a + g^2 (a starts at initial_accumulator_value);
    w <- w - lr g / sqrt(a + eps)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)
        self._slot_names = ("accumulator",)
        self._slot_init = {"accumulator": self.initial_accumulator_value}

    def update_step(self, gradient, variable, lr):
        acc = self._slot("accumulator", self._index)
        acc += np.square(gradient)
        variable -= lr * gradient / np.sqrt(acc + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_NAMES = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ("rmsprop"), an instance, or a
    ``{"class_name", "config"}`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"optimizer: cannot interpret {identifier!r}; expected a name such as "
                     f"'rmsprop' or an Optimizer instance")


def _lookup(name):
    cls = _NAMES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizer: unknown name {name!r}; known: {sorted(_NAMES)}")
    return cls


def serialize(optimizer):
    """``{"class_name", "config"}`` (for model files)."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
