"""matmul_array: np.matmul's results for every layout, whether a product runs on NumPy's OpenBLAS or
on ndgrad's private copy with the Haswell kernels (loaded on AMD CPUs with AVX-512)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from threadpoolctl import threadpool_info

import autograd as ag
import nn.functional as F
from autograd.ops import gemm

needs_private_copy = pytest.mark.skipif(gemm._sgemm is None, reason="no private OpenBLAS copy on this machine")
BIG = 64


# Every test here runs with every float32 product sent to the private copy (see conftest.py).
pytestmark = pytest.mark.usefixtures("every_float32_product_on_the_private_copy")


def _private_pool():
    return next(pool for pool in threadpool_info() if pool["filepath"].endswith(
        os.path.join("scipy_openblas32", "lib", os.path.basename(pool["filepath"]))))


def _layouts(matrix):
    """The same values as a C-ordered array, a Fortran-ordered one, and column and row slices of
    wider and taller arrays (rows further apart than their length)."""
    rows, cols = matrix.shape
    wide = np.full((rows, cols + 5), np.nan, matrix.dtype)
    wide[:, 2:2 + cols] = matrix
    tall_t = np.full((cols + 3, rows), np.nan, matrix.dtype)
    tall_t[1:1 + cols] = matrix.T
    return {"C": matrix, "F": np.asfortranarray(matrix), "column slice": wide[:, 2:2 + cols],
            "transposed slice": tall_t[1:1 + cols].T}


def _reference(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


def test_the_private_copy_is_loaded_where_openblas_picks_the_wrong_kernels():
    """On an AMD CPU with AVX-512, NumPy's OpenBLAS runs its Intel AVX-512 kernels; ndgrad loads its own
    copy with the Haswell ones whenever scipy-openblas32 is installed and the user chose no core type."""
    expected = (sys.platform.startswith("linux") and "OPENBLAS_CORETYPE" not in os.environ
                and gemm._numpy_uses_openblas() and gemm._cpu_prefers_haswell_kernels()
                and gemm.importlib.util.find_spec("scipy_openblas32") is not None)
    assert (gemm._sgemm is not None) == expected


@needs_private_copy
def test_the_private_copy_runs_the_haswell_kernels_and_leaves_numpys_alone():
    pools = [pool for pool in threadpool_info() if pool["internal_api"] == "openblas"]
    private = _private_pool()
    assert private["architecture"] == "Haswell"
    numpy_pool = next(pool for pool in pools if "numpy" in pool["filepath"])
    assert numpy_pool["architecture"] != "Haswell"   # NumPy's own copy keeps its kernels


@needs_private_copy
def test_set_num_threads_sets_the_private_copys_threads_too():
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        assert _private_pool()["num_threads"] == 1
        ag.set_num_threads(2)
        assert _private_pool()["num_threads"] == 2
    finally:
        ag.set_num_threads(before)


@pytest.mark.parametrize("shape", [(BIG, BIG, BIG), (32, 288, 200), (300, 27, 130), (1, 2000, 600), (700, 1500, 1),
                                   (5, 7, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_for_every_layout_of_both_operands(shape, dtype):
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    expected = _reference(a, b)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for name_a, left in _layouts(a).items():
        for name_b, right in _layouts(b).items():
            product = gemm.matmul_array(left, right)
            assert product.dtype == np.matmul(left, right).dtype and product.shape == (m, n)
            np.testing.assert_allclose(product, expected, rtol=tolerance, atol=tolerance * np.sqrt(k),
                                       err_msg=f"a {name_a}, b {name_b}")


@needs_private_copy
def test_products_reach_the_private_copy_from_its_threshold_up(every_float32_product_on_the_private_copy, monkeypatch):
    calls = every_float32_product_on_the_private_copy
    monkeypatch.setattr(gemm, "_MIN_MULTIPLY_ADDS", 30 * 40 * 50)
    a, b = np.ones((30, 40), np.float32), np.ones((40, 50), np.float32)
    assert (gemm.matmul_array(a, b) == 40).all() and calls == [(30, 50, 40)]
    assert (gemm.matmul_array(a[:, :39], b[:39]) == 39).all() and len(calls) == 1     # below: NumPy's
    assert (gemm.matmul_array(a.astype(np.float64), b) == 40).all() and len(calls) == 1   # float64: NumPy's
    ones = np.ones((256, 256), np.float32)
    assert (gemm.matmul_array(ones, ones) == 256).all() and len(calls) == 2
    assert (gemm.matmul_array(ones[:, ::2], ones[::2]) == 128).all() and len(calls) == 2   # strided columns: NumPy's
    ag.set_num_threads(2)   # two spinning thread pools would fight: NumPy's alone runs at 2 threads
    assert (gemm.matmul_array(ones, ones) == 256).all() and len(calls) == 2
    ag.set_num_threads(1)
    assert (gemm.matmul_array(ones, ones) == 256).all() and len(calls) == 3


@pytest.mark.parametrize("layout", ["C", "column slice"])
def test_writes_into_out_and_nowhere_else(layout):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((BIG, 80)).astype(np.float32), rng.standard_normal((80, 90)).astype(np.float32)
    base = np.full((BIG, 100), np.nan, np.float32)   # stale NaNs: the product must not read them
    out = base[:, :90] if layout == "column slice" else np.full((BIG, 90), np.nan, np.float32)
    result = gemm.matmul_array(a, b, out=out)
    assert result is out
    np.testing.assert_allclose(out, _reference(a, b), rtol=1e-5, atol=1e-4)
    if layout == "column slice":
        assert np.isnan(base[:, 90:]).all()


def test_an_out_that_overlaps_an_operand_gives_numpys_result():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((BIG + 10, BIG + 10)).astype(np.float32)
    b = rng.standard_normal((BIG + 10, BIG + 10)).astype(np.float32)
    expected = np.matmul(a, b)
    gemm.matmul_array(a, b, out=a)
    np.testing.assert_allclose(a, expected, rtol=1e-5, atol=1e-4)


def test_non_finite_values_spread_as_in_numpy():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((BIG, BIG)).astype(np.float32), rng.standard_normal((BIG, BIG)).astype(np.float32)
    a[3, 5], a[7, 9], b[11, 13] = np.nan, np.inf, -np.inf
    ours, numpys = gemm.matmul_array(a, b), np.matmul(a, b)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(numpys))
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(numpys))
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(numpys))


@pytest.mark.parametrize("a_shape, b_shape", [((3, BIG, BIG), (BIG, BIG)), ((BIG, BIG), (2, BIG, BIG)), ((BIG,), (BIG, BIG)),
                                              ((BIG, BIG), (BIG,)), ((0, BIG), (BIG, BIG))])
def test_other_shapes_are_numpys_matmul(a_shape, b_shape):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape).astype(np.float32)
    np.testing.assert_allclose(gemm.matmul_array(a, b), np.matmul(a, b), rtol=1e-5, atol=1e-4)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 300), k=st.integers(1, 300), n=st.integers(1, 300),
       transpose_a=st.booleans(), transpose_b=st.booleans(), mixed=st.booleans())
def test_any_float32_product_matches_float64(m, k, n, transpose_a, transpose_b, mixed):
    rng = np.random.default_rng(m * 90001 + k * 301 + n)
    a = rng.standard_normal((k, m) if transpose_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if transpose_b else (k, n)).astype(np.float64 if mixed else np.float32)
    left, right = (a.T if transpose_a else a), (b.T if transpose_b else b)
    product = gemm.matmul_array(left, right)
    assert product.dtype == np.matmul(left, right).dtype
    np.testing.assert_allclose(product, _reference(left, right), rtol=1e-4, atol=1e-4 * np.sqrt(k))


@pytest.mark.slow
def test_a_core_type_chosen_by_the_user_is_left_to_numpys_copy():
    code = "from autograd.ops import gemm; print(gemm._sgemm is None)"
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@needs_private_copy
def test_a_convolution_and_a_linear_layer_on_the_private_copy_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 32, 16, 16)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32) * 0.1
    ours_x, ours_w = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    theirs_x, theirs_w = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = F.conv2d(ours_x, ours_w, padding=1)
    theirs = torch.nn.functional.conv2d(theirs_x, theirs_w, padding=1)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=1e-4, atol=1e-3)

    rows, weight = rng.standard_normal((256, 300)).astype(np.float32), rng.standard_normal((200, 300)).astype(np.float32)
    ours_rows, ours_weight = ag.tensor(rows, requires_grad=True), ag.tensor(weight, requires_grad=True)
    theirs_rows, theirs_weight = torch.tensor(rows, requires_grad=True), torch.tensor(weight, requires_grad=True)
    F.linear(ours_rows, ours_weight).square().sum().backward()
    torch.nn.functional.linear(theirs_rows, theirs_weight).square().sum().backward()
    np.testing.assert_allclose(ours_rows.grad.numpy(), theirs_rows.grad.numpy(), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(ours_weight.grad.numpy(), theirs_weight.grad.numpy(), rtol=1e-4, atol=1e-2)


@needs_private_copy
@pytest.mark.slow
def test_the_private_copy_starts_with_numpys_thread_count():
    code = ("import numpy, threadpoolctl; threadpoolctl.threadpool_limits(1); from autograd.ops import gemm; "
            "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() if 'numpy' in p['filepath'] "
            "or 'scipy_openblas32' in p['filepath']}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1]"
