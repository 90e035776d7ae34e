"""Normalisation over some axes: batch norm and layer norm share one fused op."""
import numpy as np

from .. import grad_mode
from ..function import Primitive
from .elementwise import constant
from .workspace import workspace


def _recording_graph():
    """Inside a backward: True when create_graph=True asked for a differentiable gradient."""
    return grad_mode._state.grad_enabled


def row_sums(matrix):
    """Each row's sum, as one BLAS matrix-vector product."""
    return matrix @ np.ones(matrix.shape[1], matrix.dtype)


def row_dots(a, b):
    """sum(a * b) along each row, without the product array."""
    if a.shape[1] < 1024:  # many short rows: one matmul per row would cost more than einsum
        return np.einsum("km,km->k", a, b)
    return np.matmul(a[:, None, :], b[:, :, None]).reshape(a.shape[0])


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
        mean = row_sums(rows) / count
        centered = np.subtract(rows, mean[:, None], out=workspace.empty(rows.shape, rows.dtype))
        var = row_dots(centered, centered) / count
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
    grad_xhat_sums = row_dots(grad_rows, centered_rows) * inv_std if row_weights and (need_w or need_x) else None
    grad_sums = row_sums(grad_rows) if row_weights and (need_b or need_x) else None
    if need_x:
        scale = inv_std
        if row_weights:
            g, g_sums, g_xhat_sums = grad_rows, grad_sums, grad_xhat_sums
            if w is not None:
                scale = scale * w
        else:
            g = grad_rows * w.reshape(1, count)
            g_sums, g_xhat_sums = row_sums(g), row_dots(g, centered_rows) * inv_std
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
