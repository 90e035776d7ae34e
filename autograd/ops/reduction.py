"""Reductions over `dim` (None, an int or a tuple), with `keepdim`.

Backward of a reduction broadcasts the gradient back over the reduced axes: the gradient is
reshaped to the keepdim shape and expanded (a view, no copy).
"""
import builtins
from collections import namedtuple

import numpy as np

from ..broadcasting import expand
from ..errors import ArgumentError, DTypeError, ShapeError
from ..function import Primitive
from ..sums import extreme_keepdims, sum_keepdims
from ..tensor import Dim, MaxResult, MinResult, Tensor
from .elementwise import abs, cast, clamp, constant, exp, floating, sqrt


def normalize_axes(op, dim, ndim):
    """`dim` as a sorted tuple of non-negative axes (None: all axes)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) == 0:
        return tuple(range(ndim))
    axes = []
    for d in dims:
        limit = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
        if not -limit <= d < limit:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor of {ndim} dimensions")
        axes.append(d % ndim if ndim else 0)
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op}: dim {dim} names an axis twice")
    return tuple(sorted(axes)) if ndim else ()


def keepdim_shape(shape, axes):
    """`shape` with each axis in `axes` set to 1: the shape a reduction over `axes` has with keepdim=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(grad, ctx):
    """A gradient of the reduced shape, broadcast back to the input's shape."""
    if not ctx.keepdim:
        grad = grad.reshape(keepdim_shape(ctx.input_shape, ctx.axes))
    return expand(grad, ctx.input_shape)


def _count(shape, axes):
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _sum(x, axes, keepdim):
    """np.sum(x, axis=axes, keepdims=keepdim) for sorted axes, taking sums.sum_keepdims' BLAS products."""
    total = sum_keepdims(x, axes)
    return total if keepdim else total.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


class Sum(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return _sum(x, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx)


class Mean(Primitive):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        count = _count(x.shape, axes)
        total = _sum(x, axes, keepdim)
        return total / count if count else total * np.nan

    @staticmethod
    def backward(ctx, grad):
        count = _count(ctx.input_shape, ctx.axes)
        return _expand_back(grad * (1.0 / count if count else np.nan), ctx)


class Extremum(Primitive):
    """amax/amin: the gradient is shared evenly among tied extreme elements (as PyTorch)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, largest, nan_is_extreme=False):
        ctx.nan_is_extreme = nan_is_extreme
        empty = [a for a in axes if x.shape[a] == 0]
        if empty:  # an empty tensor is fine as long as the reduced dims are not (as PyTorch)
            raise ArgumentError(f"{'amax' if largest else 'amin'}: cannot reduce over dim {empty[0]} of size 0 "
                                f"(shape {x.shape})")
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        out = extreme_keepdims(x, axes, largest)
        ctx.save_for_backward(x)
        # Saved as the output, so an in-place write into it is caught in backward.
        return ctx.save_output(out if keepdim else out.reshape(_drop(x.shape, axes)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = ctx.output._data if ctx.keepdim else np.expand_dims(ctx.output._data, ctx.axes)
        is_extreme = x._data == out
        if ctx.nan_is_extreme:   # max()/min() of all elements: a NaN result's gradient goes to the NaNs
            is_extreme |= np.isnan(x._data) & np.isnan(out)
        share = is_extreme / np.sum(is_extreme, axis=ctx.axes, keepdims=True)
        return _expand_back(grad, ctx) * constant(share.astype(grad.dtype))


def _drop(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class Prod(Primitive):
    """d prod / d x_i = product of the other elements: prod / x_i when no element is zero;
    with zeros, computed from exclusive cumulative products (first-order only then)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.save_for_backward(x)
        return np.prod(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not (x._data == 0).any():
            return _expand_back(grad, ctx) * prod(x, ctx.axes, True) / x
        moved = np.moveaxis(x._data, ctx.axes, range(len(ctx.axes)))
        flat = moved.reshape((-1,) + moved.shape[len(ctx.axes):])
        ones = np.ones((1,) + flat.shape[1:], flat.dtype)
        left = np.cumprod(np.concatenate([ones, flat[:-1]]), axis=0)
        right = np.cumprod(np.concatenate([ones, flat[:0:-1]]), axis=0)[::-1]
        others = (left * right).reshape(moved.shape)
        others = np.moveaxis(others, range(len(ctx.axes)), ctx.axes)
        return _expand_back(grad, ctx) * constant(others)


class LogSumExp(Primitive):
    """Stable log(sum(exp(x))): the max is taken out first; d/dx = softmax(x)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.save_for_backward(x)
        top = extreme_keepdims(x, axes) if x.size else np.zeros(keepdim_shape(x.shape, axes), x.dtype)
        top = np.where(np.isfinite(top), top, 0)
        with np.errstate(divide="ignore"):  # log(0) = -inf over an empty dim, as PyTorch (no warning)
            out = np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True)) + top
        return ctx.save_output(out if keepdim else out.reshape(_drop(x.shape, axes)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = ctx.output.reshape(keepdim_shape(ctx.input_shape, ctx.axes))
        return _expand_back(grad, ctx) * exp(x - out)


class Norm(Primitive):
    """p-norms. d||x||_2/dx = x / ||x||, taken as 0 at x = 0 (as PyTorch)."""
    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        ctx.input_shape, ctx.axes, ctx.keepdim, ctx.p = x.shape, axes, keepdim, p
        ctx.save_for_backward(x)
        a = np.abs(x)
        if p == np.inf:
            out = np.amax(a, axis=axes, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        elif p == 1:
            out = np.sum(a, axis=axes, keepdims=True)
        else:
            out = np.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
        return ctx.save_output(out if keepdim else out.reshape(_drop(x.shape, axes)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.p
        out = ctx.output.reshape(keepdim_shape(ctx.input_shape, ctx.axes))
        grad = _expand_back(grad, ctx)
        if p == 1:
            return grad * constant(np.sign(x._data))
        if p == np.inf:
            is_max = np.abs(x._data) == out._data
            share = is_max / np.sum(is_max, axis=ctx.axes, keepdims=True)
            return grad * constant((np.sign(x._data) * share).astype(grad.dtype))
        safe_out = where_positive(out)
        if p == 2:
            return grad * x / safe_out
        return grad * x * abs(x) ** (p - 2) / safe_out ** (p - 1)


def where_positive(out):
    """`out` with zeros replaced by ones, so x / norm is 0 (not NaN) where the norm is 0."""
    from .arithmetic import where
    zero = out._data == 0
    return where(zero, 1, out) if zero.any() else out


class CumSum(Primitive):
    """Running sums along one axis. Each input element feeds every output at or after it, so the
    gradient is the running sum of grad taken from the other end: flip(cumsum(flip(grad)))."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return running_sums(x, axis) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad
        from .shape import flip
        return flip(CumSum.apply(flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


def running_sums(x, axis):
    """np.cumsum(x, axis), bit for bit. NumPy accumulates one line along the axis at a time, which along
    an axis whose neighbours in memory are not its own (not the innermost) is 10-60x slower than adding
    whole slices in turn, the same additions in the same order: cumsum over the 128 of (64, 128, 256)
    float32 took 19.7 ms, the slices 1.5; over the 64, 28.7 against 0.4."""
    steps = x.shape[axis]
    if x.dtype.kind != "f" or steps < 2 or steps * 64 > x.size or abs(x.strides[axis]) <= x.itemsize:
        return np.cumsum(x, axis=axis)
    out = np.empty_like(x)
    source, target = np.moveaxis(x, axis, 0), np.moveaxis(out, axis, 0)
    target[0] = source[0]
    for step in range(1, steps):
        np.add(target[step - 1], source[step], out=target[step])
    return out


class CumProd(Primitive):
    """Running products along `axis`: d out_k / d x_i is the product of x_j over j <= k, j != i. Without
    zeros in x the gradient is the reversed running sum of grad * out, divided by x. With zeros, no
    division: the product of the x_j before i (out_{i-1}) times S_i = grad_i + x_{i+1} S_{i+1}, a
    recurrence run backwards along the axis. Both in Tensor ops, so differentiable again."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        return ctx.save_output(np.cumprod(x, axis=axis) if x.ndim else x.copy())

    @staticmethod
    def backward(ctx, grad):
        from .joining import stack, unbind
        from .shape import flip
        (x,) = ctx.saved_tensors
        if x.ndim == 0 or x.shape[ctx.axis] == 0:
            return grad
        axis, out = ctx.axis, ctx.output
        if not (x._data == 0).any():
            return flip(CumSum.apply(flip(grad * out, axis), axis=axis), axis) / x
        grads, xs, outs = unbind(grad, axis), unbind(x, axis), unbind(out, axis)
        after = [grads[-1]]    # S_i, from the last position back
        for i in range(len(xs) - 2, -1, -1):
            after.append(grads[i] + xs[i + 1] * after[-1])
        after.reverse()
        before = [constant(np.ones(xs[0].shape, x.dtype)), *outs[:-1]]
        return stack([b * a for b, a in zip(before, after)], axis)


# -- the functions -----------------------------------------------------------------------------

def sum(x: Tensor, dim: Dim = None, keepdim: bool = False, dtype=None) -> Tensor:
    """The sum over `dim` (None: all elements; an int or a tuple), keeping the reduced axes as size 1 if
    `keepdim`. Integer and bool tensors sum in int64 unless `dtype` is given. As `torch.sum`."""
    x = _accumulated(x, dtype)
    return Sum.apply(x, axes=normalize_axes("sum", dim, x.ndim), keepdim=keepdim)


def cumsum(x: Tensor, dim: int, dtype=None) -> Tensor:
    """Running sums along `dim` (required, as in PyTorch); integer and bool inputs sum in int64."""
    return _running("cumsum", CumSum, x, dim, dtype)


def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along `dim` (required, as in PyTorch); integer and bool inputs multiply in int64.
    The gradient is exact where x holds zeros too. As `torch.cumprod`."""
    return _running("cumprod", CumProd, x, dim, dtype)


def _accumulated(x, dtype):
    """The input of a sum or product: cast to `dtype` if given, else integer and bool tensors in int64, as
    PyTorch (they do not overflow at int32; NumPy would take uint8 to uint64)."""
    if dtype is not None:
        return x.astype(dtype)
    return x.astype(np.int64) if x.dtype.kind in "bui" else x


def _running(op, primitive, x, dim, dtype):
    x = _accumulated(x, dtype)
    (axis,) = normalize_axes(op, dim, x.ndim) or (0,)
    return primitive.apply(x, axis=axis)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None) -> Tensor:
    """The n-th forward difference along `dim`, x[i + 1] - x[i] (for bool tensors, x[i + 1] != x[i]), after
    joining `prepend` and `append` to x along `dim`. As `torch.diff`."""
    from .joining import cat
    if x.ndim == 0:
        raise ArgumentError("diff: expects a tensor with at least one dimension, got a 0-d tensor")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ArgumentError(f"diff: order n must be a non-negative integer, got {n!r}")
    (axis,) = normalize_axes("diff", dim, x.ndim)
    pieces = [t for t in (prepend, x, append) if t is not None]
    if len(pieces) > 1:
        x = cat([t if t.ndim else t.expand(*x.shape[:axis], 1, *x.shape[axis + 1:]) for t in pieces], axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        later, earlier = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x


def nansum(x: Tensor, dim: Dim = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum over `dim` counting NaN as 0; no gradient reaches the NaNs. As `torch.nansum`."""
    from .arithmetic import where
    if x.dtype.kind == "f":
        x = where(np.isnan(x._data), 0.0, x)
    return sum(x, dim, keepdim, dtype=dtype)


def nanmean(x: Tensor, dim: Dim = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean over `dim` of the elements that are not NaN (NaN where all are). As `torch.nanmean`."""
    if x.dtype.kind != "f":
        raise DTypeError(f"nanmean: needs a floating point tensor, got {x.dtype}")
    counts = np.sum(~np.isnan(x._data), axis=normalize_axes("nanmean", dim, x.ndim), keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return nansum(x, dim, keepdim, dtype=dtype) / constant(np.asarray(counts, dtype or x.dtype))


def count_nonzero(x: Tensor, dim: Dim = None) -> Tensor:
    """The number of nonzero elements over `dim` (all if None), int64, outside the graph. As
    `torch.count_nonzero`."""
    axes = normalize_axes("count_nonzero", dim, x.ndim)
    return constant(np.asarray(np.count_nonzero(x._data, axis=axes), np.int64))


def cov(x: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in x's rows, observed in its columns (a 1-D x is one variable,
    giving a 0-d tensor), divided by n - `correction`; `fweights` (integer counts) and `aweights` weight the
    observations as NumPy's `cov` does. Differentiable. As `torch.cov`."""
    from .elementwise import floating
    from .linalg import matmul
    if x.ndim > 2:
        raise ArgumentError(f"cov: expects a 1-D or 2-D tensor, got shape {x.shape}")
    rows = floating(x).reshape(1, -1) if x.ndim < 2 else floating(x)
    observations = rows.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is not None:
            if w.shape != (observations,):
                raise ArgumentError(f"cov: {name} must be 1-D with one entry per observation ({observations}), got "
                                    f"shape {w.shape}")
            if (w._data < 0).any():
                raise ArgumentError(f"cov: {name} cannot be negative")
            if name == "fweights" and w.dtype.kind not in "iu":
                raise DTypeError(f"cov: fweights must be integers, got {w.dtype}")
            weights = w if weights is None else weights * w
    if weights is None:
        centred = rows - rows.mean(1, keepdim=True)
        norm = builtins.max(observations - correction, 0)   # no degrees of freedom left: 0, as torch
        product = matmul(centred, centred.mT)
    else:
        weights = weights.to(rows.dtype)
        total = weights.sum()
        centred = rows - (rows * weights).sum(1, keepdim=True) / total
        norm = (total - (correction if aweights is None else correction * (weights * aweights.to(rows.dtype)).sum()
                         / total)).clamp(min=0)
        product = matmul(centred * weights, centred.mT)
    with np.errstate(divide="ignore", invalid="ignore"):   # no degrees of freedom left: inf or nan, as torch
        covariance = product / norm
    return covariance.reshape(()) if x.ndim < 2 or x.shape[0] == 1 else covariance   # one variable: 0-d, as torch


def corrcoef(x: Tensor) -> Tensor:
    """The Pearson correlation coefficients of the variables in x's rows, clipped to [-1, 1]. As
    `torch.corrcoef`."""
    from .linalg import diagonal, outer
    covariance = cov(x)
    if covariance.ndim == 0:
        return covariance / covariance
    scale = diagonal(covariance).sqrt()
    return clamp(covariance / outer(scale, scale), -1, 1)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The integral of y along `dim` by the trapezoidal rule, at sample points `x` (1-D, or y's shape) or
    spaced `dx` apart (1 by default). As `torch.trapezoid` (alias `trapz`)."""
    from .shape import unsqueeze
    if x is not None and dx is not None:
        raise ArgumentError("trapezoid: give the sample points x or the spacing dx, not both")
    (axis,) = normalize_axes("trapezoid", dim, y.ndim)
    lead = (slice(None),) * axis
    pairs = y[lead + (slice(1, None),)] + y[lead + (slice(None, -1),)]
    if x is None:
        return sum(pairs, axis) * ((1.0 if dx is None else dx) / 2)
    spacing = diff(x, dim=-1 if x.ndim == 1 else axis)
    if x.ndim == 1 and y.ndim > 1:
        spacing = spacing.reshape((-1,) + (1,) * (y.ndim - axis - 1))
    return sum(pairs * spacing, axis) / 2


trapz = trapezoid


def mean(x: Tensor, dim: Dim = None, keepdim: bool = False, dtype=None) -> Tensor:
    """The mean over `dim` (None: all elements; an int or a tuple), with `keepdim`, computed in `dtype` if
    given; needs a floating tensor. NaN over an empty dim. As `torch.mean`."""
    if dtype is not None:
        x = x.astype(dtype)
    if x.dtype.kind not in "fc":
        raise DTypeError(f"mean: needs a floating point tensor, got {x.dtype} (use .float() first or pass dtype=)")
    return Mean.apply(x, axes=normalize_axes("mean", dim, x.ndim), keepdim=keepdim)


def var(x: Tensor, dim: Dim = None, unbiased: bool = True, keepdim: bool = False,
        correction=None) -> Tensor:
    """Variance; `correction` (or unbiased=True, i.e. 1) is subtracted from the count."""
    if x.dtype == np.float16:   # squares overflow half precision at 256: PyTorch accumulates it in float32
        return cast(var(cast(x, np.float32), dim, unbiased, keepdim, correction), np.float16)
    axes = normalize_axes("var", dim, x.ndim)
    ddof = (1 if unbiased else 0) if correction is None else correction
    centered = x - mean(x, axes, keepdim=True)
    count = _count(x.shape, axes) - ddof
    return sum(centered * centered, axes, keepdim) / (count if count > 0 else np.nan)


def std(x: Tensor, dim: Dim = None, unbiased: bool = True, keepdim: bool = False,
        correction=None) -> Tensor:
    """sqrt(var); where the std is 0 its gradient is taken as 0 (as PyTorch), not NaN."""
    variance = var(x, dim, unbiased, keepdim, correction=correction)
    zero = variance._data == 0
    if not zero.any():
        return sqrt(variance)
    from .arithmetic import where
    return where(zero, 0.0, sqrt(where(zero, 1.0, variance)))


def amax(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """The largest value over `dim` (None: all; an int or a tuple), with `keepdim`; tied maxima share the
    gradient evenly. As `torch.amax`."""
    return Extremum.apply(x, axes=normalize_axes("amax", dim, x.ndim), keepdim=keepdim, largest=True)


def amin(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """The smallest value over `dim` (None: all; an int or a tuple), with `keepdim`; tied minima share the
    gradient evenly. As `torch.amin`."""
    return Extremum.apply(x, axes=normalize_axes("amin", dim, x.ndim), keepdim=keepdim, largest=False)


def _extreme_with_index(op, x, dim, keepdim, largest):
    if dim is None:   # as amax/amin, but as PyTorch a NaN maximum passes its gradient to the NaNs (amax: NaN)
        return Extremum.apply(x, axes=tuple(range(x.ndim)), keepdim=False, largest=largest,
                              nan_is_extreme=x.dtype.kind == "f")
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int (to get values and indices); for several dims use "
                        f"{'amax' if largest else 'amin'}(dim={tuple(dim)})")
    if isinstance(dim, Tensor):
        return (maximum if largest else minimum)(x, dim)
    (axis,) = normalize_axes(op, dim, x.ndim) or (0,)
    if x.shape and x.shape[axis] == 0:
        raise IndexError(f"{op}: cannot reduce over an empty dim {dim} of shape {x.shape}")
    indices = (np.argmax if largest else np.argmin)(x._data, axis=axis, keepdims=True) if x.ndim else np.zeros((), np.int64)
    from .indexing import gather
    values = gather(x, axis, constant(indices)) if x.ndim else x
    if not keepdim and x.ndim:
        values, indices = values.squeeze(axis), np.squeeze(indices, axis)
    return (MaxResult if largest else MinResult)(values, constant(indices.astype(np.int64)))


def max(x, dim=None, keepdim=False):
    """With no `dim`, the largest element (as `amax`). With an int `dim`, the named tuple (values, indices)
    of the maxima along it (the first index at ties; the gradient goes to it). With a tensor as `dim`,
    the elementwise maximum. As `torch.max`."""
    return _extreme_with_index("max", x, dim, keepdim, largest=True)


def min(x, dim=None, keepdim=False):
    """With no `dim`, the smallest element (as `amin`). With an int `dim`, the named tuple (values,
    indices) of the minima along it (the first index at ties; the gradient goes to it). With a tensor as
    `dim`, the elementwise minimum. As `torch.min`."""
    return _extreme_with_index("min", x, dim, keepdim, largest=False)


def maximum(x, y):
    """The larger of x and y, elementwise (the same op as `autograd.maximum`). As `torch.maximum`."""
    from .arithmetic import maximum as elementwise_maximum
    return elementwise_maximum(x, y)


def minimum(x, y):
    """The smaller of x and y, elementwise (the same op as `autograd.minimum`). As `torch.minimum`."""
    from .arithmetic import minimum as elementwise_minimum
    return elementwise_minimum(x, y)


def argmax(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the largest value along `dim` (None: into the flattened tensor), the first at
    ties; outside the graph. As `torch.argmax`."""
    return _arg_extreme("argmax", np.argmax, x, dim, keepdim)


def argmin(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the smallest value along `dim` (None: into the flattened tensor), the first at
    ties; outside the graph. As `torch.argmin`."""
    return _arg_extreme("argmin", np.argmin, x, dim, keepdim)


def _arg_extreme(op, func, x, dim, keepdim):
    if x._data.size == 0 and (dim is None or x.shape[normalize_axes(op, dim, x.ndim)[0]] == 0):
        raise ValueError(f"{op}: cannot take {op} over an empty dim of shape {x.shape}; only non-empty dims "
                         "can be reduced")
    if dim is None:
        out = np.asarray(func(x._data))
        return constant(out.reshape((1,) * x.ndim) if keepdim else out)
    (axis,) = normalize_axes(op, dim, x.ndim) or (None,)
    return constant(np.asarray(func(x._data, axis=axis, keepdims=keepdim)))


def prod(x: Tensor, dim: Dim = None, keepdim: bool = False, dtype=None) -> Tensor:
    """The product over `dim` (None: all elements; an int or a tuple), with `keepdim`. Zeros are handled in
    the gradient (first-order only when there are some). Integer and bool tensors multiply in int64 unless
    `dtype` is given (NumPy would take uint8 to uint64). As `torch.prod`."""
    x = _accumulated(x, dtype)
    return Prod.apply(x, axes=normalize_axes("prod", dim, x.ndim), keepdim=keepdim)


def logsumexp(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim` (None: all; an int or a tuple), with `keepdim`, without overflow. As
    `torch.logsumexp`."""
    return LogSumExp.apply(floating(x), axes=normalize_axes("logsumexp", dim, x.ndim), keepdim=keepdim)


def norm(x: Tensor, p=2, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (None: all elements, flattened), with `keepdim`: (sum |x|**p)**(1/p) for a
    number p (negative too), 'fro' (2), inf the largest |x|, -inf the smallest, 0 the count of nonzeros (its
    gradient zero, as PyTorch's). The gradient of the 2-norm at 0 is 0. As `torch.norm`."""
    if p == "fro" or p is None:
        p = 2
    if p in ("inf", "-inf"):
        p = float(p)
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) or np.isnan(p):
        raise ValueError(f"norm: p must be a number, 'fro' or inf, got {p!r}")
    if x.dtype == np.float16:   # as var: accumulated in float32, as PyTorch
        return cast(norm(cast(x, np.float32), p, dim, keepdim), np.float16)
    if p == -np.inf:
        return amin(abs(x), dim, keepdim)
    if p == 0:
        from .comparison import ne
        return sum(ne(x, 0), dim, keepdim).astype(x.dtype)
    if p < 0:
        return sum(abs(x) ** p, dim, keepdim) ** (1.0 / p)
    axes = normalize_axes("norm", dim, x.ndim)
    empty = [a for a in axes if x.shape[a] == 0]
    if p == np.inf and empty:   # a largest |x| over nothing has no value (the other norms are 0 there)
        raise ArgumentError(f"norm: cannot take the inf norm over dim {empty[0]} of size 0 (shape {x.shape})")
    return Norm.apply(x, p=p, axes=axes, keepdim=keepdim)


def all(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Whether every element over `dim` (None: all; an empty tuple: none, elementwise) is nonzero, as a bool
    tensor outside the graph (uint8 for a uint8 tensor). As `torch.all`."""
    return _logical_reduction("all", np.all, x, dim, keepdim)


def any(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Whether some element over `dim` (None: all; an empty tuple: none, elementwise) is nonzero, as a bool
    tensor outside the graph (uint8 for a uint8 tensor). As `torch.any`."""
    return _logical_reduction("any", np.any, x, dim, keepdim)


def _logical_reduction(op, reduce, x, dim, keepdim):
    if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        out = x._data != 0   # as PyTorch: all/any over no dims reduce nothing (sum over () reduces all)
    else:
        out = reduce(x._data, axis=None if dim is None else normalize_axes(op, dim, x.ndim), keepdims=keepdim)
    return constant(np.asarray(out, np.uint8 if x.dtype == np.uint8 else np.bool_))


# -- several statistics at once: aminmax, var_mean, std_mean ------------------------------------

AminmaxResult = namedtuple("aminmax", ["min", "max"])


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """The named tuple (min, max) over `dim` (all elements if None), as `amin` and `amax`. As
    `torch.aminmax`."""
    if x.numel() == 0:
        raise ArgumentError(f"aminmax: cannot reduce an empty tensor (shape {x.shape})")
    return AminmaxResult(amin(x, dim, keepdim), amax(x, dim, keepdim))


def var_mean(x: Tensor, dim: Dim = None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
    """The tuple (var, mean) over `dim`; `correction` (or unbiased=True, i.e. 1) is subtracted from the
    count. `var_mean(x, False)` reads the bool as `unbiased`, as torch does. As `torch.var_mean`."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x: Tensor, dim: Dim = None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
    """The tuple (std, mean) over `dim` (see `var_mean`). As `torch.std_mean`."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


# -- running extremes and log-sum-exp: cummax, cummin, logcumsumexp ----------------------------------

CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])


def cummax(x: Tensor, dim: int):
    """The named tuple (values, indices) of the running maximum along `dim`: values[i] = max(x[:i+1]),
    at ties the later index, and NaN once a NaN is met, as torch. The gradient goes to the element
    each value came from. As `torch.cummax`."""
    return _running_extreme("cummax", CummaxResult, np.maximum, x, dim)


def cummin(x: Tensor, dim: int):
    """The named tuple (values, indices) of the running minimum along `dim` (see `cummax`). As
    `torch.cummin`."""
    return _running_extreme("cummin", CumminResult, np.minimum, x, dim)


def _running_extreme(op, result, ufunc, x, dim):
    from .indexing import gather
    (axis,) = normalize_axes(op, dim, x.ndim) or (None,)
    if axis is None:
        return result(x.clone(), constant(np.zeros((), np.int64)))
    data = x._data
    running = ufunc.accumulate(data, axis=axis)
    # Where an element is the running extreme (or a NaN) it becomes the index from there on; a later
    # tie takes over, as in torch.
    takes_over = (data == running) | (np.isnan(data) if data.dtype.kind in "fc" else False)
    positions = np.arange(data.shape[axis], dtype=np.int64).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    indices = np.maximum.accumulate(np.where(takes_over, positions, 0), axis=axis)
    return result(gather(x, axis, constant(indices)), constant(indices))


class LogCumSumExp(Primitive):
    """Running log(sum(exp(x))) along `axis`, without overflow. d out_i / d x_j = exp(x_j - out_i) for
    j <= i, so the gradient is sum over i >= j of grad_i exp(x_j - out_i): the positive and negative
    parts of grad are taken in log space and summed with a reversed logcumsumexp, as torch does (stable,
    and in Tensor ops, so differentiable again)."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        return ctx.save_output(np.logaddexp.accumulate(x, axis=axis) if x.ndim else x.copy())

    @staticmethod
    def backward(ctx, grad):
        from .arithmetic import where
        from .elementwise import log
        from .shape import flip
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad
        axis = ctx.axis
        # out_i is -inf only where every x_j (j <= i) is -inf; any finite stand-in keeps their terms 0.
        out = where(constant(np.isneginf(ctx.output._data)), 0.0, ctx.output)

        def summed_after(log_part):
            return flip(LogCumSumExp.apply(flip(log_part - out, axis), axis=axis), axis)

        def log_of(part):
            return where(part > 0, log(where(part > 0, part, 1.0)), -np.inf)
        return exp(x + summed_after(log_of(grad))) - exp(x + summed_after(log_of(-grad)))


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """Running log(sum(exp(x))) along `dim`, computed without overflow. As `torch.logcumsumexp`."""
    if x.dtype.kind not in "fc":
        raise DTypeError(f"logcumsumexp: needs a floating point tensor, got {x.dtype}")
    (axis,) = normalize_axes("logcumsumexp", dim, x.ndim) or (0,)
    return LogCumSumExp.apply(x, axis=axis)


def sum_to_size(x: Tensor, *size) -> Tensor:
    """x summed down to `size`, which must expand to x's shape (the reverse of broadcasting: leading
    dims and dims of size 1 in `size` are summed). As `torch.Tensor.sum_to_size`."""
    if not size:
        raise TypeError("sum_to_size: missing the size")
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    lead = x.ndim - len(size)
    if lead < 0 or builtins.any(n not in (1, m) for n, m in zip(size, x.shape[lead:])):
        raise ShapeError(f"sum_to_size: size {size} is not expandable to the tensor's shape {x.shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, (n, m) in enumerate(zip(size, x.shape[lead:])) if n == 1 != m)
    return sum(x, axes, keepdim=True).reshape(size) if axes else x
