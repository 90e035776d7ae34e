"""Normalisation over some axes: batch norm, layer norm and group norm share one fused op
(Normalize), whose gradients are one NormalizeGrad node."""
import math
import numbers

import numpy as np

from ..broadcasting import expand, sum_to
from ..errors import ShapeError
from ..function import Primitive
from ..sums import column_sums, row_dots, row_sums
from .elementwise import constant
from .reduction import keepdim_shape
from .workspace import workspace


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
    reduced = int(np.prod(moved.shape[x.ndim - len(axes):], dtype=np.int64))  # not -1: kept may be 0
    if not moved.flags.c_contiguous:
        moved = np.ascontiguousarray(moved)
    return moved.reshape(kept, reduced), order


def _from_rows(matrix, shape, order):
    """The inverse of _to_rows: an array of `shape` viewing the (kept, reduced) matrix."""
    return matrix.reshape(tuple(shape[a] for a in order)).transpose(np.argsort(order))


# Rows are normalised a block of about this many bytes at a time: every full-size pass of a block
# (centring, scaling, the gradient's four) then runs in the core's cache instead of streaming the
# whole array through memory once per pass, and the temporaries are block-sized. LayerNorm over
# (64, 128, 512), forward + backward: 22.7 -> 16-18 ms (256 KiB to 2 MiB blocks all within that
# range); an input under a block (a small GPT's (8, 64, 128)) is one block, as before.
_BLOCK_BYTES = 1 << 20


def _statistics_dtype(dtype):
    """The dtype means, variances and sums are taken in: single precision at least (half precision's
    sums overflow at 65504 and keep 11 bits, as PyTorch accumulates float16 in float32)."""
    return np.result_type(dtype, np.float32) if dtype.kind == "f" else np.dtype(np.float64)


def _row_blocks(rows, row_bytes, period=1):
    """[0, rows) as slices of whole rows, each about _BLOCK_BYTES and a multiple of `period` rows (the
    rows that parameters repeat after: group norm's groups) unless it is the last."""
    per_block = max(1, _BLOCK_BYTES // max(1, row_bytes * period)) * period
    return [slice(start, min(start + per_block, rows)) for start in range(0, rows, per_block)] or [slice(0, 0)]


def _parameter_rows(param, count):
    """A parameter that is not one per row as a (period, count) matrix: row r of the input takes row
    r % period (layer norm's weight: period 1; group norm's per-channel weight spread over its
    groups' columns: period = the number of groups)."""
    return None if param is None else param.reshape(param.size // count if count else 1, count)


def _period_sums(matrix, period, row_weights=None):
    """The rows of `matrix` (a multiple of `period` of them), each times its row weight if given,
    summed by their index modulo `period`: one BLAS product for period 1."""
    if period == 1:
        return (column_sums(matrix) if row_weights is None else row_weights @ matrix)[None]
    if row_weights is not None:
        matrix = matrix * row_weights[:, None]
    return matrix.reshape(-1, period, matrix.shape[1]).sum(axis=0)


class _Layout:
    """How a normalisation sees its input: the axes it reduces, the parameters' broadcast shape
    and own shape, eps, and the (kept, reduced) matrix form (`order`; batch norm's parameters are
    one per row, layer norm's one per column)."""
    __slots__ = ("axes", "param_shape", "own_shape", "eps", "order", "params_per_row")

    def __init__(self, axes, param_shape, own_shape, eps, order, params_per_row):
        self.axes, self.param_shape, self.own_shape, self.eps = axes, param_shape, own_shape, eps
        self.order, self.params_per_row = order, params_per_row


class Normalize(Primitive):
    """(x - mean) / sqrt(var + eps) * w + b, with the mean and the biased variance taken over
    `axes`: batch norm (axes all but the channel axis 1, w and b of shape (C,) viewed as
    `param_shape` (1, C, 1, ...)) and layer norm (the trailing axes, w and b of the trailing shape).
    The batch mean and biased variance (for running statistics) are appended to `stats`.
    Its gradients are one NormalizeGrad node, from the input, its mean and 1/std kept here (the
    centred input is recomputed there a block at a time, as PyTorch keeps only the statistics: a
    full-size centred copy would cost as much memory as the input and, written out and read back,
    more time than centring a block in cache again).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_shape, eps, stats):
        rows, order = _to_rows(x, axes)
        kept, count = rows.shape
        params_per_row = len(param_shape) == x.ndim and all(param_shape[a] == 1 for a in axes)
        out = workspace.empty(rows.shape, np.result_type(rows, *(p for p in (weight, bias) if p is not None)))
        work = _statistics_dtype(rows.dtype)
        mean = np.empty(kept, work)
        var, inv_std = np.empty_like(mean), np.empty_like(mean)
        row_weight = weight.reshape(kept) if params_per_row and weight is not None else None
        row_bias = bias.reshape(kept) if params_per_row and bias is not None else None
        column_weight = _parameter_rows(weight, count) if row_weight is None else None
        column_bias = _parameter_rows(bias, count) if row_bias is None else None
        period = next((len(p) for p in (column_weight, column_bias) if p is not None), 1)
        blocks = _row_blocks(kept, count * rows.itemsize, period)
        centered = _BlockBuffer(blocks, count, work)
        # Half precision is normalised in single, as PyTorch, and rounded once at the end.
        single_out = _BlockBuffer(blocks, count, work) if out.dtype.itemsize < work.itemsize else None
        for block in blocks:
            block_rows = rows[block]
            mean[block] = _row_sums(block_rows, work) / count
            block_centered = np.subtract(block_rows, mean[block, None], out=centered.take(block))
            var[block] = row_dots(block_centered, block_centered) / count
            inv_std[block] = 1 / np.sqrt(var[block] + eps)
            scale = inv_std[block] if row_weight is None else inv_std[block] * row_weight[block]   # xhat * w in one pass
            block_out = out[block] if single_out is None else single_out.take(block)
            np.multiply(block_centered, scale[:, None], out=block_out)
            if column_weight is not None:
                _apply_by_period(np.multiply, block_out, column_weight, block_out)
            if row_bias is not None:
                block_out += row_bias[block, None]
            elif column_bias is not None:
                _apply_by_period(np.add, block_out, column_bias, block_out)
            if single_out is not None:
                np.copyto(out[block], block_out)
        keepdims_shape = keepdim_shape(x.shape, axes)
        if stats is not None:
            stats.extend([mean.reshape(keepdims_shape), var.reshape(keepdims_shape)])
        own_shape = next((p.shape for p in (weight, bias) if p is not None), None)
        ctx.layout = _Layout(axes, param_shape, own_shape, eps, order, params_per_row)
        # `rows` is x itself (a view) unless x had to be copied into the matrix form: then the copy is
        # kept, so that the backward does not make it again.
        ctx.save_for_backward(x, weight, rows, mean, inv_std)
        return _from_rows(out, x.shape, order)

    @staticmethod
    def backward(ctx, grad):
        x, weight, rows, mean, inv_std = ctx.saved_tensors
        return NormalizeGrad.apply(grad, x, weight, layout=ctx.layout, rows=rows._data, mean=mean._data,
                                   inv_std=inv_std._data, wanted=ctx.needs_input_grad)


class _BlockBuffer:
    """One block-sized scratch array, handed out as the first rows of it that a block needs."""
    __slots__ = ("array",)

    def __init__(self, blocks, count, dtype):
        self.array = np.empty((blocks[0].stop - blocks[0].start, count), dtype)

    def take(self, block):
        return self.array[:block.stop - block.start]


def _row_sums(matrix, dtype):
    """Each row's sum, taken in `dtype` (single precision for half precision rows)."""
    return row_sums(matrix) if matrix.dtype == dtype else matrix.sum(axis=1, dtype=dtype)


def _apply_by_period(ufunc, block, params, out):
    """ufunc(block, params) into `out`, row r of the block taking parameter row r % period (a block
    starts at a multiple of the period)."""
    period = len(params)
    if period == 1:
        return ufunc(block, params, out=out)
    ufunc(block.reshape(-1, period, block.shape[1]), params, out=out.reshape(-1, period, out.shape[1]))
    return out


class NormalizeGrad(Primitive):
    """Normalize's gradients for its input, weight and bias (those `wanted`), in one pass.

    With xhat the normalised input, s = 1/sqrt(var + eps), g = grad * w and the means over `axes`:
    d/dx = P(g) = s (g - mean(g) - xhat mean(g xhat));  d/dw = sum(grad xhat);  d/db = sum(grad),
    the sums over the axes the parameters were broadcast along. P is symmetric, and it is also
    d<c, xhat>/dx, which gives most of this node's own derivatives (see backward).

    The forward works in the (kept, reduced) matrix form (`rows` is x's, `mean` and `inv_std` its
    statistics), a block of rows at a time: the block is centred again in cache and xhat =
    centered * s folded into per-row factors, for four passes plus two reductions into one output.
    """
    @staticmethod
    def forward(ctx, grad, x, weight, layout, rows, mean, inv_std, wanted):
        need_x, need_w, need_b = wanted
        ctx.layout, ctx.wanted = layout, wanted
        ctx.save_for_backward(grad, x, weight, rows, mean, inv_std)
        order, per_row = layout.order, layout.params_per_row
        grad_rows, _ = _to_rows(grad, layout.axes)
        kept, count = grad_rows.shape
        row_weights = per_row or weight is None   # then g = grad * w has w come out of the row means
        row_weight = weight.reshape(kept) if per_row and weight is not None else None
        column_weight = _parameter_rows(weight, count) if not row_weights else None
        # The rows after which parameters that are not one per row repeat (see _parameter_rows).
        period = 1 if per_row or layout.own_shape is None or not count else math.prod(layout.own_shape) // count
        out = None
        if need_x:
            dtype = np.result_type(grad_rows, rows, inv_std, *(() if weight is None else (weight,)))
            out = workspace.empty(grad_rows.shape, dtype)
        # Per row when the parameters are one per row (or absent): sum(grad xhat) and sum(grad), which
        # are d/dw and d/db there; per column otherwise, summed over the blocks.
        work = np.result_type(_statistics_dtype(grad_rows.dtype), inv_std)
        grad_xhat_sums = np.empty(kept, work) if row_weights and (need_w or need_x) else None
        grad_sums = np.empty(kept, work) if row_weights and (need_b or need_x) else None
        column_w = np.zeros((period, count), work) if need_w and not per_row else None
        column_b = np.zeros((period, count), work) if need_b and not per_row else None
        blocks = _row_blocks(kept, count * grad_rows.itemsize, period)
        centered = _BlockBuffer(blocks, count, work)
        for block in blocks:
            block_grad, block_inv_std = grad_rows[block], inv_std[block]
            block_centered = np.subtract(rows[block], mean[block, None], out=centered.take(block))
            if block_grad.dtype != work:   # half precision: sums in single, as the forward's statistics
                block_grad = block_grad.astype(work)
            if grad_xhat_sums is not None:
                grad_xhat_sums[block] = row_dots(block_grad, block_centered) * block_inv_std
            if grad_sums is not None:
                grad_sums[block] = row_sums(block_grad)
            if need_x:
                scale = block_inv_std
                if row_weights:
                    g, g_sums, g_xhat_sums = block_grad, grad_sums[block], grad_xhat_sums[block]
                    if row_weight is not None:
                        scale = scale * row_weight[block]
                else:
                    g = _apply_by_period(np.multiply, block_grad, column_weight,
                                         np.empty(block_grad.shape, np.result_type(block_grad, column_weight)))
                    g_sums, g_xhat_sums = row_sums(g), row_dots(g, block_centered) * block_inv_std
                block_out = out[block]
                np.multiply(block_centered, (g_xhat_sums * block_inv_std / count)[:, None], out=block_out)   # xhat * mean(g xhat)
                block_out += (g_sums / count)[:, None]
                np.subtract(g, block_out, out=block_out)
                block_out *= scale[:, None]
            if column_w is not None:
                column_w += _period_sums(block_grad * block_centered, period, block_inv_std)
            if column_b is not None:
                column_b += _period_sums(block_grad, period)
        grad_x = _from_rows(out, grad.shape, order) if need_x else None
        grad_w = (grad_xhat_sums if per_row else column_w).reshape(layout.own_shape) if need_w else None
        grad_b = (grad_sums if per_row else column_b).reshape(layout.own_shape) if need_b else None
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward(ctx, gg_x, gg_w, gg_b):
        """With gg_* the gradients arriving for d/dx, d/dw, d/db:
        d/dgrad = w P(gg_x) + xhat gg_w + gg_b (P being symmetric);
        d/dw = sum(grad P(gg_x));
        d/dx = s^2 (-m' (g - mean(g)) - m (gg_x - mean(gg_x)) - xhat (mean(gg_x g) - mean(g) mean(gg_x)
               - 3 m m')) + P(grad gg_w), with m = mean(g xhat), m' = mean(gg_x xhat).
        P is this primitive again (its d/dx output alone), so every order stays differentiable."""
        grad, x, weight, rows, mean_x, inv_std = ctx.saved_tensors
        layout = ctx.layout
        need_grad, need_x, need_w = ctx.needs_input_grad
        axes, param_shape = layout.axes, layout.param_shape

        def project(c):
            return NormalizeGrad.apply(c, x, None, layout=layout, rows=rows._data, mean=mean_x._data,
                                       inv_std=inv_std._data, wanted=(True, False, False))[0]

        def mean(t):
            return t.mean(axes, keepdim=True)

        w = None if weight is None else weight.reshape(param_shape)
        # xhat and s as differentiable functions of x (the saved ones are constants)
        centered_x = x - mean(x)
        s = 1 / (mean(centered_x * centered_x) + layout.eps).sqrt()
        xhat = centered_x * s
        grad_grad = grad_x = grad_w = None
        if gg_x is not None:
            p = project(gg_x)
            grad_grad = p if w is None else p * w
            if need_w:
                grad_w = sum_to(grad * p, param_shape).reshape(layout.own_shape)
            if need_x:
                g = grad if w is None else grad * w
                m, m_gg = mean(g * xhat), mean(gg_x * xhat)
                g_mean, gg_mean = mean(g), mean(gg_x)
                grad_x = s * s * (-m_gg * (g - g_mean) - m * (gg_x - gg_mean)
                                  - xhat * (mean(gg_x * g) - g_mean * gg_mean - 3 * m * m_gg))
        if gg_w is not None:
            gg_w = gg_w.reshape(param_shape)
            grad_grad = _add(grad_grad, xhat * gg_w)
            if need_x:
                grad_x = _add(grad_x, project(grad * gg_w))
        if gg_b is not None and need_grad:
            grad_grad = _add(grad_grad, expand(gg_b.reshape(param_shape), grad.shape))
        return (grad_grad if need_grad else None), grad_x, grad_w


def _add(total, term):
    return term if total is None else total + term


def batch_norm(input, weight=None, bias=None, running_mean=None, running_var=None, training=False, momentum=0.1,
               eps=1e-5, cudnn_enabled=True):
    """Normalise each channel (dim 1), as torch.batch_norm (nn.functional.batch_norm takes the same
    arguments in another order): with the batch statistics when training (the running statistics,
    if given, are updated in place: new = (1 - momentum) * old + momentum * batch, with the
    unbiased batch variance), else with the running statistics."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expects an input of shape (N, C, ...), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"batch_norm: {name} should contain {channels} elements (one per channel of the "
                             f"input of shape {tuple(input.shape)}), not {int(np.prod(t.shape))}")
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input._data.size // channels if channels else 0
        if count == 0:
            return input * 1.0   # an empty batch, as PyTorch: nothing to normalise, statistics unchanged
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)}")
        stats = []
        out = Normalize.apply(input, weight, bias, axes=(0,) + tuple(range(2, input.ndim)), param_shape=param_shape,
                              eps=eps, stats=stats)
        mean, var = (stat.reshape(-1) for stat in stats)
        if running_mean is not None:
            running_mean._data *= 1 - momentum
            running_mean._data += momentum * mean.astype(running_mean.dtype, copy=False)
        if running_var is not None:
            running_var._data *= 1 - momentum
            running_var._data += (momentum * count / (count - 1)) * var.astype(running_var.dtype, copy=False)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    # Evaluation is an affine map per channel: fold the statistics into one scale and one shift.
    scale = constant((1 / np.sqrt(running_var._data + eps)).astype(input.dtype, copy=False))
    if weight is not None:
        scale = scale * weight
    shift = -constant(running_mean._data.astype(input.dtype, copy=False)) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(param_shape) + shift.reshape(param_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Normalise over the trailing dims `normalized_shape`, then scale and shift elementwise, as
    torch.layer_norm."""
    normalized_shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(normalized_shape)
    if input.ndim < len(normalized_shape) or tuple(input.shape[input.ndim - len(normalized_shape):]) != normalized_shape:
        raise ShapeError(f"layer_norm: the input of shape {tuple(input.shape)} does not end in the normalized "
                         f"shape {normalized_shape}")
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    return Normalize.apply(input, weight, bias, axes=axes, param_shape=normalized_shape, eps=eps, stats=None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Normalise each sample's channels (dim 1) in `num_groups` groups, over each group's channels
    and spatial positions together, then scale and shift per channel, as torch.group_norm."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expects an input of shape (N, C, ...), got {tuple(input.shape)}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ShapeError(f"group_norm: the input's {channels} channels (shape {tuple(input.shape)}) cannot be "
                         f"split into {num_groups} groups")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"group_norm: {name} should have shape ({channels},), one per channel, not {tuple(t.shape)}")
    size = int(np.prod(input.shape[1:], dtype=np.int64)) // num_groups   # per group: channels x positions
    grouped = input.reshape(n, num_groups, size)
    positions = size * num_groups // channels if channels else 0

    def per_column(param):
        """A per-channel parameter as one value per column of each group's row, inside the fused op
        (a copy of channels x positions values, where a separate scale and shift cost four passes
        over the whole input)."""
        if param is None:
            return None
        return param.reshape(num_groups, channels // num_groups, 1).expand(
            num_groups, channels // num_groups, positions).reshape(1, num_groups, size)

    return Normalize.apply(grouped, per_column(weight), per_column(bias), axes=(2,), param_shape=(1, num_groups, size),
                           eps=eps, stats=None).reshape(input.shape)
