"""Fused losses: softmax cross-entropy (against probabilities), the negative log-likelihood of class indices,
and binary cross-entropy, stable and in one pass each."""
import math

import numpy as np

from ..errors import DTypeError, ShapeError, shape_error
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant
from .reduction import normalize_axes
from .softmax import log_softmax, log_softmax_array, softmax


# -- softmax cross-entropy -------------------------------------------------------------------------

class SoftmaxCrossEntropy(Primitive):
    """loss = -sum_c coef_c * log_softmax(x)_c along `axis`, per sample (scale None) or summed
    over everything and multiplied by `scale` (a mean's 1/count).

    coef is the one-hot target times the class weight (zero where ignored), mixed with the
    label-smoothing term, or a probability target. With s = softmax(x) and G the gradient per
    sample: d/dx = (s * sum_c coef_c - coef) * G (SoftmaxCrossEntropyGrad);
    d/dcoef = -log_softmax(x) * G. The log-probabilities are kept for the first of these, as
    PyTorch's log_softmax keeps its output, so the backward does not take the softmax again.
    """
    @staticmethod
    def forward(ctx, x, coef, axis, scale):
        log_probs = log_softmax_array(x, axis)
        ctx.axis, ctx.scale = axis, scale
        ctx.save_for_backward(x, coef, log_probs)
        if scale is None:
            return -np.sum(log_probs * coef, axis=axis)
        return np.asarray(-np.vdot(log_probs, coef) * scale, dtype=x.dtype)   # the sum over everything

    @staticmethod
    def backward(ctx, grad):
        x, coef, log_probs = ctx.saved_tensors
        need_x, need_coef = ctx.needs_input_grad
        grad_x = None
        if need_x:
            grad_x = SoftmaxCrossEntropyGrad.apply(x, coef, grad, axis=ctx.axis, scale=ctx.scale,
                                                   log_probs=log_probs._data)
        grad_coef = log_softmax(x, ctx.axis) * -_per_sample(grad, ctx.axis, ctx.scale) if need_coef else None
        return grad_x, grad_coef


def _per_sample(grad, axis, scale):
    """The loss gradient as it reaches each sample, broadcastable along the class axis."""
    return grad.unsqueeze(axis) if scale is None else grad * scale


class SoftmaxCrossEntropyGrad(Primitive):
    """SoftmaxCrossEntropy's input gradient (s T - coef) G, with s = softmax(x) (computed from the
    forward's `log_probs`), T = sum_c coef_c and G the per-sample gradient, in a few whole-array
    passes. Its own derivatives, for a gradient gg of x's shape: d/dx = T s (gG - sum_c(gG s))
    (softmax's Jacobian), d/dcoef = G (sum_c(gg s) - gg), d/dG = sum_c(gg (s T - coef)).
    """
    @staticmethod
    def forward(ctx, x, coef, grad, axis, scale, log_probs):
        ctx.axis, ctx.scale = axis, scale
        ctx.save_for_backward(x, coef, grad)
        per_sample = np.expand_dims(grad, axis) if scale is None else grad * scale
        probs = np.exp(log_probs)
        probs *= np.sum(coef, axis=axis, keepdims=True)
        probs -= coef
        probs *= per_sample
        return probs.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        x, coef, grad = ctx.saved_tensors
        need_x, need_coef, need_grad = ctx.needs_input_grad
        axis, scale = ctx.axis, ctx.scale
        s = softmax(x, axis)
        total = coef.sum(axis, keepdim=True)
        per_sample = _per_sample(grad, axis, scale)
        grad_x = grad_coef = grad_grad = None
        if need_x:
            weighted = gg * per_sample
            grad_x = total * s * (weighted - (weighted * s).sum(axis, keepdim=True))
        if need_coef:
            grad_coef = per_sample * ((gg * s).sum(axis, keepdim=True) - gg)
        if need_grad:
            grad_grad = (gg * (s * total - coef)).sum(axis)
            if scale is not None:
                grad_grad = grad_grad.sum() * scale
        return grad_x, grad_coef, grad_grad


def softmax_cross_entropy(input, coef, dim=1, scale=None):
    """-sum(coef * log_softmax(input, dim), dim): per sample, or with `scale` (e.g. 1/count for a
    mean) summed over everything and scaled. `coef` holds per-class coefficients of input's shape
    (one-hot targets times class weights, label smoothing, or probabilities): cross-entropy in one
    stable fused op, which nn.functional.cross_entropy builds on."""
    (axis,) = normalize_axes("softmax_cross_entropy", dim, input.ndim)
    if coef.shape != input.shape:   # the fused kernel does not broadcast (its gradient would be wrong)
        raise shape_error("softmax_cross_entropy", "coef must have the input's shape", input.shape, coef.shape)
    return SoftmaxCrossEntropy.apply(input, coef, axis=axis, scale=scale)


# -- negative log-likelihood of class indices -------------------------------------------------------

class NllLoss(Primitive):
    """loss = -weight * x[target] along `axis`, x holding log-probabilities: per sample (scale None),
    or summed and multiplied by `scale` (a mean's 1/total weight). PyTorch's nll_loss, and its
    cross-entropy after log_softmax, which saves only its output, as here: no one-hot array, and the
    logits are not kept (a language model's are 50,000 classes times every token).

    The targets arrive as their flat `positions` in x (C order) and `weight` is per sample (the class
    weight of the target, 0 where ignored; None: all 1). d/dx = -weight G at each target, 0 elsewhere
    (NllLossGrad); target and weight are constants (PyTorch gives no gradient for a weight either).
    """
    @staticmethod
    def forward(ctx, x, positions, sample_shape, weight, scale):
        ctx.positions, ctx.sample_shape, ctx.weight, ctx.scale = positions, sample_shape, weight, scale
        ctx.input_shape = x.shape
        picked = x.reshape(-1)[positions].reshape(sample_shape)
        if weight is not None:   # 0 for an ignored target, whatever its (stand-in) log-probability
            picked = np.asarray(np.where(weight == 0, 0, picked).astype(picked.dtype, copy=False) * weight)
        if scale is None:
            return np.negative(picked, out=picked)
        return np.asarray(-np.sum(picked, dtype=np.result_type(picked, np.float32)) * scale, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return NllLossGrad.apply(grad, positions=ctx.positions, input_shape=ctx.input_shape, weight=ctx.weight,
                                 scale=ctx.scale)


class NllLossGrad(Primitive):
    """NllLoss's input gradient: -weight G placed at each target's position of an array of zeros.
    Linear in G; its derivative for a gradient gg of the input's shape is the gather -weight gg[target]
    (summed and scaled for a reduced loss)."""
    @staticmethod
    def forward(ctx, grad, positions, input_shape, weight, scale):
        ctx.positions, ctx.weight, ctx.scale = positions, weight, scale
        ctx.sample_shape = grad.shape if scale is None else None
        factor = grad * scale if scale is not None else grad   # 0-d, or one per sample
        if weight is not None:
            factor = factor * weight
        out = np.zeros(input_shape, grad.dtype)
        out.reshape(-1)[positions] = -factor.reshape(-1) if factor.ndim else -factor
        return out

    @staticmethod
    def backward(ctx, gg):
        picked = -gg.reshape(-1)[constant(ctx.positions)]
        if ctx.weight is not None:
            picked = picked * constant(ctx.weight.reshape(-1).astype(gg.dtype, copy=False))
        return picked.reshape(ctx.sample_shape) if ctx.scale is None else picked.sum() * ctx.scale


def nll(input, target, weight=None, dim=1, scale=None):
    """-weight * input[target] along `dim`, for log-probabilities `input`: per sample, or with `scale`
    summed and scaled. target is an integer array of input's shape without `dim` (each in
    [0, classes)), weight a float array of target's shape or None. The op behind nn.functional's
    nll_loss, and behind its cross_entropy after log_softmax."""
    (axis,) = normalize_axes("nll", dim, input.ndim)
    target = np.asarray(target._data if isinstance(target, Tensor) else target)
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.dtype.kind not in "iu":
        raise DTypeError(f"nll: targets must be class indices (integers), got {target.dtype}")
    if target.shape != expected:
        raise ShapeError(f"nll: expected targets of shape {expected} for an input of shape {input.shape} (classes "
                         f"along dim {axis}), got {target.shape}")
    if target.size and (target.min() < 0 or target.max() >= input.shape[axis]):
        raise IndexError(f"nll: target {target[(target < 0) | (target >= input.shape[axis])].flat[0]} is out of "
                         f"bounds for {input.shape[axis]} classes")
    if weight is not None:
        weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    return NllLoss.apply(input, positions=_target_positions(target, input.shape, axis), sample_shape=target.shape,
                         weight=weight, scale=scale)


def _target_positions(target, shape, axis):
    """Where each target class sits in the flattened (C-order) array of `shape`, classes along `axis`."""
    classes, after = shape[axis], math.prod(shape[axis + 1:])
    if target.size == 0:
        return np.zeros(0, np.intp)
    positions = target.reshape(-1, after).astype(np.intp) * after   # not in the target's dtype: int8 would wrap
    positions += np.arange(0, positions.shape[0] * classes * after, classes * after)[:, None]
    if after > 1:
        positions += np.arange(after)
    return positions.reshape(-1)


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


def binary_cross_entropy(input, target):
    """Elementwise -(target log(input) + (1 - target) log(1 - input)), each log clamped at -100 as
    PyTorch's; unreduced (nn.functional.binary_cross_entropy reduces and weights it)."""
    return BinaryCrossEntropy.apply(input, target)
