"""In-place ops as PyTorch records them: version counters, views, and rewriting a tensor's history.

A tensor changed in place keeps its identity (the same Python object, the same memory) but gets a
new history: its `grad_fn` becomes the node of the op that computed its new values from the old
ones. So every in-place op is its out-of-place op applied to the tensor's old values (with the old
`grad_fn`), with the result written back into the tensor's memory (`apply_inplace`). Three things
keep that correct:

- Version counters. Each tensor that was ever viewed or changed in place has a `VersionCounter`,
  shared with its views (they share memory); every in-place write bumps it. An op that saves a
  tensor for backward records the version it saw, and reading the saved tensor in backward checks
  it (function.py), so a gradient is never computed from values that were overwritten since.
  Tensors that were never viewed or changed have no counter (version 0): the hot path pays nothing.
- The op's own saved input. The out-of-place op may save the old values it is about to overwrite
  (`x.mul_(y)` needs the old x for y's gradient), so inside a graph it runs on a copy of them, as
  PyTorch saves `original_self`.
- Views. A view (reshape, permute, basic indexing, split, ...) knows its base and the chain of view
  ops that made it from the base (`ViewRegion`). Writing into a view changes the base, so the base
  gets a new history too: `Overwrite` (its old values with the view's region replaced), and the
  view becomes that region of the new base (`RegionOf`), as PyTorch's CopySlices does.
"""
import contextlib
import weakref

import numpy as np

from . import grad_mode
from .creation import can_cast
from .errors import DTypeError, ShapeError
from .tensor import Tensor


class VersionCounter:
    """How many in-place writes the memory shared by a tensor and its views has seen."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def counter_of(tensor):
    """The tensor's version counter, made on first need (its first view, detach or in-place write).
    If the op that made the tensor saved it as its output, that op gets the counter too, so that
    its backward notices a write into the output made through any alias."""
    counter = tensor._version_counter
    if counter is None:
        counter = tensor._version_counter = VersionCounter()
        node = tensor.grad_fn
        if node is not None and node._output_data is tensor._data:
            node._output_version = (counter, 0)
    return counter


def track_view(ctx, view, source, result):
    """Called by Function.apply for a view op (one whose class has `replay_view`) with its result (a
    Tensor or a tuple of them): each output that shares memory with `source` shares its version
    counter and remembers its base and how it was made from it, so that writing into it reaches
    the base."""
    outputs = result if result.__class__ is tuple else (result,)
    source_data = source._data
    counter = None
    for index, out in enumerate(outputs):
        if out is None or not np.may_share_memory(out._data, source_data):
            continue   # e.g. a reshape that had to copy
        counter = counter or counter_of(source)
        out._version_counter = counter
        step = (view, ctx, index)
        if source._base is None:
            out._base, out._view_steps = source, (step,)
        else:
            out._base, out._view_steps = source._base, source._view_steps + (step,)
        if not grad_mode._state.grad_enabled:
            out._view_made_without_grad = True
        if not grad_mode._state.in_backward:   # gradients' views are never written by users
            # The base keeps its views (weakly: a dead view leaves the set), to give them its new history
            # after a write.
            views = out._base.__dict__.get("_views")
            if views is None:
                views = out._base._views = weakref.WeakSet()
            views.add(out)
        if len(outputs) > 1:
            out._view_of_several = True


class ViewRegion:
    """The part of a base array that a view covers: the chain of view ops that made the view,
    replayed on any array of the base's shape."""
    __slots__ = ("steps",)

    def __init__(self, steps):
        self.steps = steps

    def take(self, array):
        """The view of `array` (of the base's shape) that the chain makes."""
        for view, ctx, index in self.steps:
            array = view(ctx, array, index)
        return array

    def positions(self, shape):
        """The region as a NumPy integer index into an array of `shape` (a position may repeat, as in
        a broadcast view)."""
        flat = self.take(np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape))
        return np.unravel_index(flat, shape)

    def put(self, out, values):
        """Write `values` (broadcast) into the region of `out`, in place."""
        target = self.take(out)
        if np.may_share_memory(target, out):
            target[...] = values
        else:   # the chain copied this array (a reshape of another memory layout than the base's)
            out[self.positions(out.shape)] = values


def _snapshot(tensor):
    """A new Tensor object for `tensor` as it is now: same memory, history and version counter."""
    old = Tensor._make(tensor._data, tensor.requires_grad, tensor.grad_fn)
    if tensor.output_nr:
        old.output_nr = tensor.output_nr
    old._version_counter = counter_of(tensor)
    return old


def _check_writable(op, tensor):
    if grad_mode._state.grad_enabled:
        if tensor.requires_grad and tensor.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation (a leaf "
                f"tensor of shape {tensor.shape}); do it "
                "under `with autograd.no_grad():` (as optimizers do), or on a copy (.clone())")
        base = tensor._base
        if base is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place operation "
                f"(the leaf has shape {base.shape}); do it under `with autograd.no_grad():`, or on a copy")
    if not tensor._data.flags.writeable:
        raise RuntimeError(
            f"{op}: the tensor of shape {tensor.shape} cannot be written in place: its memory is read-only "
            "(an expanded or broadcast tensor repeats one element in many places); .clone() it first")


def bump_version(tensor):
    """Count one in-place write into the tensor's memory (also used by custom ops' mark_dirty)."""
    counter_of(tensor).value += 1


def view_inplace(tensor, op, view, *args, undo):
    """The in-place form of a view op (`unsqueeze_`, `squeeze_`, `t_`, `transpose_`): `tensor` becomes
    `view(tensor, *args)`, the same memory with a new shape, and takes its history, as PyTorch's; one
    version more, so that a node that saved the tensor at its old shape notices in backward.

    Views keep reaching their memory, as in PyTorch: a tensor that is a view stays one, its base
    reached by one view step more; the views of a tensor (regions defined against its old shape) get
    a first step that takes its new shape back to the old one, `undo(tensor, old_shape)` (a view op
    on the tensor in its new shape)."""
    _check_writable(op, tensor)
    old_shape = tensor.shape
    # Under no_grad a tensor with a history still needs its new shape in it: without the view's node it
    # would lose its history and look like a leaf, and its gradient would silently go nowhere. The view
    # changes no value, so recording it is what the history must say.
    keep_history = tensor.grad_fn is not None and not grad_mode._state.grad_enabled
    with grad_mode.enable_grad() if keep_history else contextlib.nullcontext():
        result = view(tensor, *args)
    bump_version(tensor)
    if result is tensor:   # nothing to change (squeeze_ of a tensor without size-1 dims)
        return tensor
    with _retained_grad_kept(tensor):   # retain_grad() follows the tensor to its new node
        tensor._data, tensor.grad_fn = result._data, result.grad_fn
        tensor.output_nr = 0
    if tensor._base is not None:
        tensor._view_steps = result._view_steps
        return tensor
    views = [v for v in tensor.__dict__.get("_views", ()) if v is not result]
    if views:
        with grad_mode.no_grad():
            (back_to_old_shape,) = undo(tensor, old_shape)._view_steps
        for v in views:
            v._view_steps = (back_to_old_shape,) + v._view_steps
    return tensor


def apply_inplace(tensor, op, function, *args, **kwargs):
    """The in-place form of `function`: `tensor`'s values become `function(tensor, *args, **kwargs)`,
    computed out of place and written back into its memory, and recorded as PyTorch records its
    in-place ops (see the module docstring). `op` names the op in errors. Returns `tensor`.

    The generic in-place op, for writing one of your own: `apply_inplace(t, "my_op_", my_op, 2.0)`."""
    _check_writable(op, tensor)
    recording = grad_mode._state.grad_enabled and (tensor.requires_grad or _any_requires_grad(args, kwargs))
    if not recording:
        with grad_mode.no_grad():
            result = function(tensor, *args, **kwargs)
        _check_result(op, tensor, result._data)
        _write(tensor, result._data)
        return tensor
    # The op runs on a copy of the old values: whatever its nodes save of them stays intact after
    # the write (PyTorch saves such an `original_self` too).
    old = Tensor._make(tensor._data.copy(), tensor.requires_grad, tensor.grad_fn)
    if tensor.output_nr:
        old.output_nr = tensor.output_nr
    result = function(old, *args, **kwargs)
    if not isinstance(result, Tensor):
        raise TypeError(f"{op}: the out-of-place op returned {type(result).__name__}, not a Tensor")
    _check_result(op, tensor, result._data)
    if result.dtype != tensor.dtype:
        from .ops import cast
        result = cast(result, tensor.dtype)
    node = result.grad_fn
    _write(tensor, result._data)
    if node is not None and node._output_data is result._data:
        # The op saved its output (exp_, sigmoid_...): keep the tensor's own memory instead of the
        # result's, at the version the write just made, so a later write into it is caught.
        node._output_data = tensor._data
        node._output_version = (tensor._version_counter, tensor._version_counter.value)
    take_history(tensor, result)
    return tensor


def setitem(tensor, index, value):
    """`tensor[index] = value`: the region `index` of tensor is overwritten (value broadcast to it);
    recorded so that the gradient reaches `value` and the untouched rest of `tensor`."""
    from .ops.indexing import IndexRegion, normalize_index
    op = "__setitem__"
    _check_writable(op, tensor)
    index = normalize_index(index)
    if np.ndim(value) and np.size(value) == 1:
        value = value.reshape(()) if isinstance(value, Tensor) else np.reshape(value, ())  # fits any region
    recording = grad_mode._state.grad_enabled and (
        tensor.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    region = IndexRegion(index)
    if not recording:
        _put(op, tensor._data, region, value._data if isinstance(value, Tensor) else value)
        bump_version(tensor)
        return
    from .ops.indexing import overwrite
    try:
        result = overwrite(_snapshot(tensor), value, region, in_place=True)
    except (ValueError, TypeError, IndexError):
        _put(op, tensor._data.copy(), region, value._data if isinstance(value, Tensor) else value)  # names the fault
        raise
    bump_version(tensor)
    take_history(tensor, result)


def _put(op, array, region, values):
    """Write `values` into `region` of `array`, with errors that name the op and the shapes."""
    try:
        region.put(array, values)
    except (ValueError, TypeError) as error:
        shape = np.shape(values)
        raise ShapeError(f"{op}: cannot write values of shape {shape} into the region of shape "
                         f"{np.shape(region.take(array))} of a tensor of shape {array.shape}: {error}") from None
    except IndexError as error:
        raise IndexError(f"{op}: index is invalid for a tensor of shape {array.shape}: {error}") from None


def _any_requires_grad(args, kwargs):
    return any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))


def _check_result(op, tensor, result):
    if result.shape != tensor.shape:
        raise ShapeError(f"{op}: the result has shape {result.shape}, which does not match the shape "
                         f"{tensor.shape} of the tensor written in place (it may only broadcast to it)")
    if not can_cast(result.dtype, tensor.dtype):   # PyTorch's categories: int64 into uint8 is fine
        raise DTypeError(f"{op}: the result type {result.dtype} can't be cast to the tensor's dtype "
                         f"{tensor.dtype} in place")


def _write(tensor, values):
    np.copyto(tensor._data, values, casting="unsafe")
    bump_version(tensor)


def take_history(tensor, result):
    """`tensor` (already holding its new values) takes `result`'s history; if it is a view, its base
    takes the matching new history (its old values with the view's region replaced). Also used by
    custom ops that `mark_dirty` an input (function.py)."""
    base = tensor._base
    if base is None:
        with _retained_grad_kept(tensor):
            tensor.grad_fn, tensor.requires_grad = result.grad_fn, result.requires_grad
            tensor.output_nr = result.output_nr
        _refresh_views(tensor)
        return
    if tensor.__dict__.get("_view_made_without_grad") and result.requires_grad:
        raise RuntimeError(
            f"a tensor of shape {tensor.shape} is a view and is being modified inplace with grad, but the view was "
            "made under no_grad, so its base cannot record the write. Make the view with grad enabled, or write "
            "under no_grad")
    if tensor.__dict__.get("_view_of_several") and result.requires_grad:
        raise RuntimeError(
            f"a tensor of shape {tensor.shape} is a view and is being modified inplace with grad, but it is one of "
            "several views one op returned (split, chunk, unbind): as in PyTorch, such a write cannot be recorded "
            "inside a graph. Use the out-of-place op, or .clone() the piece first")
    from .ops.indexing import overwrite
    region = ViewRegion(tensor._view_steps)
    new_base = overwrite(_snapshot(base), result, region, in_place=True, written=True)
    with _retained_grad_kept(base):
        base.grad_fn, base.requires_grad = new_base.grad_fn, new_base.requires_grad
        base.output_nr = 0
    _refresh_views(base, tensor)


def _refresh_views(base, written=None):
    """After `base` got a new history, each of its live views (those made with grad enabled, and the
    view `written` into) becomes its region of the new base: their values changed with it, so must
    their gradients' path (PyTorch regenerates a view's grad_fn the same way)."""
    from .ops.indexing import region_of
    views = list(base.__dict__.get("_views", ()))
    if written is not None and not any(view is written for view in views):
        views.append(written)
    for view in views:
        as_view = region_of(base, ViewRegion(view._view_steps))
        if view.__dict__.get("_view_made_without_grad") and view is not written:
            if not as_view.requires_grad:
                continue
            # As PyTorch: such a view cannot follow a history recorded with grad; using it in a
            # gradient raises (an error, never a gradient that silently leaves the view out).
            from .function import DelayedError
            as_view = DelayedError.apply(as_view, (
                f"a view of shape {view.shape} was made under no_grad, and its base (shape {base.shape}) was "
                "then changed in place with grad enabled: the view cannot be part of the gradient. Make the "
                "view with grad enabled, or take it again after the write"))
        with _retained_grad_kept(view):
            view.grad_fn, view.requires_grad, view.output_nr = as_view.grad_fn, as_view.requires_grad, 0


@contextlib.contextmanager
def _retained_grad_kept(tensor):
    """A tensor that called retain_grad() keeps doing so across the change of history inside (its
    .grad is then the gradient of its new values, as in PyTorch)."""
    retained = tensor.grad_fn is not None and tensor.retains_grad
    if retained:
        old = tensor.grad_fn
        old.retained = {k: v for k, v in old.retained.items() if k != tensor.output_nr} or None
    yield
    if retained and tensor.requires_grad:
        tensor.retain_grad()
