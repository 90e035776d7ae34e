"""NumPy functions and ufuncs on tensors run autograd's ops (autograd/numpy_protocol.py): values as
NumPy's, gradients as PyTorch's, and a clear TypeError rather than a silently lost gradient."""
import numpy as np
import pytest

import autograd as ag


def leaf(array):
    return ag.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


UNARY = [
    ("exp", np.exp, "exp"), ("expm1", np.expm1, "expm1"), ("log", np.log, "log"), ("log1p", np.log1p, "log1p"),
    ("sqrt", np.sqrt, "sqrt"), ("square", np.square, "square"), ("tanh", np.tanh, "tanh"), ("sin", np.sin, "sin"),
    ("cos", np.cos, "cos"), ("abs", np.abs, "abs"), ("absolute", np.absolute, "abs"), ("negative", np.negative, "neg"),
    ("reciprocal", np.reciprocal, "reciprocal"),
]


@pytest.mark.parametrize("name, ufunc, torch_name", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ufunc_on_a_tensor_records_the_graph_and_matches_torch(name, ufunc, torch_name, torch):
    values = np.array([[0.3, 1.7, 0.9], [2.2, 0.5, 1.1]])
    x = leaf(values)
    out = ufunc(x)
    assert isinstance(out, ag.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), ufunc(values))
    (out * out).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    t_out = getattr(torch, torch_name)(tx)
    (t_out * t_out).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert ag.gradcheck(ufunc, [leaf(values)])


BINARY = [np.add, np.subtract, np.multiply, np.divide, np.power, np.maximum, np.minimum]


@pytest.mark.parametrize("ufunc", BINARY, ids=lambda u: u.__name__)
@pytest.mark.parametrize("tensor_side", ["left", "right", "both"])
def test_binary_ufunc_with_arrays_and_tensors_gives_torchs_gradients(ufunc, tensor_side, torch):
    a, b = np.array([[0.5, 1.5, 2.0]]), np.array([[1.25], [0.75]])
    x, y = leaf(a), leaf(b)
    left = x if tensor_side in ("left", "both") else a
    right = y if tensor_side in ("right", "both") else b
    out = ufunc(left, right)
    assert isinstance(out, ag.Tensor)
    np.testing.assert_allclose(out.numpy(), ufunc(a, b))
    out.sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch_ops = {np.add: torch.add, np.subtract: torch.sub, np.multiply: torch.mul, np.divide: torch.div,
                 np.power: torch.pow, np.maximum: torch.maximum, np.minimum: torch.minimum}
    torch_ops[ufunc](tx, ty).sum().backward()
    if tensor_side in ("left", "both"):
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    if tensor_side in ("right", "both"):
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)


def test_a_gradient_through_numpy_and_through_the_method_agree():
    values = np.array([0.2, -0.7, 1.4])
    x, y = leaf(values), leaf(values)
    (x * np.exp(x) + np.sum(np.tanh(x) ** 2)).sum().backward()
    (y * y.exp() + (y.tanh() ** 2).sum()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-14)


FUNCTIONS = [
    ("sum_axis_keepdims", lambda m, a: m.sum(a, axis=1, keepdims=True)),
    ("sum_all", lambda m, a: m.sum(a)),
    ("add_reduce", lambda m, a: np.add.reduce(a, axis=0)),
    ("mean_axes", lambda m, a: m.mean(a, axis=(0, 2))),
    ("max", lambda m, a: m.max(a, axis=-1)),
    ("amin", lambda m, a: m.amin(a)),
    ("prod", lambda m, a: m.prod(a, axis=0)),
    ("var_ddof", lambda m, a: m.var(a, axis=1, ddof=1)),
    ("std", lambda m, a: m.std(a)),
    ("cumsum", lambda m, a: m.cumsum(a, axis=2)),
    ("reshape", lambda m, a: m.reshape(a, (4, -1)) * 2),
    ("transpose", lambda m, a: m.transpose(a) * 2),
    ("swapaxes", lambda m, a: m.swapaxes(a, 0, 2) * 2),
    ("expand_dims_squeeze", lambda m, a: m.squeeze(m.expand_dims(a, 1), 1) * 2),
    ("concatenate", lambda m, a: m.concatenate([a, a * 2], axis=1)),
    ("stack", lambda m, a: m.stack([a, a * a], axis=-1)),
    ("where", lambda m, a: m.where(a > 0.5, a, a * a)),
    ("clip", lambda m, a: m.clip(a, 0.3, 0.8)),
    ("dot", lambda m, a: m.dot(a.reshape(4, 6), np.ones((6, 2)))),
    ("matmul", lambda m, a: m.matmul(a.reshape(4, 6), np.linspace(0, 1, 12).reshape(6, 2))),
    ("flip", lambda m, a: m.flip(a, axis=1) * a),
    ("roll", lambda m, a: m.roll(a, 1, axis=2) * a),
    ("tril", lambda m, a: m.tril(a) * 3),
    ("split", lambda m, a: m.split(a, [1], axis=1)[1] * 2),
]


@pytest.mark.parametrize("name, call", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_numpy_function_on_a_tensor_gives_numpys_value_and_a_checked_gradient(name, call):
    values = np.random.default_rng(0).uniform(0.1, 1.0, (2, 3, 4))
    out = call(np, leaf(values))
    assert isinstance(out, ag.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), call(np, values), rtol=1e-12)
    assert ag.gradcheck(lambda t: call(np, t), [leaf(values)])


@pytest.mark.parametrize("call, name", [
    (lambda t: np.arccosh(t, out=np.empty((2, 2))), "arccosh"),
    (lambda t: np.add.accumulate(t), "add.accumulate"),
    (lambda t: np.linalg.eigvals(t), "eigvals"),
    (lambda t: np.linalg.svd(t), "svd"),
    (lambda t: np.exp(t, out=np.empty((2, 2))), "exp"),
])
def test_numpy_without_an_autograd_op_refuses_a_tensor_that_requires_grad(call, name):
    with pytest.raises(TypeError, match=rf"numpy\.{name} was called on a tensor that requires grad"):
        call(leaf(np.eye(2) + 1))


def test_numpy_without_an_autograd_op_works_where_no_gradient_is_needed():
    values = np.eye(2) + 1
    assert np.linalg.eigvals(ag.tensor(values)) == pytest.approx(np.linalg.eigvals(values))
    with ag.no_grad():
        arctan = np.arctan(leaf(values))   # mapped, so under no_grad a plain tensor
    assert isinstance(arctan, ag.Tensor) and not arctan.requires_grad
    np.testing.assert_allclose(arctan.numpy(), np.arctan(values))
    np.testing.assert_allclose(np.einsum("ij->i", leaf(values).detach()), values.sum(1))


def test_an_array_updated_in_place_with_a_tensor_gets_its_values():
    weights = np.ones(3)
    grad = ag.tensor([0.5, 1.0, 2.0], dtype=ag.float64)
    weights += -0.1 * grad                  # the lecture-code update, on an array
    assert isinstance(weights, np.ndarray)
    np.testing.assert_allclose(weights, [0.95, 0.9, 0.8])
    with pytest.raises(TypeError, match=r"numpy\.add was called on a tensor that requires grad"):
        weights += leaf([1.0, 1.0, 1.0])


def test_comparisons_give_bool_tensors_outside_the_graph():
    x = leaf([0.2, 0.8])
    mask = np.greater(x, 0.5)
    assert isinstance(mask, ag.Tensor) and mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(mask.numpy(), [False, True])
    np.testing.assert_array_equal(np.isfinite(x).numpy(), [True, True])


@pytest.mark.parametrize("ufunc, torch_name", [
    (np.tan, "tan"), (np.arcsin, "asin"), (np.arccos, "acos"), (np.arctan, "atan"), (np.sinh, "sinh"),
    (np.cosh, "cosh"), (np.arcsinh, "asinh"), (np.arctanh, "atanh"), (np.log2, "log2"), (np.log10, "log10"),
    (np.exp2, "exp2")], ids=lambda v: getattr(v, "__name__", v))
def test_trigonometric_and_base_2_10_ufuncs_follow_the_graph(ufunc, torch_name, torch):
    values = np.array([0.15, 0.4, 0.85])
    x = leaf(values)
    ufunc(x).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    getattr(torch, torch_name)(tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_arctan2_with_an_array_follows_the_graph(torch):
    y, x = leaf([0.5, -1.0, 2.0]), np.array([1.0, 1.0, -0.5])
    np.arctan2(y, x).sum().backward()
    ty = torch.tensor(y.numpy(), requires_grad=True)
    torch.atan2(ty, torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
