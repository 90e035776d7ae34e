"""Sorting: sort, argsort, topk. The values are gathered from the input at the sorted indices, so
their gradient is gather's (scattered back to where each value came from)."""
from collections import namedtuple

import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor
from .elementwise import clone, constant
from .indexing import gather
from .reduction import normalize_axes

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _order(op, x, dim, descending):
    """int64 indices that sort x along dim; stable, so ties keep their order (as PyTorch's stable sort)."""
    (axis,) = normalize_axes(op, dim, x.ndim) or (None,)
    if axis is None:
        return None, np.zeros((), np.int64)
    if not descending:
        return axis, np.argsort(x._data, axis=axis, kind="stable").astype(np.int64, copy=False)
    # Descending, without negating (which overflows integers and moves NaN): the ascending stable
    # order of the reversed input, read backwards, puts NaN first and keeps ties in input order.
    n = x.shape[axis]
    reversed_order = np.argsort(np.flip(x._data, axis), axis=axis, kind="stable")
    return axis, (n - 1 - np.flip(reversed_order, axis)).astype(np.int64, copy=False)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The named tuple (values, indices) of x sorted along `dim` (default the last), ascending or
    `descending`. Always stable: equal elements keep their order (so `stable` changes nothing). The
    gradient goes back to where each value came from. As `torch.sort`."""
    axis, indices = _order("sort", x, dim, descending)
    values = clone(x) if axis is None else gather(x, axis, constant(indices))
    return SortResult(values, constant(indices))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort x along `dim` (default the last), as `sort`'s indices; outside the
    graph. As `torch.argsort`."""
    return constant(_order("argsort", x, dim, descending)[1])


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along dim, in order, with their indices."""
    axis, indices = _order("topk", x, dim, largest)
    size = 1 if axis is None else x.shape[axis]
    if not 0 <= k <= size:
        raise ArgumentError(f"topk: k={k} is out of range for dim {dim} of size {size} (shape {x.shape})")
    if axis is None:
        return TopkResult(clone(x), constant(indices))
    indices = np.take(indices, np.arange(k), axis=axis)
    return TopkResult(gather(x, axis, constant(indices)), constant(indices))
