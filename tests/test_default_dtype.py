"""ag.get_default_dtype / set_default_dtype: the dtype floating tensors get when nothing says otherwise."""
import numpy as np
import pytest

import autograd as ag
import nn


@pytest.fixture
def default_float64():
    before = ag.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    yield
    ag.set_default_dtype(before)


def test_the_default_dtype_starts_as_float32():
    assert ag.get_default_dtype() == np.float32


def test_new_floating_tensors_follow_the_default_dtype(default_float64):
    assert ag.get_default_dtype() == np.float64
    made = {"tensor": ag.tensor([1.0]), "zeros": ag.zeros(2), "ones": ag.ones(2), "empty": ag.empty(2),
            "randn": ag.randn(2), "rand": ag.rand(2), "full": ag.full((2,), 1.5), "arange": ag.arange(0.0, 1.0, 0.5),
            "linspace": ag.linspace(0, 1, 3), "eye": ag.eye(2), "Tensor": ag.Tensor([1, 2]),
            "int tensor times a float": ag.tensor([1, 2]) * 0.5}
    assert {name: t.dtype for name, t in made.items()} == {name: np.dtype(np.float64) for name in made}
    assert ag.tensor([1j]).dtype == np.complex128


def test_integers_and_explicit_dtypes_ignore_the_default_dtype(default_float64):
    assert ag.tensor([1, 2]).dtype == np.int64
    assert ag.zeros(2, dtype=ag.float32).dtype == np.float32
    assert ag.tensor(np.ones(2, np.float32)).dtype == np.float32


def test_new_parameters_follow_the_default_dtype(default_float64):
    layer = nn.Linear(2, 3)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64


def test_the_default_dtype_matches_torch_after_setting_it(default_float64):
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for ours, theirs in [(ag.tensor([1.5]), torch.tensor([1.5])), (ag.zeros(2), torch.zeros(2)),
                             (ag.randn(2), torch.randn(2)), (ag.tensor([1j]), torch.tensor([1j]))]:
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    finally:
        torch.set_default_dtype(before)


@pytest.mark.parametrize("dtype", [ag.int64, ag.bool, np.complex64, "int32"])
def test_set_default_dtype_refuses_non_floating_dtypes(dtype):
    with pytest.raises(TypeError, match="set_default_dtype: only floating-point types"):
        ag.set_default_dtype(dtype)
    assert ag.get_default_dtype() == np.float32
