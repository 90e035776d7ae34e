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


def split_form_sin_op(Function):
    class SplitFormSin(Function):
        """sin(x) in PyTorch 2's split form: forward without ctx, setup_context saves the input."""
        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos()
    return SplitFormSin


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
    "sin (forward without ctx, setup_context)": (split_form_sin_op, 1, ()),
    "sin and product (two outputs, two inputs)": (sin_and_product_op, 2, ()),
    "square and exp (saved second output)": (square_and_exp_op, 1, ()),
    "scaled power (non-Tensor arguments)": (scaled_power_op, 1, (3.0, 0.5)),
    "product without second gradient (None)": (product_without_second_gradient_op, 2, ()),
    "square and cube (materialize_grads off)": (unmaterialized_op, 1, ()),
}


def leaf(*values, dtype=np.float64):
    return ag.tensor(np.array(values, dtype=dtype), requires_grad=True)


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
    assert ag.function.once_differentiable is ag.autograd.function.once_differentiable is once_differentiable


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
    with pytest.raises(RuntimeError, match=f"modified by an inplace operation: the value needed to compute the gradient of {name}.*version 1; "
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


# -- the node a custom op records: outputs, gradient slots, what its backward may return ------------

Square = square_op(ag.Function)


class ScaledAdd(ag.Function):
    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.scale = scale
        return x + scale * y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad * ctx.scale, None


def test_custom_function_forward_backward_and_gradcheck():
    x = leaf(1.0, -2.0)
    y = Square.apply(x)
    assert isinstance(y.grad_fn, Square)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])
    assert ag.gradcheck(Square.apply, [leaf(0.3, 0.7)])


def test_custom_function_with_non_tensor_argument():
    x, y = leaf(1.0), leaf(2.0)
    out = ScaledAdd.apply(x, y, 3.0)
    out.backward()
    assert out.item() == 7.0 and x.grad.item() == 1.0 and y.grad.item() == 3.0


def test_custom_function_returning_wrong_number_of_grads():
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="returned 1 gradients.*2 inputs"):
        Bad.apply(leaf(1.0), leaf(2.0)).backward()


class SinAndProduct(ag.Function):
    """Two outputs, sin(x) * y and x * y, plus an integer one (argmax), as a tuple."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.seen_needs = ctx.needs_input_grad
        return x.sin() * y, x * y, x.argmax()

    @staticmethod
    def backward(ctx, grad_sin, grad_product, grad_index):
        x, y = ctx.saved_tensors
        ctx.grads_seen = tuple(g.numpy().copy() for g in (grad_sin, grad_product, grad_index))
        grad_x = grad_sin * x.cos() * y + grad_product * y
        grad_y = grad_sin * x.sin() + grad_product * x
        return grad_x, (grad_y if ctx.needs_input_grad[1] else None)


def test_custom_function_with_several_outputs_returns_a_tuple_and_gradchecks():
    x, y = leaf(0.3, 1.2), leaf(2.0, -1.0)
    out = SinAndProduct.apply(x, y)
    assert isinstance(out, tuple) and len(out) == 3
    sin_y, product, index = out
    assert sin_y.requires_grad and product.requires_grad and not index.requires_grad
    assert index.dtype == np.int64 and index.item() == 1
    assert sin_y.grad_fn is product.grad_fn   # one node, one gradient slot per output
    assert (sin_y.output_nr, product.output_nr) == (0, 1)
    assert ag.gradcheck(lambda a, b: SinAndProduct.apply(a, b)[:2], [x, y])

    class WrongSecondGradient(SinAndProduct):
        @staticmethod
        def backward(ctx, grad_sin, grad_product, grad_index):
            grad_x, grad_y = SinAndProduct.backward(ctx, grad_sin, grad_product, grad_index)
            return grad_x + grad_product, grad_y   # wrong only through the second output

    assert ag.gradcheck(lambda a, b: WrongSecondGradient.apply(a, b)[0], [x, y])
    with pytest.raises(ag.GradcheckError, match="output 0"):
        ag.gradcheck(lambda a, b: WrongSecondGradient.apply(a, b)[1], [x, y])


def test_unused_outputs_get_zero_gradients_and_used_ones_add_up():
    x, y = leaf(0.3, 1.2), leaf(2.0, -1.0)
    sin_y, product, _ = SinAndProduct.apply(x, y)
    node = sin_y.grad_fn
    (product * 3).sum().backward()
    grad_sin, grad_product, grad_index = node.grads_seen
    np.testing.assert_array_equal(grad_sin, [0.0, 0.0])         # unused: zeros, as torch
    np.testing.assert_array_equal(grad_product, [3.0, 3.0])
    assert grad_index.dtype == np.int64 and grad_index == 0
    np.testing.assert_allclose(x.grad.numpy(), [6.0, -3.0])
    x.grad = y.grad = None
    sin_y, product, _ = SinAndProduct.apply(x, y)
    (sin_y.sum() + product.sum() + (product * product).sum()).backward()   # both outputs, one twice
    xd, yd = x.numpy(), y.numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xd) * yd + yd + 2 * xd * yd * yd)
    np.testing.assert_allclose(y.grad.numpy(), np.sin(xd) + xd + 2 * xd * xd * yd)


def test_several_outputs_with_torch_semantics(torch):
    TorchSinAndProduct = sin_and_product_op(torch.autograd.Function)
    values = (np.array([0.3, 1.2]), np.array([2.0, -1.0]))
    x, y = (leaf(*v) for v in values)
    tx, ty = (torch.tensor(v, requires_grad=True) for v in values)
    a, b, _ = SinAndProduct.apply(x, y)
    ta, tb = TorchSinAndProduct.apply(tx, ty)
    (a * b).sum().backward()
    (ta * tb).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_needs_input_grad_is_known_in_forward_and_backward():
    x, y = leaf(0.3, 1.2), ag.tensor(np.array([2.0, -1.0]))
    sin_y, _, _ = SinAndProduct.apply(x, y)
    node = sin_y.grad_fn
    assert node.seen_needs == (True, False)
    sin_y.sum().backward()
    assert y.grad is None and x.grad is not None
    with ag.no_grad():
        out = SinAndProduct.apply(x, y)
    assert isinstance(out, tuple) and not out[0].requires_grad


def test_several_outputs_free_saved_values_support_retain_graph_hooks_and_grad():
    x, y = leaf(0.3, 1.2), leaf(2.0, -1.0)
    sin_y, product, _ = SinAndProduct.apply(x, y)
    seen = []
    product.register_hook(lambda g: seen.append(g.numpy().copy()))
    loss = (sin_y + product).sum()
    gx, = ag.grad(loss, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), np.cos(x.numpy()) * y.numpy() + y.numpy())
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy())
    with pytest.raises(RuntimeError, match="second time.*SinAndProduct"):
        loss.backward()


def test_several_outputs_wrong_number_of_grads_and_anomaly_name_the_op():
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a, grad_b

    with pytest.raises(RuntimeError, match="Bad.backward returned 2 gradients.*1 inputs"):
        Bad.apply(leaf(1.0))[0].backward()

    class NaNGradient(Bad):
        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a * np.nan

    with ag.detect_anomaly(), pytest.raises(RuntimeError, match="NaNGradientBackward.*nan"):
        NaNGradient.apply(leaf(1.0))[1].backward()


def test_mark_non_differentiable_outputs_do_not_require_grad_and_get_zeros():
    class SortWithIndices(ag.Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.numpy())
            ctx.order = order
            values, rank = x[order], ag.tensor(order.astype(x.dtype))  # a float output, marked
            ctx.mark_non_differentiable(rank)
            return values, rank

        @staticmethod
        def backward(ctx, grad_values, grad_rank):
            ctx.rank_grad = grad_rank.numpy().copy()
            grad = np.zeros_like(grad_values.numpy())   # an array is a valid gradient
            grad[ctx.order] = grad_values.numpy()
            return grad

    x = leaf(3.0, 1.0, 2.0)
    values, rank = SortWithIndices.apply(x)
    assert values.requires_grad and not rank.requires_grad and rank.grad_fn is None
    (values * ag.tensor(np.array([1.0, 10.0, 100.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])
    np.testing.assert_array_equal(values.grad_fn.rank_grad, [0.0, 0.0, 0.0])

    class MarkedSingle(ag.Function):
        @staticmethod
        def forward(ctx, x):
            out = np.floor(x.numpy())   # forward may compute in NumPy and return the array
            ctx.mark_non_differentiable(out)
            return out

    out = MarkedSingle.apply(x)
    assert not out.requires_grad and out.grad_fn is None


def test_gradcheck_reports_input_index_and_values():
    class WrongSquare(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * grad

    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(WrongSquare.apply, [leaf(0.5, 1.0)])
    message = str(info.value)
    assert "input 0" in message and "index (0,)" in message
    assert "numerical 1" in message and "analytical 1.5" in message
    assert ag.gradcheck(WrongSquare.apply, [leaf(0.5)], raise_exception=False) is False


def test_gradcheck_in_float64_still_fails_a_wrong_backward_given_float32_inputs():
    class WrongSquare(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2.01 * x * grad   # off by 0.5%, which float32 differences could not resolve

    x = ag.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="input 0"), pytest.raises(ag.GradcheckError, match="input 0"):
        ag.gradcheck(WrongSquare.apply, [x])
    with pytest.warns(UserWarning, match="input 1 requires grad and is float32"):
        assert not ag.gradcheck(lambda a, b: WrongSquare.apply(a) + b, [leaf(0.5), leaf(1.0, dtype=np.float32)],
                                raise_exception=False)


def test_custom_op_with_outputs_of_two_dtypes_gets_each_gradient_in_its_output_dtype():
    seen = []

    class Split(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, (x * 3).astype(np.float64)

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            seen.append((grad_a.dtype, grad_b.dtype))
            return grad_a * 2 + grad_b.astype(np.float32) * 3

    x = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    a, b = Split.apply(x)
    (a.sum() + b.sum()).backward()
    assert seen == [(np.float32, np.float64)]
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [5.0, 5.0, 5.0]


def test_mark_non_differentiable_works_on_a_numpy_scalar_output():
    class WithTotal(ag.Function):
        @staticmethod
        def forward(ctx, x):
            total = x.numpy().sum()  # a NumPy scalar, not an array
            ctx.mark_non_differentiable(total)
            return x * 2, total

        @staticmethod
        def backward(ctx, grad, grad_total):
            return grad * 2

    y, total = WithTotal.apply(ag.tensor([1.0, 2.0], requires_grad=True))
    assert y.requires_grad and not total.requires_grad and total.grad_fn is None


def test_hooks_retain_grad_and_autograd_grad_see_each_output_of_a_several_output_op(torch):
    x, y = leaf(0.3, 1.2), leaf(2.0, -1.0)
    sin_y, product, _ = SinAndProduct.apply(x, y)
    seen = {}

    def recorder(name):
        def hook(g):
            seen[name] = g.numpy().copy()
        return hook
    product.register_hook(recorder("product"))
    sin_y.register_hook(recorder("sin"))
    product.retain_grad()
    loss = (sin_y * 2 + product * 3).sum()
    (grad_product,) = ag.grad(loss, product, retain_graph=True)
    np.testing.assert_array_equal(grad_product.numpy(), [3.0, 3.0])
    loss.backward()
    np.testing.assert_array_equal(seen["sin"], [2.0, 2.0])
    np.testing.assert_array_equal(seen["product"], [3.0, 3.0])
    assert product.retains_grad and not sin_y.retains_grad
    np.testing.assert_array_equal(product.grad.numpy(), [6.0, 6.0])   # as PyTorch: autograd.grad fills it too
    tx, ty = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, y))
    ((tx.sin() * ty) * 2 + (tx * ty) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_next_functions_carry_the_output_index():
    x, y = leaf(0.3, 1.2), leaf(2.0, -1.0)
    sin_y, product, _ = SinAndProduct.apply(x, y)
    node = (product - sin_y).grad_fn
    assert node.next_functions == ((product.grad_fn, 1), (sin_y.grad_fn, 0))


def custom_op_returning(gradient):
    class Returns(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return gradient(grad)
    return Returns


@pytest.mark.parametrize("gradient, message", [
    (lambda g: g.reshape(3, 1), r"Returns.*invalid gradient.*shape \(3, 1\).*compatible with \(3,\)"),
    (lambda g: np.ones(4), r"Returns.*invalid gradient.*shape \(4,\).*compatible with \(3,\)"),
    (lambda g: g.astype(np.complex128), r"Returns.*invalid gradient.*real floating point.*complex128"),
    (lambda g: np.ones(3, np.int64), r"Returns.*invalid gradient.*real floating point.*int64"),
])
def test_a_custom_backward_returning_a_wrong_gradient_raises_naming_it(gradient, message):
    x = leaf(1.0, 2.0, 3.0)
    with pytest.raises(RuntimeError, match=message):
        custom_op_returning(gradient).apply(x).sum().backward()


def test_a_custom_backward_gradient_is_summed_back_or_cast_where_pytorch_accepts_it(torch):
    x = leaf(1.0, 2.0, 3.0)
    custom_op_returning(lambda g: np.ones((2, 3), np.float32)).apply(x).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def _scale_in_place(base):
    """A custom op that doubles its first input in place (mark_dirty) and adds the second, built on
    autograd's or torch's Function."""
    class ScaleInPlace(base):
        @staticmethod
        def forward(ctx, x, y):
            ctx.mark_dirty(x)
            x.mul_(2).add_(y)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad
    return ScaleInPlace


def test_mark_dirty_keeps_the_tensor_and_rewrites_its_history_as_torch(torch):
    results = []
    for t, base in ((ag, ag.Function), (torch, torch.autograd.Function)):
        x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = t.tensor([0.5, 0.5, 0.5], requires_grad=True)
        h = x * 3
        before = h._version
        out = _scale_in_place(base).apply(h, y)
        assert out is h and h.grad_fn is not None
        (out * t.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((h.detach().numpy().copy(), h._version - before, x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_mark_dirty_on_a_leaf_that_requires_grad_raises_as_torch(torch):
    for t, base in ((ag, ag.Function), (torch, torch.autograd.Function)):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            _scale_in_place(base).apply(x, t.tensor([1.0, 1.0]))


def test_mark_dirty_through_a_view_reaches_the_base(torch):
    results = []
    for t, base in ((ag, ag.Function), (torch, torch.autograd.Function)):
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = t.tensor([0.5, 0.25], requires_grad=True)
        h = x * 1.0
        _scale_in_place(base).apply(h[1], y)
        (h * t.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        results.append((h.detach().numpy().copy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_a_saved_output_of_a_custom_op_with_several_outputs_is_version_checked(torch):
    for t, base in ((ag, ag.Function), (torch, torch.autograd.Function)):
        class ExpAndDouble(base):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y, x * 2

            @staticmethod
            def backward(ctx, grad_y, grad_z):
                (y,) = ctx.saved_tensors
                return grad_y * y + grad_z * 2

        w = t.tensor([1.0, 2.0], requires_grad=True)
        y, z = ExpAndDouble.apply(w)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in"):
            (y.sum() + z.sum()).backward()


def test_an_output_that_is_an_input_returned_as_is_shares_its_version():
    class Identity(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    a = w * 1
    y = (a * a).sum()
    same = Identity.apply(a)
    same.mul_(2)                       # writes a's memory: a's saved values changed
    assert a._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
