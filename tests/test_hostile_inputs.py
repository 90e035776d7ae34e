"""Hostile inputs (inf, nan, zero divisors, mixed dtypes, odd arguments) give PyTorch's results or a clear
ndgrad error: found by differential fuzzing against PyTorch, kept here as regression tests."""
import concurrent.futures
import contextvars
import gc
import re
import warnings
import weakref

import numpy as np
import pytest

import autograd as ag
import nn.functional

torch = pytest.importorskip("torch")


def test_division_by_zero_log_of_zero_and_overflow_are_silent_as_in_torch_forward_and_backward():
    values = [1.0, 0.0, -1.0, 100.0]
    x = ag.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a NumPy RuntimeWarning would fail the test
        out = (x / 0) + ag.log(x) + ag.sqrt(x) + ag.exp(x * 10)
        out.sum().backward()
    expected = (t / 0) + t.log() + t.sqrt() + (t * 10).exp()
    expected.sum().backward()
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_users_numpy_error_state_is_left_as_it_was():
    before = np.geterr()
    with np.errstate(divide="raise"):
        ag.tensor([1.0]) / 0
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0
    assert np.geterr() == before


def test_backward_hooks_read_and_set_the_callers_context_variables_as_in_torch():
    variable = contextvars.ContextVar("hostile_inputs_hook_variable", default=0)

    def program(lib):
        # The thread's first op comes before the variable is set: ops must not freeze what hooks see.
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        token = variable.set(5)
        seen = []

        def hook(grad):
            seen.append(variable.get())
            variable.set(7)
            return contextvars.Context().run(lambda: grad * 3)   # an op run in a context of its own

        y.register_hook(hook)
        y.sum().backward()
        after = variable.get()
        variable.reset(token)
        return seen, after, x.grad.numpy()

    def run_in_a_fresh_thread(lib):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(contextvars.Context().run, program, lib).result()

    seen, after, grad = run_in_a_fresh_thread(ag)
    torch_seen, torch_after, torch_grad = run_in_a_fresh_thread(torch)
    assert (seen, after) == (torch_seen, torch_after) == ([5], 7)
    np.testing.assert_array_equal(grad, torch_grad)


def test_a_threads_first_op_keeps_no_context_variable_value_alive():
    variable = contextvars.ContextVar("hostile_inputs_request")

    class Request:
        pass

    def first_op_of_a_thread():
        request = Request()
        token = variable.set(request)
        ag.tensor([1.0]) * 2   # makes the thread's context for built-in ops
        variable.reset(token)
        alive = weakref.ref(request)
        del request
        gc.collect()
        return alive() is None

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(first_op_of_a_thread).result()


@pytest.mark.parametrize("base, exponent", [
    ([-2, -1, 0, 1, 2, 3], [-2, -3, -1, -5, -1, 2]),   # tensor ** tensor, some exponents negative
    (2, [-1, 0, 3]),                                   # python int ** integer tensor: 2 ** arange(...)
    (-1, [-1, -2, 3]),
    ([True, False], [-1, 2]),                          # a bool base
    ([[1], [-1], [5]], [-2, -1]),                      # broadcasting
])
def test_integer_power_with_negative_exponents_gives_torchs_values(base, exponent):
    def call(lib):
        b = lib.tensor(base) if isinstance(base, list) else base
        return b ** lib.tensor(exponent)
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_integer_tensor_to_a_negative_python_int_raises_naming_pow_and_the_dtype():
    with pytest.raises(ag.ArgumentError, match=r"pow: .*negative integer powers.*int64.*-1"):
        ag.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) ** -1


def _pair(lib, first, second):
    return [lib.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else lib.tensor(v) for v in (first, second)]


@pytest.mark.parametrize("first, second", [
    (np.ones((2, 3), np.float32), np.array(2.0, np.float64)),    # float32 data times a float64 0-d tensor
    (np.array(2.0, np.float64), np.ones((2, 3), np.float32)),
    (np.ones((2, 3), np.float16), np.array(0.5, np.float32)),
    (np.arange(6, dtype=np.int8).reshape(2, 3), np.array(3, np.uint8)),
    (np.array(-1, np.int8), np.arange(4, dtype=np.uint8)),
    (np.arange(3, dtype=np.int32), np.array(7, np.int64)),
    (np.arange(3, dtype=np.int64), np.array(0.5, np.float64)),  # a higher category still wins
])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum", "where"])
def test_zero_dim_tensor_takes_the_dtype_of_a_tensor_with_dims_of_its_category(first, second, op):
    def call(lib):
        x, y = _pair(lib, first, second)
        if op == "where":
            return lib.where(lib.ones(x.shape if x.ndim else y.shape, dtype=lib.bool), x, y)
        return getattr(lib, op)(x, y)
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-3)


def test_gradient_reaches_a_float64_zero_dim_tensor_used_with_float32_data():
    x = ag.ones(2, 3)
    scale = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    out = x * scale
    out.sum().backward()
    assert out.dtype == np.float32 and scale.grad.dtype == np.float64 and scale.grad.item() == 6.0


@pytest.mark.parametrize("join", ["cat", "stack"])
@pytest.mark.parametrize("dtypes", [(np.float32, np.int64), (np.int32, np.float16), (np.int64, np.bool_),
                                    (np.float32, np.float64), (np.int8, np.uint8)])
def test_cat_and_stack_promote_dtypes_as_torch(join, dtypes):
    arrays = [np.arange(3).astype(d) for d in dtypes]
    out = getattr(ag, join)([ag.from_numpy(a) for a in arrays])
    expected = getattr(torch, join)([torch.from_numpy(a) for a in arrays])
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("call", [
    lambda lib, x: x.logsumexp(-1),               # uint8 gave inf (computed in float16), int64 float64
    lambda lib, x: x.clamp(0.5, 2.5),
    lambda lib, x: x.clamp(min=0.5),
    lambda lib, x: lib.copysign(x, x),
], ids=["logsumexp", "clamp", "clamp_min", "copysign"])
def test_float_ops_on_integer_tensors_compute_in_the_default_float_dtype(dtype, call):
    array = (np.arange(12).reshape(3, 4) * 7).astype(dtype)
    out, expected = call(ag, ag.from_numpy(array)), call(torch, torch.from_numpy(array))
    assert out.dtype == expected.numpy().dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda lib: lib.ones(2, 3) @ 2, ag.ShapeError, r"matmul: both arguments need to be at least 1-D.*\(2, 3\), \(\)"),
    (lambda lib: lib.tensor(2.0) @ lib.ones(2, 3), ag.ShapeError, r"matmul: .*at least 1-D"),
    (lambda lib: lib.ones(2, 3).chunk(0, 1), ag.ArgumentError, r"chunk: chunks must be greater than 0, got 0"),
    (lambda lib: lib.ones(2, 3).expand(-1, 2, 3), ag.ShapeError, r"expand: cannot expand shape \(2, 3\) to \(-1, 2, 3\)"),
    (lambda lib: lib.linalg.inv(lib.eye(2, dtype=lib.float16)), ag.DTypeError, r"linalg.inv: .*floating point.*float16"),
    (lambda lib: lib.linalg.solve(lib.eye(2, dtype=lib.float16), lib.ones(2, dtype=lib.float16)), ag.DTypeError,
     r"linalg.solve: .*float16"),
])
def test_bad_arguments_raise_a_clear_error_naming_the_op_where_torch_raises(call, error, match):
    with pytest.raises(error, match=match):
        call(ag)
    with pytest.raises((RuntimeError, TypeError)):
        call(torch)


@pytest.mark.parametrize("dtype, write", [
    (np.int64, lambda lib, t: t.fill_(lib.tensor(2.7, dtype=lib.float64))),
    (np.uint8, lambda lib, t: t.fill_(lib.tensor(3.0))),
    (np.int64, lambda lib, t: t.copy_(lib.tensor([1.5, -2.5, 3.9]))),
    (np.int32, lambda lib, t: t.masked_fill_(lib.tensor([True, False, True]), lib.tensor(-1.5, dtype=lib.float64))),
    (np.uint8, lambda lib, t: t.add_(lib.tensor([1, 2, 3]))),          # int64 into uint8: same category
    (np.uint8, lambda lib, t: t.mul_(lib.tensor([2, 2, 2], dtype=lib.int8))),
    (np.float32, lambda lib, t: t.copy_(lib.tensor([1, 2, 3]))),
])
def test_in_place_writes_cast_to_the_tensors_dtype_as_torch(dtype, write):
    def run(lib):
        t = lib.from_numpy(np.array([1, 2, 3], dtype))
        write(lib, t)
        return t
    out, expected = run(ag), run(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_in_place_float_result_into_an_integer_tensor_still_raises():
    with pytest.raises(ag.DTypeError, match=r"add_: the result type float32 can't be cast .* int64"):
        ag.tensor([1, 2, 3]).add_(0.5)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3]).add_(0.5)


def test_clamp_to_tensor_bounds_broadcasts_and_gives_the_bounds_their_gradients_as_torch():
    values = ([0.0, 1.0, 2.0, 3.0, float("nan")], [1.0], [2.0, 0.5, 2.0, 2.0, 2.0])
    def run(lib):
        x, low, high = (lib.tensor(v, requires_grad=True) for v in values)
        out = x.clamp(low, high)
        (out * lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).nansum().backward()
        return out, x.grad, low.grad, high.grad
    for got, expected in zip(run(ag), run(torch)):
        np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())


def test_clamp_of_an_integer_tensor_to_a_float_tensor_bound_gives_float32():
    out = ag.tensor([1, 2, 3]).clamp(min=ag.tensor([2.5]))
    expected = torch.tensor([1, 2, 3]).clamp(min=torch.tensor([2.5]))
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1, 2]) / True,
    lambda lib: True / lib.tensor([1, 2]),
    lambda lib: lib.tensor([1, 2]) / lib.tensor([3, 4], dtype=lib.int8),
    lambda lib: lib.tensor(3) / lib.tensor([2, 4], dtype=lib.uint8),
])
def test_integer_true_division_gives_float32_as_torch(call):
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide"])
def test_integer_division_of_an_empty_tensor_by_zero_does_not_raise_as_nothing_is_divided(op):
    out = getattr(ag, op)(ag.zeros(0, 3, dtype=ag.int64), ag.tensor([0, 1, 2]))
    expected = getattr(torch, op)(torch.zeros(0, 3, dtype=torch.int64), torch.tensor([0, 1, 2]))
    assert out.shape == tuple(expected.shape) and out.dtype == expected.numpy().dtype
    with pytest.raises(ZeroDivisionError, match=f"{op}: integer division by zero"):
        getattr(ag, op)(ag.ones(2, 3, dtype=ag.int64), ag.tensor([0, 1, 2]))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_of_an_integer_tensor_raises_naming_the_op_unless_a_dtype_is_given(op):
    with pytest.raises(ag.DTypeError, match=f"{op}: expects a floating point tensor, got int64"):
        getattr(ag.tensor([1, 2, 3]), op)(0)
    with pytest.raises(RuntimeError):
        getattr(torch.tensor([1, 2, 3]), op)(0)
    out = getattr(ag.tensor([1, 2, 3]), op)(0, dtype=ag.float64)
    expected = getattr(torch.tensor([1, 2, 3]), op)(0, dtype=torch.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8) * -1,       # image arithmetic on uint8 tensors
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8) + 256,
    lambda lib: -3 - lib.tensor([1, 2], dtype=lib.uint8),
    lambda lib: lib.tensor([1, 2], dtype=lib.int8) + 200,
    lambda lib: lib.tensor([1, 2], dtype=lib.int32) * 10 ** 10,
    lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2], dtype=lib.uint8), -1),
])
def test_python_int_beyond_an_integer_tensors_range_wraps_as_in_torch(call):
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(lib.tensor(3)),
    lambda lib: lib.arange(lib.tensor(1), lib.tensor(2.5), 0.5),
])
def test_arange_takes_zero_dim_tensors_as_torch(call):
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_full_of_an_integer_dtype_with_a_non_finite_value_raises_instead_of_filling_garbage(value):
    with pytest.raises(ag.ArgumentError, match="full: fill_value .* cannot be converted to int64"):
        ag.full((2,), value, dtype=ag.int64)
    with pytest.raises(RuntimeError):
        torch.full((2,), value, dtype=torch.int64)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.bool_])
def test_prod_of_integer_tensors_is_int64_as_torch(dtype):
    array = np.array([[1, 2, 3], [3, 1, 2]]).astype(dtype)
    for call in (lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.prod(0, keepdim=True)):
        out, expected = call(ag.from_numpy(array)), call(torch.from_numpy(array))
        assert out.dtype == expected.numpy().dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert ag.from_numpy(array).prod(dtype=ag.float64).dtype == np.float64


def test_binary_cross_entropy_refuses_targets_outside_zero_one_as_torch():
    import nn.functional as F
    probabilities, labels = [0.2, 0.7, 0.5], [0.0, 1.0, 2.0]   # class indices passed as BCE targets
    with pytest.raises(ag.ArgumentError, match="binary_cross_entropy: all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(ag.tensor(probabilities), ag.tensor(labels))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(probabilities), torch.tensor(labels))


@pytest.mark.parametrize("branches", [(1, 0), (1.0, 0), (True, False), (1, 0.5), (np.float64(1.0), 0)])
def test_where_with_two_python_scalars_takes_their_dtype_as_torch(branches):
    out = ag.where(ag.tensor([True, False]), *branches)
    expected = torch.where(torch.tensor([True, False]), *branches)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("x, y", [
    ([7, -7, 7, -7, 0], [2, 2, -2, -2, 3]),
    ([7.5, -7.5, 1.0, -0.5, 3.0], [2.0, 2.0, -2.0, -2.0, 0.0]),
    ([7, -7, 3], 2.5),
    ([7.5, -7.5], -2),
])
def test_div_rounding_modes_match_torch_with_zero_gradient(mode, x, y):
    def run(lib):
        a = lib.tensor(x, requires_grad=isinstance(x[0], float))
        out = a.div(lib.tensor(y) if isinstance(y, list) else y, rounding_mode=mode)
        if a.requires_grad:
            out.sum().backward()
        return out, a.grad
    (out, grad), (expected, expected_grad) = run(ag), run(torch)
    assert out.dtype == expected.detach().numpy().dtype
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    if grad is not None:
        np.testing.assert_array_equal(grad.numpy(), expected_grad.numpy())


def test_div_with_an_unknown_rounding_mode_or_integer_zero_divisor_raises_naming_div():
    with pytest.raises(ag.ArgumentError, match="div: rounding_mode must be None, 'floor' or 'trunc', got 'round'"):
        ag.tensor([1.0]).div(2, rounding_mode="round")
    with pytest.raises(ZeroDivisionError, match="div: integer division by zero"):
        ag.tensor([1, 2]).div(ag.tensor([1, 0]), rounding_mode="trunc")


def test_mean_takes_a_dtype_as_torch():
    out = ag.tensor([1, 2, 4]).mean(dtype=ag.float64)
    assert out.dtype == np.float64 and out.item() == torch.tensor([1, 2, 4]).mean(dtype=torch.float64).item()


@pytest.mark.parametrize("call", [
    lambda lib, x: x.var(), lambda lib, x: x.std(1), lambda lib, x: x.var(0, keepdim=True),
    lambda lib, x: x.norm(), lambda lib, x: x.norm(dim=1), lambda lib, x: lib.linalg.vector_norm(x, 3, 1),
], ids=["var", "std", "var_keepdim", "norm", "norm_dim", "vector_norm_3"])
def test_float16_variance_and_norms_accumulate_in_float32_as_torch(call):
    # values of a few hundred: their squares overflow float16 (65504), which gave inf
    array = (np.random.default_rng(0).uniform(-1, 1, (4, 300)) * 300).astype(np.float16)
    x, t = ag.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    out, expected = call(ag, x), call(torch, t)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.detach().numpy().astype(np.float64), expected.detach().numpy(), rtol=2e-3)
    # the gradient against torch's in float32 (torch's own float16 backward rounds the mean to half first)
    single = torch.tensor(array.astype(np.float32), requires_grad=True)
    out.sum().backward()
    call(torch, single).sum().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), single.grad.numpy(), rtol=2e-2, atol=1e-3)


@pytest.mark.parametrize("dtype", ["int32", "float16", "uint8"])
def test_view_as_a_dtype_reinterprets_the_bits_as_torch(dtype):
    values = [[1.0, -2.0], [0.5, 3.0]]
    out = ag.tensor(values).view(getattr(ag, dtype))
    expected = torch.tensor(values).view(getattr(torch, dtype))
    assert out.dtype == expected.numpy().dtype and out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    with pytest.raises(ag.ShapeError, match=r"view: cannot view a tensor of shape \(2, 2\) and dtype float32"):
        ag.tensor(values).T.view(ag.float16 if dtype != "float16" else ag.uint8)


@pytest.mark.parametrize("value, error", [
    (lambda lib: lib.ones(3), ag.ShapeError),
    (lambda lib: np.ones(2, np.float32), TypeError),
])
def test_assigning_a_grad_that_cannot_be_the_tensors_raises_as_torch(value, error):
    with pytest.raises(error, match="assigned grad"):
        ag.ones(2, requires_grad=True).grad = value(ag)
    with pytest.raises((RuntimeError, TypeError)):
        torch.ones(2, requires_grad=True).grad = value(torch)
    parameter = ag.ones(2, requires_grad=True)
    parameter.grad = ag.full((2,), 3.0)
    parameter.grad = None
    assert parameter.grad is None


@pytest.mark.parametrize("mask", [[0.0, float("-inf"), 0.0], [1, 0, 1]])
def test_masked_fill_with_a_non_bool_mask_raises_as_torch(mask):
    with pytest.raises(ag.DTypeError, match="masked_fill: the mask must be a bool tensor"):
        ag.zeros(2, 3).masked_fill(ag.tensor(mask), 1.0)
    with pytest.raises(ag.DTypeError, match="masked_fill"):
        ag.zeros(2, 3).masked_fill_(ag.tensor(mask), 1.0)
    with pytest.raises(RuntimeError, match="boolean masks"):
        torch.zeros(2, 3).masked_fill(torch.tensor(mask), 1.0)


def test_threshold_keeps_nan_as_torch():
    import nn.functional as F
    values = [float("nan"), 0.2, 0.7, float("-inf")]
    x, t = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, expected = F.threshold(x, 0.5, -1.0), torch.nn.functional.threshold(t, 0.5, -1.0)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_target_that_does_not_broadcast_raises_naming_the_loss(loss):
    import nn.functional as F
    with pytest.raises(ag.ShapeError, match=rf"{loss}: the target's shape \(4, 5\) does not broadcast .* \(2, 3\)"):
        getattr(F, loss)(ag.ones(2, 3), ag.ones(4, 5))
    with pytest.raises(RuntimeError), pytest.warns(UserWarning):
        getattr(torch.nn.functional, loss)(torch.ones(2, 3), torch.ones(4, 5))


@pytest.mark.parametrize("op, shapes", [("dot", [(3,), (4,)]), ("mv", [(2, 3), (4,)]), ("mm", [(2, 3), (4, 2)]),
                                        ("bmm", [(2, 2, 3), (2, 4, 2)]), ("bmm", [(1, 2, 3), (2, 3, 2)])])
def test_matrix_products_name_the_function_called_in_shape_errors(op, shapes):
    with pytest.raises(ag.ShapeError, match=f"^{op}: "):
        getattr(ag, op)(*(ag.ones(*s) for s in shapes))
    with pytest.raises(RuntimeError):
        getattr(torch, op)(*(torch.ones(*s) for s in shapes))


def test_a_zero_dim_tensor_formats_as_its_number_as_torch():
    loss = ag.tensor(2.56789)
    assert f"{loss:.2f}" == f"{torch.tensor(2.56789):.2f}" == "2.57"
    assert f"{ag.tensor(3):>4d}" == "   3"
    assert f"{ag.tensor([1.0])}" == str(ag.tensor([1.0]))
    with pytest.raises(TypeError):
        f"{ag.tensor([1.0]):.2f}"


@pytest.mark.parametrize("other", [None, "a"])
def test_comparing_with_none_or_a_string_is_plain_python_as_torch(other):
    t = ag.tensor([1, 2])
    assert (t == other) is False and (t != other) is True
    assert (torch.tensor([1, 2]) == other) is False


def test_tensor_of_a_value_beyond_float16_is_inf_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ag.tensor([70000.0, -1e10], dtype=ag.float16)
    np.testing.assert_array_equal(out.numpy(), torch.tensor([70000.0, -1e10], dtype=torch.float16).numpy())


@pytest.mark.parametrize("shape, kwargs", [((1, 4), {}), ((2, 0), {}), ((2, 1), {}), ((2, 3), dict(correction=5)),
                                           ((3,), {}), ((1, 3), dict(fweights=[1, 2, 1]))])
def test_cov_of_one_variable_is_zero_dim_and_no_degrees_of_freedom_give_nan_or_inf_as_torch(shape, kwargs):
    array = np.random.default_rng(0).normal(size=shape)
    def run(lib):
        extra = {k: lib.tensor(v) for k, v in kwargs.items() if k != "correction"}
        return lib.cov(lib.tensor(array), correction=kwargs.get("correction", 1), **extra)
    out = run(ag)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns that the degrees of freedom are <= 0
        expected = run(torch)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
    if shape == (1, 4):
        assert ag.corrcoef(ag.tensor(array)).shape == tuple(torch.corrcoef(torch.tensor(array)).shape) == ()


def test_softmax_cross_entropy_refuses_coefficients_of_another_shape():
    # the fused kernel broadcast (1, 3) coefficients in its forward but not in its gradient
    with pytest.raises(ag.ShapeError, match=r"softmax_cross_entropy: coef must have the input's shape"):
        ag.softmax_cross_entropy(ag.ones(4, 3, requires_grad=True), ag.ones(4, 1))


def test_cross_of_shapes_that_do_not_broadcast_raises_naming_cross():
    with pytest.raises(ag.ShapeError, match=r"cross: the inputs do not broadcast together \(shapes \(0, 3\), \(2, 3\)\)"):
        ag.cross(ag.ones(0, 3), ag.ones(2, 3), dim=1)
    with pytest.raises(RuntimeError):
        torch.cross(torch.ones(0, 3), torch.ones(2, 3), dim=1)


def test_inf_norm_over_an_empty_dim_raises_naming_norm_where_torch_raises():
    with pytest.raises(ag.ArgumentError, match=r"norm: cannot take the inf norm over dim 0 of size 0 \(shape \(0, 3\)\)"):
        ag.linalg.vector_norm(ag.ones(0, 3), float("inf"), 0)
    with pytest.raises(RuntimeError):
        torch.linalg.vector_norm(torch.ones(0, 3), float("inf"), 0)
    assert ag.linalg.vector_norm(ag.ones(0, 3), float("inf"), 1).shape == (0,)
    np.testing.assert_array_equal(ag.ones(0, 3).norm(dim=0).numpy(), torch.ones(0, 3).norm(dim=0).numpy())


def test_a_uint8_index_tensor_is_a_mask_with_torchs_deprecation_warning():
    values = np.arange(20.0).reshape(4, 5)
    mask = [1, 0, 1, 1]
    with pytest.warns(UserWarning, match="uint8"):
        out = ag.tensor(values)[ag.tensor(mask, dtype=ag.uint8)]
    with pytest.warns(UserWarning, match="uint8"):
        expected = torch.tensor(values)[torch.tensor(mask, dtype=torch.uint8)]
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    written = ag.tensor(values)
    with pytest.warns(UserWarning, match="uint8"):
        written[ag.tensor(mask, dtype=ag.uint8)] = 0.0
    np.testing.assert_array_equal(written.numpy()[[0, 2, 3]], 0.0)


def test_indexing_with_a_list_of_tensors_warns_that_torch_reads_it_as_a_tuple():
    with pytest.warns(UserWarning, match=r"x\[tuple\(seq\)\]"):
        out = ag.arange(20.0).reshape(4, 5)[[ag.tensor(0), ag.tensor(2)]]
    assert out.shape == (2, 5)   # PyTorch's announced meaning, x[tensor(seq)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ag.arange(20.0).reshape(4, 5)[[0, 2]].shape == (2, 5)   # a plain list of ints: no warning


@pytest.mark.parametrize("p", [0, -1, -2.5, float("-inf"), 0.5, 3, float("inf"), "fro"])
@pytest.mark.parametrize("dim", [None, 0, (0, 1)])
def test_norm_takes_every_p_torch_norm_takes(p, dim):
    values = np.array([[0.5, 0.1, -2.0], [1.0, 3.0, -0.3]])
    x, t = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, expected = x.norm(p, dim), t.norm(p, dim)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    if p != 0:   # the count of nonzeros has no gradient
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_unique_keeps_every_nan_as_torch():
    values = [1.0, float("nan"), 2.0, float("nan"), 1.0]
    out = ag.unique(ag.tensor(values), return_inverse=True, return_counts=True)
    expected = torch.unique(torch.tensor(values), return_inverse=True, return_counts=True)
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    y_values, x_values = [0.0, 0.0, 1.0], [0.0, -0.0, 2.0]
    y, x = ag.tensor(y_values, requires_grad=True), ag.tensor(x_values, requires_grad=True)
    ty, tx = torch.tensor(y_values, requires_grad=True), torch.tensor(x_values, requires_grad=True)
    ag.atan2(y, x).sum().backward()
    torch.atan2(ty, tx).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dtype", ["uint8", "float32", "bool"])
@pytest.mark.parametrize("dim", [None, 1, (), (0, 1)])
def test_all_and_any_match_torch_for_uint8_and_an_empty_dim_tuple(op, dtype, dim):
    values = [[1, 0, 2], [3, 4, 5]]
    def run(lib):
        x = lib.tensor(values).to(getattr(lib, dtype))
        return getattr(x, op)() if dim is None else getattr(x, op)(dim=dim)
    out, expected = run(ag), run(torch)
    assert out.dtype == expected.numpy().dtype and out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("values", [[1.0, float("nan"), 3.0, float("nan")], [1.0, 3.0, 3.0, 1.0]])
def test_gradient_of_max_and_min_of_all_elements_with_nan_or_ties_matches_torch(op, values):
    x, t = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    getattr(x, op)().backward()
    getattr(t, op)().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("call", [lambda x: x ** 2, lambda x: x.square(), lambda x: x ** 0.5])
def test_powers_of_a_bool_tensor_take_torchs_dtype(call):
    out, expected = call(ag.tensor([True, False])), call(torch.tensor([True, False]))
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x: x.clamp(min=0).sqrt(),           # pairwise distances: sqrt(clamp(d2, min=0))
    lambda lib, x: x.relu().sqrt(),
    lambda lib, x: lib.maximum(x, lib.zeros(5, dtype=x.dtype)).sqrt(),
    lambda lib, x: (-lib.minimum(x, lib.zeros(5, dtype=x.dtype))).sqrt(),
    lambda lib, x: x.clamp(-0.5, 0.5).log(),
], ids=["clamp_sqrt", "relu_sqrt", "maximum_sqrt", "minimum_sqrt", "clamp_log"])
def test_masked_off_gradients_stay_zero_when_the_incoming_gradient_is_inf_as_torch(call):
    # inf * 0 would be NaN and poison every parameter upstream; torch's masked backwards give 0
    values = [-1.0, 0.0, 1.0, 4.0, float("nan")]
    x, t = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    call(ag, x).nansum().backward()
    call(torch, t).nansum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    for value in values:   # 0-d tensors too
        x, t = ag.tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)
        call(ag, x.expand(5)).nansum().backward()
        call(torch, t.expand(5)).nansum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_clamp_of_a_zero_dim_tensor_under_an_inf_gradient():
    x, t = ag.tensor(-1.0, requires_grad=True), torch.tensor(-1.0, requires_grad=True)
    x.clamp(min=0).sqrt().backward()
    t.clamp(min=0).sqrt().backward()
    assert x.grad.item() == t.grad.item() == 0.0


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32) & 10 ** 10,
    lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32) | lib.tensor(4),
    lambda lib: 5 ^ lib.tensor([1, 2, 3], dtype=lib.uint8),
    lambda lib: lib.tensor([True]) | lib.tensor([1, 2]),
])
def test_bitwise_ops_promote_as_torch(call):
    out, expected = call(ag), call(torch)
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("shape, output_size", [((1, 2, 3), 2), ((2, 3, 7, 5), (3, 2)), ((1, 2, 10, 10), (3, 4)),
                                                ((1, 1, 4, 5, 6), (3, 2, 4))])
def test_adaptive_average_pooling_keeps_a_nan_or_inf_in_its_own_windows_as_torch(shape, output_size):
    x = np.random.default_rng(3).standard_normal(shape)
    x.flat[1], x.flat[-1] = np.nan, np.inf
    name = {3: "adaptive_avg_pool1d", 4: "adaptive_avg_pool2d", 5: "adaptive_avg_pool3d"}[len(shape)]
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = getattr(nn.functional, name)(ours, output_size), getattr(torch.nn.functional, name)(theirs, output_size)
    assert np.isfinite(out.numpy()).any()   # the other windows stay finite
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, equal_nan=True)
    upstream = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(ag.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name, shape", [("max_pool1d", (1, 1, 4)), ("max_pool2d", (1, 1, 4, 4)), ("max_pool3d", (1, 1, 2, 4, 4))])
def test_max_pooling_of_a_bool_input_raises_naming_the_op_as_torch_refuses_it(name, shape):
    with pytest.raises(ag.DTypeError, match=rf"{name}: not implemented for a bool input \(shape {re.escape(str(shape))}\)"):
        getattr(nn.functional, name)(ag.tensor(np.ones(shape, bool)), 2)
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.functional, name)(torch.ones(shape, dtype=torch.bool), 2)


@pytest.mark.parametrize("op", ["unfold", "fold"])
def test_unfold_and_fold_of_an_empty_batch_have_gradients_of_their_input_shape_as_torch(op):
    shape = (0, 2, 4, 4) if op == "unfold" else (0, 8, 9)
    def run(lib, functional):
        x = lib.zeros(shape, requires_grad=True)
        out = functional.unfold(x, 2) if op == "unfold" else functional.fold(x, (4, 4), 2)
        out.sum().backward()
        return tuple(out.shape), tuple(x.grad.shape)
    assert run(ag, nn.functional) == run(torch, torch.nn.functional)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -0.5, -1, -2, 3.0])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_powers_torch_computes_by_products_match_it_bit_for_bit(exponent, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-3, -1.5, -0.0, 0.0, 1e-30, 0.7, 2, 7.1, np.inf, -np.inf, np.nan, 1e20, -1e-20], dtype)
    ours, theirs = (ag.tensor(x, requires_grad=True) ** exponent), (torch.tensor(x, requires_grad=True) ** exponent)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    finite = ~np.isnan(ours.numpy())
    np.testing.assert_array_equal(np.signbit(ours.numpy()[finite]), np.signbit(theirs.detach().numpy()[finite]))
    assert ag.gradcheck(lambda t: t ** exponent, [ag.tensor(np.array([0.3, 1.7, 2.5]), requires_grad=True)])


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_select_and_integer_array_indexing_along_any_dim_accumulate_repeats_as_torch(dim):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(dim)
    x = rng.standard_normal((4, 7, 5))
    index = np.array([0, 2, 2, -1, 2, 0]) % x.shape[dim]
    ours_x, theirs_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = ours_x.index_select(dim, ag.from_numpy(index))
    theirs = theirs_x.index_select(dim, torch.from_numpy(index))
    upstream = rng.standard_normal(ours.shape)
    ours.backward(ag.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12)
    square = np.array([[1, -1], [0, 1]])   # 2-D and negative indices behind whole slices
    ours_x.grad = theirs_x.grad = None
    ours_x[:, ag.from_numpy(square)].sum().backward()
    theirs_x[:, torch.from_numpy(square)].sum().backward()
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())


@pytest.mark.parametrize("shape", [(6, 70, 9), (3, 5), (200, 2), (2, 64, 1)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_running_sums_are_numpys_cumsum_bit_for_bit_along_every_axis_and_layout(shape, dtype):
    from autograd.ops.reduction import running_sums
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    for axis in range(len(shape)):
        for layout in (x, np.flip(x, axis), np.asfortranarray(x)):
            ours, numpys = running_sums(layout, axis), np.cumsum(layout, axis=axis)
            assert ours.dtype == numpys.dtype
            np.testing.assert_array_equal(ours, numpys)
