"""matmul (1-D, 2-D and batched with broadcasting, as numpy.matmul / torch.matmul) and linear.

d(a @ b)/da = grad @ b^T, d(a @ b)/db = a^T @ grad; batch dims that were broadcast are summed
back by the engine. A 1-D operand is treated as a row (left) or column (right) vector.
"""
import numpy as np

from ..broadcasting import sum_to
from ..errors import shape_error
from ..function import Primitive
from ..tensor import Tensor
from .arithmetic import operands


class MatMul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise shape_error("matmul", "both operands need at least one dimension", a.shape, b.shape)
        inner_a, inner_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if inner_a != inner_b:
            raise shape_error("matmul", f"cannot multiply {a.shape} by {b.shape}; inner sizes "
                              f"{inner_a} and {inner_b} differ")
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise shape_error("matmul", "batch dimensions cannot be broadcast together", a.shape, b.shape) from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim >= 2 and b.ndim >= 2:
            return (grad @ b.mT if need_a else None), (a.mT @ grad if need_b else None)
        # Promote 1-D operands to matrices, then take the result back to the operand's shape.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        grad2 = grad.reshape(out_shape)
        grad_a = sum_to(grad2 @ b2.mT, a2.shape).reshape(a.shape) if need_a else None
        grad_b = sum_to(a2.mT @ grad2, b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """The matrix product with NumPy's rules: 1-D operands are vectors, batch dims broadcast. As
    `torch.matmul` (the `@` operator)."""
    return MatMul.apply(*operands(a, b))


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two 1-D tensors, a 0-d tensor. As `torch.dot`."""
    if a.ndim != 1 or b.ndim != 1:
        raise shape_error("dot", "expects two 1-D tensors", a.shape, b.shape)
    return matmul(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two 2-D matrices (n, m) @ (m, p). As `torch.mm`."""
    if a.ndim != 2 or b.ndim != 2:
        raise shape_error("mm", "expects two 2-D tensors", a.shape, b.shape)
    return matmul(a, b)


def mv(a: Tensor, b: Tensor) -> Tensor:
    """The product of a 2-D matrix (n, m) and a 1-D vector (m,). As `torch.mv`."""
    if a.ndim != 2 or b.ndim != 1:
        raise shape_error("mv", "expects a 2-D matrix and a 1-D vector", a.shape, b.shape)
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix products of two 3-D tensors (b, n, m) @ (b, m, p). As `torch.bmm`."""
    if a.ndim != 3 or b.ndim != 3:
        raise shape_error("bmm", "expects two 3-D tensors", a.shape, b.shape)
    return matmul(a, b)


# -- linear --------------------------------------------------------------------------------------

class Linear(Primitive):
    """out = x @ W.T + b for x of shape (*, in), W (out, in), b (out,) or None.

    d/dx = grad @ W, d/dW = grad^T @ x (leading dims flattened), d/db = grad summed over rows.
    One node instead of a transpose, a matmul and a broadcast add: the training hot path.
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
        grad_x = MatMul.apply(grad, weight) if need_x else None
        grad_w = LinearWeightGrad.apply(grad, x) if need_w else None
        grad_b = sum_to(grad, weight.shape[:1]) if need_b else None
        return grad_x, grad_w, grad_b


class LinearWeightGrad(Primitive):
    """Linear's weight gradient grad^T @ x, the leading dims of both flattened into rows.

    It is bilinear, so its own derivatives are linear and matmul again: for a gradient gg of the
    weight's shape, d/dgrad = x @ gg^T (a linear layer with weight gg), d/dx = grad @ gg.
    """
    @staticmethod
    def forward(ctx, grad, x):
        ctx.save_for_backward(grad, x)
        return grad.reshape(-1, grad.shape[-1]).T @ x.reshape(-1, x.shape[-1])

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (Linear.apply(x, gg, None) if need_grad else None), (MatMul.apply(grad, gg) if need_x else None)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, for `weight` of shape (out_features, in_features) and x of shape (...,
    in_features); `bias` (out_features,) may be None. As `torch.nn.functional.linear`."""
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1] or weight.ndim != 2:
        raise shape_error("linear", f"the input's last dim must equal the weight's in_features "
                          f"({weight.shape[-1]})", x.shape, weight.shape)
    return Linear.apply(x, weight, bias)
