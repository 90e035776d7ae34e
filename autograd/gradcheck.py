"""gradcheck / gradgradcheck: analytical gradients against central finite differences in float64.

Finite differences in float32 are too coarse to tell a wrong gradient from rounding. PyTorch warns
about a float32 (or float16) input and checks in that precision, which then often fails on a
correct op; we warn too, naming the input and its dtype, but check on float64 copies of the
inputs, so the function sees float64 tensors and the verdict is about the gradient, not rounding.
The caller's tensors are never modified.
"""
import warnings
from typing import Callable, Sequence

import numpy as np

from . import engine
from .errors import GradcheckError
from .grad_mode import enable_grad
from .tensor import Tensor


def _outputs(fn, inputs):
    with enable_grad():
        out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _check_inputs(op, inputs):
    """The inputs as a tuple, every floating tensor replaced by a contiguous float64 copy (a new leaf
    with the same requires_grad: finite differences perturb it in place, and the caller's tensor must
    stay as it was), with a warning for each narrower one that requires grad."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError(f"{op}: no input requires grad, so there is nothing to check")
    checked = []
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.dtype.kind == "f":
            if t.requires_grad and t.dtype != np.float64:
                warnings.warn(
                    f"{op}: input {i} requires grad and is {t.dtype}, not float64; finite differences in "
                    f"{t.dtype} cannot tell a wrong gradient from rounding, so the check runs on float64 "
                    "copies of the inputs (the function sees float64 tensors). Pass .double() inputs to "
                    "silence this warning.", UserWarning, stacklevel=3)
            t = Tensor._make(np.array(t.data, dtype=np.float64, order="C"), t.requires_grad, None)
        checked.append(t)
    return tuple(checked)


def _as_float64(values):
    """User-given grad_outputs in float64, to match inputs that `_check_inputs` widened."""
    return [g if not isinstance(g, Tensor) or g.dtype.kind != "f" or g.dtype == np.float64
            else Tensor._make(g.data.astype(np.float64), False, None) for g in values]


def _numerical_jacobian_column(fn, inputs, outputs, x, flat_index, eps):
    """d(all outputs, flattened) / d x[flat_index], by central differences."""
    flat = x.data.reshape(-1)  # x.data is contiguous (we made it so)
    original = flat[flat_index]
    flat[flat_index] = original + eps
    plus = [o.data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[flat_index] = original - eps
    minus = [o.data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[flat_index] = original
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def gradcheck(fn: Callable[..., "Tensor | tuple[Tensor, ...]"], inputs: "Tensor | Sequence", eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, _what: str = "gradient") -> bool:
    """Check every input's gradient of every output of `fn(*inputs)` against finite differences:
    `torch.autograd.gradcheck`.

    For each output o and input x, the analytical vector-Jacobian products with each unit vector
    of o (one backward per output element) are compared with the numerical Jacobian, by central
    differences with step `eps`, elementwise within `atol + rtol * |numerical|`.

    Arguments:
        fn: a function of Tensors returning a Tensor or a tuple of them.
        inputs: a Tensor or a sequence of arguments; the floating Tensors that require grad are
            checked (on float64 copies, with a warning for a narrower dtype).
        raise_exception: raise a `GradcheckError` naming the input, the element and both values
            (the default), or return False.

    Returns True when every gradient matches.
    """
    inputs = _check_inputs("gradcheck", inputs)
    outputs = _outputs(fn, inputs)
    differentiable = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    try:
        for out_index, out in enumerate(outputs):
            if not out.requires_grad:
                continue
            # Analytical Jacobian rows: one backward per output element.
            analytical = {i: np.zeros((out.data.size, t.data.size)) for i, t in differentiable}
            for k in range(out.data.size):
                seed = np.zeros(out.data.size, out.dtype)
                seed[k] = 1
                grads = engine.grad([out], [t for _, t in differentiable], [Tensor._make(seed.reshape(out.shape), False, None)],
                                    retain_graph=True, allow_unused=True)
                for (i, _), g in zip(differentiable, grads):
                    if g is not None:
                        analytical[i][k] = g.data.astype(np.float64).ravel()
            for i, t in differentiable:
                for j in range(t.data.size):
                    numerical = _numerical_jacobian_column(fn, inputs, outputs, t, j, eps)[out_index]
                    for k in range(out.data.size):
                        a, n = analytical[i][k, j], numerical[k]
                        if not (abs(a - n) <= atol + rtol * abs(n)) and not (np.isnan(a) and np.isnan(n)):
                            element = np.unravel_index(j, t.shape) if t.shape else ()
                            raise GradcheckError(
                                f"gradcheck: {_what} mismatch for input {i} (shape {t.shape}) at element "
                                f"index {tuple(int(e) for e in element)}, output {out_index} element {k}: "
                                f"numerical {n:.8g} vs analytical {a:.8g} "
                                f"(difference {abs(a - n):.3g}, allowed {atol + rtol * abs(n):.3g})")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(fn: Callable[..., "Tensor | tuple[Tensor, ...]"], inputs: "Tensor | Sequence",
                  grad_outputs: "Sequence[Tensor] | None" = None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: `gradcheck` of the function inputs -> d(sum(out * v))/d(inputs),
    built with `create_graph=True`, for `grad_outputs` v (default: random, from `seed`):
    `torch.autograd.gradgradcheck`. The other arguments are `gradcheck`'s.
    """
    inputs = _check_inputs("gradgradcheck", inputs)
    outputs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape), False, None) for o in outputs]
    else:
        grad_outputs = _as_float64([grad_outputs] if isinstance(grad_outputs, Tensor) else grad_outputs)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first_derivatives(*args):
        outs = _outputs(fn, args)
        pairs = [(o, g) for o, g in zip(outs, grad_outputs) if o.requires_grad]
        targets = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        grads = engine.grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=True,
                            allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    if not differentiable:
        return True
    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                     _what="second derivative (gradgradcheck)")
