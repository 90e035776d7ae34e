"""Sliding windows, shared by convolution and pooling: the parsing of window arguments (kernel
size, stride, padding, dilation) and the output geometry; the one im2col/col2im; unfold and fold
(torch.nn.functional's) as ops on them.

Layout. `im2col` writes the column matrix transposed, as (C*kh*kw, N*oh*ow) in 2-D (likewise with
kd and od in 3-D): each of its rows is one (channel, kernel offset) slab of the image, copied with
contiguous inner rows, so that a convolution is one matmul, (O, C*kh*kw) @ (C*kh*kw, N*oh*ow) (see
conv.py). `col2im` is its adjoint. Both take any number of spatial dims.
"""
import functools
import itertools
import math
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
    """Everything about one convolution but its operands (one int per spatial dim, except groups)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out_size: tuple
    groups: int


def swap_batch_and_channels(x):
    """An (N, C, *spatial) array as (C, N, *spatial), or back: a view."""
    return x.transpose(1, 0, *range(2, x.ndim))


# -- im2col / col2im -----------------------------------------------------------------------------
#
# Both work on any number of spatial dims (conv1d's unit height, conv2d, conv3d): one pass per
# kernel offset, which copies (or adds back) the part of the image that offset sees.

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
def _offset_copies(image_size, kernel, stride, padding, dilation, out_size):
    """Per kernel offset: (the offset, the output positions it reads inside the image, as one
    slice per spatial dim, and the input positions they read, likewise)."""
    copies = []
    for offset in itertools.product(*map(range, kernel)):
        spans = [_span(size, i * d, s, p, n) for size, i, s, p, d, n
                 in zip(image_size, offset, stride, padding, dilation, out_size)]
        copies.append((offset, tuple(slice(lo, hi) for lo, hi, _ in spans),
                       tuple(strided(first, hi - lo, s) for (lo, hi, first), s in zip(spans, stride))))
    return tuple(copies)


@functools.lru_cache(maxsize=256)
def _flat_shifts(image_size, kernel, stride, padding, dilation, out_size):
    """For a stride-1 convolution whose output is as large as its input, each kernel offset reads
    the input shifted by one amount in the (C, N*prod(image_size)) flattening (the offset minus
    the padding, in row-major steps), except at the positions whose coordinate along some axis
    falls off the image (which would wrap into a neighbouring row, plane or image, or past the
    ends: see _zero_off_image_borders). Per offset: (offset, shift, whether it is the unshifted
    centre), or None for other geometries."""
    if any(s != 1 for s in stride) or out_size != image_size:
        return None
    steps = [math.prod(image_size[axis + 1:]) for axis in range(len(image_size))]
    shifts = []
    for offset in itertools.product(*map(range, kernel)):
        moves = [i * d - p for i, d, p in zip(offset, dilation, padding)]
        shifts.append((offset, sum(m * step for m, step in zip(moves, steps)), not any(moves)))
    return tuple(shifts)


def _flat_range(shift, size):
    """The positions [lo, hi) of a flattening of `size` whose input position, shifted by `shift`,
    is inside it."""
    return max(0, -shift), min(size, size - shift)


def _zero_off_image_borders(cols, padding, dilation):
    """Zero, in the (C, *kernel, N, *spatial) columns of a same-size stride-1 convolution, every
    position whose input coordinate along some axis is off the image: for kernel offset i along an
    axis, the positions it shifts past either end of that axis. That covers every position a flat
    shift wraps or that lies outside its _flat_range, in at most 2 sum(kernel) fills for any batch."""
    dims = len(padding)
    kernel, spatial = cols.shape[1:1 + dims], cols.shape[2 + dims:]
    for axis in range(dims):
        for i in range(kernel[axis]):
            move, size = i * dilation[axis] - padding[axis], spatial[axis]
            if move == 0:
                continue
            index = [slice(None)] * cols.ndim
            index[1 + axis] = i
            index[2 + dims + axis] = slice(None, min(size, -move)) if move < 0 else slice(max(0, size - move), None)
            cols[tuple(index)] = 0


def _zero_off_image(planes, inside):
    """Zero the positions of a (C, N, *spatial) view outside the box `inside` (a slice per spatial dim)."""
    lead = (slice(None), slice(None))
    for span, size in zip(inside, planes.shape[2:]):
        if span.start > 0:
            planes[lead + (slice(None, span.start),)] = 0
        if span.stop < size:
            planes[lead + (slice(span.stop, None),)] = 0
        lead += (span,)


def is_channel_major(x):
    """Whether each channel of an (N, C, *spatial) array is one contiguous block of its values
    (a batch slice of a channel-major array is, with the channels further apart)."""
    return swap_batch_and_channels(x[:, :1]).flags.c_contiguous


def channel_major(x):
    """An (N, C, *spatial) array as (C, N, *spatial), each channel one contiguous block: a view
    when it already is (a conv's output, what relu, batch norm and pooling make of one, a batch
    slice of any of these), else one pooled copy."""
    by_channel = swap_batch_and_channels(x)
    if is_channel_major(x):
        return by_channel
    copy = workspace.empty(by_channel.shape, x.dtype)
    np.copyto(copy, by_channel)
    return copy


def im2col(x, kernel, stride, padding, dilation, out_size):
    """The transposed column matrix (C*prod(kernel), N*prod(out_size)) of an (N, C, *spatial)
    array; row (c, *offset) holds input channel c at that kernel offset for every output position.
    Padding is never materialised: each offset copies the part of the image it sees and zeroes the
    border. For a same-size convolution each offset is one long flat copy per channel of the
    channel-major input (a batch slice of a channel-major array is read in place, anything else
    copied to one)."""
    n, c, image_size = x.shape[0], x.shape[1], x.shape[2:]
    window = c * math.prod(kernel)
    shifts = _flat_shifts(image_size, kernel, stride, padding, dilation, out_size)
    if shifts is not None:
        by_channel = channel_major(x)   # a copy at worst, 1/prod(kernel) of the columns: faster than strided offsets
        size = n * math.prod(image_size)
        flat = by_channel.reshape(c, size)   # a view
        cols = workspace.empty_apart((c,) + kernel + (size,), x.dtype, flat)
        for offset, shift, _ in shifts:
            lo, hi = _flat_range(shift, size)
            if lo < hi:
                cols[(slice(None),) + offset + (slice(lo, hi),)] = flat[:, lo + shift:hi + shift]
        _zero_off_image_borders(cols.reshape((c,) + kernel + (n,) + image_size), padding, dilation)
        return cols.reshape(window, size)
    by_channel = swap_batch_and_channels(x)
    cols = workspace.empty_apart((c,) + kernel + (n,) + out_size, x.dtype, by_channel)
    every = (slice(None), slice(None))
    for offset, inside, source in _offset_copies(image_size, kernel, stride, padding, dilation, out_size):
        dst = cols[(slice(None),) + offset]
        _zero_off_image(dst, inside)
        dst[every + inside] = by_channel[every + source]
    return cols.reshape(window, n * math.prod(out_size))


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_size, consume=False, out=None):
    """The adjoint of im2col: add each (c, *offset) row back where it was read from. The result is
    an (N, C, *spatial) view of a (C, N, *spatial) array: `out` when given (its contents are
    replaced), else a new one. consume=True allows zeroing parts of `cols` (a scratch array of the
    caller's), which lets a same-size convolution add each offset back as one long flat slice."""
    n, c, image_size = input_shape[0], input_shape[1], tuple(input_shape[2:])
    if out is None:
        out = workspace.empty((c, n) + image_size, cols.dtype)
    shifts = _flat_shifts(image_size, kernel, stride, padding, dilation, out_size) if consume else None
    if shifts is not None and is_channel_major(swap_batch_and_channels(out)):
        size = n * math.prod(image_size)
        _zero_off_image_borders(cols.reshape((c,) + kernel + (n,) + image_size), padding, dilation)  # what would wrap
        cols = cols.reshape((c,) + kernel + (size,))
        flat = out.reshape(c, size)   # a view
        centre = next((offset for offset, _, unshifted in shifts if unshifted), None)
        if centre:  # an offset that covers every position: copy it rather than zero and add
            np.copyto(flat, cols[(slice(None),) + centre])
        else:
            flat.fill(0)
        for offset, shift, unshifted in shifts:
            lo, hi = _flat_range(shift, size)
            if lo < hi and not unshifted:
                flat[:, lo + shift:hi + shift] += cols[(slice(None),) + offset + (slice(lo, hi),)]
        return swap_batch_and_channels(out)
    cols = cols.reshape((c,) + kernel + (n,) + out_size)
    out.fill(0)
    every = (slice(None), slice(None))
    for offset, inside, source in _offset_copies(image_size, kernel, stride, padding, dilation, out_size):
        out[every + source] += cols[(slice(None),) + offset + (slice(None),) + inside]
    return swap_batch_and_channels(out)


def columns(x, geometry):
    """im2col of x for this geometry."""
    kernel, stride, padding, dilation, out_size, _ = geometry
    return im2col(x, kernel, stride, padding, dilation, out_size)


def fold_columns(cols, input_shape, geometry, consume=False, out=None):
    """col2im of cols into an image of input_shape for this geometry (into `out`, a (C, N, *spatial)
    array, when given)."""
    kernel, stride, padding, dilation, out_size, _ = geometry
    return col2im(cols, input_shape, kernel, stride, padding, dilation, out_size, consume, out)


# -- unfold and fold (torch.nn.functional's, on the same im2col/col2im) ----------------------------

class Unfold(Primitive):
    """(N, C, H, W) -> (N, C*kh*kw, L): im2col, read in the batch-major order; adjoint of Fold."""
    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry, ctx.image_hw = geometry, x.shape[2:]
        cols = columns(x, geometry)
        return cols.reshape(cols.shape[0], x.shape[0], math.prod(geometry.out_size)).transpose(1, 0, 2)   # N may be 0

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, image_hw=ctx.image_hw, geometry=ctx.geometry)


class Fold(Primitive):
    """(N, C*kh*kw, L) -> (N, C, H, W): col2im, each window added back where unfold read it."""
    @staticmethod
    def forward(ctx, cols, image_hw, geometry):
        ctx.geometry = geometry
        channels = cols.shape[1] // math.prod(geometry.kernel)
        return fold_columns(cols.transpose(1, 0, 2), (cols.shape[0], channels) + tuple(image_hw), geometry)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, geometry=ctx.geometry)


def _window_arguments(op, image_hw, kernel_size, stride, padding, dilation):
    kernel, stride = pair(kernel_size, "kernel_size", op), pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    out_size = window_geometry(op, image_hw, kernel, stride, padding, dilation)
    return ConvGeometry(kernel, stride, padding, dilation, out_size, 1)


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
    (kh, kw), (oh, ow) = geometry.kernel, geometry.out_size
    if input.ndim != 3 or input.shape[1] % (kh * kw) or input.shape[2] != oh * ow:
        raise shape_error("fold", f"expects (N, C*{kh}*{kw}, {oh * ow}) for output size {image_hw}", input.shape)
    return Fold.apply(input, image_hw=image_hw, geometry=geometry)
