"""The benchmarks keep working: every one runs at a tiny size, in-process, and the implementations
agree on the losses. Nothing here is timed; `python -m benchmarks` does the measuring."""
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # benchmarks/ is not installed

from benchmarks import __main__ as cli, harness, numpy_reference, op_profile, report, suites, workloads  # noqa: E402

TINY = dataclasses.replace(suites.QUICK, memory_in_subprocess=False)


def _implementations(*names):
    loaded, skipped = harness.load_implementations(names)
    assert not skipped, skipped
    return loaded


def test_numpy_reference_sgd_steps_lower_the_loss():
    # One SGD step along the manual gradient must lower the loss on the same batch.
    for builder, params, batch in ((numpy_reference.mlp_step, workloads.mlp_params(), workloads.mlp_batch(8)),
                                   (numpy_reference.cnn_step, workloads.cnn_params(), workloads.cnn_batch(4))):
        step = builder(params, *batch, lr=0.01)
        losses = [float(step()) for _ in range(3)]
        assert losses[0] > losses[1] > losses[2]


def test_numpy_reference_stays_float32():
    # float64 creep would show in the loss's dtype and in the updated weights.
    step = numpy_reference.mlp_step(workloads.mlp_params(), *workloads.mlp_batch(8))
    assert step().dtype == np.float32
    step = numpy_reference.cnn_step(workloads.cnn_params(), *workloads.cnn_batch(2))
    assert step().dtype == np.float32


def test_numpy_and_torch_give_the_same_losses_and_chain_gradient():
    pytest.importorskip("torch")
    checks = suites.check_agreement(_implementations("numpy", "torch"), TINY)
    assert all(result["ok"] for result in checks.values()), checks


def test_ndgrad_agrees_with_numpy_and_torch():
    pytest.importorskip("torch")
    implementations = _implementations("numpy", "torch", "ndgrad")
    checks = suites.check_agreement(implementations, TINY)
    assert all(result["ok"] for result in checks.values()), checks
    assert all("ndgrad" in result["values"] for result in checks.values()), "ndgrad left a benchmark out"
    assert any(check.startswith("cifar_cnn") for check in checks) and any(check.startswith("gpt") for check in checks)


def test_every_benchmark_runs_at_a_tiny_size(tmp_path):
    implementations, skipped = harness.load_implementations()
    with harness.pinned_threads(1, implementations):
        counts = harness.threads_in_effect(implementations)
        results = suites.run_all(implementations, TINY, threads=1, progress=lambda msg: None)
    results["threads_in_effect"] = counts
    assert set(counts.values()) <= {1}

    assert {"torch", "ndgrad"} <= set(results["cifar_cnn"]) and {"torch", "ndgrad"} <= set(results["gpt"])
    timed = [results["mlp"], results["cnn"], results["cifar_cnn"], results["gpt"], results["overhead"],
             *results["sweep"].values(),
             *results["chains"].values()]
    for by_name in timed:
        for name, result in by_name.items():
            assert not isinstance(result, harness.Failure), (name, result)
    for name, memory in results["memory"].items():
        assert memory["rss"] is None or memory["rss"] >= 0, (name, memory)

    env = report.describe_environment(implementations, skipped)
    text = report.render(env, {}, {1: results}, TINY)
    assert "### Small CNN train step" in text and "Deep chains" in text
    assert "### CIFAR-size CNN train step" in text and "### Small GPT train step" in text
    plot = tmp_path / "sweep.png"
    report.plot_batch_sweep({1: results}, plot)
    assert plot.stat().st_size > 0


def test_cli_quick_run_writes_report_and_plot(tmp_path):
    out = tmp_path / "RESULTS.md"
    assert cli.main(["--quick", "--impl", "numpy", "--threads", "1", "--out", str(out)]) == 0
    assert "## 1 thread" in out.read_text()
    assert (tmp_path / "batch_sweep.png").exists()


def test_a_failing_implementation_is_reported_not_fatal():
    def broken():
        raise RecursionError("maximum recursion depth exceeded")

    results = harness.interleave({"ok": lambda: None, "broken": broken}, reps=2, warmup=0)
    assert isinstance(results["broken"], harness.Failure)
    assert "RecursionError" in results["broken"].error
    assert len(results["ok"]["step"].samples) == 2


def test_op_profile_splits_a_gpt_step_into_phases_and_ops():
    implementations = _implementations("ndgrad")
    step = harness.build_step(implementations["ndgrad"], "gpt", 1)
    timer = op_profile.profile_ops(step, steps=2, warmup=1)
    phases = timer.phase_seconds
    assert all(phases[phase] > 0 for phase in op_profile.PHASES)
    assert abs(sum(phases[phase] for phase in op_profile.PHASES) - phases["total"]) < 1e-9
    forward_ops = {op for (phase, op, direction) in timer.op_seconds if phase == "forward" and direction == "forward"}
    backward_ops = {op for (phase, op, direction) in timer.op_seconds if phase == "backward"}
    assert {"Linear", "MatMul", "Softmax", "Gelu"} <= forward_ops
    assert {"Linear", "MatMul", "Softmax"} <= backward_ops
    # Ops run by a backward formula are counted in that backward, not as forwards of their own.
    # (The engine's own gradient sums count as 'engine'.)
    assert not any(direction == "forward" for (phase, _, direction) in timer.op_seconds if phase == "backward")
    assert ("backward", "Add", "engine") in timer.op_seconds    # the residual stream's gradients meet
    text = op_profile.report("gpt", timer, steps=2)
    assert "| backward |" in text and "| Linear |" in text


def test_op_profile_restores_the_classes_it_wraps():
    import autograd as ag
    from autograd.function import Function
    import nn
    originals = (Function.__dict__["apply"], ag.Tensor.__dict__["backward"], nn.optim.AdamW.__dict__.get("step"),
                 nn.optim.Adam.__dict__["step"])
    with op_profile.OpTimer():
        assert Function.__dict__["apply"] is not originals[0]
        assert nn.optim.Adam.__dict__["step"] is not originals[3]
    assert (Function.__dict__["apply"], ag.Tensor.__dict__["backward"], nn.optim.AdamW.__dict__.get("step"),
            nn.optim.Adam.__dict__["step"]) == originals


def test_profile_cli_reports_the_cifar_cnn_by_op(capsys):
    from benchmarks import profile_ndgrad
    profile_ndgrad.main(["--steps", "1", "--workload", "cifar_cnn", "--batch", "2"])
    out = capsys.readouterr().out
    assert "CIFAR-size CNN train step, batch 2: by phase and op" in out and "| Convolution |" in out


def test_ratios_gives_one_ratio_per_round_against_the_reference():
    from benchmarks import ratios
    implementations = _implementations("torch", "ndgrad") if _has_torch() else _implementations("ndgrad")
    lines = []
    measured, reference = ratios.measure(implementations, TINY, "gpt", threads=1, rounds=2, print_round=lines.append)
    assert len(lines) == 2
    if _has_torch():
        assert reference == "torch" and len(measured["ndgrad"]) == 2 and all(r > 0 for r in measured["ndgrad"])


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_layer_survey_checks_agreement_and_prints_one_row_per_layer(capsys):
    pytest.importorskip("torch")
    from benchmarks import layers
    layers.main(["--reps", "1", "--only", "AdaptiveAvgPool2d", "Upsample nearest", "GRU"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "ms" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| Upsample nearest x2, (16, 32, 32, 32)",
                                                      "| AdaptiveAvgPool2d 1, (32, 256, 8, 8)",
                                                      "| GRU 2 x 256, (35, 20, 128)"]
    assert all(float(row.split(" | ")[-1].rstrip(" x|")) > 0 for row in rows)


def test_step_time_reports_a_median_for_one_implementation(capsys):
    from benchmarks import step_time
    step_time.main(["--workload", "mlp", "--impl", "ndgrad", "--batch", "4", "--steps", "3"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("ndgrad mlp batch 4, 1 thread(s): median ")
    assert float(line.split("median ")[1].split(" ms")[0]) > 0
