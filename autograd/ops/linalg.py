"""matmul (1-D, 2-D and batched with broadcasting, as numpy.matmul / torch.matmul) and linear, then the
products and diagonals built on einsum and indexing: outer, inner, tensordot, kron, trace, diagonal,
diag, cross.

d(a @ b)/da = grad @ b^T, d(a @ b)/db = a^T @ grad; batch dims that were broadcast are summed
back by the engine. A 1-D operand is treated as a row (left) or column (right) vector.
"""
from collections import namedtuple
import math

import numpy as np

from ..broadcasting import expand, sum_to, sum_to_array
from ..errors import ArgumentError, DTypeError, ShapeError, shape_error
from ..function import Primitive
from ..tensor import Tensor
from .arithmetic import operands
from .einsum import LETTERS, einsum
from .elementwise import constant
from .gemm import matmul_array


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
            out = _product(a, b)
        except ValueError:
            raise shape_error("matmul", "batch dimensions cannot be broadcast together", a.shape, b.shape) from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim > 2 and b.ndim == 2:   # b's gradient sums over a's leading dims: one flat product
            return (grad @ b.mT if need_a else None), (LinearWeightGrad.apply(a, grad) if need_b else None)
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


def _product(a, b):
    """a @ b on arrays, a matrix b as one product with a's rows flattened where they can be."""
    return _flat_product(a, b) if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous else matmul_array(a, b)


def _flat_product(a, b):
    """a @ b for a C-contiguous a of 3 or more dims and a matrix b, as one matrix product of a's rows:
    NumPy's matmul would run one small product per leading index (1.3-2x slower for (8, 64, 128) or
    (35, 20, 128) inputs)."""
    return matmul_array(_as_rows(a), b).reshape(a.shape[:-1] + b.shape[-1:])


def _as_rows(a):
    """a with its leading dims flattened into rows: a matrix of a.shape[-1] columns (0 columns too)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """The matrix product with NumPy's rules: 1-D operands are vectors, batch dims broadcast. As
    `torch.matmul` (the `@` operator)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:   # NumPy's matmul would fail deep inside with an AttributeError
        raise shape_error("matmul", "both arguments need to be at least 1-D", np.shape(a), np.shape(b))
    return MatMul.apply(*operands(a, b))


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two 1-D tensors, a 0-d tensor. As `torch.dot`."""
    if a.ndim != 1 or b.ndim != 1:
        raise shape_error("dot", "expects two 1-D tensors", a.shape, b.shape)
    return _matmul_as("dot", a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two 2-D matrices (n, m) @ (m, p). As `torch.mm`."""
    if a.ndim != 2 or b.ndim != 2:
        raise shape_error("mm", "expects two 2-D tensors", a.shape, b.shape)
    return _matmul_as("mm", a, b)


def mv(a: Tensor, b: Tensor) -> Tensor:
    """The product of a 2-D matrix (n, m) and a 1-D vector (m,). As `torch.mv`."""
    if a.ndim != 2 or b.ndim != 1:
        raise shape_error("mv", "expects a 2-D matrix and a 1-D vector", a.shape, b.shape)
    return _matmul_as("mv", a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix products of two 3-D tensors (b, n, m) @ (b, m, p). As `torch.bmm`."""
    if a.ndim != 3 or b.ndim != 3:
        raise shape_error("bmm", "expects two 3-D tensors", a.shape, b.shape)
    if a.shape[0] != b.shape[0]:   # bmm does not broadcast its batch
        raise shape_error("bmm", f"batch sizes {a.shape[0]} and {b.shape[0]} differ", a.shape, b.shape)
    return _matmul_as("bmm", a, b)


def _matmul_as(op, a, b):
    """matmul(a, b), its shape errors naming `op`, the function the user called."""
    try:
        return matmul(a, b)
    except ShapeError as error:
        raise ShapeError(op + str(error)[len("matmul"):]) from None


# -- linear --------------------------------------------------------------------------------------

class Linear(Primitive):
    """out = x @ W.T + b for x of shape (*, in), W (out, in), b (out,) or None.

    d/dx = grad @ W, d/dW = grad^T @ x (leading dims flattened), d/db = grad summed over rows.
    One node instead of a transpose, a matmul and a broadcast add: the training hot path.
    """
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.bias_shape = None if bias is None else bias.shape   # (out,), or any shape broadcasting to the output
        return linear_array(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return LinearGrad.apply(grad, x, weight, need_x=need_x, need_w=need_w,
                                bias_shape=ctx.bias_shape if need_b else None)


class LinearGrad(Primitive):
    """Linear's three gradients from the output's, g, as one op: the input's g @ W, the weight's g^T @ x
    (leading dims flattened into rows, as LinearWeightGrad) and the bias's g summed to its shape, each
    only where needed (None otherwise). One op where three ran, on every layer of a train step's backward.

    Its derivatives, for gradients (gx, gw, gb) of its outputs: d/dg = gx @ W^T + gb + x @ gw^T (two
    linear layers), d/dx = g @ gw, d/dW = g^T @ gx (LinearWeightGrad).
    """
    @staticmethod
    def forward(ctx, grad, x, weight, need_x, need_w, bias_shape):
        ctx.save_for_backward(grad, x, weight)
        return (_product(grad, weight) if need_x else None,
                _weight_gradient(grad, x) if need_w else None,
                None if bias_shape is None else sum_to_array(grad, bias_shape))

    @staticmethod
    def backward(ctx, grad_x_grad, grad_w_grad, grad_b_grad):
        grad, x, weight = ctx.saved_tensors
        need_grad, need_x, need_w = ctx.needs_input_grad
        d_grad = d_x = d_w = None
        if need_grad:
            if grad_x_grad is not None:
                d_grad = Linear.apply(grad_x_grad, weight, grad_b_grad)
            elif grad_b_grad is not None:
                d_grad = expand(grad_b_grad, grad.shape)
            if grad_w_grad is not None:
                through_weight = Linear.apply(x, grad_w_grad, None)
                d_grad = through_weight if d_grad is None else d_grad + through_weight
        if need_x and grad_w_grad is not None:
            d_x = MatMul.apply(grad, grad_w_grad)
        if need_w and grad_x_grad is not None:
            d_w = LinearWeightGrad.apply(grad, grad_x_grad)
        return d_grad, d_x, d_w


def linear_array(x, weight, bias=None):
    """x @ weight.T (+ bias) on arrays: the kernel of Linear (and of a recurrent layer's per-step
    hidden projection)."""
    rows = x.size // x.shape[-1] if x.shape[-1] else 0
    if 0 < 4 * rows <= weight.shape[0] and x.dtype == weight.dtype and x.dtype.kind == "f" and x.flags.c_contiguous:
        return _few_rows_linear(x.reshape(rows, x.shape[-1]), weight, bias).reshape(x.shape[:-1] + weight.shape[:1])
    out = _flat_product(x, weight.T) if x.ndim > 2 and x.flags.c_contiguous else matmul_array(x, weight.T)
    if bias is not None:
        out += bias
    return out


def _few_rows_linear(x, weight, bias):
    """x @ weight.T (+ bias) for a matrix x with far fewer rows than weight (a small batch, an RNN step).
    OpenBLAS computes the product with the many-row operand first, weight @ x.T, 1.2-1.8x faster at
    rows <= out_features / 4 (20 x 256 by 256 -> 1024: 230 -> 156 us); it is turned back to row
    order in the pass that adds the bias."""
    product = matmul_array(weight, x.T)
    out = np.empty((x.shape[0], weight.shape[0]), product.dtype)   # the dtype of the other path's `out += bias`
    if bias is None:
        np.copyto(out, product.T)
    else:
        np.add(product.T, bias, out=out)
    return out


class LinearWeightGrad(Primitive):
    """Linear's weight gradient grad^T @ x, the leading dims of both flattened into rows (also
    matmul's gradient for the matrix b of an (..., n, k) @ (k, m) product, a^T @ grad flattened).

    It is bilinear, so its own derivatives are linear and matmul again: for a gradient gg of the
    weight's shape, d/dgrad = x @ gg^T (a linear layer with weight gg), d/dx = grad @ gg.
    """
    @staticmethod
    def forward(ctx, grad, x):
        ctx.save_for_backward(grad, x)
        return _weight_gradient(grad, x)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (Linear.apply(x, gg, None) if need_grad else None), (MatMul.apply(grad, gg) if need_x else None)


def _weight_gradient(grad, x):
    return matmul_array(_as_rows(grad).T, _as_rows(x))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, for `weight` of shape (out_features, in_features) and x of shape (...,
    in_features); `bias` (out_features,) may be None. As `torch.nn.functional.linear`."""
    if weight.ndim != 2:
        raise shape_error("linear", "expects a 2-D weight (out_features, in_features)", x.shape, weight.shape)
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise shape_error("linear", f"the input's last dim must equal the weight's in_features "
                          f"({weight.shape[-1]})", x.shape, weight.shape)
    return Linear.apply(x, weight, bias)


# -- products and diagonals built on einsum and indexing (differentiable through those) ------------

def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two 1-D tensors, (n,) x (m,) -> (n, m). As `torch.outer` (alias `ger`)."""
    if a.ndim != 1 or b.ndim != 1:
        raise shape_error("outer", "expects two 1-D tensors", a.shape, b.shape)
    return einsum("i,j->ij", *_same_dtype(a, b))


ger = outer


def inner(a: Tensor, b: Tensor) -> Tensor:
    """The sum of products over the last dims of a and b (a 0-d operand multiplies): shape a.shape[:-1] +
    b.shape[:-1]. As `torch.inner`."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise shape_error("inner", f"the last dims must match, got {a.shape[-1]} and {b.shape[-1]}", a.shape, b.shape)
    return tensordot(a, b, ([-1], [-1]))


def vdot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (real tensors: no conjugation needed). As `torch.vdot`."""
    return dot(a, b)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """The sum of products over dims of a and b: `dims` an int (a's last `dims` with b's first `dims`) or a
    pair of sequences (a's dims, b's dims) paired in order. The result has a's remaining dims, then b's. As
    `torch.tensordot`."""
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise shape_error("tensordot", f"dims={dims} must be between 0 and the operands' dims", a.shape, b.shape)
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise shape_error("tensordot", f"dims {dims_a} and {dims_b} pair different numbers of dims", a.shape, b.shape)
    dims_a = [d % a.ndim for d in dims_a] if a.ndim else dims_a
    dims_b = [d % b.ndim for d in dims_b] if b.ndim else dims_b
    letters = iter(LETTERS)
    subs_a = [next(letters) for _ in range(a.ndim)]
    subs_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):   # size 1 broadcasts, as torch
            raise shape_error("tensordot", f"contracted dims {da} and {db} differ in size ({a.shape[da]} and "
                              f"{b.shape[db]})", a.shape, b.shape)
        subs_b[db] = subs_a[da]
    output = [s for i, s in enumerate(subs_a) if i not in dims_a] + [s for i, s in enumerate(subs_b) if i not in dims_b]
    return einsum(f"{''.join(subs_a)},{''.join(subs_b)}->{''.join(output)}", *_same_dtype(a, b))


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) of the result is a[i, j, ...] * b (the operands' dims
    padded on the left with size 1 to the same count). As `torch.kron`."""
    ndim = max(a.ndim, b.ndim)
    a_shape, b_shape = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    interleaved_a = tuple(n for size in a_shape for n in (size, 1))
    interleaved_b = tuple(n for size in b_shape for n in (1, size))
    product = a.reshape(interleaved_a) * b.reshape(interleaved_b)
    return product.reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor. As `torch.trace`."""
    if x.ndim != 2:
        raise shape_error("trace", "expects a 2-D tensor (a matrix)", x.shape)
    return diagonal(x).sum()


class Diagonal(Primitive):
    """The diagonal `offset` of the (axis1, axis2) planes as a last dim: a view, as PyTorch's, so writes
    into it reach the input. Its gradient is put back on that diagonal (DiagonalEmbed)."""
    @staticmethod
    def forward(ctx, x, offset, axis1, axis2):
        ctx.input_shape, ctx.plane = x.shape, (offset, axis1, axis2)
        return diagonal_view(x, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, grad):
        return DiagonalEmbed.apply(grad, shape=ctx.input_shape, plane=ctx.plane)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return diagonal_view(array, *ctx.plane)


class DiagonalEmbed(Primitive):
    """Zeros of `shape` with x on the diagonal `plane` = (offset, axis1, axis2): Diagonal's gradient, and
    Diagonal its own."""
    @staticmethod
    def forward(ctx, x, shape, plane):
        ctx.plane = plane
        out = np.zeros(shape, x.dtype)
        diagonal_view(out, *plane)[...] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, *ctx.plane)


def diagonal_view(array, offset, axis1, axis2):
    """The diagonal of `array`'s (axis1, axis2) planes, moved to the last dim, as a view that is writable
    where `array` is (NumPy's np.diagonal gives a read-only one): strides that step both axes at once."""
    start = [slice(None)] * array.ndim
    start[axis2 if offset >= 0 else axis1] = slice(abs(offset), None)
    shifted = array[tuple(start)]
    others = [d for d in range(array.ndim) if d not in (axis1, axis2)]
    shape = tuple(shifted.shape[d] for d in others) + (min(shifted.shape[axis1], shifted.shape[axis2]),)
    strides = tuple(shifted.strides[d] for d in others) + (shifted.strides[axis1] + shifted.strides[axis2],)
    return np.lib.stride_tricks.as_strided(shifted, shape, strides, writeable=shifted.flags.writeable)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, `offset` above the main one (below if negative), as a last
    dim; the other dims keep their order. A view, as PyTorch's; the gradient goes back onto that diagonal.
    As `torch.diagonal`."""
    from .shape import normalize_axes_in_order
    if x.ndim < 2:
        raise shape_error("diagonal", "expects a tensor with at least 2 dims", x.shape)
    axis1, axis2 = normalize_axes_in_order("diagonal", (dim1, dim2), x.ndim)
    return Diagonal.apply(x, int(offset), axis1, axis2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """Of a 1-D tensor, the square matrix with it on diagonal `diagonal` (0 the main one, above if positive,
    below if negative); of a 2-D tensor, that diagonal as 1-D. As `torch.diag`."""
    if x.ndim == 2:
        from .elementwise import clone
        return clone(Diagonal.apply(x, int(diagonal), 0, 1))   # a copy, as torch.diag (diagonal() is the view)
    if x.ndim != 1:
        raise shape_error("diag", "expects a 1-D or 2-D tensor", x.shape)
    size = x.shape[0] + abs(diagonal)
    return DiagonalEmbed.apply(x, shape=(size, size), plane=(int(diagonal), 0, 1))


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with x's last dim on their diagonal `offset`, in the planes (dim1, dim2) of a result with
    one dim more than x (zeros elsewhere): diagonal covariance matrices from variances, say. As
    `torch.diag_embed`."""
    ndim = x.ndim + 1
    axis1, axis2 = dim1 % ndim, dim2 % ndim
    if axis1 == axis2:
        raise ArgumentError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    if axis1 > axis2:   # the transposed plane: the same diagonal, counted from the other side
        axis1, axis2, offset = axis2, axis1, -offset
    size = x.shape[-1] + abs(offset)
    batch = iter(x.shape[:-1])
    shape = tuple(size if d in (axis1, axis2) else next(batch) for d in range(ndim))
    return DiagonalEmbed.apply(x, shape=shape, plane=(int(offset), axis1, axis2))


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with x's elements (flattened) on diagonal `offset`. As `torch.diagflat`."""
    return diag(x.reshape(-1), offset)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-D x: column j is x ** (N - 1 - j), or x ** j if `increasing`; N
    columns (len(x) by default). As `torch.vander`."""
    from .joining import stack
    if x.ndim != 1:
        raise shape_error("vander", "expects a 1-D tensor", x.shape)
    columns = x.shape[0] if N is None else N
    if columns < 0:
        raise ArgumentError(f"vander: N must be non-negative, got {N}")
    powers = range(columns) if increasing else range(columns - 1, -1, -1)
    if columns == 0:
        return constant(np.zeros((x.shape[0], 0), x.dtype if x.dtype.kind != "b" else np.int64))
    x = x.long() if x.dtype.kind == "b" else x
    return stack([x ** p for p in powers], 1)


def cross(x: Tensor, y: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along `dim` (by default the first dim of size 3, as PyTorch, whose
    `torch.linalg.cross` takes the last), with broadcasting. As `torch.cross`."""
    from .indexing import index_select
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise shape_error("cross", "the inputs do not broadcast together", x.shape, y.shape) from None
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise shape_error("cross", "no dim of size 3", x.shape, y.shape)
    if not -len(shape) <= dim < len(shape) or shape[dim] != 3:
        raise shape_error("cross", f"dim {dim} must have size 3", x.shape, y.shape)
    x, y = x.expand(*shape), y.expand(*shape)
    next_, after = constant(np.array([1, 2, 0])), constant(np.array([2, 0, 1]))
    return (index_select(x, dim, next_) * index_select(y, dim, after)
            - index_select(x, dim, after) * index_select(y, dim, next_))


def _same_dtype(a, b):
    """The operands of a product, promoted to one dtype (einsum wants one) by PyTorch's rules."""
    if a.dtype == b.dtype:
        return a, b
    dtype = np.result_type(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


# -- inverse, determinant, solve (gradients through the inverse, as Tensor ops) -----------------------

class SingularMatrixError(ValueError, RuntimeError):
    """A matrix that an op must invert is singular (PyTorch raises torch.linalg.LinAlgError)."""


def _check_square(op, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise shape_error(op, f"A must be batches of square matrices, but they are "
                          f"{' by '.join(map(str, a.shape[-2:]))} matrices", a.shape)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:   # LAPACK has no float16 (nor has torch.linalg)
        raise DTypeError(f"{op}: expected a floating point tensor (float32 or float64) as input, got {a.dtype}")


def _solved(op, solve, *arrays):
    try:
        return solve(*arrays)
    except np.linalg.LinAlgError:
        raise SingularMatrixError(f"{op}: the input matrix is singular (shape {arrays[0].shape}), so it has no "
                                  "inverse") from None


class Inverse(Primitive):
    """inv(A); d inv(A) = -inv(A) dA inv(A), so the gradient is -inv(A)^T grad inv(A)^T (from the output)."""
    @staticmethod
    def forward(ctx, a):
        return ctx.save_output(_solved("linalg.inv", np.linalg.inv, a))

    @staticmethod
    def backward(ctx, grad):
        inverse_t = ctx.output.mT
        return -(inverse_t @ grad @ inverse_t)


class SLogDet(Primitive):
    """(sign, log |det A|); d log|det A| / dA = inv(A)^T. The sign is piecewise constant (no gradient)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        sign, logabsdet = np.linalg.slogdet(a)
        sign = np.asarray(sign)
        ctx.mark_non_differentiable(sign)
        return sign, np.asarray(logabsdet)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.saved_tensors
        return grad_logabsdet[..., None, None] * inverse(a).mT


class Solve(Primitive):
    """X with A X = B (B batches of matrices); grad_B = solve(A^T, grad), grad_A = -grad_B X^T."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        return ctx.save_output(_solved("linalg.solve", np.linalg.solve, a, b))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        grad_b = Solve.apply(a.mT, grad)
        return (-(grad_b @ ctx.output.mT) if ctx.needs_input_grad[0] else None), grad_b


def inverse(a: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch); a singular one raises. As `torch.linalg.inv`
    (alias `torch.inverse`)."""
    _check_square("linalg.inv", a)
    return Inverse.apply(a)


def slogdet(a: Tensor):
    """The named tuple (sign, logabsdet) of the determinant of a square matrix (or batch): det = sign *
    exp(logabsdet), without overflow. The gradient flows through logabsdet. As `torch.linalg.slogdet`."""
    _check_square("linalg.slogdet", a)
    return SLogDetResult(*SLogDet.apply(a))


def det(a: Tensor) -> Tensor:
    """The determinant of a square matrix (or batch). Its gradient, det(A) inv(A)^T, needs A invertible.
    As `torch.linalg.det` (alias `torch.det`)."""
    sign, logabsdet = slogdet(a)
    return sign * logabsdet.exp()


def logdet(a: Tensor) -> Tensor:
    """log det(A): NaN where the determinant is negative, -inf where it is 0. As `torch.logdet`."""
    sign, logabsdet = slogdet(a)
    return logabsdet + constant(np.where(sign._data < 0, np.nan, np.where(sign._data == 0, -np.inf, 0.0))
                                .astype(logabsdet.dtype))


def solve(a: Tensor, b: Tensor) -> Tensor:
    """X with A X = B, for a square A (or batch) and B a matrix (or batch) or a vector (B.ndim == 1, or
    one dim fewer than A with matching batch dims), broadcasting batch dims. As `torch.linalg.solve`."""
    return solve_system(a, b, b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape[:-1] == a.shape[:-2]))


def solve_system(a: Tensor, b: Tensor, b_is_vector: bool) -> Tensor:
    """`solve` with the caller's rule for when B is a vector (PyTorch's in `solve`; NumPy 2's, only a 1-D B,
    for np.linalg.solve on tensors)."""
    _check_square("linalg.solve", a)
    a, b = _same_dtype(a, b)
    vector = b_is_vector
    matrix = b.unsqueeze(-1) if vector else b
    if matrix.shape[-2] != a.shape[-1]:
        raise shape_error("linalg.solve", "A and B have incompatible sizes", a.shape, b.shape)
    batch = np.broadcast_shapes(a.shape[:-2], matrix.shape[:-2])
    a = a.expand(*batch, *a.shape[-2:])
    matrix = matrix.expand(*batch, *matrix.shape[-2:])
    out = Solve.apply(a, matrix)
    return out.squeeze(-1) if vector else out


SLogDetResult = namedtuple("slogdet", ["sign", "logabsdet"])


# -- scaled sums of products: addmm, addmv, addbmm, baddbmm ----------------------------------------

def _beta_input_plus_alpha_product(op, input, product, beta, alpha):
    """beta * input + alpha * product, torch's addmm family. `input` must broadcast to the product's
    shape (the result has that shape); with beta == 0 it is ignored, NaN and Inf in it too, as in torch."""
    input = input if isinstance(input, Tensor) else constant(np.asarray(input, product.dtype))
    try:
        fits = np.broadcast_shapes(input.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise shape_error(op, f"input of shape {input.shape} does not broadcast to the product's shape "
                              f"{product.shape}", input.shape, product.shape)
    if input.dtype != product.dtype:
        raise DTypeError(f"{op}: input is {input.dtype} but the product is {product.dtype}; the dtypes must match")
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        if not input.requires_grad:
            return scaled
        from .arithmetic import where   # input's gradient is 0, as torch's; its values are never read
        return scaled + where(constant(np.zeros(input.shape, np.bool_)), input, 0.0)
    return (input if beta == 1 else input * beta) + scaled


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) for matrices (n, m) and (m, p); input broadcasts to (n, p).
    As `torch.addmm`."""
    return _beta_input_plus_alpha_product("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec) for a matrix (n, m) and a vector (m,). As `torch.addmv`."""
    return _beta_input_plus_alpha_product("addmv", input, mv(mat, vec), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b(batch1[b] @ batch2[b]), the batch of products summed to one (n, p)
    matrix. As `torch.addbmm`."""
    return _beta_input_plus_alpha_product("addbmm", input, bmm(batch1, batch2).sum(0), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) for batches (b, n, m) and (b, m, p). As `torch.baddbmm`."""
    return _beta_input_plus_alpha_product("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices, left to right. As `torch.chain_matmul` (which torch deprecates for
    `torch.linalg.multi_dot`)."""
    if not matrices:
        raise ArgumentError("chain_matmul: expects one or more matrices")
    for i, m in enumerate(matrices):
        if m.ndim != 2:
            raise shape_error("chain_matmul", f"expects 2-D matrices, matrix {i} is {m.ndim}-D", m.shape)
    product = matrices[0]
    for m in matrices[1:]:
        product = mm(product, m)
    return product


# -- distances: cdist, pdist, dist ----------------------------------------------------------------

def _p_norm_of_differences(op, differences, p):
    """The p-norm over the last dim, as torch's distances: p = 0 counts the differing coordinates (no
    gradient, as torch); the gradient of the 2-norm is 0 where two points coincide."""
    from .reduction import norm
    if not isinstance(p, (int, float)) or isinstance(p, bool) or p < 0 or math.isnan(p):
        raise ArgumentError(f"{op}: only supports non-negative p values, got {p!r}")
    if p == 0:
        return constant((differences._data != 0).sum(-1).astype(differences.dtype))
    return norm(differences, p, -1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distances between each row of x1 (.., P, M) and each row of x2 (.., R, M): a (.., P, R)
    tensor, batch dims broadcast. As `torch.cdist` (computed directly, never through matmul, so
    `compute_mode` changes nothing)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise shape_error("cdist", "expects tensors of at least 2 dims (rows of points)", x1.shape, x2.shape)
    if x1.shape[-1] != x2.shape[-1]:
        raise shape_error("cdist", f"x1 and x2 must have the same number of columns, got {x1.shape[-1]} "
                                   f"and {x2.shape[-1]}", x1.shape, x2.shape)
    return _p_norm_of_differences("cdist", x1.unsqueeze(-2) - x2.unsqueeze(-3), p)


def pdist(x: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between each pair of rows i < j of x (N, M), in the order of the upper
    triangle: N (N - 1) / 2 values. As `torch.pdist`."""
    if x.ndim != 2:
        raise shape_error("pdist", "expects a 2-D tensor of rows", x.shape)
    first, second = np.triu_indices(x.shape[0], 1)
    return _p_norm_of_differences("pdist", x[first] - x[second], p)


def dist(x: Tensor, other: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm of x - other (broadcast), over all elements. As `torch.dist`."""
    return _p_norm_of_differences("dist", (x - other).reshape(-1), p)
