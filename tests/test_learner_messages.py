"""What a learner meets first: a warning when reading a non-leaf's `.grad` (as PyTorch gives), a
clear error for an optimizer given a model instead of its parameters, and the training command's
messages (`--limit` above the data set's size, sub-second epochs)."""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import autograd as ag
import nn
from nn.train import format_epoch

ROOT = Path(__file__).resolve().parent.parent


def test_reading_grad_of_a_non_leaf_warns_and_says_what_to_do():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf.*retain_grad\(\)"):
        assert y.grad is None


def test_reading_grad_of_leaves_and_retained_tensors_is_silent():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y * 2                                  # a non-leaf with no retain_grad: not read below
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None and y.grad is None          # before backward
        z.sum().backward()
        assert x.grad.tolist() == [6.0, 6.0] and y.grad.tolist() == [2.0, 2.0]
        assert ag.tensor([1.0]).grad is None              # a leaf that needs no grad


def test_pytorch_warns_on_the_same_non_leaf_read():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):
        assert y.grad is None


def test_grad_can_still_be_assigned_and_cleared():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.grad = ag.tensor([0.5, 0.5])
    assert x.grad.tolist() == [0.5, 0.5]
    x.grad = None
    assert x.grad is None


@pytest.mark.parametrize("make", [lambda m: nn.optim.SGD(m, lr=0.1), lambda m: nn.optim.Adam(m),
                                  lambda m: nn.optim.SGD([{"params": m}], lr=0.1)],
                         ids=["SGD", "Adam", "param group"])
def test_optimizer_given_the_model_says_to_pass_its_parameters(make):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(TypeError, match=r"got the model itself \(a Sequential\); pass model.parameters\(\)"):
        make(model)


def test_sub_second_epochs_show_their_time():
    metrics = {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.9, "test_loss": 0.4, "test_accuracy": 0.91,
               "seconds": 0.034, "samples_per_second": 30000}
    assert "0.03 s," in format_epoch(metrics, 5)
    assert "12.3 s," in format_epoch({**metrics, "seconds": 12.34}, 5)


def test_limit_above_the_training_set_is_a_usage_error(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "nn.train", "train", "--limit", "70000", "--epochs", "1",
                           "--out", str(tmp_path / "run"), "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "ndgrad: error: --limit 70000 is more than the 60,000 training images" in done.stderr
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()
