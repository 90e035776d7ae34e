"""Repeated, interleaved train-step ratios, for judging a change on a noisy machine.

    python -m benchmarks.ratios [--workload mlp cifar_cnn gpt] [--threads 1 2] [--rounds 5] [--reps 20]

Each round builds every implementation's step afresh and times them interleaved, as
`python -m benchmarks` does (suites.run_train_step); the ratio of each implementation's median to
the reference's (numpy where it has the workload, else torch) is printed per round, then the
median over rounds. Nothing is written: RESULTS.md comes from `python -m benchmarks`.
"""
import argparse
import dataclasses
import statistics
import sys

from . import harness, suites


def measure(implementations, config, workload, threads, rounds, print_round=print):
    """{name: [ratio to the reference, per round]} and the reference's name."""
    present = suites.providing(implementations, f"{workload}_step")
    reference = "numpy" if "numpy" in present else next(iter(present))
    ratios = {name: [] for name in present if name != reference}
    for round_index in range(rounds):
        results = suites.run_train_step(present, config, workload, config.batch(workload), threads)
        medians = {name: results[name]["step"].median for name in present}
        for name in ratios:
            ratios[name].append(medians[name] / medians[reference])
        load = next(iter(results.values()))["step"].other_load
        print_round(f"{workload} threads={threads} round {round_index + 1}: "
                    + ", ".join(f"{name} {seconds * 1e3:.3g} ms" for name, seconds in medians.items())
                    + "; " + ", ".join(f"{name}/{reference} {r[-1]:.2f}" for name, r in ratios.items())
                    + ("" if load is None else f"; other load {load:.2f} cores"))
    return ratios, reference


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ratios", description=__doc__.split("\n")[0])
    parser.add_argument("--workload", nargs="+", default=["mlp", "cifar_cnn", "gpt"], choices=harness.TRAIN_WORKLOADS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20, help="timed steps per implementation per round, at least "
                        "(fast steps get as many as fill suites.Config.step_seconds)")
    parser.add_argument("--impl", nargs="+", choices=list(harness.IMPLEMENTATIONS))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    implementations, skipped = harness.load_implementations(args.impl)
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    config = dataclasses.replace(suites.FULL, reps=args.reps)
    summary = []
    for threads in args.threads:
        with harness.pinned_threads(threads, implementations):
            for workload in args.workload:
                ratios, reference = measure(implementations, config, workload, threads, args.rounds)
                for name, values in ratios.items():
                    summary.append(f"{workload}, {threads} thread{'s' if threads > 1 else ''}: {name}/{reference} "
                                   f"median {statistics.median(values):.2f} over {len(values)} rounds "
                                   f"(min {min(values):.2f}, max {max(values):.2f})")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
