"""nn.optim.LBFGS against torch.optim.LBFGS on real problems (Rosenbrock, least squares), with and
without the strong-Wolfe line search: same parameters, losses and evaluation counts at every step,
state dicts that resume identically, and clear errors."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def least_squares(lib, w, b, x, y):
    out = x @ w + b
    return ((out - y) ** 2).mean() + 0.01 * (w * w).sum()


def regression_data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 6)).astype(dtype)
    y = (x @ rng.normal(size=(6, 2)) + 0.1 * rng.normal(size=(32, 2))).astype(dtype)
    return x, y, [rng.normal(size=(6, 2)).astype(dtype), np.zeros(2, dtype)]


class Problem:
    """One problem in both libraries: parameters, optimizers and closures."""

    def __init__(self, arrays, loss_fns, **options):
        self.params = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
        self.torch_params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        self.opt = nn.optim.LBFGS(self.params, **options)
        self.torch_opt = torch.optim.LBFGS(self.torch_params, **options)
        self.loss, self.torch_loss = loss_fns
        self.evaluations = 0

    def closure(self):
        self.opt.zero_grad()
        loss = self.loss(*self.params)
        loss.backward()
        self.evaluations += 1
        return loss

    def torch_closure(self):
        self.torch_opt.zero_grad()
        loss = self.torch_loss(*self.torch_params)
        loss.backward()
        return loss

    def step_both(self):
        return self.opt.step(self.closure), self.torch_opt.step(self.torch_closure)

    def assert_matches(self, what, rtol, atol):
        for p, tp in zip(self.params, self.torch_params):
            assert p.dtype == tp.detach().numpy().dtype
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)
        ours, theirs = self.opt.state[self.params[0]], self.torch_opt.state[self.torch_params[0]]
        assert (ours["func_evals"], ours["n_iter"]) == (theirs["func_evals"], theirs["n_iter"]), what
        assert len(ours["old_dirs"]) == len(theirs["old_dirs"]), what


def rosenbrock_problem(**options):
    start = np.array([-1.2, 1.0, -0.5, 0.8, 1.3])
    return Problem([start], (rosenbrock, rosenbrock), **options)


def regression_problem(dtype, **options):
    x, y, arrays = regression_data(dtype)
    return Problem(arrays, (lambda w, b: least_squares(ag, w, b, ag.tensor(x), ag.tensor(y)),
                            lambda w, b: least_squares(torch, w, b, torch.tensor(x), torch.tensor(y))), **options)


def test_rosenbrock_with_strong_wolfe_follows_torch_to_the_minimum():
    problem = rosenbrock_problem(lr=1, max_iter=20, history_size=7, line_search_fn="strong_wolfe")
    for step in range(5):
        loss, torch_loss = problem.step_both()
        assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-9, abs=1e-12)
        problem.assert_matches(f"step {step}", rtol=1e-10, atol=1e-12)  # measured: 8e-15
    np.testing.assert_allclose(problem.params[0].numpy(), np.ones(5), atol=1e-4)
    assert problem.evaluations == problem.opt.state[problem.params[0]]["func_evals"]


def test_rosenbrock_with_fixed_steps_matches_torch_and_reevaluates_except_after_the_last():
    problem = rosenbrock_problem(lr=1e-3, max_iter=10, history_size=4)
    for step in range(5):
        problem.step_both()
        problem.assert_matches(f"step {step}", rtol=1e-10, atol=1e-12)  # measured: 4e-15
    # 10 iterations per step: the first evaluation, then one after each step but the last.
    assert problem.opt.state[problem.params[0]]["func_evals"] == 5 * 10
    assert rosenbrock(problem.params[0]).item() < rosenbrock(ag.tensor([-1.2, 1.0, -0.5, 0.8, 1.3])).item()


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-9, 1e-11), (np.float32, 2e-4, 2e-5)])
@pytest.mark.parametrize("options", [dict(line_search_fn="strong_wolfe", history_size=3),
                                     dict(lr=0.1, history_size=3, max_iter=7),
                                     dict(line_search_fn="strong_wolfe", max_iter=4, max_eval=6, history_size=10)],
                         ids=["strong_wolfe", "fixed_step", "strong_wolfe_max_eval"])
def test_regression_matches_torch_step_for_step(options, dtype, rtol, atol):
    if dtype == np.float32:
        # Within a few iterations both reach the minimum to float32's resolution, where the last digits
        # of the parameters are rounding noise (~6e-5 here): compare the way there.
        options = {**options, "max_iter": 3}
    problem = regression_problem(dtype, **options)
    for step in range(4):
        loss, torch_loss = problem.step_both()
        assert loss.dtype == dtype
        np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=rtol)
        problem.assert_matches(f"step {step}", rtol, atol)
    state, torch_state = problem.opt.state_dict(), problem.torch_opt.state_dict()
    assert list(state["state"]) == list(torch_state["state"]) == [0]
    assert set(state["state"][0]) == set(torch_state["state"][0])
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(state["state"][0][key].numpy(), torch_state["state"][0][key].numpy(),
                                   rtol=rtol * 10, atol=atol * 10, err_msg=key)
    assert state["param_groups"] == [{k: v for k, v in torch_state["param_groups"][0].items()}]


def test_history_keeps_only_the_last_history_size_pairs():
    problem = regression_problem(np.float64, lr=0.05, history_size=2, max_iter=6)
    problem.step_both()
    assert len(problem.opt.state[problem.params[0]]["old_dirs"]) == 2
    problem.assert_matches("after a step", rtol=1e-9, atol=1e-11)


def test_zero_gradient_returns_at_once_after_one_evaluation():
    problem = Problem([np.ones(3)], (rosenbrock, rosenbrock), line_search_fn="strong_wolfe")
    loss, torch_loss = problem.step_both()
    assert loss.item() == torch_loss.item() == 0.0
    np.testing.assert_array_equal(problem.params[0].numpy(), np.ones(3))
    state = problem.opt.state[problem.params[0]]
    assert (state["func_evals"], state["n_iter"]) == (1, 0)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_through_a_file_continues_identically_and_as_torch(line_search_fn, tmp_path):
    problem = regression_problem(np.float64, lr=0.5 if line_search_fn is None else 1, history_size=3,
                                 max_iter=5, line_search_fn=line_search_fn)
    for _ in range(2):
        problem.step_both()
    nn.save({"optimizer": problem.opt.state_dict(), "params": list(problem.params)}, tmp_path / "lbfgs.safetensors")
    for _ in range(3):
        problem.step_both()

    checkpoint = nn.load(tmp_path / "lbfgs.safetensors")
    resumed = regression_problem(np.float64, lr=123.0)  # the loaded state dict sets every option back
    for p, saved in zip(resumed.params, checkpoint["params"]):
        p.data = saved.numpy().copy()
    resumed.opt.load_state_dict(checkpoint["optimizer"])
    assert resumed.opt.param_groups[0]["line_search_fn"] == line_search_fn
    for _ in range(3):
        resumed.opt.step(resumed.closure)
    for p, q, tp in zip(problem.params, resumed.params, problem.torch_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_allclose(q.numpy(), tp.detach().numpy(), rtol=1e-9, atol=1e-11)
    assert resumed.opt.state[resumed.params[0]]["n_iter"] == problem.opt.state[problem.params[0]]["n_iter"]


def test_lbfgs_bad_use_raises_clear_errors():
    p, q = ag.zeros(2, requires_grad=True), ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        nn.optim.LBFGS([{"params": [p]}, {"params": [q]}])
    opt = nn.optim.LBFGS([p])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({"params": [q]})
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step()
    assert opt.param_groups[0]["max_eval"] == 25  # max_iter * 5 // 4, as PyTorch
