"""Small helpers shared by the layer modules."""
import math
import numbers

import autograd as ag

from .. import init
from ..parameter import Parameter


def new_parameter(shape, dtype=None, device=None):
    """An uninitialised float Parameter (of the default dtype unless dtype says otherwise)."""
    if device is not None:
        ag.device(getattr(device, "type", device))   # raises for any device but the CPU
    return Parameter(ag.empty(tuple(shape), dtype=dtype))


def reset_weight_and_bias(weight, bias):
    """PyTorch's default initialisation of Linear and Conv layers: the weight kaiming-uniform with
    a = sqrt(5), which is uniform in +-1/sqrt(fan_in), and the bias uniform in the same range."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def ntuple(value, n):
    """A module's int-or-tuple argument as a tuple of n ints, as PyTorch stores it."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    return value * n if len(value) == 1 else value


_INPUT_LAYOUTS = {1: "a 3-D (N, C, L) or 2-D (C, L)", 2: "a 4-D (N, C, H, W) or 3-D (C, H, W)",
                  3: "a 5-D (N, C, D, H, W) or 4-D (C, D, H, W)"}


def check_spatial_input(module, input, dims):
    """A ShapeError naming the layer unless `input` is a batched or unbatched input of a `dims`-d layer."""
    if input.ndim not in (dims + 1, dims + 2):
        raise shape_error(module, f"expected {_INPUT_LAYOUTS[dims]} input", input.shape)


def shape_error(module, message, shape):
    """A ShapeError that names the layer (its repr) and the input's shape."""
    return ag.ShapeError(f"{module!r}: {message}, got input of shape {tuple(shape)}")
