"""scatter_reduce (sum, mean, amax, amin; include_self or not) against torch's on inputs full of ties,
where amax/amin share a gradient among the tied elements as torch does; integer tensors; the
refusals. (Smooth inputs are covered by the op table's gradcheck and torch comparison.)"""
import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def run(lib, x, index, src, dim, reduce, include_self):
    floating = x.dtype.kind == "f"
    xt, st = lib.tensor(x, requires_grad=floating), lib.tensor(src, requires_grad=floating)
    out = xt.scatter_reduce(dim, lib.tensor(index), st, reduce, include_self=include_self)
    if not floating:
        return [out.numpy()]
    weights = np.linspace(0.5, 2, out.numel()).reshape(tuple(out.shape)).astype(x.dtype)
    (out * lib.tensor(weights)).sum().backward()
    return [out.detach().numpy(), xt.grad.numpy(), st.grad.numpy()]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_with_ties_matches_torch(reduce, include_self, dim, dtype):
    rng = np.random.default_rng(7)
    for _ in range(5):
        x = rng.integers(-2, 3, (4, 5)).astype(dtype)   # few distinct values: many ties
        index = rng.integers(0, 4, (6, 3)) if dim == 0 else rng.integers(0, 5, (4, 3))
        src = rng.integers(-2, 3, index.shape).astype(dtype)
        ours = run(ag, x, index, src, dim, reduce, include_self)
        theirs = run(torch, x, index, src, dim, reduce, include_self)
        for mine, expected in zip(ours, theirs):
            assert mine.dtype == expected.dtype
            np.testing.assert_allclose(mine, expected, rtol=1e-6)


def test_scatter_reduce_refuses_what_torch_refuses_and_prod():
    x, index = ag.zeros(2, 3), ag.tensor([[0, 1]])
    with pytest.raises(ValueError, match="reduce argument must be either sum, prod, mean, amax or amin"):
        x.scatter_reduce(1, index, ag.ones(1, 2), "max")
    with pytest.raises(ag.DTypeError, match="self.dtype to be equal to src.dtype"):
        x.scatter_reduce(1, index, ag.ones(1, 2, dtype=ag.float64), "sum")
    with pytest.raises(NotImplementedError, match="prod"):
        x.scatter_reduce(1, index, ag.ones(1, 2), "prod")


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter:UserWarning")
def test_scatter_with_reduce_add_is_scatter_add_as_torch():
    x, index, src = np.arange(6.0).reshape(2, 3), np.array([[0, 0, 2]]), np.array([[1.0, 2.0, 3.0]])
    ours = ag.tensor(x).scatter_(1, ag.tensor(index), ag.tensor(src), reduce="add")
    theirs = torch.tensor(x).scatter_(1, torch.tensor(index), torch.tensor(src), reduce="add")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
