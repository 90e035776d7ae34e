"""Fast against full gradcheck on an op with 10,200 inputs: `python -m benchmarks.gradcheck_modes`.

The op is tanh(x @ w) with x of shape (100, 100) and w of shape (100, 2), in float64: 10,200
input elements, 200 output elements. Full (slow) mode evaluates the op twice per input element and
runs one backward per output element; fast mode evaluates it twice per input tensor and runs one
backward per output tensor. Prints the median of several runs of each, and their ratio.
"""
import argparse
import statistics
import time

import numpy as np

import autograd as ag


def time_gradcheck(fast_mode, runs):
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((100, 100)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((100, 2)) / 10, requires_grad=True)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        assert ag.gradcheck(lambda x, w: (x @ w).tanh(), [x, w], fast_mode=fast_mode)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gradcheck_modes", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each mode (default 5)")
    args = parser.parse_args(argv)
    full = time_gradcheck(False, args.runs)
    fast = time_gradcheck(True, args.runs)
    print(f"gradcheck on tanh(x @ w), 10,200 inputs, 200 outputs, median of {args.runs} runs:")
    print(f"  full (fast_mode=False): {full * 1e3:9.1f} ms")
    print(f"  fast (fast_mode=True):  {fast * 1e3:9.2f} ms")
    print(f"  fast is {full / fast:,.0f}x cheaper")


if __name__ == "__main__":
    main()
