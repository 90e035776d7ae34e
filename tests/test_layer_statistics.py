"""nn.LayerStatistics: per-layer activation and gradient statistics collected by hooks, the
gradient-flow plot, and `ndgrad train --layer-stats`."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

ROOT = Path(__file__).resolve().parent.parent


def model_and_batch():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    x = ag.randn(16, 3)
    y = ag.tensor(np.arange(16) % 2)
    return model, x, y


def test_statistics_are_those_of_each_layers_output_and_its_gradient():
    model, x, y = model_and_batch()
    with nn.LayerStatistics(model) as stats:
        hidden = model[1](model[0](x))
        hidden.retain_grad()
        F.cross_entropy(model[2](hidden), y).backward()
    assert stats.layers == ["0", "1", "2"]
    relu_out, relu_grad = hidden.numpy().astype(np.float64), hidden.grad.numpy().astype(np.float64)
    activation, gradient = stats.activations["1"], stats.gradients["1"]
    assert math.isclose(activation.mean, relu_out.mean(), rel_tol=1e-12)
    assert math.isclose(activation.std, relu_out.std(), rel_tol=1e-12)
    assert activation.zero_fraction == np.mean(relu_out == 0) > 0
    assert math.isclose(gradient.abs_max, np.abs(relu_grad).max(), rel_tol=1e-12)
    assert gradient.numel == relu_grad.size
    weight = stats.parameter_gradients()["0.weight"]
    assert math.isclose(weight.abs_mean, np.abs(model[0].weight.grad.numpy()).mean(), rel_tol=1e-6)


def test_nan_and_inf_are_counted():
    numbers = nn.tensor_statistics(ag.tensor([0.0, np.nan, np.inf, -np.inf, 1.0]))
    assert (numbers.nan_count, numbers.inf_count, numbers.zero_fraction) == (1, 2, 0.2)
    assert math.isnan(numbers.mean)
    assert "NaN 1" in numbers.format() and "Inf 2" in numbers.format()


def test_history_keeps_one_entry_per_backward_and_remove_stops_recording():
    model, x, y = model_and_batch()
    stats = nn.LayerStatistics(model, keep_history=True)
    for _ in range(3):
        F.cross_entropy(model(x), y).backward()
    assert len(stats.history) == 3 and set(stats.history[0]) == {"0", "1", "2"}
    stats.remove()
    F.cross_entropy(model(x * 100), y).backward()
    assert len(stats.history) == 3


def test_history_counts_backward_passes_when_the_first_layer_needs_no_gradient():
    """Flatten first, on an input that needs no gradient: its output gets none, so a pass is
    complete when the first layer whose output does get one has its gradient."""
    ag.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 2))
    stats = nn.LayerStatistics(model, keep_history=True)
    for _ in range(2):
        model(ag.randn(4, 2, 3)).sum().backward()
    assert len(stats.history) == 2 and stats.history[0]["0"]["gradient"] is None


def test_text_names_every_layer_and_unknown_layers_are_an_error():
    model, x, y = model_and_batch()
    stats = nn.LayerStatistics(model, layers=["0", "2"])
    assert "(not recorded yet)" in str(stats)
    F.cross_entropy(model(x), y).backward()
    lines = str(stats).splitlines()
    assert len(lines) == 4 and lines[0].startswith("0") and "Linear" in lines[0] and "zeros" in lines[0]
    with pytest.raises(ValueError, match="no submodule named fc"):
        nn.LayerStatistics(model, layers=["fc"])


def test_gradient_flow_plot_has_one_pair_of_bars_per_weight():
    model, x, y = model_and_batch()
    stats = nn.LayerStatistics(model)
    with pytest.raises(RuntimeError, match="run backward first"):
        stats.plot_gradient_flow()
    F.cross_entropy(model(x), y).backward()
    figure = stats.plot_gradient_flow()
    (axes,) = figure.axes
    assert [t.get_text() for t in axes.get_xticklabels()] == ["0.weight", "2.weight"]
    assert len(axes.patches) == 4


def test_ndgrad_train_layer_stats_writes_the_table_and_the_plot(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "nn.train", "train", "--limit", "256", "--epochs", "1",
                           "--out", str(tmp_path), "--no-progress", "--layer-stats"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "layer_stats.txt").read_text()
    assert "activation" in table and "gradient" in table and "Linear" in table
    assert (tmp_path / "gradient_flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
