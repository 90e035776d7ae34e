"""gradcheck / gradgradcheck: analytical gradients against central finite differences in float64.

Finite differences in float32 are too coarse to tell a wrong gradient from rounding. PyTorch warns
about a float32 (or float16) input and checks in that precision, which then often fails on a
correct op; we warn too, naming the input and its dtype, but check on float64 copies of the
inputs, so the function sees float64 tensors and the verdict is about the gradient, not rounding.
The caller's tensors are never modified.
"""
import warnings

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
            t = Tensor._make(np.array(t._data, dtype=np.float64, order="C"), t.requires_grad, None)
        checked.append(t)
    return tuple(checked)


def _numerical_jacobian_column(fn, inputs, x, flat_index, eps):
    """d(all outputs, flattened) / d x[flat_index], by central differences; x is changed in place
    (its array is contiguous: we made it so) and restored."""
    flat = x._data.reshape(-1)
    original = flat[flat_index]
    flat[flat_index] = original + eps
    plus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[flat_index] = original - eps
    minus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[flat_index] = original
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _numerical_directional_derivative(fn, inputs, x, direction, eps):
    """(f(x + eps d) - f(x - eps d)) / 2 eps for every output of f, flattened; x is changed in
    place (its array is contiguous: we made it so) and restored."""
    flat = x._data.reshape(-1)
    original = flat.copy()
    step = eps * np.asarray(direction, dtype=np.float64).reshape(-1)
    flat += step
    plus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[:] = original - step
    minus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
    flat[:] = original
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast_mode=False,
              _what="gradient"):
    """Check every input's gradient of every output of fn(*inputs) against finite differences.

    Slow mode (the default) compares whole Jacobians: for each output o and input x, one backward
    per element of o against two evaluations of fn per element of x.

    `fast_mode=True` compares, as PyTorch's fast mode does, one number per (input, output) pair: the
    projection v^T J u on random non-negative unit vectors u (input-shaped) and v (output-shaped).
    Numerically J u is a directional central difference (two evaluations of fn per input), and
    analytically v^T J is one backward per output, so the cost no longer grows with the sizes.
    The tolerance is that of slow mode carried through the projection: atol * sum(u) * sum(v) +
    rtol * |v^T J u|. A wrong gradient changes the projection unless its error happens to be
    orthogonal to the random vectors, which has probability zero. On a mismatch the full Jacobian
    of that pair is compared, so the error still names the input and the element.
    """
    inputs = _check_inputs("gradcheck", inputs)
    outputs = _outputs(fn, inputs)
    try:
        if fast_mode:
            _check_projections(fn, inputs, outputs, eps, atol, rtol, _what)
        else:
            _check_jacobians(fn, inputs, outputs, eps, atol, rtol, _what)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _differentiable(inputs):
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _check_jacobians(fn, inputs, outputs, eps, atol, rtol, what, only=None):
    """Slow mode: element by element. `only` = (output index, input index) restricts the check to
    that block of the Jacobian (fast mode's fallback)."""
    differentiable = _differentiable(inputs)
    if only is not None:
        differentiable = [(i, t) for i, t in differentiable if i == only[1]]
    for out_index, out in enumerate(outputs):
        if not out.requires_grad or only is not None and out_index != only[0]:
            continue
        # Analytical Jacobian rows: one backward per output element.
        analytical = {i: np.zeros((out._data.size, t._data.size)) for i, t in differentiable}
        for k in range(out._data.size):
            seed = np.zeros(out._data.size, out.dtype)
            seed[k] = 1
            grads = engine.grad([out], [t for _, t in differentiable], [Tensor._make(seed.reshape(out.shape), False, None)],
                                retain_graph=True, allow_unused=True)
            for (i, _), g in zip(differentiable, grads):
                if g is not None:
                    analytical[i][k] = g._data.astype(np.float64).ravel()
        for i, t in differentiable:
            for j in range(t._data.size):
                numerical = _numerical_jacobian_column(fn, inputs, t, j, eps)[out_index]
                for k in range(out._data.size):
                    a, n = analytical[i][k, j], numerical[k]
                    if not (abs(a - n) <= atol + rtol * abs(n)) and not (np.isnan(a) and np.isnan(n)):
                        element = np.unravel_index(j, t.shape) if t.shape else ()
                        raise GradcheckError(
                            f"gradcheck: {what} mismatch for input {i} (shape {t.shape}) at element "
                            f"index {tuple(int(e) for e in element)}, output {out_index} element {k}: "
                            f"numerical {n:.8g} vs analytical {a:.8g} "
                            f"(difference {abs(a - n):.3g}, allowed {atol + rtol * abs(n):.3g})")


def _unit_vector(rng, shape):
    """PyTorch's fast-mode direction: uniform [0, 1) entries scaled to unit norm."""
    u = rng.random(shape)
    norm = np.linalg.norm(u)
    return u / norm if norm else u


def _check_projections(fn, inputs, outputs, eps, atol, rtol, what):
    """Fast mode (see gradcheck): v^T J u per (input, output) pair, numerically and analytically."""
    rng = np.random.default_rng(0)  # our own generator: the user's random state is left alone
    differentiable = _differentiable(inputs)
    directions = {i: _unit_vector(rng, t.shape) for i, t in differentiable}
    checked = [(k, out) for k, out in enumerate(outputs) if out.requires_grad]
    cotangents = {k: _unit_vector(rng, out.shape) for k, out in checked}
    # Analytical: one backward per output gives v^T J for every input; then dot with u.
    analytical = {}
    for k, out in checked:
        grads = engine.grad([out], [t for _, t in differentiable],
                            [Tensor._make(cotangents[k].astype(out.dtype), False, None)],
                            retain_graph=True, allow_unused=True)
        for (i, _), g in zip(differentiable, grads):
            analytical[k, i] = 0.0 if g is None else float(np.vdot(g._data.astype(np.float64), directions[i]))
    for i, t in differentiable:
        # Numerical J u: x moved along u by +-eps (u has unit norm, so eps is the step length).
        along = _numerical_directional_derivative(fn, inputs, t, directions[i], eps)
        for k, out in checked:
            n, a = float(np.vdot(along[k].reshape(out.shape), cotangents[k])), analytical[k, i]
            allowed = atol * directions[i].sum() * cotangents[k].sum() + rtol * abs(n)
            if not abs(a - n) <= allowed and not (np.isnan(a) and np.isnan(n)):
                _check_jacobians(fn, inputs, outputs, eps, atol, rtol, what, only=(k, i))
                raise GradcheckError(
                    f"gradcheck (fast mode): {what} mismatch for output {k} with respect to input {i} "
                    f"(shape {t.shape}): the projection v^T J u is numerical {n:.8g} vs analytical {a:.8g} "
                    f"(difference {abs(a - n):.3g}, allowed {allowed:.3g}), yet every element of that "
                    "Jacobian block is within tolerance on its own: the small differences add up. "
                    "Check with fast_mode=False, or loosen atol/rtol.")


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  seed=0, fast_mode=False):
    """Check second derivatives, as PyTorch's: gradcheck of (inputs, v) -> d(sum(out * v))/d(inputs),
    built with create_graph=True, for a random v that is itself differentiated (so a backward that
    mishandles the incoming gradient is caught too); fast_mode as in gradcheck."""
    inputs = _check_inputs("gradgradcheck", inputs)
    outputs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [rng.standard_normal(o.shape) for o in outputs]
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    # In float64, like the inputs _check_inputs widened, and differentiated too.
    grad_outputs = [Tensor._make(np.array(g._data if isinstance(g, Tensor) else g, dtype=np.float64), o.requires_grad, None)
                    for g, o in zip(grad_outputs, outputs)]
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    count = len(inputs)

    def first_derivatives(*args):
        args, vectors = args[:count], args[count:]
        outs = _outputs(fn, args)
        pairs = [(o, g) for o, g in zip(outs, vectors) if o.requires_grad]
        targets = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        grads = engine.grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=True,
                            allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    if not differentiable:
        return True
    return gradcheck(first_derivatives, list(inputs) + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode,
                     _what="second derivative (gradgradcheck; inputs past the function's own are the output gradients v)")
