"""Attention: F.scaled_dot_product_attention, nn.MultiheadAttention and the Transformer layers against
PyTorch with copied weights (outputs, attention weights, input and parameter gradients, float64 and
float32, every mask kind), gradcheck and gradgradcheck in float64, dropout, state dict layout,
initialisation and errors."""
from dataclasses import dataclass, field

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import DTYPES, assert_matches_torch, copy_torch_state, to_torch, torch_dtype

torch = pytest.importorskip("torch")

RNG_SEED = 0

# Some cases mix a bool padding mask with a float attention mask on purpose; PyTorch warns that
# this is deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")


def causal_bool(length, source=None):
    """True where a query may NOT attend (MultiheadAttention's convention)."""
    return np.triu(np.ones((length, source or length), bool), 1)


def causal_float(length):
    return np.triu(np.full((length, length), -np.inf), 1)


def padding_mask(batch, source, padded_from):
    """(batch, source) bool, True from `padded_from[b]` on; never pads a whole row."""
    mask = np.zeros((batch, source), bool)
    for b, start in enumerate(padded_from):
        mask[b, start:] = True
    return mask


def constant_pair(value, dtype):
    """A mask or other non-differentiable argument for both libraries (float arrays take `dtype`)."""
    if not isinstance(value, np.ndarray):
        return value, value
    if value.dtype.kind == "f":
        value = value.astype(dtype)
    return ag.tensor(value), torch.from_numpy(value.copy())


def flat_results(result):
    if isinstance(result, tuple):
        return [r for part in result for r in flat_results(part)]
    return [] if result is None else [result]


def run_both(build, inputs, shapes, kwargs, dtype, rng):
    """Build the module from `build` in both libraries (`nn` and `F` bound to each), copy PyTorch's
    weights into ours, call both on the inputs named in `inputs` (the same name passes the same
    tensor: self-attention) and return (results, input grads, parameter grads) for ours and theirs
    after backward of one random weighting of every result."""
    theirs = eval(build, {"nn": torch.nn, "F": torch.nn.functional}).to(torch_dtype(dtype))
    mine = eval(build, {"nn": nn, "F": F}).to(dtype)
    copy_torch_state(mine, theirs)
    arrays = {name: rng.standard_normal(shape).astype(dtype) for name, shape in shapes.items()}
    tensors_mine = {name: ag.tensor(a, requires_grad=True) for name, a in arrays.items()}
    tensors_theirs = {name: to_torch(a, requires_grad=True) for name, a in arrays.items()}
    pairs = {key: constant_pair(value, dtype) for key, value in kwargs.items()}
    results_mine = flat_results(mine(*(tensors_mine[n] for n in inputs), **{k: p[0] for k, p in pairs.items()}))
    results_theirs = flat_results(theirs(*(tensors_theirs[n] for n in inputs), **{k: p[1] for k, p in pairs.items()}))
    weights = [rng.standard_normal(tuple(r.shape)).astype(dtype) for r in results_theirs]
    sum(ag.sum(r * ag.tensor(w)) for r, w in zip(results_mine, weights)).backward()
    sum((r * to_torch(w)).sum() for r, w in zip(results_theirs, weights)).backward()
    return ((results_mine, [tensors_mine[n].grad for n in shapes], [(k, p.grad) for k, p in mine.named_parameters()]),
            (results_theirs, [tensors_theirs[n].grad for n in shapes],
             [(k, p.grad) for k, p in theirs.named_parameters()]))


def assert_all_match(name, mine, theirs, dtype):
    (results_mine, grads_mine, params_mine), (results_theirs, grads_theirs, params_theirs) = mine, theirs
    assert len(results_mine) == len(results_theirs), f"{name}: {len(results_mine)} results vs {len(results_theirs)}"
    for i, (a, b) in enumerate(zip(results_mine, results_theirs)):
        assert_matches_torch(f"{name} result {i}", a, b, dtype)
    for i, (a, b) in enumerate(zip(grads_mine, grads_theirs)):
        assert_matches_torch(f"{name} input {i} grad", a, b, dtype)
    assert [k for k, _ in params_mine] == [k for k, _ in params_theirs]
    for (key, a), (_, b) in zip(params_mine, params_theirs):
        assert_matches_torch(f"{name} {key} grad", a, b, dtype)


# -- scaled_dot_product_attention ------------------------------------------------------------------

@dataclass
class SDPACase:
    name: str
    q: tuple
    k: tuple
    v: tuple
    kwargs: dict = field(default_factory=dict)


SDPA_CASES = [
    SDPACase("plain_4d", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    SDPACase("plain_3d", (2, 4, 5), (2, 6, 5), (2, 6, 3)),
    SDPACase("scale", (2, 4, 5), (2, 6, 5), (2, 6, 3), dict(scale=0.3)),
    SDPACase("bool_mask_broadcast", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5),
             dict(attn_mask=np.random.default_rng(1).random((4, 6)) > 0.3)),
    SDPACase("bool_mask_per_batch", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5),
             dict(attn_mask=np.random.default_rng(2).random((2, 1, 4, 6)) > 0.3)),
    SDPACase("float_mask", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5),
             dict(attn_mask=np.random.default_rng(3).standard_normal((3, 4, 6)))),
    SDPACase("float_mask_with_minus_inf", (2, 4, 5), (2, 6, 5), (2, 6, 5),
             dict(attn_mask=np.where(np.random.default_rng(4).random((4, 6)) > 0.5, -np.inf, 0.5))),
    SDPACase("causal_square", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), dict(is_causal=True)),
    SDPACase("causal_rectangular", (2, 4, 4), (2, 6, 4), (2, 6, 4), dict(is_causal=True)),
    SDPACase("fully_masked_rows_give_zeros", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5),
             dict(attn_mask=np.array([True] * 6 + [False] * 6 + [True] * 12).reshape(4, 6))),
    SDPACase("gqa", (2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3), dict(enable_gqa=True)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", SDPA_CASES, ids=lambda c: c.name)
def test_scaled_dot_product_attention_matches_torch(case, dtype):
    mine, theirs = run_both_sdpa(case, dtype)
    assert_all_match(case.name, mine, theirs, dtype)


def run_both_sdpa(case, dtype):
    """As run_both, for the function: ([output], [q, k, v grads], []) for ours and for PyTorch's."""
    rng = np.random.default_rng(RNG_SEED)
    masks = {k: v for k, v in case.kwargs.items() if k == "attn_mask"}
    shapes = {"q": case.q, "k": case.k, "v": case.v}
    arrays = {name: rng.standard_normal(shape).astype(dtype) for name, shape in shapes.items()}
    options = {k: v for k, v in case.kwargs.items() if k != "attn_mask"}
    results = []
    for library, functional, make in (("mine", F, lambda a: ag.tensor(a, requires_grad=True)),
                                      ("theirs", torch.nn.functional, lambda a: to_torch(a, requires_grad=True))):
        tensors = [make(arrays[n]) for n in shapes]
        mask = {k: constant_pair(v, dtype)[0 if library == "mine" else 1] for k, v in masks.items()}
        out = functional.scaled_dot_product_attention(*tensors, **mask, **options)
        results.append((out, tensors))
    weight = rng.standard_normal(tuple(results[1][0].shape)).astype(dtype)
    (results[0][0] * ag.tensor(weight)).sum().backward()
    (results[1][0] * to_torch(weight)).sum().backward()
    return [([r[0]], [t.grad for t in r[1]], []) for r in results]


def test_fully_masked_query_gets_zero_output_and_gradient_without_nan():
    q = ag.tensor(np.random.default_rng(0).standard_normal((1, 3, 4)), requires_grad=True)
    k = ag.tensor(np.random.default_rng(1).standard_normal((1, 5, 4)), requires_grad=True)
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=ag.tensor(mask))
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy()[0, 1], 0)
    np.testing.assert_array_equal(q.grad.numpy()[0, 1], 0)
    assert np.isfinite(k.grad.numpy()).all()


def test_float_mask_gets_a_gradient_like_torch():
    rng = np.random.default_rng(0)
    q, k, v, mask = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)))
    mine = [ag.tensor(a, requires_grad=True) for a in (q, k, v, mask)]
    theirs = [to_torch(a, requires_grad=True) for a in (q, k, v, mask)]
    (F.scaled_dot_product_attention(*mine[:3], attn_mask=mine[3]) ** 2).sum().backward()
    (torch.nn.functional.scaled_dot_product_attention(*theirs[:3], attn_mask=theirs[3]) ** 2).sum().backward()
    assert_matches_torch("float attn_mask grad", mine[3].grad, theirs[3].grad, np.float64)
    assert ag.gradcheck(lambda m: F.scaled_dot_product_attention(*mine[:3], attn_mask=m),
                        [ag.tensor(mask, requires_grad=True)])


def test_attention_dropout_is_nn_dropout_on_the_weights():
    """With the same seed, dropout inside attention drops exactly what F.dropout drops from a
    tensor of the weights' shape, and scales the rest by 1 / (1 - p)."""
    rng = np.random.default_rng(0)
    q, k, v = (ag.tensor(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    ag.manual_seed(7)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    ag.manual_seed(7)
    keep = F.dropout(ag.ones((2, 3, 5), dtype=ag.float64), 0.4)
    weights = ag.softmax(ag.matmul(q, k.transpose(-2, -1)) * 0.5, -1)
    np.testing.assert_allclose(out.numpy(), ag.matmul(weights * keep, v).numpy(), rtol=1e-12)
    assert (keep.numpy() == 0).any() and (keep.numpy() != 0).any()


@pytest.mark.parametrize("kwargs", [
    {}, dict(is_causal=True), dict(attn_mask=np.array([[True, False, True], [False, True, True]])),
    dict(attn_mask=np.array([[0.5, -1.0, 0.0], [0.2, 0.0, -0.3]])),
], ids=["plain", "causal", "bool_mask", "float_mask"])
def test_scaled_dot_product_attention_gradcheck_and_gradgradcheck(kwargs):
    rng = np.random.default_rng(0)
    q, k, v = (ag.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 3), (1, 3, 3), (1, 3, 2)))
    kwargs = {key: ag.tensor(value) if isinstance(value, np.ndarray) else value for key, value in kwargs.items()}

    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, **kwargs)
    assert ag.gradcheck(attend, [q, k, v])
    assert ag.gradgradcheck(attend, [q, k, v])


@pytest.mark.parametrize("shapes, kwargs, message", [
    (((2, 3, 4), (2, 5, 3), (2, 5, 4)), {}, r"scaled_dot_product_attention: query \(\.\.\., L, E\) and key .* "
                                            r"got shapes \(2, 3, 4\), \(2, 5, 3\) and \(2, 5, 4\)"),
    (((2, 3, 4), (2, 5, 4), (2, 6, 4)), {}, r"key and value .* share S"),
    (((2, 3, 4), (2, 5, 4), (2, 5, 4)), dict(attn_mask=np.ones((4, 5), bool)),
     r"attn_mask of shape \(4, 5\) does not broadcast to the attention scores' shape \(2, 3, 5\)"),
    (((4,), (5, 4), (5, 4)), {}, r"at least 2 dims"),
])
def test_scaled_dot_product_attention_shape_errors(shapes, kwargs, message):
    q, k, v = (ag.zeros(s) for s in shapes)
    kwargs = {key: ag.tensor(value) for key, value in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        F.scaled_dot_product_attention(q, k, v, **kwargs)


def test_attn_mask_with_is_causal_raises_as_torch_documents():
    q = ag.zeros((1, 3, 4))
    with pytest.raises(RuntimeError, match="explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.tensor(np.ones((3, 3), bool)), is_causal=True)


# -- MultiheadAttention ------------------------------------------------------------------------------

@dataclass
class MHACase:
    name: str
    build: str
    inputs: tuple              # names of query, key, value (repeats: the same tensor)
    shapes: dict               # name -> shape
    kwargs: dict = field(default_factory=dict)
    eval_mode: bool = False


L, S, N, E = 3, 4, 2, 6
PAD = padding_mask(N, S, [4, 2])
MHA_CASES = [
    MHACase("cross", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"), dict(q=(L, N, E), k=(S, N, E), v=(S, N, E))),
    MHACase("self_attention_batch_first", "nn.MultiheadAttention(6, 3, batch_first=True)", ("x", "x", "x"),
            dict(x=(N, L, E))),
    MHACase("key_is_value", "nn.MultiheadAttention(6, 2)", ("q", "kv", "kv"), dict(q=(L, N, E), kv=(S, N, E))),
    MHACase("kdim_vdim", "nn.MultiheadAttention(6, 2, kdim=3, vdim=5)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, 3), v=(S, N, 5))),
    MHACase("no_bias", "nn.MultiheadAttention(6, 2, bias=False)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E))),
    MHACase("add_bias_kv_and_zero_attn", "nn.MultiheadAttention(6, 2, add_bias_kv=True, add_zero_attn=True)",
            ("q", "k", "v"), dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)),
            dict(key_padding_mask=PAD, attn_mask=causal_bool(L, S))),
    MHACase("key_padding_mask_bool", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)), dict(key_padding_mask=PAD)),
    MHACase("key_padding_mask_float", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)), dict(key_padding_mask=np.where(PAD, -np.inf, 0.25))),
    MHACase("attn_mask_2d_bool_and_padding", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)), dict(attn_mask=causal_bool(L, S), key_padding_mask=PAD)),
    MHACase("attn_mask_3d_float", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)),
            dict(attn_mask=np.random.default_rng(9).standard_normal((N * 2, L, S)))),
    MHACase("weights_per_head", "nn.MultiheadAttention(6, 3)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)), dict(average_attn_weights=False, key_padding_mask=PAD)),
    MHACase("no_weights_sdpa_path", "nn.MultiheadAttention(6, 2)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)),
            dict(need_weights=False, attn_mask=causal_bool(L, S), key_padding_mask=PAD)),
    MHACase("no_weights_padding_only", "nn.MultiheadAttention(6, 2, batch_first=True)", ("x", "x", "x"),
            dict(x=(N, S, E)), dict(need_weights=False, key_padding_mask=PAD)),
    MHACase("is_causal_hint", "nn.MultiheadAttention(6, 2)", ("x", "x", "x"), dict(x=(L, N, E)),
            dict(need_weights=False, attn_mask=causal_bool(L), is_causal=True)),
    MHACase("is_causal_hint_with_weights", "nn.MultiheadAttention(6, 2)", ("x", "x", "x"), dict(x=(L, N, E)),
            dict(attn_mask=causal_float(L), is_causal=True)),
    MHACase("unbatched_with_masks", "nn.MultiheadAttention(6, 2, batch_first=True)", ("q", "k", "v"),
            dict(q=(L, E), k=(S, E), v=(S, E)),
            dict(key_padding_mask=PAD[1], attn_mask=np.random.default_rng(3).standard_normal((2, L, S)))),
    MHACase("dropout_off_in_eval", "nn.MultiheadAttention(6, 2, dropout=0.5)", ("q", "k", "v"),
            dict(q=(L, N, E), k=(S, N, E), v=(S, N, E)), eval_mode=True),
]


@pytest.mark.parametrize("build", [
    "nn.MultiheadAttention(6, 2)", "nn.MultiheadAttention(6, 2, kdim=3, vdim=5)",
    "nn.MultiheadAttention(6, 3, bias=False)", "nn.MultiheadAttention(6, 2, add_bias_kv=True)",
])
def test_multihead_attention_state_dict_and_repr_match_torch(build):
    mine, theirs = eval(build, {"nn": nn}), eval(build, {"nn": torch.nn})
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(mine) == repr(theirs)


def test_multihead_attention_initialisation_is_torch_s():
    ag.manual_seed(0)
    layer = nn.MultiheadAttention(40, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (40 + 120))  # xavier_uniform on (3 E, E)
    assert np.abs(layer.in_proj_weight.numpy()).max() <= bound
    assert np.abs(layer.in_proj_weight.numpy()).max() > 0.95 * bound
    np.testing.assert_array_equal(layer.in_proj_bias.numpy(), 0)
    np.testing.assert_array_equal(layer.out_proj.bias.numpy(), 0)
    assert np.abs(layer.out_proj.weight.numpy()).max() <= 1 / np.sqrt(40)   # Linear's own initialisation
    assert layer.bias_k.numpy().std() > 0
    separate = nn.MultiheadAttention(4, 2, kdim=6, vdim=2)
    assert np.abs(separate.k_proj_weight.numpy()).max() <= np.sqrt(6 / (4 + 6))


def test_multihead_attention_dropout_in_training_follows_the_seed():
    layer = nn.MultiheadAttention(6, 2, dropout=0.5).double()
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 2, 6)))
    weights = []
    for seed in (1, 1, 2):
        ag.manual_seed(seed)
        weights.append(layer(x, x, x, average_attn_weights=False)[1].numpy())
    np.testing.assert_array_equal(weights[0], weights[1])
    assert not np.allclose(weights[0], weights[2])
    layer.eval()
    clean = layer(x, x, x, average_attn_weights=False)[1].data
    # The weights returned in training are the dropped ones: zero, or the clean ones times 1 / (1 - p).
    dropped = weights[0] == 0
    assert dropped.any() and not dropped.all()
    np.testing.assert_allclose(weights[0][~dropped], 2 * clean[~dropped], rtol=1e-12)


@pytest.mark.parametrize("build, inputs, need_weights", [
    ("nn.MultiheadAttention(4, 2)", dict(q=(2, 1, 4), k=(3, 1, 4), v=(3, 1, 4)), True),
    ("nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True)", dict(q=(2, 1, 4), k=(3, 1, 3), v=(3, 1, 2)),
     False),
])
def test_multihead_attention_gradcheck_and_gradgradcheck(build, inputs, need_weights):
    ag.manual_seed(0)
    layer = eval(build, {"nn": nn}).double()
    rng = np.random.default_rng(0)
    tensors = [ag.tensor(rng.standard_normal(s), requires_grad=True) for s in inputs.values()]
    mask = ag.tensor(padding_mask(1, 3, [2]))

    def attend(q, k, v, *params):
        out, weights = layer(q, k, v, key_padding_mask=mask, need_weights=need_weights)
        return out if weights is None else out.sum() + (weights * weights).sum()
    all_inputs = tensors + list(layer.parameters())
    assert ag.gradcheck(attend, all_inputs)
    assert ag.gradgradcheck(attend, all_inputs)


@pytest.mark.parametrize("build, shapes, kwargs, error, message", [
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 5), (4, 2, 6), (4, 2, 6)], {}, ValueError,
     r"MultiheadAttention\(embed_dim=6, num_heads=2\): expected query with 6 features.*got query \(3, 2, 5\)"),
    ("nn.MultiheadAttention(6, 2, kdim=3)", [(3, 2, 6), (4, 2, 6), (4, 2, 6)], {}, ValueError,
     r"expected key with 3 features"),
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 6), (4, 2, 6), (5, 2, 6)], {}, ValueError,
     r"key and value must share their sequence and batch dims"),
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 6), (4, 2, 6), (4, 2, 6)], dict(attn_mask=np.zeros((3, 3), bool)),
     ValueError, r"the 2-D attn_mask has shape \(3, 3\) but should be \(3, 4\)"),
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 6), (4, 2, 6), (4, 2, 6)],
     dict(key_padding_mask=np.zeros((2, 3), bool)), ValueError,
     r"key_padding_mask should have shape \(2, 4\) \(batch, source length\), got \(2, 3\)"),
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 6), (3, 2, 6), (3, 2, 6)], dict(is_causal=True), RuntimeError,
     r"need attn_mask if specifying the is_causal hint"),
    ("nn.MultiheadAttention(6, 2)", [(3, 2, 6), (4, 2, 6), (4, 2, 6)],
     dict(key_padding_mask=np.zeros((2, 4), np.int64)), TypeError, r"only bool and floating types"),
])
def test_multihead_attention_errors(build, shapes, kwargs, error, message):
    layer = eval(build, {"nn": nn})
    tensors = [ag.zeros(s) for s in shapes]
    with pytest.raises(error, match=message):
        layer(*tensors, **{k: ag.tensor(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)},
              **{k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)})


def test_multihead_attention_constructor_errors():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="must be greater than 0"):
        nn.MultiheadAttention(0, 2)


# -- Transformer layers ------------------------------------------------------------------------------

D = 8
SRC_PAD = padding_mask(N, 5, [5, 3])
TRANSFORMER_CASES = [
    MHACase("encoder_layer", "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)", ("src",), dict(src=(5, N, D))),
    MHACase("encoder_layer_norm_first_gelu_batch_first",
            "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation='gelu', norm_first=True, batch_first=True)",
            ("src",), dict(src=(N, 5, D)), dict(src_key_padding_mask=SRC_PAD)),
    MHACase("encoder_layer_callable_activation_no_bias",
            "nn.TransformerEncoderLayer(8, 4, 12, dropout=0.0, activation=F.silu, bias=False, layer_norm_eps=1e-3)",
            ("src",), dict(src=(5, N, D)), dict(src_mask=causal_float(5))),
    MHACase("encoder_layer_module_activation_unbatched",
            "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=nn.GELU())", ("src",), dict(src=(5, D)),
            dict(src_mask=causal_bool(5))),
    MHACase("encoder_layer_causal_hint", "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)", ("src",),
            dict(src=(5, N, D)), dict(src_mask=causal_float(5), is_causal=True)),
    MHACase("encoder_layer_eval_with_dropout", "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)", ("src",),
            dict(src=(5, N, D)), dict(src_key_padding_mask=SRC_PAD), eval_mode=True),
    MHACase("encoder_two_layers_norm_masks",
            "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8), "
            "enable_nested_tensor=False)",
            ("src",), dict(src=(5, N, D)), dict(mask=causal_float(5), src_key_padding_mask=SRC_PAD)),
    MHACase("decoder_layer", "nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)", ("tgt", "memory"),
            dict(tgt=(3, N, D), memory=(5, N, D)),
            dict(tgt_mask=causal_bool(3), memory_key_padding_mask=SRC_PAD,
                 tgt_key_padding_mask=padding_mask(N, 3, [3, 2]))),
    MHACase("decoder_layer_norm_first_batch_first_memory_mask",
            "nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True, batch_first=True, activation='gelu')",
            ("tgt", "memory"), dict(tgt=(N, 3, D), memory=(N, 5, D)),
            dict(tgt_mask=causal_float(3), memory_mask=np.random.default_rng(4).standard_normal((3, 5)))),
    MHACase("decoder_two_layers_no_bias",
            "nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, bias=False), 2, "
            "norm=nn.LayerNorm(8, bias=False))",
            ("tgt", "memory"), dict(tgt=(3, N, D), memory=(5, N, D)), dict(tgt_mask=causal_float(3))),
    MHACase("transformer", "nn.Transformer(8, 2, 2, 1, 16, dropout=0.0)", ("src", "tgt"),
            dict(src=(5, N, D), tgt=(3, N, D)),
            dict(tgt_mask=causal_float(3), src_key_padding_mask=SRC_PAD, memory_key_padding_mask=SRC_PAD)),
]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", MHA_CASES + TRANSFORMER_CASES, ids=lambda c: c.name)
def test_attention_layers_match_torch(case, dtype):
    """MultiheadAttention and the Transformer layers: results, input and parameter gradients."""
    build = case.build + (".eval()" if case.eval_mode else "")
    mine, theirs = run_both(build, case.inputs, case.shapes, case.kwargs, dtype, np.random.default_rng(RNG_SEED))
    assert_all_match(case.name, mine, theirs, dtype)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("case", TRANSFORMER_CASES, ids=lambda c: c.name)
def test_transformer_state_dict_keys_and_shapes_match_torch(case):
    mine = eval(case.build, {"nn": nn, "F": F})
    theirs = eval(case.build, {"nn": torch.nn, "F": torch.nn.functional})
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


def test_stacked_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    weights = [m.linear1.weight for m in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight for w in weights)
    np.testing.assert_array_equal(weights[0].numpy(), weights[2].numpy())   # copies start equal, as PyTorch's


def test_transformer_initialises_matrices_xavier_uniform():
    ag.manual_seed(0)
    model = nn.Transformer(16, 2, 1, 1, 32)
    weight = model.encoder.layers[0].linear1.weight.numpy()      # (32, 16)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    np.testing.assert_array_equal(model.decoder.norm.weight.numpy(), 1)


def test_generate_square_subsequent_mask_matches_torch():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64).dtype == np.float64


def test_dropout_in_encoder_layer_training_follows_the_seed():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5).double()
    x = ag.tensor(np.random.default_rng(0).standard_normal((4, 2, 8)))
    ag.manual_seed(3)
    first = layer(x).numpy()
    ag.manual_seed(3)
    again = layer(x).numpy()
    ag.manual_seed(4)
    other = layer(x).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


@pytest.mark.parametrize("build, inputs, kwargs", [
    ("nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True)", dict(src=(3, 1, 4)),
     dict(src_mask=causal_bool(3))),
    ("nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, activation='gelu')", dict(tgt=(2, 1, 4), memory=(3, 1, 4)),
     dict(tgt_mask=causal_float(2))),
])
def test_transformer_layer_gradcheck_and_gradgradcheck(build, inputs, kwargs):
    ag.manual_seed(0)
    layer = eval(build, {"nn": nn}).double()
    rng = np.random.default_rng(0)
    tensors = [ag.tensor(rng.standard_normal(s), requires_grad=True) for s in inputs.values()]
    masks = {k: ag.tensor(v) for k, v in kwargs.items()}

    def run(*args):
        return layer(*args[:len(tensors)], **masks)
    all_inputs = tensors + list(layer.parameters())
    assert ag.gradcheck(run, all_inputs)
    assert ag.gradgradcheck(run, tensors)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.TransformerEncoderLayer(8, 2)(ag.zeros((5, 2, 6))),
     r"TransformerEncoderLayer\(d_model=8\): expected src of shape \(L, N, 8\).*got \(5, 2, 6\)"),
    (lambda: nn.TransformerDecoderLayer(8, 2)(ag.zeros((5, 2, 8)), ag.zeros((5, 2, 4))),
     r"TransformerDecoderLayer\(d_model=8\): expected memory of shape \(L, N, 8\).*got \(5, 2, 4\)"),
    (lambda: nn.Transformer(8, 2, 1, 1, 16)(ag.zeros((5, 2, 8)), ag.zeros((3, 3, 8))),
     r"Transformer: the batch number of src and tgt must be equal; got src \(5, 2, 8\) and tgt \(3, 3, 8\)"),
    (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), r"activation should be relu/gelu, not tanh"),
])
def test_transformer_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sdpa_kernel_choices_are_recorded_for_the_block_and_change_no_result():
    from nn.attention import SDPBackend, sdpa_kernel
    q = ag.randn(1, 2, 3, 4)
    expected = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    cuda = ag.backends.cuda
    for lib_backends, lib_attention in [(cuda, nn.attention), (torch.backends.cuda, torch.nn.attention)]:
        with lib_attention.sdpa_kernel(lib_attention.SDPBackend.MATH):
            assert lib_backends.math_sdp_enabled() and not lib_backends.flash_sdp_enabled()
        assert lib_backends.flash_sdp_enabled()
        with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
            with lib_backends.sdp_kernel(enable_flash=False, enable_mem_efficient=False):
                assert not lib_backends.flash_sdp_enabled() and not lib_backends.mem_efficient_sdp_enabled()
        assert lib_backends.mem_efficient_sdp_enabled()
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]):
        assert ag.equal(F.scaled_dot_product_attention(q, q, q, is_causal=True), expected)
        assert not cuda.math_sdp_enabled()
    with pytest.raises(TypeError, match="expected SDPBackend values"):
        with sdpa_kernel(["math"]):
            pass
