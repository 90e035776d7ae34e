"""The backward pass: walk the graph from the outputs in reverse topological order.

Order comes from dependency counts, not recursion: first count, for every node reachable from
the roots, how many edges lead into it; then run a node once every gradient it will receive has
arrived. So a 100,000-op chain needs no deep Python stack, and each node runs exactly once, in
time linear in the size of the graph.

Along the way the engine, and only the engine:
- sums each gradient back to its input's shape and dtype (`sum_to`, a cast);
- adds up gradients arriving at the same node (out of place, so that a gradient object handed to
  two inputs, as `add` does, is never written into);
- runs tensor hooks, fills `.grad` of leaves and of tensors that called `retain_grad()`;
- frees what each node saved as soon as it has run, unless `retain_graph=True`;
- in anomaly mode, stops at the first node whose gradient holds NaN or Inf.

Built-in backward formulas are Tensor code. Unless `create_graph=True` they run under no_grad,
so they record nothing; with it, they record a graph of their own, which gives higher-order
gradients.
"""
import numpy as np

from . import grad_mode
from .broadcasting import sum_to
from .function import Function
from .tensor import Tensor


def backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Accumulate d(roots)/d(leaf) into `.grad` of every leaf (or only of `inputs`)."""
    only = None if inputs is None else {_target(t) for t in inputs}
    _run(roots, root_grads, retain_graph, create_graph, accumulate_into=only, capture=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned rather than stored in `.grad`."""
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) does not require grad")
    root_grads = [default_root_grad(out, g, "autograd.grad") for out, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    capture = {_target(t): None for t in inputs}
    _run(outputs, root_grads, retain_graph, create_graph, accumulate_into=set(), capture=capture)
    results = []
    for i, t in enumerate(inputs):
        g = capture[_target(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {t.shape}) was not used in the graph of the outputs; "
                "pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def default_root_grad(out, gradient, op):
    """The gradient that starts backward at `out`: ones for a scalar, else the one given."""
    if not out.requires_grad:
        raise RuntimeError(
            f"{op}: the output (shape {out.shape}) does not require grad and has no grad_fn: nothing "
            "that made it requires grad (or it was computed under no_grad)")
    if gradient is None:
        if out.data.size != 1:
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


def _target(t):
    return t if t.grad_fn is None else t.grad_fn


def _count_dependencies(roots):
    """For every node or leaf reachable from `roots`: how many edges lead into it (a root reached
    from no other root counts 0). Being in the dict marks a node as seen."""
    pending = {}
    stack = []
    for root in roots:
        if root not in pending:
            pending[root] = 0
            if isinstance(root, Function):
                stack.append(root)
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


def _run(roots, root_grads, retain_graph, create_graph, accumulate_into, capture):
    targets = [_target(t) for t in roots]
    pending = _count_dependencies(targets)
    grads = {}
    for target, g in zip(targets, root_grads):
        _add_grad(grads, target, g)
    # Gradient objects already given to a leaf or held by the caller: copied before reuse.
    handed_out = {id(g.data) for g in root_grads}
    ready = [t for t in grads if pending[t] == 0]
    anomaly = grad_mode._state.anomaly
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            target = ready.pop()
            grad = grads.pop(target, None)
            if isinstance(target, Tensor):
                _finish_leaf(target, grad, create_graph, accumulate_into, capture, handed_out)
                continue
            node = target
            if grad is not None:
                if node.hooks:
                    grad = _apply_hooks(node.hooks, grad)
                if node.retained is not None:
                    kept = node.retained()
                    if kept is not None:  # accumulates across backward calls, as a leaf's .grad does
                        kept_grad = grad if create_graph else grad.detach()
                        kept.grad = kept_grad if kept.grad is None else kept.grad + kept_grad
                        handed_out.add(id(kept.grad.data))  # a leaf reached by the same array copies it
                if capture is not None and node in capture:
                    capture[node] = grad
                if node.tensor_backward:  # a built-in op: one call, no adapter
                    input_grads = node.backward(node, grad)
                    if input_grads.__class__ is not tuple:
                        input_grads = (input_grads,)
                else:
                    input_grads = node.run_backward(grad, create_graph)
                # release_saved's own test, inlined: nodes that saved nothing skip the call.
                if not retain_graph and (node._saved is not None or node._output_data is not None):
                    node.release_saved()
                if anomaly:
                    _check_finite(node, input_grads)
            else:
                input_grads = (None,) * len(node.edges)
            for edge, g in zip(node.edges, input_grads):
                if edge is None:
                    continue
                if g is not None:
                    data = g.data
                    if data.dtype is not edge.dtype and data.dtype != edge.dtype:
                        g = g.astype(edge.dtype)
                    if data.shape != edge.shape:
                        g = sum_to(g, edge.shape)
                    previous = grads.get(edge)
                    # Out of place: g may be the very object another input was given.
                    grads[edge] = g if previous is None else previous + g
                left = pending[edge] - 1
                pending[edge] = left
                if not left:
                    ready.append(edge)


def _add_grad(grads, target, g):
    previous = grads.get(target)
    grads[target] = g if previous is None else previous + g


def _apply_hooks(hooks, grad):
    for hook in hooks or ():
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def _finish_leaf(leaf, grad, create_graph, accumulate_into, capture, handed_out):
    if grad is None:
        return
    grad = _apply_hooks(leaf._hooks, grad)
    if capture is not None and leaf in capture:
        capture[leaf] = grad
    if accumulate_into is not None and leaf not in accumulate_into:
        return
    if not create_graph:
        grad = grad.detach()
        data = grad.data
        # A gradient shared with another leaf or with the caller, or a read-only broadcast view,
        # must not become this leaf's .grad as it is: the user may update .grad in place.
        if id(data) in handed_out or not data.flags.writeable or data.base is not None and id(data.base) in handed_out:
            grad = Tensor._make(data.copy(), False, None)
        handed_out.add(id(grad.data))
    if leaf.grad is None:
        leaf.grad = grad
    else:
        leaf.grad = leaf.grad + grad if create_graph else Tensor._make(leaf.grad.data + grad.data, False, None)


def _check_finite(node, input_grads):
    for i, g in enumerate(input_grads):
        if g is not None and not np.isfinite(g.data).all():
            where = node.site or "(the op was created outside detect_anomaly, so its creation site is unknown)\n"
            raise RuntimeError(
                f"Function '{node.name()}Backward' returned nan or inf values in its {i}th output "
                f"(gradient for input {i}, shape {g.shape}).\nThe op was created at:\n{where}")
