"""Parameter: a Tensor that a Module registers as one of its learnable parameters (and Buffer, one
it registers as a buffer).

As in PyTorch, `Parameter(t)` shares `t`'s array (no copy), requires grad by default, and is a
Tensor (`isinstance(p, autograd.Tensor)`), so it goes anywhere a Tensor goes.
"""
import numpy as np

from autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter when assigned as its attribute;
    shares `data`'s array and requires grad unless `requires_grad=False`. As
    `torch.nn.Parameter`."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        super().__init__(data.numpy() if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class _BufferMeta(type):
    # isinstance(t, Buffer) holds for the tensors Buffer(...) made, as in PyTorch, though they are
    # plain Tensors
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Marks a Tensor as a buffer: assigned as a Module's attribute, it is registered with
    `register_buffer` (persistent, i.e. in the state dict, unless persistent=False). `Buffer(t)` is
    t detached (sharing its array). As `torch.nn.Buffer`."""

    def __new__(cls, data=None, *, persistent=True):
        data = Tensor(np.empty(0, np.float32)) if data is None else data
        buffer = data.detach().requires_grad_(data.requires_grad)
        buffer.persistent, buffer._is_buffer = persistent, True
        return buffer
