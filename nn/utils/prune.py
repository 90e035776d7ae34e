"""Pruning, as torch.nn.utils.prune: zero a fraction of a module's parameter through a mask.

Pruning `module.weight` moves the parameter to `module.weight_orig`, adds the buffer
`module.weight_mask`, and a forward pre-hook sets `module.weight = weight_orig * weight_mask` before
every call, so the pruned entries stay zero and get no gradient, and the state dict has PyTorch's
keys. Pruning the same parameter again prunes among the entries still kept (an amount is a fraction,
or a count, of those), the masks multiplied; `remove` makes the pruned values the parameter again.

Methods: `l1_unstructured` (the entries of smallest magnitude), `ln_structured` (whole slices along
`dim` of smallest n-norm), `random_unstructured`, `random_structured`, `global_unstructured` (the
smallest over several parameters together), `custom_from_mask`, `identity`.
"""
import numbers

import numpy as np

import autograd as ag

from ..parameter import Parameter

__all__ = ["BasePruningMethod", "Identity", "RandomUnstructured", "L1Unstructured", "RandomStructured",
           "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
           "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _check_amount(amount):
    """An amount is a fraction in [0, 1] or a non-negative count, as torch checks it."""
    fraction = isinstance(amount, numbers.Real) and not isinstance(amount, (bool, numbers.Integral))
    if not (fraction and 0 <= amount <= 1) and not (isinstance(amount, numbers.Integral) and amount >= 0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")
    return amount


def _count_to_prune(amount, size):
    """How many of `size` entries an amount (a fraction in [0, 1], or a count) prunes."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
        return int(amount)
    return int(round(amount * size))


class BasePruningMethod:
    """A way of choosing a mask: subclasses give `compute_mask(t, default_mask)`, the mask of the
    entries of `t` to keep (1) among those `default_mask` keeps."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, name="weight"):
        self._tensor_name = name

    def compute_mask(self, t, default_mask):
        """The new mask (a NumPy array of t's shape and dtype)."""
        raise NotImplementedError

    def apply_mask(self, module):
        """<name>_orig times <name>_mask: the pruned parameter's value."""
        return getattr(module, self._tensor_name + "_orig") * getattr(module, self._tensor_name + "_mask")

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def prune(self, t):
        """t with this method's mask applied (outside any module)."""
        return t * ag.from_numpy(self.compute_mask(t.numpy(), np.ones(t.shape, t.dtype)))

    def remove(self, module):
        """Make module.<name> a parameter again, holding its pruned values; drop the mask and the hook."""
        name = self._tensor_name
        with ag.no_grad():
            weight = self.apply_mask(module).detach()
        delattr(module, name)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, Parameter(weight))

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune module.<name> with a method of this class made from args and kwargs; returns the method
        (the hook)."""
        method = cls(*args, **kwargs)
        method._tensor_name = name
        key, previous = _find_pruning_hook(module, name)
        if previous is None:
            original = getattr(module, name)
            scores = original if importance_scores is None else importance_scores
            mask = np.ones(original.shape, original.dtype)
            del module._parameters[name]
            module.register_parameter(name + "_orig", original)
        else:   # as torch, scored by the pruned values (which the new method's norms then see)
            del module._forward_pre_hooks[key]
            scores = getattr(module, name) if importance_scores is None else importance_scores
            original = getattr(module, name + "_orig")
            mask = getattr(module, name + "_mask").numpy()
        new_mask = _combined_mask(method, _array(scores), mask)
        module.register_buffer(name + "_mask", ag.from_numpy(new_mask.astype(original.dtype)))
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method


def _array(t):
    return t.detach().numpy() if isinstance(t, ag.Tensor) else np.asarray(t)


def _combined_mask(method, scores, mask):
    """The method's mask computed among the entries `mask` keeps (for a structured method, among its
    kept slices), multiplied into `mask`."""
    if method.PRUNING_TYPE == "unstructured":
        kept = mask == 1
        partial = method.compute_mask(scores[kept], np.ones(int(kept.sum()), mask.dtype))
        new = np.zeros_like(mask)
        new[kept] = partial
        return new * mask
    if method.PRUNING_TYPE == "structured":   # among the slices along dim not pruned yet
        dim = method.dim % scores.ndim
        kept = np.flatnonzero(np.moveaxis(mask, dim, 0).reshape(mask.shape[dim], -1).any(axis=1))
        partial = method.compute_mask(np.take(scores, kept, axis=dim), np.ones_like(np.take(mask, kept, axis=dim)))
        new = np.zeros_like(mask)
        index = [slice(None)] * mask.ndim
        index[dim] = kept
        new[tuple(index)] = partial
        return new * mask
    return method.compute_mask(scores, mask)


def _find_pruning_hook(module, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return key, hook
    return None, None


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (for a parameter that should carry a mask)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask


def _smallest(values, count):
    """The indices of the `count` smallest of the flat `values` (torch.topk's with largest=False)."""
    return np.argsort(values, kind="stable")[:count]


class L1Unstructured(BasePruningMethod):
    """Prune the `amount` entries of smallest magnitude."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = _check_amount(amount)

    def compute_mask(self, t, default_mask):
        mask = np.array(default_mask, copy=True)
        count = _count_to_prune(self.amount, t.size)
        mask.reshape(-1)[_smallest(np.abs(t).reshape(-1), count)] = 0
        return mask


class RandomUnstructured(L1Unstructured):
    """Prune `amount` entries chosen at random (from the global generator)."""

    def compute_mask(self, t, default_mask):
        mask = np.array(default_mask, copy=True)
        count = _count_to_prune(self.amount, t.size)
        mask.reshape(-1)[_smallest(ag.rand(t.size).numpy(), count)] = 0
        return mask


class LnStructured(BasePruningMethod):
    """Prune the `amount` slices along `dim` whose n-norm (n a number, 'fro' or inf) is smallest."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount, self.n, self.dim = _check_amount(amount), n, dim

    def _slice_scores(self, t):
        dim = self.dim % t.ndim
        other = tuple(d for d in range(t.ndim) if d != dim)
        order = 2 if self.n == "fro" else self.n
        if order == np.inf:
            return np.abs(t).max(axis=other)
        if order == -np.inf:
            return np.abs(t).min(axis=other)
        if order == 0:
            return (t != 0).sum(axis=other).astype(t.dtype)
        return (np.abs(t) ** order).sum(axis=other) ** (1.0 / order)

    def compute_mask(self, t, default_mask):
        dim = self.dim % t.ndim
        count = _count_to_prune(self.amount, t.shape[dim])
        keep = np.zeros(t.shape[dim], bool)
        scores = self._slice_scores(t)
        keep[np.argsort(-scores, kind="stable")[:t.shape[dim] - count]] = True
        shape = [1] * t.ndim
        shape[dim] = -1
        return np.broadcast_to(keep.reshape(shape), t.shape).astype(default_mask.dtype) * default_mask


class RandomStructured(LnStructured):
    """Prune `amount` slices along `dim` chosen at random (from the global generator)."""

    def __init__(self, amount, dim=-1):
        super().__init__(amount, 2, dim)

    def _slice_scores(self, t):
        return ag.rand(t.shape[self.dim % t.ndim]).numpy()


class CustomFromMask(BasePruningMethod):
    """Prune where the given mask is 0."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        return default_mask * _array(self.mask).astype(default_mask.dtype)


def identity(module, name):
    """Give module.<name> an all-ones mask. As `torch.nn.utils.prune.identity`."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune `amount` (a fraction or a count) of module.<name>'s entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the `amount` (a fraction or a count) entries of module.<name> of smallest magnitude (or of
    smallest `importance_scores`). As `torch.nn.utils.prune.l1_unstructured`."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune `amount` slices of module.<name> along `dim`, at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the `amount` slices of module.<name> along `dim` of smallest n-norm. As
    `torch.nn.utils.prune.ln_structured`."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune module.<name> where `mask` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs of `parameters` together: `pruning_method` (e.g. L1Unstructured,
    with its keyword arguments such as amount) chooses among all their kept entries at once. As
    `torch.nn.utils.prune.global_unstructured`."""
    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        scores.append(_array(importance_scores.get((module, name), getattr(module, name))).reshape(-1))
        existing = getattr(module, name + "_mask", None)
        masks.append(np.ones(scores[-1].shape, scores[-1].dtype) if existing is None else _array(existing).reshape(-1))
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    flat_mask = _combined_mask(method, np.concatenate(scores), np.concatenate(masks))
    start = 0
    for (module, name), score in zip(parameters, scores):
        piece = flat_mask[start:start + score.size].reshape(getattr(module, name).shape)
        start += score.size
        custom_from_mask(module, name, piece)


def remove(module, name):
    """Make the pruning of module.<name> permanent: the parameter holds its pruned values, and the
    mask, the original and the hook are gone. As `torch.nn.utils.prune.remove`."""
    key, hook = _find_pruning_hook(module, name)
    if hook is None:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module


def is_pruned(module):
    """True if module or one of its submodules has a pruned parameter."""
    return any(isinstance(hook, BasePruningMethod) for m in module.modules() for hook in m._forward_pre_hooks.values())
