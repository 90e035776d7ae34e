"""nn.optim: every optimizer and option against torch.optim step for step, param groups, state dicts
(round trips through nn.save mid-training), validation, and the schedulers against PyTorch."""
import math

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")

STEPS = 10
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
COMPARISONS = {"count": 0, "max_abs_diff": {np.float32: 0.0, np.float64: 0.0},
               "max_rel_diff": {np.float32: 0.0, np.float64: 0.0}}  # relative to the array's largest element


def assert_matches_torch(ours, theirs, dtype, what=""):
    """Compare an autograd Tensor / array with a torch tensor; keep count and the largest difference."""
    ours = ours.numpy() if isinstance(ours, ag.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype == np.dtype(dtype), what
    diff = float(np.max(np.abs(ours.astype(np.float64) - theirs), initial=0.0))
    COMPARISONS["count"] += 1
    COMPARISONS["max_abs_diff"][dtype] = max(COMPARISONS["max_abs_diff"][dtype], diff)
    scale = float(np.max(np.abs(theirs), initial=0.0))
    if scale > 0:
        COMPARISONS["max_rel_diff"][dtype] = max(COMPARISONS["max_rel_diff"][dtype], diff / scale)
    # Rounding differences scale with the largest element (cancellation can make one entry tiny).
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(ours, theirs, rtol=tolerance["rtol"], atol=tolerance["atol"] + tolerance["rtol"] * scale,
                               err_msg=what)


@pytest.fixture(scope="module", autouse=True)
def report_comparisons():
    yield
    print(f"\n[test_optim] {COMPARISONS['count']} comparisons with PyTorch; largest |difference|: "
          f"float32 {COMPARISONS['max_abs_diff'][np.float32]:.3g}, "
          f"float64 {COMPARISONS['max_abs_diff'][np.float64]:.3g}; relative to the largest element: "
          f"float32 {COMPARISONS['max_rel_diff'][np.float32]:.3g}, float64 {COMPARISONS['max_rel_diff'][np.float64]:.3g}")


# -- the option tables -----------------------------------------------------------------------------
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),  # decay joins the gradient before damping
    ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.05, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),  # ten steps cross rho_t = 5: both the momentum-only and the rectified update
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1, maximize=True)),  # averaging from step 4
]
CASE_IDS = [f"{name}-" + ",".join(f"{k}={v}" for k, v in options.items()) for name, options in CASES]
DTYPES = [np.float32, np.float64]
# One case per optimizer with all of its state in use, for the state-dict tests.
STATEFUL = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05, amsgrad=True)),
            ("AdamW", dict(lr=0.05, weight_decay=0.1)),
            ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)), ("Adadelta", dict(lr=0.5)),
            ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)), ("Adamax", dict(lr=0.05)),
            ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05)), ("Rprop", dict(lr=0.05)),
            ("ASGD", dict(lr=0.05, t0=3))]


def make_pair(name, options, params, torch_params):
    return getattr(nn.optim, name)(params, **options), getattr(torch.optim, name)(torch_params, **options)


def init_arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 5)).astype(dtype), rng.normal(size=5).astype(dtype),
            rng.normal(size=(5, 2)).astype(dtype), rng.normal(size=3).astype(dtype)]  # the last one is unused


def both(arrays):
    ours = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def mlp_loss(lib, params, x, y):
    w1, b1, w2, _ = params
    out = lib.tanh(x @ w1 + b1) @ w2
    return ((out - y) ** 2).mean()


def batch(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 4)).astype(dtype), rng.normal(size=(8, 2)).astype(dtype)


def train_step(opt, params, x, y):
    opt.zero_grad()
    mlp_loss(ag, params, ag.tensor(x), ag.tensor(y)).backward()
    opt.step()


def torch_train_step(opt, params, x, y):
    opt.zero_grad()
    mlp_loss(torch, params, torch.tensor(x), torch.tensor(y)).backward()
    opt.step()


# -- step for step against PyTorch -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_training_matches_torch_step_for_step(name, options, dtype):
    """A tiny MLP trained in both libraries, gradients from each library's own backward."""
    params, torch_params = both(init_arrays(dtype))
    opt, torch_opt = make_pair(name, options, params, torch_params)
    x, y = batch(dtype)
    for step in range(STEPS):
        train_step(opt, params, x, y)
        torch_train_step(torch_opt, torch_params, x, y)
        for i, (p, tp) in enumerate(zip(params, torch_params)):
            assert_matches_torch(p, tp, dtype, f"{name} step {step} param {i}")
    assert params[3].grad is None and np.array_equal(params[3].numpy(), init_arrays(dtype)[3])  # skipped
    check_state_matches_torch(opt, torch_opt, dtype)


def check_state_matches_torch(opt, torch_opt, dtype):
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert list(ours["state"]) == list(theirs["state"])
    for index, torch_state in theirs["state"].items():
        assert set(ours["state"][index]) == set(torch_state)
        for key, value in torch_state.items():
            if key == "step":
                assert ours["state"][index]["step"] == value.item()
            elif key in ("mu_product", "eta", "mu"):  # float32 0-d tensors in torch (NAdam, ASGD), floats here
                assert ours["state"][index][key] == pytest.approx(value.item(), rel=1e-6)
            else:
                assert_matches_torch(ours["state"][index][key], value, dtype, f"state {index} {key}")
    for group, torch_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert {k: v for k, v in torch_group.items() if k in group} == group  # same keys, same values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_identical_gradients_give_torch_updates(name, options, dtype):
    """Feed the same gradients to both (spanning orders of magnitude, with exact zeros): isolates the update."""
    rng = np.random.default_rng(2)
    params, torch_params = both([rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=7).astype(dtype)])
    opt, torch_opt = make_pair(name, options, params, torch_params)
    for step in range(STEPS):
        for p, tp in zip(params, torch_params):
            g = (rng.normal(size=p.shape) * 10.0 ** rng.integers(-3, 3, size=p.shape)).astype(dtype)
            g[rng.random(p.shape) < 0.2] = 0
            p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        opt.step()
        torch_opt.step()
        for p, tp in zip(params, torch_params):
            assert_matches_torch(p, tp, dtype, f"{name} step {step}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax", "NAdam",
                                  "RAdam", "Rprop", "ASGD"])
def test_param_groups_with_their_own_options_match_torch(name, dtype):
    arrays = init_arrays(dtype)
    params, torch_params = both(arrays)
    extra = {"SGD": dict(momentum=0.9), "Adam": dict(betas=(0.5, 0.9)), "AdamW": dict(weight_decay=0.5),
             "RMSprop": dict(centered=True), "Adadelta": dict(rho=0.5),
             "Adagrad": dict(lr_decay=0.1, initial_accumulator_value=0.3), "Adamax": dict(betas=(0.5, 0.9)),
             "NAdam": dict(momentum_decay=0.01), "RAdam": dict(decoupled_weight_decay=True, weight_decay=0.1),
             "Rprop": dict(etas=(0.4, 1.1)), "ASGD": dict(t0=2, lambd=0.01)}[name]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003, **extra}]  # noqa: E731
    opt = getattr(nn.optim, name)(groups(params), lr=0.02)
    torch_opt = getattr(torch.optim, name)(groups(torch_params), lr=0.02)
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.003]
    x, y = batch(dtype)
    for step in range(STEPS):
        train_step(opt, params, x, y)
        torch_train_step(torch_opt, torch_params, x, y)
        for p, tp in zip(params, torch_params):
            assert_matches_torch(p, tp, dtype, f"{name} step {step}")
    check_state_matches_torch(opt, torch_opt, dtype)


def test_add_param_group_matches_torch():
    arrays = init_arrays(np.float32)
    params, torch_params = both(arrays)
    opt = nn.optim.Adam(params[:2], lr=0.01)
    torch_opt = torch.optim.Adam(torch_params[:2], lr=0.01)
    x, y = batch(np.float32)
    for step in range(STEPS):
        if step == 3:
            opt.add_param_group({"params": params[2], "lr": 0.05})
            torch_opt.add_param_group({"params": torch_params[2], "lr": 0.05})
        train_step(opt, params, x, y)
        torch_train_step(torch_opt, torch_params, x, y)
        for p, tp in zip(params, torch_params):
            assert_matches_torch(p, tp, np.float32, f"step {step}")
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # defaults fill the new group
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [params[0]]})


# -- state dicts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,options", STATEFUL, ids=[name for name, _ in STATEFUL])
def test_state_dict_round_trip_through_a_file_continues_identically(name, options, dtype, tmp_path):
    x, y = batch(dtype)
    arrays = init_arrays(dtype)
    params = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = getattr(nn.optim, name)(params, **options)
    for _ in range(4):
        train_step(opt, params, x, y)
    nn.save(opt.state_dict(), tmp_path / "opt.safetensors")
    nn.save({str(i): p for i, p in enumerate(params)}, str(tmp_path / "params.safetensors"))
    for _ in range(6):
        train_step(opt, params, x, y)

    saved = nn.load(tmp_path / "params.safetensors")
    resumed = [ag.tensor(saved[str(i)].numpy().copy(), requires_grad=True) for i in range(len(arrays))]
    resumed_opt = getattr(nn.optim, name)(resumed, lr=123.0)  # the loaded state sets lr back
    resumed_opt.load_state_dict(nn.load(tmp_path / "opt.safetensors"))
    for _ in range(6):
        train_step(resumed_opt, resumed, x, y)
    for p, q in zip(params, resumed):
        assert q.dtype == dtype
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert resumed_opt.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for index, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            other = resumed_opt.state_dict()["state"][index][key]
            assert np.array_equal(np.asarray(value), np.asarray(other)), key


def test_state_dict_has_torch_layout_and_loads_structure_back_exactly(tmp_path):
    params, torch_params = both(init_arrays(np.float32))
    opt = nn.optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], betas=(0.8, 0.9))
    torch_opt = torch.optim.Adam([{"params": torch_params[:2]}, {"params": torch_params[2:], "lr": 0.1}],
                                 betas=(0.8, 0.9))
    x, y = batch(np.float32)
    train_step(opt, params, x, y)
    torch_train_step(torch_opt, torch_params, x, y)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in torch_opt.state_dict()["param_groups"]]
    assert list(sd["state"]) == [0, 1, 2]  # the unused parameter has no state, as in torch
    assert isinstance(sd["state"][0]["exp_avg"], ag.Tensor)
    nn.save(sd, tmp_path / "adam.safetensors")
    loaded = nn.load(tmp_path / "adam.safetensors")
    assert list(loaded) == ["state", "param_groups"]
    assert list(loaded["state"]) == [0, 1, 2] and all(isinstance(k, int) for k in loaded["state"])
    assert list(loaded["state"][0]) == ["step", "exp_avg", "exp_avg_sq"]
    assert loaded["state"][0]["step"] == 1
    assert loaded["param_groups"] == sd["param_groups"]
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.9) and isinstance(loaded["param_groups"][0]["betas"], tuple)
    np.testing.assert_array_equal(loaded["state"][2]["exp_avg_sq"].numpy(), sd["state"][2]["exp_avg_sq"].numpy())


def test_load_state_dict_of_the_wrong_shape_raises_and_leaves_optimizer_unchanged():
    params, _ = both(init_arrays(np.float32))
    opt = nn.optim.SGD(params, lr=0.1, momentum=0.9)
    train_step(opt, params, *batch(np.float32))
    before = opt.state_dict()
    other = nn.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="parameter group 0 has 4 parameters"):
        other.load_state_dict(before)
    assert other.param_groups[0]["lr"] == 0.5 and not other.state
    swapped = nn.optim.SGD(params[::-1], lr=0.5)  # same count, shapes differ
    with pytest.raises(ValueError, match="shape"):
        swapped.load_state_dict(before)
    assert swapped.param_groups[0]["lr"] == 0.5 and not swapped.state
    with pytest.raises(ValueError, match="different number|groups"):
        nn.optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(before)


def test_loaded_state_is_copied_and_cast_to_the_parameter_dtype():
    p = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = nn.optim.Adam([p])
    buf = np.full(3, 0.5)  # float64
    opt.load_state_dict({"state": {0: {"step": ag.tensor(2.0), "exp_avg": buf, "exp_avg_sq": ag.tensor(buf)}},
                         "param_groups": [{"params": [0], "lr": 0.01}]})
    state = opt.state[p]
    assert state["step"] == 2 and state["exp_avg"].dtype == np.float32 and state["exp_avg_sq"].dtype == np.float32
    p.grad = ag.tensor(np.ones(3, np.float32))
    opt.step()
    assert buf[0] == 0.5 and state["step"] == 3 and p.dtype == np.float32
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)  # missing options come from the defaults


def test_adamw_stays_decoupled_whatever_the_state_dict_says():
    p = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    sd = nn.optim.Adam([p]).state_dict()
    opt = nn.optim.AdamW([p])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# -- behaviour -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_step_keeps_float32_and_never_writes_into_gradients(name, options):
    p = ag.tensor(np.linspace(-1, 1, 6, dtype=np.float32), requires_grad=True)
    q = ag.tensor(np.ones(6, np.float32), requires_grad=True)
    shared = ag.tensor(np.linspace(0.5, -0.5, 6, dtype=np.float32))
    p.grad = q.grad = shared  # one gradient object for two parameters, as the engine may hand out
    before = shared.numpy().copy()
    opt = getattr(nn.optim, name)([p, q], **options)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared.numpy(), before)
    assert p.dtype == q.dtype == np.float32
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("size", [2, 100_000])
def test_plain_sgd_is_p_minus_lr_times_grad_in_float32_as_torch(size):
    # Large parameters: p - lr * g with the product unrounded (a fused multiply-add, BLAS axpy), bit for bit
    # torch's param.add_(grad, alpha=-lr). Small ones take NumPy's expression, within an ulp of it.
    from autograd.ops import gemm
    rng = np.random.default_rng(0)
    start, grad = rng.standard_normal((2, size)).astype(np.float32)
    p = ag.tensor(start.copy(), requires_grad=True)
    p.grad = ag.tensor(grad)
    opt = nn.optim.SGD([p], lr=0.1)
    opt.step()
    assert not opt.state  # no momentum, no state
    fused = (start.astype(np.float64) - np.float64(np.float32(0.1)) * grad.astype(np.float64)).astype(np.float32)
    by_axpy = size >= gemm._AXPY_FROM and np.dtype(np.float32) in gemm._axpy
    if by_axpy:
        np.testing.assert_array_equal(p.numpy(), fused)   # a float32 product is exact in float64
    else:
        np.testing.assert_array_equal(p.numpy(), start - np.float32(0.1) * grad)
    np.testing.assert_array_max_ulp(p.numpy(), fused, maxulp=1)
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(start, requires_grad=True)
    theirs.grad = torch.tensor(grad)
    torch.optim.SGD([theirs], lr=0.1).step()
    np.testing.assert_array_max_ulp(p.numpy(), theirs.detach().numpy(), maxulp=0 if by_axpy else 1)


AXPY_CASES = [(name, options) for name, options in CASES if name in ("SGD", "Adam", "AdamW")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,options", AXPY_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(AXPY_CASES)])
def test_large_parameters_updated_through_blas_axpy_match_torch(name, options, dtype):
    # The other step-for-step tests use parameters below gemm._AXPY_FROM elements, which take NumPy's
    # expression: these are large enough for SGD's and Adam's add_scaled_ to run BLAS axpy (momentum,
    # dampening, moments), as a contiguous parameter and as a contiguous slice of a larger array.
    from autograd.ops import gemm
    rng = np.random.default_rng(3)
    big = rng.normal(size=(300, 400)).astype(dtype)
    arrays = [big, big[50:250]]
    assert all(a.size >= gemm._AXPY_FROM and a.flags.c_contiguous for a in arrays)
    params = [ag.from_numpy(a.copy()).requires_grad_() for a in arrays]
    torch_params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt, torch_opt = make_pair(name, options, params, torch_params)
    for step in range(5):
        for p, tp in zip(params, torch_params):
            g = (rng.normal(size=p.shape) * 10.0 ** rng.integers(-3, 3, size=p.shape)).astype(dtype)
            p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        opt.step()
        torch_opt.step()
        for p, tp in zip(params, torch_params):
            assert_matches_torch(p, tp, dtype, f"{name} step {step}")
    check_state_matches_torch(opt, torch_opt, dtype)


def test_parameter_held_in_read_only_memory_is_given_its_own():
    base = np.zeros(3, np.float32)
    p = ag.tensor(np.broadcast_to(base, (2, 3)), requires_grad=True)
    p.grad = ag.ones(2, 3)
    nn.optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.numpy(), -np.ones((2, 3)))
    assert not base.any()


def test_zero_grad_sets_to_none_or_zeros_the_gradient_in_place_as_torch():
    torch = pytest.importorskip("torch")
    for lib, optim in ((ag, nn.optim), (torch, torch.optim)):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = optim.SGD([p], lr=0.1)
        old = p.grad = lib.tensor([3.0, 4.0])
        opt.zero_grad(set_to_none=False)
        assert p.grad is old and old.tolist() == [0.0, 0.0], lib
        opt.zero_grad()
        assert p.grad is None


def test_step_with_closure_returns_loss_and_evaluates_with_grad_enabled():
    p = ag.tensor([1.0, -2.0], requires_grad=True)
    opt = nn.optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.numpy(), [0.5, -1.0])


def test_params_can_be_named_parameters_and_groups_keep_their_names():
    p, q = ag.zeros(2, requires_grad=True), ag.zeros(3, requires_grad=True)
    opt = nn.optim.SGD([("a", p), ("b", q)], lr=0.1)
    assert opt.param_groups[0]["params"] == [p, q] and opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


BAD_OPTIONS = [
    ("SGD", dict(lr=-0.1), "learning rate.*-0.1"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "momentum.*-0.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "weight_decay.*-1"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    ("SGD", dict(lr=float("nan")), "learning rate.*nan"),
    ("Adam", dict(lr=-1e-3), "learning rate.*-0.001"),
    ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\].*1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\].*-0.1"),
    ("Adam", dict(eps=-1e-8), "eps.*-1e-08"),
    ("AdamW", dict(weight_decay=-0.01), "weight_decay.*-0.01"),
    ("RMSprop", dict(alpha=-0.9), "alpha.*-0.9"),
    ("RMSprop", dict(momentum=-1), "momentum.*-1"),
    ("RMSprop", dict(eps=-1), "eps.*-1"),
    ("Adadelta", dict(rho=1.5), "rho.*1.5"),
    ("Adadelta", dict(lr=-1), "learning rate.*-1"),
    ("Adagrad", dict(lr=-0.1), "learning rate.*-0.1"),
    ("Adagrad", dict(lr_decay=-1), "lr_decay.*-1"),
    ("Adagrad", dict(weight_decay=-1), "weight_decay.*-1"),
    ("Adagrad", dict(initial_accumulator_value=-0.5), "initial_accumulator_value.*-0.5"),
    ("Adagrad", dict(eps=-1e-10), "eps.*-1e-10"),
    ("LBFGS", dict(lr=-1), "learning rate.*-1"),
    ("LBFGS", dict(max_iter=0), "max_iter must be a positive int, got 0"),
    ("LBFGS", dict(history_size=2.5), "history_size must be a positive int, got 2.5"),
    ("LBFGS", dict(tolerance_grad=-1e-5), "tolerance_grad.*-1e-05"),
    ("LBFGS", dict(line_search_fn="armijo"), "line_search_fn must be None or 'strong_wolfe'.*'armijo'"),
]


@pytest.mark.parametrize("name,options,message", BAD_OPTIONS)
def test_invalid_hyperparameters_raise_naming_the_value(name, options, message):
    p = ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        getattr(nn.optim, name)([p], **options)


def test_invalid_option_in_a_param_group_raises():
    p, q = ag.zeros(2, requires_grad=True), ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="learning rate.*-2"):
        nn.optim.Adam([{"params": [p]}, {"params": [q], "lr": -2}])


def test_bad_parameter_lists_raise_clear_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD(iter([]), lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        nn.optim.SGD(ag.zeros(2, requires_grad=True), lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        nn.optim.SGD([np.zeros(2)], lr=0.1)
    leaf = ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        nn.optim.SGD([leaf * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        nn.optim.SGD({leaf}, lr=0.1)


def test_repr_lists_groups_and_options():
    text = repr(nn.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# -- learning-rate schedulers ---------------------------------------------------------------------------
SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch + 1 / (epoch + 1))),
]
EPOCHS = 20


def scheduler_pair(name, options, lrs=(0.1, 0.03)):
    params, torch_params = both(init_arrays(np.float32)[:2])
    opt = nn.optim.SGD([{"params": [params[0]], "lr": lrs[0]}, {"params": [params[1]], "lr": lrs[1]}])
    torch_opt = torch.optim.SGD([{"params": [torch_params[0]], "lr": lrs[0]},
                                 {"params": [torch_params[1]], "lr": lrs[1]}])
    sched = getattr(nn.optim.lr_scheduler, name)(opt, **options)
    torch_sched = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    return opt, sched, torch_opt, torch_sched


@pytest.mark.parametrize("name,options", SCHEDULERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch_exactly_over_20_epochs(name, options):
    opt, sched, torch_opt, torch_sched = scheduler_pair(name, options)
    assert sched.get_last_lr() == torch_sched.get_last_lr() and sched.last_epoch == 0
    for epoch in range(EPOCHS):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
        COMPARISONS["count"] += 1
        assert sched.get_last_lr() == torch_sched.get_last_lr(), f"epoch {epoch}"  # exactly, not approximately
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]
        assert sched.last_epoch == torch_sched.last_epoch == epoch + 1


def test_cosine_annealing_stays_on_the_closed_form():
    opt, sched, _, _ = scheduler_pair("CosineAnnealingLR", dict(T_max=10, eta_min=0.001))
    for epoch in range(1, 11):
        sched.step()
        expected = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name,options", SCHEDULERS[:6], ids=[n for n, _ in SCHEDULERS[:6]])
def test_scheduler_state_dict_round_trip_through_a_file(name, options, tmp_path):
    opt, sched, torch_opt, torch_sched = scheduler_pair(name, options)
    for _ in range(4):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
    nn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.safetensors")
    checkpoint = nn.load(tmp_path / "ckpt.safetensors")
    opt2, sched2, _, _ = scheduler_pair(name, options, lrs=(7.0, 7.0))
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    for epoch in range(8):
        opt2.step()
        torch_opt.step()
        sched2.step()
        torch_sched.step()
        assert sched2.get_last_lr() == torch_sched.get_last_lr(), f"epoch {epoch}"


def test_scheduler_needs_an_optimizer_and_initial_lr_to_resume():
    with pytest.raises(TypeError, match="not an Optimizer"):
        nn.optim.lr_scheduler.StepLR(object(), 2)
    opt = nn.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        nn.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)


# -- with real modules -------------------------------------------------------------------------------
def test_module_checkpoint_resumes_training_exactly_and_matches_torch(tmp_path):
    """nn.Linear models trained with AdamW + a scheduler, checkpointed mid-way with nn.save, resumed in a
    fresh model/optimizer/scheduler: identical to the uninterrupted run, and to PyTorch's."""
    def build():
        ag.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

    model = build()
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    make = lambda lib, m: lib.optim.AdamW(m.parameters(), lr=0.05, weight_decay=0.1)  # noqa: E731
    opt, torch_opt = make(nn, model), make(torch, torch_model)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    torch_sched = torch.optim.lr_scheduler.CosineAnnealingLR(torch_opt, T_max=6)
    x, y = batch(np.float32)

    def epoch(model, opt, sched):
        opt.zero_grad()
        ((model(ag.tensor(x)) - ag.tensor(y)) ** 2).mean().backward()
        opt.step()
        sched.step()

    for step in range(8):
        if step == 4:
            nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
                    tmp_path / "checkpoint.safetensors")
        epoch(model, opt, sched)
        torch_opt.zero_grad()
        ((torch_model(torch.tensor(x)) - torch.tensor(y)) ** 2).mean().backward()
        torch_opt.step()
        torch_sched.step()
        for (name, p), tp in zip(model.named_parameters(), torch_model.parameters()):
            assert_matches_torch(p, tp, np.float32, f"step {step} {name}")

    checkpoint = nn.load(tmp_path / "checkpoint.safetensors")
    resumed = build()
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt = nn.optim.AdamW(resumed.parameters(), lr=1.0)
    resumed_sched = nn.optim.lr_scheduler.CosineAnnealingLR(resumed_opt, T_max=6)
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed_sched.load_state_dict(checkpoint["scheduler"])
    for _ in range(4):
        epoch(resumed, resumed_opt, resumed_sched)
    for (name, p), q in zip(model.named_parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert resumed_sched.get_last_lr() == sched.get_last_lr() == torch_sched.get_last_lr()


def test_adagrad_state_exists_from_construction_and_late_groups_start_from_the_default_accumulator():
    """As PyTorch: a group added later keeps its own lr, but its accumulator starts from the
    optimizer's initial_accumulator_value, whatever the group says."""
    params, torch_params = both(init_arrays(np.float64))
    opt = nn.optim.Adagrad(params[:2], lr=0.1, initial_accumulator_value=0.2)
    torch_opt = torch.optim.Adagrad(torch_params[:2], lr=0.1, initial_accumulator_value=0.2)
    assert opt.state_dict()["state"][1]["step"] == 0
    check_state_matches_torch(opt, torch_opt, np.float64)
    x, y = batch(np.float64)
    for step in range(6):
        if step == 2:
            opt.add_param_group({"params": params[2:], "lr": 0.3, "initial_accumulator_value": 5.0})
            torch_opt.add_param_group({"params": torch_params[2:], "lr": 0.3, "initial_accumulator_value": 5.0})
        train_step(opt, params, x, y)
        torch_train_step(torch_opt, torch_params, x, y)
        for p, tp in zip(params, torch_params):
            assert_matches_torch(p, tp, np.float64, f"step {step}")
    check_state_matches_torch(opt, torch_opt, np.float64)


# -- as PyTorch code uses optimizers -----------------------------------------------------------------------

def test_optimizer_param_groups_and_lr_change():
    w = nn.Parameter(ag.ones(2))
    b = nn.Parameter(ag.ones(2))
    opt = nn.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0.9
    for g in opt.param_groups:
        g["lr"] = 0.01
    (w.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), [0.99, 0.99], rtol=1e-6)
    opt.zero_grad()
    assert w.grad is None or not w.grad.numpy().any()


def test_optimizer_loads_a_torch_state_dict_given_as_numpy_arrays():
    x, y = batch(np.float32)
    _, torch_params = both(init_arrays(np.float32))
    torch_opt = torch.optim.Adam(torch_params, lr=0.01)
    for _ in range(2):
        torch_train_step(torch_opt, torch_params, x, y)
    sd = torch_opt.state_dict()
    state = {index: {key: (value.numpy() if hasattr(value, "numpy") else value) for key, value in entry.items()}
             for index, entry in sd["state"].items()}
    params = [ag.tensor(p.detach().numpy().copy(), requires_grad=True) for p in torch_params]
    opt = nn.optim.Adam(params, lr=0.5)
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    assert opt.param_groups[0]["lr"] == 0.01
    for step in range(2):
        train_step(opt, params, x, y)
        torch_train_step(torch_opt, torch_params, x, y)
        for i, (p, tp) in enumerate(zip(params, torch_params)):
            assert_matches_torch(p, tp, np.float32, f"step {step} after loading, param {i}")


def make_momentum_sgd(lib, optim):
    """A custom optimizer written the PyTorch way: Tensor state, updated in place under no_grad."""
    class MomentumSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["momentum_buffer"] = lib.zeros_like(p, memory_format=lib.preserve_format)
                        state["scale"] = lib.tensor(1.0)   # state of another shape than the parameter
                    state["momentum_buffer"].mul_(group["momentum"]).add_(p.grad)
                    state["scale"].mul_(0.5)
                    p.add_(state["momentum_buffer"], alpha=-group["lr"] * (1 + state["scale"].item()))
                    state["step"] += 1
    return MomentumSGD


def test_a_custom_optimizer_with_tensor_state_resumes_from_its_state_dict_as_in_torch():
    results = []
    for lib, optim in ((ag, nn.optim), (torch, torch.optim)):
        w = lib.tensor(np.array([1.0, -2.0, 0.5], np.float32), requires_grad=True)
        Optimizer = make_momentum_sgd(lib, optim)
        opt = Optimizer([w])
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        resumed = Optimizer([w])
        resumed.load_state_dict(opt.state_dict())
        assert isinstance(resumed.state[w]["momentum_buffer"], lib.Tensor)
        for _ in range(2):
            resumed.zero_grad()
            (w ** 2).sum().backward()
            resumed.step()
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_step_hooks_run_around_each_step_as_torchs():
    seen = {}
    for lib, optim in ((ag, nn.optim), (torch, torch.optim)):
        w = lib.tensor(np.ones(2, np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        log = []
        pre = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", args[0] is o, w.detach().numpy()[0])))
        opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", len(args), w.detach().numpy()[0])))
        w.grad = lib.tensor(np.ones(2, np.float32))
        opt.step()
        pre.remove()
        opt.step()
        seen[lib.__name__] = [(kind, flag, round(float(value), 4)) for kind, flag, value in log]
    assert seen["autograd"] == seen["torch"] == [("pre", True, 1.0), ("post", 1, 0.9), ("post", 1, 0.8)]


def test_a_step_override_calling_super_runs_the_hooks_once():
    class Logged(nn.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    w = ag.ones(2, requires_grad=True)
    opt = Logged([w], lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(1))
    w.grad = ag.ones(2)
    opt.step()
    assert calls == [1]
