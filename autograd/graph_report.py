"""What a graph keeps for backward, and a plain-text trace of it.

    saved_tensors_report(loss, model=model)   every node, what it saved (shape, dtype, bytes, kind),
                                              which saved arrays share memory, and the total;
                                              a table in Jupyter, text with print()
    trace = trace_graph(loss, model=model)    the ops in topological order (inputs first) with
    loss.backward(); print(trace)             output shape, dtype and saved bytes, and, once a
                                              backward has run, the norm of the gradient each
                                              node (all its outputs') and leaf received

Both are made while the graph is alive: a backward frees what the nodes saved (unless
`retain_graph=True`), so make the report, or the trace, first. The trace records gradient norms
with a hook on every node and leaf, so it must exist before the backward it should describe.

Saved values are counted per array. Two nodes often save the same array (the input of `x * x`
twice, a weight used by several ops) or views of one buffer: such arrays are grouped ("shares
memory with") and the total counts each group once, at its largest member. The total is also
split into leaves (parameters, which exist anyway) and the rest, which backward alone keeps alive:
activations, the batch, masks and other intermediates.

Names: leaves are named from `params` (name -> Tensor) or `model.named_parameters()`, else
`leaf0`, `leaf1`... in order of appearance; ops are numbered `#0, #1, ...` in the same order, so
the text of a trace depends only on the computation and is stable enough to compare in a test.
"""
import html
import math

import numpy as np

from .saved_tensor_hooks import PackedSaved, PackedValue
from .tensor import Tensor


# -- how a node exposes its inputs, what it saved and its gradient: the only place this module
#    touches the engine's node objects (names PyTorch's grad_fn has, or the recording layer's) ----

def _inputs(node):
    return [edge for edge, _ in node.next_functions if edge is not None]


def _saved_values(node):
    """[(label, array, tensor or None)] for every array node keeps for backward: what it saved
    (looking one level into saved objects such as max-pooling's plan), its saved output, and
    arrays kept as ctx attributes (an index, a condition); [] once a backward freed them."""
    found = []
    saved = getattr(node, "_saved", None) or ()
    for k, value in enumerate(saved.values if isinstance(saved, PackedSaved) else saved):
        found.extend(_arrays_in(value, f"saved[{k}]"))
    output = getattr(node, "_output_data", None)
    if output is not None:
        found.extend(_arrays_in(output, f"output {node.output_index}" if node.output_index else "output"))
    for name, value in getattr(node, "__dict__", {}).items():
        if not name.startswith("_"):
            found.extend(_arrays_in(value, f"ctx.{name}"))
    return found


def _arrays_in(value, label, depth=2):
    """Arrays in a saved value; under saved_tensors_hooks, in what pack_hook returned."""
    if isinstance(value, PackedValue):
        yield from _arrays_in(value.packed, label + " (packed)", depth)
    elif isinstance(value, Tensor):
        yield label, value.numpy(), value
    elif isinstance(value, np.ndarray):
        if value.dtype != object:
            yield label, value, None
    elif depth and isinstance(value, (tuple, list)):
        for k, item in enumerate(value):
            yield from _arrays_in(item, f"{label}[{k}]", depth - 1)
    elif depth and hasattr(value, "__dict__") and not callable(value) and not hasattr(value, "next_functions"):
        for name, item in vars(value).items():
            yield from _arrays_in(item, f"{label}.{name}", depth - 1)


def _was_freed(node):
    return bool(getattr(node, "_freed", False))


def _watch_gradient(target, callback, output=0):
    """callback(grad) whenever the gradient of a node's output number `output` (or a leaf's) is complete."""
    return target.register_hook(callback) if isinstance(target, Tensor) else target.register_hook(callback, output)


def outputs_made(node):
    """The indices of the outputs a node made (one that computed only some of its gradients, as LinearGrad
    for a frozen input, made None for the others)."""
    return [k for k in range(node.n_outputs) if node.output_meta(k)[0] is not None]


# -- the walk ---------------------------------------------------------------------------------------

def _topological(roots):
    """Nodes and leaves behind `roots`, every input before the ops that use it (iterative DFS)."""
    order, seen = [], set()
    for root in roots:
        start = root.grad_fn if root.grad_fn is not None else root
        if id(start) in seen:
            continue
        seen.add(id(start))
        stack = [(start, iter(_inputs(start) if start is not root else ()))]
        while stack:
            item, pending = stack[-1]
            for child in pending:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(_inputs(child) if not isinstance(child, Tensor) else ())))
                    break
            else:
                stack.pop()
                order.append(item)
    return order


def _check_roots(where, roots):
    if not roots:
        raise ValueError(f"{where}: give at least one tensor")
    for i, root in enumerate(roots):
        if not isinstance(root, Tensor):
            raise TypeError(f"{where}: root {i} is a {type(root).__name__}, not a Tensor")


def _leaf_names(params, model):
    names = {}
    if model is not None:
        names.update({id(t): name for name, t in model.named_parameters()})
    if params is not None:
        names.update({id(t): name for name, t in params.items()})
    return names


class _Naming:
    """'#k' for the k-th op, a parameter name or 'leafk' for leaves, in topological order."""

    def __init__(self, order, params, model):
        given = _leaf_names(params, model)
        self.names, op_count, leaf_count = {}, 0, 0
        for item in order:
            if isinstance(item, Tensor):
                name = given.get(id(item)) or item.name
                if name is None:
                    name, leaf_count = f"leaf{leaf_count}", leaf_count + 1
                self.names[id(item)] = name
            else:
                self.names[id(item)] = f"#{op_count}"
                op_count += 1

    def __call__(self, item):
        return self.names[id(item)]


def _op_name(node):
    return node.name()


def layout(item):
    """'shape dtype' of a leaf, or of a node's output: of each one for a node with several (eigh's, an
    LSTM's, SoftmaxNll's loss and kept log-probabilities), leaving out those it did not make."""
    if isinstance(item, Tensor):
        return f"{tuple(item.shape)} {item.dtype}"
    outputs = (item.output_meta(k) for k in range(item.n_outputs))
    return ", ".join(f"{tuple(shape)} {dtype}" for shape, dtype in outputs if shape is not None)


def format_bytes(n):
    """1536 -> '1.5 KiB': binary units, as memory is counted."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


# -- the saved-for-backward report ------------------------------------------------------------------

class SavedEntry:
    """One array a node saved: which node (op name and '#k'), its label ('saved[0]', 'output'),
    shape, dtype, bytes, kind and the ids of the other entries it shares memory with. The kind is
    'leaf' (a tensor that requires grad and no op made: a parameter), 'activation' (the output of
    an op in the graph) or 'other' (data that requires no grad, constants, arrays the op made in
    its forward such as masks)."""
    __slots__ = ("index", "node", "op", "label", "shape", "dtype", "nbytes", "kind", "shares_with", "array")

    def __init__(self, index, node, op, label, array, kind):
        self.index, self.node, self.op, self.label, self.kind = index, node, op, label, kind
        self.shape, self.dtype, self.nbytes = tuple(array.shape), str(array.dtype), int(array.nbytes)
        self.array, self.shares_with = array, []

    def as_dict(self):
        """The entry's fields (without the array itself) as a dict."""
        return {name: getattr(self, name) for name in self.__slots__ if name != "array"}


class SavedTensorsReport:
    """What the graph behind some tensors keeps for backward (see the module docstring).

    `entries` (SavedEntry, one per saved array), `total_bytes` (memory-sharing groups counted
    once), `leaf_bytes` and `intermediate_bytes` (the same, split into groups of leaves only and
    the rest: what backward alone keeps alive), `nodes` (op nodes in the
    graph), `freed_nodes` (nodes whose saved values a backward already released)."""

    def __init__(self, roots, params=None, model=None):
        _check_roots("saved_tensors_report", roots)
        order = _topological(roots)
        naming = _Naming(order, params, model)
        self.entries, self.nodes, self.freed_nodes = [], 0, 0
        for item in order:
            if isinstance(item, Tensor):
                continue
            self.nodes += 1
            self.freed_nodes += _was_freed(item)
            for label, array, tensor in _saved_values(item):
                kind = _kind(label, tensor)
                self.entries.append(SavedEntry(len(self.entries), naming(item), _op_name(item), label, array, kind))
        groups = _sharing_groups([e.array for e in self.entries])
        self.total_bytes = self.leaf_bytes = self.intermediate_bytes = 0
        for group in groups:
            members = [self.entries[k] for k in group]
            for e in members:
                e.shares_with = [k for k in group if k != e.index]
            size = max(e.nbytes for e in members)
            self.total_bytes += size
            if all(e.kind == "leaf" for e in members):
                self.leaf_bytes += size
            else:
                self.intermediate_bytes += size
        for e in self.entries:
            e.array = None  # the report must not keep the graph's memory alive

    def _rows(self):
        header = ["#", "node", "op", "saved", "shape", "dtype", "bytes", "kind", "shares memory with"]
        rows = [[str(e.index), e.node, e.op, e.label, str(e.shape), e.dtype, format_bytes(e.nbytes), e.kind,
                 ", ".join(map(str, e.shares_with))] for e in self.entries]
        return header, rows

    def summary(self):
        """One line: op nodes, saved arrays, and the bytes in total, kept alive by backward alone and held
        by leaves."""
        freed = f"; {self.freed_nodes} of them already freed by a backward" if self.freed_nodes else ""
        return (f"{self.nodes} op nodes{freed}, {len(self.entries)} saved arrays: total "
                f"{format_bytes(self.total_bytes)} = {format_bytes(self.intermediate_bytes)} kept alive by backward "
                f"alone + {format_bytes(self.leaf_bytes)} of leaves (arrays sharing memory counted once)")

    def __str__(self):
        header, rows = self._rows()
        widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]
        line = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
        return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
                         + ["", self.summary()])

    __repr__ = __str__

    def _repr_html_(self):
        header, rows = self._rows()
        cells = lambda r, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in r)
        body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
        return (f"<table><thead><tr>{cells(header, 'th')}</tr></thead><tbody>{body}</tbody></table>"
                f"<p>{html.escape(self.summary())}</p>")


def _kind(label, tensor):
    if label.startswith("output") or tensor is not None and tensor.grad_fn is not None:
        return "activation"
    if tensor is not None and tensor.requires_grad:
        return "leaf"
    return "other"


def _sharing_groups(arrays):
    """Indices of arrays grouped by shared memory (union-find over pairwise bounds checks)."""
    parent = list(range(len(arrays)))

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k
    for i in range(len(arrays)):
        for j in range(i):
            if arrays[i].nbytes and arrays[j].nbytes and np.may_share_memory(arrays[i], arrays[j]):
                parent[root(i)] = root(j)
    groups = {}
    for k in range(len(arrays)):
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def saved_tensors_report(*roots, params=None, model=None):
    """A SavedTensorsReport of the graph behind `roots` (see the module docstring)."""
    return SavedTensorsReport(roots, params=params, model=model)


# -- the text trace ---------------------------------------------------------------------------------

class GraphTrace:
    """The graph behind `roots` as lines of text, one per leaf or op in topological order; gradient
    norms appear once a backward pass has run through it (see the module docstring)."""

    def __init__(self, roots, params=None, model=None):
        _check_roots("trace_graph", roots)
        order = _topological(roots)
        self._naming = _Naming(order, params, model)
        self._items = []
        self.grad_norms = {}
        self._handles = []
        for item in order:
            name = self._naming(item)
            if isinstance(item, Tensor):
                line = f"{name} = leaf {layout(item)}"
                if item.requires_grad:
                    self._handles.append(_watch_gradient(item, self._recorder(name)))
            else:
                saved = sum(int(array.nbytes) for _, array, _ in _saved_values(item))
                inputs = ", ".join(self._naming(e) for e in _inputs(item))
                line = f"{name} = {_op_name(item)}({inputs}) -> {layout(item)}, saved {format_bytes(saved)}"
                norms = {}   # of each output's gradient, for a node with several
                for k in outputs_made(item):
                    self._handles.append(_watch_gradient(item, self._recorder(name, norms, k), output=k))
            self._items.append((name, line))

    def _recorder(self, name, norms=None, output=0):
        def record(grad):
            norm = float(np.linalg.norm(np.asarray(grad, dtype=np.float64).ravel()))
            if norms is not None:   # a node's: the norm of all its outputs' gradients together
                norms[output] = norm
                norm = math.hypot(*norms.values())
            self.grad_norms[name] = norm
        return record

    def remove_hooks(self):
        """Stop recording gradient norms (the hooks otherwise live as long as the graph)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def lines(self):
        """The trace as a list of lines, each with its gradient norm once backward has run."""
        out = []
        for name, line in self._items:
            norm = self.grad_norms.get(name)
            out.append(line if norm is None else f"{line}, grad norm {_format_norm(norm)}")
        return out

    def __str__(self):
        return "\n".join(self.lines())

    __repr__ = __str__


def _format_norm(norm):
    return "nan" if math.isnan(norm) else "inf" if math.isinf(norm) else f"{norm:.4g}"


def trace_graph(*roots, params=None, model=None):
    """A GraphTrace of the graph behind `roots` (see the module docstring)."""
    return GraphTrace(roots, params=params, model=model)
