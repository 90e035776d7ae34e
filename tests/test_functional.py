"""autograd.functional against torch.autograd.functional on the same inputs: values, shapes, result
structure, create_graph results differentiated again, and strict mode."""
import numpy as np
import pytest

import autograd as ag
from autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def two_outputs(lib):
    """(x, y) -> (a vector, a matrix): tanh, broadcasting, a reduction and a product."""
    def f(x, y):
        return (lib.tanh(x) * y).sum(1), (x * x).sum() * y + x[0]
    return f


def scalar(lib):
    def f(x, y):
        return ((lib.tanh(x) * y).sum() ** 2 + (x * x * x).sum() * y.sum()).reshape(())
    return f


def make_inputs(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    return (ag.tensor(a), ag.tensor(b)), (torch.tensor(a), torch.tensor(b))


def assert_same(ours, theirs):
    """Same nesting (Tensor / tuple of tuples), shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ag.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t)


def test_jacobian_matches_torch_for_tuples_of_inputs_and_outputs(rng):
    ours, theirs = make_inputs(rng)
    assert_same(AF.jacobian(two_outputs(ag), ours), TF.jacobian(two_outputs(torch), theirs))


def test_jacobian_of_one_tensor_is_one_tensor_of_output_then_input_shape(rng):
    ours, theirs = make_inputs(rng)
    jac = AF.jacobian(lambda x: x.exp() @ x.T, ours[0])
    assert jac.shape == (3, 3, 3, 2)
    assert_same(jac, TF.jacobian(lambda x: x.exp() @ x.T, theirs[0]))
    assert_same(AF.jacobian(lambda x: (x.exp(), x.sum()), ours[0]),
                TF.jacobian(lambda x: (x.exp(), x.sum()), theirs[0]))


def test_forward_mode_jacobian_matches_reverse_mode(rng):
    ours, theirs = make_inputs(rng)
    assert_same(AF.jacobian(two_outputs(ag), ours, strategy="forward-mode"), TF.jacobian(two_outputs(torch), theirs))


def test_hessian_matches_torch_block_by_block(rng):
    ours, theirs = make_inputs(rng)
    assert_same(AF.hessian(scalar(ag), ours), TF.hessian(scalar(torch), theirs))
    assert_same(AF.hessian(scalar(ag), ours, outer_jacobian_strategy="forward-mode"), TF.hessian(scalar(torch), theirs))
    x, xt = ours[0], theirs[0]
    assert_same(AF.hessian(lambda x: (x.sin() ** 2).sum(), x), TF.hessian(lambda x: (x.sin() ** 2).sum(), xt))


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vjp_and_jvp_match_torch(name, rng):
    ours, theirs = make_inputs(rng)
    if name == "vjp":
        v = (rng.standard_normal(3), rng.standard_normal(2))
    else:
        v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
    result = getattr(AF, name)(two_outputs(ag), ours, tuple(ag.tensor(e) for e in v))
    expected = getattr(TF, name)(two_outputs(torch), theirs, tuple(torch.tensor(e) for e in v))
    assert_same(result, expected)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_vhp_and_hvp_match_torch(name, rng):
    ours, theirs = make_inputs(rng)
    v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
    result = getattr(AF, name)(scalar(ag), ours, tuple(ag.tensor(e) for e in v))
    expected = getattr(TF, name)(scalar(torch), theirs, tuple(torch.tensor(e) for e in v))
    assert_same(result, expected)


def test_single_tensor_input_gives_single_tensor_results(rng):
    a = rng.standard_normal(4)
    x, xt = ag.tensor(a), torch.tensor(a)
    for name in ("vhp", "hvp", "jvp"):
        result = getattr(AF, name)(lambda x: (x.exp() * x).sum(), x, ag.ones(4, dtype=ag.float64))
        expected = getattr(TF, name)(lambda x: (x.exp() * x).sum(), xt, torch.ones(4, dtype=torch.float64))
        assert_same(result, expected)
    assert_same(AF.vjp(lambda x: (x ** 2).sum(), x), TF.vjp(lambda x: (x ** 2).sum(), xt))


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
def test_create_graph_results_differentiate_again_as_torchs(name, rng):
    """The result, summed with fixed weights, differentiated with respect to the caller's inputs."""
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    fn_ours, fn_torch = (scalar(ag), scalar(torch)) if name in ("hessian", "vhp", "hvp") else \
        (two_outputs(ag), two_outputs(torch))
    extra, extra_t = (), ()
    if name in ("jvp", "vhp", "hvp"):
        v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
        extra, extra_t = (tuple(ag.tensor(e) for e in v),), (tuple(torch.tensor(e) for e in v),)
    elif name == "vjp":
        v = (rng.standard_normal(3), rng.standard_normal(2))
        extra, extra_t = (tuple(ag.tensor(e) for e in v),), (tuple(torch.tensor(e) for e in v),)
    result = getattr(AF, name)(fn_ours, (x, y), *extra, create_graph=True)
    expected = getattr(TF, name)(fn_torch, (xt, yt), *extra_t, create_graph=True)
    assert_same(result, expected)

    def leaves(tree):
        return [tree] if not isinstance(tree, tuple) else [t for entry in tree for t in leaves(entry)]
    ours_flat, theirs_flat = leaves(result), leaves(expected)
    weights = [rng.standard_normal(t.shape) for t in theirs_flat]
    total = sum((t * ag.tensor(w)).sum() for t, w in zip(ours_flat, weights) if t.requires_grad)
    total_t = sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_flat, weights) if t.requires_grad)
    grads = ag.grad(total, (x, y), allow_unused=True)
    grads_t = torch.autograd.grad(total_t, (xt, yt), allow_unused=True)
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-10, atol=1e-12)


def test_results_are_detached_and_callers_tensors_untouched_without_create_graph(rng):
    x = ag.tensor(rng.standard_normal(3), requires_grad=True)
    out, result = AF.vjp(lambda x: (x * x).sum(), x)
    assert not out.requires_grad and not result.requires_grad
    assert not AF.jacobian(lambda x: x.exp(), x).requires_grad
    assert x.grad is None


def test_unused_input_gets_zeros_or_a_strict_error_naming_it(rng):
    ours, theirs = make_inputs(rng)
    assert_same(AF.jacobian(lambda x, y: x.exp(), ours), TF.jacobian(lambda x, y: x.exp(), theirs))
    assert_same(AF.vjp(lambda x, y: x.sum(), ours), TF.vjp(lambda x, y: x.sum(), theirs))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda x, y: x.exp(), ours, strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda x, y: x.sum(), ours, strict=True)


def test_strict_create_graph_rejects_a_linear_functions_constant_jacobian(rng):
    ours, theirs = make_inputs(rng)
    with pytest.raises(RuntimeError, match="independent"):
        TF.jacobian(lambda x: 2 * x, theirs[0], strict=True, create_graph=True)
    with pytest.raises(RuntimeError, match="Jacobian .* independent of input 0"):
        AF.jacobian(lambda x: 2 * x, ours[0], strict=True, create_graph=True)
    with pytest.raises(RuntimeError, match="does not depend on the inputs"):
        AF.hessian(lambda x: (2 * x).sum(), ours[0], strict=True)


def test_strict_rejects_an_output_that_does_not_require_grad(rng):
    x = ag.tensor(rng.standard_normal(3))
    with pytest.raises(RuntimeError, match="output 0 of the function does not require grad"):
        AF.vjp(lambda x: ag.ones(3).sum(), x, strict=True)


def test_bad_v_and_bad_outputs_are_named(rng):
    x = ag.tensor(rng.standard_normal(3))
    with pytest.raises(RuntimeError, match=r"jvp: v has shape \(2,\) but the input it pairs with has shape \(3,\)"):
        AF.jvp(lambda x: x.exp(), x, ag.ones(2))
    with pytest.raises(RuntimeError, match="v can be omitted only"):
        AF.vjp(lambda x: x.exp(), x)
    with pytest.raises(RuntimeError, match=r"hvp: the function should return a single Tensor with a single element"):
        AF.hvp(lambda x: x.exp(), x, ag.ones(3, dtype=ag.float64))
    with pytest.raises(TypeError, match="jacobian: the inputs must be a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda x: x, [1.0, 2.0])


def test_available_as_autograd_autograd_functional():
    assert ag.autograd.functional.hessian is AF.hessian
