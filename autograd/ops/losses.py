"""Fused losses: softmax cross-entropy and binary cross-entropy, stable and in one pass each."""
import numpy as np

from .. import grad_mode
from ..function import Primitive
from .elementwise import constant
from .softmax import log_softmax, softmax


def _recording_graph():
    """Inside a backward: True when create_graph=True asked for a differentiable gradient."""
    return grad_mode._state.grad_enabled


# -- softmax cross-entropy -------------------------------------------------------------------------

class SoftmaxCrossEntropy(Primitive):
    """loss = -sum_c coef_c * log_softmax(x)_c along `axis`, per sample (scale None) or summed
    over everything and multiplied by `scale` (a mean's 1/count).

    coef is the one-hot target times the class weight (zero where ignored), mixed with the
    label-smoothing term, or a probability target. With s = softmax(x):
    d/dx = (s * sum_c coef_c - coef) * grad;  d/dcoef = -log_softmax(x) * grad.
    """
    @staticmethod
    def forward(ctx, x, coef, axis, scale):
        top = np.amax(x, axis=axis, keepdims=True)
        shifted = x - np.where(np.isfinite(top), top, 0)
        log_sum = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        shifted -= log_sum                               # now log_softmax(x)
        shifted *= coef
        per_sample = -np.sum(shifted, axis=axis)
        ctx.axis, ctx.scale = axis, scale
        ctx.save_for_backward(x, coef)
        if scale is None:
            return per_sample
        return np.asarray(per_sample.sum() * scale, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, coef = ctx.saved_tensors
        need_x, need_coef = ctx.needs_input_grad
        axis = ctx.axis
        if not _recording_graph() and not need_coef:  # the hot path, on arrays
            g = np.expand_dims(grad.data, axis) if ctx.scale is None else grad.data * ctx.scale
            x, coef = x.data, coef.data
            top = np.amax(x, axis=axis, keepdims=True)
            probs = np.exp(x - np.where(np.isfinite(top), top, 0))
            probs *= np.sum(coef, axis=axis, keepdims=True) / np.sum(probs, axis=axis, keepdims=True)
            probs -= coef
            probs *= g
            return constant(probs.astype(x.dtype, copy=False)), None
        grad = grad.unsqueeze(axis) if ctx.scale is None else grad * ctx.scale
        grad_x = grad_coef = None
        if need_x:
            total = coef.sum(axis, keepdim=True)
            grad_x = (softmax(x, axis) * total - coef) * grad
        if need_coef:
            grad_coef = log_softmax(x, axis) * -grad
        return grad_x, grad_coef


def softmax_cross_entropy(x, coef, axis=1, scale=None):
    return SoftmaxCrossEntropy.apply(x, coef, axis=axis, scale=scale)


# -- binary cross-entropy --------------------------------------------------------------------------

_BCE_EPSILON = float(np.float32(1e-12))   # PyTorch's EPSILON, which it stores as a float32


class BinaryCrossEntropy(Primitive):
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 (as PyTorch), so
    x = 0 or 1 gives a finite loss. d/dx = (x - y) / max(x (1 - x), 1e-12), PyTorch's finite
    gradient; d/dy = log(1 - x) - log(x), clamped the same way."""
    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, y)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad_y = None
        if need_x:
            grad_x = grad * (x - y) / (x * (1 - x)).clamp(min=_BCE_EPSILON)
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = grad * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return grad_x, grad_y


def binary_cross_entropy(x, y):
    return BinaryCrossEntropy.apply(x, y)
