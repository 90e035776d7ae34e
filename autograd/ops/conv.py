"""Convolution: the one im2col/col2im, conv2d as a matmul with the column matrix, unfold and fold.

Convolution layout. `im2col` writes the column matrix transposed, as (C*kh*kw, N*oh*ow): each of
its rows is one (channel, kernel offset) slab of the image, copied with contiguous inner rows,
and the convolution is one matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow). The output is returned as
an (N, O, oh, ow) view of the (O, N, oh, ow) product (no copy); the next convolution reads its
slabs from that layout just as fast.
"""
import numpy as np

from .. import grad_mode
from ..errors import ArgumentError, shape_error
from ..function import Primitive
from .elementwise import constant
from .normalization import row_sums
from .windows import unfold, window_geometry
from .workspace import workspace


def _recording_graph():
    """Inside a backward: True when create_graph=True asked for a differentiable gradient."""
    return grad_mode._state.grad_enabled


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
        grad_b = constant(row_sums(grad_t))
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
