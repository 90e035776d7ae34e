"""Shape ops: reshape, permute, expand and the ops made from them (view, flatten, transpose,
squeeze, unsqueeze, broadcast_to). None of them copies data where NumPy can give a view."""
import numpy as np

from ..broadcasting import expand as _expand
from ..errors import ArgumentError, ShapeError
from ..function import Primitive
from .reduction import normalize_axes


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


class Reshape(Primitive):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Permute(Primitive):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return permute(grad, tuple(np.argsort(ctx.dims)))


def reshape(x, *shape):
    shape = _shape_args(shape)
    if shape == x.shape:
        return x
    known = [s for s in shape if s != -1]
    size = int(np.prod(known, dtype=np.int64))
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
            -1 not in shape and size != x.data.size) or (-1 in shape and (size == 0 or x.data.size % size)):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.data.size} elements) "
                         f"into shape {shape}")
    return Reshape.apply(x, shape=shape)


view = reshape


def permute(x, *dims):
    dims = _shape_args(dims)
    if sorted(d % x.ndim if x.ndim else d for d in dims) != list(range(x.ndim)):
        raise ArgumentError(f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    (a,), (b,) = normalize_axes("transpose", dim0, x.ndim), normalize_axes("transpose", dim1, x.ndim)
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims))


swapaxes = transpose


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    (start,), (end,) = normalize_axes("flatten", start_dim, x.ndim), normalize_axes("flatten", end_dim, x.ndim)
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1], dtype=np.int64)),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = normalize_axes("squeeze", dim, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor of {x.ndim} dimensions")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, *shape):
    """Broadcast to `shape`; -1 keeps that dim's size."""
    shape = _shape_args(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the shape {shape} has fewer dims than the tensor's {x.shape}")
    full = tuple(x.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    for i, n in enumerate(x.shape):
        if n != 1 and n != full[lead + i]:
            raise ShapeError(f"expand: cannot expand shape {x.shape} to {shape}: dim {i} has size {n}, "
                             "which is not 1")
    return _expand(x, full)


def broadcast_to(x, shape):
    return expand(x, *tuple(shape))


def atleast_2d(x):
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x
