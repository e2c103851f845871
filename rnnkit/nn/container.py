"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``.

Each holds submodules under string keys ("0", "1", ... or the names given), so their
parameters appear in ``state_dict`` as ``0.weight``, ``encoder.weight_ih_l0``, ...,
exactly as in PyTorch.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from rnnkit.nn.module import Module


def _require_module(module, owner):
    """``module`` itself, or a TypeError naming the container it was offered to."""
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected a Module, got {type(module).__name__}")
    return module


def _position(index, length, owner):
    """A non-negative position for ``index`` in [-length, length), or an IndexError."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"{owner}: indices must be integers or slices, got "
                        f"{type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for {length} modules")
    return index % length


class Sequential(Module):
    """Modules applied one after another: ``forward(x) = m_n(...m_2(m_1(x)))``.

    Sequential(m_1, m_2, ...) keys them "0", "1", ...; Sequential(OrderedDict(name=m))
    keeps the given names. Supports len, iteration, seq[i] (seq[a:b] is a Sequential
    with the same keys), seq[i] = m, append and extend. Input and output shapes are
    those of the first and last module.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, _require_module(module, "Sequential"))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), _require_module(module, "Sequential"))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_position(index, len(items), "Sequential")][1]

    def __setitem__(self, index, module):
        key = list(self._modules)[_position(index, len(self), "Sequential")]
        self._modules[key] = _require_module(module, "Sequential")
        object.__setattr__(self, key, module)

    def append(self, module):
        """Add ``module`` at the end (key ``str(len(self))``); returns self."""
        self.add_module(str(len(self)), _require_module(module, "Sequential"))
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def forward(self, input):
        """Feed ``input`` through every module in order and return the last output."""
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, registered so their parameters belong to the owner.

    ModuleList(iterable=None). Supports len, iteration, ml[i], ml[a:b] (a ModuleList),
    ml[i] = m, del ml[i], append, extend, insert, pop and +=. Keys are the positions
    "0", "1", ..., renumbered after an insert or a deletion as in PyTorch.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_position(index, len(self), "ModuleList"))]

    def __setitem__(self, index, module):
        key = str(_position(index, len(self), "ModuleList"))
        self._modules[key] = _require_module(module, "ModuleList")
        object.__setattr__(self, key, module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position(index, len(modules), "ModuleList")]
        self._renumber(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), _require_module(module, "ModuleList"))
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend: expected an iterable of modules, got "
                            f"{type(modules).__name__}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (list.insert's rule)."""
        modules = list(self._modules.values())
        modules.insert(index, _require_module(module, "ModuleList"))
        self._renumber(modules)

    def pop(self, index=-1):
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def _renumber(self, modules):
        for key in list(self._modules):
            delattr(self, key)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __repr__(self):
        # PyTorch's form: a run of identical consecutive modules prints once,
        # as "(first-last): count x <repr>".
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs = []  # [first, last, text]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            head = f"({first}): " if first == last else \
                f"({first}-{last}): {last - first + 1} x "
            lines.append((head + text).replace("\n", "\n  "))
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules, registered so their parameters belong to the owner.

    ModuleDict(modules=None), modules a mapping or an iterable of (name, module) pairs.
    Supports md[name], md[name] = m, del md[name], len, iteration over names, ``in``,
    keys, values, items, update, pop and clear. Names are state_dict prefixes.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, _require_module(module, "ModuleDict"))

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules):
        """Add (or replace) entries from a mapping or an iterable of (name, module)."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected (name, module) pairs, got "
                                f"{pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key):
        """Remove the entry ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self):
        """Remove every entry."""
        for key in list(self._modules):
            del self[key]
