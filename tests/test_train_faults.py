"""`ndgrad train` / `ndgrad evaluate` under hostile input: an --out it cannot write, stored training
states with bad values, two runs on one --out, a save that fails mid-run, data that is not there.
Every one must end in one `ndgrad: error:` line and exit status 2, before any training is lost."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import autograd as ag
import nn
from nn.train import LOCK_FILE, TrainConfig, main, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, flock, signals and RLIMIT_FSIZE are POSIX")


def run_main(capsys, *args):
    """The real command line, in this process: (exit status, the lines on stderr, stdout)."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines(), captured.out


def assert_one_error_line(status, lines, *mentions):
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith("ndgrad: error: "), lines
    for text in mentions:
        assert text in lines[0], lines[0]


def run_cli(*args, env=None, prelude=""):
    """The command line in a child process (`prelude` runs first, e.g. to set a resource limit)."""
    script = textwrap.dedent(prelude) + "\nimport sys\nfrom nn.train import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def synthetic_data():
    """300 random training and 50 test 'images': enough to make real checkpoints quickly."""
    rng = np.random.default_rng(0)
    return (rng.normal(size=(300, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 300),
            rng.normal(size=(50, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 50))


def quiet_train(config, out, data, **kwargs):
    return train(config, out, progress=False, data=data, log=lambda line: None, **kwargs)


def stop_after(batches):
    def hook(position):
        if position.batch == batches:
            raise KeyboardInterrupt
    return hook


# -- an --out that cannot be written is refused before anything is trained ----------------------

def out_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    return tmp_path / "file", "not a directory"


def out_below_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / "run", "not a directory ndgrad can write to"


def out_in_proc(tmp_path):
    return "/proc/ndgrad-cannot-write-here", "not a directory ndgrad can write to"


def metrics_is_a_directory(tmp_path):
    (tmp_path / "run" / "metrics.json").mkdir(parents=True)
    return tmp_path / "run", "metrics.json"


def checkpoint_is_write_protected(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.safetensors").write_bytes(b"precious")
    (tmp_path / "run" / "checkpoint.safetensors").chmod(0o444)
    return tmp_path / "run", "write-protected"


def graph_is_a_fifo(tmp_path):
    (tmp_path / "run").mkdir()
    os.mkfifo(tmp_path / "run" / "graph.svg")
    return tmp_path / "run", "FIFO"


@posix_only
@pytest.mark.parametrize("make", [out_is_a_file, out_below_a_file, metrics_is_a_directory,
                                  checkpoint_is_write_protected, graph_is_a_fifo,
                                  pytest.param(out_in_proc, marks=pytest.mark.skipif(
                                      not sys.platform.startswith("linux"), reason="procfs is Linux's"))])
def test_unusable_out_is_one_error_line_before_training_starts(make, tmp_path, capsys):
    out, mention = make(tmp_path)
    status, lines, stdout = run_main(capsys, "train", "--out", out, "--limit", 100, "--epochs", 1, "--no-progress")
    assert_one_error_line(status, lines, mention)
    assert "training" not in stdout    # refused before loading data or training
    protected = tmp_path / "run" / "checkpoint.safetensors"
    if protected.exists() and not protected.is_dir():
        assert protected.read_bytes() == b"precious"


# -- every field of a stored training state is checked as the command line checks it --------------

def set_field(*path_and_value):
    *path, value = path_and_value

    def mutate(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def delete_field(*path):
    def mutate(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


BAD_STATES = {
    "lr-negative": (set_field("config", "lr", -0.1), "lr must be a positive number"),
    "lr-nan": (set_field("config", "lr", float("nan")), "lr must be a positive number"),
    "lr-string": (set_field("config", "lr", "0.1"), "lr must be a positive number"),
    "epochs-zero": (set_field("config", "epochs", 0), "epochs must be a positive integer"),
    "epochs-bool": (set_field("config", "epochs", True), "epochs must be a positive integer"),
    "batch-size-float": (set_field("config", "batch_size", 2.5), "batch_size must be a positive integer"),
    "seed-negative": (set_field("config", "seed", -3), "seed must be a non-negative integer"),
    "limit-zero": (set_field("config", "limit", 0), "limit must be a positive integer"),
    "model-unknown": (set_field("config", "model", "resnet"), "model must be one of"),
    "optimizer-none": (set_field("config", "optimizer", None), "optimizer must be one of"),
    "schedule-unknown": (set_field("config", "schedule", "linear"), "schedule must be one of"),
    "config-field-missing": (delete_field("config", "seed"), "lacks seed"),
    "config-field-unknown": (set_field("config", "momentum", 0.9), "unknown ['momentum']"),
    "config-not-a-table": (set_field("config", [1, 2]), "config is list"),
    "batch-negative": (set_field("position", "batch", -1), "batch must be a non-negative integer"),
    "seen-too-many": (set_field("position", "seen", 10**9), "images seen in"),
    "correct-above-seen": (set_field("position", "correct", 10**4), "correct of"),
    "loss-negative": (set_field("position", "loss_sum", -1.0), "loss_sum must be a non-negative number"),
    "loss-string": (set_field("position", "loss_sum", "1.0"), "loss_sum must be a non-negative number"),
    "seconds-negative": (set_field("position", "seconds", -1.0), "seconds must be a non-negative number"),
    "epoch-beyond-run": (set_field("position", "epoch", 7), "history at epoch 7"),
    "position-missing": (delete_field("position"), "lacks position"),
    "history-not-list": (set_field("history", "none"), "history is str"),
    "history-entry-bad": (set_field("history", [{"epoch": 1}]), "history[0] lacks"),
}


@pytest.fixture(scope="module")
def stopped_checkpoint(synthetic_data, tmp_path_factory):
    """A real checkpoint, stopped after 2 batches of 100 of a 1-epoch mlp run."""
    out = tmp_path_factory.mktemp("stopped")
    result = quiet_train(TrainConfig(model="mlp", epochs=1, batch_size=100), out, synthetic_data,
                         on_batch_end=stop_after(2))
    assert result.interrupted
    return nn.load(out / "checkpoint.safetensors")


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_bad_stored_training_state_is_one_error_line_for_resume_and_evaluate(case, stopped_checkpoint, tmp_path,
                                                                             capsys):
    mutate, mention = BAD_STATES[case]
    saved = {**stopped_checkpoint, "train_state": _deep_copy(stopped_checkpoint["train_state"])}
    mutate(saved["train_state"])
    nn.save(saved, tmp_path / "checkpoint.safetensors")
    for args in (["train", "--out", tmp_path, "--resume", "--no-progress"], ["evaluate", "--checkpoint", tmp_path]):
        status, lines, _ = run_main(capsys, *args)
        assert_one_error_line(status, lines, "stored training state", mention)


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _optimizer_state(saved):
    return saved["optimizer"]["state"][0]


def _nan_moment(saved):
    moment = np.array(_optimizer_state(saved)["exp_avg"])
    moment[0, 0] = np.nan
    _optimizer_state(saved)["exp_avg"] = moment


BAD_WEIGHTS = {
    "step-string": (lambda saved: _optimizer_state(saved).update(step="abc"), "step is 'abc'"),
    "step-negative": (lambda saved: _optimizer_state(saved).update(step=-5), "step is -5"),
    "step-nan": (lambda saved: _optimizer_state(saved).update(step=float("nan")), "step is nan"),
    "moment-missing": (lambda saved: _optimizer_state(saved).pop("exp_avg"), "holds ['exp_avg_sq', 'step']"),
    "moment-nan": (_nan_moment, "exp_avg is an array of shape (256, 784); expected finite values"),
    "moment-shape": (lambda saved: _optimizer_state(saved).update(exp_avg=ag.zeros(3)), "has shape (3,)"),
    "lr-string": (lambda saved: saved["optimizer"]["param_groups"][0].update(lr="x"), "lr"),
    "weight-shape": (lambda saved: saved["model"].update({"1.weight": ag.zeros(3)}), "size mismatch for 1.weight"),
    "weight-extra": (lambda saved: saved["model"].update(extra=ag.zeros(1)), "Unexpected key(s)"),
}


@pytest.mark.parametrize("case", list(BAD_WEIGHTS))
def test_bad_stored_weights_or_optimizer_state_is_one_error_line_before_training(case, stopped_checkpoint, tmp_path,
                                                                                capsys, synthetic_data):
    mutate, mention = BAD_WEIGHTS[case]
    saved = _deep_copy({**stopped_checkpoint, "optimizer": _deep_copy(stopped_checkpoint["optimizer"]),
                        "model": dict(stopped_checkpoint["model"])})
    mutate(saved)
    nn.save(saved, tmp_path / "checkpoint.safetensors")
    with pytest.raises(nn.train.UsageError) as info:
        quiet_train(TrainConfig(), tmp_path, synthetic_data, resume=True)
    assert mention in str(info.value) and str(tmp_path / "checkpoint.safetensors") in str(info.value)
    assert "\n" not in str(info.value)


def test_a_diverged_run_with_nan_and_inf_losses_still_resumes_and_evaluates(stopped_checkpoint, synthetic_data,
                                                                            tmp_path):
    saved = {**stopped_checkpoint, "train_state": _deep_copy(stopped_checkpoint["train_state"])}
    saved["train_state"]["position"]["loss_sum"] = float("nan")
    nn.save(saved, tmp_path / "checkpoint.safetensors")
    result = quiet_train(TrainConfig(epochs=2), tmp_path, synthetic_data, resume=True)
    assert not result.interrupted and np.isnan(result.history[0]["train_loss"])
    assert nn.train.read_checkpoint(tmp_path / "checkpoint.safetensors")["state"]["position"]["epoch"] == 2
    # metrics.json stays strict JSON: the NaN loss is null
    metrics = json.loads((tmp_path / "metrics.json").read_text(), parse_constant=lambda name: pytest.fail(name))
    assert metrics["epochs"][0]["train_loss"] is None


def test_stored_position_beyond_the_data_is_an_error_not_a_crash(stopped_checkpoint, synthetic_data, tmp_path):
    saved = {**stopped_checkpoint, "train_state": _deep_copy(stopped_checkpoint["train_state"])}
    saved["train_state"]["position"].update(batch=40, seen=4000, correct=0)   # 3 batches per epoch here
    nn.save(saved, tmp_path / "checkpoint.safetensors")
    with pytest.raises(nn.train.UsageError, match="batch 40, lies beyond the 3 batches"):
        quiet_train(TrainConfig(), tmp_path, synthetic_data, resume=True)


# -- two runs on one --out ---------------------------------------------------------------------------

@posix_only
def test_second_run_on_the_same_out_is_refused_while_the_first_runs(tmp_path, capsys):
    first = run_cli("train", "--out", tmp_path, "--limit", 3000, "--epochs", 20, "--no-progress")
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / LOCK_FILE).exists() or not (tmp_path / LOCK_FILE).read_text().strip():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        for args in (["train", "--out", tmp_path], ["train", "--out", tmp_path, "--resume"]):
            status, lines, stdout = run_main(capsys, *args, "--no-progress")
            assert_one_error_line(status, lines, f"pid {first.pid}", "another ndgrad train")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    # The kernel drops the lock with the process, however it ended.
    with nn.train.claim_output_directory(tmp_path):
        pass


# -- a save that fails mid-run -------------------------------------------------------------------------

@posix_only
def test_checkpoint_save_failing_mid_run_is_one_error_line_and_keeps_the_previous_checkpoint(tmp_path):
    first = run_cli("train", "--out", tmp_path, "--limit", 200, "--epochs", 1, "--batch-size", 100, "--no-progress")
    assert first.wait(timeout=300) == 0, first.communicate()
    before = (tmp_path / "checkpoint.safetensors").read_bytes()
    # The resumed run may write no file over 1 MB: its checkpoint (2.8 MB with Adam's moments) fails.
    limited = run_cli("train", "--out", tmp_path, "--resume", "--epochs", 2, "--no-progress",
                      prelude="""
                          import resource, signal
                          signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                          resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
                      """)
    stdout, stderr = limited.communicate(timeout=300)
    lines = stderr.strip().splitlines()
    assert_one_error_line(limited.returncode, lines, str(tmp_path / "checkpoint.safetensors"))
    assert ".tmp" not in lines[0] and "Traceback" not in stderr
    assert (tmp_path / "checkpoint.safetensors").read_bytes() == before
    assert nn.load(tmp_path / "checkpoint.safetensors")["train_state"]["position"]["epoch"] == 1


# -- data that is not there --------------------------------------------------------------------------

def data_dir_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("NDGRAD_DATA", str(tmp_path / "no-such-dir"))
    return ["NDGRAD_DATA", str(tmp_path / "no-such-dir"), "does not exist"]


def cache_empty(tmp_path, monkeypatch):
    from nn.data.mnist import CACHE_FILE_NAME
    monkeypatch.delenv("NDGRAD_DATA", raising=False)
    monkeypatch.setenv("NDGRAD_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE_NAME).write_bytes(b"")
    return ["empty", f"rm '{tmp_path / 'cache' / CACHE_FILE_NAME}'"]


@pytest.mark.parametrize("make", [data_dir_missing, cache_empty])
def test_data_that_is_not_there_or_damaged_is_one_error_line(make, tmp_path, monkeypatch, capsys):
    mentions = make(tmp_path, monkeypatch)
    status, lines, stdout = run_main(capsys, "train", "--out", tmp_path / "run", "--limit", 100, "--no-progress")
    assert_one_error_line(status, lines, *mentions)
    assert "epoch 1" not in stdout


# -- SIGTERM (kill, a scheduler, a container stop) saves like Ctrl-C -----------------------------------

@posix_only
def test_sigterm_mid_run_saves_a_resumable_checkpoint_instead_of_losing_the_epoch(tmp_path):
    run = run_cli("train", "--out", tmp_path, "--limit", 20_000, "--epochs", 3, "--batch-size", 100, "--no-progress")
    deadline = time.monotonic() + 120
    while not (tmp_path / "graph.svg").exists():      # written just before the first batch
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.02)
    time.sleep(0.5)
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "SIGTERM: finishing this batch" in stderr and "--resume" in stderr and "Traceback" not in stderr
    position = nn.train.read_checkpoint(tmp_path / "checkpoint.safetensors")["state"]["position"]
    assert position["epoch"] * 200 + position["batch"] > 0
