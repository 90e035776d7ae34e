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


MedianResult = namedtuple("median", ["values", "indices"])
NanMedianResult = namedtuple("nanmedian", ["values", "indices"])


def median(x: Tensor, dim: int | None = None, keepdim: bool = False):
    """The median: with no `dim`, of all elements, a 0-d tensor; with `dim`, the named tuple (values,
    indices) along it. Of an even count the lower of the two middle values (not their mean, unlike NumPy);
    NaN wherever there is a NaN. The gradient goes to the element picked. As `torch.median`."""
    return _median("median", MedianResult, x, dim, keepdim, ignore_nan=False)


def nanmedian(x: Tensor, dim: int | None = None, keepdim: bool = False):
    """As `median`, of the elements that are not NaN (NaN where all are). As `torch.nanmedian`."""
    return _median("nanmedian", NanMedianResult, x, dim, keepdim, ignore_nan=True)


def _nan_counts(x, axis):
    """How many NaNs each row along `axis` holds (keepdims)."""
    if x.dtype.kind != "f":
        return np.zeros(_with(x.shape, axis, 1), np.int64)
    return np.sum(np.isnan(x._data), axis=axis, keepdims=True)


def _median(op, result, x, dim, keepdim, ignore_nan):
    if dim is None:
        if x._data.size == 0:
            if x.dtype.kind in "fc":   # as torch: NaN, still attached to x (whose gradient is then empty)
                return x.sum() + float("nan")
            raise ArgumentError(f"{op}: cannot take the median of an empty {x.dtype} tensor (torch returns an "
                                "arbitrary integer)")
        return _median(op, result, x.reshape(-1), 0, False, ignore_nan).values
    axis, order = _order(op, x, dim, False)
    if axis is None:   # a 0-d tensor
        return result(clone(x), constant(order))
    if x.shape[axis] == 0:
        raise ArgumentError(f"{op}: dim {dim} of shape {x.shape} is empty")
    n, nan_count = x.shape[axis], _nan_counts(x, axis)
    # In ascending order (NaN last): the lower middle of the values that count, or where the result is NaN,
    # the first NaN (median) or the first element (nanmedian of a row of NaNs), as PyTorch picks them.
    if ignore_nan:
        position = np.where(nan_count == n, 0, (n - nan_count - 1) // 2)
    else:
        position = np.where(nan_count > 0, n - nan_count, (n - 1) // 2)
    indices = np.take_along_axis(order, np.broadcast_to(position, _with(order.shape, axis, 1)), axis=axis)
    values = gather(x, axis, constant(indices))
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return result(values, constant(indices))


def _with(shape, axis, size):
    return shape[:axis] + (size,) + shape[axis + 1:]


_QUANTILE_INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(x: Tensor, q, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a number or a 1-D tensor in [0, 1]) of x's elements over `dim` (all if None),
    between sorted values by `interpolation`: linear, lower, higher, nearest or midpoint. A 1-D q puts its
    dim first. NaN wherever there is a NaN. Differentiable in x. As `torch.quantile`."""
    return _quantile("quantile", x, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(x: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """As `quantile`, of the elements that are not NaN (NaN where all are). As `torch.nanquantile`."""
    return _quantile("nanquantile", x, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(op, x, q, dim, keepdim, interpolation, ignore_nan):
    from .arithmetic import where
    from .shape import movedim
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating point tensor, got {x.dtype}")
    if interpolation not in _QUANTILE_INTERPOLATIONS:
        raise ArgumentError(f"{op}: interpolation must be one of {', '.join(_QUANTILE_INTERPOLATIONS)}, got "
                            f"{interpolation!r}")
    q_data = np.asarray(getattr(q, "_data", q), dtype=np.float64)
    if q_data.ndim > 1 or np.any((q_data < 0) | (q_data > 1)) or np.any(np.isnan(q_data)):
        raise ArgumentError(f"{op}: q must be a number or a 1-D tensor of values in [0, 1], got {q_data}")
    if dim is None:
        source, axis = x.reshape(-1), 0
    else:
        source = x if x.ndim else x.reshape(1)
        (axis,) = normalize_axes(op, dim, x.ndim) or (0,)
    if source.shape[axis] == 0:
        raise ArgumentError(f"{op}: cannot take quantiles over an empty dim (shape {x.shape})")
    values = sort(source, axis).values   # NaN last
    n, nan_count = source.shape[axis], _nan_counts(source, axis)
    valid, is_nan = (n - nan_count, nan_count == n) if ignore_nan else (n, nan_count > 0)
    quantiles = np.atleast_1d(q_data).reshape(_with((1,) * values.ndim, axis, -1))
    position = quantiles * (np.maximum(valid, 1) - 1)          # values.shape with q's length along axis
    shape = np.broadcast_shapes(position.shape, _with(values.shape, axis, 1))
    position = np.broadcast_to(position, shape)
    low, high = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
    if interpolation == "nearest":
        low = high = np.round(position).astype(np.int64)   # half to even, as torch
    lower, upper = gather(values, axis, constant(low)), gather(values, axis, constant(high))
    if interpolation in ("lower", "nearest"):
        out = lower
    elif interpolation == "higher":
        out = upper
    else:
        weight = np.full(shape, 0.5) if interpolation == "midpoint" else position - low
        out = lower + (upper - lower) * constant(weight.astype(x.dtype))
    if is_nan.any():
        out = where(np.broadcast_to(is_nan, shape), float("nan"), out)
    out = movedim(out, axis, 0)                     # q's dim first, as torch
    if keepdim:
        kept = (1,) * x.ndim if dim is None else out.shape[1:axis + 1] + (1,) + out.shape[axis + 1:]
        out = out.reshape((out.shape[0],) + tuple(kept))
    return out.reshape(out.shape[1:]) if q_data.ndim == 0 else out


ModeResult = namedtuple("mode", ["values", "indices"])


def mode(x: Tensor, dim: int = -1, keepdim: bool = False):
    """The named tuple (values, indices) of the most frequent value along `dim`: where several are
    as frequent, the smallest, at its last position (a NaN never equals another: each counts once),
    and the gradient goes there. As `torch.mode`."""
    axis, order = _order("mode", x, dim, False)
    if axis is None:   # a 0-d tensor
        return ModeResult(clone(x), constant(order))
    if x.shape[axis] == 0:
        raise ArgumentError(f"mode: dim {dim} of shape {x.shape} is empty")
    order = np.moveaxis(order, axis, -1)
    ascending = np.take_along_axis(np.moveaxis(x._data, axis, -1), order, -1)
    # In ascending order, each position's count within its run of equal values; the first position that
    # reaches the largest count ends the smallest most frequent value's run, whose last element (the
    # sort is stable) is its last position in x.
    positions = np.arange(ascending.shape[-1])
    starts = np.ones(ascending.shape, bool)
    starts[..., 1:] = ascending[..., 1:] != ascending[..., :-1]
    counts = positions - np.maximum.accumulate(np.where(starts, positions, 0), axis=-1)
    last = np.argmax(counts == counts.max(-1, keepdims=True), axis=-1)[..., None]
    indices = np.moveaxis(np.take_along_axis(order, last, -1), -1, axis)
    values = gather(x, axis, constant(indices))
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ModeResult(values, constant(indices))


def msort(x: Tensor) -> Tensor:
    """x sorted along its first dim (the values of `sort(x, 0)`). As `torch.msort`."""
    return sort(x, 0).values


KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The named tuple (values, indices) of the k-th smallest element (k counts from 1) along `dim`: the
    last of `topk(x, k, largest=False)`, so the gradient goes to where the value came from. As
    `torch.kthvalue`."""
    (axis,) = normalize_axes("kthvalue", dim, x.ndim) or (None,)
    size = 1 if axis is None else x.shape[axis]
    if not 1 <= k <= size:
        raise ArgumentError(f"kthvalue: k={k} is out of range for dim {dim} of size {size} (shape {x.shape})")
    values, indices = topk(x, k, dim, largest=False)
    if axis is None:
        return KthvalueResult(values, indices)
    values, indices = values.narrow(axis, k - 1, 1), indices.narrow(axis, k - 1, 1)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return KthvalueResult(values, indices)
