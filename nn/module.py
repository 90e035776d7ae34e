"""Module: the base class of every layer and model, with PyTorch's registration rules.

Assigning a Parameter, a Module or (for a name made with `register_buffer`) a Tensor to an
attribute registers it, as `torch.nn.Module.__setattr__` does; the registries are ordered, so
`named_parameters()` and `state_dict()` give PyTorch's order and names: a module's own
parameters, then its own buffers, then each child's entries in the order the children were
assigned, recursively, with dotted names ("0.weight", "block.bn.running_mean").

`load_state_dict` first checks every key, shape and value, and only then copies anything, so a
failed load leaves the module exactly as it was. Values are copied into the existing arrays
(parameters keep their identity, and their dtype), which keeps an optimizer's references valid.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, namedtuple
from typing import Callable, Iterator, Mapping

import numpy as np

import autograd as ag
from autograd import Tensor

from .backward_hooks import BackwardHook
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns, as in PyTorch."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the register_*_hook methods; `.remove()` unregisters the hook."""
    _ids = itertools.count()

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        """Unregister the hook (a no-op the second time)."""
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _as_array(value, key):
    """A state-dict value (Tensor, numpy array or array-like) as an ndarray."""
    if isinstance(value, Tensor):
        return value.numpy()
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is None or array.dtype.kind not in "biufc":
        raise TypeError(f"load_state_dict: the value for {key!r} must be a Tensor or a numeric numpy array, "
                        f"got {type(value).__name__}")
    return array


class Module:
    """Base class for all layers and models: subclass it, assign layers and Parameters in
    `__init__` (after `super().__init__()`), and write `forward`."""

    training: bool
    dump_patches = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            "Module.__init__ takes none")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks_always_called", set())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        """The computation: override it in every subclass. Call the module (`model(x)`), not `forward`,
        so that hooks run.
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # -- calling ---------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """Run `forward` between the forward pre-hooks and forward hooks (and under the full backward
        hooks), as `torch.nn.Module.__call__`: call the module (`model(x)`), not its `forward`."""
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
            output = self._forward_with_hooks(args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        node = output.grad_fn if isinstance(output, Tensor) else None
        if node is not None and getattr(node, "made_by", None) is None:
            # The innermost module whose forward returned this node's output: draw_graph names and
            # groups the ops of parameter-free layers (Dropout's Mul, ReLU) by it.
            node.made_by = self
        return output

    def _forward_with_hooks(self, args, kwargs):
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{type(self).__name__}: a forward pre-hook registered with_kwargs=True "
                                           "must return None or a tuple (args, kwargs)")
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = BackwardHook(self, self._backward_pre_hooks.values(), self._backward_hooks.values())
            args = backward_hook.setup_input_hook(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in list(self._forward_hooks.items()):  # `always_call` hooks see the failure too
                if key in self._forward_hooks_always_called:
                    self._call_forward_hook(key, hook, args, kwargs, None)
            raise
        for key, hook in list(self._forward_hooks.items()):
            result = self._call_forward_hook(key, hook, args, kwargs, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False) -> RemovableHandle:
        """`hook(module, args)` runs before `forward`; a non-None result replaces the args. With
        with_kwargs, `hook(module, args, kwargs)` returns None or a new (args, kwargs). Returns a handle
        whose `.remove()` unregisters it: `torch.nn.Module.register_forward_pre_hook`."""
        handle = _register(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False) -> RemovableHandle:
        """hook(module, grad_output) runs when the gradients of all the module's outputs are known;
        a non-None result (one gradient per output Tensor) replaces them (nn/backward_hooks.py)."""
        return _register(self._backward_pre_hooks, hook, prepend)

    def compile(self, *args, **kwargs) -> None:
        """PyTorch's in-place torch.compile of the module; here a no-op (the module runs as it is), so
        code calling it runs. As `torch.nn.Module.compile` (which also returns None)."""

    def register_backward_hook(self, hook) -> RemovableHandle:
        """PyTorch's older, deprecated backward hook. It runs as `register_full_backward_hook`'s:
        grad_input holds the gradients of the module's inputs (PyTorch's older hook gave those of the
        inputs of the module's last operation, which it warns is wrong for modules of several ops)."""
        warnings.warn("register_backward_hook is deprecated (as in PyTorch): it runs as register_full_backward_hook "
                      "here, grad_input being the gradients of the module's inputs", FutureWarning, stacklevel=2)
        return self.register_full_backward_hook(hook)

    def register_full_backward_hook(self, hook, prepend=False) -> RemovableHandle:
        """hook(module, grad_input, grad_output) runs when the gradients of the module's positional
        inputs are known; a non-None result replaces grad_input (nn/backward_hooks.py)."""
        return _register(self._backward_hooks, hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False) -> RemovableHandle:
        """`hook(module, args, output)` runs after `forward`; a non-None result replaces the output.
        With with_kwargs, `hook(module, args, kwargs, output)`; with always_call, the hook also runs
        (with output None) when forward raises. Returns a handle whose `.remove()` unregisters it:
        `torch.nn.Module.register_forward_hook`."""
        handle = _register(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def _call_forward_hook(self, key, hook, args, kwargs, output):
        if key in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    # -- registration ----------------------------------------------------------------------------
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            modules[name] = None
            return
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Tensor) and getattr(value, "_is_buffer", False):   # nn.Buffer(...)
            self._discard(name, keep="_buffers")
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _discard(self, name, keep=None):
        """Forget `name` everywhere but in the registry `keep`, where it is about to be replaced: a
        name assigned again keeps its place in the state dict and in parameters(), as in PyTorch."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and children live in registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_name(self, kind, name):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        if hasattr(self, name) and name not in self._parameters and name not in self._buffers \
                and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (what `self.name = nn.Parameter(...)` does)."""
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        self._discard(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a Tensor that is part of the module's state but not a parameter (running statistics):
        saved in `state_dict` (unless `persistent=False`), converted by `to()`/`double()`.
        """
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._discard(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` as a child under `name` (what `self.name = module` does); `register_module` is
        the same.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name)
        self._discard(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path `target` ("" is this module), e.g. "block.0"."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{module._get_name()} has no submodule `{part}` (looking up {target!r})")
            module = module._modules[part]
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at the dotted path `target` (its parent must exist; with strict, so must the
        name), e.g. to swap a layer: `model.set_submodule("encoder.0", nn.Identity())`."""
        if not target:
            raise ValueError("set_submodule: cannot set the submodule without a target name")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and name not in parent._modules:
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if not isinstance(module, Module):
            raise TypeError(f"set_submodule: `module` is not an nn.Module, found {type(module).__name__}")
        setattr(parent, name, module)

    def share_memory(self) -> Module:
        """Returns self: the parameters are NumPy arrays in this process (for the multiprocessing
        that PyTorch's shared memory serves, nothing to move). As `torch.nn.Module.share_memory`."""
        return self

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """Returns self: PyTorch moves parameters made on the 'meta' device to `device` uninitialised;
        here every parameter already has its memory on the CPU."""
        return self

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path `target`, e.g. "block.0.weight"."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path `target`, e.g. "bn.running_mean"."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    # -- iteration -------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct child, once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, in PyTorch's order: own parameters first, then
        each child's (only this module's own with `recurse=False`); a shared parameter once.
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, in `named_parameters` order: what an optimizer takes (`SGD(model.parameters())`)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer, as `named_parameters`."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (running statistics, ...)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes and gradients ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm using batch statistics) on this module and every
        descendant, or evaluation mode with `mode=False`; returns self.
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)`; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set `requires_grad` on every parameter (False freezes the module); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (the default, as PyTorch), or to zeros in place."""
        for param in self.parameters():
            zero_grad_of(param, set_to_none)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call `fn` on every child (recursively, children first) and then on self, e.g. to initialise
        weights; returns self.
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- dtype and device ------------------------------------------------------------------------
    def _apply(self, convert):
        """Replace the array of every parameter, gradient and buffer by convert(array), in place
        (the Parameter objects stay the same, so optimizers keep working)."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                param.data = convert(param.numpy())
                if param.grad is not None:
                    param.grad = ag.from_numpy(convert(param.grad.numpy()))
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    buffer.data = convert(buffer.numpy())
        return self

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, **kwargs) -> Module:
        """`to(dtype)` converts floating parameters and buffers in place; `to("cpu")` is a no-op
        (NumPy's CPU is the only device); `to(tensor)` takes the tensor's dtype."""
        _, target = ag.parse_to(*args, dtype=dtype, device=device, non_blocking=non_blocking, **kwargs)
        if target is None:
            return self
        if target.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={target}")
        return self._apply(lambda a: a.astype(target, copy=False) if a.dtype.kind in "fc" else a)

    def double(self) -> Module:
        """Floating parameters and buffers to float64, in place; returns self."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Floating parameters and buffers to float32, in place; returns self."""
        return self.to(np.float32)

    def half(self) -> Module:
        """Floating parameters and buffers to float16, in place; returns self."""
        return self.to(np.float16)

    def type(self, dst_type) -> Module:
        """Floating parameters and buffers to `dst_type`, in place; returns self."""
        return self.to(dst_type)

    def cpu(self) -> Module:
        """Self: the CPU is the only device."""
        return self

    def cuda(self, device=None) -> Module:
        """Raises: ndgrad has no CUDA device."""
        ag.device("cuda")   # raises: the CPU is the only device

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An OrderedDict name -> Tensor: parameters, then persistent buffers, module by module.
        Values share memory with the module (detached, unless keep_vars). State-dict hooks run as
        PyTorch's: each module's pre-hooks before its entries, its post-hooks after its children's."""
        if args:  # PyTorch's legacy positional (destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
        return self._collect_state(destination, prefix, keep_vars, run_hooks=True)

    def _collect_state(self, destination, prefix, keep_vars, run_hooks):
        if run_hooks:
            for hook in self._state_dict_pre_hooks.values():
                hook(self, prefix, keep_vars)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                if run_hooks:  # through state_dict, which a subclass may override
                    module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
                else:
                    module._collect_state(destination, prefix + name + ".", keep_vars, run_hooks)
        if run_hooks:
            for hook in self._state_dict_hooks.values():
                result = hook(self, destination, prefix, {})
                if getattr(hook, "_from_public_api", False):
                    if result is not None:
                        raise RuntimeError("state_dict post-hook must return None")
                elif result is not None:
                    destination = result
        return destination

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """`hook(module, prefix, keep_vars)` runs before `state_dict` collects this module's entries:
        `torch.nn.Module.register_state_dict_pre_hook`."""
        return _register(self._state_dict_pre_hooks, hook, False)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata)` runs after `state_dict` collected this
        module's entries and its children's, and may change `state_dict` in place (it must return
        None): `torch.nn.Module.register_state_dict_post_hook`."""
        def public_hook(*args):
            return hook(*args)
        public_hook._from_public_api = True
        return _register(self._state_dict_hooks, public_hook, False)

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """PyTorch's older state-dict post-hook: as `register_state_dict_post_hook`, but a non-None
        result replaces the state dict."""
        return _register(self._state_dict_hooks, hook, False)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)` runs before `load_state_dict` reads this module's entries; it may rename or add
        entries of `state_dict` in place (old checkpoints): `torch.nn.Module.register_load_state_dict_pre_hook`."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False) -> RemovableHandle:
        """PyTorch's older form: without `with_module`, the hook is called without the module."""
        return _register(self._load_state_dict_pre_hooks, functools.partial(hook, self) if with_module else hook,
                         False)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """`hook(module, incompatible_keys)` runs after `load_state_dict` copied the values, before a
        strict load raises on missing or unexpected keys; it may remove keys from
        `incompatible_keys.missing_keys` / `.unexpected_keys` in place (it must return None):
        `torch.nn.Module.register_load_state_dict_post_hook`."""
        return _register(self._load_state_dict_post_hooks, hook, False)

    def _state_targets(self):
        """name -> the Tensor a state-dict value is copied into (what state_dict would save, hooks aside)."""
        return self._collect_state(OrderedDict(), "", True, run_hooks=False)

    def _load_defaults(self, state_dict, prefix):
        """Hook for layers that fill in entries missing from old state dicts (BatchNorm)."""

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False):
        """Copy `state_dict` (name -> Tensor or numpy array) into this module's parameters and
        buffers. Any missing or unexpected key (with strict=True), wrong shape or bad value raises
        a RuntimeError naming them all, and then nothing has been changed. Returns the named tuple
        (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        state_dict = OrderedDict(state_dict)
        missing, unexpected, errors = [], [], []  # the lists pre-hooks may append to, as PyTorch's
        for prefix, module in self.named_modules():
            prefix = prefix + "." if prefix else ""
            for hook in module._load_state_dict_pre_hooks.values():
                hook(state_dict, prefix, {}, strict, missing, unexpected, errors)
            module._load_defaults(state_dict, prefix)
        targets = self._state_targets()
        missing += [key for key in targets if key not in state_dict]
        unexpected += [key for key in state_dict if key not in targets]
        arrays = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            try:
                array = _as_array(state_dict[key], key)
            except TypeError as error:
                errors.append(str(error))
                continue
            if array.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {array.shape} from "
                              f"checkpoint, the shape in current model is {target.shape}.")
                continue
            if array.dtype.kind == "c" and target.dtype.kind != "c":
                errors.append(f"dtype mismatch for {key}: cannot copy complex values into {target.dtype}.")
                continue
            arrays[key] = array
        post_hooks = [(module, hook) for module in self.modules() for hook in module._load_state_dict_post_hooks.values()]
        # Without post-hooks (which may forgive missing keys) every error is known now: then nothing is changed.
        self._raise_load_errors(errors, strict and not post_hooks, missing, unexpected)
        # Everything checked: now copy (the same array may be loaded into itself, which is fine).
        for key, array in arrays.items():
            target = targets[key]
            if assign:
                target.data = np.array(array, dtype=target.dtype)
            elif target.numpy().flags.writeable:
                np.copyto(target.numpy(), array, casting="unsafe")
            else:
                target.data = np.array(array, dtype=target.dtype)
        incompatible = _IncompatibleKeys(missing, unexpected)
        for module, hook in post_hooks:
            if hook(module, incompatible) is not None:
                raise RuntimeError("load_state_dict post hooks must return None; hooks change incompatible_keys "
                                   "in place")
        self._raise_load_errors([], strict, missing, unexpected)  # after the copy, as PyTorch
        return incompatible

    def _raise_load_errors(self, errors, strict, missing, unexpected):
        errors = list(errors)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors))

    # -- printing --------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def zero_grad_of(param: Tensor, set_to_none: bool) -> None:
    """param.grad dropped, or (as PyTorch) detached and zeroed in place, counting a version: a caller's
    g = param.grad sees the zeros, and a graph that saved the gradient refuses to use it; a read-only
    gradient is replaced. Module's and Optimizer's zero_grad."""
    if set_to_none:
        param.grad = None
        return
    if param.grad is None:
        return
    if param.grad.numpy().flags.writeable:
        param.grad.detach_()
        with ag.no_grad():
            param.grad.zero_()
    else:
        param.grad = ag.zeros_like(param.grad)
