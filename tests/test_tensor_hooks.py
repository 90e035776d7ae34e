"""Tensor.register_post_accumulate_grad_hook against PyTorch: when it runs, what it sees, what it may
do (an optimizer step inside backward), and its errors."""
import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def both(values):
    return ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


def test_hook_sees_the_accumulated_grad_after_tensor_hooks_as_torch():
    values = np.array([1.0, -2.0, 3.0])
    seen = []
    for lib, leaf in zip(("ours", "torch"), both(values)):
        leaf.register_hook(lambda g: g * 2)
        leaf.register_post_accumulate_grad_hook(lambda t, lib=lib: seen.append((lib, t.grad.numpy().copy())))
        for _ in range(2):          # accumulates: the second call sees the sum
            (leaf ** 2).sum().backward()
    ours = [g for lib, g in seen if lib == "ours"]
    theirs = [g for lib, g in seen if lib == "torch"]
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_an_optimizer_step_inside_backward_matches_torch():
    """The 'optimizer in backward' pattern: each parameter is updated and its grad freed as soon as
    backward has accumulated it."""
    rng = np.random.default_rng(0)
    w1, w2, x = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((5, 3))
    results = []
    for lib, tensor in ((ag, ag.tensor), (torch, torch.tensor)):
        params = [tensor(w1), tensor(w2)]
        for p in params:
            p.requires_grad_(True)

            def step(t):
                with lib.no_grad():
                    t -= 0.1 * t.grad
                t.grad = None
            p.register_post_accumulate_grad_hook(step)
        for _ in range(3):
            (tensor(x) @ params[0]).tanh().matmul(params[1]).pow(2).sum().backward()
        results.append([p.detach().numpy().copy() for p in params] + [p.grad for p in params])
    ours, theirs = results
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert ours[2:] == theirs[2:] == [None, None]


def test_autograd_grad_runs_no_post_accumulate_hook():
    leaf, leaf_t = both(np.array([1.0, 2.0]))
    calls = []
    leaf.register_post_accumulate_grad_hook(lambda t: calls.append("ours"))
    leaf_t.register_post_accumulate_grad_hook(lambda t: calls.append("torch"))
    ag.grad((leaf * 3).sum(), leaf)
    torch.autograd.grad((leaf_t * 3).sum(), leaf_t)
    assert calls == []


def test_removed_hook_does_not_run_and_a_returned_value_is_an_error():
    leaf = ag.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = leaf.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    handle.remove()
    leaf.sum().backward()
    assert calls == []
    leaf.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(RuntimeError, match="should return None"):
        leaf.sum().backward()


def test_registering_on_a_non_leaf_or_a_tensor_without_grad_raises_as_torch():
    leaf, leaf_t = both(np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="non-leaf"):
        torch.exp(leaf_t).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors .*Exp"):
        ag.exp(leaf).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
