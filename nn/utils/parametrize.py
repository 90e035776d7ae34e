"""nn.utils.parametrize: a parameter computed by modules from the tensors actually learnt, as
torch.nn.utils.parametrize: after register_parametrization(m, "weight", p), reading m.weight calls
p(original) (a chain of such modules, in order), and assigning m.weight = w stores p's
right_inverse(w). The originals live in m.parametrizations.weight (`original`, or `original0`,
`original1`, ... when right_inverse splits the tensor), under PyTorch's state dict names, and the
module's class becomes a subclass named Parametrized<Class> holding the property.
"""
from contextlib import contextmanager

import autograd as ag
from autograd import Tensor

from ..containers import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached", "ParametrizationList"]


def _as_original(value, like):
    """`value` stored as `like` was: a Parameter (requiring grad as it did) or a plain buffer Tensor."""
    value = value.detach()
    return Parameter(value, like.requires_grad) if isinstance(like, Parameter) else value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and its originals: `original`, or `original0`,
    ... when the first parametrization's right_inverse returns several tensors. As PyTorch's."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with ag.no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new is not original:
                with ag.no_grad():     # the same object keeps its place in any optimizer, as in PyTorch
                    original.data = new.detach()
            self._register_original("original", original)
        else:
            for index, tensor in enumerate(new):
                self._register_original(f"original{index}", _as_original(tensor, original))

    def _register_original(self, name, tensor):
        if isinstance(tensor, Parameter):
            self.register_parameter(name, tensor)
        else:
            self.register_buffer(name, tensor)

    def _originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{index}") for index in range(self.ntensors))

    def right_inverse(self, value):
        """Store `value` as the parametrized tensor: each parametrization's right_inverse, last first,
        written into the originals."""
        with ag.no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            for original, new in zip(self._originals(), values):
                original.data = new.detach()

    def forward(self):
        """The parametrized tensor, computed from the originals."""
        modules = list(self)
        out = modules[0](*self._originals())
        for module in modules[1:]:
            out = module(out)
        return out


def _parametrized_property(name):
    def get(module):
        return module.parametrizations[name]()

    def set_(module, value):
        module.parametrizations[name].right_inverse(value)

    return property(get, set_, doc=f"`{name}`, computed by its parametrizations")


def is_parametrized(module, tensor_name=None):
    """Whether `module` has parametrizations (on `tensor_name`, if given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make module.<tensor_name> (a parameter or buffer) the output of `parametrization` applied to
    the original, or add `parametrization` after those already there. Returns the module. As
    `torch.nn.utils.parametrize.register_parametrization`."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    original = getattr(module, tensor_name)
    if not is_parametrized(module):
        cls = module.__class__
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
        module.parametrizations = ModuleDict()
    delattr(module, tensor_name)
    module.parametrizations[tensor_name] = ParametrizationList([parametrization], original, unsafe)
    setattr(module.__class__, tensor_name, _parametrized_property(tensor_name))
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo register_parametrization on `tensor_name`: it becomes a parameter (or buffer) again, with
    the parametrized value (or, without leave_parametrized, the original). Returns the module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if leave_parametrized:
        with ag.no_grad():
            value = getattr(module, tensor_name).detach()
        if parametrizations.is_tensor:
            original = parametrizations.original
            with ag.no_grad():
                original.data = value
        else:
            original = _as_original(value, parametrizations.original0)
    else:
        if not parametrizations.is_tensor:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             "parametrized in terms of a sequence of tensors.")
        original = parametrizations.original
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


@contextmanager
def cached():
    """PyTorch's context manager that caches parametrized tensors; here each access recomputes (the
    values are the same), so it only lets code that uses it run."""
    yield
