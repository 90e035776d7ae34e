"""One implementation's train-step time in a process of its own, for an A/B between two trees.

    python -m benchmarks.step_time --workload gpt [--impl ndgrad] [--threads 1] [--steps 15]

`python -m benchmarks` times every implementation interleaved in one process, which is fair
between them but not what a user's process looks like: there, the other libraries' earlier
allocations have already moved glibc's malloc thresholds, which hid the page faults that a
process of ndgrad alone took every step. Run this from each tree's directory (it imports the
tree it is run from) and compare the medians.
"""
import argparse
import statistics
import sys
import time

from . import harness


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_time", description=__doc__.split("\n")[0])
    parser.add_argument("--workload", default="gpt", choices=harness.TRAIN_WORKLOADS)
    parser.add_argument("--impl", default="ndgrad", choices=list(harness.IMPLEMENTATIONS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, help="default: the workload's benchmark batch")
    parser.add_argument("--steps", type=int, default=15, help="timed steps, after 3 untimed ones")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    implementations, skipped = harness.load_implementations([args.impl])
    if args.impl in skipped:
        parser.error(f"{args.impl} is not available: {skipped[args.impl]}")
    from . import suites
    batch = args.batch or suites.FULL.batch(args.workload)
    with harness.pinned_threads(args.threads, implementations):
        step = harness.build_step(implementations[args.impl], args.workload, batch)
        for _ in range(3):
            step()
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    quartiles = statistics.quantiles(times, n=4)
    print(f"{args.impl} {args.workload} batch {batch}, {args.threads} thread(s): median {statistics.median(times) * 1e3:.3g} ms "
          f"(IQR {quartiles[0] * 1e3:.3g}-{quartiles[2] * 1e3:.3g}) over {args.steps} steps")


if __name__ == "__main__":
    main()
