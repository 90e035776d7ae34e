"""Module hooks against PyTorch's: register_full_backward_hook, register_full_backward_pre_hook and
register_forward_pre_hook: the arguments hooks receive, what their results replace, the order they
run in, and removable handles."""
from types import SimpleNamespace

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def twin(rng, make_ours, make_theirs):
    """The same module in both libraries (float64, same parameters)."""
    theirs = make_theirs().double()
    ours = make_ours().double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def mlp(lib):
    return lambda: lib.Sequential(lib.Linear(3, 4), lib.Tanh(), lib.Linear(4, 2))


def as_numpy(values):
    """Hook arguments (tuples of Tensors / None) as lists of arrays, for comparison."""
    return [None if v is None else np.array(v.detach().numpy()) for v in values]


def assert_same_records(ours, theirs):
    assert len(ours) == len(theirs)
    for (name, arrays), (name_t, arrays_t) in zip(ours, theirs):
        assert name == name_t
        assert len(arrays) == len(arrays_t)
        for a, b in zip(arrays, arrays_t):
            assert (a is None) == (b is None), (name, a, b)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def run_both(rng, hook_factory, input_requires_grad=True):
    """Register hooks made by hook_factory(records, lib) on every layer of twin MLPs, run one
    backward in each, and return the records and the parameters' gradients."""
    results = []
    x = rng.standard_normal((5, 3))
    models = twin(rng, mlp(nn), mlp(torch.nn))
    for lib, model, tensor in ((ag, models[0], ag.tensor), (torch, models[1], torch.tensor)):
        records = []
        for name, layer in model.named_children():
            hook_factory(records, lib, name, layer)
        inp = tensor(x)
        inp.requires_grad_(input_requires_grad)
        model(inp).pow(2).sum().backward()
        grads = {k: v.grad.numpy().copy() for k, v in model.named_parameters()}
        results.append((records, grads, None if inp.grad is None else inp.grad.numpy().copy()))
    return results


def test_full_backward_hook_receives_pytorchs_grad_input_and_grad_output(rng):
    def factory(records, lib, name, layer):
        layer.register_full_backward_hook(
            lambda m, gi, go, name=name: records.append((name, as_numpy(gi) + as_numpy(go))))
    (ours, _, _), (theirs, _, _) = run_both(rng, factory)
    assert [name for name, _ in ours] == ["2", "1", "0"]
    assert_same_records(ours, theirs)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's notice of the same behaviour
def test_full_backward_hook_on_a_layer_whose_input_needs_no_grad_gets_none(rng):
    def factory(records, lib, name, layer):
        layer.register_full_backward_hook(
            lambda m, gi, go, name=name: records.append((name, as_numpy(gi) + as_numpy(go))))
    (ours, _, _), (theirs, _, _) = run_both(rng, factory, input_requires_grad=False)
    assert ours[-1][1][0] is None
    assert_same_records(ours, theirs)


def test_full_backward_hook_result_replaces_grad_input(rng):
    def factory(records, lib, name, layer):
        if name == "1":
            layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    (_, grads, x_grad), (_, grads_t, x_grad_t) = run_both(rng, factory)
    for key in grads:
        np.testing.assert_allclose(grads[key], grads_t[key], rtol=1e-12)
    np.testing.assert_allclose(x_grad, x_grad_t, rtol=1e-12)


def test_full_backward_pre_hook_sees_and_replaces_grad_output(rng):
    def factory(records, lib, name, layer):
        def pre(m, go, name=name):
            records.append((name, as_numpy(go)))
            return (go[0] * -2,) if name == "2" else None
        layer.register_full_backward_pre_hook(pre)
    (ours, grads, x_grad), (theirs, grads_t, x_grad_t) = run_both(rng, factory)
    assert_same_records(ours, theirs)
    for key in grads:
        np.testing.assert_allclose(grads[key], grads_t[key], rtol=1e-12)
    np.testing.assert_allclose(x_grad, x_grad_t, rtol=1e-12)


def test_pre_hooks_run_before_hooks_and_handles_remove_them(rng):
    def factory(records, lib, name, layer):
        layer.register_full_backward_hook(lambda m, gi, go, name=name: records.append(("hook " + name, [])))
        layer.register_full_backward_pre_hook(lambda m, go, name=name: records.append(("pre " + name, [])))
        removed = layer.register_full_backward_hook(lambda m, gi, go: records.append(("removed", [])))
        removed.remove()
        layer.register_full_backward_pre_hook(lambda m, go, name=name: records.append(("first " + name, [])),
                                              prepend=True)
    (ours, _, _), (theirs, _, _) = run_both(rng, factory)
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    assert "removed" not in [name for name, _ in ours]


class TwoInTwoOut:
    """forward(x, scale, y) -> (x * y * scale, x.sum()): a non-Tensor argument and two outputs."""

    @staticmethod
    def make(lib):
        class Module(lib.Module):
            def forward(self, x, scale, y):
                return x * y * scale, x.exp().sum()
        return Module()


@pytest.mark.parametrize("use_second_output", [True, False])
def test_hooks_on_a_module_with_non_tensor_arguments_and_several_outputs(use_second_output, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    records_by_lib = []
    for lib, tensor in ((nn, ag.tensor), (torch.nn, torch.tensor)):
        module = TwoInTwoOut.make(lib)
        records = []
        module.register_full_backward_pre_hook(lambda m, go: records.append(("pre", as_numpy(go))))
        module.register_full_backward_hook(lambda m, gi, go: records.append(("hook", as_numpy(gi) + as_numpy(go))))
        x, y = tensor(a), tensor(b)
        x.requires_grad_(True)
        product, total = module(x, 2.0, y)
        loss = (product * product).sum() + (total * 3 if use_second_output else 0)
        loss.backward()
        records_by_lib.append((records, x.grad.numpy().copy()))
    (ours, x_grad), (theirs, x_grad_t) = records_by_lib
    assert_same_records(ours, theirs)
    np.testing.assert_allclose(x_grad, x_grad_t, rtol=1e-12)


def test_hooks_on_a_module_returning_a_namedtuple_keep_its_type():
    from collections import namedtuple
    Pair = namedtuple("Pair", "double triple")

    class Split(nn.Module):
        def forward(self, x):
            return Pair(x * 2, x * 3)
    module = Split()
    seen = []
    module.register_full_backward_pre_hook(lambda m, go: seen.append([g.numpy().tolist() for g in go]))
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    out = module(x)
    assert isinstance(out, Pair)
    (out.double.sum() + out.triple.sum() * 2).backward()
    assert seen == [[[1.0, 1.0], [2.0, 2.0]]]
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 8.0])


def test_hooked_module_stays_twice_differentiable(rng):
    model, model_t = twin(rng, mlp(nn), mlp(torch.nn))
    for layer in model:
        layer.register_full_backward_hook(lambda m, gi, go: None)
        layer.register_full_backward_pre_hook(lambda m, go: None)
    x = rng.standard_normal((4, 3))
    results = []
    for lib, net, tensor in ((ag, model, ag.tensor), (torch, model_t, torch.tensor)):
        inp = tensor(x)
        inp.requires_grad_(True)
        (g,) = (ag.grad if lib is ag else torch.autograd.grad)(net(inp).pow(3).sum(), inp, create_graph=True)
        (g * g).sum().backward()
        results.append([p.grad.numpy().copy() for p in net.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_hook_returning_the_wrong_number_of_gradients_is_named():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Linear: a full backward hook returned 2 gradients, but the module has 1"):
        layer(ag.ones((1, 2), requires_grad=True)).sum().backward()


def test_no_backward_hooks_run_for_a_call_under_no_grad():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with ag.no_grad():
        out = layer(ag.ones((1, 2), requires_grad=True))
    assert not out.requires_grad and not calls


def test_forward_hook_with_kwargs_sees_the_kwargs_and_replaces_the_output_as_pytorch():
    results = []
    for lib, tensor in ((nn, ag.tensor), (torch.nn, torch.tensor)):
        class Scale(lib.Module):
            def forward(self, x, factor=1.0):
                return x * factor
        module, seen = Scale(), []
        module.register_forward_hook(lambda m, args, kwargs, out: (seen.append(dict(kwargs)), out + kwargs["factor"])[1],
                                     with_kwargs=True)
        module.register_forward_hook(lambda m, args, out: seen.append(len(args)))
        results.append((module(tensor([1.0, 2.0]), factor=2.0).numpy().tolist(), seen))
    assert results[0] == results[1] == ([4.0, 6.0], [{"factor": 2.0}, 1])


def test_always_call_forward_hook_runs_when_forward_raises_as_pytorch():
    seen = []
    for lib, tensor in ((nn, ag.tensor), (torch.nn, torch.tensor)):
        class Fails(lib.Module):
            def forward(self, x):
                raise ValueError("broken layer")
        module = Fails()
        module.register_forward_hook(lambda m, args, out: seen.append((lib.__name__, out)), always_call=True)
        module.register_forward_hook(lambda m, args, out: seen.append("not always"))
        with pytest.raises(ValueError, match="broken layer"):
            module(tensor([1.0]))
    assert seen == [("nn", None), ("torch.nn", None)]


def test_forward_pre_hook_with_kwargs_replaces_args_and_kwargs_as_pytorch():
    outputs = []
    for lib, tensor in ((nn, ag.tensor), (torch.nn, torch.tensor)):
        class Scale(lib.Module):
            def forward(self, x, factor=1.0):
                return x * factor
        module = Scale()
        module.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), {"factor": kwargs["factor"] * 10}),
                                         with_kwargs=True)
        module.register_forward_pre_hook(lambda m, args, kwargs: None, with_kwargs=True, prepend=True)
        outputs.append(module(tensor([1.0, 2.0]), factor=2.0).numpy())
    np.testing.assert_array_equal(*outputs)


def _state_dict_hook_program(lib):
    """Hooks as client code uses them: rename an old checkpoint's keys on load, forgive keys a
    post-hook knows are derived, drop a key from what state_dict saves. Returns what the hooks saw."""
    nn_ = lib.nn
    seen = []

    class Block(nn_.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn_.Linear(2, 2)
            self.register_buffer("cache", lib.zeros(2))
            self.register_load_state_dict_pre_hook(self.upgrade)
            self.register_load_state_dict_post_hook(self.forgive_cache)
            self.register_state_dict_pre_hook(lambda m, prefix, keep_vars: seen.append(("pre", prefix, keep_vars)))
            self.register_state_dict_post_hook(self.drop_cache)

        @staticmethod
        def upgrade(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
            seen.append(("load_pre", prefix, strict))
            for old, new in (("w", "weight"), ("b", "bias")):
                if prefix + "fc." + old in state_dict:
                    state_dict[prefix + "fc." + new] = state_dict.pop(prefix + "fc." + old)

        @staticmethod
        def forgive_cache(module, incompatible_keys):
            seen.append(("load_post", sorted(incompatible_keys.missing_keys)))
            for key in [k for k in incompatible_keys.missing_keys if k.endswith("cache")]:
                incompatible_keys.missing_keys.remove(key)

        @staticmethod
        def drop_cache(module, state_dict, prefix, local_metadata):
            state_dict.pop(prefix + "cache", None)

    model = nn_.Sequential(Block(), nn_.ReLU())
    keys = list(model.state_dict())
    old = {"0.fc.w": lib.ones(2, 2), "0.fc.b": lib.zeros(2)}
    result = model.load_state_dict(old, strict=True)
    weight = model[0].fc.weight.detach().numpy().copy()
    private = model[0]._register_state_dict_hook(lambda m, sd, prefix, meta: {"only": lib.ones(1)})
    replaced = list(model.state_dict())
    private.remove()
    model[0].register_state_dict_post_hook(lambda m, sd, prefix, meta: sd)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        model.state_dict()
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0.fc.bias"'):
        model.load_state_dict({"0.fc.w": lib.ones(2, 2)})
    return seen, keys, (result.missing_keys, result.unexpected_keys), weight, replaced


def test_state_dict_and_load_state_dict_hooks_run_as_torch_s():
    ours = _state_dict_hook_program(SimpleNamespace(nn=nn, zeros=ag.zeros, ones=ag.ones))
    theirs = _state_dict_hook_program(SimpleNamespace(nn=torch.nn, zeros=torch.zeros, ones=torch.ones))
    assert ours[0] == theirs[0] and ours[1] == theirs[1] == ["0.fc.weight", "0.fc.bias"]
    assert ours[2] == theirs[2] == ([], [])
    np.testing.assert_array_equal(ours[3], theirs[3])
    assert ours[4] == theirs[4]


def test_a_failed_strict_load_without_post_hooks_changes_nothing():
    model = nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="Missing key"):
        model.load_state_dict({"weight": np.zeros((2, 2), np.float32)})
    np.testing.assert_array_equal(model.weight.numpy(), before)
