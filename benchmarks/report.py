"""Turn benchmark results into `RESULTS.md` (medians and ratios) and the batch-sweep plot."""
import datetime
import os
import platform
import sys

import numpy as np

from . import harness

THREAD_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                   "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# -- environment ----------------------------------------------------------------------------------

def _cpu_model():
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    model = fields.get("model name", platform.machine())
    if "cpu family" in fields:
        model += f" (family {fields['cpu family']}, model {fields.get('model')}, {fields.get('vendor_id')})"
    return model


def describe_environment(implementations, skipped):
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks " + " ".join(sys.argv[1:]),
        "cpu": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
        "python": platform.python_version(),
        "versions": {name: module.version() for name, module in implementations.items()},
        "skipped": dict(skipped),
        "env_vars": {var: os.environ.get(var) for var in THREAD_ENV_VARS},
        "threadpools": harness.threadpoolctl.threadpool_info() if harness.threadpoolctl else None,
        "torch_config": None,
    }
    if "torch" in implementations:
        import torch
        lines = torch.__config__.parallel_info().splitlines()
        env["torch_config"] = [line.strip() for line in lines
                               if "backend" in line or "Math Kernel" in line or "MKL-DNN" in line]
    return env


BIG_WORKLOADS = (
    ("cifar_cnn", "CIFAR-size CNN train step",
     "3x32x32 input; five conv 3x3 pad 1 (no bias) - BatchNorm - ReLU blocks with 32, 32, 64, 64, 128 "
     "channels, a 2x2 max-pool after blocks 2, 4 and 5; flatten, linear 2048->10, cross-entropy, "
     "SGD with momentum 0.9."),
    ("gpt", "Small GPT train step",
     "nanoGPT's model written by hand from Linear, LayerNorm, Embedding, matmul, masked_fill and "
     "softmax: 2 blocks, context 64, width 128, 4 heads, vocabulary 65, exact GELU, no dropout, "
     "untied head; cross-entropy over every position, AdamW (weight decay 0.1)."),
)


# -- formatting -----------------------------------------------------------------------------------

def _ms(seconds):
    return f"{seconds * 1e3:.3g}" if seconds < 1 else f"{seconds * 1e3:,.0f}"


def _ratio(value, reference):
    if value is None or reference is None or reference == 0:
        return "-"
    return f"{value / reference:.2f}x"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _other_load(results):
    """The cores other processes used during a measurement (same for every implementation in it)."""
    for result in results.values():
        if not isinstance(result, harness.Failure):
            for timing in result.values():
                if timing.other_load is not None:
                    return timing.other_load
    return None


def _load_note(results):
    load = _other_load(results)
    return "" if load is None else f"Other processes kept {load:.2f} cores busy on average meanwhile."


def _load_cell(results):
    load = _other_load(results)
    return "-" if load is None else f"{load:.2f}"


def _median(result, phase):
    if result is None or isinstance(result, harness.Failure) or not result[phase].samples:
        return None
    return result[phase].median


def _ratio_columns(results, phase, names, refs):
    """[(ref, median of ref)] for the references present and measured."""
    return [(ref, _median(results.get(ref), phase)) for ref in refs if ref in names]


def _step_table(results, names):
    names = [name for name in names if name in results]
    refs = _ratio_columns(results, "step", names, ("numpy", "torch"))
    header = ["implementation", "median ms", "IQR ms", "runs"] + [f"x {ref}" for ref, _ in refs]
    rows = []
    for name in names:
        result = results[name]
        if isinstance(result, harness.Failure):
            rows.append([name, result.error, "", ""] + ["-"] * len(refs))
            continue
        timing = result["step"]
        q1, q3 = timing.quartiles
        rows.append([name, _ms(timing.median), f"{_ms(q1)}-{_ms(q3)}", len(timing.samples)]
                    + [_ratio(timing.median, ref_median) for _, ref_median in refs])
    return _table(header, rows)


def _sweep_table(sweep, names):
    names = [name for name in names if name in next(iter(sweep.values()))]
    # each implementation against the NumPy floor, and ndgrad against torch
    pairs = [(name, "numpy") for name in names if name != "numpy" and "numpy" in names]
    if "ndgrad" in names and "torch" in names:
        pairs.append(("ndgrad", "torch"))
    header = ["batch"] + [f"{name} ms/step" for name in names] + [f"{name} us/sample" for name in names]
    header += [f"{name} x {ref}" for name, ref in pairs] + ["other load (cores)"]
    rows = []
    for batch, results in sweep.items():
        medians = {name: _median(results[name], "step") for name in names}
        row = [batch] + [_ms(m) if m is not None else "failed" for m in medians.values()]
        row += [f"{m / batch * 1e6:.3g}" if m is not None else "-" for m in medians.values()]
        row += [_ratio(medians[name], medians[ref]) for name, ref in pairs] + [_load_cell(results)]
        rows.append(row)
    return _table(header, rows)


def _chain_table(results, names, n, per_op=True):
    names = [name for name in names if name in results]
    header = ["implementation", "forward ms", "backward ms"]
    if per_op:
        header += ["forward us/op", "backward us/op"]
    refs = [ref for ref in ("numpy", "torch") if ref in names]
    header += [f"{phase} x {ref}" for ref in refs for phase in ("fwd", "bwd")]
    rows = []
    for name in names:
        result = results[name]
        if isinstance(result, harness.Failure):
            rows.append([name, result.error] + [""] * (len(header) - 2))
            continue
        forward, backward = result["forward"].median, result["backward"].median
        row = [name, _ms(forward), _ms(backward)]
        if per_op:
            row += [f"{forward / n * 1e6:.3g}", f"{backward / n * 1e6:.3g}"]
        for ref in refs:
            row += [_ratio(forward, _median(results[ref], "forward")),
                    _ratio(backward, _median(results[ref], "backward"))]
        rows.append(row)
    return _table(header, rows)


def _deep_chain_table(chains, names):
    names = [name for name in names if name in next(iter(chains.values()))]
    header = ["ops"] + [f"{name} fwd / bwd ms" for name in names] + [f"{name} us/op (fwd+bwd)" for name in names]
    header.append("other load (cores)")
    rows = []
    for n, results in chains.items():
        row = [f"{n:,}"]
        cells, per_op = [], []
        for name in names:
            result = results[name]
            if isinstance(result, harness.Failure):
                cells.append(result.error)
                per_op.append("-")
                continue
            forward, backward = result["forward"].median, result["backward"].median
            cells.append(f"{_ms(forward)} / {_ms(backward)} ({len(result['forward'].samples)} runs)")
            per_op.append(f"{(forward + backward) / n * 1e6:.3g}")
        rows.append(row + cells + per_op + [_load_cell(results)])
    return _table(header, rows)


def _linearity_note(chains, names):
    """Per-op cost at the longest chain over that at the shortest: about 1 when time is linear."""
    sizes = list(chains)
    if len(sizes) < 2:
        return ""
    small, large = sizes[0], sizes[-1]
    parts = []
    for name in names:
        a, b = chains[small].get(name), chains[large].get(name)
        if a is None or b is None or isinstance(a, harness.Failure) or isinstance(b, harness.Failure):
            continue
        per_op = [(r["forward"].median + r["backward"].median) / n for r, n in ((a, small), (b, large))]
        parts.append(f"{name} {per_op[1] / per_op[0]:.2f}")
    if not parts:
        return ""
    return (f"Per-op time at {large:,} ops over that at {small:,} ops (1.00 = linear): "
            + ", ".join(parts) + ".")


def _mib(value):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value / 2**20:.2f}"


def _memory_table(memory, names):
    names = [name for name in names if name in memory]
    reference = memory.get("numpy", {}).get("rss")
    header = ["implementation", "tracemalloc peak increase MiB", "RSS high-water increase MiB", "RSS x numpy"]
    rows = []
    for name in names:
        entry = memory[name]
        rss = entry["rss"] if isinstance(entry["rss"], int) else None
        ref = reference if isinstance(reference, int) else None
        rows.append([name, _mib(entry["tracemalloc"]), _mib(entry["rss"]), _ratio(rss, ref)])
    return _table(header, rows)


def render(env, checks, results_by_threads, config):
    names = list(env["versions"])
    out = ["# ndgrad benchmarks", ""]
    out.append(f"Generated by `{env['command'].strip()}` on {env['date']}. Every table compares "
               "implementations measured side by side in one process, interleaved round-robin "
               "(A, B, C, A, B, C, ... with the starting implementation rotating each round) so "
               "that machine noise hits them alike, with NumPy's BLAS (threadpoolctl) and torch "
               "(`torch.set_num_threads`) pinned to the same thread count. Times are medians; "
               "`x numpy` / `x torch` are ratios of medians (lower is faster). Train steps are timed "
               f"{config.reps} times at least, fast ones as often as fill about {config.step_seconds:g} s "
               f"per implementation (at most {config.max_step_reps}; the `runs` column). The machine is "
               "shared and noisy: trust the ratios more than the absolute times.")
    out.append("")
    out.append(f"Implementations: " + "; ".join(f"**{name}** ({env['versions'][name]})" for name in names) + ".")
    for name, reason in env["skipped"].items():
        out.append(f"Skipped **{name}**: {reason}.")
    out += ["", "## Environment", ""]
    out.append(f"- CPU: {env['cpu']}")
    out.append(f"- Python {env['python']}; " + "; ".join(env["versions"].values()))
    env_vars = ", ".join(f"{k}={v}" for k, v in env["env_vars"].items() if v is not None) or "none set"
    out.append(f"- Thread / kernel environment variables: {env_vars}")
    if env["torch_config"]:
        out.append("- torch: " + "; ".join(env["torch_config"]))
    if env["threadpools"] is None:
        out.append("- threadpoolctl is not installed: NumPy's BLAS threads were NOT pinned")
    else:
        out += ["", "Thread pools found by threadpoolctl (at rest, before pinning):", ""]
        rows = [[p.get("internal_api"), p.get("version"), p.get("architecture", "-"),
                 p.get("threading_layer", "-"), p.get("num_threads"), os.path.basename(p["filepath"])]
                for p in env["threadpools"]]
        out.append(_table(["library", "version", "kernel (architecture)", "threading", "threads", "file"], rows))
    out += ["", "## Agreement check", "",
            "Same initial weights and data in every implementation; the first implementation is "
            "the reference for the relative differences.", ""]
    rows = []
    for check, result in checks.items():
        values = "; ".join(f"{name}: " + ", ".join(f"{v:.6g}" for v in vals[:3])
                           for name, vals in result["values"].items())
        rows.append([check, "ok" if result["ok"] else "**MISMATCH**", f"{result['rtol']:g}", result["detail"], values])
    out.append(_table(["check", "result", "rtol", "worst", "values"], rows))

    for threads, results in results_by_threads.items():
        out += ["", f"## {threads} thread{'s' if threads > 1 else ''}", ""]
        counts = ", ".join(f"{pool} = {n}" for pool, n in results["threads_in_effect"].items())
        out.append(f"Threads in effect while timing: {counts}.")
        block = config.block(threads)
        if block > 1:
            out += ["", f"Train steps are interleaved in turns of {block} consecutive timed steps, each "
                    "turn after one untimed step: on 2 cores, the first step after another library "
                    "has run finds this library's worker threads parked and pays 2-10x a warm step "
                    "to wake them, a cost a training loop pays once, not per step."]
        out += ["", f"### MLP 784-256-128-10 train step, batch {config.mlp_batch}", "",
                _step_table(results["mlp"], names), "", _load_note(results["mlp"])]
        out += ["", f"### Small CNN train step, batch {config.cnn_batch}", "",
                "conv 3x3 1->8 pad 1, ReLU, max-pool 2, conv 3x3 8->16 pad 1, ReLU, max-pool 2, "
                "flatten, linear 784->10, cross-entropy, SGD.", "",
                _step_table(results["cnn"], names), "", _load_note(results["cnn"])]
        for workload, title, description in BIG_WORKLOADS:
            if results.get(workload):
                out += ["", f"### {title}, batch {config.batch(workload)}", "", description, "",
                        _step_table(results[workload], names), "", _load_note(results[workload])]
        out += ["", "### MLP train step across batch sizes", "", _sweep_table(results["sweep"], names)]
        n = config.overhead_chain
        out += ["", f"### Per-op overhead: {n:,} chained tiny ops on a 4-element tensor", "",
                "x*1.0001, x+0.001, tanh(x), repeated; backward is d sum / d x.", "",
                _chain_table(results["overhead"], names, n), "", _load_note(results["overhead"])]
        out += ["", "### Deep chains (time should grow linearly in the number of ops)", "",
                _deep_chain_table(results["chains"], names), "",
                _linearity_note(results["chains"], names)]
        out += ["", f"### Peak memory of one MLP train step, batch {config.memory_batch}", "",
                "Increase over the resting state (model, data and, where kept, gradients of the "
                "previous step). tracemalloc sees NumPy's buffers but not torch's; the RSS "
                "high-water mark is taken in a fresh subprocess per implementation, after two "
                "warm-up steps, `malloc_trim` and a reset of the kernel's peak counter.", "",
                _memory_table(results["memory"], names)]
    out.append("")
    return "\n".join(out)


# -- plot -----------------------------------------------------------------------------------------

def plot_batch_sweep(results_by_threads, path):
    """Time per step and per sample against batch size, one line per implementation and thread count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_step, ax_sample) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = ["-", "--", ":", "-."]
    colours = {"numpy": "tab:blue", "torch": "tab:orange", "ndgrad": "tab:green"}
    for style, (threads, results) in zip(styles, results_by_threads.items()):
        sweep = results["sweep"]
        batches = list(sweep)
        names = list(next(iter(sweep.values())))
        for name in names:
            medians = [_median(sweep[b][name], "step") for b in batches]
            points = [(b, m) for b, m in zip(batches, medians) if m is not None]
            if not points:
                continue
            xs, ys = np.array(points, dtype=float).T
            label = f"{name}, {threads} thread{'s' if threads > 1 else ''}"
            ax_step.plot(xs, ys * 1e3, style, marker="o", color=colours.get(name), label=label)
            ax_sample.plot(xs, ys / xs * 1e6, style, marker="o", color=colours.get(name), label=label)
    for ax, ylabel in ((ax_step, "ms per step"), (ax_sample, "us per sample")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_step.set_title("MLP 784-256-128-10 train step")
    ax_sample.set_title("cost per sample")
    ax_sample.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
