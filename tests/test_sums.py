"""The BLAS-product sums behind bias gradients and normalisation (autograd/sums.py), the maxima along
short rows behind softmax, and the row
scatter behind an embedding's gradient (indexing.add_rows), against NumPy's own sums and add.at,
and the gradients that go through them against PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
import nn.functional as F
from autograd.broadcasting import sum_to
from autograd.ops.indexing import add_rows
from autograd.sums import column_sums, extreme_keepdims, row_sums, sum_keepdims, sum_leading_or_trailing


@st.composite
def arrays_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4)))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16, np.int64]))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape).astype(dtype)
    if draw(st.booleans()) and x.ndim >= 2:
        x = x.swapaxes(0, 1)   # not C-contiguous: NumPy's own sum must be used
    axes = tuple(sorted(draw(st.sets(st.integers(0, x.ndim - 1), min_size=1))))
    return x, axes


@settings(max_examples=200, deadline=None)
@given(arrays_and_axes())
def test_leading_and_trailing_sums_equal_numpys_or_decline(case):
    x, axes = case
    sums = sum_leading_or_trailing(x, axes)
    lead = next((k for k, axis in enumerate(axes) if axis != k), len(axes))
    leading_or_trailing = axes[lead:] == tuple(range(x.ndim - len(axes) + lead, x.ndim))
    blas_able = x.dtype in (np.float32, np.float64) and x.flags.c_contiguous
    if not (leading_or_trailing and blas_able):
        assert sums is None
        return
    expected = np.sum(x.astype(np.float64), axis=axes, keepdims=True)
    assert sums.shape == expected.shape and sums.dtype == x.dtype
    np.testing.assert_allclose(sums, expected, rtol=1e-5 if x.dtype == np.float32 else 1e-12, atol=1e-5)


@settings(max_examples=300, deadline=None)
@given(arrays_and_axes(), st.sampled_from([1, 3, 9]))
def test_sum_keepdims_equals_numpys_sum_for_any_axes_dtype_and_layout(case, stretch):
    x, axes = case
    x = np.repeat(x, stretch, axis=-1) if x.ndim else x   # long and short axes both
    sums = sum_keepdims(x, axes)
    expected = np.sum(x, axis=axes, keepdims=True)
    assert sums.shape == expected.shape and sums.dtype == expected.dtype
    tolerance = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5}.get(x.dtype, 1e-12)
    np.testing.assert_allclose(sums, expected, rtol=tolerance, atol=tolerance)


@settings(max_examples=300, deadline=None)
@given(arrays_and_axes(), st.sampled_from([1, 40, 200]), st.booleans(), st.booleans())
def test_extreme_keepdims_equals_numpys_amax_and_amin_nan_included(case, rows, largest, with_nan):
    x, axes = case
    x = np.concatenate([x] * rows) if x.ndim else x   # many short rows, where the transposed copy is taken
    if with_nan and x.size:
        x = x.astype(np.float64)
        x.flat[x.size // 2] = np.nan
    expected = (np.amax if largest else np.amin)(x, axis=axes, keepdims=True) if all(x.shape[a] for a in axes) else None
    if expected is None:
        return   # NumPy itself refuses an extremum over an empty axis
    got = extreme_keepdims(x, axes, largest)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_softmax_and_logsumexp_over_short_rows_with_infinite_and_nan_logits_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((300, 7)).astype(np.float32)
    x[3] = -np.inf
    x[4, 2] = np.inf
    x[5, 1] = np.nan
    for mine, theirs in ((ag.softmax(ag.tensor(x), 1), torch.softmax(torch.from_numpy(x), 1)),
                         (ag.log_softmax(ag.tensor(x), -1), torch.log_softmax(torch.from_numpy(x), -1)),
                         (ag.logsumexp(ag.tensor(x), 1), torch.logsumexp(torch.from_numpy(x), 1)),
                         (ag.amax(ag.tensor(x), 1), torch.amax(torch.from_numpy(x), 1))):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_long_rows_and_whole_array_sums_are_left_to_numpys_pairwise_summation():
    x = np.random.default_rng(2).standard_normal((3, 5000)).astype(np.float32)
    assert sum_leading_or_trailing(x, (1,)) is None
    assert sum_leading_or_trailing(x, (0, 1)) is None
    assert sum_leading_or_trailing(x, (0,)) is not None   # down columns NumPy is not pairwise either
    assert sum_leading_or_trailing(x.reshape(-1, 1), (0,)) is None   # but a single column is a row
    assert sum_leading_or_trailing(x[:, :1000], (1,)) is None   # not contiguous
    exact = np.sum(x.astype(np.float64))
    assert abs(float(ag.tensor(x).sum().numpy()) - exact) <= 1e-6 * np.abs(x).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.float16])
def test_row_and_column_sums_of_any_dtype(dtype):
    m = np.arange(12).reshape(3, 4).astype(dtype)
    np.testing.assert_array_equal(row_sums(m), m.sum(axis=1))
    np.testing.assert_array_equal(column_sums(m), m.sum(axis=0))
    assert row_sums(m).dtype == m.sum(axis=1).dtype


def test_sum_to_of_a_bias_gradient_is_float32_and_close_to_the_exact_sum():
    g = np.random.default_rng(0).standard_normal((4096, 7)).astype(np.float32)
    summed = sum_to(ag.tensor(g), (7,))
    assert summed.dtype == np.float32
    np.testing.assert_allclose(summed.numpy(), g.astype(np.float64).sum(0), rtol=0, atol=2e-4)


def test_linear_bias_and_batch_norm_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((6, 75)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    gamma, beta = rng.standard_normal((2, 3)).astype(np.float32)

    def run(functional, tensor):
        xt, wt, bt, gt, bet = (tensor(a) for a in (x, w, b, gamma, beta))
        h = functional.batch_norm(xt, None, None, gt, bet, training=True)
        out = functional.linear(h.reshape(64, 75), wt, bt)
        (out * out).mean().backward()
        return [t.grad.detach().numpy() for t in (xt, wt, bt, gt, bet)]

    ours = run(F, lambda a: ag.tensor(a, requires_grad=True))
    theirs = run(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-5)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.lists(st.integers(1, 4), max_size=2), st.integers(0, 300), st.integers(0, 2**16),
       st.sampled_from([np.float32, np.float64]))
def test_add_rows_equals_numpys_add_at_to_the_bit(rows, row_shape, count, seed, dtype):
    # An embedding's gradient: rows picked by integers, repeats (up to and past the rounds limit) and
    # negative indices included.
    rng = np.random.default_rng(seed)
    low = -rows if seed % 2 else 0
    index = rng.integers(low, rows, count if seed % 3 else (count // 7, 7) if count >= 7 else count)
    values = rng.standard_normal(index.shape + tuple(row_shape)).astype(dtype)
    expected = np.zeros((rows, *row_shape), dtype)
    np.add.at(expected, index, values)
    out = np.zeros((rows, *row_shape), dtype)
    add_rows(out, index, values)
    np.testing.assert_array_equal(out, expected)


def test_embedding_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((50, 8)).astype(np.float32)
    tokens = rng.integers(0, 50, (16, 40))
    grad = rng.standard_normal((16, 40, 8)).astype(np.float32)
    ours = ag.tensor(weight, requires_grad=True)
    F.embedding(ag.tensor(tokens), ours).backward(ag.tensor(grad))
    theirs = torch.tensor(weight, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(tokens), theirs).backward(torch.tensor(grad))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, to", [((4, 3, 5), (5,)), ((4, 3, 5), (3, 5)), ((0, 5), (5,)), ((7, 1), (1,)),
                                       ((3,), ()), ((2, 3), (1, 3)), ((5, 2, 3), (2, 1)), ((300, 1), (1,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_sum_to_equals_numpys_sum_back_to_the_shape(shape, to, dtype):
    x = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    lead = len(shape) - len(to)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(to) if n == 1 and shape[lead + i] != 1)
    expected = np.sum(x, axis=axes, keepdims=True).reshape(to)
    got = sum_to(ag.tensor(x), to).numpy()
    assert isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype == expected.dtype
    tolerance = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5}.get(x.dtype, 1e-12)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
