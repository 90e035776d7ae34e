"""Modules' full backward hooks, built on tensor hooks as PyTorch's `torch.utils.hooks.BackwardHook` is.

    module.register_full_backward_pre_hook(hook)   hook(module, grad_output) -> new grad_output or None
    module.register_full_backward_hook(hook)       hook(module, grad_input, grad_output) -> new grad_input or None

`grad_output` holds one gradient per Tensor the module returned (None for an output no gradient
reached), `grad_input` one per positional argument of the call (None for an argument that is not a
Tensor, zeros for a Tensor that does not require grad or that no gradient reached), as in PyTorch. A pre-hook's result replaces the gradients that flow into the module's
backward; a hook's result replaces those that flow out of it, to the layers before.

How. The hooks must see all of a module's output gradients at once, and all of its input
gradients at once. The engine runs a node only once every gradient bound for it has arrived, so
the tensors are routed through one node: concatenated (flattened) and split back into pieces of
their own shape. The module's forward sees the pieces of its inputs, the caller gets the pieces of
its outputs, and a tensor hook on each joined tensor gets, at the right moment, the gradients of
all of them together. Everything is ordinary differentiable ops, so `create_graph=True` works
through hooked modules; the price is one copy of the hooked inputs and outputs per call.
"""
import autograd as ag
from autograd import Tensor


def _join(tensors, on_gradients):
    """Pieces standing in for `tensors` whose gradients meet at one node: `on_gradients(grads)` is
    called with one gradient per tensor (None for those no gradient reached) once all have arrived,
    and returns the gradients to pass on, in the same form."""
    flat = ag.cat([t.reshape(-1) for t in tensors])
    sizes = [t.numel() for t in tensors]
    pieces = []
    for piece, t in zip(ag.split(flat, sizes), tensors):
        piece = piece.reshape(t.shape)
        pieces.append(piece if piece.dtype == t.dtype else piece.astype(t.dtype))
    reached = [False] * len(tensors)
    for k, piece in enumerate(pieces):
        piece.register_hook(_marker(reached, k))

    def joined_hook(grad):
        grads = tuple(g.reshape(t.shape) if got else None for g, t, got in zip(ag.split(grad, sizes), tensors, reached))
        reached[:] = [False] * len(tensors)  # ready for another backward through a retained graph
        passed_on = on_gradients(grads)
        return ag.cat([(ag.zeros_like(t, dtype=grad.dtype) if g is None else g.astype(grad.dtype)).reshape(-1)
                       for g, t in zip(passed_on, tensors)])
    flat.register_hook(joined_hook)
    return pieces


def _marker(reached, k):
    def mark(grad):
        reached[k] = True
    return mark


def _checked(module, kind, result, expected_count):
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected_count:
        raise RuntimeError(f"{type(module).__name__}: a full backward {kind} returned {len(result)} gradients, "
                           f"but the module has {expected_count} {'outputs' if 'pre' in kind else 'positional inputs'}")
    return result


class BackwardHook:
    """The full backward hooks of one module call: wraps the call's inputs and outputs (see above)."""

    def __init__(self, module, pre_hooks, hooks):
        self.module, self.pre_hooks, self.hooks = module, list(pre_hooks), list(hooks)
        self.n_inputs = 0
        self.input_positions = ()
        self.grad_outputs = None

    def setup_input_hook(self, args):
        """The positional arguments the forward should see."""
        self.n_inputs = len(args)
        self.input_layouts = {i: (a.shape, a.dtype) for i, a in enumerate(args) if isinstance(a, Tensor)}
        self.input_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.hooks or not self.input_positions or not ag.is_grad_enabled():
            return args
        pieces = _join([args[i] for i in self.input_positions], self._on_grad_inputs)
        args = list(args)
        for i, piece in zip(self.input_positions, pieces):
            args[i] = piece
        return tuple(args)

    def setup_output_hook(self, output):
        """The output the caller should see: a Tensor, or a tuple/list of them, as forward returned."""
        single = isinstance(output, Tensor)
        values = [output] if single else list(output) if isinstance(output, (tuple, list)) else None
        if values is None or not ag.is_grad_enabled():
            return output
        self.output_positions = [k for k, v in enumerate(values) if isinstance(v, Tensor)]
        tracked = [k for k in self.output_positions if values[k].requires_grad]
        if not tracked:
            return output
        self.tracked_outputs = tracked
        for k, piece in zip(tracked, _join([values[k] for k in tracked], self._on_grad_outputs)):
            values[k] = piece
        if single:
            return values[0]
        return type(output)(*values) if hasattr(output, "_fields") else type(output)(values)  # a namedtuple takes fields

    def _on_grad_outputs(self, tracked_grads):
        """All output gradients are in: run the pre-hooks, keep grad_output for the hooks."""
        by_position = dict(zip(self.tracked_outputs, tracked_grads))
        grad_outputs = tuple(by_position.get(k) for k in self.output_positions)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_outputs)
            if result is not None:
                grad_outputs = _checked(self.module, "pre-hook", result, len(self.output_positions))
        self.grad_outputs = grad_outputs
        if self.hooks and not self.input_positions:
            # As PyTorch: no input needs a gradient, so the hooks run now, with grad_input all None.
            for hook in self.hooks:
                if hook(self.module, (None,) * self.n_inputs, grad_outputs) is not None:
                    raise RuntimeError(f"{type(self.module).__name__}: a full backward hook on a module none of whose "
                                       "inputs requires grad must return None")
        position_of = {k: i for i, k in enumerate(self.output_positions)}
        return tuple(grad_outputs[position_of[k]] for k in self.tracked_outputs)

    def _on_grad_inputs(self, grads):
        """All input gradients are in: run the hooks, which may replace them."""
        reached = dict(zip(self.input_positions, grads))
        grad_inputs = tuple(None if i not in self.input_layouts else
                            reached.get(i) if reached.get(i) is not None else ag.zeros(self.input_layouts[i][0], dtype=self.input_layouts[i][1])
                            for i in range(self.n_inputs))
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None:
                grad_inputs = _checked(self.module, "hook", result, self.n_inputs)
        return tuple(grad_inputs[i] for i in self.input_positions)
