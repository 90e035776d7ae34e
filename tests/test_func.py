"""autograd.func against torch.func on the same inputs: grad (argnums, has_aux), grad_and_value,
vjp, jacrev, hessian, functional_call, and their compositions (grad of grad, MAML, per-example)."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import func as AF

torch = pytest.importorskip("torch")
TF = torch.func
# torch.func.functional_call scripts a helper on first use, which warns in this torch version.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def loss(lib):
    def f(x, y):
        return (lib.tanh(x) * y).sum() ** 2 + (x ** 3).sum()
    return f


def pair(rng, *shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    return [ag.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def assert_same(ours, theirs):
    """Same pytree (Tensor, tuple, dict), shapes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ag.Tensor) and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            assert_same(ours[key], theirs[key])
    else:
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for o, t in zip(ours, theirs):
            assert_same(o, t)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_matches_torch_for_every_argnums(argnums, rng):
    ours, theirs = pair(rng, (3, 2), (2,))
    assert_same(AF.grad(loss(ag), argnums)(*ours), TF.grad(loss(torch), argnums)(*theirs))


def test_grad_and_value_and_has_aux_match_torch(rng):
    ours, theirs = pair(rng, (3, 2), (2,))

    def with_aux(lib):
        return lambda x, y: (loss(lib)(x, y), {"norm": (x * x).sum()})
    assert_same(AF.grad_and_value(loss(ag))(*ours), TF.grad_and_value(loss(torch))(*theirs))
    gradient, (value, aux) = AF.grad_and_value(with_aux(ag), has_aux=True)(*ours)
    gradient_t, (value_t, aux_t) = TF.grad_and_value(with_aux(torch), has_aux=True)(*theirs)
    assert_same((gradient, value, aux["norm"]), (gradient_t, value_t, aux_t["norm"]))
    assert not aux["norm"].requires_grad and not value.requires_grad
    gradient, aux = AF.grad(with_aux(ag), has_aux=True)(*ours)
    assert_same(gradient, TF.grad(with_aux(torch), has_aux=True)(*theirs)[0])


def test_grad_of_a_pytree_argument_keeps_its_structure(rng):
    ours, theirs = pair(rng, (3,), (3,))

    def f(lib):
        return lambda params, scale: (lib.sin(params["w"]) * params["b"][0] * scale).sum()
    tree = {"w": ours[0], "b": [ours[1]]}
    tree_t = {"w": theirs[0], "b": [theirs[1]]}
    assert_same(AF.grad(f(ag))(tree, ag.tensor(2.0)), TF.grad(f(torch))(tree_t, torch.tensor(2.0)))


def test_grad_of_grad_is_the_second_derivative(rng):
    ours, theirs = pair(rng, (4,))
    ours, theirs = ours[0], theirs[0]

    def third_derivative(lib):
        scalar = lambda x: lib.sin(x) * x ** 2
        return TF.grad(TF.grad(TF.grad(scalar))) if lib is torch else AF.grad(AF.grad(AF.grad(scalar)))
    for k in range(4):
        assert_same(third_derivative(ag)(ours[k]), third_derivative(torch)(theirs[k]))


def test_grad_rejects_a_non_scalar_output_and_names_argnums_errors(rng):
    x = ag.tensor(rng.standard_normal(3))
    with pytest.raises(RuntimeError, match=r"scalar \(0-d\) Tensor, got shape \(3,\)"):
        AF.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="argnums=2, but only 1 positional inputs"):
        AF.grad(lambda x: x.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        AF.grad(lambda x, y: x.sum(), argnums=(0, 0))(x, x)
    with pytest.raises(RuntimeError, match="has_aux=True the function must return a tuple"):
        AF.grad(lambda x: x.sum(), has_aux=True)(x)


def test_grad_of_an_unused_argument_is_zeros_as_in_torch(rng):
    ours, theirs = pair(rng, (3,), (2,))
    assert_same(AF.grad(lambda x, y: x.sum(), argnums=(0, 1))(*ours),
                TF.grad(lambda x, y: x.sum(), argnums=(0, 1))(*theirs))


def test_vjp_with_several_outputs_and_repeated_calls_matches_torch(rng):
    ours, theirs = pair(rng, (3, 2), (2,), (3, 2), ())

    def f(x, y):
        return {"prod": x * y, "total": (x ** 2).sum()}
    out, vjp_fn = AF.vjp(f, ours[0], ours[1])
    out_t, vjp_fn_t = TF.vjp(f, theirs[0], theirs[1])
    assert_same(out, out_t)
    for scale in (1.0, -2.0):
        cotangents = {"prod": ours[2] * scale, "total": ours[3]}
        cotangents_t = {"prod": theirs[2] * scale, "total": theirs[3]}
        assert_same(vjp_fn(cotangents), vjp_fn_t(cotangents_t))
    with pytest.raises(RuntimeError, match="cotangent has shape"):
        vjp_fn({"prod": ours[3], "total": ours[3]})


def test_vjp_has_aux_returns_aux_third(rng):
    ours, theirs = pair(rng, (3,))
    out, vjp_fn, aux = AF.vjp(lambda x: (x.exp(), x.sum()), ours[0], has_aux=True)
    out_t, vjp_fn_t, aux_t = TF.vjp(lambda x: (x.exp(), x.sum()), theirs[0], has_aux=True)
    assert_same((out, aux, vjp_fn(ag.ones(3, dtype=ag.float64))),
                (out_t, aux_t, vjp_fn_t(torch.ones(3, dtype=torch.float64))))


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_jacrev_matches_torch_for_several_outputs(argnums, rng):
    ours, theirs = pair(rng, (3, 2), (2,))

    def f(lib):
        return lambda x, y: (lib.tanh(x) * y, (x * y).sum(0))
    assert_same(AF.jacrev(f(ag), argnums)(*ours), TF.jacrev(f(torch), argnums)(*theirs))


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_hessian_matches_torch(argnums, rng):
    ours, theirs = pair(rng, (3, 2), (2,))
    assert_same(AF.hessian(loss(ag), argnums)(*ours), TF.hessian(loss(torch), argnums)(*theirs))


def twin_mlps(rng):
    """The same small MLP (float64) in both libraries, and its parameters as dicts."""
    model_t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in model_t.state_dict().items()})
    return model, model_t


def test_functional_call_uses_the_given_parameters_and_leaves_the_module_untouched(rng):
    model, model_t = twin_mlps(rng)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    identity = {k: id(v) for k, v in model.named_parameters()}
    new = {k: rng.standard_normal(v.shape) for k, v in model.named_parameters()}
    x = rng.standard_normal((5, 3))
    out = AF.functional_call(model, {k: ag.tensor(v) for k, v in new.items()}, ag.tensor(x))
    out_t = TF.functional_call(model_t, {k: torch.tensor(v) for k, v in new.items()}, torch.tensor(x))
    assert_same(out, out_t)
    assert {k: id(v) for k, v in model.named_parameters()} == identity
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    partial = AF.functional_call(model, {"2.bias": ag.zeros(2, dtype=ag.float64)}, (ag.tensor(x),))
    partial_t = TF.functional_call(model_t, {"2.bias": torch.zeros(2, dtype=torch.float64)}, (torch.tensor(x),))
    assert_same(partial, partial_t)


def test_functional_call_restores_the_module_when_forward_raises(rng):
    model, _ = twin_mlps(rng)
    weight = model[0].weight
    with pytest.raises(Exception):
        AF.functional_call(model, {"0.weight": ag.zeros((4, 7), dtype=ag.float64)}, ag.ones((1, 3), dtype=ag.float64))
    assert model[0].weight is weight


def test_functional_call_strict_and_unknown_names_are_errors(rng):
    model, _ = twin_mlps(rng)
    x = ag.ones((1, 3), dtype=ag.float64)
    with pytest.raises(RuntimeError, match=r"strict=True\): no value given for 0.bias"):
        AF.functional_call(model, {k: v for k, v in model.named_parameters() if k != "0.bias"}, x, strict=True)
    with pytest.raises(ValueError, match="no parameter or buffer named 0.wieght"):
        AF.functional_call(model, {"0.wieght": ag.ones((4, 3))}, x)


def test_functional_call_replaces_tied_weights_together(rng):
    shared = nn.Linear(2, 2, bias=False).double()
    model = nn.Sequential(shared, nn.Tanh(), shared)
    shared_t = torch.nn.Linear(2, 2, bias=False).double()
    model_t = torch.nn.Sequential(shared_t, torch.nn.Tanh(), shared_t)
    w = rng.standard_normal((2, 2))
    x = rng.standard_normal((3, 2))
    out = AF.functional_call(model, {"0.weight": ag.tensor(w)}, ag.tensor(x))
    out_t = TF.functional_call(model_t, {"0.weight": torch.tensor(w)}, torch.tensor(x))
    assert_same(out, out_t)


def test_maml_inner_step_differentiates_through_the_inner_gradient_as_torch(rng):
    """One inner SGD step with functional_call + grad, then the outer loss's gradient with
    respect to the original parameters (second-order MAML)."""
    model, model_t = twin_mlps(rng)
    support, query = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    target_s, target_q = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))

    def outer_gradient(lib, functional, module, params):
        def inner_loss(p, x, y):
            return ((functional.functional_call(module, p, (x,)) - y) ** 2).mean()
        grads = functional.grad(inner_loss)(params, lib.tensor(support), lib.tensor(target_s))
        adapted = {k: params[k] - 0.1 * grads[k] for k in params}
        outer = inner_loss(adapted, lib.tensor(query), lib.tensor(target_q))
        names = list(params)
        return dict(zip(names, (ag.grad if lib is ag else torch.autograd.grad)(outer, [params[k] for k in names])))
    ours = outer_gradient(ag, AF, model, dict(model.named_parameters()))
    theirs = outer_gradient(torch, TF, model_t, dict(model_t.named_parameters()))
    assert_same(ours, theirs)


def test_per_example_gradients_with_functional_call_match_torch(rng):
    model, model_t = twin_mlps(rng)
    x, target = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    params = {k: v.detach() for k, v in model.named_parameters()}
    params_t = {k: v.detach() for k, v in model_t.named_parameters()}

    def per_example(lib, functional, module, p):
        def example_loss(p, xi, yi):
            return ((functional.functional_call(module, p, (xi[None],)) - yi) ** 2).sum()
        return [functional.grad(example_loss)(p, lib.tensor(x[i]), lib.tensor(target[i])) for i in range(3)]
    ours = per_example(ag, AF, model, params)
    theirs = torch.func.vmap(TF.grad(lambda p, xi, yi: ((TF.functional_call(model_t, p, (xi[None],)) - yi) ** 2).sum()),
                             in_dims=(None, 0, 0))(params_t, torch.tensor(x), torch.tensor(target))
    for i in range(3):
        assert_same(ours[i], {k: v[i] for k, v in theirs.items()})


def test_vmap_of_grad_gives_torchs_per_example_gradients():
    """The per-sample-gradients recipe: vmap(grad(loss), in_dims=(None, 0, 0))(params, inputs, targets)."""
    torch = pytest.importorskip("torch")
    import nn.functional as F
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})

    def per_example(lib, func, functional, model):
        def loss(params, sample, target):
            return functional.cross_entropy(func.functional_call(model, params, (sample.unsqueeze(0),)),
                                            target.unsqueeze(0))
        params = {k: v.detach() for k, v in model.named_parameters()}
        return func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(x), lib.tensor(y))

    mine = per_example(ag, ag.func, F, ours)
    expected = per_example(torch, torch.func, torch.nn.functional, theirs)
    assert list(mine) == list(expected)
    for name in mine:
        assert mine[name].shape == tuple(expected[name].shape)
        np.testing.assert_allclose(mine[name].numpy(), expected[name].numpy(), rtol=1e-5, atol=1e-6)


def test_vmap_maps_nested_inputs_and_outputs_as_torch():
    torch = pytest.importorskip("torch")
    a, b = np.random.default_rng(1).standard_normal((5, 3)), np.random.default_rng(2).standard_normal((3, 5))
    for lib, vmap in ((ag, ag.vmap), (torch, torch.vmap)):
        dots = vmap(lambda u, v: (u * v).sum(), in_dims=(0, 1))(lib.tensor(a), lib.tensor(b))
        pair = vmap(lambda u: (u, u.sum()), out_dims=(1, 0))(lib.tensor(a))
        twice = vmap(vmap(lambda u: u * 2))(lib.tensor(a))
        shifted = vmap(lambda d: d["x"] + d["y"], in_dims=({"x": 0, "y": None},))({"x": lib.tensor(a),
                                                                                  "y": lib.tensor(a[0])})
        np.testing.assert_allclose(dots.numpy(), (a * b.T).sum(1))
        assert tuple(pair[0].shape) == (3, 5) and tuple(twice.shape) == (5, 3)
        np.testing.assert_allclose(shifted.numpy(), a + a[0])
    x = ag.tensor(a, requires_grad=True)
    ag.vmap(lambda row: (row ** 2).sum())(x).sum().backward()   # gradients flow through the stacking
    np.testing.assert_allclose(x.grad.numpy(), 2 * a)
    with pytest.raises(ValueError, match="different sizes"):
        ag.vmap(lambda u, v: u + v)(ag.ones(2), ag.ones(3))
    with pytest.raises(ValueError, match="in_dims are all None"):
        ag.vmap(lambda u: u, in_dims=None)(ag.ones(2))


def test_jacfwd_and_jvp_give_torch_funcs_results():
    torch = pytest.importorskip("torch")
    x, t = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -2.0])

    def f(lib):
        return lambda u, w: (u.sin() * w, (u * w).sum())

    results = []
    for lib, func in ((ag, ag.func), (torch, torch.func)):
        jac = func.jacfwd(f(lib), argnums=(0, 1))(lib.tensor(x), lib.tensor(t))
        out, product = func.jvp(f(lib), (lib.tensor(x), lib.tensor(t)), (lib.tensor(t), lib.tensor(x)))
        results.append([jac[0][0], jac[0][1], jac[1][0], out[0], product[0], product[1]])
    for mine, expected in zip(*results):
        np.testing.assert_allclose(mine.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="Expected primals and tangents to be tuples"):
        ag.func.jvp(lambda u: u, ag.ones(2), ag.ones(2))
