"""cdist, pdist, dist, matrix_power, chain_matmul, block_diag, cartesian_prod, combinations: values,
dtypes and shapes as torch's, gradients by gradcheck/gradgradcheck in float64 and against torch's,
and clear errors."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from torch_cases import torch_case_tests
from autograd.errors import ArgumentError, DTypeError, ShapeError

torch = pytest.importorskip("torch")

rng = np.random.default_rng(1)


def points(*shape):
    return rng.standard_normal(shape)


CASES = {
    "cdist_p2": (lambda lib, a, b: lib.cdist(a, b), [points(4, 3), points(5, 3)]),
    "cdist_p1": (lambda lib, a, b: lib.cdist(a, b, p=1), [points(4, 3), points(5, 3)]),
    "cdist_p3_5": (lambda lib, a, b: lib.cdist(a, b, p=3.5), [points(4, 3), points(5, 3)]),
    "cdist_inf": (lambda lib, a, b: lib.cdist(a, b, p=float("inf")), [points(4, 3), points(5, 3)]),
    "cdist_batched_broadcast": (lambda lib, a, b: lib.cdist(a, b), [points(2, 4, 3), points(1, 5, 3)]),
    "pdist_p2": (lambda lib, x: lib.pdist(x), [points(5, 3)]),
    "pdist_p1_5": (lambda lib, x: lib.pdist(x, p=1.5), [points(5, 3)]),
    "functional_pdist": (lambda lib, x: (lib.nn.functional if lib.__name__ == "torch" else F).pdist(x, 3.0),
                         [points(4, 2)]),
    "dist": (lambda lib, a, b: lib.dist(a, b), [points(2, 3), points(3)]),
    "dist_p3_method": (lambda lib, a, b: a.dist(b, 3), [points(2, 3), points(2, 3)]),
    "matrix_power_3": (lambda lib, a: lib.matrix_power(a, 3), [points(3, 3)]),
    "matrix_power_negative": (lambda lib, a: lib.matrix_power(a, -2), [points(3, 3) + 3 * np.eye(3)]),
    "chain_matmul": (lambda lib, a, b, c: lib.chain_matmul(a, b, c), [points(2, 3), points(3, 4), points(4, 2)]),
    "block_diag": (lambda lib, a, b, c: lib.block_diag(a, b, c), [points(2, 3), points(4), points(1, 2)]),
    "cartesian_prod": (lambda lib, a, b: lib.cartesian_prod(a, b), [points(2), points(3)]),
    "cartesian_prod_three": (lambda lib, a, b, c: lib.cartesian_prod(a, b, c), [points(2), points(3), points(2)]),
    "combinations": (lambda lib, x: lib.combinations(x), [points(4)]),
    "combinations_r3_with_replacement": (lambda lib, x: lib.combinations(x, 3, with_replacement=True), [points(3)]),
}



(test_values_dtypes_and_shapes_match_torch_in_float32, test_gradients_pass_gradcheck_and_gradgradcheck,
 test_gradients_match_torch) = torch_case_tests(CASES, rng)


def test_distance_gradient_is_zero_where_points_coincide_as_torch():
    data = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0]])
    ours, theirs = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (ag.pdist(ours).sum() + ag.cdist(ours, ours.detach()).sum()).backward()
    (torch.pdist(theirs).sum() + torch.cdist(theirs, theirs.detach()).sum()).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)
    assert np.isfinite(ours.grad.numpy()).all()


def test_p_zero_counts_the_differing_coordinates_as_torch():
    a, b = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(ag.cdist(ag.tensor(a), ag.tensor(b), p=0).numpy(),
                                  torch.cdist(torch.tensor(a), torch.tensor(b), p=0).numpy())
    assert ag.dist(ag.tensor(a), ag.tensor(b), 0).item() == torch.dist(torch.tensor(a), torch.tensor(b), 0).item()


def test_edge_shapes_and_dtypes_match_torch():
    pairs = [(ag.block_diag(ag.tensor(2), ag.tensor([1, 2]), ag.ones(2, 0)),
              torch.block_diag(torch.tensor(2), torch.tensor([1, 2]), torch.ones(2, 0))),
             (ag.block_diag(ag.tensor([1, 2]), ag.tensor([1.5])), torch.block_diag(torch.tensor([1, 2]), torch.tensor([1.5]))),
             (ag.block_diag(), torch.block_diag()),
             (ag.cartesian_prod(ag.tensor([1, 2])), torch.cartesian_prod(torch.tensor([1, 2]))),
             (ag.combinations(ag.tensor([1.0, 2.0]), 3), torch.combinations(torch.tensor([1.0, 2.0]), 3)),
             (ag.combinations(ag.tensor([1.0, 2.0]), 0), torch.combinations(torch.tensor([1.0, 2.0]), 0)),
             (ag.combinations(ag.tensor([1, 2, 3]), 1), torch.combinations(torch.tensor([1, 2, 3]), 1))]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call, error, words", [
    (lambda: ag.cdist(ag.ones(2, 3), ag.ones(2, 4)), ShapeError, "cdist: x1 and x2 must have the same number of columns"),
    (lambda: ag.cdist(ag.ones(3), ag.ones(2, 3)), ShapeError, r"cdist: expects tensors of at least 2 dims.*\(3,\)"),
    (lambda: ag.cdist(ag.ones(2, 3), ag.ones(2, 3), p=-1), ArgumentError, "cdist: only supports non-negative p"),
    (lambda: ag.dist(ag.ones(2), ag.ones(2), -1), ArgumentError, "dist: only supports non-negative p"),
    (lambda: ag.pdist(ag.ones(2, 3, 1)), ShapeError, r"pdist: expects a 2-D tensor.*\(2, 3, 1\)"),
    (lambda: ag.dist(ag.ones(2), ag.ones(3)), ShapeError, r"\(2,\) and \(3,\)"),
    (lambda: ag.matrix_power(ag.ones(2, 3), 2), ArgumentError, r"matrix_power: needs square matrices.*\(2, 3\)"),
    (lambda: ag.chain_matmul(ag.ones(2, 3), ag.ones(3)), ShapeError, "chain_matmul: expects 2-D matrices, matrix 1"),
    (lambda: ag.chain_matmul(ag.ones(2, 3), ag.ones(4, 2)), ShapeError, "mm|matmul"),
    (lambda: ag.block_diag(ag.ones(1, 1, 1)), ShapeError, "block_diag: expects tensors of at most 2 dims"),
    (lambda: ag.cartesian_prod(ag.ones(2, 2)), ShapeError, "cartesian_prod: expects 1-D tensors"),
    (lambda: ag.cartesian_prod(ag.ones(2), ag.tensor([1])), DTypeError, "cartesian_prod: the tensors must have the same dtype"),
    (lambda: ag.combinations(ag.ones(2, 2)), ShapeError, "combinations: expects a 1-D tensor"),
    (lambda: ag.combinations(ag.ones(2), -1), ArgumentError, "combinations: r must be non-negative"),
])
def test_bad_arguments_raise_clear_errors_naming_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call()
