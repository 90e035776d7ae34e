"""Hostile inputs (inf, nan, zero divisors, mixed dtypes, odd arguments) give PyTorch's results or a clear
ndgrad error: found by differential fuzzing against PyTorch, kept here as regression tests."""
import warnings

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def test_division_by_zero_log_of_zero_and_overflow_are_silent_as_in_torch_forward_and_backward():
    values = [1.0, 0.0, -1.0, 100.0]
    x = ag.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a NumPy RuntimeWarning would fail the test
        out = (x / 0) + ag.log(x) + ag.sqrt(x) + ag.exp(x * 10)
        out.sum().backward()
    expected = (t / 0) + t.log() + t.sqrt() + (t * 10).exp()
    expected.sum().backward()
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_users_numpy_error_state_is_left_as_it_was():
    before = np.geterr()
    with np.errstate(divide="raise"):
        ag.tensor([1.0]) / 0
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0
    assert np.geterr() == before


@pytest.mark.parametrize("base, exponent", [
    ([-2, -1, 0, 1, 2, 3], [-2, -3, -1, -5, -1, 2]),   # tensor ** tensor, some exponents negative
    (2, [-1, 0, 3]),                                   # python int ** integer tensor: 2 ** arange(...)
    (-1, [-1, -2, 3]),
    ([[1], [-1], [5]], [-2, -1]),                      # broadcasting
])
def test_integer_power_with_negative_exponents_gives_torchs_values(base, exponent):
    def call(lib):
        b = lib.tensor(base) if isinstance(base, list) else base
        return b ** lib.tensor(exponent)
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_integer_tensor_to_a_negative_python_int_raises_naming_pow_and_the_dtype():
    with pytest.raises(ag.ArgumentError, match=r"pow: .*negative integer powers.*int64.*-1"):
        ag.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) ** -1
