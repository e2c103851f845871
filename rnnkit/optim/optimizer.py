"""``Optimizer``: parameter groups, per-parameter state and state dicts, as in PyTorch.

A subclass gives its defaults, checks a group's options in ``_validate(group)`` and
updates one parameter in ``_update(p, grad, state, group)``, in place on ``p.data`` and in
the parameter's dtype (scalar coefficients are rounded to it first, as PyTorch does, so
float32 parameters stay float32 throughout). Everything else lives here once.
"""
from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np

from rnnkit._tensor import Tensor
from rnnkit.autograd import enable_grad, no_grad


class Optimizer:
    """Base class of the optimizers: ``param_groups``, ``state``, ``step``, ``zero_grad``.

    params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
    ``{"params": [...], <option>: value}`` each forming a group with its own options;
    defaults: the options a group does not set.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors "
                            f"or of dicts, got a single Tensor (wrap it in a list)")
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)     # parameter -> its state (arrays, step count)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: params is an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups --------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group ``{"params": [...], <option>: value}``; unset options take defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: param_group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: params must be an ordered collection, not a set "
                            f"(its order, and so the state_dict, would change between runs)")
        params = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):
            if not all(named):
                raise ValueError(f"{name}: params must be all (name, Tensor) pairs or all "
                                 f"Tensors, not a mix")
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize rnnkit Tensors, got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (the result of "
                                 f"an op); optimize the leaves it was computed from")
        group["params"] = params
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one group")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one group")
        first = self.param_groups[0] if self.param_groups else group
        if ("param_names" in group) != ("param_names" in first):
            raise ValueError(f"{name}: all groups must be named (name, Tensor) or all unnamed")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        """Raise ValueError naming the option when ``group`` holds an invalid value."""

    def _require(self, ok, option, value, rule):
        if not ok:
            raise ValueError(f"{type(self).__name__}: {option} must be {rule}, got {value!r}")

    # -- updates -------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; returns ``closure()``'s loss if given.

        closure: optional callable that re-evaluates the model (with grad on) and returns
        the loss; it runs before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        grad = p.grad.data.astype(p.dtype, copy=False)
                        self._update(p, grad, self.state[p], group)
        return loss

    def _update(self, p, grad, state, group):
        """Update ``p.data`` in place from ``grad`` (never modify ``grad`` itself)."""
        raise NotImplementedError

    # -- state dicts ---------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state in PyTorch's layout, with NumPy arrays (copies).

        ``{"state": {index: {name: value}}, "param_groups": [{<options>, "params":
        [index, ...]}]}``; parameters are numbered in group order, from 0.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: _copy(v) for k, v in s.items()}
                 for p, s in self.state.items() if s and id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (ours, or PyTorch's with tensors made arrays).

        Groups are matched by position and must hold as many parameters as ours; state
        arrays are copied into each parameter's dtype and must have its shape.
        """
        name = type(self).__name__
        saved = copy.deepcopy(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}: state_dict has {len(saved)} parameter groups, this "
                             f"optimizer {len(self.param_groups)}")
        by_index = {}
        for i, (ours, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(f"{name}: state_dict's group {i} has "
                                 f"{len(theirs['params'])} parameters, ours "
                                 f"{len(ours['params'])}")
            by_index.update(zip(theirs["params"], ours["params"]))
        state = defaultdict(dict)
        for k, values in state_dict["state"].items():
            if k not in by_index:
                raise ValueError(f"{name}: state_dict has state for parameter {k!r}, which "
                                 f"no group lists")
            p = by_index[k]
            state[p] = {key: _restore(name, p, k, key, v) for key, v in values.items()}
        for ours, theirs in zip(self.param_groups, saved):
            theirs["params"] = ours["params"]
            if "param_names" in ours and "param_names" not in theirs:
                theirs["param_names"] = ours["param_names"]
            for key, value in self.defaults.items():
                theirs.setdefault(key, value)
            self._validate(theirs)
        self.state, self.param_groups = state, saved

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _copy(value):
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else copy.deepcopy(value)


def _restore(name, p, index, key, value):
    """One loaded state value: ``step`` as an int, arrays in ``p``'s dtype and shape."""
    if key == "step":
        return int(np.asarray(value.data if isinstance(value, Tensor) else value))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.shape != p.shape:
        raise ValueError(f"{name}: state_dict's {key!r} for parameter {index} has shape "
                         f"{arr.shape}, the parameter {p.shape}")
    return np.array(arr, dtype=p.dtype if p.dtype.kind == "f" else arr.dtype, copy=True)
