"""lgamma, digamma, polygamma, erfinv, erfc: values and dtypes as torch's, gradients by gradcheck and
gradgradcheck in float64 and against torch's, and clear errors."""
import numpy as np
import pytest

import autograd as ag
from autograd.errors import ArgumentError, DTypeError

torch = pytest.importorskip("torch")

POSITIVE = np.array([0.3, 1.0, 2.5, 7.0, 40.0])
MIXED = np.array([-2.5, -0.7, 0.4, 1.5, 3.2])   # negative non-integers too
INSIDE = np.array([-0.9, -0.3, 0.0, 0.45, 0.8])  # inside erfinv's domain

CASES = {
    "lgamma": (lambda lib, x: lib.lgamma(x), MIXED),
    "lgamma_method": (lambda lib, x: x.lgamma(), POSITIVE),
    "digamma": (lambda lib, x: lib.digamma(x), MIXED),
    "digamma_method": (lambda lib, x: x.digamma(), POSITIVE),
    "polygamma_0": (lambda lib, x: lib.polygamma(0, x), POSITIVE),
    "polygamma_1": (lambda lib, x: lib.polygamma(1, x), MIXED),
    "polygamma_3_method": (lambda lib, x: x.polygamma(3), POSITIVE),
    "erfinv": (lambda lib, x: lib.erfinv(x), INSIDE),
    "erfinv_method": (lambda lib, x: x.erfinv(), INSIDE),
    "erfc": (lambda lib, x: lib.erfc(x), MIXED),
    "erfc_method": (lambda lib, x: x.erfc(), np.array([-3.0, 0.0, 2.0, 5.0, 9.0])),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
def test_values_and_dtypes_match_torch(name, dtype):
    fn, data = CASES[name]
    ours, theirs = fn(ag, ag.tensor(data.astype(dtype))), fn(torch, torch.tensor(data.astype(dtype)))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    # torch's digamma/polygamma kernels are a few 1e-10 from the true values (SciPy's are closer: see below)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-8)


@pytest.mark.parametrize("name", CASES)
def test_gradients_pass_gradcheck_and_gradgradcheck(name):
    fn, data = CASES[name]
    x = ag.tensor(data, requires_grad=True)
    assert ag.gradcheck(lambda t: fn(ag, t), (x,), atol=1e-4)
    assert ag.gradgradcheck(lambda t: fn(ag, t), (x,), atol=1e-4)


@pytest.mark.parametrize("name", CASES)
def test_first_and_second_gradients_match_torch(name):
    fn, data = CASES[name]
    ours, theirs = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (first,) = ag.grad(fn(ag, ours).sum(), ours, create_graph=True)
    (reference,) = torch.autograd.grad(fn(torch, theirs).sum(), theirs, create_graph=True)
    np.testing.assert_allclose(first.numpy(), reference.detach().numpy(), rtol=1e-8)
    (second,) = ag.grad(first.sum(), ours)
    (second_reference,) = torch.autograd.grad(reference.sum(), theirs)
    np.testing.assert_allclose(second.numpy(), second_reference.numpy(), rtol=1e-9)


def test_integer_inputs_become_the_default_float_as_in_torch():
    for op in ("lgamma", "digamma", "erfinv", "erfc"):
        ours, theirs = getattr(ag, op)(ag.tensor([1, 2])), getattr(torch, op)(torch.tensor([1, 2]))
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_digamma_and_trigamma_hit_their_closed_forms_at_one():
    one = ag.tensor([1.0], dtype=ag.float64)
    assert ag.digamma(one).item() == pytest.approx(-0.5772156649015329, rel=1e-15)  # -(Euler's gamma)
    assert ag.polygamma(1, one).item() == pytest.approx(np.pi ** 2 / 6, rel=1e-15)


def test_erfc_keeps_precision_where_one_minus_erf_cancels():
    assert ag.erfc(ag.tensor([10.0], dtype=ag.float64)).item() == pytest.approx(2.088487583762545e-45, rel=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: ag.polygamma(-1, ag.tensor([1.0])), ArgumentError, "polygamma: n must be non-negative, got -1"),
    (lambda: ag.polygamma(1.5, ag.tensor([1.0])), DTypeError, "polygamma: n must be an int, got float"),
    (lambda: ag.lgamma(ag.tensor([1j])), DTypeError, "lgamma: needs a real tensor, got complex64"),
])
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("name", ["expit", "gammaln", "psi", "ndtr", "log_ndtr", "erf", "erfc", "logit", "log1p",
                                  "expm1", "exp2", "sinc"])
def test_torch_special_names_match_torch_in_values_and_gradients(name):
    torch = pytest.importorskip("torch")
    x = np.array([-3.0, -0.5, 0.3, 0.7, 4.0])
    if name in ("gammaln", "psi", "log1p"):
        x = np.abs(x) + 0.1
    if name == "logit":
        x = np.array([0.05, 0.3, 0.5, 0.8, 0.95])
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = getattr(ag.special, name)(ours), getattr(torch.special, name)(theirs)
    out.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-12)
    ag.gradcheck(getattr(ag.special, name), [ag.tensor(x, requires_grad=True)])
