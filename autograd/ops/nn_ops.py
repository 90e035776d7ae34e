"""Fused primitives for nn's hot paths: linear, conv2d, max-pooling, softmax cross-entropy, softplus,
binary cross-entropy, batch and layer normalisation.

Each could be composed from smaller ops (matmul, unfold, amax, log_softmax + indexing...);
fusing them removes graph nodes and whole passes over memory on the training hot path, and
(softmax cross-entropy, softplus, binary cross-entropy) keeps the arithmetic stable. The pattern
is that of elementwise.py: a NumPy forward, and a backward written with Tensor ops so that it is
itself differentiable (create_graph=True works through every op here).

Where the forward computes something the backward also needs (conv's column matrix, batchnorm's
normalised input), the backward reuses it as a constant when only first derivatives are wanted,
and recomputes it with differentiable Tensor ops when a graph is being built (grad mode is on
inside backward exactly when create_graph=True).

Convolution layout. `im2col` writes the column matrix transposed, as (C*kh*kw, N*oh*ow): each of
its rows is one (channel, kernel offset) slab of the image, copied with contiguous inner rows,
and the convolution is one matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow). The output is returned as
an (N, O, oh, ow) view of the (O, N, oh, ow) product (no copy); the next convolution reads its
slabs from that layout just as fast.
"""
import sys
import threading
from collections import OrderedDict

import numpy as np

from .. import grad_mode
from ..errors import ArgumentError, shape_error
from ..function import Primitive
from .elementwise import constant, sigmoid
from .softmax import log_softmax, softmax
from .windows import unfold, window_geometry


def _unused_refcount():
    """sys.getrefcount of an array that only a pool list refers to, seen from the loop in
    Workspace.empty (measured rather than assumed, as interpreters count differently)."""
    arrays = [np.empty(0)]
    for array in arrays:
        return sys.getrefcount(array)


_UNUSED_REFCOUNT = _unused_refcount()


class Workspace:
    """Reusable scratch arrays for the big, short-lived buffers of conv and pooling (the column
    matrices, their gradients, pooled outputs), as PyTorch's caching allocator keeps freed blocks.

    Allocating a fresh multi-megabyte array every step costs a page fault per 4 KiB page on first
    touch (malloc hands large blocks back to the OS when they are freed), which in a small CNN's
    step is as much time as the arithmetic. An array here is handed out again only once nothing
    but the pool refers to it (no Tensor, view or saved graph value), so reuse is never visible.
    Per thread; at most `per_shape` arrays per (shape, dtype), and `max_bytes` in all (least
    recently used shapes are dropped first).
    """
    min_bytes = 1 << 18
    per_shape = 3
    max_bytes = 256 << 20

    def __init__(self):
        self._local = threading.local()

    def _pool(self):
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = OrderedDict()
            self._local.bytes = 0
        return pool

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        shape = tuple(shape)
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size < self.min_bytes:
            return np.empty(shape, dtype)
        pool = self._pool()
        key = (shape, dtype)
        arrays = pool.get(key)
        if arrays is None:
            arrays = pool[key] = []
        pool.move_to_end(key)
        for array in arrays:
            if sys.getrefcount(array) == _UNUSED_REFCOUNT:   # only the pool refers to it
                return array
        array = np.empty(shape, dtype)
        if len(arrays) < self.per_shape:
            arrays.append(array)
            self._local.bytes += size
            while self._local.bytes > self.max_bytes and len(pool) > 1:
                (old_shape, old_dtype), dropped = pool.popitem(last=False)
                self._local.bytes -= len(dropped) * int(np.prod(old_shape, dtype=np.int64)) * old_dtype.itemsize
        return array

    def zeros(self, shape, dtype):
        array = self.empty(shape, dtype)
        array.fill(0)
        return array

    def clear(self):
        self._pool().clear()
        self._local.bytes = 0


workspace = Workspace()


def _recording_graph():
    """Inside a backward: True when create_graph=True asked for a differentiable gradient."""
    return grad_mode._state.grad_enabled


def _row_sums(matrix):
    """Each row's sum, as one BLAS matrix-vector product."""
    return matrix @ np.ones(matrix.shape[1], matrix.dtype)


def _row_dots(a, b):
    """sum(a * b) along each row, without the product array."""
    if a.shape[1] < 1024:  # many short rows: one matmul per row would cost more than einsum
        return np.einsum("km,km->k", a, b)
    return np.matmul(a[:, None, :], b[:, :, None]).reshape(a.shape[0])


# -- linear --------------------------------------------------------------------------------------

class Linear(Primitive):
    """out = x @ W.T + b for x of shape (*, in), W (out, in), b (out,) or None.

    d/dx = grad @ W, d/dW = grad^T @ x (leading dims flattened), d/db = grad summed over rows.
    The training hot path: for first derivatives the three products run on the arrays directly
    (no graph nodes for the transposes and reshapes); with create_graph, as Tensor ops.
    """
    @staticmethod
    def forward(ctx, x, weight, bias):
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        out_features, in_features = weight.shape
        if not _recording_graph():
            g = grad.data
            g2 = g.reshape(-1, out_features)
            grad_x = constant(g @ weight.data) if need_x else None
            grad_w = constant(g2.T @ x.data.reshape(-1, in_features)) if need_w else None
            grad_b = constant(g2.sum(0)) if need_b else None
            return grad_x, grad_w, grad_b
        grad_x = grad @ weight if need_x else None
        grad_2d = grad.reshape(-1, out_features) if grad.ndim != 2 else grad
        grad_w = grad_2d.mT @ (x.reshape(-1, in_features) if x.ndim != 2 else x) if need_w else None
        grad_b = grad_2d.sum(0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise shape_error("linear", f"the input's last dim must equal the weight's in_features "
                          f"({weight.shape[-1]})", x.shape, weight.shape)
    return Linear.apply(x, weight, bias)


# -- convolution ---------------------------------------------------------------------------------

def _span(size, offset, stride, pad, out):
    """For one kernel offset along one axis: the output positions [lo, hi) whose input position
    r * stride - pad + offset falls inside [0, size), and the input position of the first."""
    lo = max(0, -(-(pad - offset) // stride))
    hi = max(lo, min(out, (size - 1 + pad - offset) // stride + 1))
    return lo, hi, lo * stride - pad + offset


def _strided(start, count, step):
    return slice(start, start + step * (count - 1) + 1, step) if count > 0 else slice(0, 0)


def _flat_shifts(input_shape, kernel, stride, padding, dilation, out_hw):
    """For a stride-1 convolution whose output is as large as its input, each kernel offset reads
    the input shifted by a*W + b in the (C, N*H*W) flattening, (a, b) = the offset minus the
    padding, except at the positions whose row or column falls off the image (which would wrap
    into a neighbouring row or image). Per offset: (i, j, shift, valid rows r0:r1, columns c0:c1),
    or None for other geometries."""
    n, c, h, w = input_shape
    (kh, kw), (dh, dw), (ph, pw) = kernel, dilation, padding
    if stride != (1, 1) or out_hw != (h, w):
        return None
    shifts = []
    for i in range(kh):
        a = i * dh - ph
        for j in range(kw):
            b = j * dw - pw
            shifts.append((i, j, a * w + b, max(0, -a), min(h, h - a), max(0, -b), min(w, w - b)))
    return shifts


def _zero_off_image(planes, r0, r1, c0, c1):
    """Zero the rows and columns of a (C, N, H, W) view outside rows r0:r1 and columns c0:c1."""
    h, w = planes.shape[2:]
    if r0 > 0:
        planes[:, :, :r0] = 0
    if r1 < h:
        planes[:, :, r1:] = 0
    if c0 > 0:
        planes[:, :, r0:r1, :c0] = 0
    if c1 < w:
        planes[:, :, r0:r1, c1:] = 0


def im2col(x, kernel, stride, padding, dilation, out_hw):
    """The transposed column matrix (C*kh*kw, N*oh*ow) of an (N, C, H, W) array; row (c, i, j)
    holds input channel c at kernel offset (i, j) for every output position. Padding is never
    materialised: each offset copies the part of the image it sees and zeroes the border. For a
    channel-major input of a same-size convolution each offset is one long flat copy."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow), (ph, pw) = kernel, stride, dilation, out_hw, padding
    by_channel = x.transpose(1, 0, 2, 3)
    shifts = _flat_shifts(x.shape, kernel, stride, padding, dilation, out_hw)
    if shifts is not None and by_channel.flags.c_contiguous:
        size = n * h * w
        flat = by_channel.reshape(c, size)
        cols = workspace.empty((c, kh, kw, size), x.dtype)
        for i, j, shift, r0, r1, c0, c1 in shifts:
            dst = cols[:, i, j]
            lo, hi = max(0, -shift), min(size, size - shift)
            if r0 >= r1 or c0 >= c1 or lo >= hi:
                dst[...] = 0
                continue
            dst[:, lo:hi] = flat[:, lo + shift:hi + shift]
            dst[:, :lo] = 0
            dst[:, hi:] = 0
            _zero_off_image(dst.reshape(c, n, h, w), r0, r1, c0, c1)
        return cols.reshape(c * kh * kw, size)
    cols = workspace.empty((c, kh, kw, n, oh, ow), x.dtype)
    for i in range(kh):
        r0, r1, h0 = _span(h, i * dh, sh, ph, oh)
        for j in range(kw):
            c0, c1, w0 = _span(w, j * dw, sw, pw, ow)
            dst = cols[:, i, j]
            _zero_off_image(dst, r0, r1, c0, c1)
            dst[:, :, r0:r1, c0:c1] = by_channel[:, :, _strided(h0, r1 - r0, sh), _strided(w0, c1 - c0, sw)]
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw, consume=False):
    """The adjoint of im2col: add each (c, i, j) row back where it was read from. The result is
    an (N, C, H, W) view of a (C, N, H, W) array. consume=True allows zeroing parts of `cols`
    (a scratch array of the caller's), which lets a same-size convolution add each offset back
    as one long flat slice."""
    n, c, h, w = input_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow), (ph, pw) = kernel, stride, dilation, out_hw, padding
    shifts = _flat_shifts(input_shape, kernel, stride, padding, dilation, out_hw) if consume else None
    if shifts is not None:
        size = n * h * w
        cols = cols.reshape(c, kh, kw, size)
        out = workspace.empty((c, size), cols.dtype)
        unshifted = [s for s in shifts if s[2] == 0 and s[3:] == (0, h, 0, w)]
        if unshifted:  # an offset that covers every position: copy it rather than zero and add
            i, j = unshifted[0][:2]
            np.copyto(out, cols[:, i, j])
            shifts = [s for s in shifts if s is not unshifted[0]]
        else:
            out.fill(0)
        for i, j, shift, r0, r1, c0, c1 in shifts:
            src = cols[:, i, j]
            lo, hi = max(0, -shift), min(size, size - shift)
            if r0 >= r1 or c0 >= c1 or lo >= hi:
                continue
            _zero_off_image(src.reshape(c, n, h, w), r0, r1, c0, c1)   # what would wrap around
            out[:, lo + shift:hi + shift] += src[:, lo:hi]
        return out.reshape(c, n, h, w).transpose(1, 0, 2, 3)
    cols = cols.reshape(c, kh, kw, n, oh, ow)
    out = workspace.zeros((c, n, h, w), cols.dtype)
    for i in range(kh):
        r0, r1, h0 = _span(h, i * dh, sh, ph, oh)
        for j in range(kw):
            c0, c1, w0 = _span(w, j * dw, sw, pw, ow)
            out[:, :, _strided(h0, r1 - r0, sh), _strided(w0, c1 - c0, sw)] += cols[:, i, j, :, r0:r1, c0:c1]
    return out.transpose(1, 0, 2, 3)


def _grouped(matrix, groups):
    """(rows, cols) -> (groups, rows/groups, cols)."""
    return matrix.reshape(groups, matrix.shape[0] // groups, *matrix.shape[1:])


class Conv2d(Primitive):
    """2-D cross-correlation (PyTorch's conv2d) as one matmul with the im2col matrix.

    out[O, NL] = W[O, CKK] @ cols[CKK, NL] (+ b); per group when groups > 1.
    d/dW = grad[O, NL] @ cols^T;  d/dcols = W^T @ grad, folded back into the image (col2im);
    d/db = grad summed over N and the spatial dims.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        n, c, h, w = x.shape
        out_c, _, kh, kw = weight.shape
        out_hw = window_geometry("conv2d", (h, w), (kh, kw), stride, padding, dilation)
        cols = im2col(x, (kh, kw), stride, padding, dilation, out_hw)
        w2 = weight.reshape(out_c, -1)
        if groups == 1:
            out = np.matmul(w2, cols, out=workspace.empty((out_c, cols.shape[1]), np.result_type(w2, cols)))
        else:
            out = np.matmul(_grouped(w2, groups), _grouped(cols, groups)).reshape(out_c, -1)
        if bias is not None:
            out += bias[:, None]
        ctx.geometry = ((kh, kw), stride, padding, dilation, out_hw, groups)
        ctx.save_for_backward(x, weight, cols)
        return out.reshape(out_c, n, *out_hw).transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, grad):
        x, weight, cols = ctx.saved_tensors
        kernel, stride, padding, dilation, out_hw, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad
        out_c = weight.shape[0]
        if not _recording_graph():
            return _conv2d_backward(ctx, grad.data, x.shape, weight.data, cols.data)
        grad_t = grad.transpose(0, 1).reshape(out_c, -1)      # (O, N*oh*ow)
        grad_x = grad_w = grad_b = None
        if need_w:  # the column matrix as a differentiable function of x
            cols = unfold(x, kernel, stride, padding, dilation).permute(1, 0, 2).reshape(cols.shape)
            if groups == 1:
                grad_w = (grad_t @ cols.mT).reshape(weight.shape)
            else:
                grad_w = (_grouped(grad_t, groups) @ _grouped(cols, groups).mT).reshape(weight.shape)
        if need_x:
            w2 = weight.reshape(out_c, -1)
            if groups == 1:
                grad_cols = w2.mT @ grad_t
            else:
                grad_cols = (_grouped(w2, groups).mT @ _grouped(grad_t, groups)).reshape(-1, grad_t.shape[1])
            grad_x = Col2im.apply(grad_cols, input_shape=x.shape, geometry=ctx.geometry)
        if need_b:
            grad_b = grad_t.sum(1)
        return grad_x, grad_w, grad_b


def _conv2d_backward(ctx, grad, input_shape, weight, cols):
    """Conv2d's first derivatives on arrays: the same three products, on a gradient that is
    already (O, N*oh*ow) in memory when it comes in the conv's own layout; col2im may consume the
    column gradient, which nothing else sees."""
    kernel, stride, padding, dilation, out_hw, groups = ctx.geometry
    need_x, need_w, need_b = ctx.needs_input_grad
    out_c = weight.shape[0]
    by_channel = grad.transpose(1, 0, 2, 3)       # (O, N, oh, ow): free for a conv's own layout
    if not by_channel.flags.c_contiguous:
        copy = workspace.empty(by_channel.shape, grad.dtype)
        np.copyto(copy, by_channel)
        by_channel = copy
    grad_t = by_channel.reshape(out_c, -1)
    grad_x = grad_w = grad_b = None
    if need_w:
        if groups == 1:
            grad_w = grad_t @ cols.T
        else:
            grad_w = _grouped(grad_t, groups) @ _grouped(cols, groups).transpose(0, 2, 1)
        grad_w = constant(grad_w.reshape(weight.shape))
    if need_x:
        w2 = weight.reshape(out_c, -1)
        if groups == 1:
            # Not pooled on purpose: glibc raises its mmap and trim thresholds to the largest
            # block freed, and freeing this one (the step's largest) keeps the heap from being
            # handed back to the OS between steps (5x the page faults, +7 ms per cnn step if pooled).
            grad_cols = w2.T @ grad_t
        else:
            grad_cols = (_grouped(w2, groups).transpose(0, 2, 1) @ _grouped(grad_t, groups)).reshape(-1, grad_t.shape[1])
        grad_x = constant(col2im(grad_cols, input_shape, kernel, stride, padding, dilation, out_hw, consume=True))
    if need_b:
        grad_b = constant(_row_sums(grad_t))
    return grad_x, grad_w, grad_b


class Col2im(Primitive):
    """The transposed column matrix folded back into an (N, C, H, W) image; its adjoint is im2col."""
    @staticmethod
    def forward(ctx, cols, input_shape, geometry):
        kernel, stride, padding, dilation, out_hw, _ = geometry
        ctx.geometry = geometry
        return col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw)

    @staticmethod
    def backward(ctx, grad):
        return Im2col.apply(grad, geometry=ctx.geometry)


class Im2col(Primitive):
    """The transposed column matrix of an image (Col2im's adjoint; used by double backward)."""
    @staticmethod
    def forward(ctx, x, geometry):
        kernel, stride, padding, dilation, out_hw, _ = geometry
        ctx.geometry, ctx.input_shape = geometry, x.shape
        return im2col(x, kernel, stride, padding, dilation, out_hw)

    @staticmethod
    def backward(ctx, grad):
        return Col2im.apply(grad, input_shape=ctx.input_shape, geometry=ctx.geometry)


def conv2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Arguments as pairs of ints (nn.functional.conv2d normalises them)."""
    if x.ndim != 4 or weight.ndim != 4:
        raise shape_error("conv2d", "expects a 4-D (N, C, H, W) input and a 4-D (out, in/groups, kh, kw) weight",
                          x.shape, weight.shape)
    if x.shape[1] != weight.shape[1] * groups:
        raise shape_error("conv2d", f"the input has {x.shape[1]} channels but the weight expects "
                          f"{weight.shape[1] * groups} (in_channels/groups = {weight.shape[1]}, groups = {groups})",
                          x.shape, weight.shape)
    if weight.shape[0] % groups:
        raise ArgumentError(f"conv2d: out_channels ({weight.shape[0]}) must be divisible by groups ({groups})")
    return Conv2d.apply(x, weight, bias, stride=tuple(stride), padding=tuple(padding),
                        dilation=tuple(dilation), groups=int(groups))


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
        node._start_recording()
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


# -- softmax cross-entropy -------------------------------------------------------------------------

class SoftmaxCrossEntropy(Primitive):
    """loss = -sum_c coef_c * log_softmax(x)_c along `axis`, per sample (scale None) or summed
    over everything and multiplied by `scale` (a mean's 1/count).

    coef is the one-hot target times the class weight (zero where ignored), mixed with the
    label-smoothing term, or a probability target. With s = softmax(x):
    d/dx = (s * sum_c coef_c - coef) * grad;  d/dcoef = -log_softmax(x) * grad.
    """
    @staticmethod
    def forward(ctx, x, coef, axis, scale):
        top = np.amax(x, axis=axis, keepdims=True)
        shifted = x - np.where(np.isfinite(top), top, 0)
        log_sum = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        shifted -= log_sum                               # now log_softmax(x)
        shifted *= coef
        per_sample = -np.sum(shifted, axis=axis)
        ctx.axis, ctx.scale = axis, scale
        ctx.save_for_backward(x, coef)
        if scale is None:
            return per_sample
        return np.asarray(per_sample.sum() * scale, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, coef = ctx.saved_tensors
        need_x, need_coef = ctx.needs_input_grad
        axis = ctx.axis
        if not _recording_graph() and not need_coef:  # the hot path, on arrays
            g = np.expand_dims(grad.data, axis) if ctx.scale is None else grad.data * ctx.scale
            x, coef = x.data, coef.data
            top = np.amax(x, axis=axis, keepdims=True)
            probs = np.exp(x - np.where(np.isfinite(top), top, 0))
            probs *= np.sum(coef, axis=axis, keepdims=True) / np.sum(probs, axis=axis, keepdims=True)
            probs -= coef
            probs *= g
            return constant(probs.astype(x.dtype, copy=False)), None
        grad = grad.unsqueeze(axis) if ctx.scale is None else grad * ctx.scale
        grad_x = grad_coef = None
        if need_x:
            total = coef.sum(axis, keepdim=True)
            grad_x = (softmax(x, axis) * total - coef) * grad
        if need_coef:
            grad_coef = log_softmax(x, axis) * -grad
        return grad_x, grad_coef


def softmax_cross_entropy(x, coef, axis=1, scale=None):
    return SoftmaxCrossEntropy.apply(x, coef, axis=axis, scale=scale)


# -- softplus --------------------------------------------------------------------------------------

class Softplus(Primitive):
    """log(1 + exp(x)), computed without overflow; softplus'(x) = sigmoid(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid(x)


def softplus(x):
    return Softplus.apply(x)


# -- binary cross-entropy --------------------------------------------------------------------------

_BCE_EPSILON = float(np.float32(1e-12))   # PyTorch's EPSILON, which it stores as a float32


class BinaryCrossEntropy(Primitive):
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 (as PyTorch), so
    x = 0 or 1 gives a finite loss. d/dx = (x - y) / max(x (1 - x), 1e-12), PyTorch's finite
    gradient; d/dy = log(1 - x) - log(x), clamped the same way."""
    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, y)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad_y = None
        if need_x:
            grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=_BCE_EPSILON)
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = grad * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return grad_x, grad_y


def binary_cross_entropy(x, y):
    return BinaryCrossEntropy.apply(x, y)


# -- normalisation ---------------------------------------------------------------------------------
#
# The forward and the first-derivative backward work on the input as a (kept, reduced) matrix: the
# axes the statistics keep (batch norm's channels, layer norm's leading axes) first, the reduced
# ones flattened after them. A channel-major conv output and a row-major layer-norm input are
# already that matrix (a view); anything else is copied into it once. Per-row sums are then one
# BLAS matrix-vector product and per-row dot products one batched matmul (no product arrays),
# and the full-size passes write in place into pooled buffers.

def _to_rows(x, axes):
    """(the (kept, reduced) matrix of x, the axis order that gives it)."""
    order = tuple(a for a in range(x.ndim) if a not in axes) + tuple(axes)
    moved = x.transpose(order)
    kept = int(np.prod(moved.shape[:x.ndim - len(axes)], dtype=np.int64))
    if not moved.flags.c_contiguous:
        moved = np.ascontiguousarray(moved)
    return moved.reshape(kept, -1), order


def _from_rows(matrix, shape, order):
    """The inverse of _to_rows: an array of `shape` viewing the (kept, reduced) matrix."""
    return matrix.reshape(tuple(shape[a] for a in order)).transpose(np.argsort(order))


class Normalize(Primitive):
    """(x - mean) / sqrt(var + eps) * w + b, with the mean and the biased variance taken over
    `axes`: batch norm (axes all but the channel axis 1, w and b of shape (C,) viewed as
    `param_shape` (1, C, 1, ...)) and layer norm (the trailing axes, w and b of the trailing shape).

    With xhat the normalised input and g = grad * w, the means taken over `axes`:
    d/dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
    d/dw = sum(grad * xhat) and d/db = sum(grad), over the axes the parameters were broadcast along.
    The batch mean and biased variance (for running statistics) are appended to `stats`.

    In the (kept, reduced) matrix form, batch norm's parameters are one per row and layer norm's
    one per column; `ctx.params_per_row` says which.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_shape, eps, stats):
        rows, order = _to_rows(x, axes)
        kept, count = rows.shape
        params_per_row = len(param_shape) == x.ndim and all(param_shape[a] == 1 for a in axes)
        as_matrix = (kept, 1) if params_per_row else (1, count)
        mean = _row_sums(rows) / count
        centered = np.subtract(rows, mean[:, None], out=workspace.empty(rows.shape, rows.dtype))
        var = _row_dots(centered, centered) / count
        inv_std = 1 / np.sqrt(var + eps)
        out_dtype = np.result_type(centered, *(p for p in (weight, bias) if p is not None))
        out = workspace.empty(rows.shape, out_dtype)
        if params_per_row and weight is not None:   # xhat * w in one pass
            np.multiply(centered, (inv_std * weight.reshape(kept))[:, None], out=out)
        else:
            np.multiply(centered, inv_std[:, None], out=out)
            if weight is not None:
                out *= weight.reshape(as_matrix)
        if bias is not None:
            out += bias.reshape(as_matrix)
        keepdims_shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape))
        if stats is not None:
            stats.extend([mean.reshape(keepdims_shape), var.reshape(keepdims_shape)])
        ctx.axes, ctx.param_shape, ctx.eps, ctx.order = axes, param_shape, eps, order
        ctx.params_per_row = params_per_row
        ctx.own_shape = next((p.shape for p in (weight, bias) if p is not None), None)  # the parameters' shape
        ctx.save_for_backward(x, weight, _from_rows(centered, x.shape, order), inv_std.reshape(keepdims_shape))
        return _from_rows(out, x.shape, order)

    @staticmethod
    def backward(ctx, grad):
        x, weight, centered, inv_std = ctx.saved_tensors
        if not _recording_graph():
            return _normalize_backward(ctx, grad.data, weight, centered.data, inv_std.data)
        need_x, need_w, need_b = ctx.needs_input_grad
        axes, param_shape = ctx.axes, ctx.param_shape
        # xhat and 1/std as differentiable functions of x
        centered = x - x.mean(axes, keepdim=True)
        inv_std = 1 / ((centered * centered).mean(axes, keepdim=True) + ctx.eps).sqrt()
        xhat = centered * inv_std
        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad * weight.reshape(param_shape) if weight is not None else grad
            grad_x = (g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True)) * inv_std
        if need_w or need_b:
            lead = tuple(range(grad.ndim - len(param_shape)))
            ones = tuple(len(lead) + a for a, n in enumerate(param_shape) if n == 1)

            def reduce(t):  # back to the parameters' own shape
                if lead:
                    t = t.sum(lead)
                if ones:
                    t = t.sum(tuple(a - len(lead) for a in ones), keepdim=True)
                return t.reshape(ctx.own_shape)
            if need_w:
                grad_w = reduce(grad * xhat)
            if need_b:
                grad_b = reduce(grad)
        return grad_x, grad_w, grad_b


def _normalize_backward(ctx, grad, weight, centered, inv_std):
    """Normalize's first derivatives on arrays, in the (kept, reduced) matrix form: the formula
    of the docstring, with xhat = centered * inv_std folded into per-row factors, in four
    full-size passes plus two reductions, into one output buffer."""
    need_x, need_w, need_b = ctx.needs_input_grad
    order, per_row = ctx.order, ctx.params_per_row
    grad_rows, _ = _to_rows(grad, ctx.axes)
    centered_rows, _ = _to_rows(centered, ctx.axes)
    kept, count = grad_rows.shape
    inv_std = inv_std.reshape(kept)
    w = None if weight is None else weight.data
    grad_x = grad_w = grad_b = None
    row_weights = per_row or w is None   # then g = grad * w has w come out of the row means
    grad_xhat_sums = _row_dots(grad_rows, centered_rows) * inv_std if row_weights and (need_w or need_x) else None
    grad_sums = _row_sums(grad_rows) if row_weights and (need_b or need_x) else None
    if need_x:
        scale = inv_std
        if row_weights:
            g, g_sums, g_xhat_sums = grad_rows, grad_sums, grad_xhat_sums
            if w is not None:
                scale = scale * w
        else:
            g = grad_rows * w.reshape(1, count)
            g_sums, g_xhat_sums = _row_sums(g), _row_dots(g, centered_rows) * inv_std
        out = workspace.empty(grad_rows.shape, np.result_type(g, centered_rows, scale))
        np.multiply(centered_rows, (g_xhat_sums * inv_std / count)[:, None], out=out)   # xhat * mean(g xhat)
        out += (g_sums / count)[:, None]
        np.subtract(g, out, out=out)
        out *= scale[:, None]
        grad_x = constant(_from_rows(out, grad.shape, order))
    if need_w:
        sums = grad_xhat_sums if per_row else inv_std @ (grad_rows * centered_rows)
        grad_w = constant(sums.reshape(ctx.own_shape))
    if need_b:
        sums = grad_sums if per_row else np.ones(kept, grad_rows.dtype) @ grad_rows
        grad_b = constant(sums.reshape(ctx.own_shape))
    return grad_x, grad_w, grad_b


def batch_norm_train(x, weight, bias, eps):
    """(out, batch mean, biased batch variance), normalising over every axis but axis 1."""
    axes = (0,) + tuple(range(2, x.ndim))
    param_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    stats = []
    out = Normalize.apply(x, weight, bias, axes=axes, param_shape=param_shape, eps=eps, stats=stats)
    mean, var = stats
    return out, mean.reshape(-1), var.reshape(-1)


def layer_norm(x, normalized_shape, weight, bias, eps):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    return Normalize.apply(x, weight, bias, axes=axes, param_shape=tuple(normalized_shape), eps=eps, stats=None)
