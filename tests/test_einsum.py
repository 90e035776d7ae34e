"""ag.einsum (autograd/ops/einsum.py): values as torch.einsum and numpy.einsum, gradients as PyTorch's,
differentiable twice, the call forms and errors of torch.einsum, and np.einsum on tensors in the graph."""
import re

import numpy as np
import pytest

import autograd as ag

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),             # matrix product
    ("ij,jk", [(2, 3), (3, 4)]),                  # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),     # batched
    ("i,j->ij", [(3,), (4,)]),                    # outer
    ("i,i->", [(3,), (3,)]),                      # inner
    ("ij->ji", [(2, 3)]),                         # transpose
    ("ij->", [(2, 3)]),                           # sum of all
    ("ij->j", [(2, 3)]),                          # a letter summed within its only operand
    ("ii->i", [(3, 3)]),                          # diagonal
    ("ii", [(3, 3)]),                             # trace
    ("iij->ji", [(2, 2, 3)]),                     # batched diagonal
    ("iji->j", [(2, 3, 2)]),                      # repeated letter, not adjacent
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),          # a diagonal inside a product
    ("ij,ij->ij", [(2, 3), (2, 3)]),              # elementwise
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),      # contraction over two letters
    ("i,ij,j->", [(3,), (3, 4), (4,)]),           # three operands (a bilinear form)
    ("ba,Ab", [(2, 3), (4, 2)]),                  # upper-case letters sort first
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),  # ellipsis, broadcast batch dims
    ("...ij->...ji", [(2, 3, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("...", [(2, 3)]),
    ("...i->i", [(2, 3, 4)]),                     # ellipsis dims not in the output are summed, as torch
    ("i,i", [(1,), (3,)]),                        # a labelled dim of size 1 broadcasts, as torch
    ("ij,j->i", [(2, 1), (3,)]),
    ("i->i", [(0,)]),                             # empty
    ("ij,jk->ik", [(0, 3), (3, 2)]),
    ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)]),  # attention scores, with spaces
]
IDS = [f"{eq}-{shapes}" for eq, shapes in EQUATIONS]


def operands(shapes, rng):
    return [rng.standard_normal(shape) for shape in shapes]


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=IDS)
def test_einsum_values_and_gradients_match_torch(equation, shapes, rng, torch):
    arrays = operands(shapes, rng)
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ag.einsum(equation, *xs), torch.einsum(equation, *ts)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = rng.standard_normal(out.shape)
    (out * ag.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation, shapes", [e for e in EQUATIONS if e[0] != "...i->i"],
                         ids=[i for e, i in zip(EQUATIONS, IDS) if e[0] != "...i->i"])  # NumPy refuses that one
def test_einsum_values_match_numpy(equation, shapes, rng):
    arrays = operands(shapes, rng)
    expected = np.einsum(equation, *arrays)
    np.testing.assert_allclose(ag.einsum(equation, *map(ag.tensor, arrays)).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=IDS)
def test_einsum_passes_gradcheck_and_gradgradcheck(equation, shapes, rng):
    xs = [ag.tensor(a, requires_grad=True) for a in operands(shapes, rng)]
    assert ag.gradcheck(lambda *x: ag.einsum(equation, *x), xs)
    assert ag.gradgradcheck(lambda *x: ag.einsum(equation, *x), xs)


def test_einsum_squared_is_twice_differentiable_in_every_operand(rng):
    # The output squared makes the incoming gradient depend on the operands, so the gradient einsums are
    # differentiated in all their inputs.
    xs = [ag.tensor(a, requires_grad=True) for a in operands([(3, 3, 2), (2, 4)], rng)]
    assert ag.gradgradcheck(lambda a, b: ag.einsum("iij,jk->ik", a, b) ** 2, xs)


def test_einsum_takes_a_list_of_operands_and_the_sublist_form(rng, torch):
    a, b = operands([(2, 3), (3, 4)], rng)
    expected = a @ b
    np.testing.assert_allclose(ag.einsum("ij,jk->ik", [ag.tensor(a), ag.tensor(b)]).numpy(), expected)
    np.testing.assert_allclose(ag.einsum(ag.tensor(a), [0, 1], ag.tensor(b), [1, 2], [0, 2]).numpy(), expected)
    implicit = ag.einsum(ag.tensor(a), [0, 1], ag.tensor(b), [1, 2])
    np.testing.assert_allclose(implicit.numpy(), torch.einsum(torch.tensor(a), [0, 1], torch.tensor(b), [1, 2]))
    batched = rng.standard_normal((5, 2, 3))
    np.testing.assert_allclose(ag.einsum(ag.tensor(batched), [..., 0, 1], [..., 1, 0]).numpy(),
                               np.swapaxes(batched, -1, -2))


def test_einsum_keeps_float32_and_integer_dtypes():
    assert ag.einsum("ij,jk", ag.ones(2, 3), ag.ones(3, 2)).dtype == np.float32
    counts = ag.einsum("ij->j", ag.tensor([[1, 2], [3, 4]]))
    assert counts.dtype == np.int64 and counts.tolist() == [4, 6]


ERRORS = [
    ("ij,jk", [(2, 2)], "fewer operands"),
    ("ij", [(2, 2), (2, 2)], "more operands"),
    ("ij", [(2, 2, 2)], "number of subscripts in the equation (2) does not match the number of dimensions (3)"),
    ("ijk...", [(2, 2)], "more than the number of dimensions"),
    ("i1", [(2, 2)], "invalid subscript given at index 1"),
    ("ij->ii", [(2, 2)], "output subscript i appears more than once"),
    ("ij->k", [(2, 2)], "output subscript k does not appear"),
    ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("ij,jk", [(2, 2), (3, 2)], "subscript j has size 3 for operand 1 which does not broadcast with previously seen "
                                "size 2"),
    ("i.j", [(2, 2)], "ellipsis"),
]


@pytest.mark.parametrize("equation, shapes, message", ERRORS, ids=[e[0] + str(e[1]) for e in ERRORS])
def test_einsum_rejects_bad_equations_as_torch_does(equation, shapes, message, torch):
    with pytest.raises(RuntimeError, match=r"^einsum\(\): .*" + re.escape(message)):
        ag.einsum(equation, *[ag.ones(*s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(*s) for s in shapes])


def test_einsum_refuses_operands_of_different_dtypes_naming_them():
    with pytest.raises(TypeError, match="same dtype, got float32, float64"):
        ag.einsum("i,i", ag.ones(2), ag.ones(2, dtype=ag.float64))


def test_einsum_refuses_a_call_without_operands_or_with_arrays():
    with pytest.raises(ValueError, match="at least one operand"):
        ag.einsum("ij")
    with pytest.raises(TypeError, match="operand 0 must be a Tensor, got ndarray"):
        ag.einsum("ij", np.ones((2, 2)))


def test_np_einsum_on_tensors_records_the_graph(rng, torch):
    a, b = operands([(2, 3), (3, 4)], rng)
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    out = np.einsum("ij,jk->ik", x, y)
    assert isinstance(out, ag.Tensor) and out.grad_fn is not None
    (out ** 2).sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.einsum("ij,jk->ik", tx, ty) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_np_einsum_mixes_tensors_and_arrays_with_numpys_equation_rules(rng):
    a, b = operands([(2, 3), (3,)], rng)
    x = ag.tensor(a, requires_grad=True)
    out = np.einsum("ij,j", x, b)
    np.testing.assert_allclose(out.numpy(), a @ b)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(b, (2, 3)))
