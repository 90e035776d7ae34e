"""Parameter: a Tensor that a Module registers as one of its learnable parameters.

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
