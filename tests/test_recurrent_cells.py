"""The fused LSTM and GRU cells (autograd/ops/recurrent.py): gradcheck and gradgradcheck in float64,
with either output's gradient missing, and forward, backward and double backward against PyTorch's
own formulas (sigmoid, tanh and products in torch), in float32 and float64."""
import numpy as np
import pytest

import autograd as ag

SHAPES = [(3, 2), (2,), (2, 1, 3)]   # the state's shape: batched, unbatched, extra leading dims


def _inputs(rng, state_shape, gates, dtype=np.float64):
    gate_shape = state_shape[:-1] + (gates * state_shape[-1],)
    return [ag.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in (gate_shape, gate_shape, state_shape)]


@pytest.mark.parametrize("state_shape", SHAPES)
@pytest.mark.parametrize("use", ["both", "h", "c"])
def test_lstm_cell_gradcheck_and_gradgradcheck(state_shape, use):
    inputs = _inputs(np.random.default_rng(0), state_shape, 4)

    def run(*args):
        h, c = ag.fused_lstm_cell(*args)
        return {"both": (h, c), "h": h, "c": c}[use]

    assert ag.gradcheck(run, inputs)
    assert ag.gradgradcheck(run, inputs)


@pytest.mark.parametrize("state_shape", SHAPES)
def test_gru_cell_gradcheck_and_gradgradcheck(state_shape):
    inputs = _inputs(np.random.default_rng(1), state_shape, 3)
    assert ag.gradcheck(ag.fused_gru_cell, inputs)
    assert ag.gradgradcheck(ag.fused_gru_cell, inputs)


def _torch_lstm(torch, input_gates, hidden_gates, c):
    i, f, g, o = (input_gates + hidden_gates).chunk(4, -1)
    cell = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(cell), cell


def _torch_gru(torch, input_gates, hidden_gates, h):
    input_r, input_z, input_n = input_gates.chunk(3, -1)
    hidden_r, hidden_z, hidden_n = hidden_gates.chunk(3, -1)
    r, z = torch.sigmoid(input_r + hidden_r), torch.sigmoid(input_z + hidden_z)
    n = torch.tanh(input_n + r * hidden_n)
    return (1 - z) * n + z * h


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cells_match_torch_to_the_second_derivative(dtype, cell):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    ours = _inputs(rng, (4, 5), 4 if cell == "lstm" else 3, dtype)
    theirs = [torch.tensor(t.numpy(), requires_grad=True) for t in ours]
    weights = rng.standard_normal((2, 4, 5)).astype(dtype)

    def loss(outputs, tensor):
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return sum((out * tensor(w) ** 2).sum() for out, w in zip(outputs, weights))

    ours_out = ag.fused_lstm_cell(*ours) if cell == "lstm" else (ag.fused_gru_cell(*ours),)
    theirs_out = _torch_lstm(torch, *theirs) if cell == "lstm" else (_torch_gru(torch, *theirs),)
    tolerance = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(ours_out, theirs_out):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tolerance)
    first = ag.grad(loss(ours_out, ag.tensor), ours, create_graph=True)
    first_torch = torch.autograd.grad(loss(theirs_out, torch.tensor), theirs, create_graph=True)
    for a, b in zip(first, first_torch):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tolerance)
    second = ag.grad(sum((g * g).sum() for g in first), ours)
    second_torch = torch.autograd.grad(sum((g * g).sum() for g in first_torch), theirs)
    for a, b in zip(second, second_torch):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tolerance)


def test_first_derivatives_without_create_graph_equal_the_differentiable_ones():
    rng = np.random.default_rng(3)
    for op, gates in ((ag.fused_lstm_cell, 4), (ag.fused_gru_cell, 3)):
        inputs = _inputs(rng, (3, 4), gates)
        outputs = op(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        total = sum((out * (k + 2)).sum() for k, out in enumerate(outputs))
        plain = ag.grad(total, inputs, retain_graph=True)
        differentiable = ag.grad(total, inputs, create_graph=True)
        for a, b in zip(plain, differentiable):
            assert not a.requires_grad and b.requires_grad
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("op, gates", [(ag.fused_lstm_cell, 4), (ag.fused_gru_cell, 3)])
def test_cells_name_the_shapes_or_dtypes_at_fault(op, gates):
    state = ag.zeros(2, 3)
    with pytest.raises(ag.ShapeError, match=f"{op.__name__}.*{(2, 3 * gates)}"):
        op(ag.zeros(2, 3 * gates + 1), ag.zeros(2, 3 * gates), state)
    with pytest.raises(ag.ShapeError, match=op.__name__):
        op(ag.zeros(2, 3 * gates), ag.zeros(2, 3 * gates), ag.zeros(()))
    with pytest.raises(ag.DTypeError, match=f"{op.__name__}.*float64"):
        op(ag.zeros(2, 3 * gates, dtype=ag.float64), ag.zeros(2, 3 * gates), state)


@pytest.mark.parametrize("rows_per_step", [(3, 3, 3, 3), (4, 3, 3, 1)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_hidden_projection_gives_the_gradients_of_one_product_per_step_to_the_second_order(rows_per_step, with_bias):
    # A tanh recurrence over steps of shrinking batches (as a packed sequence runs), once with
    # ag.hidden_projection and once with a plain linear per step: the same values, and gradcheck /
    # gradgradcheck of the sequence-level weight gradient.
    rng = np.random.default_rng(8)
    hidden = 3
    weight = ag.tensor(rng.standard_normal((hidden, hidden)) * 0.5, requires_grad=True)
    bias = ag.tensor(rng.standard_normal(hidden), requires_grad=True) if with_bias else None
    h0 = ag.tensor(rng.standard_normal((rows_per_step[0], hidden)), requires_grad=True)
    xs = [ag.tensor(rng.standard_normal((rows, hidden))) for rows in rows_per_step]

    def run(weight, *rest, sequence_level=True):
        bias, h = (rest[0], rest[1]) if with_bias else (None, rest[0])
        project = ag.hidden_projection(weight, bias, rows_per_step) if sequence_level else None
        total = 0
        for t, x in enumerate(xs):
            h = h[:x.shape[0]]
            hh = project(t, h) if sequence_level else ag.linear(h, weight, bias)
            h = ag.tanh(x + hh)
            total = total + (h * h).sum()
        return total

    inputs = (weight, bias, h0) if with_bias else (weight, h0)
    np.testing.assert_allclose(run(*inputs).item(), run(*inputs, sequence_level=False).item(), rtol=1e-12)
    ours = ag.grad(run(*inputs), inputs)
    reference = ag.grad(run(*inputs, sequence_level=False), inputs)
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(run, inputs)
    assert ag.gradgradcheck(run, inputs)
