"""`python -m benchmarks.layers`: forward + backward of common layers, ndgrad against PyTorch.

Each case builds the same layer in both libraries (PyTorch's weights copied into ndgrad's), checks
that outputs and input gradients agree, then times `layer(x)` followed by a backward of a fixed
random weighting of the output, interleaved by the harness (ndgrad, torch, torch, ndgrad, ...), one thread each
(torch.set_num_threads(1), BLAS pinned by threadpoolctl). Prints the medians and their ratio per
layer: a survey for finding the layer that is far slower than PyTorch's, not a pass/fail.

    python -m benchmarks.layers [--reps 9] [--only substring ...]
"""
import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import autograd as ag
import nn

from . import harness

# (name, input shape, builder taking `nn` (ndgrad's or torch's) and returning the layer, call)
CASES = [
    ("Linear 512 -> 512, batch 256", (256, 512), lambda m: m.Linear(512, 512), None),
    ("Linear on (8, 64, 128) -> 384", (8, 64, 128), lambda m: m.Linear(128, 384), None),
    ("Conv2d 64 -> 64 k3 p1, (32, 64, 32, 32)", (32, 64, 32, 32), lambda m: m.Conv2d(64, 64, 3, padding=1), None),
    ("Conv2d 64 -> 64 k3 s2 p1, (32, 64, 32, 32)", (32, 64, 32, 32),
     lambda m: m.Conv2d(64, 64, 3, stride=2, padding=1), None),
    ("Conv2d depthwise 64 k3 p1, (32, 64, 32, 32)", (32, 64, 32, 32),
     lambda m: m.Conv2d(64, 64, 3, padding=1, groups=64), None),
    ("Conv1d 64 -> 64 k3 p1, (32, 64, 256)", (32, 64, 256), lambda m: m.Conv1d(64, 64, 3, padding=1), None),
    ("ConvTranspose2d 32 -> 16 k4 s2 p1, (16, 32, 16, 16)", (16, 32, 16, 16),
     lambda m: m.ConvTranspose2d(32, 16, 4, 2, 1), None),
    ("Upsample nearest x2, (16, 32, 32, 32)", (16, 32, 32, 32), lambda m: m.Upsample(scale_factor=2), None),
    ("Upsample bilinear x2, (16, 32, 32, 32)", (16, 32, 32, 32),
     lambda m: m.Upsample(scale_factor=2, mode="bilinear", align_corners=False), None),
    ("MaxPool2d 3 s2 p1, (32, 64, 32, 32)", (32, 64, 32, 32), lambda m: m.MaxPool2d(3, 2, 1), None),
    ("AvgPool2d 2, (32, 64, 32, 32)", (32, 64, 32, 32), lambda m: m.AvgPool2d(2), None),
    ("AdaptiveAvgPool2d 1, (32, 256, 8, 8)", (32, 256, 8, 8), lambda m: m.AdaptiveAvgPool2d(1), None),
    ("BatchNorm2d 64, (32, 64, 32, 32)", (32, 64, 32, 32), lambda m: m.BatchNorm2d(64), None),
    ("LayerNorm 512, (64, 128, 512)", (64, 128, 512), lambda m: m.LayerNorm(512), None),
    ("GroupNorm 8 / 64, (32, 64, 32, 32)", (32, 64, 32, 32), lambda m: m.GroupNorm(8, 64), None),
    ("ReLU, (256, 4096)", (256, 4096), lambda m: m.ReLU(), None),
    ("GELU, (256, 1024)", (256, 1024), lambda m: m.GELU(), None),
    ("Softmax(-1), (64, 128, 128)", (64, 128, 128), lambda m: m.Softmax(-1), None),
    ("Dropout 0.1 (eval), (256, 1024)", (256, 1024), lambda m: m.Dropout(0.1).eval(), None),
    ("Embedding 10000 x 256, (32, 128) tokens", (32, 128), lambda m: m.Embedding(10000, 256), "tokens"),
    ("LSTM 2 x 256, (35, 20, 128)", (35, 20, 128), lambda m: m.LSTM(128, 256, 2), "first"),
    ("GRU 2 x 256, (35, 20, 128)", (35, 20, 128), lambda m: m.GRU(128, 256, 2), "first"),
    ("MultiheadAttention 128 / 4, (64, 16, 128)", (64, 16, 128), lambda m: m.MultiheadAttention(128, 4), "attention"),
    ("TransformerEncoderLayer 128 / 4, (16, 64, 128)", (16, 64, 128),
     lambda m: m.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True), None),
]


def _call(layer, x, kind):
    if kind == "attention":
        return layer(x, x, x)[0]
    out = layer(x)
    return out[0] if kind == "first" else out


def _runner(library, layer, x, kind, weighting):
    """A closure running forward and backward; returns (output, input gradient or None) as arrays."""
    def run():
        inputs = library.tensor(x, requires_grad=kind != "tokens")
        out = _call(layer, inputs, kind)
        (out * library.tensor(weighting)).sum().backward()
        grad = None if inputs.grad is None else inputs.grad.detach().numpy()
        return out.detach().numpy(), grad
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=9, help="timed runs per library per layer")
    parser.add_argument("--only", nargs="+", help="only the layers whose name contains one of these")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"Forward + backward, 1 thread, median of {args.reps} interleaved runs each.\n")
    print(f"| layer | torch ms | ndgrad ms | ndgrad / torch |\n|---|---|---|---|")
    with threadpool_limits(1):
        for name, shape, build, kind in CASES:
            if args.only and not any(part.lower() in name.lower() for part in args.only):
                continue
            torch.manual_seed(0)
            theirs, mine = build(torch.nn), build(nn)
            mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
            x = rng.integers(0, 10000, shape) if kind == "tokens" else rng.standard_normal(shape).astype(np.float32)
            out_shape = _call(theirs, torch.tensor(x), kind).shape
            weighting = rng.standard_normal(tuple(out_shape)).astype(np.float32)
            run_torch = _runner(torch, theirs, x, kind, weighting)
            run_mine = _runner(ag, mine, x, kind, weighting)
            for ours, reference in zip(run_mine(), run_torch()):
                if reference is not None:
                    np.testing.assert_allclose(ours, reference, rtol=2e-3, atol=2e-4, err_msg=name)
            timings = harness.interleave({"ndgrad": run_mine, "torch": run_torch}, args.reps)
            torch_ms, ndgrad_ms = (timings[k]["step"].median * 1e3 for k in ("torch", "ndgrad"))
            print(f"| {name} | {torch_ms:.2f} | {ndgrad_ms:.2f} | {ndgrad_ms / torch_ms:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
