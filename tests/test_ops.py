"""Generic op checks, expanded from tests/op_table.py: forward against NumPy, float64 gradcheck
and gradgradcheck on every shape case, and forward and backward against PyTorch."""
import numpy as np
import pytest

import autograd as ag
from op_table import OPS

CASES = [pytest.param(spec, shapes, id=f"{spec.name}-{'-'.join(map(str, shapes))}")
         for spec in OPS for shapes in spec.shapes]


def make_inputs(spec, shapes, rng, dtype=np.float64):
    low, high = spec.domain
    arrays = []
    for k, shape in enumerate(shapes):
        if spec.distinct:  # keep elements apart (within and across inputs) and from kinks at 0 / clamp bounds
            n = int(np.prod(shape, dtype=int))
            values = rng.permutation(np.linspace(low, high, max(n, 1)) + 0.0123 * (k + 1))[:n]
            values[np.abs(values) < 0.05] += 0.1
            arrays.append(values.reshape(shape))
        else:
            arrays.append(rng.uniform(low, high, shape))
    return [ag.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("spec, shapes", CASES)
def test_gradcheck(spec, shapes, rng):
    inputs = make_inputs(spec, shapes, rng)
    assert ag.gradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec, shapes", [c for c in CASES if c.values[0].second_order])
def test_gradgradcheck(spec, shapes, rng):
    inputs = make_inputs(spec, shapes, rng)
    assert ag.gradgradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec, shapes", [c for c in CASES if c.values[0].numpy_fn is not None])
def test_forward_matches_numpy(spec, shapes, rng):
    inputs = make_inputs(spec, shapes, rng)
    expected = spec.numpy_fn(*[t.numpy() for t in inputs])
    np.testing.assert_allclose(spec.fn(*inputs).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("spec, shapes", [c for c in CASES if c.values[0].torch_fn is not None])
def test_matches_torch(spec, shapes, dtype, rtol, rng):
    torch = pytest.importorskip("torch")
    inputs = make_inputs(spec, shapes, rng, dtype)
    out = spec.fn(*inputs)
    torch_inputs = [torch.tensor(t.numpy(), requires_grad=True) for t in inputs]
    torch_out = spec.torch_fn(torch, *torch_inputs)
    assert out.dtype == dtype, "the graph must keep its dtype"
    assert out.shape == tuple(torch_out.shape)
    np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=rtol, atol=rtol)
    seed = rng.standard_normal(out.shape).astype(dtype)
    out.backward(ag.tensor(seed))
    torch_out.backward(torch.tensor(seed))
    for t, tt in zip(inputs, torch_inputs):
        expected = tt.grad.numpy() if tt.grad is not None else np.zeros(t.shape, dtype)
        assert t.grad.dtype == dtype and t.grad.shape == t.shape
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=rtol * 10, atol=rtol * 10)
