"""Small helpers shared by the layer modules."""
import numbers

import autograd as ag
from autograd.errors import ShapeError

from ..parameter import Parameter


def new_parameter(shape, dtype=None, device=None):
    """An uninitialised float Parameter (float32 unless dtype says otherwise)."""
    if device is not None:
        from autograd.creation import check_device
        check_device(device)
    return Parameter(ag.empty(tuple(shape), dtype=dtype or ag.float32))


def pair(value):
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    value = tuple(int(v) for v in value)
    return value * 2 if len(value) == 1 else value


def shape_error(module, message, shape):
    """A ShapeError that names the layer (its repr) and the input's shape."""
    return ShapeError(f"{module!r}: {message}, got input of shape {tuple(shape)}")
