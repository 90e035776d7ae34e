"""draw_graph: the graph behind a result, as a graphviz.Digraph (after micrograd's `draw_dot`).

What is drawn:

- one box per op node (op name, output shape and dtype) and one ellipse per leaf that requires
  grad (its name, shape and dtype), with edges in data-flow order: inputs -> op -> output. The
  roots are drawn with a double border. A leaf's name comes from `params` (name -> Tensor), else
  from `model.named_parameters()`, else from the tensor's `.name`. `params` may also name a
  non-leaf tensor: its op node is then labelled with that name (and its value is known).
- gradient norms, coloured on a log scale that runs from the smallest norm in this graph (blue) to
  the largest (red), so the colours compare nodes with each other and say nothing absolute (a
  healthy network's weight gradient of 15 is not "exploding"); magenta marks NaN/Inf. The legend
  gives the scale's values. `grad_range=(low, high)` fixes the scale instead, e.g. to compare
  drawings. Leaves use their `.grad`. For op nodes, whose output gradients are not stored,
  `draw_graph` runs its own backward pass: `autograd.grad` with `retain_graph=True` and a
  temporary hook on every node recording the gradient it receives.
  Nothing's `.grad` is touched, but user hooks in the graph run again. If a backward has already
  freed the graph, only the leaves' `.grad` can be shown, and the graph's label says so.
  `show_grads=None` (the default) does this after a backward pass, i.e. when some leaf has a
  `.grad`; True forces the pass, False shows no gradients.
- with `model`, nodes are grouped into one cluster per submodule (nested as the modules are), so
  a deep model reads as its architecture. The forward has already run, so membership is inferred
  from the graph, with nothing for the user to do: an op that takes a parameter belongs to that
  parameter's module, and an op without parameters belongs to the innermost module holding both
  its nearest parametrised ancestors and its nearest parametrised descendants: the matmul between
  `W.T` and `+ b` of a Linear goes to that Linear, a Tanh between `body.0` and `body.2` to `body`,
  a ReLU between two top-level layers and the loss after the last one to the top level. (An
  activation that ends a submodule is drawn in the parent, as nothing in the graph tells it
  apart from one that starts the next module.) An op that is the output of a parameter-free layer
  (Dropout's Mul, a ReLU module: `nn.Module.__call__` records the module on the node it returns)
  is drawn in that layer's parent module and named after it: "Mul in body.3: Dropout", "Relu (1)".
- the page width: deep graphs (more than `DEEP_GRAPH_RANKS` ops from input to output) are laid
  out top to bottom, shallow ones left to right (`rankdir="auto"`; "LR" or "TB" force one), and
  the drawing is scaled down to at most `max_width` inches wide (graphviz's `size`), so it fits a
  notebook or a page; None draws it at full size.
- graphs of more than `max_nodes` nodes are summarised: the middle of each long chain of
  single-input ops is folded into one node ("... 1996 nodes folded (Mul x998, Add x998)"), and if
  that is not enough, the nodes farthest from the roots are folded into one. The label says how
  many nodes were folded.
- `show_values=True` adds the values and gradients of small tensors (at most `value_limit`
  elements): the micrograd picture for scalars, "data 2.0000 | grad -1.5000". Values are known
  for roots, leaves, tensors named in `params`, and intermediates an op saved for backward (until
  a backward frees them).

The graph is walked iteratively (graphs can be 100,000 nodes deep). Node ids are `str(id(obj))`
of the node or leaf, stable for as long as the graph lives.
"""
import html
import math
from collections import Counter

import numpy as np

from .function import Function
from .graph_report import layout, outputs_made
from .tensor import Tensor

DEFAULT_MAX_NODES = 150
CHAIN_KEEP = 2                   # ops kept visible at each end of a folded chain
DEEP_GRAPH_RANKS = 12            # rankdir="auto": deeper graphs are drawn top to bottom
MAX_WIDTH = 7.5                  # inches; a notebook's output area is about 8 inches wide
# Ten colours from the smallest gradient norm to the largest (ColorBrewer's RdYlBu, reversed).
RAMP = ["#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#ffffbf", "#fee090", "#fdae61",
        "#f46d43", "#d73027"]
NONFINITE_COLOUR = "#ff00ff"
OP_COLOUR, LEAF_COLOUR, CONST_COLOUR, FOLD_COLOUR = "#ffffff", "#dbe9f6", "#eeeeee", "#f4f4f4"


def draw_graph(*roots: Tensor, params: "dict[str, Tensor] | None" = None, model=None, show_values: bool = False,
               rankdir: str = "auto", show_grads: "bool | None" = None, max_nodes: int = DEFAULT_MAX_NODES,
               grad_range: "tuple[float, float] | None" = None, value_limit: int = 4,
               max_width: "float | None" = MAX_WIDTH):
    """A graphviz.Digraph of the graph that computed `roots` (the module docstring says what is drawn).

    Arguments:
        roots: the Tensors whose graph to draw (or one list of them), usually the loss.
        params: names for tensors, `{name: tensor}`; leaves show the name, a named intermediate
            tensor's op is labelled with it.
        model: an `nn.Module`; its parameters name the leaves and its submodules become clusters.
        show_values: add the values (and gradients) of tensors with at most `value_limit` elements.
        rankdir: "auto" (top to bottom for graphs deeper than `DEEP_GRAPH_RANKS` ops, else left
            to right), "LR" or "TB".
        show_grads: colour nodes by gradient norm: None after a backward (some leaf has a `.grad`),
            True or False.
        max_nodes: larger graphs are folded, and the caption says how many nodes were.
        grad_range: `(low, high)` gradient norms mapped to the ends of the colour scale; None (the
            default) uses the smallest and largest norm in this graph.
        max_width: the drawing is scaled down to at most this many inches wide; None: full size.

    Not in PyTorch (the nearest is the torchviz package's `make_dot`). Display it in Jupyter, or
    render it with `.render()` / `.pipe(format="svg")`.
    """
    import graphviz

    roots = _check_roots(roots)
    if rankdir not in ("auto", "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'auto', 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    names, module_of_param, module_titles = _names(params, model)
    graph = _walk(roots)
    grads, grad_note = _gradients(roots, graph, show_grads, value_limit)
    values = _values(roots, graph, params) if show_values else {}
    layer_of = _parameter_free_layers(graph, model) if model is not None else {}
    module_of = _assign_modules(graph, module_of_param, layer_of) if model is not None else {}
    rep, folds = _fold(graph, roots, max_nodes)
    relative = grad_range is None
    if grads and relative:
        grad_range = _observed_range(norm for norm, _ in grads.values())
    if rankdir == "auto":
        rankdir = "TB" if _depth(graph) > DEEP_GRAPH_RANKS else "LR"

    graph_attr = {"rankdir": rankdir, "fontsize": "11", "fontname": "Helvetica", "labelloc": "b",
                  "labeljust": "l", "compound": "true"}
    if max_width is not None:
        graph_attr["size"] = f"{max_width},1000"      # shrink to fit the width, never enlarge
    dot = graphviz.Digraph("ndgrad", graph_attr=graph_attr,
                           node_attr={"fontname": "Helvetica", "fontsize": "10", "height": "0.3"},
                           edge_attr={"arrowsize": "0.6"})
    root_ids = {id(_target(r)) for r in roots}
    members = {}                          # module path (None: top level) -> its node statements
    rows = {}                             # module path -> [an op and the leaves it takes], drawn side by side
    for t in graph.order:
        if rep[t] is not t:
            continue
        label = _label(t, names, grads.get(t), values.get(t), id(t) in root_ids, show_values, value_limit,
                       layer_of.get(t))
        attrs = _node_attrs(t, grads.get(t), grad_range, id(t) in root_ids)
        path = _path_of(t, module_of, module_of_param)
        members.setdefault(path, []).append((str(id(t)), label, attrs))
        if rankdir == "TB" and isinstance(t, Function):
            # Top to bottom, a layer's parameters sit beside its op rather than on the rank above,
            # where they would push each layer sideways off the previous one (a staircase).
            leaves = [str(id(e)) for e in t.edges if isinstance(e, Tensor) and rep.get(e) is e
                      and _path_of(e, module_of, module_of_param) == path]
            if leaves:
                rows.setdefault(path, []).append([str(id(t))] + leaves)
    for fold in folds:
        norms = [grads[t][0] for t in fold.members if t in grads]
        paths = {module_of.get(t) for t in fold.members}
        path = paths.pop() if len(paths) == 1 else None
        members.setdefault(path, []).append((fold.id, fold.label(norms), {
            "shape": "box", "style": "dashed,filled", "fillcolor": FOLD_COLOUR}))
    for node_id, label, attrs in members.pop(None, []):
        dot.node(node_id, label, **attrs)
    _same_rank(dot, rows.pop(None, []))
    if members:
        _emit_clusters(dot, members, module_titles, rows)

    edges = set()
    for node in graph.nodes:
        to = rep[node]
        for edge in node.edges:
            if edge is None:
                continue
            src = rep[edge]
            if src is to:
                continue
            key = (id(src), id(to))
            if key in edges and (isinstance(src, _Fold) or isinstance(to, _Fold)):
                continue                      # one edge between a fold and a neighbour is enough
            edges.add(key)
            # Heavy edges between ops keep the main chain straight; parameters hang beside it
            # instead of pushing each layer sideways (a staircase as wide as the model is deep).
            heavy = isinstance(src, (Function, _Fold)) and isinstance(to, (Function, _Fold))
            dot.edge(_node_id(src), _node_id(to), **({"weight": "10"} if heavy else {}))

    # The caption and the colour legend form the graph's label, below the drawing: as a node the
    # legend would share a rank with the inputs and widen the whole layout.
    lines = _graph_label(graph, folds, max_nodes, grad_note, grads, grad_range, relative)
    dot.attr(label=_caption(lines, _legend(grad_range) if grads else None))
    return dot


# -- inputs ----------------------------------------------------------------------------------------

def _check_roots(roots):
    if len(roots) == 1 and isinstance(roots[0], (list, tuple)):
        roots = tuple(roots[0])
    if not roots:
        raise ValueError("draw_graph: no roots given; pass the tensor(s) whose graph to draw, e.g. draw_graph(loss)")
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"draw_graph: root {i} is a {type(r).__name__}, not a Tensor; pass the output "
                            "tensor(s) of a computation, e.g. draw_graph(loss)")
    return roots


def _names(params, model):
    """Names of leaves (and of named non-leaf tensors' nodes), by id; module path of each parameter;
    a title per module path ("fc1: Linear")."""
    names, module_of_param, titles = {}, {}, {}
    if model is not None:
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"draw_graph: model must be an nn.Module, got {type(model).__name__}")
        for name, p in model.named_parameters():
            names[id(p)] = name
            module_of_param[id(p)] = name.rpartition(".")[0] or None
        titles = _module_titles(model, module_of_param.values())
    for name, t in (params or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] is a {type(t).__name__}, not a Tensor")
        names[id(_target(t))] = name
    return names, module_of_param, titles


def _module_titles(model, paths):
    """'fc1: Linear' for every module path a parameter lives in, and for their parents."""
    modules = dict(model.named_modules()) if hasattr(model, "named_modules") else {}
    titles = {}
    for path in {p for p in paths if p}:
        parts = path.split(".")
        for k in range(1, len(parts) + 1):
            sub = ".".join(parts[:k])
            if sub in titles:
                continue
            module = modules.get(sub)
            if module is None:
                module = model
                for part in parts[:k]:
                    module = getattr(module, part, None)
            titles[sub] = f"{sub}: {type(module).__name__}" if module is not None else sub
    return titles


def _target(t):
    return t.grad_fn if t.grad_fn is not None else t


# -- the graph -------------------------------------------------------------------------------------

class _Graph:
    """Every op node and grad-requiring leaf reachable from the roots (`order`: roots first),
    `nodes` (the op nodes) and `consumers` (target -> the nodes that take it as input)."""

    def __init__(self):
        self.order, self.nodes, self.consumers = [], [], {}

    def topological(self):
        """Inputs before the ops that use them (Kahn's algorithm, no recursion)."""
        remaining = {t: len(self.consumers.get(t, ())) for t in self.order}
        ready = [t for t in self.order if remaining[t] == 0]
        out = []
        while ready:
            t = ready.pop()
            out.append(t)
            for edge in (t.edges if isinstance(t, Function) else ()):
                if edge is not None:
                    remaining[edge] -= 1
                    if remaining[edge] == 0:
                        ready.append(edge)
        out.reverse()
        return out


def _walk(roots):
    graph = _Graph()
    seen = set()
    stack = []
    for r in roots:
        t = _target(r)
        if t not in seen:
            seen.add(t)
            stack.append(t)
    stack.reverse()
    while stack:
        t = stack.pop()
        graph.order.append(t)
        if not isinstance(t, Function):
            continue
        graph.nodes.append(t)
        for edge in t.edges:
            if edge is None:
                continue
            graph.consumers.setdefault(edge, []).append(t)
            if edge not in seen:
                seen.add(edge)
                stack.append(edge)
    return graph


# -- gradients and values --------------------------------------------------------------------------

def _norm(array):
    array = np.asarray(array)
    if array.dtype.kind == "c":
        array = np.abs(array)
    return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _grad_record(array, keep):
    return _norm(array), (np.array(array) if keep else None)


def _gradients(roots, graph, show_grads, keep_limit):
    """target -> (norm, small array or None) of the gradient it receives, and a note for the label."""
    leaves = [t for t in graph.order if isinstance(t, Tensor)]
    if show_grads is None:
        show_grads = any(leaf.grad is not None for leaf in leaves)
    if not show_grads:
        return {}, None
    freed = next((n for n in graph.nodes if n._freed), None)
    if freed is None and graph.nodes:
        records, note = _gradient_pass(roots, graph, leaves, keep_limit)
        if records is not None:
            return records, note
    else:
        note = (f"the graph was freed by backward() (at {freed.name()}): gradient norms of leaves only; "
                "call backward(retain_graph=True) to see every node's") if freed is not None else None
    records = {leaf: _grad_record(leaf.grad._data, leaf.grad._data.size <= keep_limit)
               for leaf in leaves if leaf.grad is not None}
    return records, note


def _gradient_pass(roots, graph, leaves, keep_limit):
    """Run autograd.grad over the graph with a hook on every node recording its output gradient."""
    from .engine import grad as autograd_grad

    records = {}

    def recorder(node, output, norms):
        def hook(grad):
            if node.n_outputs == 1:
                records[node] = _grad_record(grad._data, grad._data.size <= keep_limit)
            else:   # the norm of all its outputs' gradients together
                norms[output] = _norm(grad._data)
                records[node] = (math.hypot(*norms.values()), None)
        return hook

    outputs = [r for r in roots if r.requires_grad]
    seeds = [Tensor._make(np.ones(r.shape, r.dtype), False, None) for r in outputs]
    # Drawing must leave no trace: the user's hooks do not run and retained .grads do not grow
    # during this pass, so they are set aside and put back afterwards.
    user_state = [(node, node.hooks, node.retained) for node in graph.nodes]
    user_leaf_hooks = [(leaf, leaf._hooks) for leaf in leaves]
    for node in graph.nodes:
        norms = {}
        node.hooks, node.retained = [(k, recorder(node, k, norms)) for k in outputs_made(node)], None
    for leaf in leaves:
        leaf._hooks = None
    try:
        leaf_grads = autograd_grad(outputs, leaves, grad_outputs=seeds, retain_graph=True, allow_unused=True)
    except RuntimeError as error:
        message = str(error).splitlines()[0]
        return None, f"could not run a backward pass over the graph ({message}); gradient norms of leaves only"
    finally:
        for node, hooks, retained in user_state:
            node.hooks, node.retained = hooks, retained
        for leaf, hooks in user_leaf_hooks:
            leaf._hooks = hooks
    for leaf, g in zip(leaves, leaf_grads):
        if g is not None:
            records[leaf] = _grad_record(g._data, g._data.size <= keep_limit)
    note = None
    if any(r._data.size != 1 for r in outputs):
        note = "gradients of the sum of the non-scalar root(s)"
    return records, note


def _values(roots, graph, params):
    """target -> array, for the tensors whose values are still known."""
    values = {}
    for t in graph.order:
        if isinstance(t, Tensor):
            values[t] = t._data
        else:
            if t._output_data is not None and not t.output_index:   # output 0's value is the node's
                values[t] = t._output_data
            for saved in getattr(t, "_saved", None) or ():
                if isinstance(saved, Tensor) and saved.grad_fn is not None and not saved.output_nr:
                    values.setdefault(saved.grad_fn, saved._data)   # output 0's: the node's value, as above
    for t in list(roots) + list((params or {}).values()):
        values[_target(t)] = t._data
    return values


# -- module clusters -------------------------------------------------------------------------------

def _common_path(paths):
    """The deepest module path containing all `paths` (None: the top level)."""
    split = [p.split(".") for p in paths if p]
    if len(split) != len(paths) or not split:
        return None
    prefix = []
    for parts in zip(*split):
        if len(set(parts)) != 1:
            break
        prefix.append(parts[0])
    return ".".join(prefix) or None


def _parameter_free_layers(graph, model):
    """op node -> (module path, class name) for the nodes that parameter-free submodules of `model`
    returned (recorded by `nn.Module.__call__` as `node.made_by`)."""
    if not hasattr(model, "named_modules"):
        return {}
    paths = {id(module): path for path, module in model.named_modules() if path}
    layers = {}
    for node in graph.nodes:
        module = getattr(node, "made_by", None)
        path = paths.get(id(module)) if module is not None else None
        if path is not None and next(iter(module.parameters()), None) is None:
            layers[node] = (path, type(module).__name__)
    return layers


def _assign_modules(graph, module_of_param, layer_of=None):
    """op node -> module path (see the module docstring: parameters, then the parent of the
    parameter-free layer that returned it, then the innermost module holding its nearest
    parametrised ancestors and descendants)."""
    layer_of = layer_of or {}
    seed = {}
    for node in graph.nodes:
        paths = [module_of_param[id(e)] for e in node.edges if isinstance(e, Tensor) and id(e) in module_of_param]
        if paths:
            seed[node] = _common_path(paths) or ""
    order = graph.topological()
    empty = frozenset()
    up = {}
    for t in order:                                   # nearest parametrised ancestors
        if not isinstance(t, Function):
            continue
        sets = [frozenset((seed[e],)) if e in seed else up.get(e, empty)
                for e in t.edges if isinstance(e, Function)]
        up[t] = sets[0] if len(sets) == 1 else empty.union(*sets)
    down = {}
    for t in reversed(order):                         # nearest parametrised descendants
        if not isinstance(t, Function):
            continue
        sets = [frozenset((seed[c],)) if c in seed else down.get(c, empty) for c in graph.consumers.get(t, ())]
        down[t] = sets[0] if len(sets) == 1 else empty.union(*sets)
    module_of = {}
    for node in graph.nodes:
        if node in seed:
            path = seed[node]
        elif node in layer_of:
            path = layer_of[node][0].rpartition(".")[0] or None
        elif up[node] and down[node]:
            shared = up[node] & down[node]
            path = _common_path(list(shared or up[node] | down[node]))
        else:
            path = None
        if path:
            module_of[node] = path
    return module_of


def _path_of(t, module_of, module_of_param):
    return module_of.get(t) if isinstance(t, Function) else module_of_param.get(id(t))


def _same_rank(graph, rows):
    for row in rows:
        with graph.subgraph() as same:
            same.attr(rank="same")
            for node_id in row:
                same.node(node_id)


def _emit_clusters(dot, members, titles, rows):
    """Nested `subgraph cluster_<path>` blocks, built innermost first (no recursion)."""
    import graphviz

    paths = set()
    for path in members:
        parts = path.split(".")
        paths.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    clusters = {p: graphviz.Digraph(name=f"cluster_{p}", graph_attr={
        "label": titles.get(p, p), "style": "rounded,dashed", "color": "#888888", "fontsize": "10",
        "labeljust": "l", "labelloc": "t"}) for p in paths}
    for path, nodes in members.items():
        for node_id, label, attrs in nodes:
            clusters[path].node(node_id, label, **attrs)
        _same_rank(clusters[path], rows.get(path, []))
    for path in sorted(paths, key=lambda p: -p.count(".")):
        parent = path.rpartition(".")[0]
        (clusters[parent] if parent else dot).subgraph(clusters[path])


# -- folding ---------------------------------------------------------------------------------------

class _Fold:
    """Nodes drawn as one: the middle of a chain, or everything far from the roots."""

    def __init__(self, members):
        self.members = list(members)
        self.id = f"fold_{id(self.members[0])}"

    def label(self, norms):
        counts = Counter(t.name() if isinstance(t, Function) else "leaf" for t in self.members)
        common = ", ".join(f"{name} x{n}" for name, n in counts.most_common(4))
        if len(counts) > 4:
            common += ", ..."
        text = f"... {len(self.members)} nodes folded\\n({common})"
        finite = [n for n in norms if math.isfinite(n)]
        if finite:
            text += f"\\n|grad| {min(finite):.1e} .. {max(finite):.1e}"
        return text


def _fold(graph, roots, max_nodes):
    """rep: target -> itself if drawn, or the _Fold it belongs to; and the list of folds."""
    rep = {t: t for t in graph.order}
    if len(graph.order) <= max_nodes:
        return rep, []
    folds = []
    root_targets = {_target(r) for r in roots}

    def single_input(t):
        if not isinstance(t, Function) or t in root_targets or len(graph.consumers.get(t, ())) != 1:
            return None
        inputs = [e for e in t.edges if e is not None]
        return inputs[0] if len(inputs) == 1 and isinstance(inputs[0], Function) else None

    # 1. Chains: runs of ops with one input op and one consumer; fold all but the ends.
    in_chain = set()
    for t in graph.order:                   # roots first: each chain is met at its output end
        if t in in_chain or single_input(t) is None:
            continue
        chain = [t]
        nxt = single_input(t)
        while nxt is not None and single_input(nxt) is not None and nxt not in in_chain:
            chain.append(nxt)
            nxt = single_input(nxt)
        in_chain.update(chain)
        if len(chain) > 2 * CHAIN_KEEP + 1:
            fold = _Fold(chain[CHAIN_KEEP:-CHAIN_KEEP])
            for m in fold.members:
                rep[m] = fold
            folds.append(fold)

    # 2. Still too many: keep the drawn nodes nearest the roots, fold the rest into one.
    visible = [t for t in graph.order if rep[t] is t]
    count = len(visible) + len(folds)
    if count > max_nodes:
        keep = set()
        frontier = [t for t in graph.order if t in root_targets]
        seen = set(frontier)
        budget = max(max_nodes - 1, 1)
        drawn = 0
        while frontier and drawn < budget:      # breadth first, input-ward, over drawn units
            nxt = []
            for t in frontier:
                if drawn >= budget:
                    break
                unit = rep[t]
                if unit not in keep:
                    keep.add(unit)
                    drawn += 1
                if isinstance(unit, _Fold):              # step over the folded chain to its far end
                    seen.update(unit.members)
                    t = unit.members[-1]
                for edge in (t.edges if isinstance(t, Function) else ()):
                    if edge is not None and edge not in seen:
                        seen.add(edge)
                        nxt.append(edge)
            frontier = nxt
        rest = [t for t in graph.order if rep[t] not in keep]
        if rest:
            big = _Fold(rest)
            for t in rest:
                rep[t] = big
            folds = [f for f in folds if f in keep] + [big]
    return rep, folds


# -- drawing ---------------------------------------------------------------------------------------

def _node_id(t):
    return t.id if isinstance(t, _Fold) else str(id(t))


def _format_array(a):
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item():.4f}" if a.dtype.kind in "fc" else str(a.item())
    return np.array2string(a.reshape(-1), precision=4, separator=", ", floatmode="fixed")


def _label(t, names, grad, value, is_root, show_values, value_limit, layer=None):
    if isinstance(t, Function):
        title = t.name()
        if layer is not None:
            path, kind = layer
            title = f"{title} ({path})" if kind.lower() == title.lower() else f"{title} in {path}: {kind}"
        named = names.get(id(t))
        if named:
            title = f"{named} = {title}"
    else:
        title = names.get(id(t)) or t.name or "leaf"
    lines = [title, layout(t)]
    small_grad = grad is not None and grad[1] is not None
    if value is not None and np.size(value) <= value_limit:
        data = f"data {_format_array(value)}"
        if small_grad and np.size(value) == 1:
            lines.append(f"{data} | grad {_format_array(grad[1])}")
            grad = None
        else:
            lines.append(data)
    if grad is not None:
        lines.append(f"grad {_format_array(grad[1])}" if small_grad and show_values
                     else f"|grad| {_format_norm(grad[0])}")
    if is_root:
        lines.append("(output)")
    return "\\n".join(lines)


def _format_norm(norm):
    return f"{norm:.2e}" if math.isfinite(norm) else str(norm)


def _colour(norm, grad_range):
    if not math.isfinite(norm):
        return NONFINITE_COLOUR
    low, high = (math.log10(v) for v in grad_range)
    position = (math.log10(norm) - low) / (high - low) if norm > 0 else 0.0
    index = int(round(min(max(position, 0.0), 1.0) * (len(RAMP) - 1)))
    return RAMP[index]


def _node_attrs(t, grad, grad_range, is_root):
    op = isinstance(t, Function)
    attrs = {"shape": "box" if op else "ellipse", "style": "rounded,filled" if op else "filled",
             "fillcolor": OP_COLOUR if op else (LEAF_COLOUR if t.requires_grad else CONST_COLOUR)}
    if grad is not None:
        attrs["fillcolor"] = _colour(grad[0], grad_range)
        if attrs["fillcolor"] in RAMP[:2] + RAMP[-1:]:
            attrs["fontcolor"] = "white"
    if is_root:
        attrs["peripheries"] = "2"
        attrs["penwidth"] = "1.5"
    return attrs


def _graph_label(graph, folds, max_nodes, grad_note, grads, grad_range, relative):
    total = len(graph.order)
    leaves = total - len(graph.nodes)
    text = f"{total} nodes ({len(graph.nodes)} ops, {leaves} {'leaf' if leaves == 1 else 'leaves'})"
    folded = sum(len(f.members) for f in folds)
    if folded:
        text += f"; {folded} nodes folded to stay under max_nodes={max_nodes}"
    lines = [text]
    if grads:
        low, high = grad_range
        if relative:
            lines.append("colour: ||grad||, log scale, relative to this graph:")
            lines.append(f"blue {low:.1e} (its smallest) .. red {high:.1e} (its largest)")
        else:
            lines.append("colour: ||grad||, log scale, fixed by grad_range:")
            lines.append(f"blue {low:.1e} or less .. red {high:.1e} or more")
    if grad_note:
        lines.append(grad_note)
    return lines


def _caption(lines, legend):
    """An HTML-like graphviz label: the caption's lines, left-aligned, then the legend if any."""
    rows = "".join(f'<tr><td align="left">{html.escape(line)}</td></tr>' for line in lines)
    if legend is not None:
        rows += f'<tr><td align="left">{legend}</td></tr>'
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{rows}</table>>'


def _observed_range(norms):
    """The smallest and largest finite, non-zero norm; widened to one decade around their geometric
    mean when they are less than a decade apart, so that near-equal norms get the middle colours."""
    finite = [n for n in norms if math.isfinite(n) and n > 0]
    if not finite:
        return (1e-1, 1e1)
    low, high = min(finite), max(finite)
    if high / low < 10:
        middle = math.sqrt(low * high)
        low, high = middle / math.sqrt(10), middle * math.sqrt(10)
    return low, high


def _depth(graph):
    """The number of ops on the longest path from an input to a root."""
    depth = {}
    for t in graph.topological():
        inputs = [depth[e] for e in (t.edges if isinstance(t, Function) else ()) if e is not None]
        depth[t] = (max(inputs) if inputs else 0) + isinstance(t, Function)
    return max(depth.values(), default=0)


def _legend(grad_range):
    low, high = (math.log10(v) for v in grad_range)
    cells = []
    for i, colour in enumerate(RAMP):
        value = 10 ** (low + (high - low) * i / (len(RAMP) - 1))
        font = ' <font color="white">' if colour in RAMP[:2] + RAMP[-1:] else " <font>"
        cells.append(f'<td bgcolor="{colour}">{font}{value:.0e}</font></td>')
    cells.append(f'<td bgcolor="{NONFINITE_COLOUR}">nan/inf</td>')
    return ('<font point-size="8"><table border="0" cellborder="1" cellspacing="0" cellpadding="1"><tr>'
            f'{"".join(cells)}</tr></table></font>')
