"""Custom ops (`ag.Function`) on Tensors, as `torch.autograd.Function`: each op below is written
once and built on both libraries, so the very same forward and backward run in ndgrad and in
PyTorch, and their values, first and second derivatives are compared."""
import gc
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd.function import once_differentiable


def square_op(Function):
    class Square(Function):
        """x**2, saving its input."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad
    return Square


def exp_op(Function):
    class Exp(Function):
        """exp(x), saving its output: the second derivative goes through the saved output."""
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y
    return Exp


def sin_and_product_op(Function):
    class SinAndProduct(Function):
        """Two outputs, sin(x) * y and x * y, saving both inputs."""
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x.sin() * y, x * y

        @staticmethod
        def backward(ctx, grad_sin, grad_product):
            x, y = ctx.saved_tensors
            return grad_sin * x.cos() * y + grad_product * y, grad_sin * x.sin() + grad_product * x
    return SinAndProduct


def square_and_exp_op(Function):
    class SquareAndExp(Function):
        """Two outputs, x**2 and exp(x), saving the input and the second output."""
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(x, e)
            return x * x, e

        @staticmethod
        def backward(ctx, grad_square, grad_exp):
            x, e = ctx.saved_tensors
            return grad_square * 2 * x + grad_exp * e
    return SquareAndExp


def scaled_power_op(Function):
    class ScaledPower(Function):
        """scale * x**p with p and scale Python numbers, which get None as gradient."""
        @staticmethod
        def forward(ctx, x, p, scale):
            ctx.save_for_backward(x)
            ctx.p, ctx.scale = p, scale
            return scale * x ** p

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.scale * ctx.p * x ** (ctx.p - 1), None, None
    return ScaledPower


def product_without_second_gradient_op(Function):
    class ProductWithoutSecondGradient(Function):
        """x * y whose backward gives y no gradient (None), as if y were a constant."""
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None
    return ProductWithoutSecondGradient


def unmaterialized_op(Function):
    class SquareAndCube(Function):
        """Two outputs, x**2 and x**3; with materialize_grads off, an unused output's gradient is None."""
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x * x, x * x * x

        @staticmethod
        def backward(ctx, grad_square, grad_cube):
            (x,) = ctx.saved_tensors
            ctx.received_none = (grad_square is None, grad_cube is None)
            grad = 0
            if grad_square is not None:
                grad = grad + grad_square * 2 * x
            if grad_cube is not None:
                grad = grad + grad_cube * 3 * x * x
            return grad
    return SquareAndCube


OPS = {
    "square (saved input)": (square_op, 1, ()),
    "exp (saved output)": (exp_op, 1, ()),
    "sin and product (two outputs, two inputs)": (sin_and_product_op, 2, ()),
    "square and exp (saved second output)": (square_and_exp_op, 1, ()),
    "scaled power (non-Tensor arguments)": (scaled_power_op, 1, (3.0, 0.5)),
    "product without second gradient (None)": (product_without_second_gradient_op, 2, ()),
    "square and cube (materialize_grads off)": (unmaterialized_op, 1, ()),
}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def derivatives(lib, op, arrays, extra, output_weights=None):
    """Values, first derivatives (built with create_graph) and second derivatives (of the squared
    first derivatives) of `op` at `arrays`, all as arrays (None where a gradient is None). Only
    output 0 enters the loss unless `output_weights` gives a weight for each output."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = op.apply(*inputs, *extra)
    outs = out if isinstance(out, tuple) else (out,)
    weights = output_weights or [np.linspace(0.5, 1.5, outs[0].numel()).reshape(outs[0].shape)]
    loss = sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights))
    firsts = lib.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
    used = [g for g in firsts if g is not None and g.requires_grad]
    seconds = lib.autograd.grad(sum((g * g).sum() for g in used), inputs, allow_unused=True) if used else firsts
    as_arrays = lambda ts: [None if t is None else t.detach().numpy() for t in ts]  # noqa: E731
    return as_arrays(outs), as_arrays(firsts), as_arrays(seconds)


def assert_same_derivatives(ours, theirs):
    for what, mine, torchs in zip(("values", "first derivatives", "second derivatives"), ours, theirs):
        assert len(mine) == len(torchs), what
        for a, b in zip(mine, torchs):
            assert (a is None) == (b is None), (what, a, b)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("name", OPS)
def test_first_and_second_derivatives_of_a_custom_op_match_torch(name, torch):
    make, arity, extra = OPS[name]
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.5, 1.5, (2, 3)) for _ in range(arity)]
    ours = derivatives(ag, make(ag.Function), arrays, extra)
    theirs = derivatives(torch, make(torch.autograd.Function), arrays, extra)
    assert_same_derivatives(ours, theirs)


def test_both_outputs_of_a_custom_op_enter_the_derivatives_as_in_torch(torch):
    arrays = [np.array([0.3, 1.2]), np.array([2.0, -1.0])]
    weights = [np.array([1.0, 2.0]), np.array([-3.0, 0.5])]
    for make, arity in ((sin_and_product_op, 2), (square_and_exp_op, 1), (unmaterialized_op, 1)):
        ours = derivatives(ag, make(ag.Function), arrays[:arity], (), weights)
        theirs = derivatives(torch, make(torch.autograd.Function), arrays[:arity], (), weights)
        assert_same_derivatives(ours, theirs)


@pytest.mark.parametrize("name", OPS)
def test_gradcheck_and_gradgradcheck_pass_on_a_custom_op(name):
    make, arity, extra = OPS[name]
    op = make(ag.Function)
    rng = np.random.default_rng(1)
    # The op whose backward gives its second input no gradient is right only for a constant one.
    constant_second = make is product_without_second_gradient_op
    inputs = [ag.tensor(rng.uniform(0.5, 1.5, (2, 3)), requires_grad=not (k and constant_second))
              for k in range(arity)]
    assert ag.gradcheck(lambda *xs: op.apply(*xs, *extra), inputs)
    assert ag.gradgradcheck(lambda *xs: op.apply(*xs, *extra), inputs)


def test_gradgradcheck_catches_a_custom_backward_whose_second_derivative_is_wrong():
    class CubeDetachedInBackward(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x.detach() * grad   # right value, but half the dependence on x is cut

    x = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(CubeDetachedInBackward.apply, [x])
    with pytest.raises(ag.GradcheckError, match="second derivative"):
        ag.gradgradcheck(CubeDetachedInBackward.apply, [x])


def test_forward_gets_the_input_tensors_themselves_and_records_nothing():
    seen = {}

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, x, y, factor):
            seen.update(same=(x is a, y is b), grad_enabled=ag.is_grad_enabled(), needs=ctx.needs_input_grad)
            inner = x * factor
            seen["inner_requires_grad"] = inner.requires_grad
            return inner + y

        @staticmethod
        def backward(ctx, grad):
            seen["backward_grad_enabled"] = ag.is_grad_enabled()
            return grad * 2, grad, None

    a, b = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0])
    out = Probe.apply(a, b, 2)
    assert seen == {"same": (True, True), "grad_enabled": False, "needs": (True, False, False),
                    "inner_requires_grad": False}
    assert isinstance(out.grad_fn, Probe) and out.tolist() == [5.0, 8.0]
    out.sum().backward()
    assert seen["backward_grad_enabled"] is False   # no graph to build: backward records nothing
    ag.grad(Probe.apply(a, b, 2).sum(), a, create_graph=True)
    assert seen["backward_grad_enabled"] is True
    with ag.no_grad():
        constant = Probe.apply(a, b, 2)
    assert not constant.requires_grad and constant.grad_fn is None


def test_forward_may_return_arrays_and_backward_may_return_arrays(torch):
    class Softplus(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.logaddexp(0.0, x.numpy())          # NumPy in forward: an array out

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad.numpy() / (1 + np.exp(-x.numpy()))   # an array back

    values = np.array([-30.0, -1.0, 0.0, 2.0, 40.0])
    x = ag.tensor(values, requires_grad=True)
    y = Softplus.apply(x)
    assert y.requires_grad and y.dtype == np.float64
    (y * ag.tensor(np.arange(5.0))).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    ty = torch.nn.functional.softplus(tx)
    (ty * torch.arange(5.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert ag.gradcheck(Softplus.apply, [ag.tensor(values[1:4], requires_grad=True)])


def test_returning_an_input_unchanged_gives_a_new_output_on_the_node(torch):
    class Identity(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3   # not the identity's gradient, to see that it is used

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and isinstance(y.grad_fn, Identity) and np.shares_memory(y.numpy(), x.numpy())
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_saved_output_comes_back_on_the_node_and_does_not_keep_the_graph_alive():
    Exp = exp_op(ag.Function)
    x = ag.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(x)
    seen = []
    y.grad_fn.register_hook(lambda g: seen.append(g))
    node = y.grad_fn
    (saved,) = node.saved_tensors
    assert saved.grad_fn is node and saved is not y and np.shares_memory(saved.numpy(), y.numpy())
    del saved, node
    gc.disable()   # freed by reference counting alone, with no cycle to collect
    try:
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_once_differentiable_backward_gives_first_derivatives_and_refuses_the_second_as_torch(torch):
    def make(Function, decorator):
        class NumpySquare(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @decorator
            def backward(ctx, grad):
                ctx.grad_enabled = ag.is_grad_enabled() if Function is ag.Function else torch.is_grad_enabled()
                (x,) = ctx.saved_tensors
                return 2 * x * grad
        return NumpySquare

    ours = make(ag.Function, once_differentiable)
    theirs = make(torch.autograd.Function, torch.autograd.function.once_differentiable)
    values = np.array([0.5, -1.5])
    results = []
    for lib, op in ((ag, ours), (torch, theirs)):
        x = lib.tensor(values, requires_grad=True)
        y = op.apply(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)   # arriving gradient is a constant
        assert not y.grad_fn.grad_enabled and not g.requires_grad
        y = op.apply(x)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)   # arriving gradient 2y depends on x
        assert g.requires_grad
        results.append(g.detach().numpy())
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked "
                                               "with @once_differentiable") as error:
            g.sum().backward()
        if lib is ag:
            assert "NumpySquare" in str(error.value)
    np.testing.assert_allclose(*results)


def test_once_differentiable_backward_may_compute_in_numpy_and_gradchecks():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x.numpy() ** 2 * grad.numpy()

    x = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(Cube.apply, [x])
    with pytest.raises(RuntimeError, match="once_differentiable.*Cube"):
        ag.gradgradcheck(Cube.apply, [x])
    assert ag.function.once_differentiable is once_differentiable


def test_a_python_number_as_gradient_is_refused_naming_the_op_as_torch(torch):
    def make(Function):
        class ReturnsNumber(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return 2.0
        return ReturnsNumber

    with pytest.raises(RuntimeError, match="got float"):
        make(torch.autograd.Function).apply(torch.ones(2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match="ReturnsNumber.backward returned a float as the gradient of input 0"):
        make(ag.Function).apply(ag.ones(2, requires_grad=True)).sum().backward()


def test_a_gradient_for_a_non_tensor_argument_is_refused_naming_the_op_as_torch(torch):
    def make(Function):
        class Scale(Function):
            @staticmethod
            def forward(ctx, x, factor):
                ctx.factor = factor
                return x * factor

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.factor, grad.sum()
        return Scale

    with pytest.raises(RuntimeError, match="forward input was not a Variable"):
        make(torch.autograd.Function).apply(torch.ones(2, requires_grad=True), 3.0).sum().backward()
    with pytest.raises(RuntimeError, match="Scale.backward returned a gradient for input 1, which was not a Tensor"):
        make(ag.Function).apply(ag.ones(2, requires_grad=True), 3.0).sum().backward()


def test_saving_anything_but_tensors_is_refused_naming_the_op_as_torch(torch):
    def make(Function):
        class SavesNumber(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 2.0)
                return x * 2

        return SavesNumber

    with pytest.raises(TypeError, match="save_for_backward can only save"):
        make(torch.autograd.Function).apply(torch.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="SavesNumber: save_for_backward can only save.*argument 1 is a float"):
        make(ag.Function).apply(ag.ones(2, requires_grad=True))


def test_saved_arrays_come_back_as_the_input_and_output_tensors():
    class CubeInNumpy(ag.Function):
        @staticmethod
        def forward(ctx, x):
            data = x.numpy()
            out = data ** 3
            ctx.save_for_backward(data, out, data * 0 + 1)
            return out

        @staticmethod
        def backward(ctx, grad):
            x, y, one = ctx.saved_tensors
            ctx.kinds = (x is ctx_input, y.grad_fn is ctx, one.requires_grad)
            return 3 * y / x * grad * one

    ctx_input = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    out = CubeInNumpy.apply(ctx_input)
    node = out.grad_fn
    (g,) = ag.grad(out.sum(), ctx_input, create_graph=True)
    assert node.kinds == (True, True, False)
    g.sum().backward()
    np.testing.assert_allclose(ctx_input.grad.numpy(), [6.0, 12.0])
    assert ag.gradgradcheck(CubeInNumpy.apply, [ctx_input])


def test_materialized_zeros_reach_backward_for_an_unused_output(torch):
    received = {}

    def make(Function):
        class TwoOutputs(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                received[Function] = grad_b.detach().numpy().copy()
                return grad_a * 2 + grad_b * 3
        return TwoOutputs

    make(ag.Function).apply(ag.ones(2, requires_grad=True))[0].sum().backward()
    make(torch.autograd.Function).apply(torch.ones(2, requires_grad=True))[0].sum().backward()
    np.testing.assert_array_equal(received[ag.Function], received[torch.autograd.Function])
    np.testing.assert_array_equal(received[ag.Function], [0.0, 0.0])


def test_materialize_grads_off_hands_backward_none_for_an_unused_output():
    op = unmaterialized_op(ag.Function)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    square, cube = op.apply(x)
    node = square.grad_fn
    cube.sum().backward()
    assert node.received_none == (True, False)
    assert x.grad.tolist() == [3.0, 12.0]


def test_anomaly_mode_names_the_custom_op_that_made_a_nan_gradient():
    class LogOfNegative(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            with np.errstate(invalid="ignore"):
                return grad * (-x).log()

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.detect_anomaly():
        y = LogOfNegative.apply(x)
        with pytest.raises(RuntimeError, match="(?s)LogOfNegativeBackward.*nan.*created at.*test_custom_function"):
            y.sum().backward()


def test_an_array_returned_by_backward_under_create_graph_refuses_the_second_derivative_naming_the_op():
    class SquareWithArrayGradient(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x.numpy() * grad.numpy()   # right, but outside the graph

    x = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    (g,) = ag.grad(SquareWithArrayGradient.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [1.0, 3.0])
    with pytest.raises(RuntimeError, match="SquareWithArrayGradient.backward returned a NumPy array as the "
                                           "gradient of input 0.*no second derivative"):
        g.sum().backward()
    assert ag.gradcheck(SquareWithArrayGradient.apply, [x])
    with pytest.raises(RuntimeError, match="SquareWithArrayGradient"):
        ag.gradgradcheck(SquareWithArrayGradient.apply, [x])


def test_jvp_and_hessian_through_a_custom_op_match_torch(torch):
    values, direction = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -2.0])

    def loss(lib, op):
        return lambda x: (op.apply(x) * lib.tensor(np.arange(1.0, 4.0))).sum()

    ours_op, theirs_op = exp_op(ag.Function), exp_op(torch.autograd.Function)
    _, ours_jvp = ag.functional.jvp(ours_op.apply, ag.tensor(values), ag.tensor(direction))
    _, theirs_jvp = torch.autograd.functional.jvp(theirs_op.apply, torch.tensor(values), torch.tensor(direction))
    np.testing.assert_allclose(ours_jvp.numpy(), theirs_jvp.numpy())
    ours_hessian = ag.functional.hessian(loss(ag, ours_op), ag.tensor(values))
    theirs_hessian = torch.autograd.functional.hessian(loss(torch, theirs_op), torch.tensor(values))
    np.testing.assert_allclose(ours_hessian.numpy(), theirs_hessian.numpy())
    assert np.count_nonzero(ours_hessian.numpy()) == 3


@pytest.mark.parametrize("make, changed", [(square_op, "input"), (exp_op, "output"),
                                           (square_and_exp_op, "input")])
def test_a_saved_input_or_output_changed_in_place_since_is_an_error_naming_the_op_as_torch(make, changed, torch):
    def run(lib):
        x = lib.tensor(np.array([0.5, 1.0]), requires_grad=True) * 1   # not a leaf, so it may change in place
        out = make(lib.autograd.Function if lib is torch else lib.Function).apply(x)
        y = out[0] if isinstance(out, tuple) else out
        (x if changed == "input" else y).mul_(2)
        return y.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch).backward()
    name = make(ag.Function).__name__
    with pytest.raises(RuntimeError, match=f"gradient of {name}.*modified by an in-place operation.*version 1; "
                                           "expected version 0"):
        run(ag).backward()


def test_a_saved_input_unchanged_or_changed_before_the_op_passes_the_version_check():
    Square = square_op(ag.Function)
    leaf = ag.tensor([0.5, 1.0], requires_grad=True)
    x = leaf * 1
    x.mul_(2)                     # before the op, which saves x at version 1
    Square.apply(x).sum().backward()
    assert x._version == 1
    np.testing.assert_array_equal(leaf.grad.numpy(), [4.0, 8.0])   # d/dleaf (2 leaf)^2 = 8 leaf
