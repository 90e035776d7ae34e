"""`autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)`, as `torch.autograd.graph`'s.

    with ag.autograd.graph.saved_tensors_hooks(pack, unpack):
        loss = model(x).sum()          # every value an op saves for backward goes through pack(tensor)
    loss.backward()                    # ... and comes back through unpack(packed) when backward reads it

`pack_hook(tensor)` may return anything (a compressed copy, a file name, the tensor itself);
`unpack_hook(packed)` must return a tensor with the same values (and shape). The hooks in force
when an op runs are the ones used for its saved values, whenever backward reads them; nested
contexts use the innermost hooks; each thread has its own. `unpack_hook` runs each time a backward
reads the value (twice for `retain_graph=True` and a second backward).

What is packed: the tensors and arrays an op saves (`save_for_backward`) and the output it keeps
(`save_output`); Python numbers and other objects an op saves pass through as they are.

As in PyTorch, what backward receives keeps its place in the graph, so higher-order gradients
still work: an unpacked tensor that an op had made is re-attached to that op's node. A leaf that
requires grad (a parameter) is its own node: `pack_hook` and `unpack_hook` still see it, but
backward gets the leaf itself, whose storage exists anyway.

The recording layer calls `pack_saved(node)` once an op has saved its values (only while some
hooks are in force), and `unpack_saved(node, saved)` / `unpack_output(packed)` where a backward
reads them.
"""
import threading

import numpy as np

from .tensor import Tensor


class _Hooks(threading.local):
    def __init__(self):
        self.stack = []


state = _Hooks()  # state.stack: the (pack, unpack) pairs in force in this thread, innermost last


class saved_tensors_hooks:
    """Context manager: ops run inside it pack what they save with `pack_hook` (see above)."""

    def __init__(self, pack_hook, unpack_hook):
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("saved_tensors_hooks: pack_hook and unpack_hook must be callables")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        state.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        state.stack.pop()
        return False


class PackedValue:
    """What a node holds in place of one saved value while hooks are in force."""
    __slots__ = ("packed", "unpack_hook", "shape", "grad_fn", "output_nr", "leaf", "as_array")

    def __init__(self, value, pack_hook, unpack_hook):
        self.as_array = isinstance(value, np.ndarray)
        tensor = Tensor._make(value, False, None) if self.as_array else value
        self.shape = tensor.shape
        self.grad_fn = tensor.grad_fn
        self.output_nr = tensor.output_nr   # which output of grad_fn, for a node with several
        self.leaf = tensor if tensor.grad_fn is None and tensor.requires_grad else None
        self.unpack_hook = unpack_hook
        self.packed = pack_hook(tensor)

    def unpack(self):
        """The saved value back through the unpack hook; raises if the hook gives anything but a Tensor
        (or array) of the saved shape."""
        value = self.unpack_hook(self.packed)
        if isinstance(value, np.ndarray):
            value = Tensor._make(value, False, None)
        if not isinstance(value, Tensor):
            raise TypeError(f"saved_tensors_hooks: unpack_hook returned a {type(value).__name__}; it must return "
                            "a Tensor")
        if value.shape != self.shape:
            raise RuntimeError(f"saved_tensors_hooks: unpack_hook returned a tensor of shape {value.shape} for a "
                               f"saved tensor of shape {self.shape}; it must give back the same values")
        if self.as_array:
            return value.numpy()
        if self.leaf is not None:
            return self.leaf
        if self.grad_fn is not None:
            attached = Tensor._make(value.numpy(), True, self.grad_fn)
            if self.output_nr:
                attached.output_nr = self.output_nr
            return attached
        return value

    def __repr__(self):
        return f"<saved value of shape {self.shape}, packed by saved_tensors_hooks>"


class PackedSaved:
    """A node's packed `save_for_backward` values (told apart from a plain tuple by its class)."""
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __iter__(self):
        """The packed values themselves (tools that walk a node's saved values see them as they are kept)."""
        return iter(self.values)


def _pack(value, pack_hook, unpack_hook):
    if isinstance(value, (Tensor, np.ndarray)):
        return PackedValue(value, pack_hook, unpack_hook)
    return value


def pack_saved(node):
    """Pack what `node` saved with the innermost hooks in force (the recording layer calls this)."""
    pack_hook, unpack_hook = state.stack[-1]
    if node._saved is not None and node._saved.__class__ is not PackedSaved:
        node._saved = PackedSaved(tuple(_pack(v, pack_hook, unpack_hook) for v in node._saved))
    if node._output_data is not None and node._output_data.__class__ is not PackedValue:
        node._output_data = PackedValue(np.asarray(node._output_data), pack_hook, unpack_hook)


def unpack_saved(saved):
    """The saved values as the op's backward expects them, from a PackedSaved."""
    return tuple(v.unpack() if v.__class__ is PackedValue else v for v in saved.values)


def unpack_output(packed):
    """The saved output array, from a PackedValue."""
    return packed.unpack()
