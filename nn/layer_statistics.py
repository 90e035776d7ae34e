"""Per-layer statistics of activations and gradients, collected by hooks, and the gradient-flow plot.

    stats = nn.LayerStatistics(model)        # hooks on every layer (modules without children)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    print(stats)                             # one line per layer: activations, then gradients
    stats.plot_gradient_flow()               # mean and max |grad| of each weight, log scale
    stats.remove()                           # or use it as a context manager

For each layer, after a forward and a backward pass:

- `stats.activations[name]`: statistics of the layer's output;
- `stats.gradients[name]`: statistics of the gradient of the loss with respect to that output
  (the gradient flowing back into the layer);
- `stats.parameter_gradients()`: statistics of each parameter's `.grad`.

Each is a `TensorStatistics`: mean, std, mean |x|, max |x|, the fraction of exact zeros (dead
ReLUs), and NaN and Inf counts. Activations come from a forward hook, gradients from a tensor hook
on the layer's output, so nothing is copied and the model runs as it would. The numbers are plain
floats in dicts keyed by the module names of `model.named_modules()`, ready for other tools
(`as_dict()`): `draw_graph` colours nodes by gradient norm, and these are the same kind of numbers
per layer.
"""
import math
from collections import namedtuple

import numpy as np

import autograd as ag

from .files import atomic_write

STATISTICS_BATCH_SIZE = 256  # images `ndgrad train --layer-stats` measures on


class TensorStatistics(namedtuple("TensorStatistics", "mean std abs_mean abs_max zero_fraction nan_count inf_count numel")):
    """Summary statistics of one tensor (mean and std over every element, NaN if any is NaN)."""
    __slots__ = ()

    def format(self):
        """One line: mean, std, max |x|, the fraction of zeros, and NaN/Inf counts when there are any."""
        flags = "".join([f"  NaN {self.nan_count}" if self.nan_count else "",
                         f"  Inf {self.inf_count}" if self.inf_count else ""])
        return (f"mean {self.mean:+.3e}  std {self.std:.3e}  max|x| {self.abs_max:.3e}  "
                f"zeros {self.zero_fraction:6.1%}{flags}")


def tensor_statistics(t):
    """TensorStatistics of a Tensor or array, computed in float64."""
    values = np.asarray(t, dtype=np.float64).ravel()
    if values.size == 0:
        return TensorStatistics(math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0, 0)
    finite = np.isfinite(values)
    magnitude = np.abs(values)
    return TensorStatistics(
        mean=float(values.mean()), std=float(values.std()), abs_mean=float(magnitude.mean()),
        abs_max=float(magnitude.max()), zero_fraction=float(np.count_nonzero(values == 0) / values.size),
        nan_count=int(np.isnan(values).sum()), inf_count=int((~finite & ~np.isnan(values)).sum()),
        numel=int(values.size))


class LayerStatistics:
    """Collects activation and gradient statistics of a model's layers (see the module docstring).

    `layers`: names (from `model.named_modules()`) of the modules to watch; default every module
    without children. `keep_history`: also append each step's numbers to `history`, one dict per
    backward pass, {layer: {"activation": TensorStatistics, "gradient": TensorStatistics}}.
    """

    def __init__(self, model, layers=None, keep_history=False):
        modules = dict(model.named_modules())
        if layers is None:
            layers = [name for name, m in modules.items() if not any(True for _ in m.children()) and name]
        missing = [name for name in layers if name not in modules]
        if missing:
            raise ValueError(f"LayerStatistics: {type(model).__name__} has no submodule named {', '.join(missing)}")
        self.model, self.layers = model, list(layers)
        self.activations, self.gradients, self.history = {}, {}, [] if keep_history else None
        self._earliest = None  # the first layer of this forward whose output needs a gradient
        self._handles = [modules[name].register_forward_hook(self._forward_hook(name)) for name in self.layers]

    def _forward_hook(self, name):
        def hook(module, args, output):
            if not isinstance(output, ag.Tensor):
                return None
            self.activations[name] = tensor_statistics(output)
            if output.requires_grad:
                if self._earliest is None:
                    self._earliest = name
                output.register_hook(self._gradient_hook(name))
            return None
        return hook

    def _gradient_hook(self, name):
        def hook(grad):
            self.gradients[name] = tensor_statistics(grad)
            # The earliest layer's gradient arrives last: a backward pass through the model is complete.
            if name == self._earliest:
                self._earliest = None
                if self.history is not None:
                    self.history.append(self.as_dict())
        return hook

    def parameter_gradients(self):
        """{parameter name: TensorStatistics of its .grad} for the watched layers' parameters that have one."""
        found = {}
        for layer in self.layers:
            module = self.model.get_submodule(layer)
            for name, p in module.named_parameters(prefix=layer):
                if p.grad is not None:
                    found[name] = tensor_statistics(p.grad)
        return found

    def as_dict(self):
        """{layer name: {'activation': TensorStatistics or None, 'gradient': TensorStatistics or None}} for
        every watched layer."""
        return {name: {"activation": self.activations.get(name), "gradient": self.gradients.get(name)}
                for name in self.layers}

    def remove(self):
        """Remove the hooks from the model (also done on leaving a `with` block)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __str__(self):
        width = max([len(name) for name in self.layers] + [5])
        lines = []
        for name in self.layers:
            kind = type(self.model.get_submodule(name)).__name__
            for what, table in (("activation", self.activations), ("gradient", self.gradients)):
                numbers = table.get(name)
                lines.append(f"{name:<{width}}  {kind:<12} {what:<10}  "
                             + (numbers.format() if numbers is not None else "(not recorded yet)"))
        return "\n".join(lines)

    __repr__ = __str__

    def plot_gradient_flow(self, ax=None):
        """The gradient-flow picture: for each weight of the watched layers, in order, bars of the
        mean and the max |grad| on a log scale; layers whose gradient has NaN or Inf are marked red.
        Draws on `ax` if given, else on a new matplotlib Figure, which it returns."""
        from matplotlib.figure import Figure
        figure = None
        if ax is None:
            figure = Figure(figsize=(max(4.0, 0.5 * len(self.layers) + 2), 3.5))
            ax = figure.subplots()
        grads = {name: s for name, s in self.parameter_gradients().items() if not name.endswith("bias")}
        if not grads:
            raise RuntimeError("plot_gradient_flow: no parameter of the watched layers has a .grad yet; run backward first")
        names = list(grads)
        positions = np.arange(len(names))
        tiny = np.finfo(np.float64).tiny  # a zero gradient still shows, at the bottom of the log axis
        ax.bar(positions, [max(grads[n].abs_max, tiny) for n in names], color="lightsteelblue", label="max |grad|")
        ax.bar(positions, [max(grads[n].abs_mean, tiny) for n in names], color="navy", width=0.5, label="mean |grad|")
        for k, n in enumerate(names):
            if grads[n].nan_count or grads[n].inf_count:
                ax.axvspan(k - 0.5, k + 0.5, color="red", alpha=0.3)
        ax.set_yscale("log")
        ax.set_xticks(positions)
        ax.set_xticklabels(names, rotation=45, ha="right")
        ax.set_ylabel("|gradient|")
        ax.set_title("gradient flow (input side on the left)")
        ax.legend()
        if figure is not None:
            figure.tight_layout()
        return figure if figure is not None else ax


def write_layer_statistics(model, loss_fn, inputs, target, out_dir):
    """One forward and backward of `loss_fn(model(inputs), target)` with LayerStatistics; writes
    `layer_stats.txt` and `gradient_flow.png` to out_dir and returns their paths. The model's state
    (batchnorm running statistics) and its parameters' .grad are left as they were."""
    from pathlib import Path
    out_dir = Path(out_dir)
    snapshot = {name: t.numpy().copy() for name, t in model.state_dict().items()}
    grads = {id(p): p.grad for p in model.parameters()}
    try:
        for p in model.parameters():
            p.grad = None
        with LayerStatistics(model) as stats:
            loss_fn(model(ag.as_tensor(inputs)), ag.as_tensor(target)).backward()
        text_path, plot_path = out_dir / "layer_stats.txt", out_dir / "gradient_flow.png"
        # Through nn.files.atomic_write, as every other output of `ndgrad train`.
        with atomic_write(text_path, "layer statistics") as f:
            f.write((str(stats) + "\n").encode("utf-8"))
        with atomic_write(plot_path, "layer statistics") as f:
            stats.plot_gradient_flow().savefig(f, dpi=100, format="png")
    finally:
        model.load_state_dict(snapshot)
        for p in model.parameters():
            p.grad = grads[id(p)]
    return text_path, plot_path
