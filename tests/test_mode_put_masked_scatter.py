"""torch.mode, msort, put(_) and masked_scatter(_), each against PyTorch: values, indices, gradients."""
import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("rows, dim, keepdim", [
    ([[1.0, 2.0, 2.0, 3.0, 3.0], [5.0, 5.0, 1.0, 1.0, 0.0]], 1, False),   # ties in count: the smallest value
    ([[3.0, 1.0, 1.0, 3.0, 2.0]], -1, True),                              # its last position
    ([[1.0, float("nan"), float("nan")], [2.0, 2.0, 7.0]], 1, False),      # each NaN counts once
    ([[4.0, 4.0], [4.0, 1.0], [1.0, 4.0]], 0, False),
])
def test_mode_gives_torchs_values_indices_and_gradient(rows, dim, keepdim):
    x = np.array(rows)
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    values, indices = ours.mode(dim, keepdim)
    expected = theirs.mode(dim, keepdim)
    np.testing.assert_array_equal(values.numpy(), expected.values.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    upstream = np.arange(1.0, values.numel() + 1).reshape(values.shape)
    values.backward(ag.tensor(upstream))
    expected.values.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_mode_of_integers_and_of_a_0d_tensor_and_msort_as_torch():
    ints = np.array([[2, 7, 7, 2, 5]])
    assert ag.mode(ag.tensor(ints)).values.tolist() == torch.mode(torch.tensor(ints)).values.tolist()
    assert ag.tensor(3.0).mode().values.item() == torch.tensor(3.0).mode().values.item()
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_array_equal(ag.msort(ag.tensor(x)).numpy(), torch.msort(torch.tensor(x)).numpy())
    with pytest.raises(ag.ArgumentError, match=r"mode: dim 1 of shape \(2, 0\) is empty"):
        ag.zeros(2, 0).mode(1)


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_writes_or_adds_at_flat_positions_with_gradients_as_torch(accumulate):
    index = [1, -2, 1] if accumulate else [1, -2, 5]
    def run(lib):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        source = lib.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
        out = (x * 2).put(lib.tensor(index), source * 1, accumulate=accumulate)
        in_place = (x * 1).put_(lib.tensor([0]), source[:1] * 3)
        (out * lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        in_place.sum().backward()
        return out.detach().numpy(), in_place.detach().numpy(), x.grad.numpy(), source.grad.numpy()
    for mine, reference in zip(run(ag), run(torch)):
        np.testing.assert_array_equal(mine, reference)


def test_put_refuses_an_index_out_of_range_naming_put():
    with pytest.raises(IndexError, match="put"):
        ag.zeros(2, 3).put(ag.tensor([6]), ag.tensor([1.0]))


def test_masked_scatter_fills_in_order_with_gradients_as_torch():
    mask = np.array([[True, False, True], [False, True, False]])
    def run(lib):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        source = lib.tensor(np.array([7.0, 8.0, 9.0, 10.0]), requires_grad=True)
        out = (x * 2).masked_scatter(lib.tensor(mask), source * 1)
        row = (x * 1).masked_scatter_(lib.tensor([True, False, True]), source * 2)   # a broadcast mask
        (out * lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        row.sum().backward()
        return out.detach().numpy(), row.detach().numpy(), x.grad.numpy(), source.grad.numpy()
    for mine, reference in zip(run(ag), run(torch)):
        np.testing.assert_array_equal(mine, reference)


def test_masked_scatter_refuses_a_short_source_and_a_non_bool_mask():
    with pytest.raises(ag.ShapeError, match="masked_scatter: the mask selects 2 elements"):
        ag.zeros(3).masked_scatter(ag.tensor([True, True, False]), ag.tensor([1.0]))
    with pytest.raises(ag.DTypeError, match="masked_scatter: the mask must be a bool tensor"):
        ag.zeros(3).masked_scatter(ag.tensor([1, 0, 1]), ag.tensor([1.0, 2.0]))


def test_put_and_masked_scatter_refuse_a_source_of_another_dtype_as_torch():
    with pytest.raises(ag.DTypeError, match="put: the source's dtype float64 differs from the tensor's float32"):
        ag.zeros(3).put(ag.tensor([0]), ag.tensor(np.array([1.0])))
    with pytest.raises(ag.DTypeError, match="masked_scatter: the source's dtype float64 differs from the tensor's float32"):
        ag.zeros(3).masked_scatter(ag.tensor([True, False, False]), ag.tensor(np.array([1.0])))
    with pytest.raises(RuntimeError):
        torch.zeros(3).put(torch.tensor([0]), torch.tensor([1.0], dtype=torch.float64))


def test_put_and_masked_scatter_pass_gradcheck_and_gradgradcheck():
    # (mode's gradient is gather's, checked against torch above: a finite difference breaks the ties
    # that make a mode)
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    source = ag.tensor(rng.standard_normal(4), requires_grad=True)
    mask = ag.tensor(np.array([[True, False, True, False, False], [False] * 5, [False, True, False, False, True]]))
    for fn, inputs in [(lambda t, s: t.put(ag.tensor([0, 7, -1, 7]), s, accumulate=True), (x, source)),
                       (lambda t, s: t.masked_scatter(mask, s), (x, source))]:
        assert ag.gradcheck(fn, inputs)
        assert ag.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_the_median_of_an_empty_float_tensor_is_nan_with_an_empty_gradient_as_torch(name):
    torch = pytest.importorskip("torch")
    ours_x, theirs_x = ag.tensor(np.zeros(0, np.float32), requires_grad=True), torch.zeros(0, requires_grad=True)
    ours, theirs = getattr(ag, name)(ours_x), getattr(torch, name)(theirs_x)
    assert ours.shape == theirs.shape == () and ours.dtype == np.float32 and np.isnan(ours.item())
    ours.backward()
    theirs.backward()
    assert ours_x.grad.shape == tuple(theirs_x.grad.shape) == (0,)
    with pytest.raises(ValueError, match=f"{name}: cannot take the median of an empty int64 tensor"):
        getattr(ag, name)(ag.tensor(np.zeros(0, np.int64)))
