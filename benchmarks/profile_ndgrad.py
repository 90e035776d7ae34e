"""Where ndgrad's time goes: cProfile of the MLP step, the CNN step and the tiny-op chain.

    python -m benchmarks.profile_ndgrad [--steps 30] [--top 15] [--threads 1]

For each workload: time per step with and without the profiler, the functions with the most
time of their own (`tottime`; NumPy ufuncs such as `np.matmul` are not separate entries, their
time shows in the Python function that called them), and the same time summed per source file,
which splits engine bookkeeping from op kernels. Compare with the NumPy reference's time per step
in RESULTS.md: the difference is what ndgrad adds.
"""
import argparse
import cProfile
import collections
import pstats
import sys
import time
from pathlib import Path

from . import harness, workloads

REPO_ROOT = harness.REPO_ROOT


def _short(path):
    path = Path(path)
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        pass
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    return path.name if path.name else str(path)


def _workloads(module, chain_ops):
    mlp = harness.build_step(module, "mlp", workloads.MLP_BATCH)
    yield f"MLP train step, batch {workloads.MLP_BATCH}", mlp
    if getattr(module, "cnn_step", None) is not None:
        yield f"CNN train step, batch {workloads.CNN_BATCH}", harness.build_step(module, "cnn", workloads.CNN_BATCH)
    forward = module.chain(chain_ops, workloads.chain_input())
    yield f"tiny-op chain, {chain_ops} ops, forward + backward", lambda: forward()()


def profile(step, steps):
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    plain = (time.perf_counter() - start) / steps
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    return plain, pstats.Stats(profiler)


def report(title, plain, stats, steps, top):
    entries = stats.stats          # {(file, line, func): (primitive calls, calls, tottime, cumtime, callers)}
    total = sum(tt for _, _, tt, _, _ in entries.values())
    lines = [f"## {title}", "",
             f"{plain * 1e3:.3f} ms per step unprofiled; {total / steps * 1e3:.3f} ms per step under cProfile.", "",
             f"Top {top} by own time (per step):", "",
             "| own ms | % | calls | cumulative ms | function |", "|---|---|---|---|---|"]
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (path, line, func), (_, calls, tt, ct, _) in ranked:
        where = f"{_short(path)}:{line} {func}" if line else func
        lines.append(f"| {tt / steps * 1e3:.3f} | {100 * tt / total:.1f} | {calls / steps:g} | "
                     f"{ct / steps * 1e3:.3f} | `{where}` |")
    by_file = collections.Counter()
    for (path, _, _), (_, _, tt, _, _) in entries.items():
        by_file[_short(path) if path != "~" else "(builtins: numpy methods, C functions)"] += tt
    lines += ["", "Own time by file:", "", "| own ms | % | file |", "|---|---|---|"]
    for path, tt in by_file.most_common(top):
        lines.append(f"| {tt / steps * 1e3:.3f} | {100 * tt / total:.1f} | `{path}` |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_ndgrad", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chain-ops", type=int, default=workloads.OVERHEAD_CHAIN)
    parser.add_argument("--impl", default="ndgrad", choices=list(harness.IMPLEMENTATIONS))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    implementations, skipped = harness.load_implementations([args.impl])
    if skipped:
        raise SystemExit(skipped[args.impl])
    module = implementations[args.impl]
    sections = [f"# cProfile of {module.version()}, {args.threads} thread(s), {args.steps} steps each"]
    with harness.pinned_threads(args.threads, implementations):
        for title, step in _workloads(module, args.chain_ops):
            plain, stats = profile(step, args.steps)
            sections.append(report(title, plain, stats, args.steps, args.top))
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
