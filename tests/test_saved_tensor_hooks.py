"""autograd.graph.saved_tensors_hooks against torch.autograd.graph.saved_tensors_hooks: what pack and
unpack receive and when, gradients (first and second order) unchanged by hooks that move saved
values out and back, nesting, and errors."""
import contextlib

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def model_and_input(rng, lib, tensor):
    w1, w2, x = rng.standard_normal((3, 5)), rng.standard_normal((5, 2)), rng.standard_normal((4, 3))
    params = [tensor(w1), tensor(w2)]
    for p in params:
        p.requires_grad_(True)
    return params, tensor(x)


def forward(params, x):
    hidden = (x @ params[0]).tanh()
    return ((hidden * hidden).sigmoid() @ params[1]).exp().sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_offloading_saved_values_to_numpy_copies_leaves_gradients_as_torchs(create_graph):
    """pack copies each saved tensor into a plain array (as one would offload it), unpack brings it
    back; first derivatives, and with create_graph second derivatives, match torch's."""
    results = []
    for lib, tensor in ((ag, ag.tensor), (torch, torch.tensor)):
        params, x = model_and_input(np.random.default_rng(0), lib, tensor)
        packed = []

        def pack(t):
            packed.append(tuple(t.shape))
            return t.detach().numpy().copy()
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda array: tensor(array)):
            loss = forward(params, x)
        assert packed, "pack ran for the saved values"
        grads = (ag.grad if lib is ag else torch.autograd.grad)(loss, params, create_graph=create_graph)
        if create_graph:
            sum(g.pow(2).sum() for g in grads).backward()
            results.append([p.grad.numpy().copy() for p in params])
        else:
            results.append([g.numpy().copy() for g in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_unpack_runs_each_time_backward_reads_and_only_for_ops_made_inside():
    x = ag.tensor([0.5, 1.5], requires_grad=True)
    unpacked = []

    def unpack(t):
        unpacked.append(t.shape)
        return t
    with ag.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
        inside = x.exp()            # saves its output
    outside = inside * 2.0          # made after the context: nothing packed
    assert unpacked == []
    outside.sum().backward(retain_graph=True)
    outside.sum().backward()
    assert unpacked == [(2,), (2,)]
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([0.5, 1.5]))


def test_innermost_hooks_win():
    calls = []
    outer = ag.autograd.graph.saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t)
    inner = ag.autograd.graph.saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with outer:
        with inner:
            x.exp()
        x.tanh()
    assert calls == ["inner", "outer"]


def test_custom_function_saved_input_and_output_are_packed_and_come_back_differentiable():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            y = x ** 3
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            assert isinstance(x, ag.Tensor) and y.grad_fn is ctx
            return 3 * y / x * grad
    seen = []
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    with ag.autograd.graph.saved_tensors_hooks(lambda t: seen.append(type(t).__name__) or t.numpy() * 1,
                                               lambda a: ag.tensor(a)):
        y = Cube.apply(x)
    (g,) = ag.grad(y.sum(), x, create_graph=True)
    assert seen == ["Tensor", "Tensor"]
    np.testing.assert_array_equal(g.numpy(), [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])   # d/dx 3x^2, through the unpacked input and output


def test_an_unpacked_tensor_that_was_a_later_output_of_its_op_is_attached_to_that_output():
    def second_derivative(hooks):
        x = ag.tensor([0.5, 1.0], dtype=ag.float64, requires_grad=True)
        _, second = ag.split(x * 1, 1)   # output 1 of split
        with hooks:
            y = second * second
        (g,) = ag.grad(y.sum(), x, create_graph=True)
        return ag.grad(g.sum(), x)[0].numpy()
    expected = second_derivative(contextlib.nullcontext())
    np.testing.assert_array_equal(expected, [0.0, 2.0])
    np.testing.assert_array_equal(second_derivative(ag.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)),
                                  expected)


def test_unpack_giving_back_another_shape_is_an_error():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t[:1]):
        y = x.exp()
    with pytest.raises(RuntimeError, match=r"unpack_hook returned a tensor of shape \(1,\) for a saved tensor of shape \(2,\)"):
        y.sum().backward()


def test_saved_tensors_report_shows_what_pack_kept():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.Tanh()).double()
    x = ag.randn(16, 8, dtype=ag.float64)
    plain = ag.saved_tensors_report(model(x).sum())
    with ag.autograd.graph.saved_tensors_hooks(lambda t: t.numpy().astype(np.float16), lambda a: ag.tensor(a.astype(np.float64))):
        packed = ag.saved_tensors_report(model(x).sum())
    assert packed.total_bytes * 4 == plain.total_bytes
    assert all("(packed)" in e.label and e.dtype == "float16" for e in packed.entries)


def test_draw_graph_still_draws_a_graph_whose_saved_values_are_packed():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.autograd.graph.saved_tensors_hooks(lambda t: t.numpy().copy(), lambda a: ag.tensor(a)):
        y = (x.exp() * x).sum()
    assert "Exp" in ag.draw_graph(y, show_values=True).source
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
