"""The backward pass: walk the graph from the outputs in reverse topological order.

Order comes from dependency counts, not recursion: first count, for every node reachable from
the roots, how many edges lead into it; then run a node once every gradient it will receive has
arrived. So a 100,000-op chain needs no deep Python stack, and each node runs exactly once, in
time linear in the size of the graph. The walk itself is `_walk`; each policy around it is a
small helper beside it:

- `_conform`: the only place a gradient is summed back to its input's shape (`sum_to`) and cast
  to its dtype; gradients that user code hands over (hooks, custom backward) are checked there;
- `_add_grad`: gradients arriving at the same node (one slot per output of the node) are added
  out of place, so that a gradient object handed to two inputs, as `add` does, is never written
  into;
- `_gradients_of`: runs tensor hooks, keeps `.grad` of tensors that called `retain_grad()`, and
  hands the gradients `autograd.grad` asked for to its capture;
- `_finish_leaf`: fills `.grad` of leaves (copying a gradient object that is shared), and adds
  into an existing `.grad` in place, as PyTorch, when nothing else can see that array;
- `release_saved` frees what each node saved as soon as it has run, unless `retain_graph=True`;
- `_check_finite`: in anomaly mode, stops at the first node whose gradient holds NaN or Inf.

Backward formulas, built-in and custom, are Tensor code. Unless `create_graph=True` they run under
no_grad, so they record nothing; with it, they record a graph of their own, which gives
higher-order gradients.
"""
import itertools
import warnings

import numpy as np

from . import grad_mode
from .broadcasting import sum_to
from .function import Function, run_quietly
from .inplace import bump_version
from .post_accumulate_grad_hooks import run_post_accumulate_grad_hooks
from .tensor import Tensor


def backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Accumulate d(roots)/d(leaf) into `.grad` of every leaf (or only of `inputs`)."""
    only = None if inputs is None else {t.grad_fn or t for t in inputs}
    _walk(roots, root_grads, retain_graph, create_graph, _Sinks(only, None))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         only_inputs=True, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned rather than stored in `.grad`.

    As torch's: `materialize_grads=True` gives zeros, not None, for an input the outputs do not use
    (and so implies `allow_unused`); `only_inputs` is deprecated there and ignored (WGAN-GP code still
    passes it), with torch's warning when it is False."""
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) does not require grad")
    root_grads = [root_grad(out, g, "autograd.grad") for out, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    capture = {_key(t): None for t in inputs}
    _walk(outputs, root_grads, retain_graph, create_graph, _Sinks(set(), capture))
    results = []
    for i, t in enumerate(inputs):
        g = capture[_key(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {t.shape}) was not used in the graph of the outputs (the "
                f"differentiated Tensor at index {i} appears to not have been used in the graph); pass "
                "allow_unused=True to get None for it")
        if g is None and materialize_grads:
            g = Tensor._make(np.zeros_like(t._data), False, None)
        results.append(g)
    return tuple(results)


def root_grad(out, gradient, op):
    """The gradient that starts backward at `out`: ones for a scalar, else the one given."""
    if not out.requires_grad:
        raise RuntimeError(
            f"{op}: the output (shape {out.shape}) does not require grad and does not have a grad_fn: nothing "
            "that made it requires grad (or it was computed under no_grad)")
    if gradient is None:
        if out._data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs, but the output has shape "
                f"{out.shape}; pass gradient= (a tensor of that shape) or reduce it first (e.g. .sum())")
        return Tensor._make(np.ones(out.shape, out.dtype), False, None)
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(np.asarray(gradient, dtype=out.dtype), False, None)
    if gradient.shape != out.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {gradient.shape} but the output has shape {out.shape}")
    return gradient


def _key(t):
    """Where a tensor's gradient is kept: its node (output 0, or a leaf itself), or (node, output)."""
    if t.grad_fn is None:
        return t
    return t.grad_fn if not t.output_nr else (t.grad_fn, t.output_nr)


class _Sinks:
    """Where gradients end up besides the walk: the leaves to accumulate into (None: every leaf),
    what `autograd.grad` captures ({key: gradient}), and the gradient arrays already handed out
    (to a leaf, to a retained tensor, or by the caller), which must be copied before reuse."""
    __slots__ = ("accumulate_into", "capture", "handed_out")

    def __init__(self, accumulate_into, capture):
        self.accumulate_into, self.capture, self.handed_out = accumulate_into, capture, set()


def _walk(roots, root_grads, retain_graph, create_graph, sinks):
    # NumPy's floating-point errors ignored once for the whole pass: its gradient sums compute inf and nan
    # silently too, and the ops of the backward formulas run without switching context each time.
    run_quietly(_walk_graph, roots, root_grads, retain_graph, create_graph, sinks)


def _walk_graph(roots, root_grads, retain_graph, create_graph, sinks):
    grads = {}
    for root, g in zip(roots, root_grads):
        _add_grad(grads, _key(root), g)
        sinks.handed_out.add(id(g._data))
    pending = _count_dependencies([root.grad_fn or root for root in roots])
    ready = [t for t in pending if pending[t] == 0]
    state = grad_mode._state
    anomaly = state.anomaly
    # Recording on only for create_graph; `in_backward` marks the pass, whose formulas make views of
    # gradients that no user code can write into (autograd/inplace.py skips their upkeep).
    saved_modes = state.grad_enabled, state.in_backward
    state.grad_enabled, state.in_backward = bool(create_graph), True
    try:
        while ready:
            target = ready.pop()
            if isinstance(target, Tensor):
                _finish_leaf(target, grads.pop(target, None), create_graph, sinks)
                continue
            node = target
            output_grads = _gradients_of(node, grads, sinks, create_graph)
            if output_grads is None:  # nothing reached this node: its inputs get nothing either
                input_grads = (None,) * len(node.edges)
            else:
                input_grads = _call_backward(node, output_grads, create_graph)
                if not node.tensor_backward:   # what a user's backward returns, the user may hold
                    sinks.handed_out.update(id(g._data) for g in input_grads if g is not None)
                if not retain_graph:
                    node.release_saved()
                if anomaly:
                    _check_finite(node, input_grads)
            for edge, slot, g in zip(node.edges, node.edge_slots or _ZEROS, input_grads):
                if edge is None:
                    continue
                if g is not None:
                    _add_grad(grads, edge if not slot else (edge, slot), _conform(g, edge, slot, node))
                left = pending[edge] - 1
                pending[edge] = left
                if not left:
                    ready.append(edge)
    finally:
        state.grad_enabled, state.in_backward = saved_modes


# Output index 0 for every edge of a node whose inputs were all output 0 of their nodes.
_ZEROS = itertools.repeat(0)


def _count_dependencies(roots):
    """For every node or leaf reachable from `roots`: how many edges lead into it (a root reached
    from no other root counts 0). Being in the dict marks a node as seen."""
    pending = dict.fromkeys(roots, 0)
    stack = [root for root in pending if isinstance(root, Function)]
    while stack:
        for target in stack.pop().edges:
            if target is None:
                continue
            count = pending.get(target)
            if count is None:
                pending[target] = 1
                if isinstance(target, Function):
                    stack.append(target)
            else:
                pending[target] = count + 1
    return pending


def _add_grad(grads, key, g):
    previous = grads.get(key)
    # Out of place: g may be the very object another input was given.
    grads[key] = g if previous is None else previous + g


def _gradients_of(node, grads, sinks, create_graph):
    """The gradient of each output of `node` (None for outputs that got none), after hooks, with
    retained and captured gradients handed out; None when no output got a gradient."""
    if node.n_outputs == 1:
        g = grads.pop(node, None)
        if g is None:
            return None
        output_grads = [g]
    else:
        output_grads = [grads.pop(node, None)] + [grads.pop((node, k), None) for k in range(1, node.n_outputs)]
        if all(g is None for g in output_grads):
            return None
    if node.hooks:
        for index, hook in list(node.hooks):
            if output_grads[index] is not None:
                output_grads[index] = _run_hook(hook, output_grads[index], node.name(), sinks)
    if node.retained:
        for index, ref in node.retained.items():
            kept, g = ref(), output_grads[index]
            if kept is not None and g is not None:  # accumulates across backward calls, as a leaf's .grad does
                g = g if create_graph else g.detach()
                if not g._data.flags.writeable:   # a broadcast gradient: .grad gets memory of its own
                    g = Tensor._make(g._data.copy(), g.requires_grad, g.grad_fn)
                kept.grad = g if kept._grad is None else kept._grad + g
                sinks.handed_out.add(id(kept.grad._data))  # a leaf reached by the same array copies it
    if sinks.capture:
        for index, g in enumerate(output_grads):
            key = node if not index else (node, index)
            if key in sinks.capture:
                sinks.capture[key] = g
    return output_grads


def _call_backward(node, output_grads, create_graph):
    """The gradients for a node's inputs, a tuple with one entry (Tensor or None) per input."""
    if not node.tensor_backward:  # a user's custom op
        return node.run_backward(output_grads)
    input_grads = node.backward(node, *output_grads)
    return input_grads if input_grads.__class__ is tuple else (input_grads,)


def _conform(g, target, slot, node):
    """`g`, a gradient for output `slot` of `target` (a node, or a leaf tensor), summed back to
    that output's shape and cast to its dtype. Built-in ops are trusted to return a gradient that
    broadcasts to the output; what a user's custom backward returns is checked first."""
    shape, dtype = target.shape, target.dtype
    if shape is None:  # a node with several outputs
        shape, dtype = target.output_meta(slot)
    data = g._data
    if not node.tensor_backward:
        _check_user_gradient(data, shape, f"Function {node.name()}Backward returned an invalid gradient")
    if data.dtype is not dtype and data.dtype != dtype:
        g = g.astype(dtype)
    if data.shape != shape:
        g = sum_to(g, shape)
    return g


def _check_user_gradient(data, shape, what):
    """As PyTorch's validate_outputs: a gradient must be real floating point, and of the expected
    shape or of one that shape broadcasts to (it is then summed back)."""
    if data.dtype.kind != "f":
        raise RuntimeError(f"{what}: expected a real floating point gradient for shape {shape}, got dtype {data.dtype}")
    if data.shape != shape and not _expands_to(shape, data.shape):
        raise RuntimeError(f"{what}: got shape {data.shape} but expected shape compatible with {shape}")


def _expands_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _run_hook(hook, grad, where, sinks):
    # The hook may keep the gradient it is given, and hold the one it returns: both are handed out, so a
    # leaf reached by either copies it before later backward calls add into its .grad in place.
    sinks.handed_out.add(id(grad._data))
    result = hook(grad)
    if result is None:
        return grad
    if not isinstance(result, Tensor):
        raise RuntimeError(f"a hook on the output of {where} returned {type(result).__name__}, not a Tensor or None")
    sinks.handed_out.add(id(result._data))
    if result.shape != grad.shape:
        raise RuntimeError(f"a hook on the output of {where} changed the gradient's shape from {grad.shape} "
                           f"to {result.shape}")
    if result.dtype != grad.dtype:   # as torch, which refuses a hook that changes the type
        raise RuntimeError(f"a hook on the output of {where} returned a gradient of dtype {result.dtype}; "
                           f"expected the gradient's own, {grad.dtype}")
    return result


def _finish_leaf(leaf, grad, create_graph, sinks):
    if grad is None:
        return
    for hook in leaf._hooks or ():
        grad = _run_hook(hook, grad, f"leaf tensor of shape {leaf.shape}", sinks)
    if sinks.capture is not None and leaf in sinks.capture:
        sinks.capture[leaf] = grad
    if sinks.accumulate_into is not None and leaf not in sinks.accumulate_into:
        return
    # `_grad` rather than the `grad` property: its warning is for non-leaves, its setter's checks for what
    # users assign; a gradient here has the leaf's shape and dtype (_conform).
    existing = leaf._grad
    if existing is None:
        data = grad._data
        # A gradient shared with another leaf, a hook or the caller, or a read-only broadcast view, must
        # not become this leaf's .grad as it is: .grad is updated in place later (as PyTorch, which
        # clones a gradient someone else holds; with create_graph the clone stays in the graph).
        handed_out = sinks.handed_out
        shared = id(data) in handed_out or not data.flags.writeable or data.base is not None and id(data.base) in handed_out
        if create_graph:
            leaf._grad = grad.clone() if shared else grad
        else:
            leaf._grad = Tensor._make(data.copy() if shared else data, False, None)
        handed_out.add(id(leaf._grad._data))
    elif create_graph:
        leaf._grad = existing + grad
    elif _addable_in_place(existing._data, grad._data):
        # As PyTorch, accumulate into the existing .grad, whoever else holds it (`g = x.grad` kept by the
        # caller, one .grad given to two leaves, a .grad made from the caller's array all see the sum);
        # the incoming gradient is only read.
        existing._data += grad._data
        bump_version(existing)   # as PyTorch's +=: a graph that saved this .grad notices the change
    else:
        leaf._grad = Tensor._make(existing._data + grad._data, False, None)
    if leaf._post_accumulate_grad_hooks:
        run_post_accumulate_grad_hooks(leaf)


def _addable_in_place(existing, incoming):
    return existing.flags.writeable and existing.shape == incoming.shape and existing.dtype == incoming.dtype


def _check_finite(node, input_grads):
    for i, g in enumerate(input_grads):
        if g is not None and not np.isfinite(g._data).all():
            where = node.site or "(the op was created outside detect_anomaly, so its creation site is unknown)\n"
            raise RuntimeError(
                f"Function '{node.name()}Backward' returned nan or inf values in its {i}th output "
                f"(gradient for input {i}, shape {g.shape}).\nThe op was created at:\n{where}")
