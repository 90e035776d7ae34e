"""Module, Parameter, containers, state dicts, hooks, dtype conversion, repr and summary."""
import copy
import re
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import assert_close, assert_matches_torch, copy_torch_state, to_torch


def _conv_net(module):
    """The same architecture in ndgrad's nn or torch.nn."""
    return module.Sequential(
        module.Conv2d(1, 4, 3, padding=1), module.BatchNorm2d(4), module.ReLU(), module.MaxPool2d(2),
        module.Sequential(module.Conv2d(4, 8, 3, bias=False), module.BatchNorm2d(8)),
        module.Flatten(), module.Linear(8 * 2 * 2, 10), module.Dropout(0.5), module.LayerNorm(10),
    )


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(ag.ones(3))
        self.register_buffer("count", ag.zeros(1))
        self.fc = nn.Linear(3, 3)
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Tanh()])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})
        self.register_buffer("scratch", ag.zeros(2), persistent=False)
        self.plain = 5

    def forward(self, x):
        x = self.fc(x) * self.scale
        for layer in self.layers:
            x = layer(x)
        return self.heads["b"](x)


class ApiNet(nn.Module):
    """The example model of API.md."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


# -- registration and iteration ---------------------------------------------------------------------

def test_parameter_is_a_tensor_that_requires_grad_and_shares_memory():
    array = np.ones(3, np.float32)
    p = nn.Parameter(ag.from_numpy(array))
    assert isinstance(p, ag.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    array[0] = 7
    assert p.numpy()[0] == 7
    assert not nn.Parameter(ag.ones(2), requires_grad=False).requires_grad
    assert repr(nn.Parameter(ag.ones(2))).startswith("Parameter containing:\ntensor(")


def test_setattr_registers_parameters_buffers_and_children_in_order():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == [
        "scale", "fc.weight", "fc.bias", "layers.0.weight", "layers.0.bias", "heads.a.weight", "heads.a.bias",
        "heads.b.weight", "heads.b.bias"]
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]
    assert list(block.state_dict()) == [
        "scale", "count", "fc.weight", "fc.bias", "layers.0.weight", "layers.0.bias", "heads.a.weight",
        "heads.a.bias", "heads.b.weight", "heads.b.bias"]       # non-persistent buffers are not saved
    assert [n for n, _ in block.named_children()] == ["fc", "layers", "heads"]
    assert [n for n, _ in block.named_modules()] == ["", "fc", "layers", "layers.0", "layers.1", "heads",
                                                     "heads.a", "heads.b"]
    assert len(list(block.parameters(recurse=False))) == 1
    assert block.plain == 5 and "plain" not in block._parameters
    assert block.get_submodule("heads.a") is block.heads["a"]
    assert block.get_parameter("fc.bias") is block.fc.bias


def test_reassigning_and_deleting_attributes():
    block = Block()
    block.fc = nn.Identity()
    assert "fc.weight" not in dict(block.named_parameters())
    block.scale = None
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        Block().scale = ag.ones(3)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'fc'"):
        Block().fc = 3
    block.count = ag.ones(1)
    assert block.state_dict()["count"].item() == 1
    del block.heads
    assert not hasattr(block, "heads")
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Broken(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(ag.ones(1))
        Broken()


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]   # as PyTorch


@pytest.mark.parametrize("build", [_conv_net, lambda m: m.Sequential(m.Linear(3, 4), m.Tanh(), m.Linear(4, 1))],
                         ids=["conv_bn_linear", "mlp"])
def test_state_dict_keys_and_parameter_order_match_torch(build):
    torch = pytest.importorskip("torch")
    theirs, mine = build(torch.nn), build(nn)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in theirs.named_modules()]
    for (name, t), (_, m) in zip(theirs.state_dict().items(), mine.state_dict().items()):
        assert t.shape == m.shape, name


def test_torch_state_dict_loads_and_the_model_computes_the_same(rng):
    torch = pytest.importorskip("torch")
    theirs, mine = _conv_net(torch.nn).double().eval(), _conv_net(nn).double().eval()
    for module in theirs.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.num_batches_tracked += 3
    copy_torch_state(mine, theirs)
    x = rng.standard_normal((2, 1, 8, 8))
    assert_matches_torch("conv net eval output after loading torch's state dict", mine(ag.tensor(x)),
                         theirs(to_torch(x)))
    assert mine[1].num_batches_tracked.item() == 3 and mine[1].num_batches_tracked.dtype == np.int64


# -- load_state_dict ---------------------------------------------------------------------------------

def _snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_unchanged(model, snapshot):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshot[key], err_msg=key)


def test_load_state_dict_round_trip_keeps_parameter_objects_and_dtypes():
    source, target = _conv_net(nn), _conv_net(nn)
    params_before = list(target.parameters())
    state = {k: v.numpy().astype(np.float64) for k, v in source.state_dict().items()}   # numpy, other dtype
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert all(a is b for a, b in zip(params_before, target.parameters()))
    for key, value in target.state_dict().items():
        np.testing.assert_allclose(value.numpy(), source.state_dict()[key].numpy(), err_msg=key)
        assert value.dtype == source.state_dict()[key].dtype, key
    state["0.weight"][...] = 0                 # loading copied: the model does not alias the dict
    assert np.abs(target[0].weight.numpy()).sum() > 0


@pytest.mark.parametrize("edit, pattern", [
    (lambda sd: sd.pop("1.running_var"), r'Missing key\(s\) in state_dict: "1.running_var"'),
    (lambda sd: sd.__setitem__("extra.weight", np.zeros(2)), r'Unexpected key\(s\) in state_dict: "extra.weight"'),
    (lambda sd: sd.__setitem__("6.weight", np.zeros((10, 31))),
     r"size mismatch for 6.weight: copying a param with shape \(10, 31\) from checkpoint, the shape in "
     r"current model is \(10, 32\)"),
    (lambda sd: sd.__setitem__("4.1.bias", "nonsense"), r"4.1.bias"),
])
def test_load_state_dict_errors_name_the_key_and_leave_the_model_unchanged(edit, pattern):
    model = _conv_net(nn)
    snapshot = _snapshot(model)
    state = {k: v.numpy() + 1 for k, v in _conv_net(nn).state_dict().items()}
    edit(state)
    with pytest.raises((RuntimeError, TypeError), match=pattern):
        model.load_state_dict(state)
    _assert_unchanged(model, snapshot)


def test_load_state_dict_non_strict_reports_keys_but_still_checks_shapes():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    state = {"0.weight": np.ones((3, 2)), "bogus": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["bogus"]
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                   "1.num_batches_tracked"]
    np.testing.assert_array_equal(model[0].weight.numpy(), 1)
    snapshot = _snapshot(model)
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        model.load_state_dict({"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(4)}, strict=False)
    _assert_unchanged(model, snapshot)


def test_batchnorm_state_dict_without_num_batches_tracked_loads_as_pytorch_does():
    bn = nn.BatchNorm1d(2)
    bn.num_batches_tracked.numpy()[...] = 5
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    bn.load_state_dict(state)
    assert bn.num_batches_tracked.item() == 0


# -- modes, gradients, apply, dtype --------------------------------------------------------------------

def test_train_eval_set_every_module():
    model = _conv_net(nn)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_zero_grad_sets_to_none_by_default_or_zeros_in_place():
    model = nn.Linear(3, 2)
    model(ag.ones(4, 3)).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and not grad.numpy().any()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_requires_grad_and_apply():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Linear", "Sequential", "Sequential"]   # children first, as PyTorch

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
    model.requires_grad_(True).apply(init)
    assert all((m.weight.numpy() == 0.5).all() for m in model.modules() if isinstance(m, nn.Linear))


@pytest.mark.parametrize("convert, dtype", [(lambda m: m.double(), np.float64), (lambda m: m.to(ag.float64), np.float64),
                                            (lambda m: m.to(np.float64).float(), np.float32),
                                            (lambda m: m.to(ag.zeros(1, dtype=ag.float64)), np.float64),
                                            (lambda m: m.to("cpu"), np.float32),
                                            (lambda m: m.to(ag.device("cpu"), dtype=ag.float64), np.float64)])
def test_to_converts_floating_parameters_and_buffers_in_place(convert, dtype):
    model = _conv_net(nn)
    params = list(model.parameters())
    assert convert(model) is model
    assert all(a is b for a, b in zip(params, model.parameters()))
    for name, t in model.state_dict().items():
        assert t.dtype == (np.int64 if name.endswith("num_batches_tracked") else dtype), name
    out = model.eval()(ag.zeros((1, 1, 8, 8), dtype=dtype))
    assert out.dtype == dtype


def test_to_rejects_other_devices_and_integer_dtypes():
    with pytest.raises(RuntimeError, match="cpu"):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2).to(ag.int64)


def test_deepcopy_gives_an_independent_module():
    model = _conv_net(nn)
    clone = copy.deepcopy(model)
    clone[0].weight.numpy()[...] = 0
    assert np.abs(model[0].weight.numpy()).sum() > 0
    assert list(clone.state_dict()) == list(model.state_dict())


# -- hooks ---------------------------------------------------------------------------------------------

def test_forward_hooks_see_and_can_replace_inputs_and_outputs():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append((m, args[0].numpy().copy(), out.shape)))
    out = layer(ag.ones(3, 2))
    assert calls[0][0] is layer and not calls[0][1].any() and calls[0][2] == (3, 2)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(layer.bias.numpy(), (3, 2)))
    pre.remove()
    replace = layer.register_forward_hook(lambda m, args, out: out * 0 + 1)
    np.testing.assert_array_equal(layer(ag.ones(1, 2)).data, 1)
    post.remove()
    replace.remove()
    assert len(calls) == 2
    assert not layer._forward_hooks and not layer._forward_pre_hooks


# -- containers ----------------------------------------------------------------------------------------

def test_sequential_indexing_slicing_len_iteration_and_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert model[1:]._modules.keys() == {"1", "2"}         # a slice keeps the names, as PyTorch
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)
    assert model(ag.ones(5, 2)).shape == (5, 1)
    del model[1]
    assert [type(m).__name__ for m in model] == ["Linear", "Linear", "Sigmoid"]
    assert list(model._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError):
        model[5]
    named = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["encoder.weight", "encoder.bias"] and named.encoder is named[0]


def test_module_list_and_dict_register_their_modules():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.ReLU())
    blocks.extend([nn.Tanh()])
    assert len(blocks) == 5 and isinstance(blocks[-1], nn.Tanh)
    assert len(list(blocks.parameters())) == 6
    assert isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2
    heads = nn.ModuleDict({"x": nn.Linear(1, 1)})
    heads["y"] = nn.Linear(1, 2)
    assert list(heads.keys()) == ["x", "y"] and "y" in heads and len(heads) == 2
    assert [k for k, _ in heads.items()] == ["x", "y"]
    assert list(heads.state_dict()) == ["x.weight", "x.bias", "y.weight", "y.bias"]


# -- repr ----------------------------------------------------------------------------------------------

REPR_CASES = [
    "m.Linear(3, 4)", "m.Linear(3, 4, bias=False)", "m.Conv2d(1, 8, 3, padding=1)",
    "m.Conv2d(3, 6, (3, 5), stride=2, padding='valid', dilation=2, groups=3, bias=False)",
    "m.Conv2d(2, 2, 3, padding='same', padding_mode='reflect')", "m.MaxPool2d(2)", "m.MaxPool2d(3, 1, 1, ceil_mode=True)",
    "m.AvgPool2d(3, 2, 1)", "m.Flatten()", "m.Dropout(0.25)", "m.BatchNorm1d(3, momentum=None, affine=False)",
    "m.BatchNorm2d(16)", "m.LayerNorm((2, 3), eps=1e-6)", "m.Embedding(10, 3, padding_idx=0)", "m.ReLU()",
    "m.LeakyReLU(0.2)", "m.PReLU(3)", "m.GELU(approximate='tanh')", "m.Sigmoid()", "m.Tanh()", "m.SiLU()",
    "m.ELU(alpha=0.5)", "m.Softplus(beta=2.0)", "m.Softmax(dim=1)", "m.LogSoftmax(1)", "m.CrossEntropyLoss()",
    "m.MSELoss()", "m.Identity()",
    "m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)])",
    "m.ModuleDict({'a': m.Linear(1, 1), 'b': m.Sequential(m.Tanh())})",
    "m.Sequential(m.Linear(3, 4), m.ReLU(), m.Sequential(m.Linear(4, 2), m.Softmax(dim=1)))",
]


@pytest.mark.parametrize("expression", REPR_CASES)
def test_repr_matches_torch(expression):
    torch = pytest.importorskip("torch")
    assert repr(eval(expression, {"m": nn})) == repr(eval(expression, {"m": torch.nn}))


def test_repr_of_a_custom_module():
    torch = pytest.importorskip("torch")

    def build(m):
        class Net(m.Module):
            def __init__(self):
                super().__init__()
                self.conv = m.Conv2d(1, 2, 3)
                self.head = m.Sequential(m.Flatten(), m.Linear(8, 2))
        return Net()
    assert repr(build(nn)) == repr(build(torch.nn))


# -- summary -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build, total", [
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), 26),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), 26),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1)), 41),
])
def test_summary_counts_parameters(build, total):
    printed = []
    text = nn.summary(build(), (2, 3), print_fn=printed.append)
    assert printed == [text]
    assert f"Total params: {total}" in text and f"Trainable params: {total}" in text
    assert "Non-trainable params: 0" in text
    assert "0 (Linear)" in text and "[2, 4]" in text


def test_summary_of_a_cnn_leaves_the_model_as_it_was():
    model = _conv_net(nn).train()
    model[0].weight.requires_grad_(False)
    buffers = _snapshot(model)
    text = nn.summary(model, (1, 1, 8, 8), print_fn=None)
    assert all(m.training for m in model.modules())
    _assert_unchanged(model, buffers)
    total = sum(p.numpy().size for p in model.parameters())
    assert f"Total params: {total:,}" in text and "Non-trainable params: 36" in text
    assert "4.0 (Conv2d)" in text and "[1, 8, 2, 2]" in text and "6 (Linear)" in text


def test_functional_model_from_the_api_example_trains(rng):
    ag.manual_seed(0)
    model = ApiNet()
    x = ag.tensor(rng.random((8, 1, 28, 28), dtype=np.float32))
    y = ag.tensor(rng.integers(0, 10, 8))
    losses = []
    for _ in range(5):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# -- as PyTorch code uses modules ------------------------------------------------------------------------

def test_children_modules_and_train_eval_follow_pytorch():
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


def test_module_to_dtype_keeps_parameter_objects():
    lin = nn.Linear(2, 3)
    params = list(lin.parameters())
    opt = nn.optim.SGD(lin.parameters(), lr=0.1)
    lin.double()
    assert all(a is b for a, b in zip(params, lin.parameters()))
    lin(ag.ones(1, 2, dtype=ag.float64)).sum().backward()
    opt.step()
    assert lin.weight.dtype == np.float64


def test_module_constructor_signatures_follow_torch():
    assert nn.PReLU().weight.shape == (1,) and nn.PReLU().weight.numpy()[0] == pytest.approx(0.25)
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


def test_summary_of_the_api_md_net(capsys):
    net = ApiNet()
    text = nn.summary(net, (1, 1, 28, 28))
    body = (text or "") + capsys.readouterr().out
    assert "conv" in body and "fc" in body
    assert f"{sum(p.numpy().size for p in net.parameters()):,}" in body


def test_assigning_a_parameter_module_or_buffer_again_keeps_its_place_in_the_state_dict_like_torch(torch):
    """Weight tying (decoder.weight = encoder.weight), replacing a layer or a buffer: PyTorch keeps the
    name where it was, so state dict keys and the order of parameters() (an optimizer's) stay put."""
    def build(lib, nn_lib):
        decoder = nn_lib.Linear(3, 5)
        decoder.weight = nn_lib.Embedding(5, 3).weight
        net = nn_lib.Sequential(nn_lib.Linear(1, 1), nn_lib.ReLU(), nn_lib.Linear(1, 1))
        net[0] = nn_lib.Linear(1, 2)
        net.register_buffer("first", lib.zeros(1))
        net.register_buffer("second", lib.zeros(1))
        net.first = lib.ones(1)
        net.register_buffer("first", lib.ones(2))
        return decoder, net

    for mine, theirs in zip(build(ag, nn), build(torch, torch.nn)):
        assert list(mine.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_parameter_list_and_dict_register_their_tensors_like_torch(torch):
    def build(lib, nn_lib):
        class Model(nn_lib.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn_lib.ParameterList([nn_lib.Parameter(lib.ones(3, 4)), lib.zeros(5)])
                self.scales = nn_lib.ParameterDict({"a": nn_lib.Parameter(lib.ones(2)), "b": lib.zeros(2, 2)})

            def forward(self, x):
                for w in self.weights[:1]:
                    x = x @ w
                return x.sum() * self.scales["a"].sum() + self.weights[-1].sum() + self.scales["b"].sum()
        model = Model()
        model.weights.append(lib.ones(1))
        model.weights.extend([lib.ones(2)])
        model.weights[1] = nn_lib.Parameter(lib.full((5,), 2.0))
        model.scales["c"] = lib.ones(1)
        model.scales.update({"a": nn_lib.Parameter(lib.full((2,), 3.0))})
        return model

    mine, theirs = build(ag, nn), build(torch, torch.nn)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert len(mine.weights) == len(theirs.weights) == 4
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in mine.parameters())
    assert "c" in mine.scales and mine.scales.get("zz") is None and list(mine.scales.keys()) == ["a", "b", "c"]
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out, out_t = mine(ag.tensor(x)), theirs(torch.tensor(x))
    assert_close(out, out_t)
    out.backward()
    out_t.backward()
    for (name, p), p_t in zip(mine.named_parameters(), theirs.parameters()):
        assert_matches_torch(f"{name} grad", p.grad, p_t.grad)
    assert repr(mine.weights).splitlines()[1].strip() == "(0): Parameter containing: [float32 of size 3x4]"
    with pytest.raises(IndexError, match="index 7 is out of range for a ParameterList of length 4"):
        mine.weights[7]
    with pytest.raises(TypeError, match="ParameterList holds Tensors"):
        mine.weights.append(3.0)
    with pytest.raises(NotImplementedError):
        mine.scales()


def test_a_buffer_assigned_as_an_attribute_is_registered_like_torch(torch):
    def build(lib, nn_lib):
        class Model(nn_lib.Module):
            def __init__(self):
                super().__init__()
                self.mean = nn_lib.Buffer(lib.zeros(2))
                self.cache = nn_lib.Buffer(lib.ones(1), persistent=False)
                self.layer = nn_lib.Linear(1, 1)
        return Model()

    mine, theirs = build(ag, nn), build(torch, torch.nn)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["mean", "layer.weight", "layer.bias"]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["mean", "cache"]
    assert isinstance(mine.mean, nn.Buffer) and not isinstance(ag.zeros(1), nn.Buffer)
    mine.mean = ag.ones(2)                                 # a plain Tensor replaces the buffer, in place
    assert list(mine.state_dict())[0] == "mean" and mine.state_dict()["mean"].numpy().tolist() == [1.0, 1.0]
    assert mine.double().mean.dtype == np.float64


def test_data_parallel_wraps_the_model_as_torch_does_without_gpus():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.DataParallel(nn.Linear(2, 3)), torch.nn.DataParallel(torch.nn.Linear(2, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.ones((4, 2), np.float32)
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert ours.device_ids == theirs.device_ids == [] and isinstance(ours.module, nn.Linear)
    assert repr(ours) == repr(theirs)


def test_set_submodule_share_memory_and_to_empty_as_torch():
    torch = pytest.importorskip("torch")
    for module in (nn, torch.nn):
        model = module.Sequential(module.Linear(2, 3), module.Sequential(module.ReLU(), module.Linear(3, 1)))
        model.set_submodule("1.0", module.Tanh())
        assert type(model[1][0]).__name__ == "Tanh"
        assert model.share_memory() is model
        with pytest.raises(AttributeError):
            model.set_submodule("1.7", module.Tanh(), strict=True)
    assert nn.Linear(2, 2).to_empty(device="cpu").weight.shape == (2, 2)


def test_the_older_backward_hook_warns_and_sees_the_output_gradient_as_torchs():
    torch = pytest.importorskip("torch")
    seen = []
    for module, lib in ((nn, ag), (torch.nn, torch)):
        layer = module.Conv2d(1, 2, 3)
        with pytest.warns((FutureWarning, UserWarning)):
            layer.register_backward_hook(lambda m, grad_input, grad_output: seen.append(grad_output[0].shape))
            layer(lib.ones(1, 1, 5, 5, requires_grad=True)).sum().backward()
    assert [tuple(s) for s in seen] == [(1, 2, 3, 3), (1, 2, 3, 3)]
