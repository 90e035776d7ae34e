"""autograd.linalg, as torch.linalg (values and gradients in tests/op_table.py): the norms' dispatch,
the errors PyTorch raises, and numpy.linalg's functions on tensors in the graph."""
import numpy as np
import pytest

import autograd as ag


def leaf(array):
    return ag.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("ord, dim", [(None, None), (2, 1), (3.5, -1), (0, -1), (float("inf"), None),
                                      ("fro", (1, 2)), (1, (2, 1)), (float("-inf"), (0, 1)), (-1, (0, 2))])
def test_linalg_norm_dispatches_to_vector_and_matrix_norms_as_torch(ord, dim, torch):
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    if dim is None and ord is not None:
        values = values[0]
    ours = ag.linalg.norm(ag.tensor(values), ord, dim)
    theirs = torch.linalg.norm(torch.tensor(values), ord, dim)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
@pytest.mark.parametrize("dim, keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norms_of_singular_values_match_torch_with_gradients(ord, dim, keepdim, torch):
    values = np.random.default_rng(1).standard_normal((3, 2, 4))
    ours, theirs = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out = ag.linalg.matrix_norm(ours, ord, dim, keepdim)
    expected = torch.linalg.matrix_norm(theirs, ord, dim, keepdim)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_matrix_norm_of_an_unknown_order_and_a_3d_norm_raise_clearly(torch):
    with pytest.raises(ValueError, match="ord=3 is not a matrix norm"):
        ag.linalg.matrix_norm(ag.ones(2, 2), 3)
    with pytest.raises(ValueError, match="the input must be 1-D or 2-D"):
        ag.linalg.norm(ag.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError):
        torch.linalg.norm(torch.ones(2, 2, 2), 1)


@pytest.mark.parametrize("call", [lambda lib, a: lib.linalg.inv(a), lambda lib, a: lib.linalg.solve(a, a[0])],
                         ids=["inv", "solve"])
def test_a_singular_matrix_raises_as_torchs_linalg_error(call, torch):
    singular = [[1.0, 2.0], [2.0, 4.0]]
    with pytest.raises(ag.linalg.LinAlgError, match="singular"):
        call(ag, ag.tensor(singular))
    with pytest.raises(torch.linalg.LinAlgError):
        call(torch, torch.tensor(singular))


@pytest.mark.parametrize("name", ["inv", "det", "slogdet"])
def test_non_square_and_integer_matrices_are_refused_as_torch(name, torch):
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        getattr(ag.linalg, name)(ag.ones(2, 3))
    with pytest.raises(RuntimeError):
        getattr(torch.linalg, name)(torch.ones(2, 3))
    with pytest.raises(TypeError, match="floating point"):
        getattr(ag.linalg, name)(ag.tensor([[1, 0], [0, 1]]))


def test_determinant_sign_and_logdet_of_negative_and_singular_matrices_match_torch(torch):
    for matrix in ([[0.0, 1.0], [1.0, 0.0]], [[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]):
        ours, theirs = ag.linalg.slogdet(ag.tensor(matrix)), torch.linalg.slogdet(torch.tensor(matrix))
        assert ours.sign.item() == theirs.sign.item() and not ours.sign.requires_grad
        np.testing.assert_allclose(ours.logabsdet.numpy(), theirs.logabsdet.numpy())
        np.testing.assert_allclose(ag.det(ag.tensor(matrix)).numpy(), torch.det(torch.tensor(matrix)).numpy(),
                                   atol=1e-7)
        np.testing.assert_array_equal(ag.logdet(ag.tensor(matrix)).numpy(), torch.logdet(torch.tensor(matrix)).numpy())


def test_solve_follows_torchs_rule_for_batches_of_vectors_and_numpys_through_the_protocol():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 3))
    batch_of_vectors = np.stack([np.linalg.solve(a[i], b[i]) for i in range(3)])
    np.testing.assert_allclose(ag.linalg.solve(ag.tensor(a), ag.tensor(b)).numpy(), batch_of_vectors)
    np.testing.assert_allclose(np.linalg.solve(ag.tensor(a), ag.tensor(b)).numpy(), np.linalg.solve(a, b))


NUMPY_LINALG = [
    ("inv", lambda m, a: m.linalg.inv(a)),
    ("det", lambda m, a: m.linalg.det(a)),
    ("slogdet", lambda m, a: m.linalg.slogdet(a)[1]),
    ("solve", lambda m, a: m.linalg.solve(a, a[0])),
    ("norm", lambda m, a: m.linalg.norm(a[0])),
    ("norm_axis", lambda m, a: m.linalg.norm(a, 1, axis=(1, 2), keepdims=True)),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 3)),
    ("multi_dot", lambda m, a: m.linalg.multi_dot([a[0], a[1], a[0, 0]])),
]


@pytest.mark.parametrize("name, call", NUMPY_LINALG, ids=[n for n, _ in NUMPY_LINALG])
def test_numpy_linalg_on_tensors_gives_numpys_values_and_a_checked_gradient(name, call):
    values = np.random.default_rng(2).uniform(-1, 1, (2, 3, 3)) + 2 * np.eye(3)
    out = call(np, leaf(values))
    assert isinstance(out, ag.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), call(np, values), rtol=1e-10)
    assert ag.gradcheck(lambda t: call(np, t), [leaf(values)])


def test_linear_bias_that_broadcasts_to_the_output_gets_its_own_shaped_gradient_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, w, b, upstream = rng.standard_normal((2, 3)), rng.standard_normal((5, 3)), rng.standard_normal((2, 5)), \
        rng.standard_normal((2, 5))
    mb, tb = ag.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = ag.linear(ag.tensor(x), ag.tensor(w), mb)
    t_out = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), tb)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
    out.backward(ag.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("weight_shape", [(3,), ()])
def test_linear_names_a_weight_that_is_not_2d(weight_shape):
    with pytest.raises(ag.ShapeError, match=r"linear: expects a 2-D weight"):
        ag.linear(ag.ones(2, 3), ag.ones(*weight_shape))
