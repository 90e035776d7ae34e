"""Matrix factorisations: Cholesky, triangular solves, the symmetric eigendecomposition, QR, the SVD
and the pseudo-inverse, on NumPy's LAPACK, batched over leading dims.

Each backward is written with Tensor ops (so it can be differentiated again), as PyTorch's
FunctionsManual.cpp derives them, for real matrices:

- cholesky, A = L L^T:  gA = L^-T Phi L^-1 with Phi = 1/2 (P + tril(P, -1)^T), P = tril(L^T gL)
- eigh, A = V diag(w) V^T:  gA = V (skew(V^T gV) / E + diag(gw)) V^T, E_ij = w_j - w_i
- qr (m >= n), A = Q R:  gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q
- svd, A = U diag(s) Vh:  gA = U ((skew(U^T gU) s + s skew(V^T gV)) / E + diag(gs)) Vh + the parts
  of gU and gV outside the spans of U and V, E_ij = s_j^2 - s_i^2
- pinv:  gA = -P^T gP P^T + (I - A P) gP^T P P^T + P^T P gP^T (I - P A)

The eigenvector and singular-vector gradients divide by gaps between eigenvalues (singular values):
as in PyTorch they are infinite where two coincide.
"""
from collections import namedtuple

import numpy as np

from ..errors import DTypeError, shape_error
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant
from .linalg import SingularMatrixError, _check_square, solve

EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("qr", ["Q", "R"])
SVDResult = namedtuple("svd", ["U", "S", "Vh"])
OldSVDResult = namedtuple("svd", ["U", "S", "V"])


def _check_matrices(op, a):
    if a.ndim < 2:
        raise shape_error(op, "the input must have at least 2 dimensions", a.shape)
    if a.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating point tensor as input, got {a.dtype}")


def _eye(n, like):
    return constant(np.eye(n, dtype=like.dtype))


def _skew(x):
    return x - x.mT


def _without_diagonal(x):
    """x with its diagonal (of the last two dims) set to 0."""
    return x * constant(1 - np.eye(x.shape[-1], dtype=x.dtype))


def _set_diagonal(x, values):
    """x with the diagonal of its last two dims replaced by `values`."""
    return _without_diagonal(x) + values.unsqueeze(-1) * constant(np.eye(x.shape[-1], dtype=x.dtype))


def solve_triangular(a: Tensor, b: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """X with A X = B (left) or X A = B (not left), reading only A's upper or lower triangle (and taking
    its diagonal as ones if unitriangular). Built on solve, with the unread part of A masked out, so
    the gradient reaches only the triangle read. As `torch.linalg.solve_triangular`."""
    _check_square("linalg.solve_triangular", a)
    triangle = a.triu(1 if unitriangular else 0) if upper else a.tril(-1 if unitriangular else 0)
    if unitriangular:
        triangle = triangle + _eye(a.shape[-1], a)
    if left:
        return solve(triangle, b)
    return solve(triangle.mT, b.mT).mT


class Cholesky(Primitive):
    """The lower Cholesky factor L of a symmetric positive-definite A (backward: module docstring)."""
    @staticmethod
    def forward(ctx, a):
        try:
            return ctx.save_output(np.linalg.cholesky(a))
        except np.linalg.LinAlgError:
            raise SingularMatrixError(
                f"linalg.cholesky: The factorization could not be completed because the input (shape {a.shape}) "
                "is not positive-definite") from None

    @staticmethod
    def backward(ctx, grad):
        lower = ctx.output
        phi = (lower.mT @ grad).tril()
        phi = 0.5 * (phi + phi.tril(-1).mT)
        phi = solve_triangular(lower.mT, phi, upper=True)
        return solve_triangular(lower, phi, upper=False, left=False)


def linalg_cholesky(a: Tensor, *, upper: bool = False) -> Tensor:
    """L with A = L L^T for a symmetric positive-definite A (or batch), lower triangular (U = L^T with
    upper=True); only A's lower triangle is read. Not positive-definite: a LinAlgError. As
    `torch.linalg.cholesky`."""
    _check_square("linalg.cholesky", a)
    lower = Cholesky.apply(a)   # NumPy reads the lower triangle; the gradient is symmetric, as torch's
    return lower.mT if upper else lower


class Eigh(Primitive):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix (backward: module
    docstring)."""
    n_outputs = 2

    @staticmethod
    def forward(ctx, a, uplo):
        ctx.save_for_backward(a)
        ctx.uplo = uplo
        return tuple(np.linalg.eigh(a, UPLO=uplo))

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        # the outputs again, as this op's outputs (recorded under create_graph): twice differentiable
        (a,) = ctx.saved_tensors
        values, vectors = Eigh.apply(a, ctx.uplo)
        if grad_values is None:
            grad_values = values * 0
        if grad_vectors is None:   # eigenvalues only (eigvalsh): V diag(gw) V^T
            return (vectors * grad_values.unsqueeze(-2)) @ vectors.mT
        gaps = values.unsqueeze(-2) - values.unsqueeze(-1)
        gaps = gaps + constant(np.eye(gaps.shape[-1], dtype=gaps.dtype))   # no division on the diagonal
        inner = 0.5 * _skew(vectors.mT @ grad_vectors) / gaps
        inner = _set_diagonal(inner, grad_values)
        return vectors @ inner @ vectors.mT


def eigh(a: Tensor, UPLO: str = "L"):
    """The named tuple (eigenvalues, eigenvectors) of a symmetric matrix (or batch), reading its lower
    ('L') or upper ('U') triangle: eigenvalues ascending, eigenvectors the columns. As `torch.linalg.eigh`."""
    _check_square("linalg.eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*Eigh.apply(a, UPLO))


class QR(Primitive):
    """A = Q R by Householder reflections (LAPACK's geqrf, as PyTorch's); backward for m >= n (module
    docstring)."""
    n_outputs = 2

    @staticmethod
    def forward(ctx, a, mode):
        ctx.save_for_backward(a)
        ctx.mode = mode
        return tuple(np.linalg.qr(a, mode="reduced" if mode == "r" else mode))

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        (a,) = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and a.shape[-2] > a.shape[-1]:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if a.shape[-2] < a.shape[-1]:
            raise NotImplementedError("linalg.qr: the derivative of the QR decomposition of a wide matrix (fewer "
                                      "rows than columns) is not implemented")
        q, r = QR.apply(a, ctx.mode)
        grad_q = q * 0 if grad_q is None else grad_q
        grad_r = r * 0 if grad_r is None else grad_r
        k = a.shape[-1]
        q, r, grad_q, grad_r = q[..., :k], r[..., :k, :], grad_q[..., :k], grad_r[..., :k, :]
        m = r @ grad_r.mT - grad_q.mT @ q
        copyltu = m.tril(-1) + m.tril(-1).mT + _set_diagonal(m * 0, m.diagonal(0, -2, -1))   # sym. from tril
        return solve_triangular(r.mT, grad_q + q @ copyltu, upper=False, left=False)   # (gQ + Q copyltu) R^-T


def linalg_qr(a: Tensor, mode: str = "reduced"):
    """The named tuple (Q, R) with A = Q R, Q with orthonormal columns and R upper triangular: 'reduced'
    (Q m x k, R k x n, k = min(m, n)), 'complete' (Q m x m) or 'r' (R only, Q empty). As `torch.linalg.qr`."""
    _check_matrices("linalg.qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                         "or 'complete'")
    q, r = QR.apply(a, mode)
    if mode == "r":
        return QRResult(constant(np.zeros((0,), a.dtype)), r)
    return QRResult(q, r)


class SVD(Primitive):
    """A = U diag(S) Vh (backward: module docstring; with full_matrices, the extra columns of U or rows of
    Vh, which are not unique, get no gradient, as in PyTorch)."""
    n_outputs = 3

    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.save_for_backward(a)
        ctx.full_matrices = full_matrices
        return tuple(np.linalg.svd(a, full_matrices=full_matrices))

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        (a,) = ctx.saved_tensors
        u, s, vh = SVD.apply(a, ctx.full_matrices)
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        if grad_s is None:
            grad_s = s * 0
        if grad_u is None and grad_vh is None:   # singular values only (svdvals): U diag(gs) Vh
            return (u * grad_s.unsqueeze(-2)) @ vh
        grad_u = u * 0 if grad_u is None else grad_u[..., :k]
        grad_vh = vh * 0 if grad_vh is None else grad_vh[..., :k, :]
        m, n = u.shape[-2], vh.shape[-1]
        v, grad_v = vh.mT, grad_vh.mT
        squares = s * s
        gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1)
        gaps = gaps + constant(np.eye(k, dtype=gaps.dtype))
        inner = (_skew(u.mT @ grad_u) * s.unsqueeze(-2) + s.unsqueeze(-1) * _skew(v.mT @ grad_v)) / gaps
        inner = _set_diagonal(inner, grad_s)
        if m > n:
            scaled = grad_u / s.unsqueeze(-2)
            return (u @ inner + scaled - u @ (u.mT @ scaled)) @ vh
        if m < n:
            scaled = grad_vh / s.unsqueeze(-1)
            return u @ (inner @ vh + scaled - (scaled @ v) @ vh)
        return u @ inner @ vh


def linalg_svd(a: Tensor, full_matrices: bool = True):
    """The named tuple (U, S, Vh) with A = U diag(S) Vh, singular values descending; full_matrices gives
    square U and Vh. As `torch.linalg.svd`."""
    _check_matrices("linalg.svd", a)
    return SVDResult(*SVD.apply(a, bool(full_matrices)))


def cholesky(a: Tensor, upper: bool = False) -> Tensor:
    """PyTorch's older name for linalg.cholesky (upper may be given by position). As `torch.cholesky`."""
    return linalg_cholesky(a, upper=upper)


def qr(a: Tensor, some: bool = True):
    """PyTorch's older QR: reduced unless some=False. As `torch.qr`."""
    return linalg_qr(a, "reduced" if some else "complete")


def svd(a: Tensor, some: bool = True, compute_uv: bool = True):
    """PyTorch's older SVD: the named tuple (U, S, V) with A = U diag(S) V^T (V, not Vh), reduced unless
    some=False; compute_uv=False gives zero U and V. As `torch.svd`."""
    u, s, vh = linalg_svd(a, full_matrices=not some)
    if not compute_uv:
        return OldSVDResult(u.detach() * 0, s, vh.mT.detach() * 0)
    return OldSVDResult(u, s, vh.mT)


def _pinv_cutoff(s, atol, rtol, shape):
    """PyTorch's threshold below which singular values count as zero: max(atol, rtol * s_max), rtol by
    default max(m, n) * eps when neither tolerance is given."""
    if rtol is None:
        rtol = max(shape[-2:]) * np.finfo(s.dtype).eps if atol is None or atol == 0 else 0.0
    largest = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    return np.maximum(0.0 if atol is None else atol, rtol * largest)


class PseudoInverse(Primitive):
    """The Moore-Penrose pseudo-inverse (backward: module docstring)."""
    @staticmethod
    def forward(ctx, a, atol, rtol):
        ctx.save_for_backward(a)
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        cutoff = _pinv_cutoff(s, atol, rtol, a.shape)
        inverse_s = np.where(s > cutoff, 1 / np.where(s > cutoff, s, 1), 0).astype(a.dtype)
        return ctx.save_output(np.swapaxes(vh, -1, -2) @ (inverse_s[..., None] * np.swapaxes(u, -1, -2)))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.output
        m, n = a.shape[-2], a.shape[-1]
        left = _eye(m, a) - a @ p
        right = _eye(n, a) - p @ a
        return -(p.mT @ grad @ p.mT) + left @ grad.mT @ p @ p.mT + p.mT @ p @ grad.mT @ right


def pinv(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse of a matrix (or batch), singular values at most max(atol, rtol * largest) taken as
    zero. As `torch.linalg.pinv` (and `torch.pinverse`)."""
    _check_matrices("linalg.pinv", a)
    return PseudoInverse.apply(a, atol, rtol)


def pinverse(a: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, singular values below rcond times the largest taken as zero. As `torch.pinverse`."""
    return pinv(a, rtol=rcond)


def matrix_rank(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (rtol by default max(m, n) * eps), as
    an int64 tensor (no gradient). As `torch.linalg.matrix_rank`."""
    _check_matrices("linalg.matrix_rank", a)
    s = np.linalg.svd(a._data, compute_uv=False)
    cutoff = _pinv_cutoff(s, atol, rtol, a.shape)
    return Tensor._make(np.asarray((s > cutoff).sum(-1), dtype=np.int64), False, None)


LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(a: Tensor, b: Tensor, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (minimum norm when A is rank-deficient), as the named
    tuple (solution, residuals, rank, singular_values) of PyTorch's default CPU driver 'gelsy' (empty
    residuals and singular values). Differentiable through the pseudo-inverse. As `torch.linalg.lstsq`."""
    _check_matrices("linalg.lstsq", a)
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise ValueError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                         f"got {driver!r}")
    vector = b.ndim == a.ndim - 1
    matrix = b.unsqueeze(-1) if vector else b
    if matrix.shape[-2] != a.shape[-2]:
        raise shape_error("linalg.lstsq", "A and B must have the same number of rows", a.shape, b.shape)
    solution = pinv(a, rtol=rcond) @ matrix
    empty = constant(np.zeros((0,), a.dtype))
    return LstsqResult(solution.squeeze(-1) if vector else solution, empty, matrix_rank(a, rtol=rcond), empty)
