"""`python -m benchmarks.gru_char_rnn`: a char-RNN-sized GRU, forward + backward, ndgrad against PyTorch.

batch 32, sequence 64, input 64, hidden 256, one layer, float32; both libraries in one process
with one thread each (torch.set_num_threads(1), BLAS pinned by threadpoolctl), runs interleaved,
the median of each reported with their ratio. Both start from the same weights and input, and
the script checks that they agree before timing.
"""
import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import autograd as ag
import nn


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--reps", type=int, default=15)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    theirs = torch.nn.GRU(args.input, args.hidden)
    mine = nn.GRU(args.input, args.hidden)
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((args.seq, args.batch, args.input)).astype(np.float32)

    def step_torch():
        xt = torch.from_numpy(x).requires_grad_()
        out, h = theirs(xt)
        (out.sum() + h.sum()).backward()
        return xt.grad.numpy()

    def step_ndgrad():
        xa = ag.tensor(x, requires_grad=True)
        out, h = mine(xa)
        (out.sum() + h.sum()).backward()
        return xa.grad.numpy()

    with threadpool_limits(1):
        np.testing.assert_allclose(step_ndgrad(), step_torch(), rtol=1e-3, atol=1e-4)
        times = {"ndgrad": [], "torch": []}
        for _ in range(args.reps):
            for name, step in (("ndgrad", step_ndgrad), ("torch", step_torch)):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"GRU batch {args.batch}, seq {args.seq}, input {args.input}, hidden {args.hidden}, float32, 1 thread, "
          f"forward + backward, median of {args.reps}:")
    for name, value in medians.items():
        print(f"  {name:7s} {value * 1e3:7.1f} ms")
    print(f"  ndgrad / PyTorch: {medians['ndgrad'] / medians['torch']:.2f}x")


if __name__ == "__main__":
    main()
