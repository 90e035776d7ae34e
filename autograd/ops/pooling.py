"""Pooling: max pooling over 2-D windows, with its gradient routed to the first maximum."""
import numpy as np

from ..errors import ArgumentError, shape_error
from ..function import Primitive
from .conv import _strided
from .elementwise import constant
from .windows import window_geometry
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


def _offsets(k, d, n, s, axis):
    """Index tuples selecting, for each of the k kernel offsets, its n positions along `axis`."""
    lead = (slice(None),) * axis
    return [lead + (_strided(i * d, n, s),) for i in range(k)]


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
        (ph, pw), (eh, ew) = self.geometry[2], self.geometry[5]
        return x[:, :, ph:x.shape[2] - ph - eh, pw:x.shape[3] - pw - ew]


class MaxPool2d(Primitive):
    """Max over each window; the gradient goes to each window's first maximum (MaxPoolScatter)."""
    @staticmethod
    def forward(ctx, x, geometry):
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
        return out.transpose(1, 0, 2, 3) if swapped else out

    @staticmethod
    def backward(ctx, grad):
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


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=False, return_indices=False):
    """Arguments as pairs of ints. Pads with -inf; ceil_mode as PyTorch (a last window may
    start inside the input or the left padding, never in the right padding)."""
    if x.ndim != 4:
        raise shape_error("max_pool2d", "expects a 4-D (N, C, H, W) input", x.shape)
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise ArgumentError(f"max_pool2d: padding {tuple(padding)} should be at most half of the effective "
                             f"kernel size {tuple(kernel)} (dilation {tuple(dilation)})")
    out_hw, extra = pool_geometry("max_pool2d", x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    geometry = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation), out_hw, extra)
    out = MaxPool2d.apply(x, geometry=geometry)
    if not return_indices:
        return out
    return out, constant(_flat_indices(out.grad_fn, x, geometry))


def _flat_indices(node, x, geometry):
    """PyTorch's return_indices: each maximum's flat position in its (H, W) input plane."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), extra = geometry
    if node is None:  # not recorded: run the forward again to find the maxima
        node = object.__new__(MaxPool2d)
        node._saved = node._output_data = None
        node._inputs = [x]  # recording, so that forward saves its plan
        MaxPool2d.forward(node, x.data, geometry)
    (plan,) = node.saved_tensors
    row = np.zeros(plan.out_shape, np.int64) if plan.row_winner is None else plan.row_winner.astype(np.int64)
    column_winner = (np.zeros(plan.rows_shape, np.int64) if plan.column_winner is None
                     else plan.column_winner.astype(np.int64))
    column = _pick(column_winner, plan.row_winner, plan.row_offsets, plan.out_shape)
    rows = np.arange(oh)[:, None] * sh - ph + row * dh
    cols = np.arange(ow)[None, :] * sw - pw + column * dw
    flat = rows * x.shape[3] + cols
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
