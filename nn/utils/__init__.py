"""nn.utils: gradient clipping and flat parameter vectors, as torch.nn.utils (and nn.utils.rnn:
padding and packing sequences; weight_norm and spectral_norm).

Clipping replaces `p.grad` with a new, scaled Tensor rather than scaling it in place: the engine may
hand one gradient object to several tensors, and an in-place change would reach them all.
"""
import math

import numpy as np

import autograd as ag
from autograd import Tensor

from . import rnn  # noqa: F401  (nn.utils.rnn.pad_sequence, as torch.nn.utils.rnn)
from .weight_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from . import parametrizations, parametrize, prune  # noqa: F401,E402  (nn.utils.parametrize.register_parametrization, ...)

__all__ = ["rnn", "parametrize", "parametrizations", "prune", "clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
           "remove_spectral_norm"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x, norm_type):
    """torch.linalg.vector_norm of a flat array, in its dtype."""
    if x.size == 0:
        return x.dtype.type(0)
    if norm_type == 2.0:
        return np.sqrt(np.dot(x, x))
    if norm_type == math.inf:
        return np.max(np.abs(x))
    if norm_type == -math.inf:
        return np.min(np.abs(x))
    if norm_type == 1.0:
        return np.sum(np.abs(x))
    if norm_type == 0.0:
        return x.dtype.type(np.count_nonzero(x))
    return np.sum(np.abs(x) ** norm_type) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The norm of the norms of `tensors` (Tensors or arrays): the norm of their concatenation."""
    arrays = [t.numpy() if isinstance(t, Tensor) else np.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return ag.tensor(0.0)
    dtype = np.result_type(*arrays)
    norms = np.array([_vector_norm(a.reshape(-1), norm_type) for a in arrays], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False` (the norm is {total.item()})")
    return ag.from_numpy(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale the gradients by max_norm / (total_norm + 1e-6) where that is below 1."""
    total = total_norm.numpy() if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.asarray(float(max_norm), dtype=total.dtype) / (total + total.dtype.type(1e-6))
    if coef >= 1:  # PyTorch multiplies by min(coef, 1): a product with 1.0 changes nothing
        return
    for p in _as_list(parameters):  # a NaN coef lands here and spreads, as in PyTorch
        if p.grad is not None:
            _rescale_grad(p, lambda g: g * coef.astype(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of `parameters` so that their total norm is at most `max_norm`.

    Returns the total norm before clipping, as a 0-d Tensor (in the gradients' dtype)."""
    parameters = _as_list(parameters)
    total_norm = get_total_norm([p.grad for p in parameters if p.grad is not None], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of `clip_grad_norm_` (kept as PyTorch keeps it)."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            _rescale_grad(p, lambda g: np.clip(g, g.dtype.type(-clip_value), g.dtype.type(clip_value)))


def _rescale_grad(p, rescale):
    """p.grad = rescale(p.grad) written into p.grad in place (a version counted), as torch: a g = p.grad the
    caller kept sees it, a graph that saved it refuses to use it; a read-only gradient gets a new array."""
    rescaled = ag.from_numpy(rescale(p.grad.numpy()))
    if p.grad.numpy().flags.writeable:
        with ag.no_grad():
            p.grad.copy_(rescaled)
    else:
        p.grad = rescaled


def parameters_to_vector(parameters):
    """One flat Tensor holding every parameter, in order (differentiable, as in PyTorch)."""
    return ag.cat([p.reshape(-1) for p in _as_list(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the flat `vec` into the parameters' data (the inverse of
    `parameters_to_vector`)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    parameters = _as_list(parameters)
    data = vec.numpy().reshape(-1)
    total = sum(p.numel() for p in parameters)
    if data.size != total:
        raise ValueError(f"vector_to_parameters: vec has {data.size} elements, the parameters {total}")
    offset = 0
    for p in parameters:
        n = p.numel()
        piece = data[offset:offset + n].reshape(p.shape)
        if p.numpy().flags.writeable:
            np.copyto(p.numpy(), piece, casting="unsafe")
        else:
            p.data = piece.astype(p.dtype, copy=True)
        offset += n
