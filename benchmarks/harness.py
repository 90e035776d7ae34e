"""The machinery every benchmark shares: loading implementations, pinning threads, interleaved
timing with medians, and peak memory.

An implementation is a module with `NAME`, `DESCRIPTION`, `version()` and three builders, each
returning a closure so that the harness never knows what it is timing:

- `mlp_step(params, x, y, lr)` and `cnn_step(params, x, y, lr)` return `step()`, which runs one SGD
  step and returns the loss (anything `float()` or `.item()` turns into a number); optionally also
  `cifar_cnn_step` (SGD with momentum) and `gpt_step(params, tokens, targets)` (AdamW), the same;
- `chain(n, x0)` returns `forward()`, which runs n tiny ops and returns `backward()`, which returns
  d sum(out) / d x (anything `np.asarray` accepts).

Optional: `set_threads(n)` / `get_threads()` for a library with its own thread pool (torch), and
`TRACEMALLOC_SEES_ALLOCATIONS = False` where tracemalloc cannot see the library's buffers (torch).
An implementation whose import fails (torch not installed, ndgrad not written yet) is skipped with
the reason recorded.
"""
import contextlib
import ctypes
import gc
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import threadpoolctl
except ImportError:         # a dev dependency; without it NumPy's BLAS threads cannot be pinned
    threadpoolctl = None

IMPLEMENTATIONS = {
    "numpy": "benchmarks.numpy_reference",
    "torch": "benchmarks.torch_reference",
    "ndgrad": "benchmarks.ndgrad_impl",
}
REPO_ROOT = Path(__file__).resolve().parent.parent


def load_implementations(names=None):
    """({name: module}, {name: reason skipped}) for the requested implementations, in order."""
    loaded, skipped = {}, {}
    for name in names or IMPLEMENTATIONS:
        try:
            loaded[name] = importlib.import_module(IMPLEMENTATIONS[name])
        except ImportError as exc:
            skipped[name] = f"{type(exc).__name__}: {exc}"
    return loaded, skipped


# -- threads --------------------------------------------------------------------------------------

@contextlib.contextmanager
def pinned_threads(n, implementations):
    """Limit every BLAS / OpenMP pool threadpoolctl finds, and each implementation's own pool, to n."""
    limiter = threadpoolctl.threadpool_limits(limits=n) if threadpoolctl else None
    previous = {}
    for name, module in implementations.items():
        if hasattr(module, "set_threads"):
            previous[name] = module.get_threads()
            module.set_threads(n)
    try:
        yield
    finally:
        for name, count in previous.items():
            implementations[name].set_threads(count)
        if limiter is not None:
            limiter.restore_original_limits()


def threads_in_effect(implementations):
    """{pool: thread count} right now, to show in the report that the pinning took."""
    counts = {}
    if threadpoolctl:
        for info in threadpoolctl.threadpool_info():
            counts[f"{info['prefix']} ({info['user_api']})"] = info["num_threads"]
    for name, module in implementations.items():
        if hasattr(module, "get_threads"):
            counts[f"{name}.get_num_threads()"] = module.get_threads()
    return counts


# -- machine load ---------------------------------------------------------------------------------

def _cpu_seconds():
    """(busy CPU seconds of the whole machine, CPU seconds of this process), or None off Linux."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)      # idle + iowait
    own = os.times()
    return (sum(fields[:8]) - idle) / ticks, own.user + own.system


class LoadMeter:
    """How many cores *other* processes kept busy between `start()` and `stop()`.

    The machine is shared: a 2-thread measurement on a 2-core box means little while something
    else holds a core, so each measurement records this next to its times.
    """

    def __init__(self):
        self.started = None

    def start(self):
        self.started = (time.perf_counter(), _cpu_seconds())
        return self

    def stop(self):
        wall_start, cpu_start = self.started
        cpu_end, wall = _cpu_seconds(), time.perf_counter() - wall_start
        if cpu_start is None or cpu_end is None or wall <= 0:
            return None
        busy, own = cpu_end[0] - cpu_start[0], cpu_end[1] - cpu_start[1]
        return max(0.0, (busy - own) / wall)


def wait_for_quiet(max_wait, threshold=0.25, window=0.5):
    """Wait (at most `max_wait` s) until other processes use less than `threshold` cores.

    Returns the load seen last, in cores (None off Linux).
    """
    deadline = time.perf_counter() + max_wait
    while True:
        meter = LoadMeter().start()
        time.sleep(window)
        load = meter.stop()
        if load is None or load < threshold or time.perf_counter() >= deadline:
            return load


# -- timing ---------------------------------------------------------------------------------------

@dataclass
class Timing:
    """Wall-clock samples of one phase, in seconds, and the cores other processes used meanwhile."""
    samples: list = field(default_factory=list)
    other_load: float = None

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def quartiles(self):
        if len(self.samples) < 2:
            return self.median, self.median
        q1, _, q3 = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q1, q3


@dataclass
class Failure:
    """An implementation raised instead of finishing (e.g. RecursionError on a deep chain)."""
    error: str


def interleave(steps, reps, warmup=1, phases=("step",), block=1):
    """Time each closure in `steps` ({name: callable}) round-robin: A, B, C, A, B, C, ...

    Interleaving spreads machine noise over all implementations alike; the starting
    implementation rotates each round so that none always runs right after the same neighbour.
    With several `phases`, each callable returns the callable of the next phase (the chain's
    forward returns its backward) and every phase is timed on its own.

    With `block` > 1 each turn is one untimed call followed by `block` timed ones (A A A A A A,
    B B B B B B, ...). This is for multi-threaded runs: after another library has had the cores,
    the first call finds its own worker threads asleep and pays for waking them (2-10x a warm
    step on 2 cores), which a training loop pays once, not every step.

    At least `reps` samples are taken per phase, after `warmup` untimed rounds.
    Returns {name: {phase: Timing}} or {name: Failure} for one that raised.
    """
    names = list(steps)
    results = {name: {phase: Timing() for phase in phases} for name in names}
    timed_rounds = -(-reps // block)
    gc.collect()
    meter = LoadMeter().start()
    for round_index in range(warmup + timed_rounds):
        shift = round_index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            calls = 1 if round_index < warmup else block + (block > 1)
            for call_index in range(calls):
                if isinstance(results[name], Failure):
                    break
                timed = round_index >= warmup and not (block > 1 and call_index == 0)
                _time_call(steps[name], phases, results, name, timed)
    other_load = meter.stop()
    for result in results.values():
        if not isinstance(result, Failure):
            for timing in result.values():
                timing.other_load = other_load
    return results


def _time_call(call, phases, results, name, timed):
    stamps = [time.perf_counter()]
    try:
        for _ in phases:
            call = call()
            stamps.append(time.perf_counter())
    except Exception as exc:          # RecursionError on a deep chain, among others
        results[name] = Failure(f"{type(exc).__name__}: {str(exc)[:160]}")
        return
    if timed:
        for phase, start, end in zip(phases, stamps, stamps[1:]):
            results[name][phase].samples.append(end - start)


def as_float(value):
    """A loss from any implementation (numpy scalar, torch or ndgrad tensor) as a Python float."""
    item = getattr(value, "item", None)
    return float(item() if item is not None else value)


# -- memory ---------------------------------------------------------------------------------------

def traced_peak_increase(step):
    """Bytes tracemalloc sees allocated at the peak of one `step()`, above the resting state.

    Two steps run under tracing first, so that whatever a step frees from the previous one
    (old gradients, replaced parameters) was itself traced and counts as freed.
    """
    step()
    gc.collect()
    tracemalloc.start()
    try:
        step()
        step()
        gc.collect()
        resting = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - resting


def _proc_status_kib(field_name):
    with open("/proc/self/status") as status:
        match = re.search(rf"^{field_name}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(match.group(1))


def _trim_heap():
    """Give freed heap pages back to the OS so the resting RSS is the memory actually in use."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_peak_increase_here(step):
    """Bytes the resident set grows by at the peak of one `step()` (Linux; None elsewhere).

    Resets the kernel's high-water mark (`echo 5 > /proc/self/clear_refs`) after warm-up steps,
    so lazy one-off allocations (thread pools, kernel caches) are part of the resting state.
    """
    step()
    step()
    gc.collect()
    _trim_heap()
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        resting = _proc_status_kib("VmRSS")
    except OSError:
        return None
    step()
    return (_proc_status_kib("VmHWM") - resting) * 1024


def rss_peak_increase(implementation, workload, batch, threads):
    """`rss_peak_increase_here` for one implementation, measured in a fresh subprocess.

    A fresh process keeps other implementations' allocations and caches out of the picture.
    Returns bytes, or a string saying what went wrong.
    """
    code = ("import sys; from benchmarks.harness import _rss_probe_main; "
            "_rss_probe_main(sys.argv[1:])")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", code, implementation, workload, str(batch), str(threads)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
        return f"probe failed: {lines[-1][:160]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["rss_increase"]


def _rss_probe_main(argv):
    name, workload, batch, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    implementations, skipped = load_implementations([name])
    if skipped:
        raise SystemExit(skipped[name])
    step = build_step(implementations[name], workload, batch)
    with pinned_threads(threads, implementations):
        increase = rss_peak_increase_here(step)
    print(json.dumps({"rss_increase": increase}))


TRAIN_WORKLOADS = ("mlp", "cnn", "cifar_cnn", "gpt")


def build_step(module, workload, batch, seed=0):
    """The `step()` closure of `module` for a workload of TRAIN_WORKLOADS at this batch size
    (built by `module.<workload>_step(params, inputs, targets)`)."""
    from . import workloads
    if workload not in TRAIN_WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; expected one of {', '.join(TRAIN_WORKLOADS)}")
    params = getattr(workloads, f"{workload}_params")(seed)
    return getattr(module, f"{workload}_step")(params, *getattr(workloads, f"{workload}_batch")(batch))
