"""nn.utils.prune against torch.nn.utils.prune: the same masks (magnitude, structured by norm, global,
repeated pruning among the kept entries), PyTorch's parameter/buffer names and state-dict keys, pruned
entries getting no gradient, and `remove` making the pruning permanent."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")
import torch.nn.utils.prune  # noqa: E402  (a submodule torch does not import by itself)


def prune_run(lib, nn_module, prune, arrays):
    weight, bias, kernel, second, x = arrays
    linear, conv, head = nn_module.Linear(4, 6), nn_module.Conv2d(3, 5, 3), nn_module.Linear(6, 2)
    with lib.no_grad():
        linear.weight.copy_(lib.tensor(weight))
        linear.bias.copy_(lib.tensor(bias))
        conv.weight.copy_(lib.tensor(kernel))
        head.weight.copy_(lib.tensor(second))
    seen = {}
    prune.l1_unstructured(linear, "weight", amount=0.3)
    seen["state keys"] = list(linear.state_dict())
    seen["parameters"] = [name for name, _ in linear.named_parameters()]
    seen["first mask"] = linear.weight_mask.numpy().copy()
    prune.l1_unstructured(linear, "weight", amount=3)     # three more, among the kept entries
    prune.l1_unstructured(linear, "bias", amount=0.5)
    prune.ln_structured(conv, "weight", amount=0.4, n=2, dim=0)
    prune.ln_structured(conv, "weight", amount=1, n=1, dim=1)
    seen["weight mask"] = linear.weight_mask.numpy().copy()
    seen["conv mask"] = conv.weight_mask.numpy().copy()
    linear(lib.tensor(x)).sum().backward()
    seen["gradient"] = linear.weight_orig.grad.numpy().copy()
    seen["pruned"] = prune.is_pruned(linear)
    prune.remove(linear, "weight")
    seen["keys after remove"] = list(linear.state_dict())
    seen["weight after remove"] = linear.weight.detach().numpy().copy()
    prune.global_unstructured([(linear, "weight"), (head, "weight")], pruning_method=prune.L1Unstructured,
                              amount=0.5)
    seen["global masks"] = [linear.weight_mask.numpy().copy(), head.weight_mask.numpy().copy()]
    prune.custom_from_mask(head, "bias", mask=lib.tensor(np.array([1.0, 0.0], np.float32)))
    seen["custom"] = head.bias.detach().numpy()[1]
    return seen


def test_pruning_matches_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in [(6, 4), (6,), (5, 3, 3, 3), (2, 6), (2, 4)]]
    ours = prune_run(ag, nn, nn.utils.prune, arrays)
    theirs = prune_run(torch, torch.nn, torch.nn.utils.prune, arrays)
    assert ours.keys() == theirs.keys()
    for key in ours:
        if isinstance(ours[key], list) and ours[key] and isinstance(ours[key][0], np.ndarray):
            for mine, expected in zip(ours[key], theirs[key]):
                np.testing.assert_array_equal(mine, expected, err_msg=key)
        elif isinstance(ours[key], np.ndarray):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, err_msg=key)
        else:
            assert ours[key] == theirs[key], key
    assert theirs["state keys"] == ["bias", "weight_orig", "weight_mask"]


def test_random_pruning_prunes_the_asked_amount_and_bad_amounts_raise_as_torch():
    layer = nn.Linear(10, 10)
    nn.utils.prune.random_unstructured(layer, "weight", amount=0.25)
    assert int((layer.weight_mask.numpy() == 0).sum()) == 25
    nn.utils.prune.random_structured(layer, "weight", amount=2, dim=0)
    assert int((layer.weight_mask.numpy().sum(1) == 0).sum()) >= 2
    for module in (nn, torch.nn):
        with pytest.raises(ValueError, match="amount=1.5 should either be a float in the range"):
            module.utils.prune.l1_unstructured(module.Linear(2, 2), "weight", amount=1.5)
        with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
            module.utils.prune.remove(module.Linear(2, 2), "weight")
