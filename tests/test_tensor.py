"""Tensor creation, dtype rules, the API surface of API.md, and errors raised at the user's call."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from nn_helpers import assert_close


def test_python_floats_become_float32_and_arrays_keep_their_dtype():
    assert ag.tensor([[1.0, 2.0]]).dtype == np.float32
    assert ag.tensor([1, 2]).dtype == np.int64
    assert ag.tensor([True]).dtype == np.bool_
    assert ag.tensor(np.ones((2, 3))).dtype == np.float64
    assert ag.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert ag.tensor(2.5).shape == ()
    assert ag.tensor([1, 2], dtype=ag.float64).dtype == np.float64


def test_tensor_copies_but_from_numpy_shares_memory():
    a = np.zeros(3)
    copied, shared = ag.tensor(a), ag.from_numpy(a)
    a[0] = 5
    assert copied.numpy()[0] == 0 and shared.numpy()[0] == 5


@pytest.mark.parametrize("make", [
    lambda: ag.zeros(3, 4), lambda: ag.zeros((3, 4)), lambda: ag.ones(3, 4), lambda: ag.full((3, 4), 2.0),
    lambda: ag.randn(3, 4), lambda: ag.rand(3, 4), lambda: ag.empty(3, 4)])
def test_creation_functions_take_shape_either_way(make):
    t = make()
    assert t.shape == (3, 4) and t.dtype == np.float32


def test_creation_keywords():
    t = ag.zeros(3, 4, requires_grad=True, dtype=ag.float64)
    assert t.requires_grad and t.dtype == np.float64
    assert ag.arange(5).dtype == np.int64 and ag.arange(0, 1, 0.25).dtype == np.float32
    assert ag.eye(3).numpy().trace() == 3
    x = ag.randn(2, 2)
    assert ag.zeros_like(x).shape == (2, 2) and ag.ones_like(x).numpy().sum() == 4


def test_manual_seed_makes_random_tensors_reproducible():
    ag.manual_seed(3)
    a = ag.randn(4)
    ag.manual_seed(3)
    b = ag.randn(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    generator = ag.Generator().manual_seed(3)
    np.testing.assert_array_equal(ag.randn(4, generator=generator).numpy(), a.numpy())


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="floating point.*int64"):
        ag.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating point"):
        ag.ones(2, dtype=ag.int64).requires_grad_()


def test_attributes():
    t = ag.tensor(np.zeros((2, 3)))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6
    assert t.is_leaf and t.grad is None and t.grad_fn is None
    assert isinstance(np.asarray(t), np.ndarray) and t.numpy() is t.numpy()
    assert ag.tensor([[1.5]]).item() == 1.5 and t.tolist() == [[0.0] * 3] * 2


def test_conversions_and_devices():
    t = ag.tensor([1.0, 2.0])
    assert t.double().dtype == np.float64 and t.astype(np.float64).dtype == np.float64
    assert t.to(ag.float64).dtype == np.float64 and t.to(ag.tensor(np.ones(1))).dtype == np.float64
    assert t.to("cpu") is t and t.cpu() is t and t.to(ag.device("cpu")) is t
    assert t.long().dtype == np.int64 and t.type_as(ag.tensor(np.ones(1))).dtype == np.float64
    with pytest.raises(RuntimeError, match="cuda.*not available"):
        t.to("cuda")
    assert ag.cuda.is_available() is False


def test_comparisons_return_bool_tensors_without_grad():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x.eq(2), x.gt(1)):
        assert result.dtype == np.bool_ and not result.requires_grad
    np.testing.assert_array_equal((x == 2).numpy(), [False, True, False])


def test_reversed_operators_with_numpy_arrays_give_tensors():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], np.float32) * x
    assert isinstance(y, ag.Tensor) and y.requires_grad


def test_max_with_dim_is_a_named_tuple_and_tuple_dim_points_to_amax():
    x = ag.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert x.max(dim=0).indices.dtype == np.int64
    assert x.max().item() == 7.0
    _, pred = x.max(1)
    assert pred.tolist() == [1, 0]
    with pytest.raises(TypeError, match="amax"):
        x.max(dim=(0, 1))
    assert x.argmax().item() == 2 and x.argmin(1).tolist() == [0, 1]


def test_tied_maximum_shares_gradient():
    x = ag.tensor([3.0, 3.0, 1.0], requires_grad=True)
    x.amax().backward()
    np.testing.assert_allclose(x.grad.numpy().sum(), 1.0)
    assert x.grad.numpy()[2] == 0


def test_expand_keeps_minus_one_dims_and_split_semantics():
    x = ag.ones(2, 1, 3)
    assert x.expand(-1, 4, -1).shape == (2, 4, 3)
    pieces = ag.split(ag.arange(10), 4)
    assert [p.shape[0] for p in pieces] == [4, 4, 2]
    assert [p.shape[0] for p in ag.split(ag.arange(10), [3, 7])] == [3, 7]


def test_unfold_matches_torch_layout():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6)).astype(np.float32)
    ours = ag.unfold(ag.tensor(x), (2, 3), stride=(1, 2), padding=1, dilation=(2, 1))
    theirs = torch.nn.functional.unfold(torch.tensor(x), (2, 3), stride=(1, 2), padding=1, dilation=(2, 1))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_softmax_is_stable_for_huge_logits():
    x = ag.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    p = x.softmax(1)
    lp = x.log_softmax(1)
    assert np.isfinite(p.numpy()).all() and np.isfinite(lp.numpy()).all()
    np.testing.assert_allclose(lp.numpy(), [[0.0, -1e4, -2e4]])
    lp[0, 1].backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert np.isfinite(ag.logsumexp(x, 1).numpy()).all()


def test_softmax_and_log_softmax_of_a_0d_tensor_are_one_and_zero_with_zero_gradient():
    for op, value in (("softmax", 1.0), ("log_softmax", 0.0)):
        x = ag.tensor(1.5, requires_grad=True)
        y = getattr(x, op)(0)
        assert y.shape == () and y.item() == value
        y.backward()
        assert x.grad.shape == () and x.grad.item() == 0.0


def test_tensor_class_constructor_makes_float32_from_python_numbers_as_torch_tensor():
    torch = pytest.importorskip("torch")
    for data in ([1.0, 2.0], [1, 2], [[True, False]], 2.5):
        ours, theirs = ag.Tensor(data), torch.tensor(data, dtype=torch.float32)
        assert ours.dtype == np.float32 and str(theirs.dtype) == "torch.float32"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(torch.Tensor([1, 2]).dtype) == "torch.float32"
    t = ag.Tensor([1, 2]).requires_grad_()
    assert t.requires_grad
    # Arrays and tensors keep their dtype (nn.Parameter(float64 array) stays float64); tensor() keeps ints.
    assert ag.Tensor(np.array([1, 2])).dtype == np.int64 and ag.Tensor(np.ones(2)).dtype == np.float64
    assert ag.Tensor(ag.tensor([1, 2])).dtype == np.int64 and ag.tensor([1, 2]).dtype == np.int64
    assert ag.Tensor([1, 2], dtype=ag.int64).dtype == np.int64


def test_tensor_class_constructor_takes_sizes_as_torch_tensor():
    torch = pytest.importorskip("torch")
    for sizes in [(3,), (2, 3), (), (0, 4)]:
        ours, theirs = ag.Tensor(*sizes), torch.Tensor(*sizes)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    assert ag.Tensor(ag.Size([2, 1])).shape == tuple(torch.Tensor(torch.Size([2, 1])).shape)
    weight = ag.Tensor(4, 3)  # the custom-layer idiom: a Parameter of that shape, then reset_parameters()
    assert weight.shape == (4, 3) and not weight.requires_grad
    assert ag.Tensor(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="Tensor\\(\\): expected sizes"):
        ag.Tensor([1.0], 2)


def test_in_place_update_under_no_grad_keeps_the_parameter():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    original = w
    with ag.no_grad():
        w -= 0.5 * w.grad
    assert w is original and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="in-place.*leaf"):
        w += 1
    w.grad.zero_()
    assert w.grad.numpy().sum() == 0


def test_repr_shows_grad_fn():
    x = ag.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)


# -- errors name the op and the shapes, raised at the user's call ------------------------------

@pytest.mark.parametrize("call, pattern", [
    (lambda: ag.ones(3) + ag.ones(4), r"add: shapes \(3,\) and \(4,\)"),
    (lambda: ag.ones(2, 3) * ag.ones(4, 3), r"mul: shapes \(2, 3\) and \(4, 3\)"),
    (lambda: ag.ones(3, 4) @ ag.ones(5, 2), r"matmul: cannot multiply \(3, 4\) by \(5, 2\); inner sizes 4 and 5"),
    (lambda: ag.cat([ag.ones(2, 3), ag.ones(3, 2)], 0), r"cat: .*\(2, 3\).*\(3, 2\)"),
    (lambda: ag.stack([ag.ones(2), ag.ones(3)]), r"stack: .*\(2,\).*\(3,\)"),
    (lambda: ag.ones(2, 3).reshape(4, 2), r"reshape: cannot reshape a tensor of shape \(2, 3\).*\(4, 2\)"),
    (lambda: ag.ones(2, 3).expand(4, 3), r"expand: cannot expand shape \(2, 3\)"),
    (lambda: ag.ones(2, 3).sum(2), r"sum: dim 2 is out of range"),
    (lambda: ag.ones(2, 3)[5], r"getitem: .*\(2, 3\)"),
    (lambda: ag.unfold(ag.ones(1, 1, 2, 2), 3), r"unfold: the window"),
    (lambda: ag.split(ag.ones(5), [2, 2]), r"split: sizes \[2, 2\] do not add up to 5"),
])
def test_bad_input_raises_a_clear_error(call, pattern):
    with pytest.raises((ValueError, IndexError, RuntimeError, TypeError), match=pattern) as info:
        call()
    # raised by ndgrad, with the user's call at the top of the stack, not deep inside NumPy
    assert "numpy" not in info.traceback[-1].path.__str__()


# -- hypothesis: broadcasting binary ops against NumPy and gradients summed to shape ----------

@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "maximum"]))
def test_broadcasting_binary_ops_sum_gradients_to_shape(shapes, op):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    out = getattr(ag, op)(x, y)
    np.testing.assert_allclose(out.numpy(), getattr(np, {"add": "add", "sub": "subtract", "mul": "multiply",
                                                      "maximum": "maximum"}[op])(a, b))
    out.sum().backward()
    assert x.grad.shape == x.shape and y.grad.shape == y.shape
    if op == "add":
        np.testing.assert_allclose(x.grad.numpy(), np.full(x.shape, out.numpy().size / max(a.size, 1) if a.size else 0))
    assert ag.gradcheck(lambda p, q: getattr(ag, op)(p, q), [ag.tensor(a + 0.01, requires_grad=True),
                                                              ag.tensor(b, requires_grad=True)])


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_reductions_over_random_dims_match_numpy_and_gradcheck(shape, data):
    dim = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1))
    keepdim = data.draw(st.booleans())
    a = np.random.default_rng(2).standard_normal(shape)
    x = ag.tensor(a, requires_grad=True)
    np.testing.assert_allclose(x.sum(tuple(dim), keepdim).numpy(), a.sum(tuple(dim), keepdims=keepdim))
    np.testing.assert_allclose(x.mean(tuple(dim), keepdim).numpy(), a.mean(tuple(dim), keepdims=keepdim))
    assert ag.gradcheck(lambda t: t.mean(tuple(dim), keepdim) * t.sum(tuple(dim), True).sum(), [x])


def test_integer_tensor_to_a_float_power_is_float32_as_pytorch():
    y = ag.tensor([1, 2, 3]) ** 2.5
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), np.array([1, 2, 3]) ** 2.5, rtol=1e-6)
    assert (ag.tensor([1, 2]) ** 2).dtype == np.int64


# -- creation, dtypes and conversions the PyTorch way ----------------------------------------------------

def test_dtype_names_are_numpy_dtypes():
    assert ag.float32 == np.float32 and ag.float64 == np.float64 and ag.int64 == np.int64
    assert ag.bool == np.bool_ and ag.int32 == np.int32 and ag.uint8 == np.uint8
    assert ag.float == np.float32 and ag.double == np.float64 and ag.long == np.int64
    x = ag.ones(2)
    assert x.dtype == ag.float32  # comparisons users write as `x.dtype == torch.float32`


@pytest.mark.parametrize("make", [ag.zeros, ag.ones])
def test_zeros_ones_take_varargs_tuple_and_keywords(make):
    assert make(3, 4).shape == (3, 4) and make((3, 4)).shape == (3, 4) and make([3, 4]).shape == (3, 4)
    t = make(3, 4, requires_grad=True)
    assert t.requires_grad and t.dtype == np.float32 and t.is_leaf
    assert make(2, dtype=ag.float64).dtype == np.float64
    assert make(2, dtype=ag.int64).dtype == np.int64
    assert make(5).shape == (5,)


def test_full_arange_eye_follow_torch_dtypes(torch):
    assert ag.full((2, 3), 1.5).dtype == np.float32 and ag.full((2, 3), 1.5).numpy()[0, 0] == 1.5
    assert ag.full((2,), 7).dtype == np.int64  # torch.full with an int fill is int64
    assert ag.full((2, 2), 0.0, dtype=ag.float64, requires_grad=True).requires_grad
    assert ag.arange(5).dtype == np.int64 and ag.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ag.arange(1, 7, 2).tolist() == torch.arange(1, 7, 2).tolist()
    assert ag.arange(0, 1, 0.25).dtype == np.float32
    assert_close(ag.arange(0, 1, 0.25), torch.arange(0, 1, 0.25))
    assert ag.arange(5, dtype=ag.float32).dtype == np.float32
    assert_close(ag.eye(3), torch.eye(3))
    assert_close(ag.eye(2, 3), torch.eye(2, 3))


def test_random_creation_shapes_dtypes_and_manual_seed():
    ag.manual_seed(123)
    a = ag.randn(2, 3)
    b = ag.rand(2, 3)
    ag.manual_seed(123)
    assert np.array_equal(ag.randn(2, 3).numpy(), a.numpy()) and np.array_equal(ag.rand(2, 3).numpy(), b.numpy())
    assert a.shape == (2, 3) and a.dtype == np.float32 and ag.randn((4,)).shape == (4,)
    assert ag.randn(3, requires_grad=True).requires_grad
    assert ag.randn(3, dtype=ag.float64).dtype == np.float64
    assert ((b.numpy() >= 0) & (b.numpy() < 1)).all()


def test_randint_takes_torchs_argument_forms(torch):
    assert ag.randint(10, (3,)).shape == tuple(torch.randint(10, (3,)).shape)
    assert ag.randint(3, 10, (2, 2)).shape == (2, 2)
    assert ag.randint(0, 5, size=(4,)).shape == (4,)
    values = ag.randint(3, 10, (1000,)).data
    assert values.min() >= 3 and values.max() < 10 and ag.randint(10, (3,)).dtype == np.int64


@pytest.mark.parametrize("make,args", [
    (ag.zeros, (2, 3)), (ag.ones, (2, 3)), (ag.randn, (2, 3)), (ag.rand, (2, 3)), (ag.empty, (2, 3)),
    (ag.full, ((2, 3), 1.5)), (ag.eye, (3,)), (ag.arange, (0.0, 3.0)), (ag.tensor, ([1.0, 2.0],)),
    (ag.zeros_like, (ag.ones(2, 3),)), (ag.ones_like, (ag.ones(2, 3),)),
])
def test_creation_functions_take_dtype_and_requires_grad(make, args):
    t = make(*args, dtype=ag.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf and t.grad is None
    (t * 2).sum().backward()
    assert t.grad.dtype == np.float64 and (t.grad.numpy() == 2).all()
    assert make(*args).requires_grad is False


def test_zeros_like_ones_like_keep_dtype_and_shape():
    t = ag.tensor(np.arange(6.0).reshape(2, 3))
    assert ag.zeros_like(t).dtype == np.float64 and ag.zeros_like(t).shape == (2, 3)
    assert ag.ones_like(t).numpy().sum() == 6
    assert ag.zeros_like(t, dtype=ag.float32).dtype == np.float32
    assert ag.ones_like(t, requires_grad=True).requires_grad


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3, dtype=np.float32)
    t = ag.from_numpy(a)
    a[0] = 1
    assert t.numpy()[0] == 1 and t.dtype == np.float32
    t.numpy()[1] = 2
    assert a[1] == 2
    assert ag.from_numpy(np.zeros(2, np.int32)).dtype == np.int32


def test_tensor_attributes():
    t = ag.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert isinstance(t.numpy(), np.ndarray) and t.shape == (2, 3) and t.ndim == 2
    assert t.dtype == np.float32 and isinstance(t.dtype, np.dtype)
    assert t.size == 6 and len(t) == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6 and t.dim() == 2  # PyTorch habits


def test_item_numpy_tolist_and_array_protocol():
    t = ag.tensor([[1.0, 2.0]])
    assert t.sum().item() == 3.0 and isinstance(t.sum().item(), float)
    assert isinstance(ag.tensor([3]).sum().item(), int)
    assert isinstance(t.numpy(), np.ndarray) and t.tolist() == [[1.0, 2.0]]
    assert np.asarray(t).shape == (1, 2) and np.array_equal(np.asarray(t), t.numpy())
    assert float(ag.tensor(2.5)) == 2.5


def test_astype_float_double_to_dtype_and_to_other_tensor():
    t = ag.tensor([1, 2])
    assert t.float().dtype == np.float32 and t.double().dtype == np.float64
    assert t.astype(np.float64).dtype == np.float64
    assert t.to(ag.float32).dtype == np.float32 and t.to(dtype=ag.float64).dtype == np.float64
    other = ag.zeros(1, dtype=ag.float64)
    assert t.to(other).dtype == np.float64 and t.type_as(other).dtype == np.float64
    assert t.to("cpu") is t and t.cpu() is t


def test_to_device_in_a_pytorch_loop_and_other_devices_raise():
    device = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    x = ag.ones(2, 3)
    assert x.to(device).shape == (2, 3)
    assert x.to(device, dtype=ag.float64).dtype == np.float64
    with pytest.raises(Exception, match="(?i)cuda|device"):
        x.to("cuda")


def test_view_as_reshape_as_expand_as_type_as():
    a = ag.arange(6)
    b = ag.zeros(2, 3)
    assert a.view_as(b).shape == (2, 3) and a.reshape_as(b).shape == (2, 3)
    assert ag.ones(1, 3).expand_as(b).shape == (2, 3)
    assert a.type_as(b).dtype == np.float32
