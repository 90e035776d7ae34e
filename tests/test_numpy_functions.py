"""The functions PyTorch and NumPy share, beyond the op table: NumPy's names on tensors record the graph
(autograd/numpy_protocol.py), the non-differentiable ones (searching, counting, testing) match PyTorch and
stay outside the graph, edge cases of the differentiable ones (zeros in cumprod, NaN in median and
quantile), and every such function a PyTorch tensor has as a method is one here too."""
import numpy as np
import pytest

import autograd as ag


def leaf(array):
    return ag.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


FUNCTIONS = [
    ("cumprod_axis", lambda m, a: m.cumprod(a, axis=1)),
    ("cumprod_flat", lambda m, a: m.cumprod(a)),
    ("diff", lambda m, a: m.diff(a, 2, axis=-1)),
    ("diff_prepend_number", lambda m, a: m.diff(a, axis=0, prepend=0.5)),
    ("outer_flattens", lambda m, a: m.outer(a[0], a[1, :2])),
    ("inner", lambda m, a: m.inner(a, a[0])),
    ("vdot_flattens", lambda m, a: m.vdot(a, a * 2)),
    ("kron", lambda m, a: m.kron(a[0], a[1, :2])),
    ("tensordot", lambda m, a: m.tensordot(a, a, axes=([0, 1], [0, 1]))),
    ("cross", lambda m, a: m.cross(a[..., :3], a[..., 1:])),
    ("trace_3d", lambda m, a: m.trace(a, offset=1, axis1=1, axis2=2)),
    ("diagonal", lambda m, a: m.diagonal(a, -1, 2, 1)),
    ("diag", lambda m, a: m.diag(a[0, 0], 1)),
    ("meshgrid_xy", lambda m, a: m.meshgrid(a[0, 0], a[1, 1, :3])[1] * 2),
    ("meshgrid_sparse_ij", lambda m, a: m.meshgrid(a[0, 0], a[1, 1, :3], sparse=True, indexing="ij")[1] * 2),
    ("nan_to_num", lambda m, a: m.nan_to_num(a * 2)),
    ("sinc", lambda m, a: m.sinc(a)),
    ("nansum", lambda m, a: m.nansum(a, axis=(0, 2))),
    ("nanmean_keepdims", lambda m, a: m.nanmean(a, axis=1, keepdims=True)),
    ("median_even_count_averages", lambda m, a: m.median(a, axis=2)),
    ("median_all", lambda m, a: m.median(a)),
    ("quantile", lambda m, a: m.quantile(a, [0.1, 0.75], axis=0)),
    ("percentile_lower", lambda m, a: m.percentile(a, 40, axis=1, method="lower")),
    ("nanmedian", lambda m, a: m.nanmedian(a, axis=1)),
    ("nanpercentile", lambda m, a: m.nanpercentile(a, [20, 80], axis=-1, keepdims=True)),
    ("diagflat", lambda m, a: m.diagflat(a[0], -1)),
    ("vander", lambda m, a: m.vander(a[0, 0], 3)),
    ("sort", lambda m, a: m.sort(a, axis=1) * a),
    ("sort_flat", lambda m, a: m.sort(a, axis=None)),
    ("round", lambda m, a: m.round(a * 10, 1) * a),
    ("take_flat", lambda m, a: m.take(a, [[0, 5], [23, 5]])),
    ("take_axis", lambda m, a: m.take(a, [2, 0, 2], axis=1)),
    ("take_along_axis", lambda m, a: m.take_along_axis(a, np.argsort(a, axis=-1), axis=-1) * a),
    ("moveaxis", lambda m, a: m.moveaxis(a, 0, -1) * 2),
    ("ravel", lambda m, a: m.ravel(a) * 2),
    ("hstack", lambda m, a: m.hstack([a, a * 2])),
    ("vstack", lambda m, a: m.vstack([a[0], a[1]])),
    ("dstack", lambda m, a: m.dstack([a[0], a[1]])),
    ("column_stack", lambda m, a: m.column_stack([a[0, 0], a[1, 1]])),
    ("atleast_3d", lambda m, a: m.atleast_3d(a[0, 0]) * 2),
    ("rot90", lambda m, a: m.rot90(a, 1, axes=(1, 2)) * 2),
    ("fliplr_flipud", lambda m, a: m.fliplr(a) * m.flipud(a)),
    ("einsum", lambda m, a: m.einsum("ijk,ikl->ijl", a, m.swapaxes(a, 1, 2))),
    ("hypot", lambda m, a: m.hypot(a, a[0])),
    ("logaddexp", lambda m, a: m.logaddexp(a, 0.3)),
    ("logaddexp2", lambda m, a: m.logaddexp2(a, a[::-1])),
    ("copysign", lambda m, a: m.copysign(a, a - 0.5)),
    ("fmax", lambda m, a: m.fmax(a, 0.5)),
    ("fmin", lambda m, a: m.fmin(a, a[::-1])),
    ("float_power", lambda m, a: m.float_power(a, 1.5)),
    ("ldexp", lambda m, a: m.ldexp(a, 3)),
    ("radians_degrees", lambda m, a: m.radians(a) + m.degrees(a) + m.deg2rad(a) + m.rad2deg(a)),
]


@pytest.mark.parametrize("name, call", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_numpy_function_on_a_tensor_gives_numpys_value_and_a_checked_gradient(name, call):
    values = np.random.default_rng(0).uniform(0.1, 1.0, (2, 3, 4))
    out = call(np, leaf(values))
    out = out if isinstance(out, ag.Tensor) else out[0]
    assert isinstance(out, ag.Tensor) and out.requires_grad
    expected = call(np, values)
    np.testing.assert_allclose(out.numpy(), expected if isinstance(expected, np.ndarray) and expected.dtype != object
                               else expected, rtol=1e-12)
    assert ag.gradcheck(lambda t: call(np, t), [leaf(values)])


def test_numpy_ufuncs_shared_with_torch_give_torchs_gradients(torch):
    values = np.array([[0.3, -1.2, 2.0], [-0.4, 0.9, 1.5]])
    other = np.array([0.7, -0.2, 1.1])
    for ufunc, torch_fn in [(np.hypot, torch.hypot), (np.logaddexp, torch.logaddexp),
                            (np.logaddexp2, torch.logaddexp2), (np.copysign, torch.copysign),
                            (np.fmax, torch.fmax), (np.fmin, torch.fmin)]:
        x, y = leaf(values), leaf(other)
        (ufunc(x, y) ** 2).sum().backward()
        tx, ty = torch.tensor(values, requires_grad=True), torch.tensor(other, requires_grad=True)
        (torch_fn(tx, ty) ** 2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, err_msg=ufunc.__name__)
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=ufunc.__name__)


NO_GRADIENT = [
    ("argmax", lambda m, a: m.argmax(a, axis=1)),
    ("argsort", lambda m, a: m.argsort(a)),
    ("nonzero", lambda m, a: m.nonzero(a > 0.5)[1]),
    ("count_nonzero", lambda m, a: m.count_nonzero(a > 0.5, axis=0)),
    ("searchsorted", lambda m, a: m.searchsorted(m.sort(a.ravel()), [0.2, 0.5])),
    ("isclose", lambda m, a: m.isclose(a, a + 1e-9)),
    ("allclose", lambda m, a: m.allclose(a, a)),
    ("isin", lambda m, a: m.isin(a, a[0])),
    ("shape", lambda m, a: m.shape(a)),
    ("histogram", lambda m, a: m.histogram(a, bins=3)[0]),
    ("signbit", lambda m, a: m.signbit(a - 0.5)),
]


@pytest.mark.parametrize("name, call", NO_GRADIENT, ids=[f[0] for f in NO_GRADIENT])
def test_numpy_functions_without_a_gradient_run_on_a_tensor_that_requires_grad(name, call):
    values = np.random.default_rng(1).uniform(0.1, 1.0, (2, 3))
    out = call(np, leaf(values))
    np.testing.assert_array_equal(np.asarray(out), call(np, values))
    assert not getattr(out, "requires_grad", False)


# -- the non-differentiable functions, as torch's ---------------------------------------------------

def test_searchsorted_and_bucketize_match_torch(torch):
    sequence, values = [1, 3, 5, 7], [[3, 6], [0, 9]]
    for right in (False, True):
        np.testing.assert_array_equal(
            ag.searchsorted(ag.tensor(sequence), ag.tensor(values), right=right).numpy(),
            torch.searchsorted(torch.tensor(sequence), torch.tensor(values), right=right).numpy())
        np.testing.assert_array_equal(
            ag.bucketize(ag.tensor(values), ag.tensor(sequence), right=right).numpy(),
            torch.bucketize(torch.tensor(values), torch.tensor(sequence), right=right).numpy())
    rows = [[1.0, 3, 5], [2, 4, 6]]
    out = ag.searchsorted(ag.tensor(rows), ag.tensor([[3.0, 7], [1, 4]]), side="right", out_int32=True)
    expected = torch.searchsorted(torch.tensor(rows), torch.tensor([[3.0, 7], [1, 4]]), side="right", out_int32=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.dtype == np.int32
    assert ag.searchsorted(ag.tensor([1.0, 3, 5]), 3.0).item() == 1
    with pytest.raises(ValueError, match="same leading dims"):
        ag.searchsorted(ag.tensor(rows), ag.tensor([1.0, 2]))


def test_bincount_matches_torch_and_refuses_what_torch_refuses(torch):
    values, weights = [0, 2, 2, 5], [0.5, 1.0, 2.0, 0.25]
    np.testing.assert_array_equal(ag.bincount(ag.tensor(values), minlength=8).numpy(),
                                  torch.bincount(torch.tensor(values), minlength=8).numpy())
    out = ag.tensor(values).bincount(ag.tensor(weights))
    expected = torch.bincount(torch.tensor(values), torch.tensor(weights))
    np.testing.assert_allclose(out.numpy(), expected.numpy())
    assert out.dtype == np.float32 and expected.dtype == torch.float32
    for bad in ([-1, 2], [[1]], [0.5]):
        with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
            ag.bincount(ag.tensor(bad))
        with pytest.raises(RuntimeError):
            torch.bincount(torch.tensor(bad))


def test_unique_matches_torch_with_inverse_counts_and_dim(torch):
    data = [[3, 1], [3, 1], [0, 0]]
    for kwargs in [dict(), dict(return_inverse=True, return_counts=True), dict(dim=0, return_inverse=True)]:
        ours, theirs = ag.unique(ag.tensor(data), **kwargs), torch.unique(torch.tensor(data), **kwargs)
        ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
        assert len(ours) == len(theirs)
        for a, t in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), t.numpy())
            assert a.dtype == np.int64


def test_unique_values_and_bincount_weights_refuse_backward_as_torch(torch):
    x = leaf([1.0, 2.0, 1.0])
    values = ag.unique(x * 2)
    np.testing.assert_array_equal(values.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="the derivative for 'unique' is not implemented"):
        values.sum().backward()
    counts = ag.bincount(ag.tensor([0, 1, 1]), x)
    with pytest.raises(RuntimeError, match="the derivative for 'bincount' is not implemented"):
        counts.sum().backward()
    with pytest.raises(RuntimeError, match="'_unique2' is not implemented"):
        torch.unique(torch.tensor([1.0, 2.0], requires_grad=True) * 2).sum().backward()
    with pytest.raises(TypeError, match="numpy.unique was called on a tensor that requires grad"):
        np.unique(x)


def test_tests_and_counts_match_torch(torch):
    x = [[-0.0, 1.0, float("inf")], [float("-inf"), float("nan"), -2.0]]
    tx, ax = torch.tensor(x), ag.tensor(x)
    for name in ("signbit", "isposinf", "isneginf", "isreal", "isinf"):
        np.testing.assert_array_equal(getattr(ax, name)().numpy(), getattr(tx, name)().numpy(), err_msg=name)
    np.testing.assert_array_equal(ag.count_nonzero(ax, 1).numpy(), torch.count_nonzero(tx, 1).numpy())
    np.testing.assert_array_equal(ag.isclose(ax, ax, equal_nan=True).numpy(),
                                  torch.isclose(tx, tx, equal_nan=True).numpy())
    np.testing.assert_array_equal(ag.isin(ag.tensor([1, 2, 3]), ag.tensor([2, 5])).numpy(),
                                  torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5])).numpy())
    step = ag.heaviside(ag.tensor([-1.5, 0.0, 2.0]), ag.tensor([0.5]))
    np.testing.assert_array_equal(step.numpy(), torch.heaviside(torch.tensor([-1.5, 0.0, 2.0]),
                                                                torch.tensor([0.5])).numpy())
    with pytest.raises(TypeError, match="heaviside: input .float32. and values .float64. must have the same dtype"):
        ag.heaviside(ag.tensor([1.0]), ag.tensor(np.array([0.5])))


# -- edge cases of the differentiable ones, against torch -----------------------------------------

def test_cumprod_gradient_is_exact_where_the_input_holds_zeros(torch):
    values = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.0, 2.0, 4.0, 0.5]])
    x = leaf(values)
    tx = torch.tensor(values, requires_grad=True)
    weights = np.arange(10.0).reshape(2, 5) - 3
    (first,) = ag.grad((ag.cumprod(x, 1) * ag.tensor(weights)).sum(), x, create_graph=True)
    (t_first,) = torch.autograd.grad((torch.cumprod(tx, 1) * torch.tensor(weights)).sum(), tx, create_graph=True)
    np.testing.assert_allclose(first.numpy(), t_first.detach().numpy(), rtol=1e-12)
    (first ** 2).sum().backward()
    (t_first ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_nan_to_num_passes_no_gradient_to_replaced_values(torch):
    values = np.array([np.nan, 1.5, np.inf, -np.inf, -2.0])
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    out = ag.nan_to_num(x, nan=0.5, posinf=9.0)
    t_out = torch.nan_to_num(tx, nan=0.5, posinf=9.0)
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    out.backward(ag.tensor(np.arange(5.0)))
    t_out.backward(torch.arange(5.0, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_median_and_quantile_propagate_nan_as_torch(torch):
    values = np.array([[1.0, np.nan, 3.0, 0.5], [2.0, 4.0, 1.0, 3.0]])
    median = ag.median(ag.tensor(values), 1)
    expected = torch.median(torch.tensor(values), 1)
    np.testing.assert_array_equal(median.values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(median.indices.numpy(), expected.indices.numpy())
    assert np.isnan(ag.median(ag.tensor(values)).item()) and np.isnan(torch.median(torch.tensor(values)).item())
    np.testing.assert_array_equal(ag.quantile(ag.tensor(values), 0.5, dim=1).numpy(),
                                  torch.quantile(torch.tensor(values), 0.5, dim=1).numpy())


def test_nanmedian_and_nanquantile_skip_nan_as_torch(torch):
    values = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 3.0], [4.0, 1.0, 2.0]])
    ours, theirs = ag.nanmedian(ag.tensor(values), 1), torch.nanmedian(torch.tensor(values), 1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(ag.nanquantile(ag.tensor(values), 0.25, dim=1).numpy(),
                                  torch.nanquantile(torch.tensor(values), 0.25, dim=1).numpy())
    x, tx = leaf(values[1:]), torch.tensor(values[1:], requires_grad=True)
    ag.nanquantile(x, 0.6, dim=1).sum().backward()
    torch.nanquantile(tx, 0.6, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_median_gradient_goes_to_the_lower_middle_element_as_torch(torch):
    values = np.array([4.0, 1.0, 3.0, 2.0])
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    x.median().backward()
    tx.median().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("call, error, message", [
    (lambda lib, x: lib.quantile(x, 1.5), RuntimeError, "q must be"),
    (lambda lib, x: lib.quantile(x, 0.5, interpolation="cubic"), RuntimeError, "interpolation must be one of"),
    (lambda lib, x: lib.diff(x[0, 0]), RuntimeError, "at least one dimension"),
    (lambda lib, x: lib.trace(x[0]), RuntimeError, "2-D"),
    (lambda lib, x: lib.outer(x, x), RuntimeError, "1-D"),
    (lambda lib, x: lib.tensordot(x, lib.ones(3, 2), ([0], [0])), RuntimeError, "differ in size"),
    (lambda lib, x: lib.cross(x, x, dim=0), RuntimeError, "size 3"),
    (lambda lib, x: lib.rot90(x[0], 1, (0, 0)), RuntimeError, None),
    (lambda lib, x: lib.fliplr(x[0]), RuntimeError, "at least 2 dims"),
    (lambda lib, x: lib.diag(x.reshape(2, 1, 2)), RuntimeError, "1-D or 2-D"),
], ids=["quantile-q", "quantile-interpolation", "diff-0d", "trace-1d", "outer-2d", "tensordot-sizes", "cross-size",
        "rot90-same-dims", "fliplr-1d", "diag-3d"])
def test_bad_arguments_raise_as_in_torch(call, error, message, torch):
    with pytest.raises(error, match=message):
        call(ag, ag.ones(2, 2))
    with pytest.raises(error):
        call(torch, torch.ones(2, 2))


def test_every_shared_function_pytorch_tensors_have_as_a_method_is_a_method_here(torch):
    shared = [name for name in dir(np) if not name.startswith("_") and hasattr(ag, name)
              and callable(getattr(ag, name)) and hasattr(torch.Tensor, name)]
    assert len(shared) > 100
    assert [name for name in shared if not hasattr(ag.Tensor, name)] == []


def test_histc_histogram_and_unravel_index_match_torch(torch):
    data = [1.0, 2.0, 1.0, 7.0, -3.0]
    for kwargs in [dict(bins=4), dict(bins=3, min=0, max=3)]:
        np.testing.assert_array_equal(ag.histc(ag.tensor(data), **kwargs).numpy(),
                                      torch.histc(torch.tensor(data), **kwargs).numpy())
    np.testing.assert_array_equal(ag.histc(ag.tensor([2.0, 2.0]), bins=4).numpy(),
                                  torch.histc(torch.tensor([2.0, 2.0]), bins=4).numpy())
    ours = ag.histogram(ag.tensor(data), 4, range=(0.0, 3.0), weight=ag.tensor([1.0, 2, 3, 4, 5]))
    theirs = torch.histogram(torch.tensor(data), 4, range=(0.0, 3.0), weight=torch.tensor([1.0, 2, 3, 4, 5]))
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy())
    np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy())
    edges = ag.histogram(ag.tensor(data), ag.tensor([-5.0, 0.0, 5.0, 10.0]), density=True)
    expected = torch.histogram(torch.tensor(data), torch.tensor([-5.0, 0.0, 5.0, 10.0]), density=True)
    np.testing.assert_allclose(edges.hist.numpy(), expected.hist.numpy(), rtol=1e-6)
    flat = [5, 7, -1]
    for a, t in zip(ag.unravel_index(ag.tensor(flat), (2, 4)), torch.unravel_index(torch.tensor(flat), (2, 4))):
        np.testing.assert_array_equal(a.numpy(), t.numpy())
    with pytest.raises(IndexError, match=r"unravel_index: indices must be in \[-8, 8\)"):
        ag.unravel_index(ag.tensor([8]), (2, 4))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "gcd", "lcm"])
def test_integer_binary_ops_match_torch_and_refuse_floats(name, torch):
    x, y = [12, -7, 5, 0], [10, 3, 2, 4]
    np.testing.assert_array_equal(getattr(ag, name)(ag.tensor(x), ag.tensor(y)).numpy(),
                                  getattr(torch, name)(torch.tensor(x), torch.tensor(y)).numpy())
    np.testing.assert_array_equal(getattr(ag.tensor(x), name)(ag.tensor(2)).numpy(),
                                  getattr(torch.tensor(x), name)(torch.tensor(2)).numpy())
    with pytest.raises(TypeError, match=f"{name}: needs integer or bool operands, got float32"):
        getattr(ag, name)(ag.ones(2), ag.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.ones(2), torch.tensor([1, 2]))


def test_shift_operators_shift_bits_as_torch(torch):
    np.testing.assert_array_equal((ag.tensor([1, 3, -8]) << 2).numpy(), (torch.tensor([1, 3, -8]) << 2).numpy())
    np.testing.assert_array_equal((ag.tensor([1, 3, -8]) >> 1).numpy(), (torch.tensor([1, 3, -8]) >> 1).numpy())


def test_bitwise_not_matches_torch_for_integers_and_bools(torch):
    for values in ([3, -1, 0], [True, False]):
        np.testing.assert_array_equal(ag.bitwise_not(ag.tensor(values)).numpy(),
                                      torch.bitwise_not(torch.tensor(values)).numpy())


def test_dtype_helpers_follow_pytorchs_promotion(torch):
    pairs = [("int64", "float32"), ("uint8", "int8"), ("bool", "int32"), ("float16", "float64"), ("int32", "int64")]
    for first, second in pairs:
        assert ag.promote_types(getattr(ag, first), getattr(ag, second)) == \
            np.dtype(str(torch.promote_types(getattr(torch, first), getattr(torch, second))).split(".")[1])
        assert ag.can_cast(getattr(ag, second), getattr(ag, first)) == \
            torch.can_cast(getattr(torch, second), getattr(torch, first))
    assert ag.result_type(ag.ones(2, dtype=ag.int64), 2.5) == np.float32   # torch: float32, NumPy: float64
    assert ag.result_type(ag.ones(2), 2) == np.float32
    assert ag.result_type(ag.tensor([True]), 2) == np.int64
    assert ag.finfo().eps == torch.finfo().eps and ag.finfo(ag.float64).tiny == torch.finfo(torch.float64).tiny
    assert ag.iinfo(ag.int64).max == torch.iinfo(torch.int64).max
    with pytest.raises(TypeError, match="not a floating point dtype"):
        ag.finfo(ag.int32)


def test_asarray_shares_memory_when_it_can_and_copies_when_asked(torch):
    array = np.ones(3)
    shared = ag.asarray(array)
    array[0] = 5
    assert shared.numpy()[0] == 5 and shared.dtype == np.float64
    assert ag.asarray(shared) is shared
    copied = ag.asarray(array, copy=True)
    array[1] = 7
    assert copied.numpy()[1] == 1
    assert ag.asarray([1, 2]).dtype == np.int64 and ag.asarray([1.0, 2.0]).dtype == np.float32
    assert torch.asarray([1.0, 2.0]).dtype == torch.float32
    with pytest.raises(ValueError, match="copy=False, but turning float64 into float32 needs a copy"):
        ag.asarray(array, dtype=ag.float32, copy=False)
    empty = ag.empty_like(ag.ones(2, 3, dtype=ag.float64))
    assert empty.shape == (2, 3) and empty.dtype == np.float64


def test_numpy_creation_likes_on_a_tensor_give_tensors_without_a_graph():
    x = leaf(np.ones((2, 2)))
    for out in (np.zeros_like(x), np.ones_like(x), np.full_like(x, 3.0), np.empty_like(x)):
        assert isinstance(out, ag.Tensor) and out.shape == (2, 2) and not out.requires_grad


def test_numpy_split_family_on_tensors_records_the_graph(torch):
    values = np.arange(14.0).reshape(2, 7)
    x = leaf(values)
    pieces = np.array_split(x, 3, axis=1)
    assert [p.shape for p in pieces] == [a.shape for a in np.array_split(values, 3, axis=1)]
    (pieces[0].sum() * 2 + pieces[2].sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(np.arange(7) < 3, 2.0, np.where(np.arange(7) >= 5, 1, 0))
                                  * np.ones((2, 1)))
    with pytest.raises(ValueError, match="equal division"):
        np.split(x, 3, axis=1)
    assert [p.shape for p in np.hsplit(leaf(np.ones((2, 4))), 2)] == [(2, 2), (2, 2)]


def test_diagonal_is_a_view_as_in_torch_so_writes_reach_the_base_and_its_gradient(torch):
    x = ag.zeros(3, 4)
    x.diagonal(1).fill_(2.0)
    expected = torch.zeros(3, 4)
    expected.diagonal(1).fill_(2.0)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    w, tw = leaf(np.ones((2, 3))), torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    z, tz = w * 1, tw * 1
    z.diagonal(-1, 1, 0).mul_(3)
    tz.diagonal(-1, 1, 0).mul_(3)
    (z * z).sum().backward()
    (tz * tz).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())
