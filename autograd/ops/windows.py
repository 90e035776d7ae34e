"""Sliding windows: unfold (im2col) and fold (col2im), each the other's backward.

unfold takes (N, C, H, W) to (N, C*kh*kw, L), exactly as torch.nn.functional.unfold, where L is
the number of window positions. Convolution and pooling are built from it. The forward is one
strided view and one copy; fold adds back with kh*kw strided slice-adds (one per kernel offset),
never a Python loop over output positions and never np.add.at.
"""
import numpy as np

from ..errors import ArgumentError, shape_error
from ..function import Primitive


def _pair(value, name):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"unfold: {name} must be an int or a pair, got {value!r}")
    return tuple(int(v) for v in pair)


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


def _windows(x, kernel, stride, dilation, out_hw):
    """A strided view of shape (N, C, kh, kw, oh, ow) over an already padded (N, C, H, W)."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    (kh, kw), (dh, dw), (st_h, st_w), (oh, ow) = kernel, dilation, stride, out_hw
    return np.lib.stride_tricks.as_strided(
        x, shape=(n, c, kh, kw, oh, ow),
        strides=(sn, sc, sh * dh, sw * dw, sh * st_h, sw * st_w), writeable=False)


def _col2im(cols, padded_shape, kernel, stride, dilation, out_hw, padding, dtype):
    n, c = padded_shape[:2]
    (kh, kw), (dh, dw), (st_h, st_w), (oh, ow) = kernel, dilation, stride, out_hw
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    out = np.zeros(padded_shape, dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + st_h * (oh - 1) + 1:st_h, j * dw:j * dw + st_w * (ow - 1) + 1:st_w] += cols[:, :, i, j]
    ph, pw = padding
    return out[:, :, ph:padded_shape[2] - ph, pw:padded_shape[3] - pw]


class Unfold(Primitive):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        if x.ndim != 4:
            raise shape_error("unfold", "expects a 4-D (N, C, H, W) input", x.shape)
        out_hw = window_geometry("unfold", x.shape[2:], kernel, stride, padding, dilation)
        ph, pw = padding
        padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        ctx.geometry = (padded.shape, kernel, stride, dilation, out_hw, padding)
        n, c = x.shape[:2]
        windows = _windows(padded, kernel, stride, dilation, out_hw)
        return windows.reshape(n, c * kernel[0] * kernel[1], out_hw[0] * out_hw[1])

    @staticmethod
    def backward(ctx, grad):
        padded_shape, kernel, stride, dilation, out_hw, padding = ctx.geometry
        hw = (padded_shape[2] - 2 * padding[0], padded_shape[3] - 2 * padding[1])
        return fold(grad, hw, kernel, stride, padding, dilation)


class Fold(Primitive):
    """col2im: sums overlapping windows back into an image; the adjoint of unfold."""
    @staticmethod
    def forward(ctx, cols, output_size, kernel, stride, padding, dilation):
        n = cols.shape[0]
        c, rem = divmod(cols.shape[1], kernel[0] * kernel[1])
        out_hw = window_geometry("fold", output_size, kernel, stride, padding, dilation)
        if cols.ndim != 3 or rem or cols.shape[2] != out_hw[0] * out_hw[1]:
            raise shape_error("fold", f"expects (N, C*{kernel[0]}*{kernel[1]}, {out_hw[0] * out_hw[1]}) "
                              f"for output size {output_size}", cols.shape)
        padded_shape = (n, c, output_size[0] + 2 * padding[0], output_size[1] + 2 * padding[1])
        ctx.args = (kernel, stride, padding, dilation)
        return _col2im(cols, padded_shape, kernel, stride, dilation, out_hw, padding, cols.dtype)

    @staticmethod
    def backward(ctx, grad):
        return unfold(grad, *ctx.args)


def unfold(x, kernel_size, stride=1, padding=0, dilation=1):
    return Unfold.apply(x, kernel=_pair(kernel_size, "kernel_size"), stride=_pair(stride, "stride"),
                        padding=_pair(padding, "padding"), dilation=_pair(dilation, "dilation"))


def fold(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    return Fold.apply(cols, output_size=_pair(output_size, "output_size"), kernel=_pair(kernel_size, "kernel_size"),
                      stride=_pair(stride, "stride"), padding=_pair(padding, "padding"),
                      dilation=_pair(dilation, "dilation"))
