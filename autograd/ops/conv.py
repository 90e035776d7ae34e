"""Convolution: conv1d, conv2d and conv3d with their two gradient ops, and transposed convolution,
all on the one N-d im2col/col2im of windows.py (conv1d runs as conv2d on a unit height).

Layout. The convolution is a matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow) in 2-D (with kd and od
too in 3-D), of the weight with the transposed column matrix. The output is returned as an
(N, O, oh, ow) view of the (O, N, oh, ow) product (no copy); the next convolution reads its slabs
from that layout just as fast.

Cache blocking. The column matrix is 9x its image (37 MB at 32 channels, 32x32, batch 32): built
whole, it goes out to memory and comes back for the matmul, and BLAS runs at half speed on a
product that streams it. So each op works through the batch a few images at a time (`_batches`):
the columns of a slice are built, multiplied and (for the input's gradient) folded back while they
are still in cache, 1.5x faster per layer at 32 channels. The weight's gradient builds its columns
again from the input rather than keep the forward's (which would have to go out to memory).

Derivatives. With GI(g, W) = col2im(W^T g) the gradient for the input and GW(g, x) = g im2col(x)^T
the gradient for the weight, a convolution's derivatives close over {conv, GI, GW}:
d<gg, GI(g, W)>/dg = conv(gg, W), /dW = GW(g, gg); d<gg, GW(g, x)>/dg = conv(x, gg), /dx = GI(g, gg).
So each of the three is a primitive whose forward is a whole-array kernel and whose backward
applies the other two: first derivatives run the kernels, higher ones differentiate them.
"""
import math
import numbers

import numpy as np

from ..errors import ArgumentError, shape_error
from ..function import Primitive
from ..sums import row_sums
from .gemm import matmul_array
from .joining import pad
from .windows import (ConvGeometry, channel_major, columns, fold_columns, ints, is_channel_major,
                      swap_batch_and_channels, window_geometry)
from .workspace import workspace


# -- convolution ---------------------------------------------------------------------------------

def _grouped(matrix, groups):
    """(rows, cols) -> (groups, rows/groups, cols)."""
    return matrix.reshape(groups, matrix.shape[0] // groups, *matrix.shape[1:])


def _product(a, b, groups, out, transpose_a=False, transpose_b=False):
    """a @ b (a^T and b^T where asked) into `out`; with groups > 1, group k's rows of a times
    group k's rows of b, stacked."""
    if groups == 1:
        return matmul_array(a.T if transpose_a else a, b.T if transpose_b else b, out=out)
    a, b = _grouped(a, groups), _grouped(b, groups)
    a, b = a.transpose(0, 2, 1) if transpose_a else a, b.transpose(0, 2, 1) if transpose_b else b
    grouped_out = np.reshape(out, (groups, out.shape[0] // groups, out.shape[1]), copy=False)
    if a.shape[2] == 1:   # one channel per group (depthwise): outer products, which matmul runs 4x slower
        np.multiply(a, b, out=grouped_out)
    else:
        np.matmul(a, b, out=grouped_out)
    return out


# Bytes of column matrix per slice of the batch: what stays in the caches (L2 and a share of L3)
# between building the columns and multiplying them.
_SLICE_BYTES = 4 << 20


def _batches(n, rows, positions, itemsize):
    """The batch [0, n) as slices of about equal numbers of whole images, each with a column
    matrix (rows x positions per image) of about _SLICE_BYTES (at least one image)."""
    if n == 0:   # an empty batch: nothing to build or multiply
        return []
    per_slice = max(1, _SLICE_BYTES // max(1, rows * positions * itemsize))
    count = -(-n // per_slice)
    bounds = [n * k // count for k in range(count + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds, bounds[1:])]


def _positions(batch, positions):
    """The columns of the (rows, N*positions) matrices that a batch slice's images take."""
    return slice(batch.start * positions, batch.stop * positions)


def _channel_rows(grad):
    """An (N, O, oh, ow) array as the (O, N*oh*ow) matrix of the conv's own layout (rows further
    apart for a batch slice): free when the array is channel-major (a conv's output is, and so are
    the gradients that flow back to it through relu, batch norm and pooling), one copy otherwise."""
    return channel_major(grad).reshape(grad.shape[1], -1)   # a view: each channel is contiguous


class ChannelMajor(Primitive):
    """The same (N, C, *spatial) values, stored as a contiguous (C, N, *spatial) array (an identity)."""
    @staticmethod
    def forward(ctx, x):   # applied only to arrays that are not channel-major, so always a copy
        return swap_batch_and_channels(channel_major(x))

    @staticmethod
    def backward(ctx, grad):
        return grad


class ChannelSums(Primitive):
    """An (N, C, *spatial) array summed over all dims but C (a convolution's gradient for its bias):
    one BLAS matrix-vector product in the channel-major layout. d/dx spreads gg back over those dims."""
    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return row_sums(_channel_rows(x)) if is_channel_major(x) else x.sum((0,) + tuple(range(2, x.ndim)))

    @staticmethod
    def backward(ctx, gg):
        return gg.reshape((1, -1) + (1,) * (len(ctx.input_shape) - 2)).expand(ctx.input_shape)


class Convolution(Primitive):
    """N-d cross-correlation (PyTorch's conv1d/2d/3d) as one matmul with the im2col matrix.

    out[O, NL] = W[O, CK] @ cols[CK, NL] (+ b); per group when groups > 1.
    d/dx = ConvolutionGradInput(grad, W); d/dW = ConvolutionGradWeight(grad, x); d/db = grad summed
    over N and the spatial dims.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        n, out_c = x.shape[0], weight.shape[0]
        positions = math.prod(geometry.out_size)
        w2 = weight.reshape(out_c, -1)
        out = workspace.empty((out_c, n * positions), np.result_type(x, weight))
        for batch in _batches(n, w2.shape[1] * geometry.groups, positions, out.itemsize):
            part = _product(w2, columns(x[batch], geometry), geometry.groups, out[:, _positions(batch, positions)])
            if bias is not None:
                part += bias[:, None]
        ctx.geometry = geometry
        ctx.save_for_backward(x, weight)
        return swap_batch_and_channels(out.reshape(out_c, n, *geometry.out_size))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if need_x and need_w and not is_channel_major(grad._data):
            grad = ChannelMajor.apply(grad)   # one copy that both products then read for free
        grad_x = (ConvolutionGradInput.apply(grad, weight, input_shape=x.shape, geometry=ctx.geometry)
                  if need_x else None)
        grad_w = ConvolutionGradWeight.apply(grad, x, geometry=ctx.geometry) if need_w else None
        return grad_x, grad_w, ChannelSums.apply(grad) if need_b else None


class ConvolutionGradInput(Primitive):
    """A convolution's gradient for its input, col2im(W^T grad) (transposed convolution).
    d/dgrad = Convolution(gg, W); d/dW = ConvolutionGradWeight(grad, gg)."""
    @staticmethod
    def forward(ctx, grad, weight, input_shape, geometry):
        ctx.geometry = geometry
        ctx.save_for_backward(grad, weight)
        n, channels = input_shape[:2]
        positions = math.prod(geometry.out_size)
        w2, rows = weight.reshape(weight.shape[0], -1), _channel_rows(grad)
        dtype = np.result_type(grad, weight)
        out = workspace.empty((channels, n) + tuple(input_shape[2:]), dtype)
        for batch in _batches(n, w2.shape[1] * geometry.groups, positions, dtype.itemsize):
            grad_cols = _product(w2, rows[:, _positions(batch, positions)], geometry.groups,
                                 workspace.empty_apart((w2.shape[1] * geometry.groups,
                                                        (batch.stop - batch.start) * positions), dtype, out[:, batch]),
                                 transpose_a=True)
            fold_columns(grad_cols, (batch.stop - batch.start,) + tuple(input_shape[1:]), geometry, consume=True,
                         out=out[:, batch])
            del grad_cols   # back to the pool for the next slice
        return swap_batch_and_channels(out)

    @staticmethod
    def backward(ctx, gg):
        grad, weight = ctx.saved_tensors
        need_grad, need_weight = ctx.needs_input_grad
        return (Convolution.apply(gg, weight, None, geometry=ctx.geometry) if need_grad else None,
                ConvolutionGradWeight.apply(grad, gg, geometry=ctx.geometry) if need_weight else None)


class ConvolutionGradWeight(Primitive):
    """A convolution's gradient for its weight, grad @ im2col(x)^T.
    d/dgrad = Convolution(x, gg); d/dx = ConvolutionGradInput(grad, gg)."""
    @staticmethod
    def forward(ctx, grad, x, geometry):
        ctx.geometry = geometry
        ctx.save_for_backward(grad, x)
        groups, n = geometry.groups, x.shape[0]
        positions = math.prod(geometry.out_size)
        rows = _channel_rows(grad)
        window = x.shape[1] // groups * math.prod(geometry.kernel)
        dtype = np.result_type(grad, x)
        # Summed over the slices as its transpose, (C*kh*kw, O): BLAS runs that product 1.6x faster
        # than (O, C*kh*kw) at 32 channels.
        total = np.zeros((window * groups, rows.shape[0] // groups), dtype)
        part = np.empty_like(total)
        for batch in _batches(n, window * groups, positions, dtype.itemsize):
            total += _product(columns(x[batch], geometry), rows[:, _positions(batch, positions)], groups, part,
                              transpose_b=True)
        grad_w = _grouped(total, groups).transpose(0, 2, 1)    # (groups, O/groups, C/groups*prod(kernel))
        return grad_w.reshape(grad.shape[1], x.shape[1] // groups, *geometry.kernel)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (Convolution.apply(x, gg, None, geometry=ctx.geometry) if need_grad else None,
                ConvolutionGradInput.apply(grad, gg, input_shape=x.shape, geometry=ctx.geometry) if need_x else None)


def _check_groups(op, groups, *counts):
    """groups as an int, checked positive and dividing each (count, name) of counts."""
    if not isinstance(groups, (numbers.Integral, np.integer)) or groups <= 0:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    for count, name in counts:
        if count % groups:
            raise ArgumentError(f"{op}: {name} ({count}) must be divisible by groups ({groups})")
    return int(groups)


def _check_weight_not_empty(op, input, weight):
    """As PyTorch, a weight with no channels or kernel positions is an error (not an empty output)."""
    if 0 in weight.shape:
        raise shape_error(op, "expects a weight with at least one channel each way and one kernel position",
                          input.shape, weight.shape)


def _check_bias(op, bias, out_channels, weight):
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise shape_error(op, f"expects a bias of shape ({out_channels},), one per output channel",
                          bias.shape, weight.shape)


_SPATIAL_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}
_KERNEL_DIMS = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


def _check_dims(op, input, weight, dims, weight_channels):
    """Refuse an input that is neither (N, C, *spatial) nor unbatched (C, *spatial), or a weight
    that is not (weight_channels, *kernel), naming both shapes."""
    if input.ndim not in (dims + 1, dims + 2) or weight.ndim != dims + 2:
        raise shape_error(op, f"expects a {dims + 2}-D (N, C, {_SPATIAL_DIMS[dims]}) or {dims + 1}-D "
                          f"(C, {_SPATIAL_DIMS[dims]}) input and a {dims + 2}-D ({weight_channels}, "
                          f"{_KERNEL_DIMS[dims]}) weight", input.shape, weight.shape)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of an (N, C, H, W) or unbatched (C, H, W)
    input with an (out_channels, C/groups, kh, kw) weight. stride, padding and dilation are ints
    or pairs; padding may also be 'valid' (none) or 'same' (the output as large as the input,
    stride 1 only; an odd total goes at the end, as PyTorch)."""
    return _convolution("conv2d", input, weight, bias, stride, padding, dilation, groups, dims=2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation, as PyTorch) of an (N, C, D, H, W) or unbatched
    (C, D, H, W) input with an (out_channels, C/groups, kd, kh, kw) weight. stride, padding and
    dilation are ints or triples; padding may also be 'valid' or 'same', as conv2d's."""
    return _convolution("conv3d", input, weight, bias, stride, padding, dilation, groups, dims=3)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of an (N, C, L) or unbatched (C, L) input with an (out_channels, C/groups, k)
    weight, as PyTorch: conv2d on a unit height (views, no copies)."""
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise shape_error("conv1d", "expects a 3-D (N, C, L) or 2-D (C, L) input and a 3-D (out, in/groups, k) "
                          "weight", input.shape, weight.shape)
    _check_weight_not_empty("conv1d", input, weight)
    if not isinstance(padding, str):
        padding = (0,) + ints(padding, 1, "padding", "conv1d")
    out = _convolution("conv1d", input.unsqueeze(2), weight.unsqueeze(2), bias,
                       (1,) + ints(stride, 1, "stride", "conv1d"), padding,
                       (1,) + ints(dilation, 1, "dilation", "conv1d"), groups, dims=2)
    return out.squeeze(2)


def _convolution(op, input, weight, bias, stride, padding, dilation, groups, dims):
    _check_dims(op, input, weight, dims, "out, in/groups")
    if input.ndim == dims + 1:
        return _convolution(op, input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, dims).squeeze(0)
    stride, dilation = ints(stride, dims, "stride", op), ints(dilation, dims, "dilation", op)
    _check_weight_not_empty(op, input, weight)
    groups = _check_groups(op, groups, (input.shape[1], "in_channels"), (weight.shape[0], "out_channels"))
    if input.shape[1] != weight.shape[1] * groups:
        raise shape_error(op, f"the input has {input.shape[1]} channels but the weight expects "
                          f"{weight.shape[1] * groups} (in_channels/groups = {weight.shape[1]}, groups = {groups})",
                          input.shape, weight.shape)
    _check_bias(op, bias, weight.shape[0], weight)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions")
            totals = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
            padding = tuple(total // 2 for total in totals)
            if any(total % 2 for total in totals):
                input = pad(input, ((0, 0), (0, 0)) + tuple((0, total % 2) for total in totals))
        else:
            raise ArgumentError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    padding = ints(padding, dims, "padding", op)
    out_size = window_geometry(op, input.shape[2:], weight.shape[2:], stride, padding, dilation)
    geometry = ConvGeometry(tuple(weight.shape[2:]), stride, padding, dilation, out_size, groups)
    return Convolution.apply(input, weight, bias, geometry=geometry)


# -- transposed convolution: a convolution's gradient for its input, as an op of its own -----------

def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution of an (N, C, H, W) or unbatched (C, H, W) input with a
    (C, out_channels/groups, kh, kw) weight, as PyTorch: the adjoint of conv2d in its input, so
    its forward is ConvolutionGradInput's kernel and its derivatives are conv2d's."""
    return _transposed_convolution("conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                                   dilation, dims=2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution of an (N, C, D, H, W) or unbatched (C, D, H, W) input with a
    (C, out_channels/groups, kd, kh, kw) weight, as PyTorch: the adjoint of conv3d in its input."""
    return _transposed_convolution("conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                                   dilation, dims=3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of an (N, C, L) or unbatched (C, L) input with a
    (C, out_channels/groups, k) weight: conv_transpose2d on a unit height."""
    if input.ndim == 2:
        return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise shape_error("conv_transpose1d", "expects a 3-D (N, C, L) or 2-D (C, L) input and a 3-D "
                          "(in, out/groups, k) weight", input.shape, weight.shape)
    _check_weight_not_empty("conv_transpose1d", input, weight)
    op = "conv_transpose1d"
    out = _transposed_convolution(op, input.unsqueeze(2), weight.unsqueeze(2), bias,
                                  (1,) + ints(stride, 1, "stride", op), (0,) + ints(padding, 1, "padding", op),
                                  (0,) + ints(output_padding, 1, "output_padding", op), groups,
                                  (1,) + ints(dilation, 1, "dilation", op), dims=2)
    return out.squeeze(2)


def _transposed_convolution(op, input, weight, bias, stride, padding, output_padding, groups, dilation, dims):
    _check_dims(op, input, weight, dims, "in, out/groups")
    if input.ndim == dims + 1:
        return _transposed_convolution(op, input.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                       groups, dilation, dims).squeeze(0)
    if isinstance(padding, str):
        raise ArgumentError(f"{op}: padding must be an int or {dims} ints (no 'same' or 'valid' for a transposed "
                            f"convolution, as PyTorch), got {padding!r}")
    stride, padding = ints(stride, dims, "stride", op), ints(padding, dims, "padding", op)
    output_padding, dilation = ints(output_padding, dims, "output_padding", op), ints(dilation, dims, "dilation", op)
    _check_weight_not_empty(op, input, weight)
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
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size, s, p, d, k, extra
                     in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if min(out_size) <= 0:
        raise shape_error(op, f"the output size {out_size} would not be positive (padding {padding})", input.shape)
    geometry = ConvGeometry(kernel, stride, padding, dilation, tuple(input.shape[2:]), groups)
    out = ConvolutionGradInput.apply(input, weight, input_shape=(input.shape[0], out_channels) + out_size,
                                     geometry=geometry)
    return out if bias is None else out + bias.reshape((-1,) + (1,) * dims)
