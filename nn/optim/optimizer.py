"""Optimizer: parameter groups, per-parameter state, `zero_grad`, and PyTorch's `state_dict` format.

Subclasses implement `step()` by updating each parameter's array (`p.numpy()`) in place with NumPy (the update is
not part of any graph, so no `no_grad` is needed). They never write into `p.grad`: a gradient array
may be shared with another tensor (the engine hands one object to both inputs of an `add`), so
anything derived from it is a new array. Per-parameter state (`self.state[p]`) holds NumPy arrays and
a Python int `step`; `state_dict()` hands the arrays out as Tensors sharing their memory, in PyTorch's
layout:

    {'state': {0: {'step': 3, 'exp_avg': tensor(...), ...}, ...},
     'param_groups': [{'lr': 0.001, 'betas': (0.9, 0.999), ..., 'params': [0, 1, ...]}]}

where the integers stand for the parameters in the order the groups list them.
"""
import functools
import numbers
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy

import numpy as np

import autograd as ag
from autograd import Tensor

from ..module import Module, _register, zero_grad_of


class _RequiredParameter:
    """The default of an option each group must give (PyTorch's `torch.optim.optimizer.required`)."""
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def check_number(optimizer, name, value, low=0.0, high=None, high_inclusive=False):
    """Raise a ValueError naming the optimizer, the option and the value unless low <= value (< high)."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a real number, got {value!r}")
    if not value >= low:  # also catches NaN
        raise ValueError(f"{optimizer}: invalid {name}: {value!r} (must be >= {low})")
    if high is not None and not (value <= high if high_inclusive else value < high):
        bound = "<=" if high_inclusive else "<"
        raise ValueError(f"{optimizer}: invalid {name}: {value!r} (must be {bound} {high})")


def _reject_module(optimizer, params):
    """A model passed where its parameters belong: say so, rather than fail on its first layer."""
    if isinstance(params, Module):
        raise TypeError(f"{optimizer}: params should be the model's parameters, but got the model itself (a "
                        f"{type(params).__name__}); pass model.parameters()")


def param_data(p):
    """`p.numpy()`, given its own writable memory first if it is a read-only view (e.g. a broadcast)."""
    data = p.numpy()
    if not data.flags.writeable:
        data = p.data = np.array(data)
    return data


class Optimizer:
    """Base class: holds `param_groups` (list of dicts, each with 'params' and the options) and
    `state` (param -> dict). `defaults` fills the options a group does not give.

    A subclass written the PyTorch way keeps Tensors in its state (`state["momentum_buffer"] =
    torch.zeros_like(p)`), and gets Tensors back from `load_state_dict`; ndgrad's own optimizers update
    in NumPy and set `_arrays_in_state`, so they get arrays."""

    _arrays_in_state = False

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        _reject_module(type(self).__name__, params)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got a "
                            "single Tensor; pass [tensor] or model.parameters()")
        if isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: params need to be in an ordered collection (a list, not a "
                            "set): the order of a set changes between runs")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{type(self).__name__} got an empty parameter list (did the model define no "
                             "parameters, or was a parameters() generator already used up?)")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        # every optimizer's own step runs the step hooks, as torch patches it (an override calling
        # super().step() runs them once, around the outer call)
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None:
            cls.step = _running_step_hooks(step)

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) runs before each step (args start with the optimizer, as torch's);
        a non-None result is the new (args, kwargs). Returns a handle whose .remove() unregisters it."""
        return _register(self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict()), hook, False)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) runs after each step. Returns a handle whose .remove() unregisters it."""
        return _register(self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict()), hook, False)

    def _check_group(self, group):
        """Subclasses raise a ValueError for an invalid option value in `group`."""

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with 'params' and any per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)  # the caller's dict is left alone
        params = group.get("params")
        if params is None:
            raise ValueError("param_group has no 'params' entry")
        _reject_module(type(self).__name__, params)
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be in an ordered collection (a list, not a set): the "
                            "order of a set changes between runs")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]  # from named_parameters()
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with or without names; some names are missing")
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} was made by "
                                 f"{type(p.grad_fn).__name__}); optimize the leaf it was computed from")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._check_group(group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each will be "
                          "updated more than once per step", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError("all optimizer param groups should be with or without names")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (`set_to_none=True`), or zero it in place, as PyTorch (a `g = p.grad` the
        caller kept sees the zeros, and then what backward adds into it); a read-only one is replaced."""
        for group in self.param_groups:
            for p in group["params"]:
                zero_grad_of(p, set_to_none)

    def step(self, closure=None):
        """Update the parameters from their `.grad`; each optimizer implements its rule here."""
        raise NotImplementedError

    @staticmethod
    def _with_grads(group):
        """(param, its writable array, its gradient array) for each param of `group` that has a
        gradient; the gradient is negated when the group maximizes. The gradient array is shared
        with `p.grad`: read it, never write into it."""
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad.numpy()
            yield p, param_data(p), (-g if maximize else g)

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        with ag.enable_grad():
            return closure()

    # -- state dict ------------------------------------------------------------------------------
    def state_dict(self):
        """The state in PyTorch's layout: parameters replaced by their index in group order.
        Arrays are handed out as Tensors sharing the optimizer's memory (as PyTorch does)."""
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: ag.from_numpy(v) if isinstance(v, np.ndarray) else v
                                       for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict made by `state_dict()` (or read back by `nn.load`). Arrays are copied and cast
        to their parameter's dtype. Everything is checked first: on error the optimizer is unchanged."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                             f"(from Optimizer.state_dict()), got {_describe(state_dict)}")
        saved_groups = deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                                 f"parameters in the loaded state dict but {len(group['params'])} in the optimizer")
            id_map.update(zip(saved["params"], group["params"]))

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            key = int(key) if isinstance(key, str) and key.isdigit() else key
            if key not in id_map:
                state[key] = values  # state not tied to a parameter is kept as is, as in PyTorch
                continue
            param = id_map[key]
            state[param] = {k: _cast_state(param, k, v, name, key, self._arrays_in_state) for k, v in values.items()}

        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for option, default in self.defaults.items():
                saved.setdefault(option, default)
            if "betas" in saved and isinstance(saved["betas"], list):
                saved["betas"] = tuple(saved["betas"])
            self._check_group(saved)
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def _running_step_hooks(step):
    @functools.wraps(step)
    def step_with_hooks(self, *args, **kwargs):
        pre, post = self.__dict__.get("_optimizer_step_pre_hooks"), self.__dict__.get("_optimizer_step_post_hooks")
        if not (pre or post) or self.__dict__.get("_running_step"):
            return step(self, *args, **kwargs)
        arguments = (self, *args)
        for hook in list((pre or {}).values()):
            result = hook(self, arguments, kwargs)
            if result is not None:
                arguments, kwargs = result
        self._running_step = True
        try:
            out = step(*arguments, **kwargs)
        finally:
            self._running_step = False
        for hook in list((post or {}).values()):
            hook(self, arguments, kwargs)
        return out
    return step_with_hooks


def _cast_state(param, key, value, name, index, as_array):
    """A copy of one loaded state value, owned by the optimizer: arrays become writable NumPy arrays
    (floating ones in the parameter's dtype), Tensors again unless `as_array`; a 'step' count becomes
    an int."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if key == "step":
        return int(np.asarray(value).item()) if isinstance(value, np.ndarray) else value
    if isinstance(value, np.ndarray):
        dtype = param.dtype if value.dtype.kind == "f" else value.dtype
        if not as_array:   # a PyTorch-style optimizer's own state, of whatever shape it chose
            return ag.from_numpy(np.array(value, dtype=dtype, copy=True))
        if value.shape != param.shape:
            raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter {index} has shape {value.shape}, "
                             f"but the parameter has shape {param.shape}")
        return np.array(value, dtype=dtype, copy=True)
    return deepcopy(value)


def _describe(obj):
    return f"a {type(obj).__name__} with keys {list(obj)[:5]}" if isinstance(obj, dict) else f"a {type(obj).__name__}"
