"""Pooling over 1-, 2- and 3-D windows: max pooling, with its gradient routed to the first maximum,
average pooling and adaptive pooling; each with PyTorch's functional forms (max_pool1d/2d/3d,
avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d, adaptive_max_pool2d/3d)."""
import functools
import itertools
import math
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, DTypeError, shape_error
from ..function import Primitive
from .windows import ints, strided, swap_batch_and_channels, window_geometry
from .elementwise import constant
from .indexing import gather
from .joining import stack
from .linalg import matmul
from .workspace import workspace


# -- max pooling ---------------------------------------------------------------------------------
#
# The max over a window is taken separably, one spatial axis at a time, last axis first: for a
# kh x kw window, first along W (each input row, for each output column: the max over the kw
# offsets and which offset won), then along H over those row maxima (which of the kh offsets won),
# then (3-D) along D likewise. Keeping the first winner at each stage gives the first maximum in
# row-major order, PyTorch's choice among ties. The gradient is routed back the same way, in the
# reverse order, and overlapping windows add. Each stage is a handful of whole-array NumPy ops per
# kernel offset: no window copies.
#
# Pooling works on the spatial axes only, so an (N, C, *spatial) array stored channel-major (as
# a convolution returns it, and relu keeps it) is pooled as the contiguous (C, N, *spatial) array
# it is, and the output and gradients keep that layout.
#
# When the windows tile each row exactly (kernel == stride along the last axis, no padding or
# dilation there: the usual 2x2 pooling), the input is first split into kw contiguous column
# planes, one per offset: NumPy's maxima and comparisons run several times faster on contiguous
# arrays than on stride-kw views, which pays for the copy. Where windows tile the input, the
# backward writes every position and needs no zero fill.

def _last_axes_contiguous(x):
    """(array to pool, whether it is x with axes 0 and 1 swapped)."""
    if not x.flags.c_contiguous and x.ndim >= 3 and swap_batch_and_channels(x).flags.c_contiguous:
        return swap_batch_and_channels(x), True
    return x, False


def _pad_last_axes(x, padding, extra, value):
    """x with `padding` on both sides and `extra` more at the end of each of its last len(padding) axes."""
    if not (any(padding) or any(extra)):
        return x
    dims = len(padding)
    out = np.full(x.shape[:-dims] + tuple(size + 2 * p + e for size, p, e in zip(x.shape[-dims:], padding, extra)),
                  value, x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + size) for p, size in zip(padding, x.shape[-dims:]))] = x
    return out


def _unpad_last_axes(x, padding, extra):
    dims = len(padding)
    return x[(Ellipsis,) + tuple(slice(p, size - p - e) for p, e, size in zip(padding, extra, x.shape[-dims:]))]


def _offsets(k, d, n, s, axis):
    """Index tuples selecting, for each of the k kernel offsets, its n positions along `axis`."""
    lead = (slice(None),) * axis
    return [lead + (strided(i * d, n, s),) for i in range(k)]


def _first_max(views, out_shape, dtype):
    """Elementwise max over same-shape views, and the index of the first view attaining it
    (None when there is a single view; a bool array for two)."""
    if len(views) == 1:
        return views[0], None
    best = np.maximum(views[0], views[1], out=workspace.empty(out_shape, dtype))   # propagates NaN
    winner = np.greater(views[1], views[0])
    if len(views) > 2:
        winner = winner.astype(np.int8 if len(views) < 128 else np.int16)
        for j, candidate in enumerate(views[2:], 2):
            better = np.greater(candidate, best)
            np.maximum(best, candidate, out=best)
            np.copyto(winner, j, where=better)
    if best.dtype.kind == "f" and np.isnan(best).any():
        # max propagates NaN, and as in PyTorch the gradient goes to the window's last NaN, which
        # the comparisons above (all False with a NaN) never pick.
        for j in range(len(views)):
            np.copyto(winner, j if winner.dtype != np.bool_ else bool(j), where=np.isnan(views[j]))
    return best, winner


def _hits(winner, j):
    """Mask of where offset j won (winner None: offset 0 always wins)."""
    if winner is None:
        return True
    if winner.dtype == np.bool_:
        return winner if j else ~winner
    return winner == j


def _route(grad, winner, out, offsets, overlap):
    """Add grad into out at the offset that won each position."""
    if not overlap and winner is not None and winner.dtype == np.bool_:
        # two offsets: grad * winner at the second, and the rest, grad - that (exact), at the first
        second = np.multiply(grad, winner, out=out[offsets[1]])
        np.subtract(grad, second, out=out[offsets[0]])
        return
    for j, index in enumerate(offsets):
        if winner is None:
            if overlap:
                out[index] += grad
            else:
                out[index] = grad
        elif overlap:
            out[index] += grad * _hits(winner, j)
        else:
            np.multiply(grad, _hits(winner, j), out=out[index])


def _pick(x, winner, offsets, out_shape):
    """From x, at each position, the value at the offset that won (the adjoint of _route)."""
    if winner is None:
        return x[offsets[0]]
    out = np.zeros(out_shape, x.dtype)
    for j, index in enumerate(offsets):
        np.copyto(out, x[index], where=_hits(winner, j))
    return out


class _Stage(NamedTuple):
    """One axis of a separable pooling: the kernel offsets' index tuples on its input, its input
    and output shapes, whether windows overlap along it and whether they tile it exactly."""
    offsets: list
    in_shape: tuple
    out_shape: tuple
    overlap: bool
    tiles: bool


def _stages(padded_shape, kernel, stride, dilation, out_size):
    """The stages of a pooling over the last len(kernel) axes of padded_shape, last axis first."""
    stages, shape = [], tuple(padded_shape)
    for axis in reversed(range(len(kernel))):
        k, s, d, n = kernel[axis], stride[axis], dilation[axis], out_size[axis]
        position = len(shape) - len(kernel) + axis
        out_shape = shape[:position] + (n,) + shape[position + 1:]
        stages.append(_Stage(_offsets(k, d, n, s, position), shape, out_shape, (k - 1) * d + 1 > s,
                             d == 1 and s == k and n * s == shape[position]))
        shape = out_shape
    return stages


class _PoolPlan:
    """The geometry of one max-pooling call, its stages, and the winners its forward found (one
    array, or None, per stage)."""

    def __init__(self, geometry, padded_shape, swapped):
        kernel, stride, _, dilation, out_size, _ = geometry
        self.geometry, self.padded_shape, self.swapped = geometry, padded_shape, swapped
        self.stages = _stages(padded_shape, kernel, stride, dilation, out_size)
        self.winners = [None] * len(self.stages)

    def unpad(self, x):
        return _unpad_last_axes(x, self.geometry[2], self.geometry[5])


class MaxPool(Primitive):
    """Max over each window (of 1, 2 or 3 spatial dims); the gradient goes to each window's first
    maximum (MaxPoolScatter). With return_indices, a second output (int64, outside the graph) holds
    each maximum's flat position in its input plane (or volume), read off the same winners."""
    @staticmethod
    def forward(ctx, x, geometry, return_indices=False):
        image_size = x.shape[2:]
        kernel, stride, padding, dilation, out_size, extra = geometry
        x, swapped = _last_axes_contiguous(x)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = _pad_last_axes(x, padding, extra, fill)
        plan = _PoolPlan(geometry, x.shape, swapped)
        last = plan.stages[0]
        if last.tiles and kernel[-1] > 1 and x.flags.c_contiguous:
            columns = workspace.empty((kernel[-1],) + last.out_shape, x.dtype)
            np.copyto(columns, x.reshape(last.out_shape + (kernel[-1],)).transpose(x.ndim, *range(x.ndim)))
        else:
            columns = [x[i] for i in last.offsets]
        out, plan.winners[0] = _first_max(list(columns), last.out_shape, x.dtype)
        for s, stage in enumerate(plan.stages[1:], 1):
            out, plan.winners[s] = _first_max([out[i] for i in stage.offsets], stage.out_shape, x.dtype)
        if all(winner is None for winner in plan.winners):
            out = out.copy()  # a kernel of one element picks a view of the input: never hand that out
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        out = swap_batch_and_channels(out) if swapped else out
        return (out, _flat_indices(plan, image_size)) if return_indices else out

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        return MaxPoolScatter.apply(grad, plan=ctx.saved_tensors[0])


class MaxPoolScatter(Primitive):
    """Each window's gradient placed at its maximum (added where windows overlap)."""
    @staticmethod
    def forward(ctx, grad, plan):
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        out = swap_batch_and_channels(grad) if plan.swapped else grad
        for stage, winner in zip(reversed(plan.stages), reversed(plan.winners)):
            spread = (workspace.empty if stage.tiles else workspace.zeros)(stage.in_shape, grad.dtype)
            _route(out, winner, spread, stage.offsets, stage.overlap)
            out = spread
        out = plan.unpad(out)
        return swap_batch_and_channels(out) if plan.swapped else out

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolGather.apply(grad, plan=ctx.saved_tensors[0])


class MaxPoolGather(Primitive):
    """From each window of x, the element at the remembered maximum (MaxPoolScatter's adjoint)."""
    @staticmethod
    def forward(ctx, x, plan):
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        if plan.swapped:
            x = swap_batch_and_channels(x)
        x = _pad_last_axes(x, plan.geometry[2], plan.geometry[5], 0)
        for stage, winner in zip(plan.stages, plan.winners):
            x = _pick(x, winner, stage.offsets, stage.out_shape)
        out = np.array(x)
        return swap_batch_and_channels(out) if plan.swapped else out

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolScatter.apply(grad, plan=ctx.saved_tensors[0])


def _pool_arguments(op, kernel_size, stride, padding, dilation=1, n=2):
    """kernel, stride (kernel_size when None, as PyTorch), padding, dilation as n ints each."""
    kernel = ints(kernel_size, n, "kernel_size", op)
    empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    stride = kernel if empty else ints(stride, n, "stride", op)
    return kernel, stride, ints(padding, n, "padding", op), ints(dilation, n, "dilation", op)


_SPATIAL_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check_pool_input(op, input, dims):
    if input.ndim not in (dims + 1, dims + 2):
        raise shape_error(op, f"expects a {dims + 2}-D (N, C, {_SPATIAL_DIMS[dims]}) or {dims + 1}-D "
                          f"(C, {_SPATIAL_DIMS[dims]}) input", input.shape)


def _check_not_bool(op, input):
    if input.dtype == np.bool_:   # as torch, which has no bool kernel (NumPy's fails deep inside)
        raise DTypeError(f"{op}: not implemented for a bool input (shape {tuple(input.shape)}); convert it first, "
                         "e.g. .float()")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling of an (N, C, L) or unbatched (C, L) input: max_pool2d on a unit height."""
    _check_pool_input("max_pool1d", input, 1)
    _check_not_bool("max_pool1d", input)
    kernel, stride, padding, dilation = _pool_arguments("max_pool1d", kernel_size, stride, padding, dilation, n=1)
    result = max_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
                        ceil_mode, return_indices)
    if return_indices:   # a flat index into a (1, L) plane is the position along L
        return result[0].squeeze(-2), constant(result[1]._data.squeeze(-2))
    return result.squeeze(-2)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of an (N, C, H, W) or unbatched (C, H, W) input, as PyTorch: padding
    counts as -inf; with ceil_mode a last window may start inside the input or the left padding,
    never in the right padding; return_indices adds each maximum's flat index in its (H, W) plane."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of an (N, C, D, H, W) or unbatched (C, D, H, W) input, as max_pool2d;
    return_indices adds each maximum's flat index in its (D, H, W) volume."""
    return _max_pool("max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims):
    _check_pool_input(op, input, dims)
    _check_not_bool(op, input)
    kernel, stride, padding, dilation = _pool_arguments(op, kernel_size, stride, padding, dilation, n=dims)
    if input.ndim == dims + 1:
        result = _max_pool(op, input.unsqueeze(0), kernel, stride, padding, dilation, ceil_mode, return_indices, dims)
        if return_indices:
            return result[0].squeeze(0), constant(result[1]._data[0])
        return result.squeeze(0)
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise ArgumentError(f"{op}: padding {padding} should be at most half of the effective "
                                f"kernel size {kernel} (dilation {dilation})")
    out_size, extra = pool_geometry(op, input.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    geometry = (kernel, stride, padding, dilation, out_size, extra)
    return MaxPool.apply(input, geometry=geometry, return_indices=return_indices)


def _flat_indices(plan, image_size):
    """PyTorch's return_indices: each maximum's flat position in its input plane (or volume): per
    axis, the offset that won there, carried through the later stages to the output positions."""
    kernel, stride, padding, dilation, out_size, _ = plan.geometry
    dims = len(kernel)
    flat = 0
    for s, (stage, winner) in enumerate(zip(plan.stages, plan.winners)):
        axis = dims - 1 - s
        offset = np.zeros(stage.out_shape, np.int64) if winner is None else winner.astype(np.int64)
        for later, later_winner in zip(plan.stages[s + 1:], plan.winners[s + 1:]):
            offset = _pick(offset, later_winner, later.offsets, later.out_shape)
        start = (np.arange(out_size[axis]) * stride[axis] - padding[axis]).reshape((-1,) + (1,) * (dims - 1 - axis))
        flat = flat + (start + offset * dilation[axis]) * math.prod(image_size[axis + 1:])
    return swap_batch_and_channels(flat) if plan.swapped else flat


def pool_geometry(op, spatial, kernel, stride, padding, dilation, ceil_mode):
    """(out_size, extra right/bottom padding that ceil_mode needs)."""
    out_size = list(window_geometry(op, spatial, kernel, stride, padding, dilation))
    extra = [0] * len(spatial)
    if ceil_mode:
        for a, (size, k, s, p, d) in enumerate(zip(spatial, kernel, stride, padding, dilation)):
            span = d * (k - 1) + 1
            n = -(-(size + 2 * p - span) // s) + 1
            if (n - 1) * s >= size + p:
                n -= 1
            out_size[a] = n
            extra[a] = max(0, (n - 1) * s + span - (size + 2 * p))
    return tuple(out_size), tuple(extra)


# -- average pooling -------------------------------------------------------------------------------
#
# A window's sum is taken separably, as the max is: strided slice-adds along the last axis, then
# along each axis before it; each output position is then scaled by one over its divisor.
# Average pooling is linear, so its backward is its adjoint (the scaled gradient added back into
# every window position, AvgPoolAdjoint) and the adjoint's backward is the pooling again. Both
# work on the spatial axes only, keeping a channel-major input's layout as max pooling does.

class _AvgPlan:
    """The geometry of one average-pooling call, its stages (as max pooling's, on the padded
    (N, C, *spatial) shape) and the factor (one over the divisor) of each output position."""

    def __init__(self, geometry, input_shape, scale):
        kernel, stride, self.padding, dilation, out_size, self.extra = geometry
        padded = tuple(input_shape[:2]) + tuple(size + 2 * p + e for size, p, e
                                                in zip(input_shape[2:], self.padding, self.extra))
        self.stages = _stages(padded, kernel, stride, dilation, out_size)
        self.scale = scale


def _sum_at(x, offsets):
    """The sum over the kernel offsets of x at each one (a strided view per offset)."""
    total = x[offsets[0]].copy()
    for index in offsets[1:]:
        total += x[index]
    return total


def _add_at(grad, offsets, out):
    """The adjoint of _sum_at: grad added into out at each offset."""
    for index in offsets:
        out[index] += grad
    return out


class AvgPool(Primitive):
    """The mean over each window (the sum times one over PyTorch's divisor)."""
    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan = plan
        x, swapped = _last_axes_contiguous(x)
        out = _pad_last_axes(x, plan.padding, plan.extra, 0)
        for stage in plan.stages:
            out = _sum_at(out, stage.offsets)
        out *= plan.scale
        return swap_batch_and_channels(out) if swapped else out

    @staticmethod
    def backward(ctx, grad):
        return AvgPoolAdjoint.apply(grad, plan=ctx.plan)


class AvgPoolAdjoint(Primitive):
    """Each output's scaled gradient spread over its window (added where windows overlap)."""
    @staticmethod
    def forward(ctx, grad, plan):
        ctx.plan = plan
        grad, swapped = _last_axes_contiguous(grad)
        out = grad * plan.scale
        for stage in reversed(plan.stages):
            out = _add_at(out, stage.offsets, np.zeros(grad.shape[:2] + stage.in_shape[2:], grad.dtype))
        out = _unpad_last_axes(out, plan.padding, plan.extra)
        return swap_batch_and_channels(out) if swapped else out

    @staticmethod
    def backward(ctx, grad):
        return AvgPool.apply(grad, plan=ctx.plan)


def _avg_divisor(spatial, kernel, stride, padding, out_size, count_include_pad):
    """PyTorch's divisor per output position: the window clipped to the padded input (with
    count_include_pad), or to the input itself (without)."""
    sizes = []
    for size, k, s, p, n in zip(spatial, kernel, stride, padding, out_size):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, size) - np.maximum(start, 0))
    return functools.reduce(np.multiply.outer, sizes).astype(np.float64)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of an (N, C, H, W) or unbatched (C, H, W) input, as PyTorch: zero
    padding counts in the divisor with count_include_pad=True (the default); windows that
    ceil_mode adds past the padded input are averaged over their part inside it;
    divisor_override replaces every divisor."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of an (N, C, D, H, W) or unbatched (C, D, H, W) input, as avg_pool2d."""
    return _avg_pool("avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dims):
    _check_pool_input(op, input, dims)
    kernel, stride, padding, _ = _pool_arguments(op, kernel_size, stride, padding, n=dims)
    if input.ndim == dims + 1:
        return _avg_pool(op, input.unsqueeze(0), kernel, stride, padding, ceil_mode, count_include_pad,
                         divisor_override, dims).squeeze(0)
    if input.dtype.kind not in "fc":
        raise DTypeError(f"{op}: expects a floating-point input, got {input.dtype}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ArgumentError(f"{op}: padding {padding} should be at most half of the kernel size {kernel}")
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError(f"{op}: divisor_override must not be zero")
    image_size = input.shape[2:]
    no_dilation = (1,) * dims
    out_size, extra = pool_geometry(op, image_size, kernel, stride, padding, no_dilation, ceil_mode)
    if divisor_override is not None:
        scale = 1.0 / divisor_override
    else:
        scale = (1.0 / _avg_divisor(image_size, kernel, stride, padding, out_size, count_include_pad)).astype(input.dtype)
    plan = _AvgPlan((kernel, stride, padding, no_dilation, out_size, extra), input.shape, scale)
    return AvgPool.apply(input, plan=plan)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of an (N, C, L) or unbatched (C, L) input: avg_pool2d on a unit height."""
    _check_pool_input("avg_pool1d", input, 1)
    kernel, stride, padding, _ = _pool_arguments("avg_pool1d", kernel_size, stride, padding, n=1)
    return avg_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding, ceil_mode,
                      count_include_pad).squeeze(-2)


# -- adaptive pooling ------------------------------------------------------------------------------
#
# Output i of n along an axis of size `size` pools PyTorch's window [floor(i*size/n), ceil((i+1)*size/n)).
# The average is linear and separable: one (n, size) averaging matrix per axis, applied by matmul,
# whose derivatives are matmuls again. The max picks, per window, the element PyTorch picks
# (the first maximum in row-major order, or the last NaN), then gathers it: gather's derivative
# is a scatter-add and the scatter's is the gather.

def _adaptive_windows(size, n):
    i = np.arange(n)
    return (i * size) // n, -(-((i + 1) * size) // n)


def _adaptive_sizes(op, output_size, spatial):
    sizes = ((output_size,) * len(spatial) if output_size is None or isinstance(output_size, (int, np.integer))
             else tuple(output_size))
    if len(sizes) != len(spatial):
        raise ArgumentError(f"{op}: output_size must be an int or {len(spatial)} ints (or None), got {output_size!r}")
    sizes = tuple(size if out is None else int(out) for out, size in zip(sizes, spatial))
    if min(sizes) <= 0:
        raise ArgumentError(f"{op}: output_size must be positive, got {output_size!r}")
    return sizes


def _check_adaptive_input(op, input, dims):
    if input.ndim not in (dims + 1, dims + 2) or min(input.shape[-dims:]) == 0:
        raise shape_error(op, f"expects a {dims + 2}-D or unbatched {dims + 1}-D input with non-empty spatial dims",
                          input.shape)
    if input.dtype.kind not in "fc":
        raise DTypeError(f"{op}: expects a floating-point input, got {input.dtype}")


def _averaging_matrix(size, n, dtype):
    """(n, size): row i averages output i's window."""
    start, end = _adaptive_windows(size, n)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return constant((inside / (end - start)[:, None]).astype(dtype))


def _window_means(x, axis, size, n):
    """Each adaptive window's mean along `axis` (counted from the front), one window at a time: for
    input with a NaN or inf, which a product with the averaging matrix would spread (0 * inf is NaN)
    from its own windows into every window of its row."""
    start, end = _adaptive_windows(size, n)
    before = (slice(None),) * axis
    return stack([x[before + (slice(lo, hi),)].mean(axis) for lo, hi in zip(start, end)], axis)


def _average_along(x, axis, size, n):
    """The adaptive windows' means along `axis` (from the front) of x: by the averaging matrix (one
    product) when x is finite, else window by window."""
    if not np.isfinite(x._data).all():
        return _window_means(x, axis, size, n)
    average = _averaging_matrix(size, n, x.dtype)
    if axis == x.ndim - 1:
        return matmul(x, average.mT)
    # (..., size, later axes flattened): the product runs along `size`
    lead, later = x.shape[:axis], x.shape[axis + 1:]
    return matmul(average, x.reshape(lead + (size, math.prod(later)))).reshape(lead + (n,) + later)


def adaptive_avg_pool1d(input, output_size):
    """The mean over each of PyTorch's adaptive windows along the last axis of (N, C, L) or (C, L)."""
    _check_adaptive_input("adaptive_avg_pool1d", input, 1)
    (n,) = _adaptive_sizes("adaptive_avg_pool1d", output_size, input.shape[-1:])
    return _average_along(input, input.ndim - 1, input.shape[-1], n)


def adaptive_avg_pool2d(input, output_size):
    """The mean over each of PyTorch's adaptive windows of (N, C, H, W) or (C, H, W): (oh, H) @ x @ (W, ow)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """The mean over each of PyTorch's adaptive windows of (N, C, D, H, W) or (C, D, H, W): one
    averaging matrix applied along each spatial axis."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", input, output_size, 3)


def _adaptive_avg_pool(op, input, output_size, dims):
    _check_adaptive_input(op, input, dims)
    lead, spatial = input.shape[:-dims], input.shape[-dims:]
    sizes = _adaptive_sizes(op, output_size, spatial)
    # Windows that tile the input are those of avg_pool, and one window is a mean: both run as one
    # pass, where the products below are a small matrix product per (n, c) (3.7x PyTorch's time
    # for a ResNet head's global pooling).
    if all(n == 1 for n in sizes):
        return input.mean(tuple(range(-dims, 0)), keepdim=True)
    if all(size % n == 0 for size, n in zip(spatial, sizes)) and input.dtype.kind == "f":
        kernel = tuple(size // n for size, n in zip(spatial, sizes))
        return _avg_pool(op, input, kernel, None, 0, False, True, None, dims)
    out = input
    for axis, (size, n) in enumerate(zip(spatial, sizes)):
        out = _average_along(out, len(lead) + axis, size, n)
    return out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max over each of PyTorch's adaptive windows of (N, C, H, W) or (C, H, W); return_indices
    adds each maximum's flat index in its (H, W) plane."""
    return _adaptive_max_pool("adaptive_max_pool2d", input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """The max over each of PyTorch's adaptive windows of (N, C, D, H, W) or (C, D, H, W);
    return_indices adds each maximum's flat index in its (D, H, W) volume."""
    return _adaptive_max_pool("adaptive_max_pool3d", input, output_size, return_indices, 3)


def _adaptive_max_pool(op, input, output_size, return_indices, dims):
    _check_adaptive_input(op, input, dims)
    lead, spatial = input.shape[:-dims], input.shape[-dims:]
    sizes = _adaptive_sizes(op, output_size, spatial)
    windows = [list(zip(*_adaptive_windows(size, n))) for size, n in zip(spatial, sizes)]
    x = input._data
    index = np.empty(lead + sizes, np.int64)
    for position in itertools.product(*map(range, sizes)):
        bounds = [windows[axis][i] for axis, i in enumerate(position)]
        window = x[(Ellipsis,) + tuple(slice(lo, hi) for lo, hi in bounds)]
        extent = window.shape[-dims:]
        window = window.reshape(lead + (math.prod(extent),))
        k = np.argmax(window, -1)
        nan = np.isnan(window)
        if nan.any():
            k = np.where(nan.any(-1), window.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1), k)
        within = np.unravel_index(k, extent)
        index[(Ellipsis,) + position] = np.ravel_multi_index(
            tuple(lo + offset for (lo, _), offset in zip(bounds, within)), spatial)
    flat = index.reshape(lead + (math.prod(sizes),))
    out = gather(input.reshape(lead + (math.prod(spatial),)), -1, constant(flat)).reshape(lead + sizes)
    return (out, constant(index)) if return_indices else out
