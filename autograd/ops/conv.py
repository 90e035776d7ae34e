"""Convolution: the one im2col/col2im; conv2d with its two gradient ops; unfold and fold; the
parsing of window arguments (kernel size, stride, padding, dilation) that pooling shares.

Convolution layout. `im2col` writes the column matrix transposed, as (C*kh*kw, N*oh*ow): each of
its rows is one (channel, kernel offset) slab of the image, copied with contiguous inner rows,
and the convolution is one matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow). The output is returned as
an (N, O, oh, ow) view of the (O, N, oh, ow) product (no copy); the next convolution reads its
slabs from that layout just as fast.

Derivatives. With GI(g, W) = col2im(W^T g) the gradient for the input and GW(g, x) = g im2col(x)^T
the gradient for the weight, conv2d's derivatives close over {conv2d, GI, GW}:
d<gg, GI(g, W)>/dg = conv2d(gg, W), /dW = GW(g, gg); d<gg, GW(g, x)>/dg = conv2d(x, gg), /dx = GI(g, gg).
So each of the three is a primitive whose forward is a whole-array kernel and whose backward
applies the other two: first derivatives run the kernels, higher ones differentiate them.
"""
import numbers
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, shape_error
from ..function import Primitive
from .joining import pad
from .normalization import row_sums
from .workspace import workspace


# -- arguments -----------------------------------------------------------------------------------

def ints(value, n, name, op):
    """An int, or a sequence of one or n ints, as n ints (kernel_size, stride, padding...)."""
    if value.__class__ is tuple and len(value) == n and all(v.__class__ is int for v in value):
        return value    # the usual case, checked first: layers call this on every forward
    if isinstance(value, (numbers.Integral, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(value)
    except TypeError:
        values = None
    if values is None or len(values) not in (1, n) or not all(isinstance(v, (numbers.Integral, np.integer))
                                                            for v in values):
        kind = "an int or a pair of ints" if n == 2 else f"an int or {n} ints" if n > 1 else "an int"
        raise ArgumentError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in values) * (n if len(values) == 1 else 1)


def pair(value, name, op):
    return ints(value, 2, name, op)


def window_geometry(op, spatial, kernel, stride, padding, dilation):
    """The output size along each spatial dim, with a clear error when the window does not fit."""
    out = []
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        if k <= 0 or s <= 0 or d <= 0 or p < 0:
            raise ArgumentError(f"{op}: kernel_size, stride and dilation must be positive and padding "
                                f"non-negative, got kernel {kernel}, stride {stride}, padding {padding}, "
                                f"dilation {dilation}")
        span = d * (k - 1) + 1
        n = (size + 2 * p - span) // s + 1
        if n <= 0:
            raise shape_error(op, f"the window (kernel {kernel}, dilation {dilation}) is larger than the "
                              f"padded input {tuple(sp + 2 * pp for sp, pp in zip(spatial, padding))}", spatial)
        out.append(n)
    return tuple(out)


class ConvGeometry(NamedTuple):
    """Everything about one convolution but its operands (pairs of ints, except groups)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out_hw: tuple
    groups: int


# -- im2col / col2im -----------------------------------------------------------------------------

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


# -- convolution ---------------------------------------------------------------------------------

def _columns(x, geometry):
    """im2col of x for this geometry."""
    kernel, stride, padding, dilation, out_hw, _ = geometry
    return im2col(x, kernel, stride, padding, dilation, out_hw)


def _fold_columns(cols, input_shape, geometry, consume=False):
    """col2im of cols into an image of input_shape for this geometry."""
    kernel, stride, padding, dilation, out_hw, _ = geometry
    return col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw, consume)


def _grouped(matrix, groups):
    """(rows, cols) -> (groups, rows/groups, cols)."""
    return matrix.reshape(groups, matrix.shape[0] // groups, *matrix.shape[1:])


def _product(a, b, groups, transpose_a=False, transpose_b=False, out=None):
    """a @ b (a^T and b^T where asked); with groups > 1, group k's rows of a times group k's rows
    of b, stacked."""
    if groups == 1:
        a, b = (a.T if transpose_a else a), (b.T if transpose_b else b)
        return a @ b if out is None else np.matmul(a, b, out=out)
    a, b = _grouped(a, groups), _grouped(b, groups)
    product = (a.transpose(0, 2, 1) if transpose_a else a) @ (b.transpose(0, 2, 1) if transpose_b else b)
    return product.reshape(-1, product.shape[2])


def _channel_rows(grad):
    """An (N, O, oh, ow) array as the (O, N*oh*ow) matrix of the conv's own layout: free when the
    array is channel-major (a conv's output is, and so are the gradients that flow back to it
    through relu, batch norm and pooling), one copy otherwise."""
    by_channel = grad.transpose(1, 0, 2, 3)
    if not by_channel.flags.c_contiguous:
        copy = workspace.empty(by_channel.shape, grad.dtype)
        np.copyto(copy, by_channel)
        by_channel = copy
    return by_channel.reshape(grad.shape[1], -1)


def _is_channel_major(array):
    return array.transpose(1, 0, 2, 3).flags.c_contiguous


class ChannelMajor(Primitive):
    """The same (N, C, H, W) values, stored as a contiguous (C, N, H, W) array (an identity)."""
    @staticmethod
    def forward(ctx, x):   # applied only to arrays that are not channel-major, so always a copy
        return _channel_rows(x).reshape((x.shape[1], x.shape[0]) + x.shape[2:]).transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ChannelSums(Primitive):
    """An (N, C, H, W) array summed over all dims but C (conv2d's gradient for its bias): one BLAS
    matrix-vector product in the channel-major layout. d/dx spreads gg back over those dims."""
    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return row_sums(_channel_rows(x)) if _is_channel_major(x) else x.sum((0, 2, 3))

    @staticmethod
    def backward(ctx, gg):
        return gg.reshape(1, -1, 1, 1).expand(ctx.input_shape)


class Conv2d(Primitive):
    """2-D cross-correlation (PyTorch's conv2d) as one matmul with the im2col matrix.

    out[O, NL] = W[O, CKK] @ cols[CKK, NL] (+ b); per group when groups > 1.
    d/dx = Conv2dGradInput(grad, W); d/dW = Conv2dGradWeight(grad, x), which reuses the forward's
    column matrix; d/db = grad summed over N and the spatial dims.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        out_c = weight.shape[0]
        cols = _columns(x, geometry)
        w2 = weight.reshape(out_c, -1)
        buffer = workspace.empty((out_c, cols.shape[1]), np.result_type(w2, cols)) if geometry.groups == 1 else None
        out = _product(w2, cols, geometry.groups, out=buffer)
        if bias is not None:
            out += bias[:, None]
        ctx.geometry = geometry
        ctx.save_for_backward(x, weight, cols)
        return out.reshape(out_c, x.shape[0], *geometry.out_hw).transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, grad):
        x, weight, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if need_x and need_w and not _is_channel_major(grad.data):
            grad = ChannelMajor.apply(grad)   # one copy that both products then read for free
        grad_x = Conv2dGradInput.apply(grad, weight, input_shape=x.shape, geometry=ctx.geometry) if need_x else None
        grad_w = Conv2dGradWeight.apply(grad, x, geometry=ctx.geometry, cols=cols.data) if need_w else None
        return grad_x, grad_w, ChannelSums.apply(grad) if need_b else None


class Conv2dGradInput(Primitive):
    """conv2d's gradient for its input, col2im(W^T grad) (transposed convolution).
    d/dgrad = conv2d(gg, W); d/dW = Conv2dGradWeight(grad, gg)."""
    @staticmethod
    def forward(ctx, grad, weight, input_shape, geometry):
        ctx.geometry = geometry
        ctx.save_for_backward(grad, weight)
        # Not pooled on purpose: glibc raises its mmap and trim thresholds to the largest block
        # freed, and freeing this one (a CNN step's largest) keeps the heap from being handed back
        # to the OS between steps (5x the page faults, +7 ms per cnn step if pooled).
        grad_cols = _product(weight.reshape(weight.shape[0], -1), _channel_rows(grad), geometry.groups,
                             transpose_a=True)
        return _fold_columns(grad_cols, input_shape, geometry, consume=True)

    @staticmethod
    def backward(ctx, gg):
        grad, weight = ctx.saved_tensors
        need_grad, need_weight = ctx.needs_input_grad
        return (Conv2d.apply(gg, weight, None, geometry=ctx.geometry) if need_grad else None,
                Conv2dGradWeight.apply(grad, gg, geometry=ctx.geometry) if need_weight else None)


class Conv2dGradWeight(Primitive):
    """conv2d's gradient for its weight, grad @ im2col(x)^T (cols: that column matrix, when the
    forward kept it). d/dgrad = conv2d(x, gg); d/dx = Conv2dGradInput(grad, gg)."""
    @staticmethod
    def forward(ctx, grad, x, geometry, cols=None):
        ctx.geometry = geometry
        ctx.save_for_backward(grad, x)
        if cols is None:
            cols = _columns(x, geometry)
        grad_w = _product(_channel_rows(grad), cols, geometry.groups, transpose_b=True)
        return grad_w.reshape(grad.shape[1], x.shape[1] // geometry.groups, *geometry.kernel)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (Conv2d.apply(x, gg, None, geometry=ctx.geometry) if need_grad else None,
                Conv2dGradInput.apply(grad, gg, input_shape=x.shape, geometry=ctx.geometry) if need_x else None)


def _check_groups(op, groups, *counts):
    """groups as an int, checked positive and dividing each (count, name) of counts."""
    if not isinstance(groups, (numbers.Integral, np.integer)) or groups <= 0:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    for count, name in counts:
        if count % groups:
            raise ArgumentError(f"{op}: {name} ({count}) must be divisible by groups ({groups})")
    return int(groups)


def _check_bias(op, bias, out_channels, weight):
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise shape_error(op, f"expects a bias of shape ({out_channels},), one per output channel",
                          bias.shape, weight.shape)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of an (N, C, H, W) or unbatched (C, H, W)
    input with an (out_channels, C/groups, kh, kw) weight. stride, padding and dilation are ints
    or pairs; padding may also be 'valid' (none) or 'same' (the output as large as the input,
    stride 1 only; an odd total goes at the end, as PyTorch)."""
    return _convolution("conv2d", input, weight, bias, pair(stride, "stride", "conv2d"), padding,
                        pair(dilation, "dilation", "conv2d"), groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of an (N, C, L) or unbatched (C, L) input with an (out_channels, C/groups, k)
    weight, as PyTorch: conv2d on a unit height (views, no copies)."""
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise shape_error("conv1d", "expects a 3-D (N, C, L) or 2-D (C, L) input and a 3-D (out, in/groups, k) "
                          "weight", input.shape, weight.shape)
    if not isinstance(padding, str):
        padding = (0,) + ints(padding, 1, "padding", "conv1d")
    out = _convolution("conv1d", input.unsqueeze(2), weight.unsqueeze(2), bias,
                       (1,) + ints(stride, 1, "stride", "conv1d"), padding,
                       (1,) + ints(dilation, 1, "dilation", "conv1d"), groups)
    return out.squeeze(2)


def _convolution(op, input, weight, bias, stride, padding, dilation, groups):
    if input.ndim == 3:
        return _convolution(op, input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 4 or weight.ndim != 4:
        raise shape_error(op, "expects a 4-D (N, C, H, W) or 3-D (C, H, W) input and a 4-D "
                          "(out, in/groups, kh, kw) weight", input.shape, weight.shape)
    groups = _check_groups(op, groups, (input.shape[1], "in_channels"), (weight.shape[0], "out_channels"))
    if input.shape[1] != weight.shape[1] * groups:
        raise shape_error(op, f"the input has {input.shape[1]} channels but the weight expects "
                          f"{weight.shape[1] * groups} (in_channels/groups = {weight.shape[1]}, groups = {groups})",
                          input.shape, weight.shape)
    _check_bias(op, bias, weight.shape[0], weight)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions")
            totals = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
            padding = tuple(total // 2 for total in totals)
            if any(total % 2 for total in totals):
                input = pad(input, ((0, 0), (0, 0), (0, totals[0] % 2), (0, totals[1] % 2)))
        else:
            raise ArgumentError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    padding = pair(padding, "padding", op)
    out_hw = window_geometry(op, input.shape[2:], weight.shape[2:], stride, padding, dilation)
    geometry = ConvGeometry(tuple(weight.shape[2:]), stride, padding, dilation, out_hw, groups)
    return Conv2d.apply(input, weight, bias, geometry=geometry)


# -- transposed convolution: conv2d's gradient for its input, as an op of its own ------------------

def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution of an (N, C, H, W) or unbatched (C, H, W) input with a
    (C, out_channels/groups, kh, kw) weight, as PyTorch: the adjoint of conv2d in its input, so
    its forward is Conv2dGradInput's kernel and its derivatives are conv2d's."""
    return _transposed_convolution("conv_transpose2d", input, weight, bias, pair(stride, "stride", "conv_transpose2d"),
                                   pair(padding, "padding", "conv_transpose2d"),
                                   pair(output_padding, "output_padding", "conv_transpose2d"), groups,
                                   pair(dilation, "dilation", "conv_transpose2d"))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of an (N, C, L) or unbatched (C, L) input with a
    (C, out_channels/groups, k) weight: conv_transpose2d on a unit height."""
    if input.ndim == 2:
        return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise shape_error("conv_transpose1d", "expects a 3-D (N, C, L) or 2-D (C, L) input and a 3-D "
                          "(in, out/groups, k) weight", input.shape, weight.shape)
    op = "conv_transpose1d"
    out = _transposed_convolution(op, input.unsqueeze(2), weight.unsqueeze(2), bias,
                                  (1,) + ints(stride, 1, "stride", op), (0,) + ints(padding, 1, "padding", op),
                                  (0,) + ints(output_padding, 1, "output_padding", op), groups,
                                  (1,) + ints(dilation, 1, "dilation", op))
    return out.squeeze(2)


def _transposed_convolution(op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if input.ndim == 3:
        return _transposed_convolution(op, input.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                       groups, dilation).squeeze(0)
    if input.ndim != 4 or weight.ndim != 4:
        raise shape_error(op, "expects a 4-D (N, C, H, W) or 3-D (C, H, W) input and a 4-D "
                          "(in, out/groups, kh, kw) weight", input.shape, weight.shape)
    if input.shape[1] != weight.shape[0]:
        raise shape_error(op, f"the input has {input.shape[1]} channels but the weight expects {weight.shape[0]}",
                          input.shape, weight.shape)
    groups = _check_groups(op, groups, (weight.shape[0], "in_channels"))
    out_channels = weight.shape[1] * groups
    _check_bias(op, bias, out_channels, weight)
    kernel = tuple(weight.shape[2:])
    if min(kernel + stride + dilation) <= 0 or min(padding + output_padding) < 0:
        raise ArgumentError(f"{op}: kernel size, stride and dilation must be positive and padding and "
                            f"output_padding non-negative, got kernel {kernel}, stride {stride}, padding "
                            f"{padding}, output_padding {output_padding}, dilation {dilation}")
    if any(extra >= s and extra >= d for extra, s, d in zip(output_padding, stride, dilation)):
        raise ArgumentError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                            f"{stride} or dilation {dilation}")
    out_hw = tuple((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size, s, p, d, k, extra
                   in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if min(out_hw) <= 0:
        raise shape_error(op, f"the output size {out_hw} would not be positive (padding {padding})", input.shape)
    geometry = ConvGeometry(kernel, stride, padding, dilation, tuple(input.shape[2:]), groups)
    out = Conv2dGradInput.apply(input, weight, input_shape=(input.shape[0], out_channels) + out_hw, geometry=geometry)
    return out if bias is None else out + bias.reshape(-1, 1, 1)


# -- unfold and fold (torch.nn.functional's, on the same im2col/col2im) ----------------------------

class Unfold(Primitive):
    """(N, C, H, W) -> (N, C*kh*kw, L): im2col, read in the batch-major order; adjoint of Fold."""
    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.image_hw = geometry, x.shape[2:]
        cols = _columns(x, geometry)
        return cols.reshape(cols.shape[0], x.shape[0], -1).transpose(1, 0, 2)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, image_hw=ctx.image_hw, geometry=ctx.geometry)


class Fold(Primitive):
    """(N, C*kh*kw, L) -> (N, C, H, W): col2im, each window added back where unfold read it."""
    @staticmethod
    def forward(ctx, cols, image_hw, geometry):
        ctx.geometry = geometry
        channels = cols.shape[1] // (geometry.kernel[0] * geometry.kernel[1])
        return _fold_columns(cols.transpose(1, 0, 2), (cols.shape[0], channels) + tuple(image_hw), geometry)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, geometry=ctx.geometry)


def _window_arguments(op, image_hw, kernel_size, stride, padding, dilation):
    kernel, stride = pair(kernel_size, "kernel_size", op), pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    out_hw = window_geometry(op, image_hw, kernel, stride, padding, dilation)
    return ConvGeometry(kernel, stride, padding, dilation, out_hw, 1)


def unfold(input, kernel_size, stride=1, padding=0, dilation=1):
    """Sliding windows as columns, torch.nn.functional.unfold's (N, C*kh*kw, L) (the arguments
    after kernel_size in autograd's order: stride, padding, dilation)."""
    if input.ndim != 4:
        raise shape_error("unfold", "expects a 4-D (N, C, H, W) input", input.shape)
    geometry = _window_arguments("unfold", input.shape[2:], kernel_size, stride, padding, dilation)
    return Unfold.apply(input, geometry=geometry)


def fold(input, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of unfold: sums (N, C*kh*kw, L) columns back into (N, C, *output_size)."""
    image_hw = pair(output_size, "output_size", "fold")
    geometry = _window_arguments("fold", image_hw, kernel_size, stride, padding, dilation)
    (kh, kw), (oh, ow) = geometry.kernel, geometry.out_hw
    if input.ndim != 3 or input.shape[1] % (kh * kw) or input.shape[2] != oh * ow:
        raise shape_error("fold", f"expects (N, C*{kh}*{kw}, {oh * ow}) for output size {image_hw}", input.shape)
    return Fold.apply(input, image_hw=image_hw, geometry=geometry)
