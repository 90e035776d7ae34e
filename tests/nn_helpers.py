"""Shared helpers for the nn tests: moving tensors between ndgrad and PyTorch, and comparing them.

Every comparison with PyTorch goes through `assert_matches_torch`, which also records the
difference: with NDGRAD_TORCH_DIFFS=path set, one line "name<TAB>dtype<TAB>max abs diff" per
comparison is appended there (to report how many comparisons ran and the largest difference).
"""
import os

import numpy as np

import autograd as ag

# (rtol, atol) per dtype for results that went through a few dozen floating point operations.
TOLERANCES = {np.dtype(np.float64): (1e-9, 1e-11), np.dtype(np.float32): (2e-4, 2e-5)}

DTYPES = [np.float64, np.float32]


def torch_dtype(dtype):
    import torch
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def to_numpy(value):
    if value is None:
        return None
    if isinstance(value, ag.Tensor):
        return value.numpy()
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def to_torch(array, requires_grad=False):
    import torch
    t = torch.from_numpy(np.array(to_numpy(array)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def both(array, requires_grad=True):
    """The same values as an ndgrad and a PyTorch leaf."""
    array = np.asarray(array)
    return ag.tensor(array, requires_grad=requires_grad), to_torch(array, requires_grad)


def copy_torch_state(mine, theirs):
    """Load the PyTorch module's state dict into ours (same names, same shapes)."""
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    result = mine.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys


def assert_matches_torch(name, mine, theirs, dtype=None, rtol=None, atol=None):
    """assert_allclose(ours, PyTorch's) with per-dtype tolerances; records the difference."""
    a, b = to_numpy(mine), to_numpy(theirs)
    assert (a is None) == (b is None), f"{name}: one side is None (ours {a is None}, torch {b is None})"
    if a is None:
        return
    dtype = np.dtype(dtype or b.dtype)
    default_rtol, default_atol = TOLERANCES.get(dtype, (1e-6, 1e-6))
    assert a.shape == b.shape, f"{name}: shape {a.shape} vs PyTorch's {b.shape}"
    if a.dtype.kind == "f":
        assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} vs PyTorch's {b.dtype}"
    diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0)) if a.size else 0.0
    path = os.environ.get("NDGRAD_TORCH_DIFFS")
    if path:
        with open(path, "a") as f:
            f.write(f"{name}\t{dtype}\t{diff:.3e}\n")
    np.testing.assert_allclose(a, b, rtol=rtol if rtol is not None else default_rtol,
                               atol=atol if atol is not None else default_atol, err_msg=name)


def gradcheck_module(module, x, **kwargs):
    """gradcheck a module in float64 with respect to its input (if float) and all its parameters."""
    params = [p for p in module.parameters() if p.requires_grad]
    inputs = ([x] if x.dtype.kind == "f" and x.requires_grad else []) + params

    def fn(*args):
        return module(x)
    return ag.gradcheck(fn, inputs, **kwargs)


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6):
    """assert_matches_torch with the given tolerances, for a comparison that needs no name."""
    assert_matches_torch("", ours, theirs, rtol=rtol, atol=atol)


def frozen_input_gradient_penalty():
    """(penalty, grad_w, grad_b): a gradient penalty on a linear layer whose input is frozen, so that
    Linear's backward node (LinearGrad) makes the weight's and bias's gradients, not its output 0."""
    x = ag.tensor(np.linspace(-1.0, 1.0, 15).reshape(3, 5))
    weight = ag.tensor(np.linspace(0.5, -0.5, 20).reshape(4, 5), requires_grad=True)
    bias = ag.tensor(np.array([0.1, -0.2, 0.3, 0.0]), requires_grad=True)
    grad_w, grad_b = ag.grad(ag.tanh(ag.linear(x, weight, bias)).sum(), [weight, bias], create_graph=True)
    return (grad_w ** 2).sum() + (grad_b ** 2).sum(), grad_w, grad_b
