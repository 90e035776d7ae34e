"""Where ndgrad's time goes in each train step and in the tiny-op chain.

    python -m benchmarks.profile_ndgrad [--steps 30] [--top 15] [--threads 1] [--mode ops cprofile]
                                        [--workload mlp cnn cifar_cnn gpt chain] [--batch N]

`--mode ops` (the default; see op_profile.py): each train step split into forward, backward and
optimizer, and the ops that take the most time, forward and backward side by side.

`--mode cprofile`: for each workload, time per step with and without the profiler, the functions with the most
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

from . import harness, op_profile, suites, workloads

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


TITLES = {"mlp": "MLP train step", "cnn": "Small CNN train step", "cifar_cnn": "CIFAR-size CNN train step",
          "gpt": "Small GPT train step"}


def _workloads(module, names, chain_ops, batch=None):
    config = suites.FULL
    for name in names:
        if name == "chain":
            forward = module.chain(chain_ops, workloads.chain_input())
            yield name, f"tiny-op chain, {chain_ops} ops, forward + backward", lambda: forward()()
        elif getattr(module, f"{name}_step", None) is not None:
            size = batch or config.batch(name)
            yield name, f"{TITLES[name]}, batch {size}", harness.build_step(module, name, size)


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
    parser.add_argument("--mode", nargs="+", default=["ops"], choices=["ops", "cprofile"],
                        help="ops: phases and ops of ndgrad's train steps; cprofile: functions and files")
    parser.add_argument("--workload", nargs="+", default=list(harness.TRAIN_WORKLOADS) + ["chain"],
                        choices=list(harness.TRAIN_WORKLOADS) + ["chain"])
    parser.add_argument("--batch", type=int, help="batch size of every train step (default: the benchmark's)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    implementations, skipped = harness.load_implementations([args.impl])
    if skipped:
        raise SystemExit(skipped[args.impl])
    module = implementations[args.impl]
    if "ops" in args.mode and args.impl != "ndgrad":
        raise SystemExit("--mode ops times ndgrad's own ops; use --mode cprofile for another implementation")
    sections = [f"# Profile of {module.version()}, {args.threads} thread(s), {args.steps} steps each"]
    with harness.pinned_threads(args.threads, implementations):
        for name, title, step in _workloads(module, args.workload, args.chain_ops, args.batch):
            if "ops" in args.mode and name != "chain":
                timer = op_profile.profile_ops(step, args.steps)
                sections.append(op_profile.report(f"{title}: by phase and op", timer, args.steps, args.top))
            if "cprofile" in args.mode:
                plain, stats = profile(step, args.steps)
                sections.append(report(f"{title}: cProfile", plain, stats, args.steps, args.top))
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
