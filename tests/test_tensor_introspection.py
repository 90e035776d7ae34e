"""Tensor.type(), stride(), is_contiguous(), element_size(), itemsize, nbytes and sum_to_size, as torch's
(type names say `autograd.` where torch says `torch.`)."""
import numpy as np
import pytest

import autograd as ag
from autograd.errors import ArgumentError, IndexRangeError, ShapeError

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool", "complex64",
          "complex128"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_type_names_the_dtype_as_torch_does_under_this_package_name(dtype):
    ours, theirs = ag.zeros(2, dtype=dtype), torch.zeros(2, dtype=getattr(torch, dtype))
    assert ours.type() == theirs.type().replace("torch.", "autograd.")
    assert ours.element_size() == ours.itemsize == theirs.element_size() == theirs.itemsize
    assert ours.nbytes == theirs.nbytes


def test_type_with_a_dtype_or_a_name_converts_and_keeps_gradients():
    x = ag.tensor([1.5, 2.5], requires_grad=True)
    assert x.type(ag.float32) is x
    assert x.type(ag.float64).dtype == np.float64
    assert x.type("torch.IntTensor").dtype == np.int32 and x.type("autograd.LongTensor").dtype == np.int64
    x.type("torch.DoubleTensor").sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.numpy().tolist() == [1.0, 1.0]


def test_an_unknown_type_name_is_an_error_naming_it():
    with pytest.raises(ArgumentError, match="type: invalid tensor type 'torch.Foo'"):
        ag.zeros(2).type("torch.Foo")


VIEWS = {
    "contiguous": lambda lib, x: x,
    "transposed": lambda lib, x: x.t(),
    "expanded": lambda lib, x: x.expand(4, 2, 3),
    "every_other_column": lambda lib, x: x[:, ::2],
    "row": lambda lib, x: x[1],
    "unsqueezed": lambda lib, x: x.unsqueeze(1),
}


@pytest.mark.parametrize("name", VIEWS)
def test_strides_and_contiguity_match_torch(name):
    ours, theirs = VIEWS[name](ag, ag.ones(2, 3)), VIEWS[name](torch, torch.ones(2, 3))
    assert ours.stride() == theirs.stride()
    assert [ours.stride(d) for d in range(-ours.ndim, ours.ndim)] == [theirs.stride(d) for d in range(-theirs.ndim, theirs.ndim)]
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.nbytes == theirs.nbytes


def test_stride_of_a_dim_out_of_range_is_an_error():
    with pytest.raises(IndexRangeError, match=r"stride: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        ag.ones(2, 3).stride(2)


SIZES = [(1, 3), (3,), ((1, 3),), (2, 1), (2, 3), (1, 1), ((),)]


@pytest.mark.parametrize("size", SIZES)
def test_sum_to_size_matches_torch_with_gradients(size):
    data = np.arange(6.0).reshape(2, 3)
    ours, theirs = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out_ours, out_theirs = ours.sum_to_size(*size), theirs.sum_to_size(*size)
    assert out_ours.shape == tuple(out_theirs.shape)
    np.testing.assert_array_equal(out_ours.numpy(), out_theirs.detach().numpy())
    weights = np.arange(1.0, 1.0 + out_ours.numel()).reshape(out_ours.shape)
    (out_ours * ag.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ag.gradgradcheck(lambda t: t.sum_to_size(*size) ** 2, (ag.tensor(data, requires_grad=True),))


def test_sum_to_size_sums_leading_dims_of_a_larger_tensor():
    np.testing.assert_array_equal(ag.ones(4, 1, 3).sum_to_size(1, 3).numpy(),
                                  torch.ones(4, 1, 3).sum_to_size(1, 3).numpy())


@pytest.mark.parametrize("size", [(2, 1, 3), (4,), (1, 2)])
def test_sum_to_size_refuses_a_size_that_does_not_expand_to_the_shape(size):
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).sum_to_size(*size)
    with pytest.raises(ShapeError, match=r"sum_to_size: size .* is not expandable to the tensor's shape \(2, 3\)"):
        ag.ones(2, 3).sum_to_size(*size)
