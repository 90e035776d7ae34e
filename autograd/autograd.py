"""`autograd.autograd`: the names PyTorch keeps under `torch.autograd`, so that code written as
`torch.autograd.grad(...)`, `class F(torch.autograd.Function)` or
`torch.autograd.gradcheck(...)` runs after `torch` -> `autograd`. Nothing new lives here."""
import warnings

from . import function  # noqa: F401  (ag.autograd.function.once_differentiable, as torch.autograd.function)
from . import functional  # noqa: F401  (ag.autograd.functional.jacobian, as torch.autograd.functional)
from . import saved_tensor_hooks as graph  # noqa: F401  (ag.autograd.graph.saved_tensors_hooks, as torch.autograd.graph)
from .engine import grad
from .function import Function
from .gradcheck import gradcheck, gradgradcheck
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, no_grad, set_detect_anomaly,
                        set_grad_enabled)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """torch.autograd.backward: accumulate into `.grad` the gradients of `tensors` (one or several)."""
    from . import engine
    from .tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    root_grads = [engine.root_grad(t, g, "autograd.backward") for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    engine.backward(tensors, root_grads, retain_graph, create_graph,
                    [inputs] if isinstance(inputs, Tensor) else inputs)


class _VariableMeta(type):
    # Since PyTorch 0.4 every Tensor is a Variable: isinstance(t, Variable) holds for any tensor.
    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad=False, volatile=False):
        from .tensor import Tensor
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        return data.detach().requires_grad_(requires_grad)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable, which old code still wraps tensors in (`Variable(x, requires_grad=True)`):
    a new leaf sharing `data`'s memory, requiring grad only if asked; `volatile` warns and does nothing,
    as in PyTorch."""
