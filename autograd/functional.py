"""`autograd.functional`, as `torch.autograd.functional`: derivatives of a whole function at a point.

    jacobian(func, inputs)   d outputs / d inputs, shape output.shape + input.shape
    hessian(func, inputs)    the Jacobian of the gradient of a one-element output
    vjp(func, inputs, v)     v^T J   (one backward)
    jvp(func, inputs, v)     J v     (two backwards: the "double-backward trick", below)
    vhp(func, inputs, v)     v^T H   (backward of backward)
    hvp(func, inputs, v)     H v     (the double-backward trick applied to the gradient)

Signatures and results follow PyTorch's: `inputs` (and `v`) is a Tensor or a tuple of Tensors,
and the results keep that shape: a Tensor for a Tensor, a tuple for a tuple; `jacobian` of a
function with a tuple of outputs gives a tuple (over outputs) of tuples (over inputs).

- The function is called on fresh copies of the inputs (new graph leaves), so the caller's tensors
  gain no `.grad`. With `create_graph=True` an input that requires grad is copied differentiably
  (`clone`), so the results are differentiable with respect to the caller's tensors.
- Without `create_graph` the results are detached.
- An input that no output depends on gets zeros (the right value), or, with `strict=True`, an
  error naming it; with `strict=True, create_graph=True` a result that cannot depend on the input
  (a linear function's Jacobian, say) is an error too.

There is no forward-mode AD in ndgrad: J v comes from two reverse passes. With u a dummy cotangent
(zeros that require grad), g(u) = u^T J is linear in u, so the gradient of g(u) . v with respect to u
is J v whatever u's value. This needs the backward formulas to be differentiable, which every
built-in op's is, and so is a custom op's written with Tensor ops (one whose backward is NumPy code
says so when differentiated again).
"""
import numpy as np

from .creation import from_numpy, zeros, zeros_like
from .engine import grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import stack
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# -- the shared plumbing ----------------------------------------------------------------------------

def _as_tuple(value, what, fn_name):
    """(was it a tuple, the value as a tuple), checking every entry is a Tensor."""
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, entry in enumerate(values):
        if not isinstance(entry, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(f"autograd.functional.{fn_name}: the {what} must be a Tensor or a tuple of "
                            f"Tensors, but {where} has type {type(entry).__name__}")
    return is_tuple, values


def _unpack(results, was_tuple):
    """Undo `_as_tuple` on results; `was_tuple` is one flag, or (outer, inner) for nested tuples."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            results = tuple(entry[0] for entry in results)
        return results if outer else results[0]
    return results if was_tuple else results[0]


def _fresh_leaves(tensors, create_graph, need_graph):
    """What the function is called on: a differentiable copy of a tensor that requires grad when a
    graph is to be built through the results, else a detached leaf."""
    return tuple(t.clone() if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in tensors)


def _detach_unless(values, create_graph):
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else _detach_unless(v, False) for v in values)


def _check_v(fn_name, v, like, like_is_tuple, like_what):
    if len(v) != len(like):
        expected = f"a tuple of {len(like)} Tensors" if like_is_tuple else "a single Tensor"
        raise RuntimeError(f"autograd.functional.{fn_name}: v should be {expected} (one per {like_what}), "
                           f"got {len(v)}")
    for i, (entry, ref) in enumerate(zip(v, like)):
        if entry.shape != ref.shape:
            where = f"entry {i} of v" if like_is_tuple else "v"
            raise RuntimeError(f"autograd.functional.{fn_name}: {where} has shape {entry.shape} but the "
                               f"{like_what} it pairs with has shape {ref.shape}")


_NOT_TRACKED = {
    "outputs": "output {i} of the function does not require grad: it must be computed differentiably "
               "from the inputs in strict mode",
    "grad_inputs": "the gradient with respect to input {i} does not depend on the outputs' cotangent, "
                   "so the double-backward trick cannot give J v; not allowed in strict mode",
    "jacobian": "the Jacobian with respect to input {i} does not depend on the inputs (a linear "
                "function, say); not allowed in strict mode, where the function must be twice "
                "differentiable",
    "hessian": "the Hessian with respect to input {i} does not depend on the inputs; not allowed in "
               "strict mode, where the function must be thrice differentiable",
}


def _check_requires_grad(fn_name, values, kind, strict):
    """In strict mode: every value exists and is tracked (else the message for `kind`)."""
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:
            raise RuntimeError(f"autograd.functional.{fn_name}: the output of the function is independent "
                               f"of input {i}; not allowed in strict mode")
        if not value.requires_grad:
            raise RuntimeError(f"autograd.functional.{fn_name}: " + _NOT_TRACKED[kind].format(i=i))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """ag.grad over the outputs that require grad (None for every input if none does), with
    None for inputs that no output reaches."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([out for out, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "the output of the function is independent of input {i}",
    "back_trick": "the gradient with respect to the inputs is independent of entry {i} of the outputs' "
                  "cotangent, so the double-backward trick cannot give J v",
    "double_back": "the Jacobian of the function is independent of input {i}",
    "double_back_trick": "the Hessian of the function is independent of entry {i} of the gradient's "
                         "cotangent, so the double-backward trick cannot give H v",
}


def _fill_in_zeros(fn_name, grads, refs, strict, create_graph, stage):
    """Zeros for the inputs no output reached (or, in strict mode, an error naming the input)."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"autograd.functional.{fn_name}: "
                                   + _INDEPENDENT[stage].format(i=i) + "; not allowed in strict mode")
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "Hessian" if "double" in stage else "Jacobian"
            raise RuntimeError(f"autograd.functional.{fn_name}: the {what} of the function is independent of "
                               f"input {i}; not allowed in strict mode when create_graph=True")
        filled.append(g)
    return tuple(filled)


def _call(fn_name, func, inputs, v, create_graph, strict, v_pairs_with, scalar_output=False):
    """The set-up vjp/jvp/vhp/hvp share: fresh inputs, v checked against the outputs or the inputs,
    the function called and its outputs checked. Runs with grad enabled."""
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _fresh_leaves(inputs, create_graph, need_graph=True)
    if v is not None:
        v = _fresh_leaves(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
        if v_pairs_with == "inputs":
            _check_v(fn_name, v, inputs, inputs_were_tuple, "input")
    elif v_pairs_with == "inputs" and (len(inputs) != 1 or inputs[0].numel() != 1):
        raise RuntimeError(f"autograd.functional.{fn_name}: v can be omitted only when the input is a single "
                           "Tensor with a single element")
    outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", fn_name)
    _check_requires_grad(fn_name, outputs, "outputs", strict)
    if scalar_output and (outputs_were_tuple or outputs[0].numel() != 1):
        raise RuntimeError(f"autograd.functional.{fn_name}: the function should return a single Tensor with a "
                           f"single element, got {len(outputs)} output(s) of shape(s) "
                           f"{', '.join(str(o.shape) for o in outputs)}")
    if v_pairs_with == "outputs":
        if v is not None:
            _check_v(fn_name, v, outputs, outputs_were_tuple, "output")
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(f"autograd.functional.{fn_name}: v can be omitted only when the function returns "
                               "a single Tensor with a single element")
    return inputs_were_tuple, inputs, v, outputs_were_tuple, outputs


def _reverse(fn_name, roots, inputs, v, create_graph, strict, stage, retain_graph=None):
    """v^T d roots / d inputs, zeros for inputs the roots do not depend on; recorded with create_graph."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        found = _grad(roots, inputs, v, create_graph=create_graph, retain_graph=retain_graph)
    return _fill_in_zeros(fn_name, found, inputs, strict, create_graph, stage)


def _vector_jacobian_graph(outputs, inputs):
    """The first of the double-backward trick's two passes: (u, u^T J) with u zero cotangents that
    require grad, recorded, so that a second pass through it from v gives J v (module docstring)."""
    with enable_grad():
        cotangents = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        return cotangents, _grad(outputs, inputs, cotangents, create_graph=True)


def _double_backward_trick(fn_name, outputs, inputs, v, create_graph, strict, stage):
    """J v for the function inputs -> outputs, by two reverse passes (module docstring)."""
    cotangents, vector_jacobian = _vector_jacobian_graph(outputs, inputs)
    return vector_jacobian, _reverse(fn_name, vector_jacobian, cotangents, v, create_graph, strict, stage)


def _returned(outputs, outputs_were_tuple, result, result_was_tuple, create_graph):
    """(func's output, the product), each shaped as the caller gave it, detached unless create_graph."""
    return (_unpack(_detach_unless(outputs, create_graph), outputs_were_tuple),
            _unpack(_detach_unless(result, create_graph), result_was_tuple))


# -- the public functions ---------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`, shaped like the inputs.

    `v` is shaped like the outputs; it may be omitted when the output is a one-element Tensor.
    """
    with enable_grad():
        inputs_were_tuple, inputs, v, outputs_were_tuple, outputs = _call(
            "vjp", func, inputs, v, create_graph, strict, v_pairs_with="outputs")
    result = _reverse("vjp", outputs, inputs, v, create_graph, strict, "back")
    return _returned(outputs, outputs_were_tuple, result, inputs_were_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at `inputs`, shaped like the outputs.

    `v` is shaped like the inputs; it may be omitted when the input is a one-element Tensor.
    Computed with two reverse passes (the double-backward trick, see the module docstring).
    """
    with enable_grad():
        _, inputs, v, outputs_were_tuple, outputs = _call("jvp", func, inputs, v, create_graph, strict,
                                                         v_pairs_with="inputs")
        vector_jacobian, result = _double_backward_trick("jvp", outputs, inputs, v, create_graph, strict,
                                                         "back_trick")
        _check_requires_grad("jvp", vector_jacobian, "grad_inputs", strict)
    return _returned(outputs, outputs_were_tuple, result, outputs_were_tuple, create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a one-element output at `inputs`."""
    with enable_grad():
        inputs_were_tuple, inputs, v, _, outputs = _call("vhp", func, inputs, v, create_graph, strict,
                                                        v_pairs_with="inputs", scalar_output=True)
        gradient = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad("vhp", gradient, "jacobian", strict)
    result = _reverse("vhp", gradient, inputs, v, create_graph, strict, "double_back")
    return _returned(outputs, False, result, inputs_were_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a one-element output at `inputs`, as
    PyTorch computes it: J v of the gradient function by the double-backward trick. For a twice
    continuously differentiable function H is symmetric, and `vhp`, one pass cheaper, gives the same."""
    with enable_grad():
        inputs_were_tuple, inputs, v, _, outputs = _call("hvp", func, inputs, v, create_graph, strict,
                                                        v_pairs_with="inputs", scalar_output=True)
        gradient = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad("hvp", gradient, "jacobian", strict)
        gradient = tuple(zeros_like(x) if g is None else g for g, x in zip(gradient, inputs))
        _, result = _double_backward_trick("hvp", gradient, inputs, v, create_graph, strict,
                                           "double_back_trick")
    return _returned(outputs, False, result, inputs_were_tuple, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at `inputs`: for output i and input j, a Tensor of shape
    `outputs[i].shape + inputs[j].shape`; nested as PyTorch nests it (see the module docstring).

    "reverse-mode" takes one backward per output element; "forward-mode" one double-backward J v
    per input element (fewer passes when the outputs outnumber the inputs). `vectorize` is
    accepted for PyTorch's signature; ndgrad has no vmap, so rows are computed one at a time
    either way.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"autograd.functional.jacobian: strategy must be 'reverse-mode' or 'forward-mode', "
                         f"got {strategy!r}")
    if strategy == "forward-mode" and (create_graph or strict):
        raise NotImplementedError("autograd.functional.jacobian: strategy='forward-mode' supports neither "
                                  "create_graph=True nor strict=True (as in PyTorch); use 'reverse-mode'")
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _fresh_leaves(inputs, create_graph, need_graph=True)
        outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "jacobian")
        _check_requires_grad("jacobian", outputs, "outputs", strict)
        if strategy == "reverse-mode":
            blocks = _jacobian_by_rows(outputs, inputs, create_graph, strict)
        else:
            blocks = _jacobian_by_columns(outputs, inputs)
    blocks = tuple(_detach_unless(row, create_graph) for row in blocks)
    return _unpack(blocks, (outputs_were_tuple, inputs_were_tuple))


def _one_hot(shape, dtype, flat_index):
    seed = np.zeros(shape, dtype)
    seed.reshape(-1)[flat_index] = 1
    return from_numpy(seed)


def _jacobian_by_rows(outputs, inputs, create_graph, strict):
    """((d outputs[i] / d inputs[j] for j) for i), one backward per output element."""
    blocks = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        for k in range(out.numel()):
            row = _grad((out,), inputs, (_one_hot(out.shape, out.dtype, k),), retain_graph=True,
                        create_graph=create_graph)
            for j, (g, x) in enumerate(zip(row, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"autograd.functional.jacobian: output {i} of the function is "
                                           f"independent of input {j}; not allowed in strict mode")
                    g = zeros_like(x, dtype=out.dtype)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(f"autograd.functional.jacobian: the Jacobian of output {i} is independent "
                                       f"of input {j}; not allowed in strict mode when create_graph=True")
                rows[j].append(g)
        blocks.append(tuple(_stack_block(r, out.shape, x.shape, out.dtype) for r, x in zip(rows, inputs)))
    return tuple(blocks)


def _jacobian_by_columns(outputs, inputs):
    """The same blocks, one double-backward J e_k per input element."""
    columns = [[[] for _ in inputs] for _ in outputs]
    cotangents, vector_jacobian = _vector_jacobian_graph(outputs, inputs)   # once: it is the same for every column
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            directions = tuple(_one_hot(x.shape, x.dtype, k) if m == j else zeros_like(y)
                               for m, y in enumerate(inputs))
            image = _reverse("jacobian", vector_jacobian, cotangents, directions, False, False, "back_trick",
                             retain_graph=True)
            for i, column in enumerate(image):
                columns[i][j].append(column)
    with no_grad():
        # Stacking columns puts the input index first: move it behind the output's dims.
        return tuple(tuple(_stack_block(c, x.shape, out.shape, out.dtype).permute(
            *range(x.ndim, x.ndim + out.ndim), *range(x.ndim)) for c, x in zip(cols, inputs))
            for cols, out in zip(columns, outputs))


def _stack_block(pieces, leading_shape, trailing_shape, dtype):
    """pieces (one per element of a leading_shape tensor, each of trailing_shape) as one Tensor."""
    if not pieces:
        return zeros(tuple(leading_shape) + tuple(trailing_shape), dtype=dtype)
    return stack(pieces).reshape(tuple(leading_shape) + tuple(trailing_shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a function with a single one-element output: the Jacobian of its gradient.
    For a tuple of inputs, a tuple of tuples: block (i, j) has shape inputs[i].shape + inputs[j].shape."""
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*args):
        out = func(*args)
        out_was_tuple, outs = _as_tuple(out, "outputs of the function", "hessian")
        _check_requires_grad("hessian", outs, "outputs", strict)
        if out_was_tuple or out.numel() != 1:
            raise RuntimeError("autograd.functional.hessian: the function should return a single Tensor with a "
                               f"single element, got {len(outs)} output(s) of shape(s) "
                               f"{', '.join(str(o.shape) for o in outs)}")
        return out.reshape(())

    def gradient(*args):
        jac = jacobian(single_output, args, create_graph=True)
        _check_requires_grad("hessian", jac, "jacobian", strict)
        return jac

    blocks = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack(blocks, (inputs_were_tuple, inputs_were_tuple))
