"""Error classes: where PyTorch raises RuntimeError, ours are RuntimeErrors too, and stay the
ValueError / TypeError they always were, so both kinds of client code catch them."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.errors import ArgumentError, DTypeError, ShapeError


def x23():
    return ag.tensor(np.ones((2, 3)))


# (id, ndgrad call, the same call on torch, the class we raise, what it also is)
CASES = [
    ("requires_grad_on_int", lambda: ag.tensor([1, 2]).requires_grad_(),
     lambda t: t.tensor([1, 2]).requires_grad_(), DTypeError, TypeError),
    ("tensor_requires_grad_int", lambda: ag.tensor([1, 2], requires_grad=True),
     lambda t: t.tensor([1, 2], requires_grad=True), DTypeError, TypeError),
    ("mean_of_int", lambda: ag.tensor([1, 2]).mean(), lambda t: t.tensor([1, 2]).mean(), DTypeError, TypeError),
    ("gather_float_index", lambda: x23().gather(1, ag.tensor([[0.0]])),
     lambda t: t.ones(2, 3).gather(1, t.tensor([[0.0]])), DTypeError, TypeError),
    ("object_array", lambda: ag.tensor([object()]), lambda t: t.tensor([object()]), DTypeError, TypeError),
    ("nll_loss_float_targets", lambda: F.nll_loss(ag.zeros(3, 4), ag.tensor([1.0, 2.0, 3.0])),
     lambda t: t.nn.functional.nll_loss(t.zeros(3, 4), t.tensor([1.0, 2.0, 3.0])), DTypeError, TypeError),
    ("embedding_float_indices", lambda: F.embedding(ag.tensor([1.0]), ag.zeros(3, 2)),
     lambda t: t.nn.functional.embedding(t.tensor([1.0]), t.zeros(3, 2)), DTypeError, TypeError),
    ("one_hot_float", lambda: F.one_hot(ag.tensor([1.0])),
     lambda t: t.nn.functional.one_hot(t.tensor([1.0])), DTypeError, TypeError),
    ("add_broadcast", lambda: x23() + ag.ones(4), lambda t: t.ones(2, 3) + t.ones(4), ShapeError, ValueError),
    ("matmul_inner", lambda: x23() @ x23(), lambda t: t.ones(2, 3) @ t.ones(2, 3), ShapeError, ValueError),
    ("reshape_size", lambda: x23().reshape(4), lambda t: t.ones(2, 3).reshape(4), ShapeError, ValueError),
    ("cat_sizes", lambda: ag.cat([x23(), ag.ones(3, 2)]), lambda t: t.cat([t.ones(2, 3), t.ones(3, 2)]),
     ShapeError, ValueError),
    ("item_of_many", lambda: x23().item(), lambda t: t.ones(2, 3).item(), ShapeError, ValueError),
    ("copy_shape", lambda: x23().copy_(ag.ones(4)), lambda t: t.ones(2, 3).copy_(t.ones(4)), ShapeError, ValueError),
    ("permute_duplicate", lambda: x23().permute(0, 0), lambda t: t.ones(2, 3).permute(0, 0), ArgumentError,
     ValueError),
    ("flatten_order", lambda: x23().flatten(1, 0), lambda t: t.ones(2, 3).flatten(1, 0), ArgumentError, ValueError),
    ("sum_dim_twice", lambda: x23().sum((0, 0)), lambda t: t.ones(2, 3).sum((0, 0)), ArgumentError, ValueError),
    ("amax_empty", lambda: ag.zeros(0).amax(), lambda t: t.zeros(0).amax(), ArgumentError, ValueError),
    ("split_zero", lambda: x23().split(0), lambda t: t.ones(2, 3).split(0), ArgumentError, ValueError),
    ("split_sizes", lambda: x23().split([1, 2]), lambda t: t.ones(2, 3).split([1, 2]), ArgumentError, ValueError),
    ("clamp_no_bounds", lambda: x23().clamp(), lambda t: t.ones(2, 3).clamp(), ArgumentError, ValueError),
    ("unfold_zero_kernel", lambda: ag.unfold(ag.ones(1, 1, 3, 3), 0),
     lambda t: t.nn.functional.unfold(t.ones(1, 1, 3, 3), 0), ArgumentError, ValueError),
    ("conv_groups", lambda: F.conv2d(ag.ones(1, 2, 3, 3), ag.ones(3, 1, 1, 1), groups=2),
     lambda t: t.nn.functional.conv2d(t.ones(1, 2, 3, 3), t.ones(3, 1, 1, 1), groups=2), ArgumentError, ValueError),
    ("max_pool_padding", lambda: F.max_pool2d(ag.ones(1, 1, 4, 4), 2, padding=2),
     lambda t: t.nn.functional.max_pool2d(t.ones(1, 1, 4, 4), 2, padding=2), ArgumentError, ValueError),
]


@pytest.mark.parametrize("call, torch_call, cls, also", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_raises_runtime_error_like_torch_and_keeps_its_python_class(call, torch_call, cls, also):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, also)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch_call(torch)


def test_error_classes_are_public_and_live_in_errors_module():
    assert ag.ShapeError is ShapeError and ag.DTypeError is DTypeError and ag.ArgumentError is ArgumentError
    assert issubclass(DTypeError, TypeError) and issubclass(DTypeError, RuntimeError)


def test_an_op_with_several_outputs_refuses_to_record_a_complex_one_as_an_op_with_one_does():
    from autograd.function import Primitive

    class RealAndSquare(Primitive):   # a built-in-style op whose second output is complex
        @staticmethod
        def forward(ctx, x):
            return x.real.copy(), x * x

        @staticmethod
        def backward(ctx, grad_real, grad_square):
            raise AssertionError("never recorded")

    leaf = ag.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    with pytest.raises(TypeError, match=r"RealAndSquare: ndgrad does not differentiate complex results yet"):
        RealAndSquare.apply(leaf)
    with ag.no_grad():
        real, square = RealAndSquare.apply(leaf)
    np.testing.assert_allclose(square.numpy(), leaf.numpy() ** 2)


def test_an_op_with_a_complex_result_refuses_to_record_rather_than_give_wrong_gradients():
    torch = pytest.importorskip("torch")
    z = np.array([1 + 2j, 3 - 1j])
    w = ag.tensor(np.array([0.5 - 1j, 2 + 0.3j]))
    leaf = ag.tensor(z, requires_grad=True)
    with pytest.raises(TypeError, match=r"Mul: ndgrad does not differentiate complex results yet \(inputs complex128"):
        leaf * w
    with pytest.raises(TypeError, match="Exp: ndgrad does not differentiate complex"):
        ag.exp(leaf)
    real = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match="Mul: ndgrad does not differentiate complex"):
        real * 1j
    with ag.no_grad():   # values are fine: only gradients would be wrong
        np.testing.assert_allclose((leaf * w).numpy(), z * w.numpy())
    np.testing.assert_allclose((leaf.detach() * w).numpy(), z * w.numpy())
    # A real result of a complex leaf is differentiated as PyTorch does.
    leaf.abs().sum().backward()
    theirs = torch.tensor(z, requires_grad=True)
    theirs.abs().sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), theirs.grad.numpy())
