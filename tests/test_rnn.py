"""Recurrent layers and cells against PyTorch with copied weights (outputs, final states, input, state
and parameter gradients, float64 and float32), gradcheck and gradgradcheck in float64, state dict
layout, initialisation, and errors."""
from dataclasses import dataclass

import numpy as np
import pytest

import autograd as ag
import nn
from nn_helpers import DTYPES, assert_matches_torch, copy_torch_state, to_torch, torch_dtype

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")


@dataclass
class RecurrentCase:
    name: str
    build: str                 # constructor call, evaluated with `nn` bound to ndgrad's nn or torch.nn
    shape: tuple               # input shape
    states: tuple = ()         # shapes of the initial state tensors (none: zeros)


CASES = [
    RecurrentCase("rnn_tanh", "nn.RNN(3, 4)", (5, 2, 3)),
    RecurrentCase("rnn_relu_h0", "nn.RNN(3, 4, nonlinearity='relu')", (5, 2, 3), states=((1, 2, 4),)),
    RecurrentCase("rnn_2layers_bidirectional", "nn.RNN(3, 4, 2, bidirectional=True)", (4, 2, 3),
                  states=((4, 2, 4),)),
    RecurrentCase("rnn_no_bias_batch_first", "nn.RNN(3, 4, bias=False, batch_first=True)", (2, 5, 3)),
    RecurrentCase("rnn_unbatched", "nn.RNN(3, 4, 2)", (5, 3), states=((2, 4),)),
    RecurrentCase("lstm", "nn.LSTM(3, 4)", (5, 2, 3)),
    RecurrentCase("lstm_h0_c0", "nn.LSTM(3, 4)", (5, 2, 3), states=((1, 2, 4), (1, 2, 4))),
    RecurrentCase("lstm_2layers_bidirectional_batch_first", "nn.LSTM(3, 4, num_layers=2, bidirectional=True, "
                  "batch_first=True)", (2, 4, 3), states=((4, 2, 4), (4, 2, 4))),
    RecurrentCase("lstm_proj", "nn.LSTM(3, 5, proj_size=2, bidirectional=True)", (4, 2, 3),
                  states=((2, 2, 2), (2, 2, 5))),
    RecurrentCase("lstm_no_bias_unbatched", "nn.LSTM(3, 4, bias=False)", (5, 3), states=((1, 4), (1, 4))),
    RecurrentCase("gru", "nn.GRU(3, 4)", (5, 2, 3)),
    RecurrentCase("gru_h0", "nn.GRU(3, 4)", (5, 2, 3), states=((1, 2, 4),)),
    RecurrentCase("gru_2layers_bidirectional", "nn.GRU(3, 4, 2, bidirectional=True)", (6, 2, 3),
                  states=((4, 2, 4),)),
    RecurrentCase("gru_batch_first_no_bias", "nn.GRU(3, 4, 2, bias=False, batch_first=True)", (2, 5, 3)),
    RecurrentCase("gru_unbatched_bidirectional", "nn.GRU(3, 4, bidirectional=True, batch_first=True)", (5, 3),
                  states=((2, 4),)),
    RecurrentCase("gru_one_step", "nn.GRU(3, 4)", (1, 2, 3)),
    RecurrentCase("rnn_cell", "nn.RNNCell(3, 4)", (2, 3)),
    RecurrentCase("rnn_cell_relu_h", "nn.RNNCell(3, 4, nonlinearity='relu')", (2, 3), states=((2, 4),)),
    RecurrentCase("rnn_cell_unbatched_no_bias", "nn.RNNCell(3, 4, bias=False)", (3,), states=((4,),)),
    RecurrentCase("lstm_cell", "nn.LSTMCell(3, 4)", (2, 3)),
    RecurrentCase("lstm_cell_h_c", "nn.LSTMCell(3, 4)", (2, 3), states=((2, 4), (2, 4))),
    RecurrentCase("lstm_cell_unbatched", "nn.LSTMCell(3, 4)", (3,), states=((4,), (4,))),
    RecurrentCase("gru_cell", "nn.GRUCell(3, 4)", (2, 3)),
    RecurrentCase("gru_cell_h_no_bias", "nn.GRUCell(3, 4, bias=False)", (2, 3), states=((2, 4),)),
    RecurrentCase("gru_cell_unbatched", "nn.GRUCell(3, 4)", (3,), states=((4,),)),
]


def build_pair(case, dtype):
    theirs = eval(case.build, {"nn": torch.nn}).to(torch_dtype(dtype))
    mine = eval(case.build, {"nn": nn}).to(dtype)
    copy_torch_state(mine, theirs)
    return mine, theirs


def flat_results(result):
    """The output and every state tensor of a layer's or cell's result, in one flat list."""
    if not isinstance(result, tuple):
        return [result]
    flat = []
    for part in result:
        flat.extend(flat_results(part))
    return flat


def hx_argument(states):
    """The initial state argument: none, one tensor, or an (h, c) pair."""
    if not states:
        return ()
    return (states[0],) if len(states) == 1 else ((states[0], states[1]),)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_recurrent_layer_matches_torch(case, dtype):
    rng = np.random.default_rng(0)
    mine, theirs = build_pair(case, dtype)
    x = rng.standard_normal(case.shape).astype(dtype)
    states = [rng.standard_normal(shape).astype(dtype) for shape in case.states]
    x_mine, x_theirs = ag.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    states_mine = [ag.tensor(s, requires_grad=True) for s in states]
    states_theirs = [to_torch(s, requires_grad=True) for s in states]
    results_mine = flat_results(mine(x_mine, *hx_argument(states_mine)))
    results_theirs = flat_results(theirs(x_theirs, *hx_argument(states_theirs)))
    assert len(results_mine) == len(results_theirs)
    for i, (a, b) in enumerate(zip(results_mine, results_theirs)):
        assert_matches_torch(f"{case.name} result {i}", a, b, dtype)
    # One random weighting of every result, so each output and state sends back its own gradient.
    weights = [rng.standard_normal(r.shape).astype(dtype) for r in results_theirs]
    sum(ag.sum(r * ag.tensor(w)) for r, w in zip(results_mine, weights)).backward()
    sum((r * to_torch(w)).sum() for r, w in zip(results_theirs, weights)).backward()
    assert_matches_torch(f"{case.name} input grad", x_mine.grad, x_theirs.grad, dtype)
    for i, (a, b) in enumerate(zip(states_mine, states_theirs)):
        assert_matches_torch(f"{case.name} state {i} grad", a.grad, b.grad, dtype)
    for (name, p_mine), (_, p_theirs) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert_matches_torch(f"{case.name} {name} grad", p_mine.grad, p_theirs.grad, dtype)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_state_dict_keys_shapes_and_order_match_torch(case):
    mine, theirs = eval(case.build, {"nn": nn}), eval(case.build, {"nn": torch.nn})
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(mine) == repr(theirs)


GRADCHECK_CASES = [
    ("nn.RNN(2, 3, 2, bidirectional=True)", (3, 2, 2), ((4, 2, 3),)),
    ("nn.RNN(2, 3, nonlinearity='relu')", (3, 2, 2), ()),
    ("nn.LSTM(2, 2, 2, batch_first=True)", (1, 3, 2), ((2, 1, 2), (2, 1, 2))),
    ("nn.LSTM(2, 3, proj_size=2, bidirectional=True)", (3, 1, 2), ()),
    ("nn.GRU(2, 2, 2, bidirectional=True)", (2, 1, 2), ((4, 1, 2),)),
    ("nn.RNNCell(2, 3)", (2, 2), ((2, 3),)),
    ("nn.LSTMCell(2, 3)", (2, 2), ((2, 3), (2, 3))),
    ("nn.GRUCell(2, 3)", (2, 2), ((2, 3),)),
]


@pytest.mark.parametrize("build, shape, state_shapes", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_and_gradgradcheck_in_float64(build, shape, state_shapes):
    ag.manual_seed(0)
    module = eval(build, {"nn": nn}).double()
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal(shape), requires_grad=True)
    states = [ag.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in state_shapes]
    params = list(module.parameters())

    def run(x, *rest):
        results = flat_results(module(x, *hx_argument(rest[:len(states)])))
        return sum((r * (i + 1)).sum() for i, r in enumerate(results))

    inputs = [x, *states, *params]
    assert ag.gradcheck(run, inputs)
    assert ag.gradgradcheck(run, inputs)


def test_default_initialisation_is_uniform_in_one_over_sqrt_hidden():
    ag.manual_seed(0)
    layer = nn.LSTM(8, 16, 2, bidirectional=True)
    bound = 1 / 4
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound   # spread over the whole range
    assert abs(values.mean()) < 0.01
    cell = nn.GRUCell(3, 100)
    cell_values = np.concatenate([p.numpy().ravel() for p in cell.parameters()])
    assert np.abs(cell_values).max() <= 0.1 and np.abs(cell_values).max() > 0.09


def test_dropout_between_layers_only_in_training():
    x = ag.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)))
    layer = nn.GRU(3, 5, num_layers=2, dropout=0.5).double()
    layer.eval()
    clean, _ = layer(x)
    np.testing.assert_array_equal(layer(x)[0].numpy(), clean.numpy())
    layer.train()
    ag.manual_seed(0)
    dropped, _ = layer(x)
    ag.manual_seed(1)
    dropped_again, _ = layer(x)
    assert not np.allclose(dropped.numpy(), clean.numpy())          # the first layer's output was dropped
    assert not np.allclose(dropped.numpy(), dropped_again.numpy())  # with the seed's mask
    assert (dropped.numpy() != 0).all()                          # but never the last layer's


def test_dropout_in_single_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_matches_torch_after_load_and_double_then_float():
    theirs = torch.nn.LSTM(3, 4, 2)
    mine = nn.LSTM(3, 4, 2)
    copy_torch_state(mine, theirs)
    x = np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32)
    out_mine, (h_mine, c_mine) = mine(ag.tensor(x))
    out_theirs, (h_theirs, c_theirs) = theirs(torch.from_numpy(x))
    assert_matches_torch("lstm float32 output", out_mine, out_theirs)
    assert_matches_torch("lstm float32 c_n", c_mine, c_theirs)


def test_long_sequence_gradient_matches_torch():
    """Sequences longer than a few steps split their input projections recursively; the
    gradient must still reach every step."""
    mine, theirs = build_pair(RecurrentCase("", "nn.GRU(2, 3)", (37, 1, 2)), np.float64)
    x = np.random.default_rng(0).standard_normal((37, 1, 2))
    x_mine, x_theirs = ag.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    mine(x_mine)[0].sum().backward()
    theirs(x_theirs)[0].sum().backward()
    assert_matches_torch("gru 37 steps input grad", x_mine.grad, x_theirs.grad, np.float64)


@pytest.mark.parametrize("build, args, message", [
    ("nn.GRU(3, 4)", [(5, 2, 2)], r"GRU: input.size\(-1\) must be equal to input_size. Expected 3, got 2 "
                                  r"\(input of shape \(5, 2, 2\)\)"),
    ("nn.LSTM(3, 4)", [(2, 5, 2, 3)], r"LSTM: expected a 2-D \(unbatched\) or 3-D input, got a 4-D input of "
                                      r"shape \(2, 5, 2, 3\)"),
    ("nn.RNN(3, 4, 2)", [(5, 2, 3), (1, 2, 4)], r"RNN: expected hx of shape \(2, 2, 4\) for an input of shape "
                                                r"\(5, 2, 3\), got \(1, 2, 4\)"),
    ("nn.RNN(3, 4)", [(5, 3), (1, 2, 4)], r"RNN: expected hx of shape \(1, 4\) for an input of shape \(5, 3\), "
                                          r"got \(1, 2, 4\)"),
    ("nn.GRU(3, 4)", [(0, 2, 3)], r"GRU: the input sequence is empty"),
    ("nn.GRUCell(3, 4)", [(2, 5)], r"GRUCell: expected an input of shape \(N, 3\) or \(3,\), got \(2, 5\)"),
    ("nn.RNNCell(3, 4)", [(2, 3), (3, 4)], r"RNNCell: expected hx of shape \(2, 4\) for an input of shape "
                                           r"\(2, 3\), got \(3, 4\)"),
])
def test_wrong_shapes_raise_naming_the_layer_and_shapes(build, args, message):
    module = eval(build, {"nn": nn})
    tensors = [ag.zeros(shape) for shape in args]
    with pytest.raises(ValueError, match=message):
        module(*tensors)


def test_lstm_state_pair_errors_name_the_part():
    with pytest.raises(ValueError, match=r"LSTM: expected hx\[1\] \(the cell state c_0\) of shape \(1, 2, 4\)"):
        nn.LSTM(3, 4)(ag.zeros((5, 2, 3)), (ag.zeros((1, 2, 4)), ag.zeros((1, 2, 5))))
    with pytest.raises(ValueError, match=r"LSTMCell: expected hx\[0\] \(the hidden state h\) of shape \(2, 4\)"):
        nn.LSTMCell(3, 4)(ag.zeros((2, 3)), (ag.zeros((2, 5)), ag.zeros((2, 4))))


def test_dtype_mismatch_raises_like_torch():
    with pytest.raises(ValueError, match="dtype float64 does not match the weights' dtype float32"):
        nn.GRU(3, 4)(ag.zeros((5, 2, 3), dtype=ag.float64))


STATE_DTYPE_CASES = [(build, dtypes) for build in ("RNNCell", "GRUCell", "RNN", "GRU")
                     for dtypes in ((np.float32, np.float64), (np.float64, np.float32))] + \
                    [(build, dtypes) for build in ("LSTMCell", "LSTM")
                     for dtypes in ((np.float32, np.float32, np.float64), (np.float32, np.float64, np.float32),
                                    (np.float32, np.float64, np.float64), (np.float64, np.float32, np.float32))]


@pytest.mark.parametrize("build, dtypes", STATE_DTYPE_CASES,
                         ids=[f"{b}-" + "-".join(np.dtype(d).name for d in ds) for b, ds in STATE_DTYPE_CASES])
def test_a_state_dtype_unlike_the_weights_raises_naming_the_state_where_torch_raises(build, dtypes):
    """(input dtype, state dtypes...) against float32 weights. PyTorch refuses every mismatch except
    LSTMCell's cell state c, which it takes in any floating dtype, computing h' and c' in the
    promoted dtype; ours does the same, and its errors name the part at fault and both dtypes."""
    rng = np.random.default_rng(0)
    mine, theirs = getattr(nn, build)(3, 4), getattr(torch.nn, build)(3, 4)
    copy_torch_state(mine, theirs)
    cell = build.endswith("Cell")
    input_dtype, *state_dtypes = dtypes
    x = rng.standard_normal((2, 3) if cell else (5, 2, 3)).astype(input_dtype)
    states = [rng.standard_normal((2, 4) if cell else (1, 2, 4)).astype(d) for d in state_dtypes]
    x_mine, x_theirs = ag.tensor(x, requires_grad=True), to_torch(x, True)
    s_mine = [ag.tensor(s, requires_grad=True) for s in states]
    s_theirs = [to_torch(s, True) for s in states]
    hx_mine, hx_theirs = (tuple(s_mine), tuple(s_theirs)) if len(states) == 2 else (s_mine[0], s_theirs[0])
    try:
        out_theirs = theirs(x_theirs, hx_theirs)
    except (RuntimeError, ValueError):
        if input_dtype != np.float32:
            message = rf"{build}: the input's dtype float64 does not match the weights' dtype float32"
        else:
            bad = next(i for i, d in enumerate(state_dtypes) if d != np.float32)
            what = "hx" if len(states) == 1 else rf"hx\[{bad}\] \(the {('hidden', 'cell')[bad]} state"
            message = rf"{build}: {what}.* has dtype float64, but the input and weights have dtype float32"
        with pytest.raises(ValueError, match=message):
            mine(x_mine, hx_mine)
        return
    out_mine = mine(x_mine, hx_mine)
    for a, b in zip(out_mine, out_theirs):
        assert_matches_torch(f"{build} output", a, b, np.float32)
    sum(o.sum() for o in out_mine).backward()
    sum(o.sum() for o in out_theirs).backward()
    assert_matches_torch("input grad", x_mine.grad, x_theirs.grad, np.float32)
    for a, b in zip(s_mine, s_theirs):
        assert_matches_torch("state grad", a.grad, b.grad, b.grad.numpy().dtype, rtol=2e-4, atol=2e-5)
    assert_matches_torch("weight grad", mine.weight_hh.grad, theirs.weight_hh.grad, np.float32)


@pytest.mark.parametrize("build, error, message", [
    ("nn.RNN(3, 4, nonlinearity='sigmoid')", ValueError, "Unknown nonlinearity 'sigmoid'"),
    ("nn.GRU(3, 4, dropout=1.5)", ValueError, "dropout should be a number in range"),
    ("nn.LSTM(3, 4, proj_size=4)", ValueError, "proj_size has to be smaller than hidden_size"),
    ("nn.GRU(3, 0)", ValueError, "hidden_size must be greater than zero"),
    ("nn.LSTM(3, 4, num_layers=0)", ValueError, "num_layers must be greater than zero"),
    ("nn.RNN(3.0, 4)", TypeError, "input_size should be of type int"),
])
def test_bad_constructor_arguments_raise(build, error, message):
    with pytest.raises(error, match=message):
        eval(build, {"nn": nn})


# -- packed sequences ------------------------------------------------------------------------------

PACKED_CASES = [
    ("nn.LSTM(3, 4)", False, True, False),
    ("nn.GRU(3, 4, num_layers=2, bidirectional=True)", True, False, False),
    ("nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)", True, False, True),
    ("nn.RNN(3, 4, nonlinearity='relu', batch_first=True)", False, False, True),
    ("nn.LSTM(3, 4, batch_first=True, bidirectional=True)", True, False, True),
]


@pytest.mark.parametrize("build, with_hx, enforce_sorted, batch_first", PACKED_CASES, ids=[c[0] for c in PACKED_CASES])
def test_a_packed_batch_runs_each_sequence_to_its_own_length_like_torch(build, with_hx, enforce_sorted, batch_first):
    """Output (packed and padded back), final states in the batch's original order, and the gradients
    of the input, the initial state and every parameter, against PyTorch in float64."""
    from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    tu = torch.nn.utils.rnn
    rng = np.random.default_rng(0)
    mine, theirs = build_pair(RecurrentCase("packed", build, ()), np.float64)
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 4]
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    x_mine, x_theirs = ag.tensor(x, requires_grad=True), to_torch(x, True)
    states = []
    if with_hx:
        layers = theirs.num_layers * (2 if theirs.bidirectional else 1)
        sizes = [theirs.proj_size or theirs.hidden_size] + ([theirs.hidden_size] if "LSTM" in build else [])
        states = [rng.standard_normal((layers, 4, size)) for size in sizes]
    s_mine = [ag.tensor(s, requires_grad=True) for s in states]
    s_theirs = [to_torch(s, True) for s in states]

    def hx(parts):
        return None if not parts else tuple(parts) if len(parts) == 2 else parts[0]

    packed_mine = pack_padded_sequence(x_mine, lengths, batch_first, enforce_sorted)
    packed_theirs = tu.pack_padded_sequence(x_theirs, lengths, batch_first, enforce_sorted)
    out_mine, final_mine = mine(packed_mine, hx(s_mine))
    out_theirs, final_theirs = theirs(packed_theirs, hx(s_theirs))
    assert_matches_torch("packed output", out_mine.data, out_theirs.data, np.float64)
    assert out_mine.batch_sizes.tolist() == out_theirs.batch_sizes.tolist()
    final_mine = final_mine if isinstance(final_mine, tuple) else (final_mine,)
    final_theirs = final_theirs if isinstance(final_theirs, tuple) else (final_theirs,)
    for i, (a, b) in enumerate(zip(final_mine, final_theirs)):
        assert_matches_torch(f"final state {i}", a, b, np.float64)
    padded_mine, lengths_mine = pad_packed_sequence(out_mine, batch_first)
    padded_theirs, lengths_theirs = tu.pad_packed_sequence(out_theirs, batch_first)
    assert_matches_torch("padded output", padded_mine, padded_theirs, np.float64)
    assert lengths_mine.tolist() == lengths_theirs.tolist() == lengths
    weights = [rng.standard_normal(t.shape) for t in (padded_theirs,) + final_theirs]
    sum((r * ag.tensor(w)).sum() for r, w in zip((padded_mine,) + final_mine, weights)).backward()
    sum((r * to_torch(w)).sum() for r, w in zip((padded_theirs,) + final_theirs, weights)).backward()
    assert_matches_torch("input grad", x_mine.grad, x_theirs.grad, np.float64)
    for a, b in zip(s_mine, s_theirs):
        assert_matches_torch("initial state grad", a.grad, b.grad, np.float64)
    for (name, p_mine), p_theirs in zip(mine.named_parameters(), theirs.parameters()):
        assert_matches_torch(f"{name} grad", p_mine.grad, p_theirs.grad, np.float64)


def test_packing_and_padding_round_trip_like_torch():
    from nn.utils import rnn
    tu = torch.nn.utils.rnn
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 2))
    x_mine, x_theirs = ag.tensor(x, requires_grad=True), to_torch(x, True)
    packed, packed_t = rnn.pack_padded_sequence(x_mine, [2, 4, 3], enforce_sorted=False), \
        tu.pack_padded_sequence(x_theirs, [2, 4, 3], enforce_sorted=False)
    assert_matches_torch("data", packed.data, packed_t.data)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(packed, field).tolist() == getattr(packed_t, field).tolist()
        assert getattr(packed, field).dtype == np.int64
    data, batch_sizes, sorted_indices, unsorted_indices = packed      # a named tuple, as PyTorch's
    padded, lengths = rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0, total_length=6)
    padded_t, lengths_t = tu.pad_packed_sequence(packed_t, batch_first=True, padding_value=-1.0, total_length=6)
    assert_matches_torch("padded", padded, padded_t)
    assert lengths.tolist() == lengths_t.tolist() and lengths.dtype == np.int64
    upstream = rng.standard_normal(padded_t.shape)
    padded.backward(ag.tensor(upstream))
    padded_t.backward(to_torch(upstream))
    assert_matches_torch("input grad", x_mine.grad, x_theirs.grad)
    sequences = [ag.tensor(rng.standard_normal((n, 2))) for n in (2, 5, 3)]
    packed = rnn.pack_sequence(sequences, enforce_sorted=False)
    packed_t = tu.pack_sequence([to_torch(s) for s in sequences], enforce_sorted=False)
    assert_matches_torch("pack_sequence", packed.data, packed_t.data)
    for a, b in zip(rnn.unpack_sequence(packed), sequences):
        assert_matches_torch("unpack_sequence", a, b)
    assert packed.double().data.dtype == np.float64 and packed.float().data.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda rnn: rnn.pack_padded_sequence(ag.zeros((4, 3, 2)), [2, 4, 3]), "must be sorted in decreasing order"),
    (lambda rnn: rnn.pack_padded_sequence(ag.zeros((4, 3, 2)), [4, 2, 0]), "greater than 0"),
    (lambda rnn: rnn.pack_padded_sequence(ag.zeros((4, 3, 2)), [4, 2]), r"equal to batch_size, but got 2 \(batch_size=3"),
    (lambda rnn: rnn.pack_padded_sequence(ag.zeros((4, 3, 2)), [5, 2, 1]), r"longer than the 4 time steps"),
    (lambda rnn: rnn.pad_packed_sequence(rnn.pack_sequence([ag.zeros(3, 1)]), total_length=2),
     "total_length to be at least"),
    (lambda rnn: nn.GRU(2, 3)(rnn.pack_sequence([ag.zeros(3, 2)]), ag.zeros((1, 2, 3))),
     r"expected hx of shape \(1, 1, 3\) for a packed batch of 1 sequences"),
])
def test_packing_mistakes_raise_naming_the_lengths_or_shapes(call, message):
    from nn.utils import rnn
    with pytest.raises(ValueError, match=message):
        call(rnn)
