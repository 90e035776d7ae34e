"""saved_tensors_report and trace_graph: what each node saved, memory sharing counted once, a
text trace in topological order whose gradient norms are those backward computed."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn_helpers import frozen_input_gradient_penalty


def small_mlp():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def test_report_lists_every_saved_array_with_its_bytes_and_kind():
    model = small_mlp()
    x = ag.randn(5, 3, dtype=ag.float64)
    loss = model(x).pow(2).mean()
    report = ag.saved_tensors_report(loss, model=model)
    weights = {e.shape: e for e in report.entries if e.kind == "leaf"}
    assert set(weights) == {(4, 3), (2, 4)}
    assert all(e.nbytes == int(np.prod(e.shape)) * 8 and e.dtype == "float64" for e in report.entries)
    assert report.total_bytes == report.leaf_bytes + report.intermediate_bytes
    assert report.leaf_bytes == (4 * 3 + 2 * 4) * 8
    text = str(report)
    assert "0.weight" not in text.splitlines()[0] and "Tanh" in text and "total" in text
    assert "<table>" in report._repr_html_() and report._repr_html_().count("<tr>") == len(report.entries) + 1


def test_the_same_array_saved_twice_is_counted_once_and_marked_shared():
    x = ag.tensor(np.ones((10, 10)), requires_grad=True)
    y = x.exp()                      # saves its output
    z = (y * y).sum()                # saves y twice: the very array exp saved
    report = ag.saved_tensors_report(z)
    shared = [e for e in report.entries if e.shares_with]
    assert len(shared) == 3 and all(e.nbytes == 800 for e in shared)
    assert report.total_bytes == 800


def test_report_after_backward_says_the_saved_values_were_freed():
    x = ag.tensor(np.ones(4), requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    report = ag.saved_tensors_report(loss)
    assert report.entries == [] and report.freed_nodes > 0 and "already freed" in report.summary()


def test_cnn_keeps_more_for_backward_than_an_mlp_of_similar_size():
    ag.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    x = ag.randn(8, 1, 8, 8)
    assert ag.saved_tensors_report(cnn(x).sum()).intermediate_bytes > ag.saved_tensors_report(mlp(x).sum()).intermediate_bytes


def test_trace_is_in_topological_order_and_identical_for_the_same_computation():
    def trace():
        model = small_mlp()
        return ag.trace_graph(model(ag.ones((2, 3), dtype=ag.float64)).sum(), model=model)
    first, second = trace(), trace()
    assert str(first) == str(second)
    defined = set()
    for line in first.lines():
        name, _, rest = line.partition(" = ")
        if "(" in rest.split(" ")[0]:
            inputs = rest[rest.index("(") + 1:rest.index(")")].split(", ")
            assert all(i in defined for i in inputs if i), line
        defined.add(name)
    assert first.lines()[-1].startswith("#") and "Sum(" in first.lines()[-1]


def test_trace_shows_the_gradient_norms_backward_computed():
    model = small_mlp()
    x = ag.ones((2, 3), dtype=ag.float64)
    hidden = model[1](model[0](x))
    loss = model[2](hidden).pow(2).sum()
    hidden.retain_grad()
    trace = ag.trace_graph(loss, model=model)
    assert "grad norm" not in str(trace)
    loss.backward()
    lines = {line.split(" = ")[0]: line for line in trace.lines()}
    assert lines["0.weight"].endswith(f"grad norm {np.linalg.norm(model[0].weight.grad.numpy()):.4g}")
    tanh_line = next(line for line in trace.lines() if "= Tanh(" in line)
    assert tanh_line.endswith(f"grad norm {np.linalg.norm(hidden.grad.numpy()):.4g}")
    trace.remove_hooks()


def test_trace_lists_each_output_of_a_node_with_several():
    # cross_entropy against class indices is one node making the loss and the log-probabilities
    logits = ag.tensor(np.zeros((4, 3)), requires_grad=True)
    loss = nn.functional.cross_entropy(logits, ag.tensor(np.array([0, 2, 1, 1])))
    trace = ag.trace_graph(loss)
    assert trace.lines()[1].startswith("#0 = SoftmaxNll(leaf0) -> () float64, (4, 3) float64, saved ")
    loss.backward()
    assert trace.lines()[1].endswith("grad norm 1")


def test_trace_shows_the_gradient_norm_of_a_node_whose_first_output_it_did_not_make():
    # A gradient penalty on a layer with a frozen input: Linear's backward node (LinearGrad) makes the
    # weight's and the bias's gradients, not the input's (its output 0): its norm is theirs together.
    penalty, grad_w, grad_b = frozen_input_gradient_penalty()
    trace = ag.trace_graph(penalty)
    penalty.backward()
    line = next(line for line in trace.lines() if "= LinearGrad(" in line)
    expected = np.hypot(np.linalg.norm(2 * grad_w.numpy()), np.linalg.norm(2 * grad_b.numpy()))
    assert line.endswith(f"grad norm {expected:.4g}")


def test_bad_roots_are_named():
    with pytest.raises(TypeError, match="root 0 is a ndarray"):
        ag.trace_graph(np.ones(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        ag.saved_tensors_report()
