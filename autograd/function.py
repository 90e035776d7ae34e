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
    # What every recorded node sets lives in slots (set in `_start_recording`), so most nodes never
    # make an instance dict; op parameters (ctx.dim = ...) go to the dict.
    __slots__ = ("edges", "needs_input_grad", "shape", "dtype", "_inputs", "_saved", "_output_data", "_freed",
                 "__dict__", "__weakref__")

    # Rarely set, so kept as class defaults rather than filled in on every call.
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
        """Run forward on the inputs' arrays; if any input requires grad (and grad mode is on), the
        output Tensor(s) get this call's node as grad_fn. Non-Tensor arguments pass through. As in
        PyTorch, forward may return a tuple of arrays and mark some as non-differentiable."""
        return _apply_custom(cls, *args, **kwargs)

    def _start_recording(self):
        """Before forward runs on a node that may be recorded: nothing saved yet."""
        self._saved = self._output_data = None
        self._freed = False

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

    def mark_non_differentiable(self, *outputs):
        """As PyTorch: these outputs (arrays that forward returns) get requires_grad=False, and
        backward receives zeros for them."""
        self._non_differentiable = self.__dict__.get("_non_differentiable", ()) + outputs

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
        return _user_backward(self, len(self.edges), create_graph, grad.data)

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

    @classmethod
    def apply(cls, *args, **kwargs):
        """Built-in ops' lean apply (the hot path; one output). Run forward on the inputs' arrays; if any input requires grad (and grad mode is on),
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
        ctx._saved = ctx._output_data = None  # _start_recording, inlined on the hot path
        ctx._freed = False
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


# -- users' ops: several outputs, mark_non_differentiable -----------------------------------------
#
# A custom op may return a tuple of arrays, as in PyTorch. The engine knows only nodes with one
# output, so such a call gets one small node per differentiable output (`OutputNode`, the
# outputs' grad_fn), each with a single edge into one shared node (`SeveralOutputsNode`) whose
# edges are the op's inputs. An output node places its gradient in its slice of one flat vector;
# the engine adds those vectors up at the shared node as it adds any gradients, and the shared node
# cuts the sum back into one gradient per output (zeros for outputs that got none, and for
# non-differentiable ones, as PyTorch) for the user's backward. Single-output nodes, and every
# built-in op, never see any of this.

def _apply_custom(cls, *args, **kwargs):
    """`apply` for users' ops (subclasses of Function that are not Primitives): as Function.apply,
    plus tuple outputs, ctx.mark_non_differentiable and ctx.needs_input_grad during forward."""
    ctx = object.__new__(cls)
    ctx._start_recording()
    arrays, needs, edges = [], [], []
    for arg in args:
        is_tensor = isinstance(arg, Tensor)
        arrays.append(arg.data if is_tensor else arg)
        requires = is_tensor and arg.requires_grad
        needs.append(requires)
        edges.append((arg.grad_fn or arg) if requires else None)
    ctx.needs_input_grad = tuple(needs)  # as PyTorch: readable in forward, even under no_grad
    record = grad_mode._state.grad_enabled and True in needs
    ctx._inputs = args if record else _NOT_RECORDING
    result = cls.forward(ctx, *arrays, **kwargs)
    several = result.__class__ is tuple
    returned = result if several else (result,)
    marked = ctx.__dict__.get("_non_differentiable", ())
    # Marks are matched against what forward returned, before NumPy scalars become arrays.
    unmarked = [not any(o is m for m in marked) for o in returned]
    outputs = [None if o is None else o if o.__class__ is np.ndarray else np.asarray(o) for o in returned]
    differentiable = [record and o is not None and o.dtype.kind in "fc" and free
                      for o, free in zip(outputs, unmarked)]
    ctx._inputs = None
    if not True in differentiable:
        tensors = [None if o is None else Tensor._make(o, False, None) for o in outputs]
        return tuple(tensors) if several else tensors[0]
    site = "".join(traceback.format_stack(limit=12)[:-1]) if grad_mode._state.anomaly else None
    if not several:
        (out,) = outputs
        ctx.edges, ctx.shape, ctx.dtype, ctx.site = tuple(edges), out.shape, out.dtype, site
        return Tensor._make(out, True, ctx)
    shared = SeveralOutputsNode.make(ctx, tuple(edges), outputs, differentiable, site)
    tensors = []
    for index, (out, is_differentiable) in enumerate(zip(outputs, differentiable)):
        if out is None:
            tensors.append(None)
        elif is_differentiable:
            tensors.append(Tensor._make(out, True, OutputNode.make(shared, index, out, site)))
        else:
            tensors.append(Tensor._make(out, False, None))
    return tuple(tensors)


def _user_backward(ctx, n_inputs, create_graph, *grads):
    """Run a custom op's NumPy backward: one gradient per input, as Tensors (or None)."""
    if create_graph:
        raise RuntimeError(
            f"create_graph=True reached the custom op {type(ctx).__name__}, whose backward works "
            "on NumPy arrays and so is differentiable only once. Write it with autograd ops "
            "(or as an autograd primitive) to get higher-order gradients.")
    results = type(ctx).backward(ctx, *grads)
    if not isinstance(results, tuple):
        results = (results,)
    if len(results) != n_inputs:
        raise RuntimeError(
            f"{type(ctx).__name__}.backward returned {len(results)} gradients, but forward had "
            f"{n_inputs} inputs (return None for inputs that need no gradient)")
    return tuple(None if g is None else Tensor._make(np.asarray(g), False, None) for g in results)


class SeveralOutputsNode(Function):
    """The shared node of a custom op with several outputs (see above): its edges are the op's
    inputs; `ctx` is the user's ctx, which holds what forward saved."""
    __slots__ = ()

    @classmethod
    def make(cls, ctx, edges, outputs, differentiable, site):
        node = object.__new__(cls)
        node._start_recording()
        node.ctx, node.edges, node.needs_input_grad, node.site = ctx, edges, ctx.needs_input_grad, site
        slices, start = [], 0
        for out, is_differentiable in zip(outputs, differentiable):
            if out is not None and is_differentiable:
                slices.append((start, out.shape, out.dtype))
                start += out.size
            else:
                slices.append(None if out is None else (None, out))
        node.slices = slices
        node.shape = (start,)
        node.dtype = np.result_type(*[o.dtype for o, d in zip(outputs, differentiable) if d])
        node._saved = ctx._saved  # so the engine frees what forward saved once backward has run
        return node

    def run_backward(self, flat, create_graph):
        flat = flat.data
        grads = []
        for piece in self.slices:
            if piece is None:
                grads.append(None)
            elif piece[0] is None:  # a non-differentiable output: zeros like it, as PyTorch
                grads.append(np.zeros_like(piece[1]))
            else:  # the flat vector has the widest output dtype: each output gets its own back
                start, shape, dtype = piece
                size = int(np.prod(shape, dtype=np.int64))
                grads.append(flat[start:start + size].reshape(shape).astype(dtype, copy=False))
        return _user_backward(self.ctx, len(self.edges), create_graph, *grads)

    def release_saved(self):
        self.ctx.release_saved()
        self._saved = None
        self._freed = True

    def name(self):
        return type(self.ctx).__name__


class OutputNode(Primitive):
    """The grad_fn of output `index` of a custom op with several outputs: puts its gradient in its
    slice of the shared node's flat gradient."""
    __slots__ = ()

    @classmethod
    def make(cls, shared, index, out, site):
        node = object.__new__(cls)
        node._start_recording()
        node.edges, node.needs_input_grad, node.site = (shared,), (True,), site
        node.shape, node.dtype, node.index = out.shape, out.dtype, index
        return node

    @staticmethod
    def backward(node, grad):
        shared = node.edges[0]
        start = shared.slices[node.index][0]
        flat = np.zeros(shared.shape, shared.dtype)
        flat[start:start + grad.data.size] = grad.data.reshape(-1)
        return Tensor._make(flat, False, None)

    def name(self):
        return f"{self.edges[0].name()}Output{self.index}"


from .tensor import Tensor  # noqa: E402  (tensor.py imports ops, which import this module)
