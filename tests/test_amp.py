"""autograd.amp against torch.amp on a CPU-only machine: GradScaler("cpu") scales, unscales, skips
steps with inf gradients and moves its scale as torch's; the CUDA forms (GradScaler("cuda"),
torch.cuda.amp, autocast("cuda")) disable themselves with torch's warnings."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def training_run(lib, nn_module, optim, scaler, weights, batches, clip=None):
    """A mixed-precision loop as the PyTorch recipe writes it; returns losses, weights and scales."""
    model = nn_module.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(weights[0]))
        model.bias.copy_(lib.tensor(weights[1]))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses, scales, steps = [], [], []
    for x, y in batches:
        opt.zero_grad()
        with lib.autocast(device_type="cuda", enabled=False):
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            nn_module.utils.clip_grad_norm_(model.parameters(), clip)
        steps.append(scaler.step(opt) is None)
        scaler.update()
        losses.append(loss.item())
        scales.append(scaler.get_scale())
    return losses, scales, model.weight.detach().numpy().copy(), steps


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("clip", [None, 0.5])
def test_cpu_grad_scaler_training_matches_torch_including_a_skipped_step(clip):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(2).astype(np.float32)]
    batches = [(rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32))
               for _ in range(6)]
    batches[2] = (np.full((4, 3), 1e38, np.float32), batches[2][1])   # overflows: inf gradients, step skipped
    ours = training_run(ag, nn, nn.optim, ag.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2),
                        weights, batches, clip)
    theirs = training_run(torch, torch.nn, torch.optim,
                          torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2), weights, batches, clip)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    assert ours[1] == theirs[1]          # 1024 -> 2048 after two good steps, halved after the inf, ...
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)


def test_grad_scaler_state_dict_and_errors_follow_torch():
    ours, theirs = ag.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    assert ours.state_dict() == theirs.state_dict()
    w = nn.Parameter(ag.ones(2))
    opt = nn.optim.SGD([w], lr=0.1)
    ours.scale((w * 3).sum()).backward()
    ours.unscale_(opt)
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called on this optimizer"):
        ours.unscale_(opt)
    ours.step(opt)
    ours.update()
    restored = ag.amp.GradScaler("cpu", init_scale=1.0)
    restored.load_state_dict(ours.state_dict())
    assert restored.state_dict() == ours.state_dict() and restored.get_scale() == 65536.0


@pytest.mark.filterwarnings("ignore:`torch.cuda.amp.GradScaler:FutureWarning")
def test_cuda_forms_disable_themselves_with_torchs_warnings():
    for lib in (torch, ag):
        with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
            scaler = lib.amp.GradScaler("cuda")
        assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
        with pytest.warns(UserWarning, match="Disabling"):
            old_scaler = lib.cuda.amp.GradScaler()
        assert not old_scaler.is_enabled()
        with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."):
            with lib.autocast(device_type="cuda"):
                assert not lib.is_autocast_enabled()
        loss = lib.ones(2, requires_grad=True).sum()
        assert scaler.scale(loss) is loss     # a disabled scaler is a pass-through


def test_bfloat16_is_a_name_for_autocast_and_making_a_tensor_of_it_raises_clearly():
    ptdtype = {"float32": ag.float32, "bfloat16": ag.bfloat16}["bfloat16"]  # nanoGPT's dtype table
    with pytest.warns(UserWarning, match="runs in the tensors' own dtypes"):
        with ag.autocast(device_type="cpu", dtype=ptdtype):
            assert (ag.ones(2, 3) @ ag.ones(3)).dtype == np.float32
    for make in (lambda: ag.zeros(2, dtype=ag.bfloat16), lambda: ag.ones(2).to(ag.bfloat16),
                 lambda: ag.tensor([1.0], dtype=ag.bfloat16)):
        with pytest.raises(TypeError, match="bfloat16 tensors are not supported: NumPy has no bfloat16"):
            make()
