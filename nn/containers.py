"""Containers: Sequential (a chain), ModuleList and ModuleDict (registered collections of modules),
ParameterList and ParameterDict (registered collections of parameters)."""
from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Iterable

from autograd import Tensor

from .module import Module, _addindent
from .parameter import Parameter


def _index(idx, length, kind):
    idx = operator.index(idx)
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range for a {kind} of length {length}")
    return idx % length


class Sequential(Module):
    """Modules called one after another: `Sequential(a, b, c)(x) == c(b(a(x)))`: `torch.nn.Sequential`.
    Also built from an OrderedDict name -> module. Indexing gives a module, slicing a Sequential."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        """Each module in turn on the output of the one before."""
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(self), "Sequential")]]):
            del self._modules[key]
        # Renumber, as PyTorch does, so indices stay consecutive.
        items = list(self._modules.items())
        self._modules.clear()
        for i, (_, module) in enumerate(items):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"cannot add a Sequential and a {type(other).__name__}")
        return Sequential(*self, *other)

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add each of `modules` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert `module` before position `index`; returns self."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index %= n + 1
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m
        return self

    def pop(self, key: int) -> Module:
        """Remove the module at `key` and return it."""
        module = self[key]
        del self[key]
        return module


class ModuleList(Module):
    """A list of modules whose parameters the owner sees (a plain list would hide them):
    `torch.nn.ModuleList`. Index, iterate, `append`, `extend`, `insert`, `pop` as a list."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [str(_index(idx, len(self), "ModuleList"))]):
            del self._modules[key]
        items = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(items):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> ModuleList:
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of `modules` at the end; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules, "
                            f"but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert `module` before position `index`."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def pop(self, key: int) -> Module:
        """Remove the module at `key` and return it."""
        module = self[key]
        del self[key]
        return module

    def forward(self, *args, **kwargs):
        """Raises, as in PyTorch: a ModuleList holds modules; call them in your own forward."""
        raise NotImplementedError("ModuleList has no forward: iterate over it in your own forward")

    def __repr__(self):
        """As PyTorch: runs of identical modules are shown once, as `(0-2): 3 x Linear(...)`."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            line = f"({start}): {r}" if start == end else f"({start}-{end}): {end - start + 1} x {r}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict name -> module whose parameters the owner sees: `torch.nn.ModuleDict`."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the module named `key` and return it."""
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add (or replace) modules from a mapping or an iterable of (name, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args, **kwargs):
        """Raises, as in PyTorch: a ModuleDict holds modules; call them in your own forward."""
        raise NotImplementedError("ModuleDict has no forward: index it in your own forward")


def _as_parameter(kind, value):
    """A Parameter as it is; any other Tensor wrapped in one (sharing its array), as PyTorch does."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{kind} holds Tensors (nn.Parameter, or a Tensor to wrap in one), got {type(value).__name__}")


def _describe_parameters(items):
    """`(name): Parameter containing: [float32 of size 3x4]`, one line per parameter, for a repr."""
    return "\n".join(f"({name}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                     for name, p in items)


class ParameterList(Module):
    """A list of parameters that the owner registers (a plain list would hide them from
    `parameters()`): `torch.nn.ParameterList`. A Tensor that is not a Parameter is wrapped in one.
    Index, slice, iterate, `append` and `extend` as a list; named "0", "1", ... in the state dict."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self)[idx])
        return self._parameters[str(_index(idx, len(self), "ParameterList"))]

    def __setitem__(self, idx, param):
        self.register_parameter(str(_index(idx, len(self), "ParameterList")), _as_parameter("ParameterList", param))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value) -> ParameterList:
        """Add `value` (a Parameter, or a Tensor to wrap in one) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values) -> ParameterList:
        """Add each of `values` at the end; returns self."""
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable of Tensors, got a Tensor")
        for value in values:
            self.append(value)
        return self

    def forward(self, *args, **kwargs):
        """Raises, as in PyTorch: a ParameterList holds parameters; use them in your own forward."""
        raise NotImplementedError("ParameterList has no forward: use its parameters in your own forward")

    def extra_repr(self):
        return _describe_parameters(self._parameters.items())


class ParameterDict(Module):
    """An ordered dict name -> parameter that the owner registers: `torch.nn.ParameterDict`. A
    Tensor that is not a Parameter is wrapped in one."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._parameters.keys()

    def values(self) -> Iterable[Parameter]:
        """The parameters, in insertion order."""
        return self._parameters.values()

    def items(self) -> Iterable[tuple[str, Parameter]]:
        """(name, parameter) pairs, in insertion order."""
        return self._parameters.items()

    def get(self, key: str, default=None):
        """The parameter named `key`, or `default`."""
        return self._parameters.get(key, default)

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def pop(self, key: str) -> Parameter:
        """Remove the parameter named `key` and return it."""
        value = self[key]
        del self[key]
        return value

    def update(self, parameters) -> None:
        """Add (or replace) parameters from a mapping or an iterable of (name, tensor) pairs."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def forward(self, *args, **kwargs):
        """Raises, as in PyTorch: a ParameterDict holds parameters; use them in your own forward."""
        raise NotImplementedError("ParameterDict has no forward: index it in your own forward")

    def extra_repr(self):
        return _describe_parameters(self._parameters.items())
