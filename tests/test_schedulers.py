"""The learning-rate schedulers (LinearLR, ConstantLR, OneCycleLR, SequentialLR, ChainedScheduler, CyclicLR,
CosineAnnealingWarmRestarts, PolynomialLR, MultiplicativeLR, ReduceLROnPlateau, ...)
against torch.optim.lr_scheduler: the same learning rates (and OneCycleLR's momenta and betas),
exactly, at every step; state dicts saved with nn.save mid-run that resume exactly as PyTorch goes
on; clear errors for bad arguments."""
import math

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")

LRS = (0.1, 0.03)


def optimizer_pair(name="SGD", **options):
    """The same two-group optimizer in both libraries."""
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    groups = lambda ps: [{"params": [ps[0]], "lr": LRS[0]}, {"params": [ps[1]], "lr": LRS[1]}]  # noqa: E731
    return getattr(nn.optim, name)(groups(ours), **options), getattr(torch.optim, name)(groups(theirs), **options)


def group_values(optimizer):
    """What a scheduler may change in each group: lr and the momentum or betas."""
    return [(g["lr"], g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in optimizer.param_groups]


# Each case builds a scheduler from a scheduler module (ours or torch's) and an optimizer.
CASES = {
    "LinearLR": (dict(), lambda m, opt: m.LinearLR(opt)),
    "LinearLR-decay": (dict(), lambda m, opt: m.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=12)),
    "LinearLR-to-zero": (dict(), lambda m, opt: m.LinearLR(opt, start_factor=0.5, end_factor=0.0, total_iters=4)),
    "ConstantLR": (dict(), lambda m, opt: m.ConstantLR(opt, factor=0.25, total_iters=3)),
    "StepLR-float-step-size": (dict(), lambda m, opt: m.StepLR(opt, 1.0, gamma=0.1)),   # as torch's tutorial writes
    "OneCycleLR-sgd-cos": (dict(momentum=0.9), lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=30)),
    "OneCycleLR-sgd-linear-three-phase": (
        dict(momentum=0.9), lambda m, opt: m.OneCycleLR(opt, max_lr=[0.5, 2.0], epochs=5, steps_per_epoch=6,
                                                       anneal_strategy="linear", three_phase=True, pct_start=0.25,
                                                       base_momentum=[0.8, 0.7], max_momentum=0.99)),
    "OneCycleLR-no-momentum-cycle": (
        dict(), lambda m, opt: m.OneCycleLR(opt, max_lr=0.3, total_steps=30, cycle_momentum=False,
                                           div_factor=10.0, final_div_factor=100.0)),
    "SequentialLR-warmup-then-exponential": (
        dict(), lambda m, opt: m.SequentialLR(opt, [m.LinearLR(opt, start_factor=0.1, total_iters=4),
                                                    m.ExponentialLR(opt, gamma=0.9)], milestones=[4])),
    "SequentialLR-three": (
        dict(), lambda m, opt: m.SequentialLR(opt, [m.ConstantLR(opt, factor=0.5, total_iters=2),
                                                    m.CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
                                                    m.StepLR(opt, step_size=3, gamma=0.5)], milestones=[3, 10])),
    "SequentialLR-lambda-multistep": (
        dict(), lambda m, opt: m.SequentialLR(opt, [m.LambdaLR(opt, lambda epoch: 1.0 / (epoch + 1)),
                                                    m.MultiStepLR(opt, milestones=[2, 4], gamma=0.3)],
                                              milestones=[5])),
    "MultiplicativeLR": (dict(), lambda m, opt: m.MultiplicativeLR(opt, lambda epoch: 0.95)),
    "MultiplicativeLR-per-group": (
        dict(), lambda m, opt: m.MultiplicativeLR(opt, [lambda epoch: 0.9, lambda epoch: 1.0 - 0.01 * epoch])),
    "PolynomialLR": (dict(), lambda m, opt: m.PolynomialLR(opt, total_iters=10)),
    "PolynomialLR-squared": (dict(), lambda m, opt: m.PolynomialLR(opt, total_iters=20, power=2.0)),
    "CosineAnnealingWarmRestarts": (dict(), lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=5)),
    "CosineAnnealingWarmRestarts-mult": (
        dict(), lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.001)),
    "CyclicLR-triangular": (dict(momentum=0.9), lambda m, opt: m.CyclicLR(opt, 0.01, 0.1, step_size_up=4)),
    "CyclicLR-triangular2-uneven": (
        dict(momentum=0.9), lambda m, opt: m.CyclicLR(opt, [0.01, 0.001], [0.1, 0.05], step_size_up=3,
                                                     step_size_down=5, mode="triangular2")),
    "CyclicLR-exp-range-no-momentum": (
        dict(), lambda m, opt: m.CyclicLR(opt, 0.01, 0.1, step_size_up=4, mode="exp_range", gamma=0.97,
                                         cycle_momentum=False)),
    "CyclicLR-scale-fn-iterations": (
        dict(), lambda m, opt: m.CyclicLR(opt, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5 ** (x / 10),
                                         scale_mode="iterations", cycle_momentum=False)),
    "ChainedScheduler": (
        dict(), lambda m, opt: m.ChainedScheduler([m.ConstantLR(opt, factor=0.1, total_iters=2),
                                                   m.ExponentialLR(opt, gamma=0.9)])),
    "SequentialLR-warmup-then-polynomial": (
        dict(), lambda m, opt: m.SequentialLR(opt, [m.LinearLR(opt, start_factor=0.1, total_iters=3),
                                                    m.PolynomialLR(opt, total_iters=20)], milestones=[3])),
}
ADAM_CASES = {
    "OneCycleLR-adam-betas": (dict(betas=(0.9, 0.99)), lambda m, opt: m.OneCycleLR(opt, max_lr=0.01, total_steps=30)),
    "CyclicLR-adam-betas": (dict(betas=(0.9, 0.99)), lambda m, opt: m.CyclicLR(opt, 0.001, 0.01, step_size_up=5)),
}
STEPS = 29  # OneCycleLR allows total_steps - 1 steps after construction


def scheduler_pair(case, optimizer="SGD"):
    options, build = {**CASES, **ADAM_CASES}[case]
    opt, torch_opt = optimizer_pair(optimizer, **options)
    return opt, build(nn.optim.lr_scheduler, opt), torch_opt, build(torch.optim.lr_scheduler, torch_opt)


def step_and_compare(opt, sched, torch_opt, torch_sched, steps, what):
    for step in range(steps):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
        assert sched.get_last_lr() == torch_sched.get_last_lr(), f"{what} step {step}"  # exactly
        assert group_values(opt) == group_values(torch_opt), f"{what} step {step}"
        assert getattr(sched, "last_epoch", None) == getattr(torch_sched, "last_epoch", None)  # none in a chain


ALL = [(case, "SGD") for case in CASES] + [(case, "Adam") for case in ADAM_CASES]


@pytest.mark.parametrize("case,optimizer", ALL, ids=[case for case, _ in ALL])
def test_scheduler_matches_torch_exactly_at_every_step(case, optimizer):
    opt, sched, torch_opt, torch_sched = scheduler_pair(case, optimizer)
    assert sched.get_last_lr() == torch_sched.get_last_lr()
    assert group_values(opt) == group_values(torch_opt)
    step_and_compare(opt, sched, torch_opt, torch_sched, STEPS, case)


@pytest.mark.parametrize("case,optimizer", ALL, ids=[case for case, _ in ALL])
def test_state_dict_round_trip_through_a_file_resumes_as_torch_goes_on(case, optimizer, tmp_path):
    opt, sched, torch_opt, torch_sched = scheduler_pair(case, optimizer)
    step_and_compare(opt, sched, torch_opt, torch_sched, 7, case)
    nn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "checkpoint.safetensors")
    checkpoint = nn.load(tmp_path / "checkpoint.safetensors")
    opt2, sched2, _, _ = scheduler_pair(case, optimizer)  # a fresh run, then the checkpoint on top
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert sched2.get_last_lr() == torch_sched.get_last_lr()
    step_and_compare(opt2, sched2, torch_opt, torch_sched, STEPS - 7, f"{case} resumed")


def test_one_cycle_lr_goes_up_to_max_lr_and_down_to_min_lr():
    opt, sched, _, _ = scheduler_pair("OneCycleLR-sgd-cos")
    lrs = [sched.get_last_lr()[0]]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    peak = int(np.argmax(lrs))
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[peak] == pytest.approx(1.0) and peak == 8  # 0.3 * 30 - 1
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    sched.step()  # step 30 (an lr past the end of the cycle), as PyTorch allows
    with pytest.raises(ValueError, match="tried to step 31 times; the specified number of total steps is 30"):
        sched.step()


# -- ReduceLROnPlateau ------------------------------------------------------------------------------------
METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.9, 0.89, 0.899, 0.8999, 1.2, 1.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
           0.49999, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
PLATEAU = [
    dict(patience=2),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(patience=0, factor=0.3, min_lr=[0.02, 0.001]),
    dict(patience=0, factor=0.5, min_lr=0.01, eps=0.005),
    dict(mode="max", patience=2, threshold=0.1, threshold_mode="rel", cooldown=1),
]


def plateau_pair(options):
    opt, torch_opt = optimizer_pair()
    return (opt, nn.optim.lr_scheduler.ReduceLROnPlateau(opt, **options), torch_opt,
            torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **options))


def plateau_steps(opt, sched, torch_opt, torch_sched, metrics, what):
    for epoch, metric in enumerate(metrics):
        sched.step(ag.tensor(metric, dtype=ag.float64) if epoch % 2 else metric)  # a 0-d Tensor is a metric too
        torch_sched.step(metric)
        assert sched.get_last_lr() == torch_sched.get_last_lr(), f"{what} epoch {epoch}"
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch) == \
            (torch_sched.best, torch_sched.num_bad_epochs, torch_sched.cooldown_counter, torch_sched.last_epoch)


@pytest.mark.parametrize("options", PLATEAU, ids=[",".join(f"{k}={v}" for k, v in o.items()) for o in PLATEAU])
def test_reduce_lr_on_plateau_matches_torch_and_resumes_from_a_file(options, tmp_path):
    opt, sched, torch_opt, torch_sched = plateau_pair(options)
    assert sched.get_last_lr() == torch_sched.get_last_lr() == list(LRS)
    plateau_steps(opt, sched, torch_opt, torch_sched, METRICS[:10], str(options))
    assert [g["lr"] for g in opt.param_groups] != list(LRS)  # the metrics above do plateau

    nn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "plateau.safetensors")
    checkpoint = nn.load(tmp_path / "plateau.safetensors")
    opt2, sched2, _, _ = plateau_pair({})  # other options: the state dict brings them back
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    plateau_steps(opt2, sched2, torch_opt, torch_sched, METRICS[10:], f"{options} resumed")


def test_reduce_lr_on_plateau_fills_min_lr_for_a_group_added_later_as_torch():
    opt, sched, torch_opt, torch_sched = plateau_pair(dict(patience=0, min_lr=0.05))
    opt.add_param_group({"params": [ag.zeros(2, requires_grad=True)], "lr": 0.2})
    torch_opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": 0.2})
    plateau_steps(opt, sched, torch_opt, torch_sched, [1.0, 1.0, 1.0], "added group")
    opt, sched, _, _ = plateau_pair(dict(patience=0, min_lr=[0.0, 0.0]))
    opt.add_param_group({"params": [ag.zeros(2, requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="the optimizer has 3 parameter groups but min_lr gave 2"):
        sched.step(2.0)


# -- errors -------------------------------------------------------------------------------------------------
def sgd():
    return nn.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1)


BAD = [
    (lambda m, opt: m.LinearLR(opt, start_factor=0.0), "start_factor must be in \\(0, 1\\], got 0.0"),
    (lambda m, opt: m.LinearLR(opt, start_factor=1.5), "start_factor must be in \\(0, 1\\], got 1.5"),
    (lambda m, opt: m.LinearLR(opt, end_factor=-0.1), "end_factor must be in \\[0, 1\\], got -0.1"),
    (lambda m, opt: m.ConstantLR(opt, factor=2.0), "ConstantLR: factor must be in \\[0, 1\\], got 2.0"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=1.0), "either total_steps OR \\(epochs AND steps_per_epoch\\)"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=0), "positive integer total_steps, but got 0"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=1.5),
     "positive integer steps_per_epoch, but got 1.5"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.2), "pct_start, but got 1.2"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     "anneal_strategy must be 'cos' or 'linear', got 'exp'"),
    (lambda m, opt: m.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10), "max_lr must have one value per "
                                                                             "parameter group: got 2 values for 1"),
    (lambda m, opt: m.ReduceLROnPlateau(opt, factor=1.0), "factor should be < 1.0, got 1.0"),
    (lambda m, opt: m.ReduceLROnPlateau(opt, mode="lowest"), "mode must be 'min' or 'max', got 'lowest'"),
    (lambda m, opt: m.ReduceLROnPlateau(opt, threshold_mode="pct"), "threshold_mode must be 'rel' or 'abs'"),
    (lambda m, opt: m.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]), "expected 1 min_lrs .*got 2"),
    (lambda m, opt: m.SequentialLR(opt, [], milestones=[]), "at least one scheduler"),
    (lambda m, opt: m.SequentialLR(opt, [m.StepLR(opt, 2), m.StepLR(opt, 3)], milestones=[]),
     "one milestone fewer than schedulers, but got 2 schedulers and 0 milestones"),
    (lambda m, opt: m.SequentialLR(opt, [m.StepLR(opt, 2), m.ReduceLROnPlateau(opt)], milestones=[3]),
     "does not support ReduceLROnPlateau \\(index 1\\)"),
    (lambda m, opt: m.SequentialLR(opt, [m.StepLR(opt, 2), m.StepLR(sgd(), 2)], milestones=[3]),
     "same optimizer, but the StepLR at index 1 has another one"),
]


@pytest.mark.parametrize("build,message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_scheduler_arguments_raise_valueerrors_as_torch_does(build, message):
    with pytest.raises(ValueError, match=message):
        build(nn.optim.lr_scheduler, sgd())
    torch_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    torch_build = (lambda m, opt: build(m, opt)) if "another one" not in message else \
        (lambda m, opt: m.SequentialLR(opt, [m.StepLR(opt, 2), m.StepLR(torch.optim.SGD(
            [torch.zeros(1, requires_grad=True)], lr=0.1), 2)], milestones=[3]))
    with pytest.raises(ValueError):  # PyTorch refuses the same arguments
        torch_build(torch.optim.lr_scheduler, torch_opt)


def test_one_cycle_needs_momentum_or_betas_to_cycle_and_schedulers_need_an_optimizer():
    adagrad = nn.optim.Adagrad([ag.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="Adagrad has neither momentum nor betas; pass cycle_momentum=False"):
        nn.optim.lr_scheduler.OneCycleLR(adagrad, max_lr=0.1, total_steps=5)
    sched = nn.optim.lr_scheduler.OneCycleLR(adagrad, max_lr=0.1, total_steps=5, cycle_momentum=False)
    assert sched.get_last_lr() == [pytest.approx(0.1 / 25)]
    for name, args in [("OneCycleLR", dict(max_lr=0.1, total_steps=5)), ("ReduceLROnPlateau", {})]:
        with pytest.raises(TypeError, match="not an Optimizer"):
            getattr(nn.optim.lr_scheduler, name)(object(), **args)


def test_sequential_lr_restarts_each_scheduler_at_its_milestone():
    opt = sgd()
    m = nn.optim.lr_scheduler
    sched = m.SequentialLR(opt, [m.ConstantLR(opt, factor=0.5, total_iters=10), m.ExponentialLR(opt, gamma=0.5)],
                           milestones=[2])
    lrs = [sched.get_last_lr()[0]]
    for _ in range(4):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [0.05, 0.05, 0.1, 0.05, 0.025]
    assert math.isclose(opt.param_groups[0]["lr"], 0.025)


@pytest.mark.parametrize("step_size", [0, -1, "2", True])
def test_step_lr_refuses_a_step_size_that_makes_no_schedule(step_size):
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive number of epochs"):
        nn.optim.lr_scheduler.StepLR(optimizer_pair()[0], step_size)


def test_cosine_warm_restarts_with_fractional_epochs_per_batch_matches_torch():
    """SGDR's documented per-batch use: step(epoch + i / iters)."""
    opt, torch_opt = optimizer_pair()
    sched = nn.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=1e-4)
    torch_sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(torch_opt, T_0=2, T_mult=2, eta_min=1e-4)
    iters = 3
    for epoch in range(8):
        for i in range(iters):
            sched.step(epoch + i / iters)
            torch_sched.step(epoch + i / iters)
            assert sched.get_last_lr() == torch_sched.get_last_lr(), (epoch, i)
            assert (sched.T_i, sched.T_cur, sched.last_epoch) == (torch_sched.T_i, torch_sched.T_cur,
                                                                  torch_sched.last_epoch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)


def test_a_custom_scheduler_subclassing_the_old_lr_scheduler_name_runs_as_in_torch():
    """Existing code defines warm-up schedules by subclassing _LRScheduler and writing get_lr."""
    def make(module):
        class Warmup(module._LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                return [base * min(1.0, (self.last_epoch + 1) / self.warmup) for base in self.base_lrs]
        return Warmup

    opt, torch_opt = optimizer_pair()
    sched = make(nn.optim.lr_scheduler)(opt, warmup=4)
    torch_sched = make(torch.optim.lr_scheduler)(torch_opt, warmup=4)
    for _ in range(6):
        opt.step()
        torch_opt.step()
        sched.step()
        torch_sched.step()
        assert sched.get_last_lr() == torch_sched.get_last_lr()
