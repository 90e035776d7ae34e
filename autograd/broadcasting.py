"""Broadcasting, and the one place that sums broadcast gradients back to shape.

`Expand` (broadcast up) and `SumTo` (sum back down) are each other's backward, so both are
differentiable and double backward survives broadcasting. The engine calls `sum_to` on every
gradient it passes along an edge; no op repeats that work.
"""
import numpy as np

from .function import Primitive
from .sums import sum_keepdims, sum_leading


def reduced_axes(from_shape, to_shape):
    """The axes to sum over to bring a gradient of `from_shape` down to `to_shape`."""
    lead = len(from_shape) - len(to_shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(to_shape) if n == 1 and from_shape[lead + i] != 1)


def sum_to_array(x, shape):
    """The array x summed down to `shape`, a shape x's broadcasts from (a view of x, sharing its memory, when
    it is x's own)."""
    lead = x.ndim - len(shape)
    if lead and x.shape[lead:] == shape:   # leading axes only, as a bias gradient
        return sum_leading(x, lead)
    axes = reduced_axes(x.shape, shape)
    return (sum_keepdims(x, axes) if axes else x).reshape(shape)


class SumTo(Primitive):
    """Sum a broadcast gradient back down to `shape`; backward broadcasts up again."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return expand(grad, ctx.input_shape)


class Expand(Primitive):
    """Broadcast to a larger shape without copying (a read-only view); backward sums back."""
    complex_safe = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape, ctx.new_shape = x.shape, shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.input_shape)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return np.broadcast_to(array, ctx.new_shape)


def expand(x, shape):
    """x broadcast to `shape` without copying (a read-only view); the gradient is summed back to x's shape.
    x itself when the shape is already `shape`. As `Tensor.expand` with a full shape."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return Expand.apply(x, shape=shape)


def sum_to(grad, shape):
    """Sum `grad` down to `shape` (undoing broadcasting); a gradient smaller than `shape`
    (a backward may return one that broadcasts, such as a scalar) is broadcast up first."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead >= 0 and (grad.shape[lead:] == shape or all(n == 1 or n == m for n, m in zip(shape, grad.shape[lead:]))):
        full = grad.shape   # the usual case, a gradient summed down: no need to ask NumPy
    else:
        full = np.broadcast_shapes(grad.shape, shape)
    if full != grad.shape:
        grad = Expand.apply(grad, shape=full)
    if full != shape:
        grad = SumTo.apply(grad, shape=shape)
    return grad
