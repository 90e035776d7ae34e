"""Tensor ops called the way PyTorch code calls them (methods, functions, keyword and positional
forms, dtype promotion), each compared with PyTorch on the same inputs, values and gradients.
The op table (tests/op_table.py) gradchecks every op; this file pins the calling conventions."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from nn_helpers import assert_close, both


# -- arithmetic, comparisons, elementwise ------------------------------------------------------------

def test_arithmetic_with_broadcasting_and_python_scalars_matches_torch(torch, rng):
    a_np = rng.standard_normal((3, 1, 4)).astype(np.float32)
    b_np = rng.uniform(0.5, 2, (2, 4)).astype(np.float32)
    a, at = both(a_np)
    b, bt = both(b_np)
    def expression(a, b):
        return (a + b) * 2 - b / a.abs().clamp(0.1) + 1.5 ** a - (-b) ** 2 + 3 / b + 1 - a @ b.T.sum(1, keepdim=True)

    out, out_t = expression(a, b), expression(at, bt)
    assert out.dtype == np.float32
    assert_close(out, out_t, rtol=1e-5, atol=1e-5)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(a.grad, at.grad, rtol=1e-4, atol=1e-5)
    assert_close(b.grad, bt.grad, rtol=1e-4, atol=1e-5)


def test_scalar_ops_keep_float32():
    x = ag.ones(2)
    for y in (x * 0.5, 0.5 * x, x / 3, x + 1, x ** 2, 2 ** x, 1 - x):
        assert y.dtype == np.float32


def test_comparisons_give_bool_tensors_without_grad(torch):
    x, xt = both(np.array([1.0, 2.0, 3.0], np.float32))
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        r = getattr(x, op)(2.0)
        assert r.dtype == np.bool_ and not r.requires_grad and r.grad_fn is None
        assert r.tolist() == getattr(xt, op)(2.0).tolist()
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        assert getattr(x, name)(ag.tensor([1.0, 0.0, 5.0])).tolist() == \
            getattr(xt, name)(torch.tensor([1.0, 0.0, 5.0])).tolist()
        assert getattr(ag, name)(x, 2.0).tolist() == getattr(torch, name)(xt, 2.0).tolist()
    assert (x == x).all().item() is True


def test_elementwise_methods_equal_their_functions(rng):
    x = ag.tensor(rng.uniform(0.2, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)))
    for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu"):
        arg = x.abs() if name in ("log", "sqrt") else x
        np.testing.assert_array_equal(getattr(arg, name)().data, getattr(ag, name)(arg).numpy(), err_msg=name)


def test_clamp_with_min_max_keywords_and_positional(torch):
    x, xt = both(np.linspace(-2, 2, 9).astype(np.float32))
    assert_close(x.clamp(-1, 1), xt.clamp(-1, 1))
    assert_close(x.clamp(min=0), xt.clamp(min=0))
    assert_close(x.clamp(max=0.5), xt.clamp(max=0.5))
    assert_close(ag.clamp(x, min=-0.5, max=0.5), torch.clamp(xt, min=-0.5, max=0.5))
    (x.clamp(-1, 1) * 2).sum().backward()
    (xt.clamp(-1, 1) * 2).sum().backward()
    assert_close(x.grad, xt.grad)


def test_maximum_minimum_and_tied_gradients(torch):
    a, at = both(np.array([1.0, 5.0, 3.0], np.float32))
    b, bt = both(np.array([2.0, 4.0, 3.0], np.float32))
    assert_close(a.maximum(b), torch.maximum(at, bt))
    assert_close(ag.minimum(a, b), torch.minimum(at, bt))
    (a.maximum(b) + ag.minimum(a, b) * 2).sum().backward()
    # tied elements may split the gradient any way that sums correctly
    np.testing.assert_allclose(a.grad.numpy() + b.grad.numpy(), [3, 3, 3])
    np.testing.assert_allclose(a.grad.numpy()[:2], [2, 1])


# -- reductions ----------------------------------------------------------------------------------------

REDUCTION_CASES = [  # the op table covers the full reductions (sum(), mean(), std(), norm()) already
    ("sum", {"dim": 1}), ("sum", {"dim": (0, 2), "keepdim": True}), ("sum", {"dim": -1, "keepdim": True}),
    ("mean", {"dim": 0}), ("mean", {"dim": (1, 2)}),
    ("var", {}), ("var", {"dim": 1}), ("var", {"dim": 1, "unbiased": False}), ("var", {"dim": (0, 1), "keepdim": True}),
    ("std", {"dim": 2, "unbiased": False}), ("std", {"dim": 0, "keepdim": True}),
    ("amax", {"dim": 1}), ("amax", {"dim": (0, 2)}), ("amin", {"dim": -1, "keepdim": True}),
    ("logsumexp", {"dim": 1}), ("logsumexp", {"dim": (1, 2), "keepdim": True}),
    ("prod", {"dim": 1}), ("prod", {}),
    ("norm", {"dim": 1}), ("norm", {"p": 1, "dim": 2, "keepdim": True}),
]


@pytest.mark.parametrize("name,kwargs", REDUCTION_CASES, ids=lambda v: str(v))
def test_reductions_match_torch_values_and_gradients(torch, rng, name, kwargs):
    data = rng.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32)
    x, xt = both(data)
    y = getattr(x, name)(**kwargs)
    t_kwargs = dict(kwargs)
    if name == "logsumexp" and "dim" not in t_kwargs:
        t_kwargs["dim"] = tuple(range(3))
    yt = getattr(xt, name)(**t_kwargs)
    assert_close(y, yt, rtol=1e-5, atol=1e-5)
    weights = rng.standard_normal(yt.shape).astype(np.float32)
    (y * ag.tensor(weights)).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "prod", "var", "std", "norm"])
def test_reduction_functions_with_dim_keyword(torch, rng, name):
    data = rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    x, xt = both(data, requires_grad=False)
    assert_close(getattr(ag, name)(x, dim=1, keepdim=True), getattr(torch, name)(xt, dim=1, keepdim=True), rtol=1e-5)
    if name not in ("logsumexp",):
        assert_close(getattr(ag, name)(x), getattr(torch, name)(xt), rtol=1e-5)


def test_positional_dim_in_function_form(torch, rng):
    data = rng.standard_normal((3, 4)).astype(np.float32)
    x, xt = both(data, requires_grad=False)
    assert_close(ag.sum(x, 1), torch.sum(xt, 1))
    assert_close(ag.mean(x, 0), torch.mean(xt, 0))
    assert_close(ag.softmax(x, 1), torch.softmax(xt, 1))
    assert_close(ag.argmax(x, 1), torch.argmax(xt, 1))
    assert_close(ag.flatten(ag.ones(2, 3, 4), 1), torch.flatten(torch.ones(2, 3, 4), 1))


def test_sum_of_bool_and_int_tensors_is_int64(torch):
    pred = ag.tensor([1, 2, 3])
    y = ag.tensor([1, 0, 3])
    correct = (pred == y).sum()
    assert correct.dtype == np.int64 and correct.item() == 2 and isinstance(correct.item(), int)


def test_max_min_without_dim_give_the_extreme_element(torch):
    x, xt = both(np.array([[1.0, 7.0], [3.0, -2.0]], np.float32))
    assert x.max().item() == 7.0 and x.min().item() == -2.0
    assert ag.max(x).item() == torch.max(xt).item()
    assert x.max().shape == ()


def test_max_with_dim_is_a_named_tuple_values_indices(torch, rng):
    data = rng.standard_normal((4, 5)).astype(np.float32)
    x, xt = both(data)
    values, indices = x.max(1)
    vt, it = xt.max(1)
    assert_close(values, vt)
    assert indices.tolist() == it.tolist() and indices.dtype == np.int64
    r = x.max(dim=1, keepdim=True)
    assert r.values.shape == (4, 1) and r.indices.shape == (4, 1)
    m = ag.min(x, 0)
    mt = torch.min(xt, 0)
    assert_close(m.values, mt.values)
    assert m.indices.tolist() == mt.indices.tolist()
    _, pred = x.max(1)
    assert pred.tolist() == it.tolist()
    (values * 2).sum().backward()
    (vt * 2).sum().backward()
    assert_close(x.grad, xt.grad)


def test_amax_amin_and_tied_gradients_sum_correctly(torch):
    x, xt = both(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], np.float32))
    assert_close(x.amax(), xt.amax())
    assert_close(x.amin(1), xt.amin(1))
    assert_close(x.amax(dim=(0, 1)), xt.amax(dim=(0, 1)))
    x.max().backward()
    assert x.grad.numpy().sum() == pytest.approx(1.0) and x.grad.numpy()[1].sum() == 0
    y = ag.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    y.max(1).values.sum().backward()
    assert y.grad.numpy().sum() == pytest.approx(1.0)


def test_argmax_argmin_with_dim_and_keepdim(torch, rng):
    data = rng.standard_normal((3, 4, 5)).astype(np.float32)
    x, xt = both(data, requires_grad=False)
    assert x.argmax().item() == xt.argmax().item()
    assert x.argmax(1).tolist() == xt.argmax(1).tolist()
    assert x.argmax(dim=-1, keepdim=True).tolist() == xt.argmax(dim=-1, keepdim=True).tolist()
    assert x.argmin(dim=0).tolist() == xt.argmin(dim=0).tolist()
    assert ag.argmin(x, 2, keepdim=True).shape == tuple(torch.argmin(xt, 2, keepdim=True).shape)
    assert x.argmax(1).dtype == np.int64


def test_softmax_log_softmax_dims(torch, rng):
    data = rng.standard_normal((2, 3, 4)).astype(np.float32)
    for dim in (0, 1, -1):
        x, xt = both(data)
        assert_close(x.softmax(dim), xt.softmax(dim))
        assert_close(ag.log_softmax(x, dim=dim), torch.log_softmax(xt, dim=dim), atol=1e-5)
        w = rng.standard_normal(data.shape).astype(np.float32)
        (x.log_softmax(dim) * ag.tensor(w)).sum().backward()
        (xt.log_softmax(dim) * torch.tensor(w)).sum().backward()
        assert_close(x.grad, xt.grad, atol=1e-5)


def test_std_of_constant_values_has_zero_gradient_like_torch(torch):
    data = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], np.float32)
    x, xt = both(data)
    x.std(1).sum().backward()
    xt.std(1).sum().backward()
    assert_close(x.grad, xt.grad)
    assert np.isfinite(x.grad.numpy()).all()


# -- shape ops and indexing ------------------------------------------------------------------------------

def test_reshape_and_view_accept_varargs_or_a_tuple(torch):
    x = ag.arange(24)
    assert x.reshape((6, 4)).shape == (6, 4) and x.reshape(6, 4).shape == (6, 4)
    assert x.reshape([2, -1]).shape == (2, 12) and x.view(-1, 3).shape == (8, 3)
    assert x.view((4, 6)).shape == (4, 6) and x.reshape(-1).shape == (24,)
    assert ag.reshape(x, (2, 3, 4)).shape == (2, 3, 4)


def test_flatten_transpose_permute_T_squeeze_unsqueeze(torch, rng):
    data = rng.standard_normal((2, 1, 3, 4)).astype(np.float32)
    x, xt = both(data)
    cases = [
        (x.flatten(), xt.flatten()), (x.flatten(1), xt.flatten(1)), (x.flatten(1, 2), xt.flatten(1, 2)),
        (x.flatten(start_dim=2), xt.flatten(start_dim=2)),
        (x.transpose(0, 3), xt.transpose(0, 3)), (x.permute(3, 0, 2, 1), xt.permute(3, 0, 2, 1)),
        (x.permute((1, 0, 3, 2)), xt.permute((1, 0, 3, 2))), (x.squeeze(), xt.squeeze()),
        (x.squeeze(1), xt.squeeze(1)), (x.squeeze(0), xt.squeeze(0)), (x.unsqueeze(0), xt.unsqueeze(0)),
        (x.unsqueeze(-1), xt.unsqueeze(-1)), (x[0, 0].T, xt[0, 0].T),
        (ag.transpose(x, 1, 2), torch.transpose(xt, 1, 2)),
        (ag.permute(x, (3, 2, 1, 0)), torch.permute(xt, (3, 2, 1, 0))),
        (ag.squeeze(x, 1), torch.squeeze(xt, 1)), (ag.unsqueeze(x, 2), torch.unsqueeze(xt, 2)),
    ]
    total, total_t = 0, 0
    for i, (ours, theirs) in enumerate(cases):
        assert_close(ours, theirs)
        total = total + ours.sum() * (i + 1)
        total_t = total_t + theirs.sum() * (i + 1)
    total.backward()
    total_t.backward()
    assert_close(x.grad, xt.grad)


def test_expand_keeps_minus_one_dims_and_broadcast_to(torch):
    x, xt = both(np.arange(4, dtype=np.float32).reshape(2, 1, 2))
    assert_close(x.expand(-1, 3, -1), xt.expand(-1, 3, -1))
    assert_close(x.expand((2, 3, 2)), xt.expand((2, 3, 2)))
    assert_close(x.expand(5, 2, 3, 2), xt.expand(5, 2, 3, 2))
    assert_close(x.broadcast_to((2, 4, 2)), xt.broadcast_to((2, 4, 2)))
    assert_close(ag.broadcast_to(x, (2, 4, 2)), torch.broadcast_to(xt, (2, 4, 2)))
    x.expand(-1, 3, -1).sum().backward()
    xt.expand(-1, 3, -1).sum().backward()
    assert_close(x.grad, xt.grad)


INDEX_CASES = [
    lambda t: 1, lambda t: -1, lambda t: (slice(None), 2), lambda t: (Ellipsis, 1), lambda t: (None, 0),
    lambda t: (slice(None, None, -1) if False else slice(1, None), None, Ellipsis),
    lambda t: t.tensor([0, 2, 0]), lambda t: (t.tensor([0, 2]), t.tensor([1, 3])),
    lambda t: t.tensor([True, False, True]), lambda t: (slice(None), [3, 3, 1]),
    lambda t: (0, slice(None, None, 2)), lambda t: (-2, -1), lambda t: (Ellipsis, None),
]


@pytest.mark.parametrize("make_index", INDEX_CASES)
def test_indexing_matches_torch_and_scatters_gradients(torch, rng, make_index):
    data = rng.standard_normal((3, 4)).astype(np.float32)
    x, xt = both(data)
    y = x[make_index(ag)]
    yt = xt[make_index(torch)]
    assert_close(y, yt)
    w = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    (y * ag.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad)


# -- cat, stack, split, where, pad, unfold -----------------------------------------------------------------

def test_cat_and_stack_with_dim_keyword(torch, rng):
    a_np, b_np = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    a, at = both(a_np)
    b, bt = both(b_np)
    assert_close(ag.cat([a, b]), torch.cat([at, bt]))
    assert_close(ag.cat((a, b), dim=1), torch.cat((at, bt), dim=1))
    assert_close(ag.stack([a, b], dim=1), torch.stack([at, bt], dim=1))
    assert_close(ag.stack((a, b)), torch.stack((at, bt)))
    assert_close(ag.stack([a, b], dim=-1), torch.stack([at, bt], dim=-1))
    (ag.cat((a, b * 2), dim=1) * ag.stack([a, b], 2).reshape(2, 6)).sum().backward()
    (torch.cat((at, bt * 2), dim=1) * torch.stack([at, bt], 2).reshape(2, 6)).sum().backward()
    assert_close(a.grad, at.grad)
    assert_close(b.grad, bt.grad)


def test_split_int_is_chunk_size_list_is_sizes(torch):
    x, xt = both(np.arange(10, dtype=np.float32))
    ours, theirs = ag.split(x, 3), torch.split(xt, 3)
    assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    ours, theirs = ag.split(x, [2, 3, 5]), torch.split(xt, [2, 3, 5])
    assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    m = ag.arange(12).reshape(3, 4)
    mt = torch.arange(12).reshape(3, 4)
    assert [p.tolist() for p in ag.split(m, 2, dim=1)] == [p.tolist() for p in torch.split(mt, 2, dim=1)]
    assert [p.tolist() for p in m.split([1, 3], 1)] == [p.tolist() for p in mt.split([1, 3], 1)]
    a, b, c = ag.split(x, [2, 3, 5])
    (a.sum() + 2 * c.sum()).backward()
    a_t, b_t, c_t = torch.split(xt, [2, 3, 5])
    (a_t.sum() + 2 * c_t.sum()).backward()
    assert_close(x.grad, xt.grad)


def test_where_accepts_python_scalars_on_either_branch(torch, rng):
    data = rng.standard_normal((3, 3)).astype(np.float32)
    x, xt = both(data)
    assert_close(ag.where(x > 0, x, 0.0), torch.where(xt > 0, xt, 0.0))
    assert_close(ag.where(x > 0, 1.0, x), torch.where(xt > 0, 1.0, xt))
    assert ag.where(x > 0, x, 0.0).dtype == np.float32
    assert_close(ag.where(x > 0, 1.0, -1.0), torch.where(xt > 0, 1.0, -1.0))
    (ag.where(x > 0, x * 2, 0.0) + ag.where(x < 0, 3.0, x)).sum().backward()
    (torch.where(xt > 0, xt * 2, 0.0) + torch.where(xt < 0, 3.0, xt)).sum().backward()
    assert_close(x.grad, xt.grad)


def test_pad_uses_numpy_style_widths(rng):
    x = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    out = ag.pad(x, ((1, 0), (2, 1)), value=-1.0)
    np.testing.assert_array_equal(out.numpy(), np.pad(x.numpy(), ((1, 0), (2, 1)), constant_values=-1.0))
    assert ag.pad(x, 1).shape == (4, 5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, padding=1),
                                    dict(kernel_size=(2, 3), stride=2, padding=(1, 0), dilation=(1, 2)),
                                    dict(kernel_size=2, dilation=2, stride=(1, 2))])
def test_unfold_matches_torch_nn_functional_unfold(torch, rng, kwargs):
    x, xt = both(rng.standard_normal((2, 3, 6, 7)).astype(np.float32))
    out = ag.unfold(x, **kwargs)
    out_t = torch.nn.functional.unfold(xt, **kwargs)
    assert_close(out, out_t)
    w = rng.standard_normal(tuple(out_t.shape)).astype(np.float32)
    (out * ag.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad, atol=1e-5)
    assert_close(F.unfold(x.detach(), **kwargs), out_t)


def test_ag_unfold_positional_order_is_kernel_stride_padding_dilation(torch, rng):
    x, xt = both(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=False)
    assert_close(ag.unfold(x, 3, 2, 1, 1), torch.nn.functional.unfold(xt, 3, dilation=1, padding=1, stride=2))
    assert_close(ag.unfold(x, 2, 1, 0, 2), torch.nn.functional.unfold(xt, 2, dilation=2, padding=0, stride=1))
    assert_close(F.unfold(x, 2, 2, 1, 1), torch.nn.functional.unfold(xt, 2, 2, 1, 1))  # F keeps torch's order


def test_every_op_as_a_function_exists():
    for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "maximum",
                 "minimum", "sum", "mean", "var", "std", "amax", "amin", "logsumexp", "prod", "norm", "max", "min",
                 "argmax", "argmin", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
                 "expand", "broadcast_to", "softmax", "log_softmax", "cat", "stack", "split", "where", "matmul",
                 "pad", "unfold", "eq", "ne", "lt", "le", "gt", "ge"):
        assert callable(getattr(ag, name)), name


# -- dtype promotion ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr", [
    "t([1, 2]) / 2", "t([1, 2]) / t([2, 4])", "1 / t([1, 2])", "t([1, 2]) * 0.5", "t([1, 2]) + 1.5",
    "t([True, False]) + 1.5", "lib.arange(5) / 10", "lib.arange(5) * lib.ones(5)",
    "lib.arange(5) * lib.ones(5, dtype=lib.float64)", "lib.ones(2) * np.float64(2.0)", "np.float64(2.0) * lib.ones(2)",
    "lib.ones(2) + np.float32(1.0)", "lib.ones(2) ** np.float64(2.0)", "t([1, 2], dtype=lib.int32) * np.int64(3)",
    "lib.where(t([True, False]), t([1, 2]), 0.5)", "lib.maximum(t([1, 2]), t([1.5, 0.5]))", "t([1, 2]) - lib.ones(2)",
    "(t([1, 2, 3]) == t([1, 0, 3])).sum() / 3", "lib.ones(2, dtype=lib.float64) * 2", "t([1, 2]) * 2",
    "t([1, 2]).masked_fill(t([True, False]), 0.5)", "lib.ones(2).masked_fill(t([True, False]), float('-inf'))",
])
def test_result_dtypes_follow_torch_promotion(torch, expr):
    ours = eval(expr, {"t": ag.tensor, "lib": ag, "np": np})
    theirs = eval(expr, {"t": torch.tensor, "lib": torch, "np": np})
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_numpy_scalars_do_not_promote_a_float32_graph():
    w = ag.randn(3, 3, requires_grad=True)
    x = ag.randn(2, 3)
    scale = 1 / np.sqrt(3)  # a numpy float64, as attention code computes it
    out = (x @ w) * scale
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32


@pytest.mark.parametrize("values, dtype", [([1.0, np.nan, 3.0, 3.0, 1.0, np.nan], np.float64),
                                           ([-128, 5, 0, 5, 127], np.int8), ([3, 0, 255, 3], np.uint8),
                                           ([True, False, True], np.bool_)])
def test_descending_sort_and_topk_order_nan_ties_and_integers_as_torch(values, dtype, torch):
    array = np.array(values, dtype=dtype)
    ours = ag.sort(ag.tensor(array), descending=True)
    theirs = torch.sort(torch.tensor(array), descending=True, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    if dtype != np.bool_:
        np.testing.assert_array_equal(ag.topk(ag.tensor(array), 2).values.numpy(),
                                      torch.topk(torch.tensor(array), 2).values.numpy())


def test_atan2_of_shapes_that_do_not_broadcast_names_the_op_and_shapes():
    with pytest.raises(ag.ShapeError, match=r"atan2.*\(2, 3\).*\(4,\)"):
        ag.atan2(ag.ones(2, 3), ag.ones(4))


def test_softplus_of_an_integer_tensor_is_computed_in_float32_like_the_other_floating_ops():
    out = ag.softplus(ag.tensor([0, 2]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np.log1p(np.exp([0.0, 2.0])), rtol=1e-6)


def test_atan2_at_the_origin_has_torchs_zero_gradient():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (ag, torch):
        y = lib.tensor([0.0, 1.0, 0.0], requires_grad=True)
        x = lib.tensor([0.0, 0.0, -2.0], requires_grad=True)
        lib.atan2(y, x).sum().backward()
        grads.append((y.grad.numpy(), x.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)
