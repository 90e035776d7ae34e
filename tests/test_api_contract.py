"""The public contract (shared/API.md), exercised the way a PyTorch user would write it.

Each test calls a promised name or behaviour after the import swap torch -> autograd,
torch.nn -> nn, torch.optim -> nn.optim, torch.utils.data -> nn.data, and, wherever there is a
number, compares it with PyTorch (skipped when torch is not installed).
"""
import inspect
import math
import re
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import Tensor


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def to_torch(torch, x, requires_grad=False):
    """A torch tensor holding a copy of x (an ndarray or an autograd Tensor)."""
    array = np.array(x.data if isinstance(x, Tensor) else x)
    return torch.tensor(array, requires_grad=requires_grad)


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6):
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    if hasattr(theirs, "detach"):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    assert np.shape(ours) == np.shape(theirs)


def both(torch, array, requires_grad=True):
    """The same values as an autograd and a torch leaf."""
    array = np.asarray(array)
    return ag.tensor(array, requires_grad=requires_grad), to_torch(torch, array, requires_grad)


def ours_from_torch(model_ours, model_torch):
    """Copy a torch model's state into ours (as numpy arrays, which load_state_dict accepts)."""
    model_ours.load_state_dict({k: v.detach().numpy().copy() for k, v in model_torch.state_dict().items()})


# ================================================================================================
# autograd: creation and dtype rules
# ================================================================================================

def test_manual_seed_makes_model_initialisation_reproducible():
    ag.manual_seed(0)
    w1 = nn.Linear(4, 3).weight.data.copy()
    ag.manual_seed(0)
    w2 = nn.Linear(4, 3).weight.data.copy()
    assert np.array_equal(w1, w2)


# ================================================================================================
# Tensor attributes and conversion
# ================================================================================================

# ================================================================================================
# Arithmetic, comparisons, elementwise
# ================================================================================================

# ================================================================================================
# Reductions
# ================================================================================================

# ================================================================================================
# Shape ops
# ================================================================================================

# ================================================================================================
# Functions: cat stack split where matmul pad unfold
# ================================================================================================

# ================================================================================================
# Autograd control
# ================================================================================================

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


def test_draw_graph_of_a_micrograd_scalar_with_values():
    graphviz = pytest.importorskip("graphviz")
    a = ag.tensor(2.0, requires_grad=True)
    b = ag.tensor(-3.0, requires_grad=True)
    out = (a * b + 1).tanh()
    out.backward()
    dot = ag.draw_graph(out, params={"a": a, "b": b}, show_values=True)
    assert isinstance(dot, graphviz.Digraph)
    assert re.search(r'label="a\b', dot.source) and re.search(r'label="b\b', dot.source)
    assert "2.0000" in dot.source and "-3.0000" in dot.source  # the values of the leaves


# ================================================================================================
# nn: modules
# ================================================================================================

class ApiNet(nn.Module):
    """The example model of API.md."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


def test_the_api_md_example_net_runs_and_trains():
    ag.manual_seed(0)
    net = ApiNet()
    x = ag.randn(2, 1, 28, 28)
    out = net(x)
    assert out.shape == (2, 10)
    loss = F.cross_entropy(out, ag.tensor([3, 7]))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    assert [n for n, _ in net.named_parameters()] == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]


def test_module_bookkeeping():
    net = ApiNet()
    assert len(list(net.parameters())) == 4
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "Linear"]
    assert [type(m).__name__ for m in net.modules()] == ["ApiNet", "Conv2d", "Linear"]
    assert isinstance(net.conv.weight, nn.Parameter) and net.conv.weight.requires_grad
    assert net.training and net.conv.training
    assert net.eval() is net and not net.conv.training
    assert net.train() is net and net.conv.training
    net.train(False)
    assert not net.fc.training
    assert isinstance(repr(net), str) and "Conv2d" in repr(net) and "Linear" in repr(net)


def test_zero_grad_and_apply_and_forward_hook():
    net = ApiNet()
    net(ag.randn(1, 1, 28, 28)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None or not p.grad.data.any() for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Conv2d", "Linear", "ApiNet"]
    shapes = []
    handle = net.conv.register_forward_hook(lambda module, args, output: shapes.append(output.shape))
    net(ag.randn(1, 1, 28, 28))
    handle.remove()
    net(ag.randn(1, 1, 28, 28))
    assert shapes == [(1, 8, 28, 28)]


def test_forward_hook_can_replace_the_output():
    lin = nn.Linear(2, 2)
    lin.register_forward_hook(lambda m, args, out: out * 0)
    assert not lin(ag.ones(1, 2)).data.any()


def test_register_buffer_is_in_state_dict_not_parameters():
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("scale", ag.ones(2))

        def forward(self, x):
            return self.lin(x) * self.scale

    m = WithBuffer()
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    assert list(m.state_dict()) == ["scale", "lin.weight", "lin.bias"]
    m.double()
    assert m.scale.dtype == np.float64 and m.lin.weight.dtype == np.float64
    m.float()
    assert m.scale.dtype == np.float32
    assert m.to(ag.float64) is m and m.lin.bias.dtype == np.float64
    assert m.to("cpu") is m


def test_module_to_dtype_keeps_parameter_objects():
    lin = nn.Linear(2, 3)
    params = list(lin.parameters())
    opt = nn.optim.SGD(lin.parameters(), lr=0.1)
    lin.double()
    assert all(a is b for a, b in zip(params, lin.parameters()))
    lin(ag.ones(1, 2, dtype=ag.float64)).sum().backward()
    opt.step()
    assert lin.weight.dtype == np.float64


def test_parameter_sequential_modulelist():
    p = nn.Parameter(ag.zeros(3))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert seq(ag.ones(5, 4)).shape == (5, 2)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    assert [n for n, _ in Stack().named_parameters()][:2] == ["layers.0.weight", "layers.0.bias"]


def test_repr_matches_torch_for_common_layers(torch):
    pairs = [
        (nn.Linear(2, 3), torch.nn.Linear(2, 3)),
        (nn.Conv2d(1, 8, 3, padding=1), torch.nn.Conv2d(1, 8, 3, padding=1)),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Dropout(0.25), torch.nn.Dropout(0.25)),
        (nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU()), torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_state_dict_key_order_matches_torch_with_batchnorm(torch):
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3),
                         nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(8, 3), torch.nn.BatchNorm1d(3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    sd = ours.state_dict()
    assert sd["1.num_batches_tracked"].dtype == np.int64 and sd["1.num_batches_tracked"].shape == ()
    ours_from_torch(ours, theirs)  # a torch state dict (as numpy) loads strictly


def test_load_state_dict_accepts_tensors_and_arrays(torch):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours_from_torch(ours, theirs)
    assert_close(ours.weight, theirs.weight)
    other = nn.Linear(3, 2)
    result = other.load_state_dict(ours.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    assert_close(other.bias, theirs.bias)
    other.weight.data[0, 0] = 99
    assert ours.weight.data[0, 0] != 99  # loading copied


def test_load_state_dict_leaves_the_module_unchanged_on_error():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    before = {k: v.data.copy() for k, v in m.state_dict().items()}
    bad = {k: np.zeros(v.shape, np.float32) for k, v in m.state_dict().items()}
    bad["1.weight"] = np.zeros((5, 5), np.float32)
    with pytest.raises(RuntimeError, match="1.weight"):
        m.load_state_dict(bad)
    missing = {k: np.zeros(v.shape, np.float32) for k, v in m.state_dict().items() if k != "1.bias"}
    with pytest.raises(RuntimeError, match="1.bias"):
        m.load_state_dict(missing)
    extra = dict(missing, **{"1.bias": np.zeros(2, np.float32), "junk": np.zeros(1)})
    with pytest.raises(RuntimeError, match="junk"):
        m.load_state_dict(extra)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])
    result = m.load_state_dict(missing, strict=False)
    assert list(result.missing_keys) == ["1.bias"]


# ================================================================================================
# nn: layers against torch
# ================================================================================================

@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2),
                                    dict(groups=2, bias=False), dict(stride=(2, 1), padding=(0, 1))])
def test_conv2d_matches_torch(torch, rng, kwargs):
    ours, theirs = nn.Conv2d(4, 6, 3, **kwargs), torch.nn.Conv2d(4, 6, 3, **kwargs)
    ours_from_torch(ours, theirs)
    x, xt = both(torch, rng.standard_normal((2, 4, 7, 8)).astype(np.float32))
    out, out_t = ours(x), theirs(xt)
    assert_close(out, out_t, atol=1e-5)
    w = rng.standard_normal(tuple(out_t.shape)).astype(np.float32)
    (out * ag.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad, atol=1e-4)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4)
    if ours.bias is not None:
        assert_close(ours.bias.grad, theirs.bias.grad, rtol=1e-4, atol=1e-4)


def test_functional_conv2d_positional_signature(torch, rng):
    x, xt = both(torch, rng.standard_normal((1, 4, 6, 6)).astype(np.float32))
    w, wt = both(torch, rng.standard_normal((4, 2, 3, 3)).astype(np.float32))
    b, bt = both(torch, rng.standard_normal(4).astype(np.float32))
    out = F.conv2d(x, w, b, 2, 1, 1, 2)
    out_t = torch.nn.functional.conv2d(xt, wt, bt, 2, 1, 1, 2)
    assert_close(out, out_t, atol=1e-5)
    assert_close(F.conv2d(x, w, None, stride=1, padding=0, dilation=2, groups=2),
                 torch.nn.functional.conv2d(xt, wt, None, stride=1, padding=0, dilation=2, groups=2), atol=1e-5)


def test_linear_matches_torch_including_batched_inputs(torch, rng):
    ours, theirs = nn.Linear(5, 3), torch.nn.Linear(5, 3)
    ours_from_torch(ours, theirs)
    x, xt = both(torch, rng.standard_normal((2, 4, 5)).astype(np.float32))
    assert_close(ours(x), theirs(xt), atol=1e-6)
    assert_close(F.linear(x, ours.weight, ours.bias), torch.nn.functional.linear(xt, theirs.weight, theirs.bias))
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


def test_maxpool_pads_with_minus_inf(torch, rng):
    data = -np.abs(rng.standard_normal((1, 2, 5, 5))).astype(np.float32) - 1
    x, xt = both(torch, data)
    out, out_t = nn.MaxPool2d(3, stride=2, padding=1)(x), torch.nn.MaxPool2d(3, stride=2, padding=1)(xt)
    assert_close(out, out_t)
    assert (out.data < 0).all()
    out.sum().backward()
    out_t.sum().backward()
    assert_close(x.grad, xt.grad)
    assert_close(F.max_pool2d(x, 2), torch.nn.functional.max_pool2d(xt, 2))
    assert_close(F.max_pool2d(x, 2, 1), torch.nn.functional.max_pool2d(xt, 2, 1))


def test_avgpool_counts_padding(torch, rng):
    x, xt = both(torch, rng.standard_normal((1, 2, 5, 5)).astype(np.float32))
    out, out_t = nn.AvgPool2d(3, stride=2, padding=1)(x), torch.nn.AvgPool2d(3, stride=2, padding=1)(xt)
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(x.grad, xt.grad)
    assert_close(F.avg_pool2d(x, 2), torch.nn.functional.avg_pool2d(xt, 2))
    assert_close(nn.AvgPool2d(2, 1)(x), torch.nn.AvgPool2d(2, 1)(xt))


def test_flatten_module(torch):
    x = ag.ones(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == tuple(torch.nn.Flatten(0, 1)(torch.ones(2, 3, 4, 5)).shape)


def test_dropout_train_and_eval():
    ag.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = ag.ones(200, 50)
    y = drop(x)
    kept = y.data != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    drop.eval()
    assert np.array_equal(drop(x).data, x.data)
    assert np.array_equal(F.dropout(x, 0.5, False).data, x.data)
    assert np.array_equal(F.dropout(x, p=0.5, training=False).data, x.data)
    z = F.dropout(x, 0.5, True)
    assert 0.4 < (z.data != 0).mean() < 0.6
    assert nn.Dropout().p == 0.5


def test_dropout_gradient_uses_the_same_mask():
    x = ag.ones(10, 10, requires_grad=True)
    y = F.dropout(x, 0.5, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_outside_0_1_raises_at_construction(p):
    with pytest.raises(ValueError):
        nn.Dropout(p)


def test_dropout_with_p_1_zeroes():
    assert not nn.Dropout(1.0)(ag.ones(3)).data.any()


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 5))])
def test_batchnorm_training_eval_running_stats_match_torch(torch, rng, cls, shape):
    ours, theirs = getattr(nn, cls)(3, momentum=0.2), getattr(torch.nn, cls)(3, momentum=0.2)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    ours_from_torch(ours, theirs)
    for step in range(3):
        data = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        x, xt = both(torch, data)
        out, out_t = ours(x), theirs(xt)
        assert_close(out, out_t, atol=1e-5)
        w = rng.standard_normal(shape).astype(np.float32)
        (out * ag.tensor(w)).sum().backward()
        (out_t * torch.tensor(w)).sum().backward()
        assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.bias.grad, theirs.bias.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.running_mean, theirs.running_mean, atol=1e-6)
    assert_close(ours.running_var, theirs.running_var, rtol=1e-5)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    data = rng.standard_normal(shape).astype(np.float32)
    x, xt = both(torch, data)
    assert_close(ours(x), theirs(xt), atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batchnorm_constructor_keywords(torch):
    bn = nn.BatchNorm2d(4, eps=1e-3, momentum=0.01, affine=False, track_running_stats=True)
    assert bn.weight is None and bn.eps == 1e-3
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm2d(4, affine=False).state_dict())
    bn2 = nn.BatchNorm1d(4, track_running_stats=False)
    assert list(bn2.state_dict()) == list(torch.nn.BatchNorm1d(4, track_running_stats=False).state_dict())
    bn2.eval()
    assert bn2(ag.randn(5, 4)).shape == (5, 4)


def test_functional_batch_norm_positional_signature(torch, rng):
    data = rng.standard_normal((6, 3, 2, 2)).astype(np.float32)
    x, xt = both(torch, data)
    rm, rv = ag.zeros(3), ag.ones(3)
    rmt, rvt = torch.zeros(3), torch.ones(3)
    w, wt = both(torch, np.array([1.0, 2.0, 0.5], np.float32))
    b, bt = both(torch, np.array([0.0, -1.0, 1.0], np.float32))
    out = F.batch_norm(x, rm, rv, w, b, True, 0.3, 1e-3)
    out_t = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, True, 0.3, 1e-3)
    assert_close(out, out_t, atol=1e-5)
    assert_close(rm, rmt, atol=1e-6) and assert_close(rv, rvt, rtol=1e-5)
    out_eval = F.batch_norm(x, rm, rv, w, b, False, 0.3, 1e-3)
    out_eval_t = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, False, 0.3, 1e-3)
    assert_close(out_eval, out_eval_t, atol=1e-5)
    assert_close(F.batch_norm(x, rm, rv, training=True), torch.nn.functional.batch_norm(xt, rmt, rvt, training=True),
                 atol=1e-5)


def test_layernorm_matches_torch(torch, rng):
    ours, theirs = nn.LayerNorm(4), torch.nn.LayerNorm(4)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    ours_from_torch(ours, theirs)
    x, xt = both(torch, rng.standard_normal((2, 3, 4)).astype(np.float32))
    assert_close(ours(x), theirs(xt), atol=1e-5)
    ours(x).pow(2).sum().backward()
    theirs(xt).pow(2).sum().backward()
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4)
    ln2, ln2t = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    assert_close(ln2(x), ln2t(xt), atol=1e-5)
    assert_close(F.layer_norm(x, (4,)), torch.nn.functional.layer_norm(xt, (4,)), atol=1e-5)


def test_embedding_lookup_gradient_and_normal_init(torch):
    ag.manual_seed(0)
    emb = nn.Embedding(1000, 64)
    assert abs(emb.weight.data.mean()) < 0.02 and abs(emb.weight.data.std() - 1) < 0.02
    small, small_t = nn.Embedding(5, 3), torch.nn.Embedding(5, 3)
    ours_from_torch(small, small_t)
    idx = [[0, 2, 2], [4, 1, 0]]
    out, out_t = small(ag.tensor(idx)), small_t(torch.tensor(idx))
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(small.weight.grad, small_t.weight.grad)


def test_maxout_shape_and_gradient():
    layer = nn.Maxout(4, 3, 2)
    out = layer(ag.randn(5, 4))
    assert out.shape == (5, 3)
    out.sum().backward()
    assert layer.weight.grad is not None


ACTIVATIONS = [
    ("ReLU", (), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"negative_slope": 0.3}),
    ("PReLU", (), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("Sigmoid", (), {}),
    ("Tanh", (), {}), ("SiLU", (), {}), ("ELU", (), {}), ("ELU", (), {"alpha": 0.5}), ("Softplus", (), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": 1}), ("Softmax", (-1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_modules_match_torch(torch, rng, name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    ours_from_torch(ours, theirs)
    data = rng.standard_normal((3, 4, 2)).astype(np.float32) * 3
    x, xt = both(torch, data)
    out, out_t = ours(x), theirs(xt)
    assert_close(out, out_t, atol=1e-5)
    w = rng.standard_normal(data.shape).astype(np.float32)
    (out * ag.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)
    for (n, p), (nt, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == nt
        assert_close(p.grad, pt.grad, rtol=1e-4, atol=1e-5)


def test_prelu_per_channel(torch, rng):
    ours, theirs = nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    x, xt = both(torch, rng.standard_normal((2, 4, 3, 3)).astype(np.float32))
    assert_close(ours(x), theirs(xt))


FUNCTIONAL = [
    ("relu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": -1}), ("sigmoid", {}), ("tanh", {}), ("silu", {}), ("elu", {"alpha": 0.7}),
    ("leaky_relu", {"negative_slope": 0.1}), ("softplus", {}),
]


@pytest.mark.parametrize("name,kwargs", FUNCTIONAL, ids=lambda v: str(v))
def test_functional_activations_match_torch(torch, rng, name, kwargs):
    x, xt = both(torch, rng.standard_normal((3, 5)).astype(np.float32) * 2)
    assert_close(getattr(F, name)(x, **kwargs), getattr(torch.nn.functional, name)(xt, **kwargs), atol=1e-5)


def test_functional_positional_signatures(torch):
    params = {
        "dropout": ["input", "p", "training"], "batch_norm": ["input", "running_mean", "running_var", "weight",
                                                              "bias", "training", "momentum", "eps"],
        "conv2d": ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
        "max_pool2d": ["input", "kernel_size", "stride", "padding"],
        "avg_pool2d": ["input", "kernel_size", "stride", "padding"],
        "linear": ["input", "weight", "bias"], "layer_norm": ["input", "normalized_shape", "weight", "bias", "eps"],
        "cross_entropy": ["input", "target", "weight"], "leaky_relu": ["input", "negative_slope"],
        "one_hot": ["tensor", "num_classes"], "softmax": ["input", "dim"], "log_softmax": ["input", "dim"],
        "nll_loss": ["input", "target", "weight"], "mse_loss": ["input", "target"], "elu": ["input", "alpha"],
    }
    for name, expected in params.items():
        names = list(inspect.signature(getattr(F, name)).parameters)
        assert names[:len(expected)] == expected, name


def test_module_constructor_signatures_follow_torch():
    assert nn.PReLU().weight.shape == (1,) and nn.PReLU().weight.data[0] == pytest.approx(0.25)
    assert nn.ELU(alpha=0.5).alpha == 0.5
    assert nn.LeakyReLU(0.2).negative_slope == 0.2
    assert nn.GELU(approximate="tanh").approximate == "tanh"
    conv = nn.Conv2d(3, 6, 5, 2, 1, 1, 3, False)
    assert conv.weight.shape == (6, 1, 5, 5) and conv.bias is None and conv.stride == (2, 2)
    assert nn.MaxPool2d(2, 1, 1) is not None and nn.AvgPool2d(3, 1, 1) is not None
    assert nn.Flatten(start_dim=2).start_dim == 2
    opt = nn.optim.RMSprop([nn.Parameter(ag.zeros(2))], 0.01, 0.9, 1e-7, 0.1, 0.5, True)
    group = opt.param_groups[0]
    assert (group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"], group["centered"]) == \
        (0.01, 0.9, 1e-7, 0.1, 0.5, True)


def test_one_hot(torch):
    t = ag.tensor([0, 2, 1])
    assert F.one_hot(t).tolist() == torch.nn.functional.one_hot(torch.tensor([0, 2, 1])).tolist()
    assert F.one_hot(t, num_classes=4).tolist() == torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), 4).tolist()
    assert F.one_hot(t).dtype == np.int64


# ================================================================================================
# Losses
# ================================================================================================

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"ignore_index": 1}])
def test_cross_entropy_loss_class_indices(torch, rng, reduction, kwargs):
    x, xt = both(torch, rng.standard_normal((6, 4)).astype(np.float32))
    y = np.array([0, 1, 3, 1, 2, 0])
    loss = nn.CrossEntropyLoss(reduction=reduction, **kwargs)(x, ag.tensor(y))
    loss_t = torch.nn.CrossEntropyLoss(reduction=reduction, **kwargs)(xt, torch.tensor(y))
    assert_close(loss, loss_t, atol=1e-6)
    loss.sum().backward()
    loss_t.sum().backward()
    assert_close(x.grad, xt.grad, atol=1e-6)


def test_cross_entropy_with_probability_targets_and_spatial_inputs(torch, rng):
    x, xt = both(torch, rng.standard_normal((3, 4)).astype(np.float32))
    p = rng.dirichlet(np.ones(4), 3).astype(np.float32)
    assert_close(F.cross_entropy(x, ag.tensor(p)), torch.nn.functional.cross_entropy(xt, torch.tensor(p)))
    x4, x4t = both(torch, rng.standard_normal((2, 3, 2, 2)).astype(np.float32))
    y4 = rng.integers(0, 3, (2, 2, 2))
    assert_close(F.cross_entropy(x4, ag.tensor(y4)), torch.nn.functional.cross_entropy(x4t, torch.tensor(y4)))
    w = np.array([1.0, 2.0, 0.5], np.float32)
    assert_close(F.cross_entropy(x4, ag.tensor(y4), weight=ag.tensor(w)),
                 torch.nn.functional.cross_entropy(x4t, torch.tensor(y4), weight=torch.tensor(w)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_other_losses_match_torch(torch, rng, reduction):
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    probs = 1 / (1 + np.exp(-logits))
    target01 = rng.integers(0, 2, (4, 3)).astype(np.float32)
    classes = np.array([0, 2, 1, 2])
    cases = [
        ("NLLLoss", np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True)), classes),
        ("MSELoss", logits, target01), ("L1Loss", logits, target01),
        ("BCELoss", probs, target01), ("BCEWithLogitsLoss", logits, target01),
    ]
    for name, inp, tgt in cases:
        x, xt = both(torch, inp.astype(np.float32))
        loss = getattr(nn, name)(reduction=reduction)(x, ag.tensor(tgt))
        loss_t = getattr(torch.nn, name)(reduction=reduction)(xt, torch.tensor(tgt))
        assert_close(loss, loss_t, atol=1e-6)
        loss.sum().backward()
        loss_t.sum().backward()
        assert_close(x.grad, xt.grad, atol=1e-6)
    x, xt = both(torch, logits)
    loss = nn.HingeLoss(reduction=reduction)(x, ag.tensor(classes))
    loss_t = torch.nn.MultiMarginLoss(reduction=reduction)(xt, torch.tensor(classes))
    assert_close(loss, loss_t, atol=1e-6)


def test_functional_losses_match_torch(torch, rng):
    x, xt = both(torch, rng.standard_normal((4, 3)).astype(np.float32))
    y = np.array([0, 2, 1, 1])
    t = rng.standard_normal((4, 3)).astype(np.float32)
    tf = torch.nn.functional
    assert_close(F.cross_entropy(x, ag.tensor(y)), tf.cross_entropy(xt, torch.tensor(y)))
    assert_close(F.nll_loss(F.log_softmax(x, 1), ag.tensor(y)), tf.nll_loss(tf.log_softmax(xt, 1), torch.tensor(y)))
    assert_close(F.mse_loss(x, ag.tensor(t)), tf.mse_loss(xt, torch.tensor(t)))
    assert_close(F.l1_loss(x, ag.tensor(t), reduction="sum"), tf.l1_loss(xt, torch.tensor(t), reduction="sum"))
    s = 1 / (1 + np.exp(-t))
    assert_close(F.binary_cross_entropy(F.sigmoid(x), ag.tensor(s)),
                 tf.binary_cross_entropy(torch.sigmoid(xt), torch.tensor(s)))
    assert_close(F.binary_cross_entropy_with_logits(x, ag.tensor(s)),
                 tf.binary_cross_entropy_with_logits(xt, torch.tensor(s)))


# ================================================================================================
# nn.init and default initialisation
# ================================================================================================

def test_default_linear_and_conv_init_bounds():
    ag.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.weight.data).max() > 0.95 * bound
    assert np.abs(lin.bias.data).max() <= bound and np.abs(lin.bias.data).max() > 0.9 * bound
    conv = nn.Conv2d(16, 32, 5)
    bound = 1 / math.sqrt(16 * 25)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.95 * bound
    assert np.abs(conv.bias.data).max() <= bound
    assert lin.weight.dtype == np.float32 and conv.weight.dtype == np.float32


def test_init_functions_follow_torch_fan_conventions(torch):
    ag.manual_seed(0)
    shape = (64, 32, 3, 3)  # fan_in = 32 * 9, fan_out = 64 * 9
    fan_in, fan_out = 32 * 9, 64 * 9
    w = nn.Parameter(ag.empty(*shape))
    nn.init.kaiming_uniform_(w)
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.98 * bound
    nn.init.kaiming_uniform_(w, a=0, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_out)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.98 * bound
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.03)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.98 * bound
    nn.init.xavier_normal_(w, gain=2.0)
    assert w.data.std() == pytest.approx(2 * math.sqrt(2 / (fan_in + fan_out)), rel=0.03)
    nn.init.normal_(w, mean=1.0, std=0.5)
    assert w.data.mean() == pytest.approx(1.0, abs=0.02) and w.data.std() == pytest.approx(0.5, rel=0.03)
    nn.init.uniform_(w, -2, 3)
    assert w.data.min() >= -2 and w.data.max() <= 3
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.ones_(w)
    assert (w.data == 1).all()
    assert w.requires_grad and w.is_leaf and w.dtype == np.float32
    assert nn.init.zeros_(w) is w


def test_init_on_a_model_via_apply():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.apply(init_weights)
    assert not model[0].bias.data.any() and not model[2].bias.data.any()


# ================================================================================================
# nn.optim
# ================================================================================================

def _quadratic_problem(torch, rng):
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    b0 = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    return w0, b0, x


def _run_optimizer(lib, params, opt, x, steps):
    losses = []
    w, b = params
    for _ in range(steps):
        opt.zero_grad()
        out = x @ w.T + b
        loss = (out * out).mean() + (w * w * w).sum() * 0.01
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()), ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=lambda v: str(v))
def test_optimizers_match_torch(torch, rng, name, kwargs):
    w0, b0, x = _quadratic_problem(torch, rng)
    params = [nn.Parameter(ag.tensor(w0)), nn.Parameter(ag.tensor(b0))]
    params_t = [torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))]
    opt = getattr(nn.optim, name)(params, **kwargs)
    opt_t = getattr(torch.optim, name)(params_t, **kwargs)
    losses = _run_optimizer(ag, params, opt, ag.tensor(x), 6)
    losses_t = _run_optimizer(torch, params_t, opt_t, torch.tensor(x), 6)
    np.testing.assert_allclose(losses, losses_t, rtol=1e-5)
    for p, pt in zip(params, params_t):
        assert_close(p, pt, rtol=1e-5, atol=1e-6)


def test_optimizer_param_groups_and_lr_change(torch, rng):
    w = nn.Parameter(ag.ones(2))
    b = nn.Parameter(ag.ones(2))
    opt = nn.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0.9
    for g in opt.param_groups:
        g["lr"] = 0.01
    (w.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.99, 0.99], rtol=1e-6)
    opt.zero_grad()
    assert w.grad is None or not w.grad.data.any()


def test_optimizer_state_dict_through_nn_save_continues_like_torch(torch, rng, tmp_path):
    w0, b0, x = _quadratic_problem(torch, rng)
    params = [nn.Parameter(ag.tensor(w0)), nn.Parameter(ag.tensor(b0))]
    opt = nn.optim.Adam(params, lr=0.01, weight_decay=0.01)
    _run_optimizer(ag, params, opt, ag.tensor(x), 3)
    nn.save(opt.state_dict(), tmp_path / "opt.safetensors")
    nn.save({"w": params[0], "b": params[1]}, tmp_path / "params.safetensors")
    loaded = nn.load(tmp_path / "params.safetensors")
    params2 = [nn.Parameter(loaded["w"]), nn.Parameter(loaded["b"])]
    opt2 = nn.optim.Adam(params2, lr=0.5)
    opt2.load_state_dict(nn.load(tmp_path / "opt.safetensors"))
    assert opt2.param_groups[0]["lr"] == 0.01
    _run_optimizer(ag, params2, opt2, ag.tensor(x), 3)
    params_t = [torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))]
    opt_t = torch.optim.Adam(params_t, lr=0.01, weight_decay=0.01)
    _run_optimizer(torch, params_t, opt_t, torch.tensor(x), 6)
    for p, pt in zip(params2, params_t):
        assert_close(p, pt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("StepLR", dict(step_size=2, gamma=0.5)), ("CosineAnnealingLR", dict(T_max=5)),
                                         ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01))])
def test_lr_schedulers_match_torch(torch, name, kwargs):
    opt = nn.optim.SGD([nn.Parameter(ag.zeros(1))], lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = getattr(nn.optim.lr_scheduler, name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    for _ in range(8):
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(opt_t.param_groups[0]["lr"], rel=1e-9, abs=1e-12)
        assert sched.get_last_lr() == pytest.approx(sched_t.get_last_lr())


def test_clip_grad_norm_returns_the_total_norm(torch, rng):
    model, model_t = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    ours_from_torch(model, model_t)
    x = rng.standard_normal((5, 4)).astype(np.float32) * 10
    (model(ag.tensor(x)) ** 2).sum().backward()
    (model_t(torch.tensor(x)) ** 2).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    total_t = torch.nn.utils.clip_grad_norm_(model_t.parameters(), max_norm=1.0)
    assert float(total) == pytest.approx(total_t.item(), rel=1e-5)
    for p, pt in zip(model.parameters(), model_t.parameters()):
        assert_close(p.grad, pt.grad, rtol=1e-5, atol=1e-7)
    total_inf = nn.utils.clip_grad_norm_(list(model.parameters()), 0.5, norm_type=float("inf"))
    total_inf_t = torch.nn.utils.clip_grad_norm_(list(model_t.parameters()), 0.5, norm_type=float("inf"))
    assert float(total_inf) == pytest.approx(total_inf_t.item(), rel=1e-5)


# ================================================================================================
# nn.save / nn.load
# ================================================================================================

def test_save_load_model_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    model.train()
    model(ag.randn(4, 1, 4, 4))
    path = tmp_path / "model.safetensors"
    nn.save(model.state_dict(), path)
    nn.save(model.state_dict(), str(tmp_path / "model2.safetensors"))
    loaded = nn.load(path)
    assert list(loaded) == list(model.state_dict())
    assert all(isinstance(v, Tensor) for v in loaded.values())
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    fresh.load_state_dict(nn.load(path))
    for (k, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data), k
    assert fresh[1].num_batches_tracked.item() == 1
    with open(path, "rb") as f:
        assert not f.read(2) == b"\x80\x02"  # not a pickle


def test_load_a_file_written_by_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {"fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "fc.bias": np.zeros(2, np.float32),
              "steps": np.array(3, dtype=np.int64)}
    path = tmp_path / "external.safetensors"
    st.save_file(arrays, str(path))
    loaded = nn.load(path)
    assert set(loaded) == set(arrays)
    for k, v in arrays.items():
        assert isinstance(loaded[k], Tensor) and loaded[k].dtype == v.dtype and np.array_equal(loaded[k].data, v)
    lin = nn.Linear(3, 2)
    lin.load_state_dict({"weight": loaded["fc.weight"], "bias": loaded["fc.bias"]})
    assert np.array_equal(lin.weight.data, arrays["fc.weight"])


def test_files_written_by_nn_save_are_readable_by_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    lin = nn.Linear(3, 2)
    path = tmp_path / "lin.safetensors"
    nn.save(lin.state_dict(), path)
    arrays = st.load_file(str(path))
    assert np.array_equal(arrays["weight"], lin.weight.data)


def test_torch_state_dict_through_safetensors_into_our_model(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.safetensors"
    st.save_file(theirs.state_dict(), str(path))
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    ours.load_state_dict(nn.load(path))
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    assert_close(ours(ag.tensor(x)), theirs(torch.tensor(x)), atol=1e-6)


# ================================================================================================
# nn.summary and nn.data
# ================================================================================================

def test_summary_lists_layers_shapes_and_parameter_counts(capsys):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 14 * 14, 10))
    text = nn.summary(model, (1, 1, 28, 28))
    printed = capsys.readouterr().out
    body = text if isinstance(text, str) and text else printed
    total = sum(p.data.size for p in model.parameters())
    assert "Conv2d" in body and "Linear" in body
    assert f"{total:,}" in body or str(total) in body
    assert "10" in body and ("[1, 4, 28, 28]" in body or "(1, 4, 28, 28)" in body or "4, 28, 28" in body)
    assert model.training  # summary does not change the mode


def test_dataloader_len_dataset_and_batches(torch):
    x = ag.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    y = ag.tensor(np.arange(10))
    ds = nn.data.TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][0].tolist() == [6.0, 7.0] and ds[3][1].item() == 3
    loader = nn.data.DataLoader(ds, batch_size=4)
    assert len(loader) == 3 and loader.dataset is ds
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and xb.shape == (4, 2) and yb.tolist() == [0, 1, 2, 3]
    assert len(nn.data.DataLoader(ds, batch_size=4, drop_last=True)) == 2
    shuffled = nn.data.DataLoader(ds, batch_size=10, shuffle=True, seed=0)
    (sx, sy), = list(shuffled)
    assert sorted(sy.tolist()) == list(range(10)) and np.array_equal(sx.data[:, 0], sy.data * 2)
    assert len(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(10)), batch_size=4)) == 3


def test_custom_dataset_subclass_in_a_dataloader():
    class Squares(nn.data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return ag.tensor([float(i)]), i * i

    loader = nn.data.DataLoader(Squares(), batch_size=3, shuffle=False)
    batches = list(loader)
    assert len(batches) == 3 == len(loader)
    xb, yb = batches[0]
    assert xb.shape == (3, 1) and list(np.asarray(yb).tolist()) == [0, 1, 4]


# ================================================================================================
# A PyTorch-style training script, verbatim after the import swap
# ================================================================================================

class ConvNet(nn.Module):
    def __init__(self, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(4 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = x.view(x.size(0), -1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def _toy_images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32) * 0.5
    x[y == 0, :, :4, :] += 1.5
    x[y == 1, :, 4:, :] += 1.5
    x[y == 2, :, :, :4] -= 1.5
    return x, y


def test_pytorch_style_training_loop_runs_and_learns(tmp_path):
    ag.manual_seed(0)
    device = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    x_np, y_np = _toy_images()
    train_set = nn.data.TensorDataset(ag.tensor(x_np[:64]), ag.tensor(y_np[:64]))
    test_set = nn.data.TensorDataset(ag.tensor(x_np[64:]), ag.tensor(y_np[64:]))
    train_loader = nn.data.DataLoader(train_set, batch_size=16, shuffle=True)
    test_loader = nn.data.DataLoader(test_set, batch_size=16, shuffle=False)
    model = ConvNet().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)

    def evaluate():
        model.eval()
        correct, total, test_loss = 0, 0, 0.0
        with ag.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += criterion(output, target).item() * data.size(0)
                _, pred = output.max(1)
                total += target.size(0)
                correct += (pred == target).sum().item()
        return correct / total, test_loss / total

    epoch_losses = []
    for epoch in range(6):
        model.train()
        running = 0.0
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            running += loss.item()
            assert isinstance(loss.item(), float)
        scheduler.step()
        epoch_losses.append(running / len(train_loader))
    accuracy, test_loss = evaluate()
    assert isinstance(accuracy, float) and 0 <= accuracy <= 1
    assert epoch_losses[-1] < epoch_losses[0]
    assert accuracy > 0.6
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * 0.25)

    path = tmp_path / "checkpoint.safetensors"
    nn.save(model.state_dict(), path)
    nn.save(optimizer.state_dict(), tmp_path / "optim.safetensors")
    restored = ConvNet()
    restored.load_state_dict(nn.load(path))
    restored.eval()
    model.eval()
    data, _ = next(iter(test_loader))
    with ag.no_grad():
        np.testing.assert_array_equal(restored(data).data, model(data).data)
    opt2 = nn.optim.SGD(restored.parameters(), lr=1.0, momentum=0.9, weight_decay=5e-4)
    opt2.load_state_dict(nn.load(tmp_path / "optim.safetensors"))
    assert opt2.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


def test_training_steps_match_torch_exactly(torch):
    """Same init, same batches (no dropout): losses, parameters and running stats follow torch."""
    x_np, y_np = _toy_images(32, seed=1)
    ours = ConvNet(dropout=0.0)

    class TorchConvNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 4, kernel_size=3, padding=1)
            self.bn1 = torch.nn.BatchNorm2d(4)
            self.pool = torch.nn.MaxPool2d(2, 2)
            self.dropout = torch.nn.Dropout(0.0)
            self.fc1 = torch.nn.Linear(4 * 4 * 4, 16)
            self.fc2 = torch.nn.Linear(16, 3)

        def forward(self, x):
            x = self.pool(torch.nn.functional.relu(self.bn1(self.conv1(x))))
            x = x.view(x.size(0), -1)
            x = self.dropout(torch.nn.functional.relu(self.fc1(x)))
            return self.fc2(x)

    theirs = TorchConvNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours_from_torch(ours, theirs)
    opt = nn.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    crit, crit_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    ours.train()
    theirs.train()
    for i in range(0, 32, 8):
        xb, yb = x_np[i:i + 8], y_np[i:i + 8]
        opt.zero_grad()
        opt_t.zero_grad()
        loss = crit(ours(ag.tensor(xb)), ag.tensor(yb))
        loss_t = crit_t(theirs(torch.tensor(xb)), torch.tensor(yb))
        loss.backward()
        loss_t.backward()
        opt.step()
        opt_t.step()
        assert loss.item() == pytest.approx(loss_t.item(), rel=1e-4)
    for (k, v), (kt, vt) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == kt
        assert_close(v, vt, rtol=1e-3, atol=1e-4)
    ours.eval()
    theirs.eval()
    assert_close(ours(ag.tensor(x_np[:4])), theirs(torch.tensor(x_np[:4])), rtol=1e-3, atol=1e-4)


# ================================================================================================
# Corners found while sweeping (each once diverged from PyTorch)
# ================================================================================================

def test_manual_seed_makes_dropout_and_shuffling_reproducible():
    ds = nn.data.TensorDataset(ag.arange(20))

    def run():
        ag.manual_seed(42)
        mask = nn.Dropout(0.5)(ag.ones(50)).data.copy()
        order = [b[0].tolist() for b in nn.data.DataLoader(ds, batch_size=5, shuffle=True)]
        return mask, order

    (m1, o1), (m2, o2) = run(), run()
    assert np.array_equal(m1, m2) and o1 == o2
    assert sorted(sum(o1, [])) == list(range(20)) and sum(o1, []) != list(range(20))


def test_draw_graph_renders_to_svg():
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("the graphviz `dot` program is not installed")
    x = ag.randn(2, 3, requires_grad=True)
    svg = ag.draw_graph((x.tanh() * 2).sum()).pipe(format="svg")
    assert b"<svg" in svg


def test_mnist_from_idx_files_in_torchvision_layout(tmp_path, monkeypatch):
    import struct
    monkeypatch.delenv("NDGRAD_DATA", raising=False)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", 6), ("t10k", 3)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        header = struct.pack(">BBBB3I", 0, 0, 8, 3, n, 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, n) + labels.tobytes())
        arrays[prefix] = images, labels
    train = nn.data.MNIST(root=str(tmp_path), train=True)
    test = nn.data.MNIST(root=tmp_path, train=False)
    assert len(train) == 6 and len(test) == 3
    assert train.data.dtype == np.uint8 and train.data.shape == (6, 28, 28) and train.targets.dtype == np.int64
    np.testing.assert_array_equal(test.targets, arrays["t10k"][1])
    image, label = train[2]
    assert int(label) == arrays["train"][1][2]
    assert np.asarray(image).size == 28 * 28
    loader = nn.data.DataLoader(train, batch_size=4)
    data, target = next(iter(loader))
    assert len(loader) == 2 and data.shape[0] == 4 and target.tolist() == arrays["train"][1][:4].tolist()


def test_summary_of_the_api_md_net(capsys):
    net = ApiNet()
    text = nn.summary(net, (1, 1, 28, 28))
    body = (text or "") + capsys.readouterr().out
    assert "conv" in body and "fc" in body
    assert f"{sum(p.data.size for p in net.parameters()):,}" in body


def test_gradient_penalty_double_backward_through_a_cnn_matches_torch(torch, rng):
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LeakyReLU(0.2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 1))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.LeakyReLU(0.2), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(18, 1))
    ours_from_torch(ours, theirs)
    x, xt = both(torch, rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    (g,) = ag.grad(ours(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(theirs(xt).sum(), xt, create_graph=True)
    penalty = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty_t = ((gt.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    penalty_t.backward()
    assert penalty.item() == pytest.approx(penalty_t.item(), rel=1e-5)
    for (name, p), pt in zip(ours.named_parameters(), theirs.parameters()):
        # None counts as zero here: torch gives 0.bias a zero gradient where we give None (see below)
        ours_grad = np.zeros(p.shape, np.float32) if p.grad is None else p.grad.data
        theirs_grad = np.zeros(p.shape, np.float32) if pt.grad is None else pt.grad.numpy()
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-4, atol=1e-6, err_msg=name)


def test_the_official_pytorch_mnist_example_after_the_import_swap(tmp_path):
    """pytorch/examples mnist/main.py, on random data and a few steps."""
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(8 * 5 * 5, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = ag.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    def train(model, device, train_loader, optimizer, epoch):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            if batch_idx % 2 == 0:
                _ = "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader), loss.item())

    def test(model, device, test_loader):
        model.eval()
        test_loss = 0
        correct = 0
        with ag.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        return test_loss, correct

    ag.manual_seed(1)
    use_cuda = ag.cuda.is_available()
    device = ag.device("cuda" if use_cuda else "cpu")
    rng = np.random.default_rng(0)
    images = ag.tensor(rng.random((24, 1, 14, 14), dtype=np.float32))
    labels = ag.tensor(rng.integers(0, 10, 24))
    dataset = nn.data.TensorDataset(images, labels)
    train_loader = nn.data.DataLoader(dataset, batch_size=8, shuffle=True)
    test_loader = nn.data.DataLoader(dataset, batch_size=12)
    model = Net().to(device)
    optimizer = nn.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, 3):
        train(model, device, train_loader, optimizer, epoch)
        test_loss, correct = test(model, device, test_loader)
        scheduler.step()
    assert isinstance(correct, int) and 0 <= correct <= 24 and math.isfinite(test_loss)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.49)
    nn.save(model.state_dict(), tmp_path / "mnist_cnn.pt")
    fresh = Net()
    fresh.load_state_dict(nn.load(tmp_path / "mnist_cnn.pt"))
    assert all(np.array_equal(a.data, b.data) for a, b in zip(fresh.parameters(), model.parameters()))


# ================================================================================================
# More PyTorch corners of nn (pinned after the sweep found them matching)
# ================================================================================================

@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, dilation=2),
                                    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))])
def test_max_pool2d_options_match_torch(torch, rng, kwargs):
    x, xt = both(torch, rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
    out, out_t = F.max_pool2d(x, **kwargs), torch.nn.functional.max_pool2d(xt, **kwargs)
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2, ceil_mode=True),
                                    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                    dict(kernel_size=2, divisor_override=3)])
def test_avg_pool2d_options_match_torch(torch, rng, kwargs):
    x, xt = both(torch, rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
    out, out_t = F.avg_pool2d(x, **kwargs), torch.nn.functional.avg_pool2d(xt, **kwargs)
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("kwargs", [dict(weight=True, label_smoothing=0.2), dict(weight=True, ignore_index=2),
                                    dict(weight=True, ignore_index=2, label_smoothing=0.3, reduction="sum"),
                                    dict(label_smoothing=0.3, ignore_index=2, reduction="none")])
def test_cross_entropy_weight_smoothing_ignore_combinations(torch, rng, kwargs):
    x, xt = both(torch, rng.standard_normal((5, 4)).astype(np.float32))
    y = np.array([0, 2, 3, 1, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    ours_kw, theirs_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        ours_kw["weight"], theirs_kw["weight"] = ag.tensor(w), torch.tensor(w)
    loss = F.cross_entropy(x, ag.tensor(y), **ours_kw)
    loss_t = torch.nn.functional.cross_entropy(xt, torch.tensor(y), **theirs_kw)
    assert_close(loss, loss_t)
    loss.sum().backward()
    loss_t.sum().backward()
    assert_close(x.grad, xt.grad)


def test_bce_with_logits_pos_weight_and_weight(torch, rng):
    x, xt = both(torch, rng.standard_normal((5, 4)).astype(np.float32) * 10)
    t = rng.random((5, 4)).astype(np.float32)
    w, pw = np.array([1.0, 2.0, 0.5, 1.5], np.float32), np.array([1.0, 3.0, 0.5, 2.0], np.float32)
    loss = nn.BCEWithLogitsLoss(weight=ag.tensor(w), pos_weight=ag.tensor(pw))(x, ag.tensor(t))
    loss_t = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw))(xt, torch.tensor(t))
    assert_close(loss, loss_t)
    loss.backward()
    loss_t.backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes_and_F_pad_match_torch(torch, rng, mode):
    conv = nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)
    conv_t = torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)
    ours_from_torch(conv, conv_t)
    x, xt = both(torch, rng.standard_normal((2, 3, 5, 6)).astype(np.float32))
    assert_close(conv(x), conv_t(xt), atol=1e-5)
    assert_close(F.pad(x, (1, 2, 2, 1), mode=mode), torch.nn.functional.pad(xt, (1, 2, 2, 1), mode=mode))
    assert_close(F.pad(x, (1, 2), value=3.0), torch.nn.functional.pad(xt, (1, 2), value=3.0))


@pytest.mark.parametrize("name", ["linear", "conv2d", "cross_entropy", "batch_norm", "layer_norm", "softplus", "gelu",
                                  "log_softmax", "binary_cross_entropy_with_logits"])
def test_hessian_vector_products_through_nn_functional_match_torch(torch, rng, name):
    def d(*shape):
        return rng.standard_normal(shape)

    cases = {
        "linear": (lambda L, lib, x, w, b: L.linear(x, w, b), [d(3, 4), d(2, 4), d(2)]),
        "conv2d": (lambda L, lib, x, w, b: L.conv2d(x, w, b, 1, 1), [d(1, 2, 4, 4), d(3, 2, 3, 3), d(3)]),
        "cross_entropy": (lambda L, lib, x: L.cross_entropy(x, lib.tensor([0, 2, 1]), label_smoothing=0.1), [d(3, 4)]),
        "batch_norm": (lambda L, lib, x, w, b: L.batch_norm(x, None, None, w, b, True), [d(4, 3), d(3), d(3)]),
        "layer_norm": (lambda L, lib, x, w, b: L.layer_norm(x, (3,), w, b), [d(4, 3), d(3), d(3)]),
        "softplus": (lambda L, lib, x: L.softplus(x), [d(5)]),
        "gelu": (lambda L, lib, x: L.gelu(x), [d(5)]),
        "log_softmax": (lambda L, lib, x: L.log_softmax(x, 1), [d(2, 3)]),
        "binary_cross_entropy_with_logits": (
            lambda L, lib, x: L.binary_cross_entropy_with_logits(x, lib.tensor(np.array([0.0, 1.0, 1.0]))), [d(3)]),
    }
    f, arrays = cases[name]
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, out_t = f(F, ag, *xs), f(torch.nn.functional, torch, *ts)
    v = rng.standard_normal(out.shape)
    grads = ag.grad((out * ag.tensor(v)).sum(), xs, create_graph=True)
    grads_t = torch.autograd.grad((out_t * torch.tensor(v)).sum(), ts, create_graph=True)
    us = [rng.standard_normal(a.shape) for a in arrays]
    s = sum((g * ag.tensor(u)).sum() for g, u in zip(grads, us))
    s_t = sum((g * torch.tensor(u)).sum() for g, u in zip(grads_t, us))
    hvp = ag.grad(s, xs, allow_unused=True)
    hvp_t = torch.autograd.grad(s_t, ts, allow_unused=True)
    for h, h_t, a in zip(hvp, hvp_t, arrays):  # None (unused) counts as zero on either side
        ours = np.zeros_like(a) if h is None else h.data
        theirs = np.zeros_like(a) if h_t is None else h_t.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, maximize=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
                                         ("RMSprop", dict(lr=0.01, centered=True)),
                                         ("Adadelta", dict(lr=1.0, maximize=True))])
def test_optimizer_extra_options_match_torch(torch, rng, name, kwargs):
    w0, b0, x = _quadratic_problem(torch, rng)
    params = [nn.Parameter(ag.tensor(w0)), nn.Parameter(ag.tensor(b0))]
    params_t = [torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))]
    _run_optimizer(ag, params, getattr(nn.optim, name)(params, **kwargs), ag.tensor(x), 5)
    _run_optimizer(torch, params_t, getattr(torch.optim, name)(params_t, **kwargs), torch.tensor(x), 5)
    for p, pt in zip(params, params_t):
        assert_close(p, pt, rtol=1e-5, atol=1e-6)


def test_optimizer_loads_a_torch_state_dict_as_numpy(torch, rng):
    w0, b0, x = _quadratic_problem(torch, rng)
    params_t = [torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))]
    opt_t = torch.optim.Adam(params_t, lr=0.01)
    _run_optimizer(torch, params_t, opt_t, torch.tensor(x), 2)
    sd = opt_t.state_dict()
    state = {index: {key: (value.numpy() if hasattr(value, "numpy") else value) for key, value in entry.items()}
             for index, entry in sd["state"].items()}
    params = [nn.Parameter(ag.tensor(p.detach().numpy())) for p in params_t]
    opt = nn.optim.Adam(params, lr=0.5)
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    _run_optimizer(ag, params, opt, ag.tensor(x), 2)
    _run_optimizer(torch, params_t, opt_t, torch.tensor(x), 2)
    for p, pt in zip(params, params_t):
        assert_close(p, pt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("MultiStepLR", dict(milestones=[2, 5], gamma=0.1)),
                                         ("ExponentialLR", dict(gamma=0.9)),
                                         ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch))])
def test_more_lr_schedulers_match_torch(torch, name, kwargs):
    opt = nn.optim.SGD([nn.Parameter(ag.zeros(1))], lr=0.1)
    opt_t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = getattr(nn.optim.lr_scheduler, name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    for _ in range(7):
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(opt_t.param_groups[0]["lr"], rel=1e-12)


def test_custom_module_with_shared_layer_and_buffer_matches_torch_bookkeeping(torch):
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = lib.nn.Parameter(lib.ones(1))
                self.body = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
                self.register_buffer("step", lib.zeros(1))
                self.head = lib.nn.Linear(3, 1)
                self.tied = self.head

            def forward(self, x):
                return self.head(self.body(x)) * self.scale
        return Net()

    class Lib:  # our two packages under torch's layout
        nn = nn
        ones, zeros = ag.ones, ag.zeros

    ours, theirs = build(Lib), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())  # torch tensors go through __array__
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    assert_close(ours(ag.tensor(x)), theirs(torch.tensor(x)), atol=1e-6)


def test_more_reprs_match_torch(torch):
    names = ["LeakyReLU(0.2)", "ELU(alpha=0.5)", "GELU(approximate='tanh')", "Softmax(dim=1)",
             "AvgPool2d(3, stride=1, padding=1)", "MaxPool2d(3, stride=2, padding=1)", "BatchNorm1d(4)", "LayerNorm(4)",
             "Embedding(10, 3)", "CrossEntropyLoss()",
             "Identity()", "PReLU()", "Conv2d(3, 6, 5, stride=2, padding=1, bias=False)", "Conv2d(3, 6, (3, 5))",
             "Flatten(0, 2)", "ModuleList([Linear(2, 2), ReLU()])"]
    for expr in names:
        ours = eval(re.sub(r"\b([A-Z]\w+)\(", r"nn.\1(", expr))
        theirs = eval(re.sub(r"\b([A-Z]\w+)\(", r"torch.nn.\1(", expr))
        assert repr(ours) == repr(theirs), expr
