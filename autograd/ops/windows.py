"""Sliding windows, shared by convolution and pooling: the parsing of window arguments (kernel
size, stride, padding, dilation) and the output geometry; the one im2col/col2im; unfold and fold
(torch.nn.functional's) as ops on them.

Layout. `im2col` writes the column matrix transposed, as (C*kh*kw, N*oh*ow): each of its rows is
one (channel, kernel offset) slab of the image, copied with contiguous inner rows, so that a
convolution is one matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow) (see conv.py). `col2im` is its adjoint.
"""
import functools
import numbers
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, shape_error
from ..function import Primitive
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
    """A window argument (kernel_size, stride, ...) as a pair of ints: an int is used for both; anything
    else is refused with an error naming `op` and `name`."""
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


def strided(start, count, step):
    """The slice of `count` positions from `start` in steps of `step` (an empty slice when count is 0)."""
    return slice(start, start + step * (count - 1) + 1, step) if count > 0 else slice(0, 0)


@functools.lru_cache(maxsize=256)
def _flat_shifts(image_hw, kernel, stride, padding, dilation, out_hw):
    """For a stride-1 convolution whose output is as large as its input, each kernel offset (i, j)
    reads the input shifted by a*W + b in the (C, N*H*W) flattening, (a, b) = the offset minus the
    padding, except at the positions whose row or column falls off the image (which would wrap
    into a neighbouring row or image, or past the ends: see _zero_off_image_rows_and_columns).
    Per offset: (i, j, shift, whether a = b = 0), or None for other geometries."""
    h, w = image_hw
    (kh, kw), (dh, dw), (ph, pw) = kernel, dilation, padding
    if stride != (1, 1) or out_hw != (h, w):
        return None
    return tuple((i, j, (i * dh - ph) * w + j * dw - pw, i * dh == ph and j * dw == pw)
                 for i in range(kh) for j in range(kw))


def _flat_range(shift, size):
    """The positions [lo, hi) of a flattening of `size` whose input position, shifted by `shift`,
    is inside it."""
    return max(0, -shift), min(size, size - shift)


def _zero_off_image_rows_and_columns(cols, padding, dilation):
    """Zero, in the (C, kh, kw, N, H, W) columns of a same-size stride-1 convolution, every position
    whose input row or column is off the image: for kernel row i the rows it shifts past the top or
    bottom, for kernel column j the columns past the sides. That covers every position a flat shift
    wraps or that lies outside its _flat_range, in at most 2 (kh + kw) fills for any batch size."""
    kh, kw, h, w = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for i in range(kh):
        a = i * dilation[0] - padding[0]
        if a < 0:
            cols[:, i, :, :, :min(h, -a)] = 0
        elif a > 0:
            cols[:, i, :, :, max(0, h - a):] = 0
    for j in range(kw):
        b = j * dilation[1] - padding[1]
        if b < 0:
            cols[:, :, j, :, :, :min(w, -b)] = 0
        elif b > 0:
            cols[:, :, j, :, :, max(0, w - b):] = 0


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


def is_channel_major(x):
    """Whether each channel of an (N, C, H, W) array is one contiguous block of its (N, H, W)
    values (a batch slice of a channel-major array is, with the channels further apart)."""
    return x[:, :1].transpose(1, 0, 2, 3).flags.c_contiguous


def channel_major(x):
    """An (N, C, H, W) array as (C, N, H, W), each channel one contiguous block: a view when it
    already is (a conv's output, what relu, batch norm and pooling make of one, a batch slice of
    any of these), else one pooled copy."""
    by_channel = x.transpose(1, 0, 2, 3)
    if is_channel_major(x):
        return by_channel
    copy = workspace.empty(by_channel.shape, x.dtype)
    np.copyto(copy, by_channel)
    return copy


def im2col(x, kernel, stride, padding, dilation, out_hw):
    """The transposed column matrix (C*kh*kw, N*oh*ow) of an (N, C, H, W) array; row (c, i, j)
    holds input channel c at kernel offset (i, j) for every output position. Padding is never
    materialised: each offset copies the part of the image it sees and zeroes the border. For a
    same-size convolution each offset is one long flat copy per channel of the channel-major input
    (a batch slice of a channel-major array is read in place, anything else copied to one)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow), (ph, pw) = kernel, stride, dilation, out_hw, padding
    shifts = _flat_shifts((h, w), kernel, stride, padding, dilation, out_hw)
    if shifts is not None:
        by_channel = channel_major(x)   # a copy at worst, 1/(kh*kw) of the columns: faster than strided offsets
        size = n * h * w
        flat = by_channel.reshape(c, size)   # a view
        cols = workspace.empty((c, kh, kw, size), x.dtype)
        for i, j, shift, _ in shifts:
            lo, hi = _flat_range(shift, size)
            if lo < hi:
                cols[:, i, j, lo:hi] = flat[:, lo + shift:hi + shift]
        _zero_off_image_rows_and_columns(cols.reshape(c, kh, kw, n, h, w), padding, dilation)
        return cols.reshape(c * kh * kw, size)
    by_channel = x.transpose(1, 0, 2, 3)
    cols = workspace.empty((c, kh, kw, n, oh, ow), x.dtype)
    for i in range(kh):
        r0, r1, h0 = _span(h, i * dh, sh, ph, oh)
        for j in range(kw):
            c0, c1, w0 = _span(w, j * dw, sw, pw, ow)
            dst = cols[:, i, j]
            _zero_off_image(dst, r0, r1, c0, c1)
            dst[:, :, r0:r1, c0:c1] = by_channel[:, :, strided(h0, r1 - r0, sh), strided(w0, c1 - c0, sw)]
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw, consume=False, out=None):
    """The adjoint of im2col: add each (c, i, j) row back where it was read from. The result is
    an (N, C, H, W) view of a (C, N, H, W) array: `out` when given (its contents are replaced),
    else a new one. consume=True allows zeroing parts of `cols` (a scratch array of the
    caller's), which lets a same-size convolution add each offset back as one long flat slice."""
    n, c, h, w = input_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow), (ph, pw) = kernel, stride, dilation, out_hw, padding
    if out is None:
        out = workspace.empty((c, n, h, w), cols.dtype)
    shifts = _flat_shifts((h, w), kernel, stride, padding, dilation, out_hw) if consume else None
    if shifts is not None and is_channel_major(out.transpose(1, 0, 2, 3)):
        size = n * h * w
        _zero_off_image_rows_and_columns(cols.reshape(c, kh, kw, n, h, w), padding, dilation)  # what would wrap
        cols = cols.reshape(c, kh, kw, size)
        flat = out.reshape(c, size)   # a view
        unshifted = next(((i, j) for i, j, _, centre in shifts if centre), None)
        if unshifted:  # an offset that covers every position: copy it rather than zero and add
            np.copyto(flat, cols[:, unshifted[0], unshifted[1]])
        else:
            flat.fill(0)
        for i, j, shift, centre in shifts:
            lo, hi = _flat_range(shift, size)
            if lo < hi and not centre:
                flat[:, lo + shift:hi + shift] += cols[:, i, j, lo:hi]
        return out.transpose(1, 0, 2, 3)
    cols = cols.reshape(c, kh, kw, n, oh, ow)
    out.fill(0)
    for i in range(kh):
        r0, r1, h0 = _span(h, i * dh, sh, ph, oh)
        for j in range(kw):
            c0, c1, w0 = _span(w, j * dw, sw, pw, ow)
            out[:, :, strided(h0, r1 - r0, sh), strided(w0, c1 - c0, sw)] += cols[:, i, j, :, r0:r1, c0:c1]
    return out.transpose(1, 0, 2, 3)


def columns(x, geometry):
    """im2col of x for this geometry."""
    kernel, stride, padding, dilation, out_hw, _ = geometry
    return im2col(x, kernel, stride, padding, dilation, out_hw)


def fold_columns(cols, input_shape, geometry, consume=False, out=None):
    """col2im of cols into an image of input_shape for this geometry (into `out`, a (C, N, H, W)
    array, when given)."""
    kernel, stride, padding, dilation, out_hw, _ = geometry
    return col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw, consume, out)


# -- unfold and fold (torch.nn.functional's, on the same im2col/col2im) ----------------------------

class Unfold(Primitive):
    """(N, C, H, W) -> (N, C*kh*kw, L): im2col, read in the batch-major order; adjoint of Fold."""
    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.image_hw = geometry, x.shape[2:]
        cols = columns(x, geometry)
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
        return fold_columns(cols.transpose(1, 0, 2), (cols.shape[0], channels) + tuple(image_hw), geometry)

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
