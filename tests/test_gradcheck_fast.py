"""gradcheck / gradgradcheck with fast_mode=True: random projections v^T J u pass right gradients,
catch wrong ones (down to a single off-diagonal Jacobian element), and a failure still names the
input and the element, through the fallback to the full Jacobian."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F


def leaf(rng, *shape):
    return ag.tensor(rng.standard_normal(shape), requires_grad=True)


RIGHT_OPS = {
    "tanh_times": lambda x, y: x.tanh() * y,
    "matmul_broadcast": lambda x, y: (x @ y.T).exp() + y.sum(),
    "softmax": lambda x, y: (x * y).softmax(-1),
    "several_outputs": lambda x, y: (x.sin(), (x * y).sum(0), y ** 3),
    "conv": lambda x, y: F.conv2d(x.reshape(1, 1, 3, 4), y[:2, :2].reshape(1, 1, 2, 2), padding=1),
}


@pytest.mark.parametrize("name", RIGHT_OPS)
def test_fast_gradcheck_passes_right_ops(name, rng):
    assert ag.gradcheck(RIGHT_OPS[name], [leaf(rng, 3, 4), leaf(rng, 3, 4)], fast_mode=True)


@pytest.mark.parametrize("name", ["tanh_times", "matmul_broadcast", "softmax"])
def test_fast_gradgradcheck_passes_right_ops(name, rng):
    assert ag.gradgradcheck(RIGHT_OPS[name], [leaf(rng, 3, 4), leaf(rng, 3, 4)], fast_mode=True)


class ProductWithWrongCrossTerm(ag.Function):
    """f(x, y) = x * y + sin(x) * y**2, whose d/dy drops the factor 2 of the cross term."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y + x.sin() * y ** 2

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (y + x.cos() * y ** 2), grad * (x + x.sin() * y)  # should be 2 * sin(x) * y


def test_fast_gradcheck_catches_a_wrong_cross_term_and_names_input_and_element(rng):
    x, y = leaf(rng, 2, 3), leaf(rng, 2, 3)
    with pytest.raises(ag.GradcheckError, match=r"mismatch for input 1 \(shape \(2, 3\)\) at element index \(0, 0\)"):
        ag.gradcheck(ProductWithWrongCrossTerm.apply, [x, y], fast_mode=True)
    assert ag.gradcheck(ProductWithWrongCrossTerm.apply, [x, y], fast_mode=True, raise_exception=False) is False


class MatrixWithOneWrongEntry(ag.Function):
    """y = x @ M for a fixed 4x4 M; the backward uses M with entry (1, 2) off by 0.05, so a single
    off-diagonal element of the Jacobian, dy[2]/dx[1], is wrong."""
    M = np.arange(16.0).reshape(4, 4) / 10

    @staticmethod
    def forward(ctx, x):
        return x @ MatrixWithOneWrongEntry.M

    @staticmethod
    def backward(ctx, grad):
        wrong = MatrixWithOneWrongEntry.M.copy()
        wrong[1, 2] += 0.05
        return grad @ wrong.T


def test_fast_gradcheck_catches_a_single_wrong_off_diagonal_element(rng):
    x = leaf(rng, 4)
    with pytest.raises(ag.GradcheckError, match=r"input 0 \(shape \(4,\)\) at element index \(1,\), output 0 element 2"):
        ag.gradcheck(MatrixWithOneWrongEntry.apply, [x], fast_mode=True)


def test_fast_gradcheck_catches_an_input_whose_gradient_is_missing(rng):
    class ForgetsY(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad, None
    with pytest.raises(ag.GradcheckError, match="input 0"):
        ag.gradcheck(ForgetsY.apply, [leaf(rng, 3), leaf(rng, 3)], fast_mode=True)


def test_fast_gradgradcheck_catches_a_second_derivative_cut_by_a_detaching_hook(rng):
    """The first derivative is right, but a hook hands back a constant gradient, so the graph of the
    first derivative loses its dependence on x through that path."""
    def cube(x):
        square = x * x
        square.register_hook(lambda g: ag.tensor(g.numpy().copy()))
        return square * x
    x = leaf(rng, 3)
    assert ag.gradcheck(cube, [x], fast_mode=True)
    with pytest.raises(ag.GradcheckError, match="second derivative"):
        ag.gradgradcheck(cube, [x], fast_mode=True)


def test_fast_mode_uses_its_own_random_vectors_and_leaves_the_callers_state_alone(rng):
    np.random.seed(5)
    before = np.random.random()
    np.random.seed(5)
    ag.gradcheck(lambda x: x.exp(), [leaf(rng, 3)], fast_mode=True)
    assert np.random.random() == before


def test_fast_mode_evaluates_the_function_a_constant_number_of_times(rng):
    """Two evaluations per input for J u, whatever the sizes; slow mode needs two per element."""
    calls = []

    def counted(x, y):
        calls.append(1)
        return (x @ y).tanh()
    x, y = leaf(rng, 20, 30), leaf(rng, 30, 5)
    ag.gradcheck(counted, [x, y], fast_mode=True)
    assert len(calls) == 1 + 2 * 2
