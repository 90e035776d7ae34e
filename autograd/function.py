"""Function: the one place where a graph node is created.

A node is the `ctx` object of one op call (as in PyTorch, `y.grad_fn` is the ctx of the op that
made `y`). `apply` runs the op's NumPy forward, and when gradients are needed records on the node:

- `edges`: for each input, where its gradient goes: the input's own node, the input itself if it
  is a leaf that requires grad, or None; `edge_slots`, when some input was not output 0 of its
  node, says which output of that node each input was;
- `shape`, `dtype`: of the output, so the engine can sum gradients back to this shape (a node with
  several outputs has `shapes` and `dtypes` instead, one per output, and `shape` None);
- what the forward saved with `save_for_backward` / `save_output`.

An op may return several arrays (forward returns a tuple): the call then gives a tuple of Tensors
that share the one node, each knowing its `output_nr`, and backward receives one gradient per
output. Nothing is packed or copied to make that work: the engine keeps one gradient slot per
output, as Chainer and PyTorch do.

Two kinds of op share this machinery:

- `Function` is for users' custom ops: forward and backward both see NumPy arrays, so such an op
  is once-differentiable, and `create_graph=True` through it raises rather than quietly giving a
  wrong second derivative. Outputs that get no gradient arrive in its backward as zeros (unless
  `ctx.set_materialize_grads(False)`), as in PyTorch. What its backward returns is checked
  (count, shape, dtype) before it enters the graph.
- `Primitive` is for built-in ops: backward receives and returns Tensors (None for an output
  that got no gradient) and is written with Tensor ops or other Primitives, so it can itself be
  differentiated (higher-order gradients). A fused op's backward is a primitive of its own whose
  forward is the fast array kernel (see ops/normalization.py), so first derivatives run the
  kernel and second derivatives differentiate it.

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
    """Base class of a custom op with its own gradient: subclass it, write `forward(ctx, ...)` and
    `backward(ctx, *grads)` as static methods on NumPy arrays, and call it with `MyOp.apply(...)`. An
    instance is the graph node (`grad_fn`) of one call. As `torch.autograd.Function`."""

    # What every recorded node sets lives in slots, so most nodes never make an instance dict; op
    # parameters (ctx.dim = ...) go to the dict.
    # `made_by` is the nn.Module whose forward returned the node's output (set on every module call,
    # read by draw_graph), a slot so that it makes no instance dict either.
    __slots__ = ("edges", "needs_input_grad", "shape", "dtype", "_inputs", "_saved", "_output_data", "_freed",
                 "_output_version", "made_by", "__dict__", "__weakref__")

    # Rarely set, so kept as class defaults rather than filled in on every call.
    n_outputs = 1
    edge_slots = None        # per edge, which output of its node the input was; None: output 0 for all
    hooks = None             # [(output index, hook)] registered on this node's outputs
    retained = None          # {output index: weakref to an output tensor that called retain_grad()}
    site = None              # where in user code the op was created (anomaly mode)
    tensor_backward = False  # backward takes and returns Tensors (Primitive)
    materialize_grads = True
    # A view op (its output shares the input's memory) sets this to a function (ctx, array, output
    # index) -> the same view of another array of the input's shape (autograd/inplace.py).
    replay_view = None
    _saved_versions = None   # the version of each saved tensor when saved, if any had a counter

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """The op on NumPy arrays: takes the inputs' arrays (non-Tensor arguments as given) and
        returns the output array, or a tuple of arrays for several outputs. Saves what backward
        needs on `ctx` (`ctx.save_for_backward`, `ctx.save_output`, or attributes)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        """The gradients of the inputs from the gradients of the outputs (one per output), one per
        forward argument (None where there is none). A `Function` sees and returns NumPy arrays; a
        `Primitive` sees and returns Tensors, so its backward can itself be differentiated."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the inputs' arrays; if any input requires grad (and grad mode is on), the
        output Tensor(s) get this call's node as grad_fn. Non-Tensor arguments pass through."""
        ctx = object.__new__(cls)
        # _output_version: (version counter, version) of the saved output, once its tensor has a counter
        ctx._saved = ctx._output_data = ctx._output_version = None
        ctx._freed = False
        if not grad_mode._state.grad_enabled and cls.tensor_backward:
            # Nothing to record: the hot path of every built-in backward formula.
            ctx._inputs = _NOT_RECORDING
            arrays = []
            for arg in args:
                arrays.append(arg._data if isinstance(arg, Tensor) else arg)
            out = cls.forward(ctx, *arrays, **kwargs)
            result = Tensor._make(out, False, None) if out.__class__ is np.ndarray else _constants(out)
            if cls.replay_view is not None:
                track_view(ctx, cls.replay_view, args[0], result if out.__class__ is tuple else (result,))
            return result
        # One plain loop (comprehensions cost a frame each on the hot path).
        arrays, needs, edges, slots = [], [], [], None
        for arg in args:
            if isinstance(arg, Tensor):
                arrays.append(arg._data)
                if arg.requires_grad:
                    needs.append(True)
                    edges.append(arg.grad_fn or arg)
                    if arg.output_nr:
                        slots = (slots or {})
                        slots[len(edges) - 1] = arg.output_nr
                    continue
            else:
                arrays.append(arg)
            needs.append(False)
            edges.append(None)
        ctx.needs_input_grad = tuple(needs)   # as PyTorch: readable in forward, even under no_grad
        record = grad_mode._state.grad_enabled and True in needs
        # Without a graph to record, forward's save_for_backward has nothing to do.
        ctx._inputs = args if record else _NOT_RECORDING
        returned = cls.forward(ctx, *arrays, **kwargs)
        ctx._inputs = None
        if returned.__class__ is tuple:
            result, recorded = _several_outputs(ctx, returned, record)
            if cls.replay_view is not None:
                track_view(ctx, cls.replay_view, args[0], result)
            if not recorded:
                return result
        else:
            out = returned if returned.__class__ is np.ndarray else np.asarray(returned)
            if not record or out.dtype.kind not in "fc" or (not cls.tensor_backward and ctx._is_marked(returned)):
                result = Tensor._make(out, False, None)
                if cls.replay_view is not None:
                    track_view(ctx, cls.replay_view, args[0], (result,))
                return result
            ctx.shape = out.shape
            ctx.dtype = out.dtype
            result = Tensor._make(out, True, ctx)
            if cls.replay_view is not None:
                track_view(ctx, cls.replay_view, args[0], (result,))
        ctx.edges = tuple(edges)
        if slots:
            ctx.edge_slots = tuple(slots.get(i, 0) for i in range(len(edges)))
        if saved_hooks.stack: pack_saved(ctx)  # noqa: E701  (autograd/saved_tensor_hooks.py)
        if grad_mode._state.anomaly:
            ctx.site = _creation_site()
        return result

    # -- saving values for backward ------------------------------------------------------------
    def save_for_backward(self, *values):
        """Save arrays (or None) for backward; a custom op's backward gets them back as they are."""
        if self._inputs is not _NOT_RECORDING:
            self._saved = values

    def save_output(self, out):
        """Keep the (single) output array for backward (exp, tanh, softmax...); returns it unchanged."""
        if self._inputs is not _NOT_RECORDING:
            self._output_data = out
        return out

    def mark_non_differentiable(self, *outputs):
        """As PyTorch: these outputs (arrays that forward returns) get requires_grad=False, and
        backward receives zeros for them."""
        self.__dict__["marked"] = self.__dict__.get("marked", ()) + outputs

    def _is_marked(self, returned):
        """Whether forward marked this returned value non-differentiable (matched as returned,
        before NumPy scalars become arrays)."""
        return any(returned is m for m in self.__dict__.get("marked", ()))

    def set_materialize_grads(self, value):
        """As PyTorch: with False, outputs that get no gradient arrive in backward as None."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """What forward saved with `save_for_backward`, as a tuple (Tensors for a Primitive); raises once a
        backward without retain_graph has freed it."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise freed_graph_error(self)
            return ()
        if saved.__class__ is not tuple:
            return unpack_saved(saved)
        for value in saved:
            if value.__class__ is Tensor and value._version_counter is not None:
                self._check_saved_versions(saved)
                break
        return saved

    def _check_saved_versions(self, saved):
        """Raise if an in-place op changed a saved tensor since it was saved."""
        versions = self._saved_versions or {}
        for index, value in enumerate(saved):
            if value.__class__ is Tensor and value._version_counter is not None:
                expected = versions.get(index, 0)
                if value._version_counter.value != expected:
                    raise modified_saved_value_error(self, value, f"saved value {index}", expected)

    @property
    def output(self):
        """The op's output saved with `save_output`, as a Tensor whose grad_fn is this node; raises once
        freed by a backward."""
        if self._freed:
            raise freed_graph_error(self)
        if self._output_version is not None:
            counter, expected = self._output_version
            if counter.value != expected:
                raise modified_saved_value_error(self, Tensor._make(self._output_data, False, None), "its output",
                                                 expected, counter.value)
        data = self._output_data
        return Tensor._make(data if data.__class__ is not PackedValue else unpack_output(data), True, self)

    def release_saved(self):
        """Drop what forward saved, once backward has used it (unless retain_graph)."""
        if self._saved is not None or self._output_data is not None:
            self._saved = None
            self._output_data = None
            self._freed = True

    # -- running backward (called by the engine) -----------------------------------------------
    def run_backward(self, grads, create_graph):
        """A custom op's NumPy backward, given one gradient per output (a Tensor or None): the
        gradients for its inputs, as Tensors (or None), checked against the inputs."""
        name = type(self).__name__
        if create_graph:
            raise RuntimeError(
                f"create_graph=True reached the custom op {name}, whose backward works "
                "on NumPy arrays and so is differentiable only once. Write it with autograd ops "
                "(or as an autograd primitive) to get higher-order gradients.")
        arrays = []
        for index, g in enumerate(grads):
            if g is not None:
                arrays.append(g._data)
            elif self.materialize_grads:
                shape, dtype = self.output_meta(index)
                arrays.append(np.zeros(shape, dtype))
            else:
                arrays.append(None)
        results = type(self).backward(self, *arrays)
        if not isinstance(results, tuple):
            results = (results,)
        if len(results) != len(self.edges):
            raise RuntimeError(
                f"{name}.backward returned {len(results)} gradients, but forward had "
                f"{len(self.edges)} inputs (return None for inputs that need no gradient)")
        return tuple(None if g is None or edge is None else Tensor._make(np.asarray(g), False, None)
                     for g, edge in zip(results, self.edges))

    def output_meta(self, index):
        """(shape, dtype) of output `index`."""
        if self.n_outputs == 1:
            return self.shape, self.dtype
        return self.shapes[index], self.dtypes[index]

    # -- introspection ---------------------------------------------------------------------------
    def name(self):
        """The op's name, its class name (e.g. 'Exp'), used in error messages and graph drawings."""
        return type(self).__name__

    @property
    def next_functions(self):
        """As in PyTorch: ((node_or_leaf, output index), ...) for each input."""
        slots = self.edge_slots or (0,) * len(self.edges)
        return tuple(zip(self.edges, slots))

    def register_hook(self, hook, output=0):
        """Call `hook(grad)` with the gradient of output number `output` each time backward computes it; a
        non-None result replaces the gradient. Returns a handle whose `.remove()` unregisters it."""
        if self.hooks is None:
            self.hooks = []
        entry = (output, hook)
        self.hooks.append(entry)
        return RemovableHandle(self.hooks, entry)

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
        saved, versions = [], None
        for value in values:
            if value is None or value.__class__ in _PYTHON_NUMBERS:
                saved.append(value)
                continue
            for tensor in inputs:
                if isinstance(tensor, Tensor) and tensor._data is value:
                    if tensor._version_counter is not None:
                        versions = versions or {}
                        versions[len(saved)] = tensor._version_counter.value
                    saved.append(tensor)
                    break
            else:
                saved.append(Tensor._make(value, False, None) if isinstance(value, np.ndarray) else value)
        self._saved = tuple(saved)
        if versions:
            self._saved_versions = versions


class RemovableHandle:
    """Returned by register_hook; `.remove()` unregisters the hook."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        """Unregister the hook (again: nothing happens)."""
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass


def _constants(result):
    """Tensors outside the graph for what a forward returned: one array, or a tuple of them."""
    if result.__class__ is tuple:
        return tuple(None if r is None else Tensor._make(np.asarray(r), False, None) for r in result)
    return Tensor._make(np.asarray(result), False, None)


def _several_outputs(ctx, returned, record):
    """The Tensors of an op that returned several arrays: each differentiable one has this node as
    grad_fn and its own output index; marked, integer and None outputs stay outside the graph.
    Returns (the tuple, whether any output was recorded), having set the node's output metadata."""
    outputs = [None if o is None else o if o.__class__ is np.ndarray else np.asarray(o) for o in returned]
    differentiable = [record and o is not None and o.dtype.kind in "fc" and not ctx._is_marked(r)
                      for o, r in zip(outputs, returned)]
    if True not in differentiable:
        return _constants(tuple(outputs)), False
    ctx.n_outputs = len(outputs)
    # `shape` is for nodes with one output (a 1-tuple included); the engine reads `shapes` otherwise.
    ctx.shape, ctx.dtype = (outputs[0].shape, outputs[0].dtype) if len(outputs) == 1 else (None, None)
    ctx.shapes = tuple(None if o is None else o.shape for o in outputs)
    ctx.dtypes = tuple(None if o is None else o.dtype for o in outputs)
    tensors = []
    for index, (out, is_differentiable) in enumerate(zip(outputs, differentiable)):
        if out is None:
            tensors.append(None)
        elif is_differentiable:
            t = Tensor._make(out, True, ctx)
            if index:
                t.output_nr = index
            tensors.append(t)
        else:
            tensors.append(Tensor._make(out, False, None))
    return tuple(tensors), True


def _creation_site():
    return "".join(traceback.format_stack(limit=13)[:-2])


def modified_saved_value_error(node, value, which, expected, version=None):
    """The RuntimeError for a value saved for backward that an in-place op changed since (PyTorch's
    "modified by an inplace operation"), naming the op that saved it, its shape and the versions."""
    version = value._version if version is None else version
    message = (f"one of the values needed to compute the gradient of {node.name()} ({which}: a {value.dtype} "
               f"tensor of shape {value.shape}) has been modified by an in-place operation: it is at version "
               f"{version}; expected version {expected}. Use the out-of-place op (or .clone() the tensor before "
               "changing it) so that the value saved for backward stays as it was.")
    if node.site:
        message += "\nThe op that saved it was created at:\n" + node.site
    else:
        message += " Run under `with autograd.detect_anomaly():` to see where that op was created."
    return RuntimeError(message)


from .tensor import Tensor  # noqa: E402  (tensor.py imports ops, which import this module)
from .inplace import track_view  # noqa: E402
from .saved_tensor_hooks import PackedValue, pack_saved, state as saved_hooks, unpack_output, unpack_saved  # noqa: E402
