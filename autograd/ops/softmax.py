"""softmax and log_softmax along one dim, stable for logits of any size (the max is subtracted).

∂ softmax(x)_i / ∂ x_j = y_i (δ_ij - y_j)      ->  backward: y * (g - sum(g * y))
∂ log_softmax(x)_i / ∂ x_j = δ_ij - softmax(x)_j ->  backward: g - softmax(x) * sum(g)
"""
import numpy as np

from ..errors import DTypeError
from ..function import Primitive
from ..sums import extreme_keepdims, row_dots, sum_keepdims
from ..tensor import Tensor
from .elementwise import cast, exp
from .reduction import normalize_axes


def _over_empty_dim(x, axis):
    """Nothing to normalise over: the result is empty too (as PyTorch), and NumPy must not see it."""
    return axis is not None and x.shape[axis] == 0


def shifted(x, axis):
    """x minus its maximum along `axis`: exp of it cannot overflow, and the softmax of it is that of x.
    The one home of the stable shift, for softmax and the fused losses. As in PyTorch, a row whose
    maximum is infinite (a +inf logit, or every logit -inf) shifts to NaN, so its softmax is NaN
    (silently: ops' forwards run with NumPy's floating-point warnings off, see autograd/function.py)."""
    top = np.amax(x, axis=axis, keepdims=True) if axis is None or x.ndim == 0 else extreme_keepdims(x, (axis % x.ndim,))
    return x - top


def _sums_along(x, axis):
    """The sums of x along `axis` (all axes for None), kept as a size-1 axis."""
    if x.ndim == 0 or axis is None:
        return np.add.reduce(x, axis=axis, keepdims=True)
    return sum_keepdims(x, (axis % x.ndim,))


def log_softmax_array(x, axis):
    """log_softmax of a NumPy array along `axis`, computed from the stably shifted array (the kernel shared
    with the fused losses)."""
    if _over_empty_dim(x, axis):
        return x.copy()
    out = shifted(x, axis)
    out -= np.log(_sums_along(np.exp(out), axis))
    return out


class Softmax(Primitive):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if _over_empty_dim(x, axis):
            return ctx.save_output(x.copy())
        e = np.asarray(shifted(x, axis))   # a fresh array (a 0-d x gives a scalar): exp and the division run in place in it
        np.exp(e, out=e)
        e /= _sums_along(e, axis)
        return ctx.save_output(e)

    @staticmethod
    def backward(ctx, grad):
        return SoftmaxGrad.apply(grad, ctx.output, axis=ctx.axis)


class SoftmaxGrad(Primitive):
    """softmax's backward, y (g - sum(g y)) along `axis` for the output y, as one op: a row of dot
    products and two passes, where four Tensor ops made three full-size temporaries. Linear and
    self-adjoint in g, so d/dg is itself; d/dy = gg (g - sum(g y)) - g sum(gg y)."""
    @staticmethod
    def forward(ctx, grad, y, axis):
        ctx.axis = axis
        ctx.save_for_backward(grad, y)
        out = np.subtract(grad, _dots_along(grad, y, axis))
        out *= y
        return out

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        axis = ctx.axis
        grad_y = None
        if need_y:
            grad_y = grad_grad * (grad - (grad * y).sum(axis, keepdim=True)) - grad * (grad_grad * y).sum(axis, keepdim=True)
        return (SoftmaxGrad.apply(grad_grad, y, axis=axis) if need_grad else None), grad_y


def _dots_along(a, b, axis):
    """sum(a * b) along `axis`, kept as a size-1 axis; along the last axis of contiguous arrays without
    the product array."""
    if axis == a.ndim - 1 and a.size and a.flags.c_contiguous and b.flags.c_contiguous and a.shape == b.shape:
        n = a.shape[-1]
        return row_dots(a.reshape(-1, n), b.reshape(-1, n)).reshape(a.shape[:-1] + (1,))
    return _sums_along(a * b, axis)


class LogSoftmax(Primitive):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return ctx.save_output(log_softmax_array(x, axis))

    @staticmethod
    def backward(ctx, grad):
        return LogSoftmaxGrad.apply(grad, ctx.output, axis=ctx.axis)


class LogSoftmaxGrad(Primitive):
    """log_softmax's backward, g - exp(out) sum(g) along `axis` for the output out, as one op. Its
    derivatives, with e = exp(out): d/dg = gg - sum(gg e) (the adjoint), d/dout = -gg e sum(g)."""
    @staticmethod
    def forward(ctx, grad, output, axis):
        ctx.axis = axis
        ctx.save_for_backward(grad, output)
        out = np.asarray(np.exp(output))   # an array even for a 0-d output, for the in-place passes
        out *= _sums_along(grad, axis)
        return np.subtract(grad, out, out=out)

    @staticmethod
    def backward(ctx, grad_grad):
        grad, output = ctx.saved_tensors
        need_grad, need_output = ctx.needs_input_grad
        axis, probs = ctx.axis, exp(output)
        grad_grad_in = grad_grad - (grad_grad * probs).sum(axis, keepdim=True) if need_grad else None
        grad_output = -grad_grad * probs * grad.sum(axis, keepdim=True) if need_output else None
        return grad_grad_in, grad_output


def softmax(x: Tensor, dim: int = -1, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (default the last), without overflow, computed in `dtype` if given.
    As `torch.softmax`."""
    x = _floating_input("softmax", x, dtype)
    (axis,) = normalize_axes("softmax", dim, x.ndim) or (None,)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, dim: int = -1, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim` (default the last), computed stably (never log of 0 from an underflowed
    softmax), in `dtype` if given. As `torch.log_softmax`."""
    x = _floating_input("log_softmax", x, dtype)
    (axis,) = normalize_axes("log_softmax", dim, x.ndim) or (None,)
    return LogSoftmax.apply(x, axis=axis)


def _floating_input(op, x, dtype):
    """x cast to `dtype` if given; an integer or bool tensor without one is refused, as PyTorch does."""
    if dtype is not None:
        return cast(x, dtype)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point tensor, got {x.dtype}; convert it first (x.float()) "
                         "or pass dtype=")
    return x
