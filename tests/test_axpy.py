"""add_scaled_ (y += alpha * x in place): BLAS axpy on NumPy's own OpenBLAS where it can run there, NumPy's
two passes everywhere else, the same values either way up to the one rounding axpy saves."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from autograd.ops import gemm

needs_axpy = pytest.mark.skipif(np.dtype(np.float32) not in gemm._axpy, reason="NumPy's BLAS has no axpy to call here")


def _fused(y, alpha, x):
    """y + alpha * x rounded once (float32 operands: the float64 product is exact)."""
    return (y.astype(np.float64) + np.float64(np.asarray(alpha, y.dtype)) * x.astype(np.float64)).astype(y.dtype)


def _mapped_libraries():
    with open("/proc/self/maps") as maps:
        return {line.split()[-1] for line in maps if ".so" in line}


@needs_axpy
def test_axpy_is_looked_up_in_numpys_own_library_without_loading_any():
    before = _mapped_libraries()
    kernels = gemm._load_axpy()
    assert _mapped_libraries() == before
    assert set(kernels) == {np.dtype(np.float32), np.dtype(np.float64)}
    numpys = gemm._numpy_blas_pool()["filepath"]
    assert all(kernel.library._name == numpys for kernel in kernels.values())


@needs_axpy
def test_no_library_is_loaded_for_the_axpy_when_numpys_is_not_loaded(monkeypatch, tmp_path):
    # The lookup only finds a library already in the process (RTLD_NOLOAD): a path that is not loaded gives none.
    import shutil
    copy = tmp_path / "libnot_loaded_openblas.so"
    shutil.copy(gemm._numpy_blas_pool()["filepath"], copy)
    monkeypatch.setattr(gemm, "_numpy_blas_pool", lambda: {"filepath": str(copy), "num_threads": 1})
    before = _mapped_libraries()
    assert gemm._load_axpy() == {}
    assert _mapped_libraries() == before


@needs_axpy
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(256, 784), (1 << 15,), (4, 128, 64)])
def test_contiguous_float32_adds_the_unrounded_product_in_place(shape, threads):
    rng = np.random.default_rng(0)
    y, x = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    expected = _fused(y, -0.01, x)
    target = y.copy()
    with threadpool_limits(threads):
        result = gemm.add_scaled_(target, -0.01, x)
    assert result is target
    np.testing.assert_array_equal(target, expected)


@pytest.mark.parametrize("make", [
    lambda y, x: (y, x[::-1].copy()[::-1]),          # x reversed in memory
    lambda y, x: (np.asfortranarray(y), x),          # y column-major
    lambda y, x: (y, x.astype(np.float64)),          # dtypes differ
    lambda y, x: (y.astype(np.float16), x.astype(np.float16)),   # no half axpy
], ids=["strided x", "fortran y", "mixed dtypes", "float16"])
def test_other_layouts_and_dtypes_get_numpys_result(make):
    rng = np.random.default_rng(1)
    y, x = make(rng.standard_normal((300, 200)).astype(np.float32), rng.standard_normal((300, 200)).astype(np.float32))
    expected = y.copy()
    expected += 0.5 * x
    target = y.copy(order="K")
    gemm.add_scaled_(target, 0.5, x)
    np.testing.assert_allclose(target, expected, rtol=1e-6 if y.dtype != np.float16 else 1e-3)


def test_overlapping_operands_and_a_zero_alpha_behave_as_numpys_expression():
    n = 1 << 16
    y = np.arange(n, dtype=np.float32)
    gemm.add_scaled_(y[1:], 2.0, y[:-1])   # overlapping: NumPy's buffered expression, not a running axpy
    expected = np.arange(n, dtype=np.float32)
    expected[1:] += 2.0 * np.arange(n - 1, dtype=np.float32)
    np.testing.assert_array_equal(y, expected)
    side = np.zeros(2 * n, np.float32)
    gemm.add_scaled_(side[:n], 1.0, side[n:] + 1)   # adjacent, not overlapping: the axpy
    assert (side[:n] == 1).all() and not side[n:].any()
    with np.errstate(invalid="ignore"):
        z = gemm.add_scaled_(np.ones(3, np.float32), 0.0, np.array([1.0, np.inf, np.nan], np.float32))
    np.testing.assert_array_equal(z, [1.0, np.nan, np.nan])   # 0 * inf is NaN, as torch's add_(x, alpha=0)


@pytest.mark.parametrize("n", [4, 1 << 16])
def test_a_read_only_target_is_refused_as_numpy_refuses_it(n):
    y = np.ones(n, np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gemm.add_scaled_(y, 1.0, np.ones(n, np.float32))


def test_small_arrays_get_numpys_two_passes():
    y, x = np.ones(100, np.float32), np.full(100, 3.0, np.float32)
    gemm.add_scaled_(y, 0.1, x)
    np.testing.assert_array_equal(y, np.ones(100, np.float32) + np.float32(0.1) * np.float32(3.0))
