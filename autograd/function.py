"""Function: the one place where a graph node is created.

A node is the `ctx` object of one op call (as in PyTorch, `y.grad_fn` is the ctx of the op that
made `y`). `apply` runs the op's forward, and when gradients are needed records on the node:

- `edges`: for each input, where its gradient goes: the input's own node, the input itself if it
  is a leaf that requires grad, or None; `edge_slots`, when some input was not output 0 of its
  node, says which output of that node each input was;
- `shape`, `dtype`: of the output, so the engine can sum gradients back to this shape (a node with
  several outputs has `shapes` and `dtypes` instead, one per output, and `shape` None);
- what the forward saved with `save_for_backward` / `save_output`.

An op may return several values (forward returns a tuple): the call then gives a tuple of Tensors
that share the one node, each knowing its `output_nr`, and backward receives one gradient per
output. Nothing is packed or copied to make that work: the engine keeps one gradient slot per
output, as Chainer and PyTorch do.

Two kinds of op share this machinery. In both, backward receives and returns Tensors, runs under
no_grad unless `create_graph=True`, and is recorded with it, so that written with Tensor ops it
can itself be differentiated (higher-order gradients).

- `Function` is for users' custom ops, as PyTorch's `torch.autograd.Function`: forward receives
  the input Tensors themselves and runs under no_grad (it may compute with Tensor ops or with
  NumPy, and return Tensors or arrays). `ctx.save_for_backward` keeps inputs as themselves and
  outputs re-attached to the node, so a backward that uses them stays differentiable in them.
  Outputs that get no gradient arrive in its backward as zeros (unless
  `ctx.set_materialize_grads(False)`). What its backward returns is checked (count, type, shape,
  dtype) before it enters the graph. A backward that cannot be differentiated again (NumPy code)
  is decorated with `@once_differentiable`: a second derivative through it then raises.
- `Primitive` is for built-in ops: forward works on the inputs' NumPy arrays (no Tensor is made
  on the way in, which keeps the hot path short), and backward is written with Tensor ops or
  other Primitives. A fused op's backward is a primitive of its own whose forward is the fast
  array kernel (see ops/normalization.py), so first derivatives run the kernel and second
  derivatives differentiate it.

A node never holds its output Tensor: `ctx.output` (and a custom op's saved output) wraps the
saved output array in a fresh Tensor whose grad_fn is the node, so `grad * y` builds no reference
cycle and the graph is freed by reference counting as soon as the user lets go of it.
"""
import contextvars
import functools
import traceback

import numpy as np

from . import grad_mode
from .errors import DTypeError, freed_graph_error


_NOT_RECORDING = ()
_PYTHON_NUMBERS = (float, int, bool)

# PyTorch computes 1 / 0, log(0) and exp(1000) silently (inf, nan); NumPy's kernels warn (or raise, under
# np.errstate or -W error) from inside our ops. So a built-in op's forward runs in a context of its own, one
# per thread, an empty context in which NumPy's floating-point errors are ignored (empty, not a copy of the
# thread's: a copy would keep every context variable's value at the thread's first op alive). It costs
# about 0.2 us per op (x * 1.0001: 3.12 -> 3.36 us); np.errstate costs 0.9 us, and setting NumPy's error
# state and back 0.4 us per op (NumPy then looks its state up again on every ufunc call). Ops run inside an
# op's forward are already in it.
_in_quiet_context = contextvars.ContextVar("ndgrad_ignoring_floating_point_errors", default=False)


def _new_quiet_context():
    """This thread's context for built-in ops' forwards (made on its first op)."""
    def ignore_floating_point_errors():
        np.seterr(all="ignore")   # NumPy 2 keeps its error state in a context variable: this context's only
        _in_quiet_context.set(True)
    context = contextvars.Context()
    context.run(ignore_floating_point_errors)
    grad_mode._state.quiet_context = context
    return context


def run_quietly(function, *args, **kwargs):
    """function(*args, **kwargs) with NumPy's floating-point errors ignored, as built-in ops run (see
    above), but in the caller's own context: a backward pass runs user hooks and custom backwards, which
    must read and set the caller's context variables as they would under PyTorch (the per-thread context
    holds none of them, and a hook running code in another context could not enter it while the pass ran
    in it). Once per pass, so np.errstate's cost is small."""
    if _in_quiet_context.get():
        return function(*args, **kwargs)
    token = _in_quiet_context.set(True)
    try:
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)
    finally:
        _in_quiet_context.reset(token)


class Function:
    """Base class of a custom op with its own gradient, as `torch.autograd.Function`: subclass it,
    write `forward(ctx, ...)` and `backward(ctx, *grads)` as static methods on Tensors, and call it
    with `MyOp.apply(...)`. An instance is the graph node (`grad_fn`) of one call."""

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
    _saved_outputs = None    # {position in saved_tensors: output index} of a custom op's saved outputs
    output_index = 0         # which output `save_output` kept, for an op with several
    retained = None          # {output index: weakref to an output tensor that called retain_grad()}
    site = None              # where in user code the op was created (anomaly mode)
    tensor_backward = False  # True for a built-in Primitive, whose forward gets the arrays (a custom op's, the Tensors)
    # True for a Primitive whose backward is right for complex values as it stands (linear with real coefficients:
    # reshapes, indexing, sums, add, neg), so a complex result of it is recorded; the others refuse one.
    complex_safe = False
    materialize_grads = True
    # A view op (its output shares the input's memory) sets this to a function (ctx, array, output
    # index) -> the same view of another array of the input's shape (autograd/inplace.py).
    replay_view = None
    _saved_versions = None   # the version of each saved tensor when saved, if any had a counter

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """The op: receives the input Tensors themselves (non-Tensor arguments as given) and runs
        under no_grad; returns a Tensor or a NumPy array, or a tuple of them for several outputs.
        Saves what backward needs with `ctx.save_for_backward` (or as attributes of `ctx`).
        A `Primitive`'s forward receives and returns the arrays instead."""
        raise NotImplementedError

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split form, used where a subclass defines it: then `forward(*args)` takes no
        ctx, and `setup_context(ctx, inputs, output)` (inputs: the tuple of arguments given to
        `apply`, output: what forward returned) saves what backward needs."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        """The gradients of the inputs from the gradients of the outputs (one Tensor per output):
        one per forward argument, a Tensor, a NumPy array or None (where there is none). Under
        `create_graph=True` its Tensor ops are recorded, so it can itself be differentiated."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward (on the inputs' arrays for a Primitive, on the Tensors for a custom op); if any
        input requires grad (and grad mode is on), the output Tensor(s) get this call's node as
        grad_fn. Non-Tensor arguments pass through."""
        ctx = object.__new__(cls)
        # _output_version: (version counter, version) of the saved output, once its tensor has a counter
        ctx._saved = ctx._output_data = ctx._output_version = None
        ctx._freed = False
        state = grad_mode._state   # thread-local: looked up once
        if not state.grad_enabled and cls.tensor_backward:
            # Nothing to record: the hot path of every built-in backward formula.
            ctx._inputs = ctx.needs_input_grad = _NOT_RECORDING
            arrays = []
            for arg in args:
                arrays.append(arg._data if isinstance(arg, Tensor) else arg)
            if _in_quiet_context.get():
                out = cls.forward(ctx, *arrays, **kwargs)
            else:
                out = (state.quiet_context or _new_quiet_context()).run(cls.forward, ctx, *arrays, **kwargs)
            result = Tensor._make(out, False, None) if out.__class__ is np.ndarray else _constants(out)
            if cls.replay_view is not None:
                track_view(ctx, cls.replay_view, args[0], result)
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
        record = state.grad_enabled and True in needs
        # Without a graph to record, forward's save_for_backward has nothing to do.
        ctx._inputs = args if record else _NOT_RECORDING
        if not cls.tensor_backward:
            returned = _custom_forward(ctx, args, kwargs)
        elif _in_quiet_context.get():
            returned = cls.forward(ctx, *arrays, **kwargs)
        else:
            returned = (state.quiet_context or _new_quiet_context()).run(cls.forward, ctx, *arrays, **kwargs)
        ctx._inputs = None
        if returned.__class__ is tuple:
            result, recorded = _several_outputs(ctx, returned, record, args)
        else:
            out = returned if returned.__class__ is np.ndarray else np.asarray(returned)
            dtype = out.dtype
            recorded = record and dtype.kind in "fc" and (cls.tensor_backward or not ctx._is_marked(returned))
            if recorded and dtype.kind == "c" and cls.tensor_backward and not cls.complex_safe:
                raise _complex_gradient_error(cls, args)
            if recorded:
                ctx.shape = out.shape
                ctx.dtype = dtype
            result = Tensor._make(out, recorded, ctx if recorded else None)
        if cls.replay_view is not None:
            track_view(ctx, cls.replay_view, args[0], result)
        if recorded:
            ctx.edges = tuple(edges)
            if slots:
                ctx.edge_slots = tuple(slots.get(i, 0) for i in range(len(edges)))
            if saved_hooks.stack: pack_saved(ctx)  # noqa: E701  (autograd/saved_tensor_hooks.py)
            if state.anomaly:
                ctx.site = _creation_site()
        if not cls.tensor_backward:
            result = _finish_custom_op(ctx, args, result)
        return result

    # -- saving values for backward ------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Save Tensors (or None) for backward, which gets them back from `ctx.saved_tensors`. An input
        comes back as that input and an output re-attached to this node, so a backward written with
        Tensor ops stays differentiable in them. Arrays are accepted too, for a forward that computes
        in NumPy (an input's or output's array counts as that input or output)."""
        for position, value in enumerate(tensors):
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(
                    f"{self.name()}: save_for_backward can only save Tensors, arrays or None, but argument "
                    f"{position} is a {type(value).__name__}; keep other values as attributes of ctx")
        if self._inputs is not _NOT_RECORDING:
            self._saved = tensors

    def save_output(self, out, index=0):
        """Keep an output array for backward (exp, tanh, softmax...; one per op), output number `index`
        of several; returns it unchanged."""
        if self._inputs is not _NOT_RECORDING:
            self._output_data = out
            if index:
                self.output_index = index
        return out

    def mark_non_differentiable(self, *outputs):
        """As PyTorch: these outputs (Tensors or arrays that forward returns) get requires_grad=False,
        and backward receives zeros for them."""
        self.__dict__["marked"] = self.__dict__.get("marked", ()) + outputs

    def mark_dirty(self, *tensors):
        """As PyTorch: forward changed these input Tensors in place and returns them; they stay the same
        Tensor objects, with this op as their new history (and one more version)."""
        self.__dict__["dirty"] = self.__dict__.get("dirty", ()) + tensors

    def _is_marked(self, returned):
        """Whether forward marked this returned value non-differentiable (matched as returned,
        before NumPy scalars become arrays)."""
        return any(returned is m for m in self.__dict__.get("marked", ()))

    def set_materialize_grads(self, value):
        """As PyTorch: with False, outputs that get no gradient arrive in backward as None."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """What forward saved with `save_for_backward`, as a tuple of Tensors (None where None was
        saved); raises once a backward without retain_graph has freed it."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise freed_graph_error(self)
            return ()
        if saved.__class__ is not tuple:
            values = unpack_saved(saved)
        else:
            for value in saved:
                if isinstance(value, Tensor) and value._version_counter is not None:
                    self._check_saved_versions(saved)
                    break
            values = saved
        return values if self._saved_outputs is None else self._outputs_attached(values)

    def _check_saved_versions(self, saved):
        """Raise if an in-place op changed a saved tensor since it was saved."""
        versions = self._saved_versions or {}
        for index, value in enumerate(saved):
            if isinstance(value, Tensor) and value._version_counter is not None:
                expected = versions.get(index, 0)
                if value._version_counter.value != expected:
                    raise modified_saved_value_error(self, value, f"saved value {index}", expected)

    def _outputs_attached(self, values):
        """A custom op's saved values with its saved outputs attached to this node again: they are
        kept outside the graph, so that the node does not hold its own output (a reference cycle)."""
        values = list(values)
        for position, index in self._saved_outputs.items():
            if values[position] is None:  # the single output, kept as a primitive's is
                values[position] = self.output
                continue
            output = Tensor._make(values[position]._data, True, self)
            if index:
                output.output_nr = index
            values[position] = output
        return tuple(values)

    @property
    def output(self):
        """The op's output saved with `save_output`, as a Tensor whose grad_fn is this node (that output of
        it); raises once freed by a backward."""
        if self._freed:
            raise freed_graph_error(self)
        if self._output_version is not None:
            counter, expected = self._output_version
            if counter.value != expected:
                raise modified_saved_value_error(self, Tensor._make(self._output_data, False, None), "its output",
                                                 expected, counter.value)
        data = self._output_data
        output = Tensor._make(data if data.__class__ is not PackedValue else unpack_output(data), True, self)
        if self.output_index:
            output.output_nr = self.output_index
        return output

    def release_saved(self):
        """Drop what forward saved, once backward has used it (unless retain_graph)."""
        if self._saved is not None or self._output_data is not None:
            self._saved = None
            self._output_data = None
            self._freed = True

    # -- running backward (called by the engine) -----------------------------------------------
    def run_backward(self, grads):
        """A custom op's backward, given one gradient per output (a Tensor or None): the gradients for
        its inputs, as Tensors (or None). Grad mode is what the engine set: on only for
        create_graph=True, when the backward's ops are recorded."""
        if self.materialize_grads and any(g is None for g in grads):
            grads = [g if g is not None else self._zero_gradient(index) for index, g in enumerate(grads)]
        results = type(self).backward(self, *grads)
        if results.__class__ is not tuple:
            results = (results,)
        if len(results) != len(self.edges):
            raise RuntimeError(
                f"{self.name()}.backward returned {len(results)} gradients, but forward had "
                f"{len(self.edges)} inputs (return None for inputs that need no gradient)")
        return tuple(self._input_gradient(position, g) for position, g in enumerate(results))

    def _zero_gradient(self, index):
        """What backward receives for output `index` when it got no gradient, as PyTorch's: zeros."""
        shape, dtype = self.output_meta(index)
        return None if shape is None else Tensor._make(np.zeros(shape, dtype), False, None)

    def _input_gradient(self, position, g):
        """What backward returned for input `position`, as a Tensor (None for an input that needs no
        gradient). As PyTorch's, anything but a Tensor, an array or None is an error, and so is a
        gradient for an argument that was not a Tensor."""
        if g is None:
            return None
        if not isinstance(g, (Tensor, np.ndarray, np.generic)):
            raise RuntimeError(
                f"{self.name()}.backward returned a {type(g).__name__} as the gradient of input {position}; "
                "expected a Tensor, a NumPy array or None")
        if position in self.__dict__.get("_non_tensor_inputs", ()):
            raise RuntimeError(
                f"{self.name()}.backward returned a gradient for input {position}, which was not a Tensor "
                "(return None for it)")
        if self.edges[position] is None:
            return None
        if isinstance(g, Tensor):
            return g
        if grad_mode._state.grad_enabled:  # create_graph=True, and an array carries no graph
            return _refusing_differentiation(g, (
                f"{self.name()}.backward returned a NumPy array as the gradient of input {position}, which is "
                "outside the graph, so it has no second derivative; compute it with Tensor ops to differentiate "
                "it again (or decorate the backward with @once_differentiable)"))
        return Tensor._make(np.asarray(g), False, None)

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
    if result.__class__ is not tuple:
        return Tensor._make(np.asarray(result), False, None)
    tensors = []   # a plain loop: a generator costs a frame per item on the hot path of backward's ops
    for r in result:
        array = None if r is None else r if r.__class__ is np.ndarray else np.asarray(r)
        tensors.append(None if array is None else Tensor._make(array, False, None))
    return tuple(tensors)


def _complex_gradient_error(cls, args):
    """ndgrad's backward formulas are those of real arguments; for complex ones PyTorch conjugates the
    derivatives (Wirtinger calculus), which ndgrad does not do yet, so its gradients would be wrong:
    refused where the first complex result would be recorded."""
    dtypes = ", ".join(str(arg.dtype) for arg in args if isinstance(arg, Tensor))
    return DTypeError(f"{cls.__name__}: ndgrad does not differentiate complex results yet (inputs {dtypes}); "
                      "compute it under ag.no_grad() or on .detach()ed tensors, or work on the real and imaginary "
                      "parts as real tensors")


def _several_outputs(ctx, returned, record, args):
    """The Tensors of an op that returned several arrays: each differentiable one has this node as
    grad_fn and its own output index; marked, integer and None outputs stay outside the graph (a
    complex one of a built-in op is refused as a single output is, see apply). Returns (the tuple,
    whether any output was recorded), having set the node's output metadata."""
    if not record:
        return _constants(returned), False
    marked = ctx.__dict__.get("marked")
    outputs, differentiable, shapes, dtypes = [], [], [], []   # plain loops: see _constants
    for o in returned:
        if o is not None and o.__class__ is not np.ndarray:
            is_marked, o = marked is not None and ctx._is_marked(o), np.asarray(o)
        else:
            is_marked = marked is not None and o is not None and ctx._is_marked(o)
        outputs.append(o)
        differentiable.append(o is not None and o.dtype.kind in "fc" and not is_marked)
        shapes.append(None if o is None else o.shape)
        dtypes.append(None if o is None else o.dtype)
    if True not in differentiable:
        return _constants(tuple(outputs)), False
    cls = type(ctx)
    if cls.tensor_backward and not cls.complex_safe and True in [d and o.dtype.kind == "c"
                                                                   for o, d in zip(outputs, differentiable)]:
        raise _complex_gradient_error(cls, args)
    ctx.n_outputs = len(outputs)
    # `shape` is for nodes with one output (a 1-tuple included); the engine reads `shapes` otherwise.
    ctx.shape, ctx.dtype = (shapes[0], dtypes[0]) if len(outputs) == 1 else (None, None)
    ctx.shapes, ctx.dtypes = tuple(shapes), tuple(dtypes)
    tensors = []
    for index, out in enumerate(outputs):
        if out is None:
            tensors.append(None)
        elif differentiable[index]:
            t = Tensor._make(out, True, ctx)
            if index:
                t.output_nr = index
            tensors.append(t)
        else:
            tensors.append(Tensor._make(out, False, None))
    return tuple(tensors), True


def _custom_forward(ctx, args, kwargs):
    """A custom op's forward, as PyTorch runs it: on the input Tensors themselves, recording nothing.
    Returns what it returned with each Tensor replaced by its array (what `apply` records), marks
    and saved values following along."""
    cls = type(ctx)
    with grad_mode.no_grad():
        if cls.setup_context is Function.setup_context:
            returned = cls.forward(ctx, *args, **kwargs)
        else:
            returned = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, returned)
    several = returned.__class__ is tuple
    outputs = tuple(_array_of(r) for r in returned) if several else (_array_of(returned),)
    marked = ctx.__dict__.get("marked")
    if marked:
        ctx.marked = tuple(_array_of(m) for m in marked)
    non_tensors = tuple(position for position, arg in enumerate(args) if not isinstance(arg, Tensor))
    if non_tensors:
        ctx._non_tensor_inputs = non_tensors
    if ctx._saved is not None:
        ctx._saved = _saved_as_tensors(ctx, outputs, several)
    return outputs if several else outputs[0]


def _adopt_dirty(ctx, result):
    """The outputs of a custom op with each input it marked dirty (changed in place) standing for the
    output that is its memory: the same Tensor object, one version on, with this op as its history."""
    several = result.__class__ is tuple
    outputs = list(result) if several else [result]
    for dirty in ctx.dirty:
        index = next((i for i, out in enumerate(outputs) if out is not None and out._data is dirty._data), None)
        if index is None:
            raise RuntimeError(f"{ctx.name()}: an input marked dirty (shape {dirty.shape}) was not returned by "
                               "forward; return the tensors changed in place")
        if grad_mode._state.grad_enabled and dirty.requires_grad and dirty.grad_fn is None:
            raise RuntimeError(f"{ctx.name()}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation (shape {dirty.shape}, marked dirty); do it on a copy (.clone()) or "
                               "under no_grad")
        bump_version(dirty)   # as PyTorch: one version more than forward's own writes made
        for position, value in enumerate(ctx._saved or ()):
            if value is dirty:   # saved after its write (PyTorch's pattern): at the version it has now
                ctx._saved_versions = {**(ctx._saved_versions or {}), position: dirty._version}
        if outputs[index].requires_grad:
            take_history(dirty, outputs[index])
        outputs[index] = dirty
    return tuple(outputs) if several else outputs[0]


def _finish_custom_op(ctx, args, result):
    """What a custom op's outputs need beyond a built-in op's: inputs marked dirty stand for their
    outputs; an output that shares memory with an input (returned as is, or a view of it) shares its
    version counter, so that a write into either is caught where the other was saved; saved
    outputs are watched the same way."""
    if "dirty" in ctx.__dict__:
        result = _adopt_dirty(ctx, result)
    dirty = ctx.__dict__.get("dirty", ())
    for out in (result if result.__class__ is tuple else (result,)):
        if out is None or any(out is d for d in dirty):
            continue
        for arg in args:
            if isinstance(arg, Tensor) and np.may_share_memory(out._data, arg._data):
                out._version_counter = counter_of(arg)
                break
    if ctx._saved_outputs:
        _watch_saved_outputs(ctx, result)
    return result


def _watch_saved_outputs(ctx, result):
    """A custom op's saved outputs (kept outside the graph) share their output Tensor's version
    counter, so that backward notices an in-place write into that output."""
    outputs = result if result.__class__ is tuple else (result,)
    saved = ctx._saved
    if saved.__class__ is not tuple:
        return   # packed by saved_tensors_hooks: what comes back is the hooks' business
    for position, index in ctx._saved_outputs.items():
        kept = saved[position]
        if kept is None or outputs[index] is None:
            continue   # the single output: ctx.output checks it
        counter = counter_of(outputs[index])
        kept._version_counter = counter
        ctx._saved_versions = {**(ctx._saved_versions or {}), position: counter.value}


def _array_of(value):
    return value._data if isinstance(value, Tensor) else value


def _saved_as_tensors(ctx, outputs, several):
    """What a custom op saved, as `saved_tensors` will give it back: an input as itself (an input's
    array too), with its version noted, so that an in-place change since is caught; an output kept
    outside the graph, its position noted in `_saved_outputs` for `saved_tensors` to attach it to
    the node again (a single output is kept as `ctx.output` keeps a primitive's, which also catches
    an in-place change); anything else as a constant."""
    inputs = [arg for arg in ctx._inputs if isinstance(arg, Tensor)]
    tensors, saved_outputs, versions = [], {}, {}
    for position, value in enumerate(ctx._saved):
        if value is None:
            tensors.append(None)
            continue
        tensor = next((t for t in inputs if value is t or value.__class__ is np.ndarray and value is t._data), None)
        if tensor is not None:
            if tensor._version_counter is not None:
                versions[position] = tensor._version_counter.value
            tensors.append(tensor)
            continue
        data = _array_of(value)
        index = next((i for i, out in enumerate(outputs) if out is data), None)
        if index is not None and np.asarray(data).dtype.kind in "fc" and not ctx._is_marked(data):
            saved_outputs[position] = index
            if not several and data.__class__ is np.ndarray:
                ctx._output_data = data
                tensors.append(None)
                continue
        tensors.append(value if isinstance(value, Tensor) else Tensor._make(np.asarray(data), False, None))
    if saved_outputs:
        ctx._saved_outputs = saved_outputs
    if versions:
        ctx._saved_versions = versions
    return tuple(tensors)


def once_differentiable(backward):
    """Decorates a custom op's backward that cannot be differentiated again (NumPy code, say), as
    PyTorch's `torch.autograd.function.once_differentiable`: it receives and returns the same things
    but records nothing. When `create_graph=True` hands it gradients that are themselves
    differentiable, what it returns is attached to a node that raises, naming the op, if a second
    derivative is taken through it."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            results = backward(ctx, *grads)
        if not grad_mode._state.grad_enabled:
            return results
        several = results.__class__ is tuple
        results = [_as_constant(g) for g in (results if several else (results,))]
        if any(isinstance(g, Tensor) and g.requires_grad for g in grads):
            message = ("trying to differentiate twice a function that was marked with @once_differentiable: "
                       f"the backward of {ctx.name()} records nothing, so it has no second derivative; write it "
                       "with Tensor ops (without the decorator) to differentiate it again")
            results = [_refusing_differentiation(g, message) if isinstance(g, Tensor) else g for g in results]
        return tuple(results) if several else results[0]
    return wrapper


def _as_constant(gradient):
    """An array a backward returned as a Tensor outside the graph (anything else as it is, for the
    checks on what a backward returns)."""
    if isinstance(gradient, (np.ndarray, np.generic)):
        return Tensor._make(np.asarray(gradient), False, None)
    return gradient


def _refusing_differentiation(gradient, message):
    """`gradient` (a Tensor or an array) as the output of a node whose backward raises `message`."""
    return DelayedError.apply(Tensor._make(np.asarray(_array_of(gradient)), True, None), message)


class DelayedError(Primitive):
    """A second derivative that does not exist, refused when it is taken (PyTorch's node of that
    name): the identity, whose backward raises."""
    __slots__ = ()

    @staticmethod
    def forward(ctx, gradient, message):
        ctx.message = message
        return gradient

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(ctx.message)


def _creation_site():
    return "".join(traceback.format_stack(limit=13)[:-2])


def modified_saved_value_error(node, value, which, expected, version=None):
    """The RuntimeError for a value saved for backward that an in-place op changed since (PyTorch's
    "modified by an inplace operation"), naming the op that saved it, its shape and the versions."""
    version = value._version if version is None else version
    message = (f"one of the variables needed for gradient computation has been modified by an inplace "
               f"operation: the value needed to compute the gradient of {node.name()} ({which}: a {value.dtype} "
               f"tensor of shape {value.shape}) is at version {version}; expected version {expected}. Use the out-of-place op (or .clone() the tensor before "
               "changing it) so that the value saved for backward stays as it was.")
    if node.site:
        message += "\nThe op that saved it was created at:\n" + node.site
    else:
        message += " Run under `with autograd.detect_anomaly():` to see where that op was created."
    return RuntimeError(message)


from .tensor import Tensor  # noqa: E402  (tensor.py imports ops, which import this module)
from .inplace import bump_version, counter_of, take_history, track_view  # noqa: E402
from .saved_tensor_hooks import PackedValue, pack_saved, state as saved_hooks, unpack_output, unpack_saved  # noqa: E402
