"""nn.utils: gradient clipping and flat parameter vectors against torch.nn.utils."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.utils
from nn_helpers import assert_close, copy_torch_state, to_torch
from nn_helpers import assert_matches_torch as matches_torch

torch = pytest.importorskip("torch")

COMPARISONS = {"count": 0, "max_abs_diff": 0.0}


def assert_matches_torch(ours, theirs, dtype):
    ours = ours.numpy() if isinstance(ours, ag.Tensor) else ours
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype == np.dtype(dtype)
    assert ours.shape == theirs.shape
    COMPARISONS["count"] += 1
    COMPARISONS["max_abs_diff"] = max(COMPARISONS["max_abs_diff"],
                                      float(np.max(np.abs(ours.astype(np.float64) - theirs), initial=0.0)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3)


@pytest.fixture(scope="module", autouse=True)
def report_comparisons():
    yield
    print(f"\n[test_utils] {COMPARISONS['count']} comparisons with PyTorch; "
          f"largest |difference|: {COMPARISONS['max_abs_diff']:.3g}")


def params_with_grads(dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 2), (5,)]
    values = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [(rng.normal(size=s) * scale).astype(dtype) for s in shapes]
    ours = [ag.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for i, (p, tp, g) in enumerate(zip(ours, theirs, grads)):
        if i != 3:  # the last parameter has no gradient
            p.grad, tp.grad = ag.tensor(g.copy()), torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipping, and a norm already below the limit
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    ours, theirs = params_with_grads(dtype)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.shape == ()
    assert_matches_torch(total, torch_total, dtype)
    for p, tp in zip(ours, theirs):
        if tp.grad is None:
            assert p.grad is None
        else:
            assert_matches_torch(p.grad, tp.grad, dtype)


def test_clipping_scales_a_gradient_shared_by_two_parameters_in_place_as_torch():
    # torch multiplies each .grad in place, so one tensor given to two parameters is scaled twice
    results = []
    for lib, clip in ((ag, nn.utils.clip_grad_norm_), (torch, torch.nn.utils.clip_grad_norm_)):
        shared = lib.tensor(np.full(4, 3.0, np.float32))
        p, q = lib.zeros(4, requires_grad=True), lib.zeros(4, requires_grad=True)
        p.grad = q.grad = shared
        total = clip([p, q], max_norm=1.0)
        assert p.grad is shared and q.grad is shared
        results.append((total.item(), shared.numpy().copy()))
    assert results[0][0] == pytest.approx(math.sqrt(2 * 4 * 9.0)) == pytest.approx(results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    assert results[0][1].dtype == np.float32


def test_clip_grad_norm_accepts_a_single_tensor_and_no_gradients():
    p = ag.tensor([3.0, 4.0], requires_grad=True)
    p.grad = ag.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 10.0).item() == pytest.approx(5.0)
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 4.0])
    total = nn.utils.clip_grad_norm_([ag.zeros(2, requires_grad=True)], 1.0)
    assert total.item() == 0.0 and torch.nn.utils.clip_grad_norm_([torch.zeros(2, requires_grad=True)], 1.0) == 0


def test_non_finite_norm_raises_only_when_asked():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    p.grad = ag.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):  # torch's words
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_([p], 1.0)
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    tp.grad = torch.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        torch.nn.utils.clip_grad_norm_([tp], 1.0, error_if_nonfinite=True)
    torch_total = torch.nn.utils.clip_grad_norm_([tp], 1.0)
    assert math.isnan(total.item()) and math.isnan(torch_total.item())
    assert np.isnan(p.grad.numpy()).all() and torch.isnan(tp.grad).all()  # NaN spreads, as in PyTorch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(dtype):
    ours, theirs = params_with_grads(dtype, scale=3.0)
    nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, tp in zip(ours, theirs):
        if tp.grad is not None:
            assert_matches_torch(p.grad, tp.grad, dtype)
            assert np.abs(p.grad.numpy()).max() <= 1.5


def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = params_with_grads(np.float32)
    vec = nn.utils.parameters_to_vector(ours)
    assert_matches_torch(vec, torch.nn.utils.parameters_to_vector(theirs), np.float32)
    vec.sum().backward()  # differentiable, as in PyTorch
    np.testing.assert_array_equal(ours[3].grad.numpy(), np.ones(5))
    new = ag.tensor(np.arange(vec.shape[0], dtype=np.float32))
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new.numpy()), theirs)
    for p, tp in zip(ours, theirs):
        assert_matches_torch(p, tp, np.float32)
    with pytest.raises(ValueError, match="elements"):
        nn.utils.vector_to_parameters(ag.zeros(3), ours)


def test_clip_grad_norm_of_a_models_parameter_generator_matches_torch(torch, rng):
    model, model_t = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    copy_torch_state(model, model_t)
    x = rng.standard_normal((5, 4)).astype(np.float32) * 10
    (model(ag.tensor(x)) ** 2).sum().backward()
    (model_t(torch.tensor(x)) ** 2).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    total_t = torch.nn.utils.clip_grad_norm_(model_t.parameters(), max_norm=1.0)
    assert float(total) == pytest.approx(total_t.item(), rel=1e-5)
    for p, pt in zip(model.parameters(), model_t.parameters()):
        assert_close(p.grad, pt.grad, rtol=1e-5, atol=1e-7)
    total_inf = nn.utils.clip_grad_norm_(list(model.parameters()), 0.5, norm_type=float("inf"))
    total_inf_t = torch.nn.utils.clip_grad_norm_(list(model_t.parameters()), 0.5, norm_type=float("inf"))
    assert float(total_inf) == pytest.approx(total_inf_t.item(), rel=1e-5)


# -- weight_norm and spectral_norm ---------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
@pytest.mark.parametrize("build, dim, shape", [("nn.Linear(3, 4)", 0, (5, 3)), ("nn.Conv2d(2, 3, 3)", 1, (2, 2, 5, 5)),
                                               ("nn.Conv1d(2, 3, 2)", None, (2, 2, 6))])
def test_weight_norm_matches_torch_in_state_dict_values_and_gradients(torch, build, dim, shape):
    rng = np.random.default_rng(0)
    theirs = torch.nn.utils.weight_norm(eval(build, {"nn": torch.nn}).double(), dim=dim)
    with pytest.warns(FutureWarning, match="deprecated"):
        mine = nn.utils.weight_norm(eval(build, {"nn": nn}).double(), dim=dim)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    copy_torch_state(mine, theirs)
    _compare_output_and_gradients(mine, theirs, rng.standard_normal(shape))
    nn.utils.remove_weight_norm(mine)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    matches_torch("weight after removal", mine.weight, theirs.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(mine)


def _compare_output_and_gradients(mine, theirs, x, label=""):
    """The same input through both: outputs, then every parameter's gradient of sum(out**2)."""
    out, out_t = mine(ag.tensor(x)), theirs(to_torch(x))
    matches_torch(f"{label}output", out, out_t)
    (out * out).sum().backward()
    (out_t * out_t).sum().backward()
    for (name, p), p_t in zip(mine.named_parameters(), theirs.parameters()):
        matches_torch(f"{label}{name} grad", p.grad, p_t.grad)


def _compare_training_and_eval_steps(mine, theirs, shape, rng):
    """From PyTorch's weights and buffers: outputs, gradients and buffers over two training forwards
    and one eval forward."""
    copy_torch_state(mine, theirs)
    for mode in ("train", "train", "eval"):
        mine.train(mode == "train")
        theirs.train(mode == "train")
        _compare_output_and_gradients(mine, theirs, rng.standard_normal(shape), f"{mode} ")
        for (name, b), b_t in zip(mine.named_buffers(), theirs.buffers()):
            matches_torch(f"buffer {name}", b, b_t)


@pytest.mark.parametrize("build, shape, kwargs", [("nn.Linear(3, 4)", (5, 3), {}),
                                                  ("nn.Conv2d(2, 3, 3)", (2, 2, 5, 5), dict(n_power_iterations=3)),
                                                  ("nn.ConvTranspose2d(3, 2, 2)", (1, 3, 3, 3), {})])
def test_spectral_norm_matches_torch_through_training_and_eval_steps(torch, build, shape, kwargs):
    """From the same u, v and weight: outputs, gradients and the power iteration's buffers, over two
    training forwards (each one step of power iteration) and one eval forward (none)."""
    rng = np.random.default_rng(0)
    theirs = torch.nn.utils.spectral_norm(eval(build, {"nn": torch.nn}).double(), **kwargs)
    mine = nn.utils.spectral_norm(eval(build, {"nn": nn}).double(), **kwargs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    _compare_training_and_eval_steps(mine, theirs, shape, rng)
    nn.utils.remove_spectral_norm(mine)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    matches_torch("weight after removal", mine.weight, theirs.weight)


# -- parametrizations ------------------------------------------------------------------------------------

def test_parametrizations_weight_norm_matches_torch(torch):
    rng = np.random.default_rng(0)
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(2, 3, 2).double(), dim=0)
    mine = nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 2).double(), dim=0)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert type(mine).__name__ == type(theirs).__name__ == "ParametrizedConv1d"
    assert repr(mine) == repr(theirs)
    copy_torch_state(mine, theirs)
    _compare_output_and_gradients(mine, theirs, rng.standard_normal((2, 2, 6)))
    new_weight = rng.standard_normal((3, 2, 2))
    mine.weight = ag.tensor(new_weight)                    # through right_inverse: g and v
    with torch.no_grad():
        theirs.weight = to_torch(new_weight)
    for (name, p), p_t in zip(mine.named_parameters(), theirs.parameters()):
        matches_torch(f"{name} after assignment", p, p_t)
    nn.utils.parametrize.remove_parametrizations(mine, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(mine) is nn.Conv1d and list(mine.state_dict()) == list(theirs.state_dict())
    matches_torch("weight after removal", mine.weight, theirs.weight)


def test_register_parametrization_keeps_the_original_parameter_and_computes_on_access(torch):
    class Symmetric(nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    layer = nn.Linear(3, 3)
    original = layer.weight
    optimizer = nn.optim.SGD(layer.parameters(), lr=0.1)
    nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
    assert layer.parametrizations.weight.original is original          # still the optimizer's parameter
    assert nn.utils.parametrize.is_parametrized(layer) and not nn.utils.parametrize.is_parametrized(layer, "bias")
    np.testing.assert_array_equal(layer.weight.numpy(), layer.weight.numpy().T)
    layer(ag.ones(2, 3)).sum().backward()
    optimizer.step()
    np.testing.assert_array_equal(layer.weight.numpy(), layer.weight.numpy().T)   # still symmetric
    layer.weight = ag.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))
    np.testing.assert_array_equal(layer.weight.numpy(), [[0, 1, 2], [1, 4, 5], [2, 5, 8]])
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert type(layer) is nn.Linear and layer.weight is original


def test_a_parametrization_without_right_inverse_refuses_assignment_like_torch(torch):
    class Doubled(nn.Module):
        def forward(self, x):
            return x * 2

    layer = nn.utils.parametrize.register_parametrization(nn.Linear(2, 2), "weight", Doubled())
    with pytest.raises(RuntimeError, match="parametrization Doubled does not implement right_inverse"):
        layer.weight = ag.zeros(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        nn.utils.parametrize.register_parametrization(nn.Linear(2, 2), "scale", Doubled())


@pytest.mark.parametrize("build, shape", [("nn.Linear(3, 4)", (5, 3)), ("nn.ConvTranspose2d(3, 2, 2)", (1, 3, 3, 3))])
def test_parametrizations_spectral_norm_matches_torch_through_training_and_eval_steps(torch, build, shape):
    rng = np.random.default_rng(1)
    theirs = torch.nn.utils.parametrizations.spectral_norm(eval(build, {"nn": torch.nn}).double())
    mine = nn.utils.parametrizations.spectral_norm(eval(build, {"nn": nn}).double())
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert repr(mine) == repr(theirs)
    _compare_training_and_eval_steps(mine, theirs, shape, rng)
    fresh = nn.utils.parametrizations.spectral_norm(nn.Linear(6, 5).double())
    assert abs(np.linalg.norm(fresh.weight.numpy(), 2) - 1) < 0.05     # 15 steps of power iteration at the start
