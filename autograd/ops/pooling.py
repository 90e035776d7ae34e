"""Pooling over 2-D windows: max pooling, with its gradient routed to the first maximum, and
average pooling; each with PyTorch's functional form (max_pool2d, avg_pool2d)."""
import numpy as np

from ..errors import ArgumentError, DTypeError, shape_error
from ..function import Primitive
from .windows import ints, strided, window_geometry
from .elementwise import constant
from .indexing import gather
from .linalg import matmul
from .workspace import workspace


# -- max pooling ---------------------------------------------------------------------------------
#
# The max over a kh x kw window is taken separably: first along W (each input row, for each
# output column: the max over the kw offsets and which offset won), then along H over those row
# maxima (which of the kh offsets won). Keeping the first winner at each stage gives the first
# maximum in row-major order, PyTorch's choice among ties. The gradient is routed back the same
# way, H then W, and overlapping windows add. Each stage is a handful of whole-array NumPy ops per
# kernel offset: no window copies.
#
# Pooling works on the last two axes only, so an (N, C, H, W) array stored channel-major (as
# conv2d returns it, and relu keeps it) is pooled as the contiguous (C, N, H, W) array it is, and
# the output and gradients keep that layout.
#
# When the windows tile each row exactly (kernel == stride along W, no padding or dilation there:
# the usual 2x2 pooling), the input is first split into kw contiguous column planes, one per
# offset: NumPy's maxima and comparisons run several times faster on contiguous arrays than on
# stride-kw views, which pays for the copy. Where windows tile the input, the backward writes
# every position and needs no zero fill.

def _last_axes_contiguous(x):
    """(array to pool, whether it is x with axes 0 and 1 swapped)."""
    if not x.flags.c_contiguous and x.ndim == 4 and x.transpose(1, 0, 2, 3).flags.c_contiguous:
        return x.transpose(1, 0, 2, 3), True
    return x, False


def _pad_last_axes(x, padding, extra, value):
    (ph, pw), (eh, ew) = padding, extra
    if not (ph or pw or eh or ew):
        return x
    out = np.full(x.shape[:2] + (x.shape[2] + 2 * ph + eh, x.shape[3] + 2 * pw + ew), value, x.dtype)
    out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return out


def _unpad_last_axes(x, padding, extra):
    (ph, pw), (eh, ew) = padding, extra
    return x[:, :, ph:x.shape[2] - ph - eh, pw:x.shape[3] - pw - ew]


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


class _PoolPlan:
    """The geometry of one max-pooling call, and the winners its forward found."""

    def __init__(self, geometry, padded_shape, swapped):
        (kh, kw), (sh, sw), padding, (dh, dw), (oh, ow), extra = geometry
        self.geometry, self.padded_shape, self.swapped = geometry, padded_shape, swapped
        self.column_offsets = _offsets(kw, dw, ow, sw, 3)           # along W, on (.., Hp, Wp)
        self.row_offsets = _offsets(kh, dh, oh, sh, 2)              # along H, on (.., Hp, ow)
        self.rows_shape = padded_shape[:3] + (ow,)
        self.out_shape = padded_shape[:2] + (oh, ow)
        self.overlap_w = (kw - 1) * dw + 1 > sw
        self.overlap_h = (kh - 1) * dh + 1 > sh
        self.tiles_w = dw == 1 and sw == kw and ow * sw == padded_shape[3]
        self.tiles_h = dh == 1 and sh == kh and oh * sh == padded_shape[2]
        self.column_winner = self.row_winner = None

    def unpad(self, x):
        return _unpad_last_axes(x, self.geometry[2], self.geometry[5])


class MaxPool2d(Primitive):
    """Max over each window; the gradient goes to each window's first maximum (MaxPoolScatter).
    With return_indices, a second output (int64, outside the graph) holds each maximum's flat
    position in its input plane, read off the same winners."""
    @staticmethod
    def forward(ctx, x, geometry, return_indices=False):
        image_width = x.shape[3]
        kernel, stride, padding, dilation, out_hw, extra = geometry
        x, swapped = _last_axes_contiguous(x)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = _pad_last_axes(x, padding, extra, fill)
        plan = _PoolPlan(geometry, x.shape, swapped)
        if plan.tiles_w and kernel[1] > 1 and x.flags.c_contiguous:
            columns = workspace.empty((kernel[1],) + plan.rows_shape, x.dtype)
            np.copyto(columns, x.reshape(plan.rows_shape + (kernel[1],)).transpose(4, 0, 1, 2, 3))
        else:
            columns = [x[i] for i in plan.column_offsets]
        row_max, plan.column_winner = _first_max(list(columns), plan.rows_shape, x.dtype)
        out, plan.row_winner = _first_max([row_max[i] for i in plan.row_offsets], plan.out_shape, x.dtype)
        if plan.row_winner is None and plan.column_winner is None:
            out = out.copy()  # a 1x1 kernel picks a view of the input: never hand that out
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        out = out.transpose(1, 0, 2, 3) if swapped else out
        return (out, _flat_indices(plan, image_width)) if return_indices else out

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        return MaxPoolScatter.apply(grad, plan=ctx.saved_tensors[0])


class MaxPoolScatter(Primitive):
    """Each window's gradient placed at its maximum (added where windows overlap)."""
    @staticmethod
    def forward(ctx, grad, plan):
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        if plan.swapped:
            grad = grad.transpose(1, 0, 2, 3)
        rows = (workspace.empty if plan.tiles_h else workspace.zeros)(plan.rows_shape, grad.dtype)
        _route(grad, plan.row_winner, rows, plan.row_offsets, plan.overlap_h)
        out = (workspace.empty if plan.tiles_w else workspace.zeros)(plan.padded_shape, grad.dtype)
        _route(rows, plan.column_winner, out, plan.column_offsets, plan.overlap_w)
        out = plan.unpad(out)
        return out.transpose(1, 0, 2, 3) if plan.swapped else out

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolGather.apply(grad, plan=ctx.saved_tensors[0])


class MaxPoolGather(Primitive):
    """From each window of x, the element at the remembered maximum (MaxPoolScatter's adjoint)."""
    @staticmethod
    def forward(ctx, x, plan):
        ctx.save_for_backward(plan)  # freed after backward, like any saved value
        if plan.swapped:
            x = x.transpose(1, 0, 2, 3)
        x = _pad_last_axes(x, plan.geometry[2], plan.geometry[5], 0)
        rows = _pick(x, plan.column_winner, plan.column_offsets, plan.rows_shape)
        out = np.array(_pick(rows, plan.row_winner, plan.row_offsets, plan.out_shape))
        return out.transpose(1, 0, 2, 3) if plan.swapped else out

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolScatter.apply(grad, plan=ctx.saved_tensors[0])


def _pool_arguments(op, kernel_size, stride, padding, dilation=1, n=2):
    """kernel, stride (kernel_size when None, as PyTorch), padding, dilation as n ints each."""
    kernel = ints(kernel_size, n, "kernel_size", op)
    empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    stride = kernel if empty else ints(stride, n, "stride", op)
    return kernel, stride, ints(padding, n, "padding", op), ints(dilation, n, "dilation", op)


def _check_1d(op, input):
    if input.ndim not in (2, 3):
        raise shape_error(op, "expects a 3-D (N, C, L) or 2-D (C, L) input", input.shape)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling of an (N, C, L) or unbatched (C, L) input: max_pool2d on a unit height."""
    _check_1d("max_pool1d", input)
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
    kernel, stride, padding, dilation = _pool_arguments("max_pool2d", kernel_size, stride, padding, dilation)
    if input.ndim == 3:
        result = max_pool2d(input.unsqueeze(0), kernel, stride, padding, dilation, ceil_mode, return_indices)
        if return_indices:
            return result[0].squeeze(0), constant(result[1]._data[0])
        return result.squeeze(0)
    if input.ndim != 4:
        raise shape_error("max_pool2d", "expects a 4-D (N, C, H, W) or 3-D (C, H, W) input", input.shape)
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise ArgumentError(f"max_pool2d: padding {padding} should be at most half of the effective "
                                f"kernel size {kernel} (dilation {dilation})")
    out_hw, extra = pool_geometry("max_pool2d", input.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    geometry = (kernel, stride, padding, dilation, out_hw, extra)
    return MaxPool2d.apply(input, geometry=geometry, return_indices=return_indices)


def _flat_indices(plan, image_width):
    """PyTorch's return_indices: each maximum's flat position in its (H, W) input plane."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), extra = plan.geometry
    row = np.zeros(plan.out_shape, np.int64) if plan.row_winner is None else plan.row_winner.astype(np.int64)
    column_winner = (np.zeros(plan.rows_shape, np.int64) if plan.column_winner is None
                     else plan.column_winner.astype(np.int64))
    column = _pick(column_winner, plan.row_winner, plan.row_offsets, plan.out_shape)
    rows = np.arange(oh)[:, None] * sh - ph + row * dh
    cols = np.arange(ow)[None, :] * sw - pw + column * dw
    flat = rows * image_width + cols
    return flat.transpose(1, 0, 2, 3) if plan.swapped else flat


def pool_geometry(op, spatial, kernel, stride, padding, dilation, ceil_mode):
    """(out_hw, extra right/bottom padding that ceil_mode needs)."""
    out_hw = list(window_geometry(op, spatial, kernel, stride, padding, dilation))
    extra = [0, 0]
    if ceil_mode:
        for a, (size, k, s, p, d) in enumerate(zip(spatial, kernel, stride, padding, dilation)):
            span = d * (k - 1) + 1
            n = -(-(size + 2 * p - span) // s) + 1
            if (n - 1) * s >= size + p:
                n -= 1
            out_hw[a] = n
            extra[a] = max(0, (n - 1) * s + span - (size + 2 * p))
    return tuple(out_hw), tuple(extra)


# -- average pooling -------------------------------------------------------------------------------
#
# A window's sum is taken separably, as the max is: kw strided slice-adds along W into
# (.., Hp, ow), then kh along H; each output position is then scaled by one over its divisor.
# Average pooling is linear, so its backward is its adjoint (the scaled gradient added back into
# every window position, AvgPoolAdjoint) and the adjoint's backward is the pooling again. Both
# work on the last two axes only, keeping a channel-major input's layout as max pooling does.

class _AvgPlan:
    """The geometry of one average-pooling call and the factor (one over the divisor) of each
    output position."""

    def __init__(self, geometry, image_hw, scale):
        (kh, kw), (sh, sw), self.padding, _, (oh, self.out_w), self.extra = geometry
        self.padded_hw = tuple(size + 2 * p + e for size, p, e in zip(image_hw, self.padding, self.extra))
        self.column_offsets = _offsets(kw, 1, self.out_w, sw, 3)
        self.row_offsets = _offsets(kh, 1, oh, sh, 2)
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


class AvgPool2d(Primitive):
    """The mean over each window (the sum times one over PyTorch's divisor)."""
    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan = plan
        x, swapped = _last_axes_contiguous(x)
        x = _pad_last_axes(x, plan.padding, plan.extra, 0)
        out = _sum_at(_sum_at(x, plan.column_offsets), plan.row_offsets)
        out *= plan.scale
        return out.transpose(1, 0, 2, 3) if swapped else out

    @staticmethod
    def backward(ctx, grad):
        return AvgPoolAdjoint.apply(grad, plan=ctx.plan)


class AvgPoolAdjoint(Primitive):
    """Each output's scaled gradient spread over its window (added where windows overlap)."""
    @staticmethod
    def forward(ctx, grad, plan):
        ctx.plan = plan
        grad, swapped = _last_axes_contiguous(grad)
        lead = grad.shape[:2]
        rows = _add_at(grad * plan.scale, plan.row_offsets, np.zeros(lead + (plan.padded_hw[0], plan.out_w), grad.dtype))
        out = _add_at(rows, plan.column_offsets, np.zeros(lead + plan.padded_hw, grad.dtype))
        out = _unpad_last_axes(out, plan.padding, plan.extra)
        return out.transpose(1, 0, 2, 3) if swapped else out

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, plan=ctx.plan)


def _avg_divisor(spatial, kernel, stride, padding, out_hw, count_include_pad):
    """PyTorch's divisor per output position: the window clipped to the padded input (with
    count_include_pad), or to the input itself (without)."""
    sizes = []
    for size, k, s, p, n in zip(spatial, kernel, stride, padding, out_hw):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, size) - np.maximum(start, 0))
    return np.outer(sizes[0], sizes[1]).astype(np.float64)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of an (N, C, H, W) or unbatched (C, H, W) input, as PyTorch: zero
    padding counts in the divisor with count_include_pad=True (the default); windows that
    ceil_mode adds past the padded input are averaged over their part inside it;
    divisor_override replaces every divisor."""
    kernel, stride, padding, _ = _pool_arguments("avg_pool2d", kernel_size, stride, padding)
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    if input.ndim != 4:
        raise shape_error("avg_pool2d", "expects a 4-D (N, C, H, W) or 3-D (C, H, W) input", input.shape)
    if input.dtype.kind not in "fc":
        raise DTypeError(f"avg_pool2d: expects a floating-point input, got {input.dtype}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ArgumentError(f"avg_pool2d: padding {padding} should be at most half of the kernel size {kernel}")
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError("avg_pool2d: divisor_override must not be zero")
    image_hw = input.shape[2:]
    out_hw, extra = pool_geometry("avg_pool2d", image_hw, kernel, stride, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        scale = 1.0 / divisor_override
    else:
        scale = (1.0 / _avg_divisor(image_hw, kernel, stride, padding, out_hw, count_include_pad)).astype(input.dtype)
    plan = _AvgPlan((kernel, stride, padding, (1, 1), out_hw, extra), image_hw, scale)
    return AvgPool2d.apply(input, plan=plan)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of an (N, C, L) or unbatched (C, L) input: avg_pool2d on a unit height."""
    _check_1d("avg_pool1d", input)
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


def adaptive_avg_pool1d(input, output_size):
    """The mean over each of PyTorch's adaptive windows along the last axis of (N, C, L) or (C, L)."""
    _check_adaptive_input("adaptive_avg_pool1d", input, 1)
    (n,) = _adaptive_sizes("adaptive_avg_pool1d", output_size, input.shape[-1:])
    return matmul(input, _averaging_matrix(input.shape[-1], n, input.dtype).mT)


def adaptive_avg_pool2d(input, output_size):
    """The mean over each of PyTorch's adaptive windows of (N, C, H, W) or (C, H, W): (oh, H) @ x @ (W, ow)."""
    _check_adaptive_input("adaptive_avg_pool2d", input, 2)
    (h, w), dtype = input.shape[-2:], input.dtype
    oh, ow = _adaptive_sizes("adaptive_avg_pool2d", output_size, (h, w))
    # Windows that tile the input are those of avg_pool2d, and one window is a mean: both run as one
    # pass, where the two products below are a small matrix product per (n, c) (3.7x PyTorch's time
    # for a ResNet head's global pooling).
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0 and input.dtype.kind == "f":
        return avg_pool2d(input, (h // oh, w // ow))
    return matmul(matmul(_averaging_matrix(h, oh, dtype), input), _averaging_matrix(w, ow, dtype).mT)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max over each of PyTorch's adaptive windows of (N, C, H, W) or (C, H, W); return_indices
    adds each maximum's flat index in its (H, W) plane."""
    _check_adaptive_input("adaptive_max_pool2d", input, 2)
    lead, (h, w) = input.shape[:-2], input.shape[-2:]
    oh, ow = _adaptive_sizes("adaptive_max_pool2d", output_size, (h, w))
    x = input._data
    index = np.empty(lead + (oh, ow), np.int64)
    for i, (r0, r1) in enumerate(zip(*_adaptive_windows(h, oh))):
        for j, (c0, c1) in enumerate(zip(*_adaptive_windows(w, ow))):
            window = x[..., r0:r1, c0:c1].reshape(lead + (-1,))
            k = np.argmax(window, -1)
            nan = np.isnan(window)
            if nan.any():
                k = np.where(nan.any(-1), window.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1), k)
            index[..., i, j] = (r0 + k // (c1 - c0)) * w + c0 + k % (c1 - c0)
    flat = index.reshape(lead + (-1,))
    out = gather(input.reshape(lead + (h * w,)), -1, constant(flat)).reshape(lead + (oh, ow))
    return (out, constant(index)) if return_indices else out
