"""`python -m benchmarks`: time ndgrad against hand-written NumPy and PyTorch, side by side.

    python -m benchmarks                   # full run at 1 and 2 threads -> benchmarks/RESULTS.md, batch_sweep.png
    python -m benchmarks --quick           # tiny sizes, a smoke run; prints, writes nothing unless --out
    python -m benchmarks --threads 1 --impl numpy torch

If OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on this machine, benchmark with both unset
together (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks`) and check the
kernel threadpoolctl reports in RESULTS.md; never change them in tests or CI.
"""
import argparse
import dataclasses
import sys
from pathlib import Path

from . import harness, report, suites

HERE = Path(__file__).resolve().parent


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few runs (a smoke run)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to run, each pinned for BLAS, OpenMP and torch (default: 1 2)")
    parser.add_argument("--impl", nargs="+", choices=list(harness.IMPLEMENTATIONS),
                        help="implementations to compare (default: all that import)")
    parser.add_argument("--reps", type=int, help="timed rounds per measurement (default 30; 3 with --quick)")
    parser.add_argument("--out", type=Path, help="markdown report path (default benchmarks/RESULTS.md; none with --quick)")
    parser.add_argument("--plot", type=Path, help="batch-sweep plot path (default next to the report)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = suites.QUICK if args.quick else suites.FULL
    if args.reps:
        config = dataclasses.replace(config, reps=args.reps)
    out = args.out if args.out or args.quick else HERE / "RESULTS.md"
    plot = args.plot or (out.with_name("batch_sweep.png") if out else None)

    implementations, skipped = harness.load_implementations(args.impl)
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    if not implementations:
        raise SystemExit("no implementation could be imported")
    if harness.threadpoolctl is None:
        print("warning: threadpoolctl is not installed, NumPy's BLAS threads are not pinned "
              "(pip install threadpoolctl)", file=sys.stderr)
    env = report.describe_environment(implementations, skipped)

    with harness.pinned_threads(args.threads[0], implementations):
        checks = suites.check_agreement(implementations, config)
    for check, result in checks.items():
        print(f"check {check}: {'ok' if result['ok'] else 'MISMATCH'} ({result['detail']})")

    results_by_threads = {}
    for threads in args.threads:
        with harness.pinned_threads(threads, implementations):
            results = {"threads_in_effect": harness.threads_in_effect(implementations)}
            results.update(suites.run_all(implementations, config, threads,
                                          progress=lambda msg: print(msg, file=sys.stderr, flush=True)))
        results_by_threads[threads] = results

    text = report.render(env, checks, results_by_threads, config)
    print(text)
    if out:
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    if plot:
        report.plot_batch_sweep(results_by_threads, plot)
        print(f"wrote {plot}", file=sys.stderr)
    if not all(result["ok"] for result in checks.values()):
        print("error: the implementations disagree (see the agreement check)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
