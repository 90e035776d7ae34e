"""erf at float64 accuracy (against mpmath at 50 digits) and the fused exact GELU against PyTorch."""
import math

import mpmath
import numpy as np
import pytest

import autograd as ag
import nn.functional as F

mpmath.mp.dps = 50


def _reference_erf(values):
    return np.array([float(mpmath.erf(mpmath.mpf(float(v)))) for v in values])


def _erf_series(x):
    """The float64 series / continued fraction ndgrad used before SciPy, kept as a second reference."""
    out = np.empty_like(x)
    for i, v in enumerate(x):
        a = abs(v)
        if a < 2.5:
            term = total = v
            n = 1
            while abs(term) > 1e-17 * abs(total):
                term *= 2 * v * v / (2 * n + 1)
                total += term
                n += 1
            out[i] = 2 / math.sqrt(math.pi) * math.exp(-v * v) * total
        else:
            fraction = 0.0
            for k in range(60, 0, -1):
                fraction = (k / 2) / (a + fraction)
            out[i] = math.copysign(1 - math.exp(-a * a) / math.sqrt(math.pi) / (a + fraction), v)
    return out


def _ulps(x, reference):
    spacing = np.spacing(np.maximum(np.abs(reference), np.finfo(np.float64).tiny))
    return np.abs(x - reference) / spacing


def test_erf_float64_within_a_few_ulps_of_mpmath():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-6.5, 6.5, 1301), rng.standard_normal(500) * 2,
                        [1e-300, -1e-300, 5e-324, 1e-20, -1e-8, 0.5, 2.4999999, 2.5, 2.5000001, 5.9, 27.0, -27.0]])
    got = ag.erf(ag.tensor(x)).numpy()
    assert got.dtype == np.float64
    assert _ulps(got, _reference_erf(x)).max() <= 4


def test_erf_agrees_with_the_series_it_replaced():
    x = np.linspace(-5, 5, 2001)
    np.testing.assert_allclose(ag.erf(ag.tensor(x)).numpy(), _erf_series(x), rtol=1e-15, atol=1e-16)


def test_erf_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    got = ag.erf(ag.tensor(x)).numpy()
    assert got[0] == 0 and math.copysign(1, got[1]) == -1
    assert got[2] == 1 and got[3] == -1 and np.isnan(got[4])


def test_erf_keeps_float32_and_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal(10_000).astype(np.float32) * 3
    got = ag.erf(ag.tensor(x)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, torch.erf(torch.from_numpy(x)).numpy(), rtol=2e-7, atol=1e-7)


def test_erf_of_integers_is_float32_as_torch():
    assert ag.erf(ag.tensor([0, 1, -2])).dtype == ag.float32


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-15), (np.float32, 2e-6)])
def test_gelu_value_and_gradient_match_torch(dtype, tol):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(1000) * 3, [0.0, -12.0, 12.0, -40.0, 40.0]]).astype(dtype)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    mine = ag.tensor(x, requires_grad=True)
    out = F.gelu(mine)
    out.backward(ag.tensor(upstream))
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.gelu(theirs)
    expected.backward(torch.from_numpy(upstream))
    assert out.dtype == mine.grad.dtype == x.dtype
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=tol, atol=tol)


def test_gelu_second_derivative_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 33)
    mine = ag.tensor(x, requires_grad=True)
    (g,) = ag.grad(F.gelu(mine).sum(), mine, create_graph=True)
    (gg,) = ag.grad(g.sum(), mine)
    theirs = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.gelu(theirs).sum(), theirs, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), theirs)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-14)


def test_gelu_of_an_integer_tensor_raises_naming_the_dtype():
    with pytest.raises(ag.DTypeError, match="gelu: needs a floating point tensor, got int64"):
        F.gelu(ag.tensor([1, 2]))


def _reference_normal_cdf(values):
    return np.array([float(mpmath.ncdf(mpmath.mpf(float(v)))) for v in values])


def test_float32_gelu_normal_cdf_is_within_a_few_ulps_of_the_exact_value():
    from autograd.ops.activations import normal_cdf_single
    x = np.concatenate([np.linspace(-6, 6, 4001), np.random.default_rng(3).standard_normal(2000) * 2]).astype(np.float32)
    exact = _reference_normal_cdf(x)
    got = normal_cdf_single(x)
    assert got.dtype == np.float32
    assert np.abs(got - exact).max() <= 2.5e-7   # 4 ulps near 1/2


def test_float32_gelu_keeps_its_relative_accuracy_in_the_negative_tail():
    # (1 + erf(x / sqrt 2)) / 2 in float32 cancels to nothing here; Phi itself is representable.
    from autograd.ops.activations import normal_cdf_single
    x = np.linspace(-13, -3, 2001).astype(np.float32)
    exact = _reference_normal_cdf(x)
    np.testing.assert_allclose(normal_cdf_single(x), exact, rtol=3e-5)
    np.testing.assert_allclose(F.gelu(ag.tensor(x)).numpy(), x * exact, rtol=3e-5)


def test_float32_gelu_of_special_values_and_shapes():
    from autograd.ops.activations import normal_cdf_single
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30, -200, 200], np.float32)
    np.testing.assert_array_equal(normal_cdf_single(x), [1, 0, np.nan, 0.5, 0.5, 0.5, 0, 1])
    scalar = normal_cdf_single(np.array(1.0, np.float32))
    assert scalar.shape == () and abs(float(scalar) - 0.8413447460685429) < 1e-7
    strided = np.random.default_rng(4).standard_normal((3, 8, 5)).astype(np.float32)[:, ::2]
    np.testing.assert_allclose(normal_cdf_single(strided), _reference_normal_cdf(strided.ravel()).reshape(strided.shape),
                               atol=2.5e-7)
    half = F.gelu(ag.tensor(np.array([-1.0, 0.5, 3.0], np.float16)))
    assert half.dtype == ag.float16
    np.testing.assert_allclose(half.numpy(), [-0.1587, 0.3457, 2.996], rtol=1e-3)


def test_float32_gelu_of_huge_values_warns_of_nothing_as_torch(torch):
    import warnings
    x = np.array([-3e38, -1e20, 1e20, 3e38], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # z^2 overflowing to inf is the right tail, not a fault to report
        ours = F.gelu(ag.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, [0.0, 0.0, x[2], x[3]])
    np.testing.assert_array_equal(torch.nn.functional.gelu(torch.tensor(x[:3])).numpy(), ours[:3])


def test_float16_gelu_gradient_is_rounded_once_as_torch():
    torch = pytest.importorskip("torch")
    import scipy.special
    x = np.linspace(-4, 4, 4001).astype(np.float16)
    mine, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.gelu(mine).sum().backward()
    torch.nn.functional.gelu(theirs).sum().backward()
    x64 = x.astype(np.float64)
    exact = 0.5 * scipy.special.erfc(-x64 / math.sqrt(2)) + x64 * np.exp(-x64 ** 2 / 2) / math.sqrt(2 * math.pi)
    assert mine.grad.dtype == ag.float16
    ours_error = np.abs(mine.grad.numpy().astype(np.float64) - exact).max()
    assert ours_error <= 1.2 * np.abs(theirs.grad.numpy().astype(np.float64) - exact).max()   # was 1.8x torch's
