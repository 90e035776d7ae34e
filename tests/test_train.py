"""`ndgrad train` / `ndgrad evaluate` (nn/train.py) on the real MNIST: outputs, exact resumption
after an interrupt, the command line's errors, and (slow) the accuracy of a short run."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from nn.train import TrainConfig, mnist_arrays, read_checkpoint, train

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEST_SUBSET = 500          # test images for the in-process runs, where only exactness matters


def run_cli(*args, cwd=ROOT, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "nn.train", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def small_data():
    """1,000 training images and 500 test images, normalised as `ndgrad train` does."""
    train_x, train_y, test_x, test_y = mnist_arrays(limit=1000)
    return train_x, train_y, test_x[:TEST_SUBSET], test_y[:TEST_SUBSET]


def as_plain(value):
    """Tensors and arrays as NumPy arrays, containers recursively, for exact comparisons."""
    if isinstance(value, ag.Tensor):
        return np.array(value.numpy())
    if isinstance(value, dict):
        return {key: as_plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


def assert_identical(a, b, where="checkpoint"):
    """Bit for bit: same keys, same dtypes and shapes, same bytes."""
    a, b = as_plain(a), as_plain(b)
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys differ: {list(a)} vs {list(b)}"
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, f"{where}: array differs"
        assert a.tobytes() == b.tobytes(), f"{where}: values differ (max |diff| {np.abs(a - b).max()})"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def without_timings(history):
    return [{k: v for k, v in epoch.items() if k not in ("seconds", "samples_per_second")} for epoch in history]


def stop_after(batches):
    """An on_batch_end hook that raises KeyboardInterrupt after `batches` batches in all."""
    left = batches

    def hook(position):
        nonlocal left
        left -= 1
        if left == 0:
            raise KeyboardInterrupt
    return hook


# -- interrupt and resume --------------------------------------------------------------------

RESUME_CASES = {
    # model, optimizer, batch size: 1,000 images in 10 batches of 100 per epoch, 2 epochs
    "mlp-sgd": TrainConfig(model="mlp", optimizer="sgd", lr=0.05, epochs=2, batch_size=100, seed=3),
    "mlp-adamw": TrainConfig(model="mlp", optimizer="adamw", epochs=2, batch_size=100, seed=4),
    "cnn-adam": TrainConfig(model="cnn", optimizer="adam", epochs=2, batch_size=100, seed=5),
}


@pytest.fixture(scope="module")
def uninterrupted(small_data, tmp_path_factory):
    """The uninterrupted run of each RESUME_CASES entry, computed once."""
    cache = {}

    def get(case):
        if case not in cache:
            out = tmp_path_factory.mktemp(f"whole-{case}")
            result = train(RESUME_CASES[case], out, progress=False, data=small_data, log=lambda line: None)
            assert not result.interrupted and len(result.history) == 2
            cache[case] = result, read_checkpoint(out / "checkpoint.safetensors")
        return cache[case]
    return get


@pytest.mark.parametrize("case, stops", [
    ("mlp-sgd", [4]),             # mid-epoch
    ("mlp-adamw", [10]),          # exactly at the end of epoch 1, before its evaluation
    ("cnn-adam", [3, 9]),         # twice: epoch 1 batch 3, then epoch 2 batch 2 (dropout, batchnorm)
])
def test_resume_after_interrupt_gives_identical_weights_and_metrics(small_data, uninterrupted, tmp_path, case, stops):
    whole, whole_checkpoint = uninterrupted(case)
    config = RESUME_CASES[case]
    batches_done = 0
    for k, stop in enumerate(stops):
        result = train(config, tmp_path, resume=k > 0, on_batch_end=stop_after(stop), progress=False,
                       data=small_data, log=lambda line: None)
        batches_done += stop
        assert result.interrupted
        assert result.position.epoch * 10 + result.position.batch == batches_done
    resumed = train(TrainConfig(), tmp_path, resume=True, progress=False, data=small_data, log=lambda line: None)
    assert not resumed.interrupted

    assert_identical(whole.model.state_dict(), resumed.model.state_dict(), "model")
    checkpoint = read_checkpoint(tmp_path / "checkpoint.safetensors")
    assert_identical(whole_checkpoint["model"], checkpoint["model"], "saved model")
    assert_identical(whole_checkpoint["optimizer"], checkpoint["optimizer"], "saved optimizer")
    assert without_timings(resumed.history) == without_timings(whole.history)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert without_timings(metrics["epochs"]) == without_timings(whole.history) and metrics["finished"]


def test_sigint_saves_checkpoint_after_the_current_batch(small_data, uninterrupted, tmp_path):
    """A real SIGINT (what Ctrl-C sends) lets the batch finish, saves, and resumes exactly."""
    sent = []

    def press_ctrl_c(position):
        if not sent and position.batch == 6:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    config = RESUME_CASES["mlp-sgd"]
    result = train(config, tmp_path, on_batch_end=press_ctrl_c, progress=False, data=small_data,
                   log=lambda line: None)
    assert result.interrupted and (result.position.epoch, result.position.batch) == (0, 6)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler     # the handler is put back
    assert read_checkpoint(tmp_path / "checkpoint.safetensors")["state"]["position"]["batch"] == 6

    resumed = train(TrainConfig(), tmp_path, resume=True, progress=False, data=small_data, log=lambda line: None)
    whole, _ = uninterrupted("mlp-sgd")
    assert_identical(whole.model.state_dict(), resumed.model.state_dict(), "model")


def test_cli_stop_and_resume_matches_uninterrupted_run(tmp_path):
    common = ["--limit", 600, "--epochs", 2, "--batch-size", 100, "--seed", 7, "--no-progress"]
    whole = run_cli("train", "--out", tmp_path / "whole", *common)
    assert whole.returncode == 0, whole.stderr

    stopped = run_cli("train", "--out", tmp_path / "split", *common, "--stop-after-batches", 8)
    assert stopped.returncode == 130, stopped.stderr
    assert "--resume" in stopped.stderr and "Traceback" not in stopped.stderr
    resumed = run_cli("train", "--out", tmp_path / "split", "--resume", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout

    a = read_checkpoint(tmp_path / "whole" / "checkpoint.safetensors")
    b = read_checkpoint(tmp_path / "split" / "checkpoint.safetensors")
    assert_identical(a["model"], b["model"], "model")
    assert_identical(a["optimizer"], b["optimizer"], "optimizer")
    assert without_timings(a["state"]["history"]) == without_timings(b["state"]["history"])


# -- outputs and evaluate ----------------------------------------------------------------------

@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_train_writes_checkpoint_metrics_curves_and_graph(tmp_path, model):
    out = tmp_path / "run"
    done = run_cli("train", "--model", model, "--limit", 512, "--epochs", 1, "--out", out, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert re.search(r"epoch 1/1: train loss [\d.]+ acc [\d.]+% \| test loss [\d.]+ acc [\d.]+%", done.stdout)

    saved = nn.load(out / "checkpoint.safetensors")
    assert {"model", "optimizer", "train_state"} <= set(saved)
    fresh = nn.models.build_model(model)
    fresh.load_state_dict(saved["model"])          # the weights fit the model
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["model"] == model and metrics["finished"]
    assert [e["epoch"] for e in metrics["epochs"]] == [1]
    assert 0 <= metrics["epochs"][0]["test_accuracy"] <= 1
    assert (out / "curves.png").read_bytes()[:8] == PNG_MAGIC
    svg = (out / "graph.svg").read_text()
    assert "<svg" in svg and "</svg>" in svg

    evaluated = run_cli("evaluate", "--checkpoint", out / "checkpoint.safetensors")
    assert evaluated.returncode == 0, evaluated.stderr
    accuracy = re.search(r"test accuracy: ([\d.]+)%", evaluated.stdout)
    assert accuracy and abs(float(accuracy.group(1)) / 100 - metrics["epochs"][0]["test_accuracy"]) < 1e-4
    rows = [line.split() for line in evaluated.stdout.splitlines()]
    matrix = [row for row in rows if len(row) >= 11 and all(cell.isdigit() for cell in row[:11])]
    assert [int(row[0]) for row in matrix] == list(range(10))          # one row per true digit
    counts = np.array([[int(cell) for cell in row[1:11]] for row in matrix])
    assert counts.shape == (10, 10) and counts.sum() == 10_000
    assert np.trace(counts) == round(float(accuracy.group(1)) / 100 * 10_000)


# -- errors ------------------------------------------------------------------------------------

def _garbage_checkpoint(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"this is not a safetensors file")
    return path


def _foreign_checkpoint(tmp_path):
    path = tmp_path / "weights.safetensors"
    nn.save({"weight": ag.ones(3)}, path)
    return path


@pytest.mark.parametrize("args, mentions", [
    (["train", "--model", "resnet"], "resnet"),
    (["train", "--lr", "-0.1"], "-0.1"),
    (["train", "--lr=0"], "lr"),
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--batch-size", "many"], "batch-size"),
    (["train", "--optimizer", "lbfgs"], "lbfgs"),
    (["train", "--resume", "--out", "{tmp}/nothing-here"], "no checkpoint"),
    (["evaluate", "--checkpoint", "{tmp}/missing.safetensors"], "missing.safetensors"),
    (["evaluate", "--checkpoint", "{garbage}"], "garbage.safetensors"),
    (["evaluate", "--checkpoint", "{foreign}"], "not an ndgrad training checkpoint"),
    (["evaluate"], "--checkpoint"),
    (["fit"], "fit"),
    ([], "train or evaluate"),
])
def test_bad_arguments_give_one_error_line_and_status_2(tmp_path, args, mentions):
    paths = {"tmp": tmp_path, "garbage": _garbage_checkpoint(tmp_path), "foreign": _foreign_checkpoint(tmp_path)}
    done = run_cli(*[arg.format(**paths) for arg in args], cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ndgrad: error: "), done.stderr
    assert mentions in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_resume_rejects_settings_that_differ_from_the_checkpoint(small_data, tmp_path):
    config = TrainConfig(model="mlp", epochs=1, batch_size=100)
    train(config, tmp_path, on_batch_end=stop_after(2), progress=False, data=small_data, log=lambda line: None)
    done = run_cli("train", "--out", tmp_path, "--resume", "--lr", "0.5")
    assert done.returncode == 2 and "--lr 0.5 differs from the checkpoint's 0.001" in done.stderr


# -- accuracy on real MNIST ----------------------------------------------------------------------

@pytest.mark.slow
def test_one_epoch_on_10000_images_reaches_90_percent(tmp_path):
    done = run_cli("train", "--limit", 10_000, "--epochs", 1, "--out", tmp_path, "--no-progress")
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["limit"] == 10_000
    assert metrics["epochs"][0]["test_accuracy"] >= 0.90, metrics
