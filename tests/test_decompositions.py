"""Matrix factorisations (autograd/ops/decompositions.py) against torch.linalg: values and gradients
of cholesky, solve_triangular, eigh/eigvalsh, qr, svd/svdvals, pinv, lstsq, matrix_rank and the older
torch.svd/qr/cholesky/pinverse; gradcheck and gradgradcheck in float64. Eigenvectors and singular
vectors are unique only up to sign (and LAPACK builds differ in the sign they pick), so those cases
are compared through sign-free functions of them (|V|, reconstructions, projections)."""
import numpy as np
import pytest

import autograd as ag
from torch_cases import torch_case_tests

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def spd(n, batch=()):
    """A symmetric positive-definite matrix (or batch)."""
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def gaussian(*shape):
    return rng.standard_normal(shape)


CASES = {
    # the derivative of a factorisation of a symmetric matrix is taken along symmetric changes, as in torch:
    # the input is made symmetric by the expression (NumPy and torch read one triangle)
    "cholesky": (lambda lib, a: lib.linalg.cholesky(a @ a.mT + 4 * lib.eye(4, dtype=a.dtype)), [gaussian(4, 4)]),
    "cholesky_upper_batched": (lambda lib, a: lib.linalg.cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype),
                                                                  upper=True), [gaussian(2, 3, 3)]),
    "solve_triangular_lower": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False),
                               [np.tril(gaussian(4, 4)) + 4 * np.eye(4), gaussian(4, 2)]),
    "solve_triangular_upper_right_unit": (
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True, left=False, unitriangular=True),
        [gaussian(3, 3), gaussian(2, 3)]),
    "eigvalsh": (lambda lib, a: lib.linalg.eigvalsh(a + a.mT), [gaussian(4, 4)]),
    "eigh_sign_free": (lambda lib, a: lib.linalg.eigh(a + a.mT).eigenvectors.abs() * 2
                       + lib.linalg.eigh(a + a.mT).eigenvalues, [gaussian(4, 4)]),
    "eigh_upper_projections": (lambda lib, a: (lambda w, v: (v[..., :2] @ v[..., :2].mT) * 3 + w.sum())(
        *lib.linalg.eigh(a + a.mT, UPLO="U")), [gaussian(2, 4, 4)]),
    "qr_tall": (lambda lib, a: lib.linalg.qr(a), [gaussian(5, 3)]),
    "qr_square_batched": (lambda lib, a: lib.linalg.qr(a), [gaussian(2, 4, 4)]),
    "svd_tall_sign_free": (lambda lib, a: (lambda u, s, vh: u.abs().sum(-1) + s.sum() + vh.abs().sum(0)[:1])(
        *lib.linalg.svd(a, full_matrices=False)), [gaussian(5, 3)]),
    "svd_wide_reconstruction": (lambda lib, a: (lambda u, s, vh: (u * s) @ vh + (u * s.sqrt()).abs().sum())(
        *lib.linalg.svd(a, full_matrices=False)), [gaussian(3, 5)]),
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a), [gaussian(2, 5, 3)]),
    "pinv_tall": (lambda lib, a: lib.linalg.pinv(a), [gaussian(5, 3)]),
    "pinv_wide": (lambda lib, a: lib.linalg.pinv(a), [gaussian(3, 5)]),
    "lstsq": (lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [gaussian(6, 3), gaussian(6, 2)]),
    "old_svd_qr_cholesky_pinverse": (
        lambda lib, a: lib.svd(a).S.sum() + lib.qr(a).R.sum() + lib.cholesky(a.mT @ a).sum() + lib.pinverse(a).sum(),
        [gaussian(4, 3)]),
}

(test_values_dtypes_and_shapes_match_torch_in_float32, test_gradients_pass_gradcheck_and_gradgradcheck,
 test_gradients_match_torch) = torch_case_tests(CASES, rng)


def test_matrix_rank_counts_singular_values_above_torchs_threshold():
    for a in (np.outer(np.arange(3.0), np.arange(1.0, 4.0)), gaussian(4, 4), np.zeros((2, 3)), gaussian(2, 3, 5)):
        ours = ag.linalg.matrix_rank(ag.tensor(a))
        theirs = torch.linalg.matrix_rank(torch.tensor(a))
        assert ours.dtype == np.int64 and np.array_equal(ours.numpy(), theirs.numpy())
    assert ag.linalg.matrix_rank(ag.tensor(np.diag([1.0, 1e-3, 1e-9])), atol=1e-6).item() == 2


def test_errors_name_the_op_as_torch():
    with pytest.raises(ag.linalg.LinAlgError, match="linalg.cholesky.*not positive-definite"):
        ag.linalg.cholesky(ag.tensor(-spd(3)))
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        ag.linalg.qr(ag.tensor(gaussian(4, 2), requires_grad=True), mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        ag.linalg.qr(ag.tensor(gaussian(4, 2), requires_grad=True), mode="r").R.sum().backward()
    with pytest.raises(ValueError, match="unrecognized mode 'full'"):
        ag.linalg.qr(ag.tensor(gaussian(4, 2)), mode="full")
    with pytest.raises(ag.ShapeError, match="square"):
        ag.linalg.eigh(ag.tensor(gaussian(3, 2)))
