"""The benchmarks themselves: what is built, at which size, how often it is timed.

Each `run_*` function takes the loaded implementations ({name: module}) and a `Config`, and
returns plain data (dicts of `harness.Timing` / `harness.Failure`) that `report.py` formats.
The caller pins the threads.
"""
import time
from dataclasses import dataclass

import numpy as np

from . import harness, workloads


@dataclass(frozen=True)
class Config:
    mlp_batch: int = workloads.MLP_BATCH
    sweep_batches: tuple = workloads.SWEEP_BATCHES
    cnn_batch: int = workloads.CNN_BATCH
    cifar_cnn_batch: int = workloads.CIFAR_BATCH
    gpt_batch: int = workloads.GPT_BATCH
    overhead_chain: int = workloads.OVERHEAD_CHAIN
    deep_chains: tuple = workloads.DEEP_CHAINS
    memory_batch: int = workloads.MEMORY_BATCH
    reps: int = 30                 # timed samples per implementation and measurement (at least)
    # Train steps fast enough get more samples: as many as fill step_seconds per implementation, up to
    # max_step_reps. The median of 30 MLP steps (2 ms each) moved by 2-4% between consecutive measurements
    # in one process, with the machine's state over a tenth of a second; 500 span a second.
    step_seconds: float = 1.0
    max_step_reps: int = 500
    warmup: int = 3
    chain_op_budget: int = 200_000  # deep chains: rounds = budget // n, within [min_reps, reps]
    min_reps: int = 3
    multithread_block: int = 5     # see harness.interleave: consecutive steps per turn above 1 thread
    quiet_wait: float = 10.0       # seconds to wait, before each measurement, for other processes to go quiet
    check_steps: int = 3
    check_rtol: float = 1e-4
    memory_in_subprocess: bool = True

    def batch(self, workload):
        """The batch size of a train-step workload (one of harness.TRAIN_WORKLOADS)."""
        return getattr(self, f"{workload}_batch")

    def block(self, threads):
        return self.multithread_block if threads > 1 else 1


FULL = Config()
QUICK = Config(mlp_batch=8, sweep_batches=(4, 8), cnn_batch=2, cifar_cnn_batch=2, gpt_batch=1, overhead_chain=60,
               deep_chains=(30, 300), memory_batch=16, reps=3, warmup=1,
               chain_op_budget=600, min_reps=2, multithread_block=2, quiet_wait=0.0, step_seconds=0.0)


# -- agreement ------------------------------------------------------------------------------------

# Five float32 convolutions summed in different orders (im2col GEMM here, oneDNN in torch), each
# renormalised by BatchNorm, then momentum: the third loss differs by about 1e-4 (measured 9e-5).
CHECK_RTOL = {"cifar_cnn": 1e-3}

def providing(implementations, builder):
    """The implementations that have `builder` (an unfinished one may leave a workload out)."""
    return {name: m for name, m in implementations.items() if getattr(m, builder, None) is not None}


def check_agreement(implementations, config):
    """Same weights, same data: do the implementations give the same losses and chain gradient?

    Returns {check: {"values": {name: list}, "ok": bool, "detail": str}}; the first
    implementation (the NumPy reference when present) is the one the others are compared with.
    """
    checks = {}
    for workload in harness.TRAIN_WORKLOADS:
        batch, values = config.batch(workload), {}
        for name, module in providing(implementations, f"{workload}_step").items():
            step = harness.build_step(module, workload, batch)
            values[name] = [harness.as_float(step()) for _ in range(config.check_steps)]
        if values:
            rtol = CHECK_RTOL.get(workload, config.check_rtol)
            checks[f"{workload} losses, first {config.check_steps} steps"] = _compare(values, rtol)
    x0 = workloads.chain_input()
    values = {}
    for name, module in implementations.items():
        backward = module.chain(config.overhead_chain, x0)()
        values[name] = np.asarray(backward(), dtype=np.float64).tolist()
    # Twenty-odd float32 rounding steps per tanh add up along the chain; tanh kernels differ by an ulp.
    checks[f"chain gradient, {config.overhead_chain} ops"] = _compare(values, 1e-3)
    return checks


def _compare(values, rtol):
    names = list(values)
    reference = np.asarray(values[names[0]])
    worst = {name: float(np.max(np.abs(np.asarray(v) - reference) / np.maximum(np.abs(reference), 1e-12)))
             for name, v in values.items()}
    ok = all(np.allclose(v, reference, rtol=rtol, atol=1e-7) for v in values.values())
    detail = ", ".join(f"{name} rel. diff {worst[name]:.1e}" for name in names[1:])
    return {"values": values, "ok": ok, "rtol": rtol, "detail": detail or "single implementation"}


# -- timed benchmarks -----------------------------------------------------------------------------

def _settle(config):
    if config.quiet_wait > 0:
        harness.wait_for_quiet(config.quiet_wait)


def run_train_step(implementations, config, workload, batch, threads=1):
    """{name: {"step": Timing}} for one SGD step of `workload` at `batch`, interleaved."""
    steps = {name: harness.build_step(module, workload, batch)
             for name, module in providing(implementations, f"{workload}_step").items()}
    _settle(config)
    return harness.interleave(steps, _step_reps(steps, config), config.warmup, block=config.block(threads))


def _step_reps(steps, config):
    """config.reps, or more for steps so fast that config.step_seconds of the slowest hold more."""
    if config.step_seconds <= 0:
        return config.reps
    slowest = 0.0
    for step in steps.values():
        start = time.perf_counter()
        try:
            step()
        except Exception:   # interleave records the failure
            continue
        slowest = max(slowest, time.perf_counter() - start)
    return min(max(config.reps, int(config.step_seconds / max(slowest, 1e-6))), config.max_step_reps)


def run_batch_sweep(implementations, config, threads=1):
    """{batch: {name: {"step": Timing}}} for the MLP step across batch sizes."""
    return {batch: run_train_step(implementations, config, "mlp", batch, threads)
            for batch in config.sweep_batches}


def run_chain(implementations, config, n, reps):
    """{name: {"forward": Timing, "backward": Timing}} for an n-op chain.

    Ops on 4 elements never reach a thread pool, so plain step-by-step interleaving is right
    at any thread count.
    """
    x0 = workloads.chain_input()
    forwards = {name: module.chain(n, x0) for name, module in implementations.items()}
    _settle(config)
    return harness.interleave(forwards, reps, warmup=1, phases=("forward", "backward"))


def run_deep_chains(implementations, config):
    results = {}
    for n in config.deep_chains:
        reps = min(config.reps, max(config.min_reps, config.chain_op_budget // n))
        results[n] = run_chain(implementations, config, n, reps)
    return results


def run_memory(implementations, config, threads):
    """{name: {"tracemalloc": bytes or None, "rss": bytes, None or error string}} at memory_batch."""
    results = {}
    for name, module in providing(implementations, "mlp_step").items():
        traced = None
        if getattr(module, "TRACEMALLOC_SEES_ALLOCATIONS", True):
            traced = harness.traced_peak_increase(harness.build_step(module, "mlp", config.memory_batch))
        if config.memory_in_subprocess:
            rss = harness.rss_peak_increase(name, "mlp", config.memory_batch, threads)
        else:
            rss = harness.rss_peak_increase_here(harness.build_step(module, "mlp", config.memory_batch))
        results[name] = {"tracemalloc": traced, "rss": rss}
    return results


def run_all(implementations, config, threads, progress=print):
    """Every benchmark at one thread count (already pinned by the caller)."""
    results = {}
    progress(f"[threads={threads}] MLP step, batch {config.mlp_batch}")
    results["mlp"] = run_train_step(implementations, config, "mlp", config.mlp_batch, threads)
    progress(f"[threads={threads}] MLP batch sweep {config.sweep_batches}")
    results["sweep"] = run_batch_sweep(implementations, config, threads)
    for workload in ("cnn", "cifar_cnn", "gpt"):
        progress(f"[threads={threads}] {workload} step, batch {config.batch(workload)}")
        results[workload] = run_train_step(implementations, config, workload, config.batch(workload), threads)
    progress(f"[threads={threads}] per-op overhead, {config.overhead_chain}-op chain")
    results["overhead"] = run_chain(implementations, config, config.overhead_chain, config.reps)
    progress(f"[threads={threads}] deep chains {config.deep_chains}")
    results["chains"] = run_deep_chains(implementations, config)
    progress(f"[threads={threads}] peak memory, MLP step batch {config.memory_batch}")
    results["memory"] = run_memory(implementations, config, threads)
    return results
