"""Checks shared by the test files whose cases are `fn(lib, *inputs)`, one expression run with
`lib = autograd` and `lib = torch` on the same float64 arrays: forward values, dtypes and shapes,
gradcheck/gradgradcheck, and gradients against torch's. A case may return a tensor or a tuple of
them (values, indices, ...); gradients flow from its first item."""
import warnings

import numpy as np

import autograd as ag


def first(out):
    return out[0] if isinstance(out, tuple) else out


def run(lib, fn, inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's deprecations (chain_matmul)
        return fn(lib, *inputs)


def check_forward_matches_torch(torch, fn, inputs, rtol=1e-5, atol=1e-5):
    """In float32: every output has torch's shape, dtype and values."""
    ours = run(ag, fn, [ag.tensor(x.astype(np.float32)) for x in inputs])
    theirs = run(torch, fn, [torch.tensor(x.astype(np.float32)) for x in inputs])
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert isinstance(theirs, tuple) and len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert mine.shape == tuple(reference.shape)
        assert str(mine.dtype) == str(reference.dtype).removeprefix("torch.")
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=rtol, atol=atol)


def check_gradcheck_and_gradgradcheck(fn, inputs):
    tensors = [ag.tensor(x, requires_grad=True) for x in inputs]
    assert ag.gradcheck(lambda *xs: first(fn(ag, *xs)), tensors)
    assert ag.gradgradcheck(lambda *xs: first(fn(ag, *xs)), tensors)


def check_gradients_match_torch(torch, fn, inputs, rng):
    """The gradients of a random weighting of the first output, for every input (None counts as 0)."""
    ours = [ag.tensor(x, requires_grad=True) for x in inputs]
    theirs = [torch.tensor(x, requires_grad=True) for x in inputs]
    out_ours, out_theirs = first(run(ag, fn, ours)), first(run(torch, fn, theirs))
    weights = rng.standard_normal(tuple(out_theirs.shape))
    (out_ours * ag.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs):
        expected = np.zeros(mine.shape) if reference.grad is None else reference.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def torch_case_tests(cases, rng):
    """The three tests of a table of cases, for a test module to bind to its own names:
    `test_forward, test_gradchecks, test_torch_gradients = torch_case_tests(CASES, rng)`."""
    import pytest
    torch = pytest.importorskip("torch")

    @pytest.mark.parametrize("name", cases)
    def test_values_dtypes_and_shapes_match_torch_in_float32(name):
        check_forward_matches_torch(torch, *cases[name])

    @pytest.mark.parametrize("name", cases)
    def test_gradients_pass_gradcheck_and_gradgradcheck(name):
        check_gradcheck_and_gradgradcheck(*cases[name])

    @pytest.mark.parametrize("name", cases)
    def test_gradients_match_torch(name):
        check_gradients_match_torch(torch, *cases[name], rng)

    return (test_values_dtypes_and_shapes_match_torch_in_float32, test_gradients_pass_gradcheck_and_gradgradcheck,
            test_gradients_match_torch)
