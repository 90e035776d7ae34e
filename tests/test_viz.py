"""draw_graph: structure, labels, module clusters, folding, gradient colours, rendering with `dot`."""
import html
import re
import shutil
import sys

import numpy as np
import pytest

import autograd as ag
import nn
from nn_helpers import frozen_input_gradient_penalty
from autograd import viz

NODE = re.compile(r'^\t+(\S+) \[label=("(?:[^"\\]|\\.)*"|<.*>)(.*)\]$')


def drawn_nodes(dot):
    """id -> (label, attribute text) for every node statement, clusters included (not the legend)."""
    nodes = {}
    for line in dot.source.splitlines():
        match = NODE.match(line)
        if match and match.group(1) != "legend":
            nodes[match.group(1)] = (match.group(2).strip('"'), match.group(3))
    return nodes


def drawn_edges(dot):
    return [tuple(part.strip() for part in line.split(" [")[0].split("->"))
            for line in dot.source.splitlines() if "->" in line]


def label_of(dot, obj):
    return drawn_nodes(dot)[str(id(obj))][0]


def fill_of(dot, obj):
    return re.search(r'fillcolor="([^"]+)"', drawn_nodes(dot)[str(id(obj))][1]).group(1)


def graph_label(dot):
    """The caption below the drawing, one line per text row of its HTML-like label."""
    label = re.search(r'^\tlabel=<(.*)>$', dot.source, re.M).group(1)
    return "\n".join(html.unescape(row) for row in re.findall(r'<td align="left">([^<]*)</td>', label))


def h_of_x(x=2.0):
    x = ag.tensor(x, requires_grad=True)
    x.name = "x"
    return x, (5 * x + 3) ** 2


def test_ops_and_leaves_are_nodes_with_edges_in_data_flow_order():
    x, h = h_of_x()
    dot = ag.draw_graph(h)
    nodes = drawn_nodes(dot)
    assert len(nodes) == 4                                    # x, Mul, Add, PowScalar
    pow_node = h.grad_fn
    add_node = pow_node.edges[0]
    mul_node = add_node.edges[0]
    assert sorted(drawn_edges(dot)) == sorted([(str(id(x)), str(id(mul_node))),
                                               (str(id(mul_node)), str(id(add_node))),
                                               (str(id(add_node)), str(id(pow_node)))])
    assert label_of(dot, mul_node).startswith("Mul\\n() float32")
    assert label_of(dot, x).startswith("x\\n() float32")
    assert "4 nodes (3 ops, 1 leaf)" in graph_label(dot)


def test_root_is_marked():
    x, h = h_of_x()
    dot = ag.draw_graph(h)
    assert "(output)" in label_of(dot, h.grad_fn)
    assert "peripheries=2" in drawn_nodes(dot)[str(id(h.grad_fn))][1]
    assert "peripheries" not in drawn_nodes(dot)[str(id(x))][1]


def test_labels_show_shapes_and_parameter_names():
    w = ag.randn(3, 4, requires_grad=True)
    b = ag.zeros(4, requires_grad=True)
    out = (ag.randn(2, 3) @ w + b).relu().sum()
    dot = ag.draw_graph(out, params={"weight": w, "bias": b})
    labels = [label for label, _ in drawn_nodes(dot).values()]
    assert label_of(dot, w).startswith("weight\\n(3, 4)")
    assert label_of(dot, b).startswith("bias\\n(4,)")
    assert any(label.startswith("MatMul\\n(2, 4)") for label in labels)
    assert any(label.startswith("Relu\\n(2, 4)") for label in labels)


def test_a_node_with_several_outputs_shows_each_ones_shape():
    # eigh's node makes the eigenvalues and the eigenvectors; cross_entropy's the loss and the
    # log-probabilities it keeps for backward (with the loss's value, not theirs, as its data).
    a = ag.tensor(np.eye(3) + 0.1, requires_grad=True)
    values, vectors = ag.linalg.eigh(a)
    dot = ag.draw_graph(values.sum() + vectors.sum())
    assert label_of(dot, values.grad_fn).startswith("Eigh\\n(3,) float64, (3, 3) float64")
    logits = ag.randn(4, 3, requires_grad=True)
    loss = nn.functional.cross_entropy(logits, ag.tensor(np.array([0, 2, 1, 1])))
    label = label_of(ag.draw_graph(loss * 2, show_values=True, value_limit=20), loss.grad_fn)
    assert label.startswith("SoftmaxNll\\n() float32, (4, 3) float32")
    assert "data" not in label   # the log-probabilities it keeps are not the node's value


def test_a_gradients_graph_shows_no_other_output_as_the_nodes_value():
    # The gradient of cross_entropy (create_graph) saves the log-probabilities, output 1 of the loss's
    # node: drawn with values, that node must not show them as its data.
    logits = ag.tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    loss = nn.functional.cross_entropy(logits, ag.tensor(np.int64(1)))
    (grad,) = ag.grad(loss, logits, create_graph=True)
    label = label_of(ag.draw_graph(grad, show_values=True), loss.grad_fn)
    assert label.startswith("SoftmaxNll\\n() float32, (3,) float32")
    assert "data" not in label


def test_params_can_name_an_intermediate_tensor():
    x, h = h_of_x()
    u = h.grad_fn.edges[0]
    dot = ag.draw_graph(h, params={"root": h})
    assert label_of(dot, h.grad_fn).startswith("root = PowScalar")
    assert label_of(dot, u).startswith("Add")


def test_several_roots_share_one_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    a, b = y.sum(), (y * 2).mean()
    dot = ag.draw_graph(a, b)
    assert len(drawn_nodes(dot)) == 5                       # x, Exp, Sum, Mul, Mean
    assert sum("(output)" in label for label, _ in drawn_nodes(dot).values()) == 2
    assert ag.draw_graph([a, b]).source.count("(output)") == 2


def test_clear_errors_for_bad_roots():
    with pytest.raises(ValueError, match="no roots"):
        ag.draw_graph()
    with pytest.raises(TypeError, match="root 1 is a ndarray, not a Tensor"):
        ag.draw_graph(ag.tensor(1.0, requires_grad=True) * 2, np.ones(3))
    with pytest.raises(TypeError, match="params"):
        ag.draw_graph(ag.tensor(1.0, requires_grad=True) * 2, params={"w": np.ones(3)})


def test_a_root_without_graph_is_drawn_alone():
    dot = ag.draw_graph(ag.ones(2, 2))
    assert len(drawn_nodes(dot)) == 1 and not drawn_edges(dot)


def test_deep_graph_is_walked_without_recursion():
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        dot = ag.draw_graph(y, show_grads=True)
    finally:
        sys.setrecursionlimit(limit)
    assert "5001 nodes" in graph_label(dot)


def test_long_chain_is_folded_and_the_label_says_how_many():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(1000):
        y = (y * 1.001) + 0.5                                # 2,000 ops in one chain
    dot = ag.draw_graph(y.sum())
    nodes = drawn_nodes(dot)
    assert len(nodes) <= viz.DEFAULT_MAX_NODES
    folded = [label for label, _ in nodes.values() if "nodes folded" in label]
    assert len(folded) == 1
    count = int(re.search(r"(\d+) nodes folded", folded[0]).group(1))
    assert count == 2002 - (len(nodes) - 1)                  # everything not drawn is in the fold
    assert "Mul x" in folded[0] and "Add x" in folded[0]
    assert f"{count} nodes folded" in graph_label(dot)
    assert "2002 nodes (2001 ops, 1 leaf)" in graph_label(dot)   # 2,000 ops, Sum and the leaf


def test_wide_graph_is_cut_to_max_nodes():
    leaves = [ag.randn(3, requires_grad=True) for _ in range(200)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total + leaf.exp()
    root = total.sum()
    dot = ag.draw_graph(root, max_nodes=60)
    nodes = drawn_nodes(dot)
    assert len(nodes) <= 60 and "(output)" in label_of(dot, root.grad_fn)
    assert re.search(r"\d+ nodes folded to stay under max_nodes=60", graph_label(dot))
    ids = set(nodes)
    assert all(a in ids and b in ids for a, b in drawn_edges(dot))


def test_small_graphs_are_never_folded():
    x, h = h_of_x()
    assert "folded" not in ag.draw_graph(h, max_nodes=4).source


def test_show_values_gives_the_micrograd_picture():
    x, h = h_of_x(2.0)
    before = ag.draw_graph(h, show_values=True)
    assert "data 169.0000" in label_of(before, h.grad_fn) and "grad" not in label_of(before, h.grad_fn)
    h.backward(retain_graph=True)
    dot = ag.draw_graph(h, show_values=True)
    assert "data 2.0000 | grad 130.0000" in label_of(dot, x)
    assert "data 169.0000 | grad 1.0000" in label_of(dot, h.grad_fn)
    assert "data 13.0000 | grad 26.0000" in label_of(dot, h.grad_fn.edges[0])


def test_show_values_skips_large_tensors():
    x = ag.randn(10, 10, requires_grad=True)
    dot = ag.draw_graph((x * 2).sum(), show_values=True)
    assert "data" not in label_of(dot, x)


def test_a_node_that_did_not_make_its_first_output_is_coloured_by_the_gradients_of_the_others():
    # Linear's backward node (LinearGrad) for a frozen input makes only the weight's and bias's gradients
    penalty, grad_w, grad_b = frozen_input_gradient_penalty()
    label = label_of(ag.draw_graph(penalty, show_grads=True), grad_w.grad_fn)
    expected = np.hypot(np.linalg.norm(2 * grad_w.numpy()), np.linalg.norm(2 * grad_b.numpy()))
    assert label.startswith("LinearGrad\\n") and f"|grad| {expected:.2e}" in label, label


def test_gradient_pass_leaves_grad_and_hooks_untouched():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    dot = ag.draw_graph(y, show_grads=True)
    assert x.grad is None
    assert not y.grad_fn.hooks
    assert "|grad| 4.47e+00" in label_of(dot, x)             # ||2x|| = sqrt(20)
    y.backward()                                            # the graph was retained, not freed
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_gradients_shown_after_backward_with_retain_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 3).sum()
    assert "|grad|" not in ag.draw_graph(y).source           # nothing to show before backward
    y.backward(retain_graph=True)
    dot = ag.draw_graph(y)
    assert all("|grad|" in label or "grad 1.0000" in label for label, _ in drawn_nodes(dot).values())
    assert "freed" not in graph_label(dot)


def test_freed_graph_falls_back_to_leaf_gradients_and_says_so():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    dot = ag.draw_graph(y)
    assert "|grad|" in label_of(dot, x)
    assert "|grad|" not in label_of(dot, y.grad_fn)
    assert "freed" in graph_label(dot) and "retain_graph=True" in graph_label(dot)


def test_colours_tell_vanishing_from_healthy_and_exploding_gradients():
    tiny = ag.tensor([1.0, 1.0], requires_grad=True)
    healthy = ag.tensor([1.0, 1.0], requires_grad=True)
    huge = ag.tensor([1.0, 1.0], requires_grad=True)
    loss = (tiny * 1e-9).sum() + (healthy * 0.1).sum() + (huge * 1e4).sum()
    dot = ag.draw_graph(loss, show_grads=True, grad_range=(1e-7, 1e2))
    colours = fill_of(dot, tiny), fill_of(dot, healthy), fill_of(dot, huge)
    assert colours == (viz.RAMP[0], viz.RAMP[6], viz.RAMP[-1])
    assert ">1e-07</font>" in dot.source and ">1e+02</font>" in dot.source       # the legend's scale
    assert "blue 1.0e-07 or less .. red 1.0e+02 or more" in graph_label(dot)


def test_default_colour_scale_runs_from_the_graphs_smallest_to_its_largest_gradient():
    small = ag.tensor([1.0, 1.0], requires_grad=True)
    middle = ag.tensor([1.0, 1.0], requires_grad=True)
    large = ag.tensor([1.0, 1.0], requires_grad=True)
    loss = (small * 0.5).sum() + (middle * 3.0).sum() + (large * 15.0).sum()     # a healthy range
    dot = ag.draw_graph(loss, show_grads=True)
    assert (fill_of(dot, small), fill_of(dot, large)) == (viz.RAMP[0], viz.RAMP[-1])
    assert fill_of(dot, middle) not in (viz.RAMP[0], viz.RAMP[-1])
    label = graph_label(dot)
    assert "relative to this graph:\nblue 7.1e-01 (its smallest) .. red 2.1e+01 (its largest)" in label
    assert "exploding" not in dot.source and "vanishing" not in dot.source
    assert ">7e-01</font>" in dot.source and ">2e+01</font>" in dot.source     # the legend's ends


def test_equal_gradient_norms_get_the_middle_of_the_scale():
    x = ag.tensor([3.0, 4.0], requires_grad=True)
    dot = ag.draw_graph((x * 1.0).sum(), show_grads=True)
    assert fill_of(dot, x) in viz.RAMP[4:6]


def test_nonfinite_gradients_get_their_own_colour():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.log().sum()
        dot = ag.draw_graph(y, show_grads=True)
    assert fill_of(dot, x) == viz.NONFINITE_COLOUR


def test_non_scalar_root_is_seeded_with_ones():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    dot = ag.draw_graph(x * 3, show_grads=True)
    assert "|grad| 4.24e+00" in label_of(dot, x)               # ||(3, 3)||
    assert "sum of the non-scalar root" in graph_label(dot)


def test_node_ids_are_the_ids_of_nodes_and_leaves():
    x, h = h_of_x()
    ids = set(drawn_nodes(ag.draw_graph(h)))
    assert ids == {str(id(x)), str(id(h.grad_fn)), str(id(h.grad_fn.edges[0])), str(id(h.grad_fn.edges[0].edges[0]))}


# -- with nn modules ---------------------------------------------------------------------------

def ops_using(root, leaf):
    """The op nodes in root's graph that take `leaf` as a direct input."""
    found, stack, seen = [], [root.grad_fn], set()
    while stack:
        node = stack.pop()
        if any(e is leaf for e in node.edges):
            found.append(node)
        for e in node.edges:
            if isinstance(e, ag.Function) and e not in seen:
                seen.add(e)
                stack.append(e)
    assert found
    return found


def mlp_and_loss():
    import nn
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = ag.randn(5, 4)
    loss = model(x).sum()
    return nn, model, loss


def test_model_names_parameters_and_clusters_nodes_per_submodule():
    nn, model, loss = mlp_and_loss()
    dot = ag.draw_graph(loss, model=model)
    source = dot.source
    assert "subgraph cluster_0 {" in source and "subgraph cluster_2 {" in source
    assert 'label="0: Linear"' in source and 'label="2: Linear"' in source
    for cluster, layer in (("cluster_0", model[0]), ("cluster_2", model[2])):
        body = source.split(f"subgraph {cluster} {{")[1].split("\t}")[0]
        assert str(id(layer.weight)) in body and str(id(layer.bias)) in body
        assert all(str(id(op)) in body for op in ops_using(loss, layer.weight))
    assert label_of(dot, model[0].weight).startswith("0.weight\\n(8, 4)")
    relu = [node_id for node_id, (label, _) in drawn_nodes(dot).items() if label.startswith("Relu")]
    assert relu and all(node_id not in source.split("subgraph")[1] for node_id in relu)  # between modules


def test_nested_modules_give_nested_clusters():
    import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 6))
            self.head = nn.Linear(6, 1)

        def forward(self, x):
            return self.head(self.body(x).relu())

    model = Net()
    dot = ag.draw_graph(model(ag.randn(2, 3)).mean(), model=model)
    source = dot.source
    body = source.split("subgraph cluster_body {")[1].split("\n\t}")[0]   # up to the cluster's closing brace
    assert 'subgraph "cluster_body.0" {' in body and 'subgraph "cluster_body.2" {' in body
    assert 'label="body: Sequential"' in body and 'label="body.0: Linear"' in body
    assert "subgraph cluster_head {" in source and "cluster_head" not in body
    tanh = next(node_id for node_id, (label, _) in drawn_nodes(dot).items() if label.startswith("Tanh"))
    relu = next(node_id for node_id, (label, _) in drawn_nodes(dot).items() if label.startswith("Relu"))
    inner = [part.split("\n\t\t}")[0] for part in body.split("subgraph")[1:]]
    assert tanh in body and not any(tanh in part for part in inner)      # between body.0 and body.2
    assert relu not in body                                               # between body and head


def test_gradient_norms_of_a_deep_sigmoid_net_vanish_toward_the_input():
    import nn
    ag.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    loss = model(ag.randn(8, 16)).mean()
    loss.backward(retain_graph=True)
    dot = ag.draw_graph(loss, model=model)
    first, last = fill_of(dot, model[0].weight), fill_of(dot, model[16].weight)
    assert viz.RAMP.index(first) < viz.RAMP.index(last)      # bluer near the input


def test_parameter_free_layers_are_named_and_grouped_in_their_parent_module():
    import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.5))
            self.head = nn.Linear(6, 1)

        def forward(self, x):
            return self.head(self.body(x))

    model = Net()
    dot = ag.draw_graph(model(ag.randn(4, 3)).mean(), model=model)
    source = dot.source
    labels = [label for label, _ in drawn_nodes(dot).values()]
    dropout = next(label for label in labels if "body.2: Dropout" in label)
    relu = next(label for label in labels if label.startswith("Relu"))
    assert dropout.startswith("Mul in body.2: Dropout") and relu.startswith("Relu (body.1)")
    body = source.split("subgraph cluster_body {")[1].split("\n\t}")[0]
    inner = body.split('subgraph "cluster_body.0" {')[1].split("\n\t\t}")[0]
    assert "Dropout" in body and "Dropout" not in inner          # in body, not inside body.0
    assert "cluster_body.2" not in source                       # no cluster of one node per layer


def test_deep_graphs_are_drawn_top_to_bottom_and_shallow_ones_left_to_right():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(viz.DEEP_GRAPH_RANKS + 1):
        y = y.tanh()
    assert "rankdir=TB" in ag.draw_graph(y.sum()).source
    assert "rankdir=LR" in ag.draw_graph(x.tanh().sum()).source
    assert "rankdir=LR" in ag.draw_graph(y.sum(), rankdir="LR").source
    with pytest.raises(ValueError, match="rankdir must be"):
        ag.draw_graph(y, rankdir="sideways")


# -- rendering with the real `dot` ---------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` binary is not installed")
def test_renders_to_svg_and_png_with_dot():
    x, h = h_of_x()
    h.backward(retain_graph=True)
    dot = ag.draw_graph(h, show_values=True)
    svg = dot.pipe(format="svg")
    assert b"<svg" in svg and b"PowScalar" in svg and b"data 2.0000 | grad 130.0000" in svg
    png = dot.pipe(format="png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "image/svg+xml" in dot._repr_mimebundle_()          # what Jupyter displays inline


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` binary is not installed")
def test_the_legend_sits_in_the_caption_and_does_not_widen_the_drawing():
    x, h = h_of_x()
    h.backward(retain_graph=True)

    def width(dot):
        return float(re.search(r'<svg width="([0-9.]+)pt"', dot.pipe(format="svg").decode()).group(1))
    dot = ag.draw_graph(h, show_grads=True, show_values=True, max_width=None)
    assert "legend" not in dot.source and ">nan/inf</td>" in dot.source
    with_caption = width(dot)
    dot.attr(label="")                                      # the same drawing without caption and legend
    assert with_caption <= 1.05 * width(dot)


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` binary is not installed")
def test_a_deep_model_renders_within_the_page_width():
    import nn
    layers = [nn.Flatten(), nn.Linear(784, 64), nn.Sigmoid()]
    for _ in range(8):
        layers += [nn.Linear(64, 64), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(64, 10))
    loss = nn.functional.cross_entropy(model(ag.randn(8, 1, 28, 28)), ag.tensor(np.arange(8)))
    loss.backward(retain_graph=True)
    svg = ag.draw_graph(loss, model=model).pipe(format="svg").decode()
    width = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))
    assert width <= viz.MAX_WIDTH * 72 + 1                          # points; 72 to the inch
    assert "0: Flatten" in svg or "1: Linear" in svg
    assert svg.count("Linear") >= 10                                # every layer is drawn, none cut off
    full = ag.draw_graph(loss, model=model, max_width=None).pipe(format="svg").decode()
    assert float(re.search(r'<svg width="([0-9.]+)pt"', full).group(1)) >= width


def test_drawing_leaves_retained_grads_and_user_hooks_as_they_were():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    calls = []
    y.register_hook(lambda g: calls.append(1))
    x.register_hook(lambda g: calls.append(2))
    z = (y * y).sum()
    z.backward(retain_graph=True)
    before_y, before_x, before_calls = y.grad.numpy().copy(), x.grad.numpy().copy(), list(calls)
    ag.draw_graph(z, show_grads=True)
    np.testing.assert_array_equal(y.grad.numpy(), before_y)
    np.testing.assert_array_equal(x.grad.numpy(), before_x)
    assert calls == before_calls
    z.backward()  # the user's hooks and retain_grad still work afterwards
    np.testing.assert_array_equal(y.grad.numpy(), 2 * before_y)
    assert calls == before_calls * 2


def test_draw_graph_returns_a_digraph():
    graphviz = pytest.importorskip("graphviz")
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = ag.randn(2, 3)
    loss = model(x).pow(2).mean()
    dot = ag.draw_graph(loss)
    assert isinstance(dot, graphviz.Digraph)
    named = ag.draw_graph(loss, params=dict(model.named_parameters()))
    assert "0.weight" in named.source
    grouped = ag.draw_graph(loss, model=model, show_values=False, rankdir="TB")
    assert isinstance(grouped, graphviz.Digraph) and "2.bias" in grouped.source
    loss.backward()
    assert isinstance(ag.draw_graph(loss, model=model), graphviz.Digraph)
