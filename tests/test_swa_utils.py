"""nn.optim.swa_utils against torch.optim.swa_utils: AveragedModel (equal averaging, EMA by
multi_avg_fn and by avg_fn, buffers copied or averaged), SWALR's learning rates and update_bn's
recomputed statistics, in one training run built in both libraries from the same weights."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def network(nn_module):
    return nn_module.Sequential(nn_module.Linear(5, 8), nn_module.BatchNorm1d(8), nn_module.ReLU(),
                                nn_module.Linear(8, 1))


def run(lib, nn_module, optim, state, xs, ys, anneal_strategy):
    model = network(nn_module)
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    swa_utils = optim.swa_utils
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
    ema_with_buffers = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.8), use_buffers=True)
    swa = swa_utils.AveragedModel(model)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=3, anneal_strategy=anneal_strategy)
    lrs = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        opt.zero_grad()
        ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
        opt.step()
        ema.update_parameters(model)
        ema_with_buffers.update_parameters(model)
        if i >= 2:
            swa.update_parameters(model)
            schedule.step()
        lrs.append(schedule.get_last_lr()[0])
    swa_utils.update_bn([(lib.tensor(x), lib.tensor(y)) for x, y in zip(xs[:3], ys[:3])], swa)
    for averaged in (swa, ema, ema_with_buffers):
        averaged.eval()
    with lib.no_grad():
        outputs = [averaged(lib.tensor(xs[-1])).numpy().copy() for averaged in (swa, ema, ema_with_buffers)]
    statistics = [swa.module[1].running_mean, swa.module[1].running_var, ema_with_buffers.module[1].running_mean,
                  ema_with_buffers.module[1].num_batches_tracked, swa.n_averaged]
    return lrs, outputs, [s.detach().numpy().copy() for s in statistics], list(swa.state_dict())


@pytest.mark.parametrize("anneal_strategy", ["linear", "cos"])
def test_weight_averaging_matches_torch(anneal_strategy):
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((6, 16, 5)).astype(np.float32)
    ys = rng.standard_normal((6, 16, 1)).astype(np.float32)
    state = {k: v.numpy().copy() for k, v in network(torch.nn).state_dict().items()}
    ours = run(ag, nn, nn.optim, state, xs, ys, anneal_strategy)
    theirs = run(torch, torch.nn, torch.optim, state, xs, ys, anneal_strategy)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for mine, expected in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    assert ours[3] == theirs[3]   # the averaged model's state dict: module.* and n_averaged


def test_bad_arguments_raise_as_torch():
    for optim in (nn.optim, torch.optim):
        with pytest.raises(ValueError, match="Invalid decay value 1.5"):
            optim.swa_utils.get_ema_multi_avg_fn(1.5)
    opt = nn.optim.SGD([ag.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        nn.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_strategy="step")
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        nn.optim.swa_utils.AveragedModel(nn.Linear(2, 2), avg_fn=nn.optim.swa_utils.get_ema_avg_fn(),
                                         multi_avg_fn=nn.optim.swa_utils.get_ema_multi_avg_fn())
