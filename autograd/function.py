"""Function: the one place where a graph node is created.

A node is the `ctx` object of one op call (as in PyTorch, `y.grad_fn` is the ctx of the op that
made `y`). `apply` runs the op's NumPy forward, and when gradients are needed records on the node:

- `edges`: for each input, where its gradient goes: the input's own node, the input itself if it
  is a leaf that requires grad, or None;
- `shape`, `dtype`: of the output, so the engine can sum gradients back to this shape;
- what the forward saved with `save_for_backward` / `save_output`.

Two kinds of op share this machinery:

- `Function` is for users' custom ops: forward and backward both see NumPy arrays, so such an op
  is once-differentiable, and `create_graph=True` through it raises rather than quietly giving a
  wrong second derivative.
- `Primitive` is for built-in ops: backward receives and returns Tensors and is written with
  Tensor ops, so it can itself be differentiated (higher-order gradients).

A node never holds its output Tensor: `ctx.output` wraps the saved output array in a fresh
Tensor whose grad_fn is the node, so `grad * y` builds no reference cycle and the graph is freed
by reference counting as soon as the user lets go of it.
"""
import traceback

import numpy as np

from . import grad_mode
from .errors import freed_graph_error


_NOT_RECORDING = ()
_PYTHON_NUMBERS = (float, int, bool)


class Function:
    # Hot attributes live in slots; op parameters (ctx.dim = ...) go to the instance dict.
    __slots__ = ("edges", "needs_input_grad", "shape", "dtype", "_inputs", "__dict__", "__weakref__")

    # Rarely set, so kept as class defaults rather than filled in on every call.
    _saved = None
    _output_data = None
    _freed = False
    hooks = None           # tensor hooks registered on this node's output
    retained = None        # weakref to an output tensor that called retain_grad()
    site = None            # where in user code the op was created (anomaly mode)
    tensor_backward = False  # backward takes and returns Tensors (Primitive), so the engine calls it directly

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the inputs' arrays; if any input requires grad (and grad mode is on),
        return a Tensor whose grad_fn is this call's node. Non-Tensor arguments pass through."""
        ctx = object.__new__(cls)
        if not grad_mode._state.grad_enabled:  # nothing to record (every backward formula runs so)
            ctx._inputs = _NOT_RECORDING
            arrays = []
            for arg in args:
                arrays.append(arg.data if isinstance(arg, Tensor) else arg)
            out = cls.forward(ctx, *arrays, **kwargs)
            return Tensor._make(out if out.__class__ is np.ndarray else np.asarray(out), False, None)
        # One plain loop (comprehensions cost a frame each on the hot path).
        arrays, needs, edges = [], [], []
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg.data)
                if arg.requires_grad:
                    needs.append(True)
                    edges.append(arg.grad_fn or arg)
                    continue
            else:
                arrays.append(arg)
            needs.append(False)
            edges.append(None)
        record = True in needs
        # Without a graph to record, forward's save_for_backward has nothing to do.
        ctx._inputs = args if record else _NOT_RECORDING
        out = cls.forward(ctx, *arrays, **kwargs)
        if out.__class__ is not np.ndarray:
            out = np.asarray(out)
        if not record or out.dtype.kind not in "fc":
            return Tensor._make(out, False, None)
        ctx._inputs = None
        ctx.needs_input_grad = tuple(needs)
        ctx.edges = tuple(edges)
        ctx.shape = out.shape
        ctx.dtype = out.dtype
        if grad_mode._state.anomaly:
            ctx.site = "".join(traceback.format_stack(limit=12)[:-1])
        return Tensor._make(out, True, ctx)

    # -- saving values for backward ------------------------------------------------------------
    def save_for_backward(self, *values):
        """Save arrays (or None) for backward; a custom op's backward gets them back as they are."""
        if self._inputs is not _NOT_RECORDING:
            self._saved = values

    def save_output(self, out):
        """Keep the output array for backward (exp, tanh, softmax...); returns it unchanged."""
        if self._inputs is not _NOT_RECORDING:
            self._output_data = out
        return out

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._freed:
                raise freed_graph_error(self)
            return ()
        return saved

    @property
    def output(self):
        if self._freed:
            raise freed_graph_error(self)
        return Tensor._make(self._output_data, True, self)

    def release_saved(self):
        """Drop what forward saved, once backward has used it (unless retain_graph)."""
        if self._saved is not None or self._output_data is not None:
            self._saved = None
            self._output_data = None
            self._freed = True

    # -- running backward (called by the engine) -----------------------------------------------
    def run_backward(self, grad, create_graph):
        """Gradients for the inputs, as a tuple of Tensors or None, one per input."""
        if create_graph:
            raise RuntimeError(
                f"create_graph=True reached the custom op {type(self).__name__}, whose backward works "
                "on NumPy arrays and so is differentiable only once. Write it with autograd ops "
                "(or as an autograd primitive) to get higher-order gradients.")
        grads = type(self).backward(self, grad.data)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.edges):
            raise RuntimeError(
                f"{type(self).__name__}.backward returned {len(grads)} gradients, but forward had "
                f"{len(self.edges)} inputs (return None for inputs that need no gradient)")
        return tuple(None if g is None else Tensor._make(np.asarray(g), False, None) for g in grads)

    # -- introspection ---------------------------------------------------------------------------
    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        """As in PyTorch: ((node_or_leaf, 0), ...) for each input."""
        return tuple((edge, 0) for edge in self.edges)

    def register_hook(self, hook):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        return RemovableHandle(self.hooks, hook)

    def __repr__(self):
        return f"<{self.name()}Backward>"


class Primitive(Function):
    """A built-in op: NumPy forward; backward takes and returns Tensors (see module docstring)."""
    __slots__ = ()
    tensor_backward = True

    def save_for_backward(self, *values):
        """Save arrays (or None, or Python numbers) for backward, where they come back as Tensors.
        An array that is one of the op's inputs is saved as that input Tensor, so a backward
        written with Tensor ops stays differentiable in it; a Python number stays a number,
        which Tensor ops accept as it is. Converted here, once, rather than on every read."""
        inputs = self._inputs
        if inputs is _NOT_RECORDING:
            return
        saved = []
        for value in values:
            if value is None or value.__class__ in _PYTHON_NUMBERS:
                saved.append(value)
                continue
            for tensor in inputs:
                if isinstance(tensor, Tensor) and tensor.data is value:
                    saved.append(tensor)
                    break
            else:
                saved.append(Tensor._make(value, False, None) if isinstance(value, np.ndarray) else value)
        self._saved = tuple(saved)


class RemovableHandle:
    """Returned by register_hook; `.remove()` unregisters the hook."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass


from .tensor import Tensor  # noqa: E402  (tensor.py imports ops, which import this module)
