"""``Module``: the base class of every ``rnnkit.nn`` layer, PyTorch's conventions.

Setting a :class:`Parameter` or a Module as an attribute registers it; ``state_dict``
keys are the dotted attribute paths (``rnn.weight_ih_l0``), as in PyTorch, so
state_dicts move between the two frameworks unchanged.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from rnnkit._tensor import Tensor, _as_dtype, _to_array
from rnnkit.autograd import no_grad
from rnnkit.nn.parameter import Parameter


class Module:
    """Base class for layers: parameters, submodules, buffers, train/eval, state_dict."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter "
                                f"{name!r}: expected a Parameter or None")
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to submodule "
                                f"{name!r}: expected a Module or None")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer "
                                f"{name!r}: expected a Tensor or None")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        """``del module.name`` also unregisters a parameter, submodule or buffer."""
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        self.__dict__.get("_non_persistent", set()).discard(name)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, array, persistent=True):
        """Register a non-trainable array (saved in the state_dict when persistent)."""
        self._buffers[name] = None if array is None else Tensor(_to_array(array))
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        object.__setattr__(self, name, self._buffers[name])

    def add_module(self, name, module):
        """Register ``module`` as a submodule called ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got "
                            f"{type(module).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"add_module: module name must be a non-empty string without "
                           f"'.', got {name!r}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"add_module: attribute {name!r} already exists")
        setattr(self, name, module)
        self._modules[name] = module

    # -- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(dotted name, module) for self and every submodule, depth first."""
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def children(self):
        for m in self._modules.values():
            if m is not None:
                yield m

    def named_children(self):
        for n, m in self._modules.items():
            if m is not None:
                yield n, m

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs, each parameter once."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix=""):
        for mod_name, m in self.named_modules(prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    # -- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active) for self and every submodule; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- dtype --------------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None):
        """Convert every floating parameter and buffer to ``dtype`` in place; returns self.

        Accepts PyTorch's forms ``to(dtype)``, ``to("cpu")``, ``to("cpu", dtype)``;
        rnnkit runs on the CPU only, so any other device is an error.
        """
        for a in args:
            if isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
                device = a
            else:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"to: rnnkit runs on the CPU only, got device {device!r}")
        if dtype is None:
            return self
        dtype = _as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to: expected a floating dtype, got {dtype}")
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p.dtype.kind == "f":
                    p.data = p.data.astype(dtype)
                    if p.grad is not None:
                        p.grad.data = p.grad.data.astype(dtype)
            for b in m._buffers.values():
                if b is not None and b.dtype.kind == "f":
                    b.data = b.data.astype(dtype)
        return self

    def cpu(self):
        """A no-op (rnnkit computes on the CPU); returns self, like PyTorch's."""
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # -- state_dict ---------------------------------------------------------------------
    def state_dict(self):
        """An ordered {dotted name: ndarray} of parameters and persistent buffers.

        The arrays are copies, so later training does not change a saved state.
        """
        out = OrderedDict()
        for mod_name, m in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[pre + name] = p.data.copy()
            skip = m.__dict__.get("_non_persistent", set())
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    out[pre + name] = b.data.copy()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` (NumPy arrays, rnnkit or torch tensors).

        Shapes must match exactly; each value is cast to the target's dtype. With
        ``strict`` every key must match. Returns (missing_keys, unexpected_keys).
        """
        targets = OrderedDict()
        for mod_name, m in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, p in m._parameters.items():
                if p is not None:
                    targets[pre + name] = p
            skip = m.__dict__.get("_non_persistent", set())
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    targets[pre + name] = b
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}")
        arrays = {}
        for key, t in targets.items():
            if key not in state_dict:
                continue
            value = _to_numpy(state_dict[key], key)
            if value.shape != t.shape:
                raise ValueError(f"load_state_dict: {key} has shape {value.shape} in the "
                                 f"state_dict, but the module expects {t.shape}")
            arrays[key] = value
        with no_grad():  # validate everything first, then copy: no half-loaded modules
            for key, value in arrays.items():
                targets[key].data[...] = value
        return missing, unexpected

    # -- calling ------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The text between the parentheses of this module's repr (override it)."""
        return ""

    def __repr__(self):
        # PyTorch's layout: a one-line extra_repr stays inside the parentheses; with
        # submodules (or a multi-line extra_repr) every item gets its own indented line.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(m).replace("\n", "\n  ")
                       for name, m in self._modules.items()]
        head = f"{type(self).__name__}("
        if len(extra_lines) == 1 and not child_lines:
            return head + extra_lines[0] + ")"
        if not extra_lines and not child_lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(extra_lines + child_lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules)


def _to_numpy(value, key):
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, duck-typed
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:
        raise TypeError(f"load_state_dict: {key} holds a {type(value).__name__}, expected "
                        f"a NumPy array or a tensor") from exc
