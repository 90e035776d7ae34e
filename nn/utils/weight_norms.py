"""Reparametrised weights, as torch.nn.utils: weight_norm (w = g v / ||v||, Salimans & Kingma 2016)
and spectral_norm (w / sigma(w), sigma estimated by power iteration, Miyato et al. 2018).

Each replaces the module's parameter `name` by new parameters (and buffers) under PyTorch's names,
and a forward pre-hook recomputes `module.<name>` from them before every call, so the state dict
and the gradients are PyTorch's.
"""
import warnings

import numpy as np

import autograd as ag

from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(x, dim):
    """The 2-norm of x over every dim but `dim` (keeping them as size 1), or over all for dim None."""
    if dim is None:
        return x.norm()
    return x.norm(2, tuple(d for d in range(x.ndim) if d != dim % x.ndim), keepdim=True)


class _WeightNorm:
    """The pre-hook of weight_norm: module.<name> = g * v / ||v||."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        v, g = getattr(module, self.name + "_v"), getattr(module, self.name + "_g")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _find_hook(module, kind, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key, hook
    return None, None


def weight_norm(module, name="weight", dim=0):
    """Replace module.<name> by the parameters <name>_g (its norm over every dim but `dim`; all dims
    for dim None) and <name>_v (its direction), recombined before each forward. Returns the module.
    As `torch.nn.utils.weight_norm`, which warns that it is deprecated."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    if _find_hook(module, _WeightNorm, name)[1] is not None:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = getattr(module, name)
    dim = -1 if dim is None else dim
    hook = _WeightNorm(name, None if dim == -1 else dim)
    delattr(module, name)
    with ag.no_grad():
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, hook.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: module.<name> becomes one parameter again, with the current value."""
    return _remove(module, name, _WeightNorm, "weight_norm", ("_g", "_v"), ())


def _remove(module, name, kind, what, parameters, buffers):
    """Make module.<name> one parameter again, with the value the hook of `kind` computes now, and
    drop the hook and the parameters and buffers (name suffixes) it used."""
    key, hook = _find_hook(module, kind, name)
    if hook is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    with ag.no_grad():
        weight = hook.compute_weight(module).detach()
    delattr(module, name)
    for suffix in parameters:
        del module._parameters[name + suffix]
    for suffix in buffers:
        del module._buffers[name + suffix]
    setattr(module, name, Parameter(weight))
    del module._forward_pre_hooks[key]
    return module


def _normalize(x, eps):
    return x / max(float(np.linalg.norm(x)), eps)


class _SpectralNorm:
    """The pre-hook of spectral_norm: module.<name> = <name>_orig / sigma, sigma = u^T W v after
    (in training) n_power_iterations steps of power iteration on the buffers u and v."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        """The weight as a (size of dim `dim`, rest) matrix."""
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration=False):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.matrix(weight)
        if do_power_iteration:
            w = matrix.detach().numpy()
            u_array, v_array = u.numpy(), v.numpy()
            for _ in range(self.n_power_iterations):
                v_array[...] = _normalize(w.T @ u_array, self.eps)   # the buffers change in place, as PyTorch's
                u_array[...] = _normalize(w @ v_array, self.eps)
            u, v = u.clone(), v.clone()
        sigma = (u * (matrix @ v)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


_TRANSPOSED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.<name> by its spectral norm (largest singular value) before each forward: the
    parameter becomes <name>_orig, with buffers <name>_u and <name>_v (random unit vectors at first)
    for the power iteration that runs n_power_iterations steps per training forward. dim defaults
    to 0 (1 for transposed convolutions). Returns the module. As `torch.nn.utils.spectral_norm`."""
    if _find_hook(module, _SpectralNorm, name)[1] is not None:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    if n_power_iterations <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                         f"{n_power_iterations}")
    if dim is None:
        dim = 1 if type(module).__name__ in _TRANSPOSED else 0
    hook = _SpectralNorm(name, n_power_iterations, dim, eps)
    weight = getattr(module, name)
    height, width = hook.matrix(weight).shape
    u = _normalize(ag.randn(height, dtype=weight.dtype).numpy(), eps)
    v = _normalize(ag.randn(width, dtype=weight.dtype).numpy(), eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", ag.from_numpy(u))
    module.register_buffer(name + "_v", ag.from_numpy(v))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: module.<name> becomes one parameter again, with the current normalised value."""
    return _remove(module, name, _SpectralNorm, "spectral_norm", ("_orig",), ("_u", "_v"))
