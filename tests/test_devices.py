"""Devices as PyTorch code uses them: the CPU is the only one; `device=` is accepted everywhere a
tensor is made, and any other device is a clear error at the call that names it."""
import numpy as np
import pytest

import autograd as ag
import nn

CREATIONS = {
    "tensor": lambda device: ag.tensor([1.0, 2.0], device=device),
    "as_tensor": lambda device: ag.as_tensor(np.ones(2), device=device),
    "zeros": lambda device: ag.zeros(2, 3, device=device),
    "ones": lambda device: ag.ones((2,), device=device),
    "empty": lambda device: ag.empty(2, device=device),
    "full": lambda device: ag.full((2,), 0.5, device=device),
    "zeros_like": lambda device: ag.zeros_like(ag.ones(2), device=device),
    "ones_like": lambda device: ag.ones_like(ag.ones(2), device=device),
    "full_like": lambda device: ag.full_like(ag.ones(2), 3.0, device=device),
    "randn_like": lambda device: ag.randn_like(ag.ones(2), device=device),
    "rand_like": lambda device: ag.rand_like(ag.ones(2), device=device),
    "arange": lambda device: ag.arange(3, device=device),
    "linspace": lambda device: ag.linspace(0, 1, 5, device=device),
    "eye": lambda device: ag.eye(2, device=device),
    "randn": lambda device: ag.randn(2, device=device),
    "rand": lambda device: ag.rand(2, device=device),
    "randint": lambda device: ag.randint(0, 5, (3,), device=device),
    "randperm": lambda device: ag.randperm(4, device=device),
}


@pytest.mark.parametrize("name", CREATIONS)
@pytest.mark.parametrize("device", ["cpu", "cpu:0", ag.device("cpu"), None])
def test_every_creation_function_accepts_the_cpu(name, device):
    t = CREATIONS[name](device)
    assert t.device == "cpu" and t.device == ag.device("cpu")


@pytest.mark.parametrize("name", CREATIONS)
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps", "meta"])
def test_every_creation_function_refuses_another_device_naming_it(name, device):
    with pytest.raises(RuntimeError, match=rf"device '{device}' is not available.*'cpu' is its only device"):
        CREATIONS[name](device)


def test_a_tensors_device_reads_as_pytorchs(torch):
    t = ag.ones(2)
    assert repr(t.device) == repr(torch.ones(2).device) == "device(type='cpu')"
    assert str(t.device) == str(torch.ones(2).device) == "cpu"
    assert t.device.type == "cpu"
    assert t.to(t.device) is t and t.to("cpu", ag.float64).dtype == np.float64


def test_default_device_is_the_cpu_and_cannot_be_another():
    ag.set_default_device("cpu")
    ag.set_default_device(None)
    assert ag.get_default_device() == "cpu"
    with pytest.raises(RuntimeError, match=r"device 'cuda' is not available"):
        ag.set_default_device("cuda")
    assert not ag.cuda.is_available() and ag.cuda.device_count() == 0


def test_the_usual_device_line_of_a_training_loop_runs():
    device = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    x = ag.randn(4, 3, device=device)
    assert model(x).device == device
    with pytest.raises(RuntimeError, match=r"device 'cuda' is not available"):
        model.to("cuda")


def test_seeding_and_device_picking_boilerplate_runs_and_reads_back_as_torchs():
    """The lines of a typical seed_everything / pick-a-device helper, with torch's defaults."""
    torch = pytest.importorskip("torch")
    import autograd.backends.cudnn as cudnn   # the import form scripts use

    for lib in (torch, ag):
        assert not lib.backends.mps.is_available() and not lib.backends.cudnn.is_available()
        assert (lib.backends.cudnn.enabled, lib.backends.cudnn.benchmark, lib.backends.cudnn.deterministic) == (
            True, False, False)
        assert lib.get_float32_matmul_precision() == "highest" and not lib.are_deterministic_algorithms_enabled()
        lib.cuda.manual_seed(0)
        lib.cuda.manual_seed_all(0)
        lib.cuda.empty_cache()
    cudnn.deterministic = True
    assert ag.backends.cudnn.deterministic
    cudnn.deterministic = False
    try:
        ag.use_deterministic_algorithms(True, warn_only=True)
        ag.set_float32_matmul_precision("high")
        assert ag.are_deterministic_algorithms_enabled() and ag.is_deterministic_algorithms_warn_only_enabled()
        assert ag.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="'bogus' is not one of|bogus is not one of"):
            ag.set_float32_matmul_precision("bogus")
        assert ag.get_float32_matmul_precision() == "high"
        with pytest.raises(TypeError, match="must be bool"):
            ag.use_deterministic_algorithms("yes")
    finally:
        ag.use_deterministic_algorithms(False)
        ag.set_float32_matmul_precision("highest")
    picked = "cuda" if ag.cuda.is_available() else "mps" if ag.backends.mps.is_available() else "cpu"
    assert ag.zeros(2, device=picked).device == ag.device("cpu")


def test_the_tutorials_accelerator_line_picks_the_cpu_and_a_device_block_runs():
    import autograd as ag
    device = ag.accelerator.current_accelerator().type if ag.accelerator.is_available() else "cpu"
    assert device == "cpu" and ag.accelerator.device_count() == 0
    with ag.device("cpu") as d:
        assert d == "cpu" and ag.zeros(2).device == d
