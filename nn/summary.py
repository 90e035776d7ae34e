"""nn.summary: a table of a model's layers, their output shapes and parameter counts.

The model is run once on zeros of `input_shape` (the whole input, batch dim included), in eval
mode and without gradients, so neither running statistics nor training flags change.
"""
import sys

import numpy as np

import autograd as ag
from autograd import Tensor


class ModelSummary(str):
    """The table `summary` returns: a `str` whose repr is the table itself, so that Jupyter, which
    displays the value of a cell's last line, shows it once and readable (not as an escaped string)."""

    def __repr__(self):
        return str(self)


def _displayed_by_jupyter():
    """True inside a Jupyter (or other IPython) session, which displays the returned summary itself."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None


def _shape_of(output):
    if isinstance(output, Tensor):
        return str(list(output.shape))
    if isinstance(output, (tuple, list)):
        return ", ".join(_shape_of(o) for o in output)
    return type(output).__name__


def summary(model, input_shape, dtype=None, print_fn="auto") -> ModelSummary:
    """Print and return a table of every leaf layer (and any module with parameters of its own):
    name, type, output shape, number of parameters; then totals (trainable / non-trainable).

    Arguments:
        model: the `nn.Module` to describe; it is run once on zeros, in eval mode, without grad.
        input_shape: the shape of the input the model is called with, batch dim included (a tuple
            of shapes for a model taking several inputs).
        dtype: the input's dtype; default: the dtype of the model's first floating parameter.
        print_fn: called with the table; "auto" (the default) is `print`, except in Jupyter or
            IPython, which display the returned table themselves (printing too would show it
            twice); None prints nothing.

    Returns the table as a `ModelSummary` (a str). Not in PyTorch itself; the torchinfo package's
    `summary(model, input_size)` is the nearest equivalent.
    """
    if print_fn == "auto":
        print_fn = None if _displayed_by_jupyter() else print
    if dtype is None:
        first = next(iter(model.parameters()), None)
        dtype = first.dtype if first is not None and first.dtype.kind == "f" else np.float32
    shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) else [input_shape]
    inputs = [ag.zeros(tuple(shape), dtype=dtype) for shape in shapes]

    rows, handles = [], []
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if next(module.children(), None) is not None and not own:
            continue  # a container: its layers have rows of their own

        def hook(mod, args, output, name=name, own=own):
            rows.append((name or "(model)", type(mod).__name__, _shape_of(output), sum(p.numel() for p in own)))
        handles.append(module.register_forward_hook(hook))

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with ag.no_grad():
            output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            object.__setattr__(module, "training", mode)

    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    header = ("Layer (type)", "Output Shape", "Param #")
    cells = [(f"{name} ({kind})", shape, f"{count:,}") for name, kind, shape, count in rows]
    widths = [max([len(header[i])] + [len(c[i]) for c in cells]) for i in range(3)]
    rule = "-" * (sum(widths) + 6)

    def line(cell):
        return f"{cell[0]:<{widths[0]}}   {cell[1]:>{widths[1]}}   {cell[2]:>{widths[2]}}"
    lines = [rule, line(header), "=" * len(rule)] + [line(c) for c in cells] + [
        "=" * len(rule),
        f"Input shape: {', '.join(str(list(s)) for s in shapes)}",
        f"Output shape: {_shape_of(output)}",
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        rule,
    ]
    text = ModelSummary("\n".join(lines))
    if print_fn is not None:
        print_fn(text)
    return text
