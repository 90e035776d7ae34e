"""Fused primitives for nn's hot paths: linear, conv2d, max-pooling, softmax cross-entropy, softplus,
batch normalisation.

Each could be composed from smaller ops (matmul, unfold, amax, log_softmax + indexing...), and
`nn` did so at first; fusing them removes graph nodes and whole passes over memory on the
training hot path, and (softmax cross-entropy, softplus) keeps the arithmetic stable. The pattern
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
import numpy as np

from .. import grad_mode
from ..errors import shape_error
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant, sigmoid
from .softmax import log_softmax, softmax
from .windows import fold, unfold, window_geometry


def _recording_graph():
    """Inside a backward: True when create_graph=True asked for a differentiable gradient."""
    return grad_mode._state.grad_enabled


# -- linear --------------------------------------------------------------------------------------

class Linear(Primitive):
    """out = x @ W.T + b for x of shape (*, in), W (out, in), b (out,) or None.

    d/dx = grad @ W, d/dW = grad^T @ x (leading dims flattened), d/db = grad summed over rows.
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
        grad_x = grad @ weight if need_x else None
        grad_2d = grad.reshape(-1, weight.shape[0]) if grad.ndim != 2 else grad
        grad_w = grad_2d.mT @ (x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x) if need_w else None
        grad_b = grad_2d.sum(0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise shape_error("linear", f"the input's last dim must equal the weight's in_features "
                          f"({weight.shape[-1]})", x.shape, weight.shape)
    return Linear.apply(x, weight, bias)


# -- convolution ---------------------------------------------------------------------------------

def _padded(x, padding, value=0):
    ph, pw = padding
    if not (ph or pw):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def im2col(x, kernel, stride, padding, dilation, out_hw):
    """The transposed column matrix (C*kh*kw, N*oh*ow) of an (N, C, H, W) array; row (c, i, j)
    holds input channel c at kernel offset (i, j) for every output position."""
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    xp = _padded(x, padding)
    cols = np.empty((c, kh, kw, n, oh, ow), x.dtype)
    by_channel = xp.transpose(1, 0, 2, 3)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = by_channel[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of im2col: add each (c, i, j) row back where it was read from."""
    n, c, h, w = input_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow), (ph, pw) = kernel, stride, dilation, out_hw, padding
    cols = cols.reshape(c, kh, kw, n, oh, ow)
    out = np.zeros((c, n, h + 2 * ph, w + 2 * pw), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, i, j]
    return out[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)


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
            out = w2 @ cols
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
        grad_t = grad.transpose(0, 1).reshape(out_c, -1)      # (O, N*oh*ow)
        grad_x = grad_w = grad_b = None
        if need_w:
            if _recording_graph():  # the column matrix as a differentiable function of x
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


class Col2im(Primitive):
    """The transposed column matrix folded back into an (N, C, H, W) image; its adjoint is im2col."""
    @staticmethod
    def forward(ctx, cols, input_shape, geometry):
        kernel, stride, padding, dilation, out_hw, _ = geometry
        ctx.geometry = geometry
        return col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw)

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding, dilation, out_hw, _ = ctx.geometry
        return Im2col.apply(grad, geometry=ctx.geometry)


class Im2col(Primitive):
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
        raise ValueError(f"conv2d: out_channels ({weight.shape[0]}) must be divisible by groups ({groups})")
    return Conv2d.apply(x, weight, bias, stride=tuple(stride), padding=tuple(padding),
                        dilation=tuple(dilation), groups=int(groups))


# -- max pooling ---------------------------------------------------------------------------------

def _pool_windows(x, kernel, stride, dilation, out_hw):
    """For each kernel offset (i, j), the (N, C, oh, ow) strided slice of x it reads."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


class MaxPool2d(Primitive):
    """Max over each window; the position of the first maximum (row-major, as PyTorch; NaN wins)
    is kept as a small int array, and the gradient goes there (MaxPoolScatter)."""
    @staticmethod
    def forward(ctx, x, geometry):
        kernel, stride, padding, dilation, out_hw, extra = geometry
        ph, pw = padding
        if ph or pw or extra[0] or extra[1]:
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph + extra[0]), (pw, pw + extra[1])), constant_values=fill)
        windows = _pool_windows(x, kernel, stride, dilation, out_hw)
        _, first = next(windows)
        best = first.copy()
        where = np.zeros(best.shape, np.int16 if kernel[0] * kernel[1] > 127 else np.int8)
        for t, candidate in windows:
            better = (candidate > best) | np.isnan(candidate)
            np.copyto(best, candidate, where=better)
            np.copyto(where, t, where=better)
        ctx.geometry, ctx.padded_shape, ctx.where = geometry, x.shape, where
        return best

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolScatter.apply(grad, where=ctx.where, geometry=ctx.geometry, padded_shape=ctx.padded_shape)


class MaxPoolScatter(Primitive):
    """Each window's gradient placed at its maximum (added where windows overlap)."""
    @staticmethod
    def forward(ctx, grad, where, geometry, padded_shape):
        kernel, stride, padding, dilation, out_hw, extra = geometry
        ctx.where, ctx.geometry = where, geometry
        out = np.zeros(padded_shape, grad.dtype)
        overlap = any(k_span > s for k_span, s in zip(((kernel[0] - 1) * dilation[0] + 1,
                                                       (kernel[1] - 1) * dilation[1] + 1), stride))
        for t, target in _pool_windows(out, kernel, stride, dilation, out_hw):
            hit = where == t
            if overlap:
                target += grad * hit
            else:
                np.multiply(grad, hit, out=target)
        ph, pw = padding
        return out[:, :, ph:padded_shape[2] - ph - extra[0], pw:padded_shape[3] - pw - extra[1]]

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolGather.apply(grad, where=ctx.where, geometry=ctx.geometry)


class MaxPoolGather(Primitive):
    """From each window of x, the element at the remembered maximum (MaxPoolScatter's adjoint)."""
    @staticmethod
    def forward(ctx, x, where, geometry):
        kernel, stride, padding, dilation, out_hw, extra = geometry
        ctx.where, ctx.geometry = where, geometry
        ph, pw = padding
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph + extra[0]), (pw, pw + extra[1])))
        ctx.padded_shape = x.shape
        out = np.zeros(where.shape, x.dtype)
        for t, window in _pool_windows(x, kernel, stride, dilation, out_hw):
            np.copyto(out, window, where=where == t)
        return out

    @staticmethod
    def backward(ctx, grad):
        return MaxPoolScatter.apply(grad, where=ctx.where, geometry=ctx.geometry, padded_shape=ctx.padded_shape)


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=False, return_indices=False):
    """Arguments as pairs of ints. Pads with -inf; ceil_mode as PyTorch (a last window may
    start inside the input or the left padding, never in the right padding)."""
    if x.ndim != 4:
        raise shape_error("max_pool2d", "expects a 4-D (N, C, H, W) input", x.shape)
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise ValueError(f"max_pool2d: padding {tuple(padding)} should be at most half of the effective "
                             f"kernel size {tuple(kernel)} (dilation {tuple(dilation)})")
    out_hw, extra = pool_geometry("max_pool2d", x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    geometry = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation), out_hw, extra)
    out = MaxPool2d.apply(x, geometry=geometry)
    if not return_indices:
        return out
    return out, constant(_flat_indices(out.grad_fn.where if out.grad_fn else None, x, geometry))


def _flat_indices(where, x, geometry):
    kernel, stride, padding, dilation, out_hw, extra = geometry
    if where is None:  # not recorded: recompute (cheap compared to the pooling itself)
        with grad_mode.no_grad():
            ctx = object.__new__(MaxPool2d)
            ctx._inputs = ()
            MaxPool2d.forward(ctx, x.data, geometry)
            where = ctx.where
    i, j = np.divmod(where.astype(np.int64), kernel[1])
    rows = np.arange(out_hw[0])[:, None] * stride[0] - padding[0] + i * dilation[0]
    cols = np.arange(out_hw[1])[None, :] * stride[1] - padding[1] + j * dilation[1]
    return rows * x.shape[3] + cols


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
            grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=1e-12)
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = grad * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return grad_x, grad_y


def binary_cross_entropy(x, y):
    return BinaryCrossEntropy.apply(x, y)


# -- normalisation ---------------------------------------------------------------------------------

class Normalize(Primitive):
    """(x - mean) / sqrt(var + eps) * w + b, with the mean and the biased variance taken over
    `axes`: batch norm (axes all but the channel axis 1, w and b of shape (C,) viewed as
    `param_shape` (1, C, 1, ...)) and layer norm (the trailing axes, w and b of the trailing shape).

    With xhat the normalised input and g = grad * w, the means taken over `axes`:
    d/dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
    d/dw = sum(grad * xhat) and d/db = sum(grad), over the axes the parameters were broadcast along.
    The batch mean and biased variance (for running statistics) are appended to `stats`.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_shape, eps, stats):
        mean = np.mean(x, axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + eps)
        xhat *= inv_std
        if stats is not None:
            stats.extend([mean, var])
        out = xhat * weight.reshape(param_shape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(param_shape)
        ctx.axes, ctx.param_shape, ctx.eps = axes, param_shape, eps
        ctx.own_shape = (weight if weight is not None else bias).shape if (weight is not None or bias is not None) else None
        ctx.save_for_backward(x, weight, xhat, inv_std)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, xhat, inv_std = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        axes, param_shape = ctx.axes, ctx.param_shape
        if _recording_graph():  # xhat and 1/std as differentiable functions of x
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
