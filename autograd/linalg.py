"""`autograd.linalg`: the names PyTorch keeps under `torch.linalg` (NumPy's `numpy.linalg`), so that
`torch.linalg.norm(...)`, `torch.linalg.inv(...)` run after `torch` -> `autograd`. The primitives live
in ops/linalg.py and ops/decompositions.py; here are the norms, built from reductions, and the functions with torch.linalg's
argument names. Everything is differentiable twice except where a docstring says otherwise."""
import math

import numpy as np

from . import ops
from .errors import ArgumentError
from .ops.linalg import SingularMatrixError as LinAlgError  # noqa: F401  (torch.linalg.LinAlgError)
from .ops.linalg import det, inverse as inv, slogdet, solve  # noqa: F401
from .ops.linalg import matmul  # noqa: F401
from .ops.decompositions import (eigh, linalg_cholesky as cholesky, linalg_qr as qr, linalg_svd as svd,  # noqa: F401
                                 lstsq, matrix_rank, pinv, solve_triangular)
from .tensor import Tensor


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector `ord`-norm of x over `dim` (all elements if None): (sum |x|**ord)**(1/ord), inf the largest
    |x|, -inf the smallest, 0 the count of nonzeros (no gradient, as PyTorch's is zero). As
    `torch.linalg.vector_norm`."""
    if dtype is not None:
        x = x.to(dtype)
    return ops.norm(x, ord, dim, keepdim)


def matrix_norm(a: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm of the (dim[0], dim[1]) planes: 'fro' (Frobenius), 1 / -1 (largest / smallest column
    sum of |a|), inf / -inf (largest / smallest row sum), 'nuc' (sum of the singular values), 2 / -2 (the
    largest / smallest singular value). As `torch.linalg.matrix_norm`."""
    if dtype is not None:
        a = a.to(dtype)
    if a.ndim < 2:
        raise ArgumentError(f"linalg.matrix_norm: needs at least 2 dims, got shape {a.shape}")
    rows, cols = (d % a.ndim for d in dim)
    if ord == "fro":
        return vector_norm(a, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, extreme = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = ops.abs(a).sum(summed, keepdim=True)
        out = sums.amax(extreme, keepdim=True) if ord > 0 else sums.amin(extreme, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    if ord in ("nuc", 2, -2):
        planes = ops.movedim(a, (rows, cols), (-2, -1))
        singular = svdvals(planes)
        out = singular.sum(-1) if ord == "nuc" else singular.amax(-1) if ord == 2 else singular.amin(-1)
        return out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)) if keepdim else out
    raise ArgumentError(f"linalg.matrix_norm: ord={ord!r} is not a matrix norm; ord may be 'fro', 'nuc', 1, -1, 2, "
                        "-2, inf or -inf")


def norm(a: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector norm (an int `dim`, or a 1-D input) or a matrix norm (a pair of dims, or a 2-D input); with
    neither `ord` nor `dim`, the 2-norm of all elements. As `torch.linalg.norm`."""
    if isinstance(dim, (int, np.integer)) or (dim is not None and len(dim) == 1):
        return vector_norm(a, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(a, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 1:
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    raise ArgumentError(f"linalg.norm: with ord={ord!r} and no dim, the input must be 1-D or 2-D, got shape {a.shape}")


def cross(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim` (the last by default). As `torch.linalg.cross`."""
    return ops.cross(x, y, dim)


def diagonal(a: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of the last two dims (by default), a view. As `torch.linalg.diagonal`."""
    return ops.diagonal(a, offset, dim1, dim2)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot products of the vectors along `dim`, broadcasting the other dims. As `torch.linalg.vecdot`."""
    return (x * y).sum(dim)


def matrix_power(a: Tensor, n: int) -> Tensor:
    """A square matrix (or batch) to the integer power n: the identity for 0, the inverse's power for n < 0,
    by repeated squaring. As `torch.linalg.matrix_power`."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ArgumentError(f"linalg.matrix_power: needs square matrices, got shape {a.shape}")
    if n == 0:
        return _identity_like(a)
    base, result = (inv(a) if n < 0 else a), None
    n = abs(int(n))
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def _identity_like(a):
    from .ops.elementwise import constant
    return constant(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy())


def eigvalsh(a: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix (or batch). As `torch.linalg.eigvalsh`."""
    return eigh(a, UPLO).eigenvalues


def svdvals(a: Tensor) -> Tensor:
    """The singular values (descending) of a matrix (or batch). As `torch.linalg.svdvals`."""
    return svd(a, full_matrices=False).S


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first may be a row vector, the last a column vector). As
    `torch.linalg.multi_dot`."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ArgumentError(f"linalg.multi_dot: expects at least two tensors, got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out
