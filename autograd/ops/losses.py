"""Fused losses: softmax cross-entropy (against probabilities), the negative log-likelihood of class indices
(of log-probabilities, or of logits through log_softmax in the same op), and binary cross-entropy, stable
and in one pass each."""
import math

import numpy as np

from ..errors import DTypeError, ShapeError, shape_error
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant, exp
from .reduction import normalize_axes
from .softmax import LogSoftmaxGrad, log_softmax, log_softmax_array, softmax


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
        return _negative_log_likelihood(x, positions, sample_shape, weight, scale)

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


def _negative_log_likelihood(log_probs, positions, sample_shape, weight, scale):
    """-weight * log_probs at each target (flat `positions`), per sample, or summed and scaled."""
    picked = log_probs.reshape(-1)[positions].reshape(sample_shape)
    if weight is not None:   # 0 for an ignored target, whatever its (stand-in) log-probability
        picked = np.asarray(np.where(weight == 0, 0, picked).astype(picked.dtype, copy=False) * weight)
    if scale is None:
        return np.negative(picked, out=picked)
    total = np.add.reduce(picked, axis=None, dtype=np.result_type(picked, np.float32))   # half sums in single
    return np.asarray(-total * scale, dtype=log_probs.dtype)


def nll(input, target, weight=None, dim=1, scale=None):
    """-weight * input[target] along `dim`, for log-probabilities `input`: per sample, or with `scale`
    summed and scaled. target is an integer array of input's shape without `dim` (each in
    [0, classes)), weight a float array of target's shape or None. The op behind nn.functional's
    nll_loss."""
    axis, target, weight = _class_index_arguments("nll", input, target, weight, dim)
    return NllLoss.apply(input, positions=_target_positions(target, input.shape, axis), sample_shape=target.shape,
                         weight=weight, scale=scale)


def _class_index_arguments(op, input, target, weight, dim):
    """(the class axis, the targets as an array, the weights as an array of input's dtype or None),
    the targets checked against input: integers, one per sample, each a class."""
    (axis,) = normalize_axes(op, dim, input.ndim)
    target = np.asarray(target._data if isinstance(target, Tensor) else target)
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must be class indices (integers), got {target.dtype}")
    if target.shape != expected:
        raise ShapeError(f"{op}: expected targets of shape {expected} for an input of shape {input.shape} (classes "
                         f"along dim {axis}), got {target.shape}")
    classes = input.shape[axis]
    if target.size and (np.minimum.reduce(target, axis=None) < 0 or np.maximum.reduce(target, axis=None) >= classes):
        raise IndexError(f"{op}: target {target[(target < 0) | (target >= input.shape[axis])].flat[0]} is out of "
                         f"bounds for {input.shape[axis]} classes")
    if weight is not None:
        weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
        if weight.shape != target.shape:   # else NumPy broadcasts it, or fails, inside the op
            raise ShapeError(f"{op}: weight must have the targets' shape {target.shape} (one per sample: the class "
                             f"weight of its target), got {weight.shape}")
    return axis, target, weight


def _target_positions(target, shape, axis):
    """Where each target class sits in the flattened (C-order) array of `shape`, classes along `axis`."""
    classes, after = shape[axis], math.prod(shape[axis + 1:])
    if target.size == 0:
        return np.zeros(0, np.intp)
    positions = target.reshape(-1, after).astype(np.intp)   # not in the target's dtype: int8 would wrap
    if after > 1:
        positions *= after
        positions += np.arange(after)
    positions += np.arange(0, positions.shape[0] * classes * after, classes * after)[:, None]
    return positions.reshape(-1)


# -- cross-entropy of class indices: log_softmax and nll as one node ---------------------------------

class SoftmaxNll(Primitive):
    """nll(log_softmax(x)) along `axis` (see NllLoss for positions, weight and scale): PyTorch's
    cross-entropy against class indices, which is these two ops, in one node. A train step then
    records one op where it recorded two, and the gradient is one pass, (softmax(x) - onehot) f
    with f = weight G per sample (SoftmaxNllGrad), where the two ops made an array of zeros for
    the nll's gradient and took the softmax's backward of it.

    The node has two outputs: the loss and the log-probabilities (nn.functional.cross_entropy hands
    out only the loss). Backward keeps the log-probabilities, as log_softmax keeps its output (not
    the logits: a language model's are 50,000 classes times every token). Being an output of this
    node they stay differentiable in x, so the gradient, written on them, can be differentiated
    again; a gradient reaching them (only then) goes on through log_softmax's backward.
    """
    @staticmethod
    def forward(ctx, x, positions, sample_shape, weight, scale, axis):
        ctx.positions, ctx.sample_shape, ctx.weight, ctx.scale, ctx.axis = positions, sample_shape, weight, scale, axis
        log_probs = ctx.save_output(log_softmax_array(x, axis), index=1)
        return _negative_log_likelihood(log_probs, positions, sample_shape, weight, scale), log_probs

    @staticmethod
    def backward(ctx, grad, grad_log_probs):
        log_probs = ctx.output
        grad_x = None
        if grad is not None:
            grad_x = SoftmaxNllGrad.apply(grad, log_probs, positions=ctx.positions, sample_shape=ctx.sample_shape,
                                          weight=ctx.weight, scale=ctx.scale, axis=ctx.axis)
        if grad_log_probs is not None:
            through = LogSoftmaxGrad.apply(grad_log_probs, log_probs, axis=ctx.axis)
            grad_x = through if grad_x is None else grad_x + through
        return grad_x


class SoftmaxNllGrad(Primitive):
    """SoftmaxNll's input gradient, (p - onehot) f with p = exp(log_probs) and f = weight G per sample
    (times scale for a reduced loss, whose G is one number). Linear in G: d/dG = weight (sum(gg p) -
    gg[target]) per sample (summed and scaled when reduced); d/dlog_probs = gg p f."""
    @staticmethod
    def forward(ctx, grad, log_probs, positions, sample_shape, weight, scale, axis):
        ctx.positions, ctx.sample_shape, ctx.weight, ctx.scale, ctx.axis = positions, sample_shape, weight, scale, axis
        ctx.save_for_backward(grad, log_probs)
        factor = grad * scale if scale is not None else grad
        if weight is not None:
            factor = factor * weight
        out = np.exp(log_probs, order="C")   # C order: the targets' flat positions index it
        out *= np.expand_dims(factor, axis) if factor.ndim else factor
        out.reshape(-1)[positions] -= factor.reshape(-1) if factor.ndim else factor
        return out

    @staticmethod
    def backward(ctx, gg):
        grad, log_probs = ctx.saved_tensors
        need_grad, need_log_probs = ctx.needs_input_grad
        weight, scale, axis = ctx.weight, ctx.scale, ctx.axis
        probs = exp(log_probs)
        grad_grad = grad_log_probs = None
        if need_grad:   # -weight gg[target] is the nll of gg
            per_sample = (gg * probs).sum(axis)
            if weight is not None:
                per_sample = per_sample * constant(weight)
            per_sample = per_sample + NllLoss.apply(gg, positions=ctx.positions, sample_shape=ctx.sample_shape,
                                                    weight=weight, scale=None)
            grad_grad = per_sample if scale is None else per_sample.sum() * scale
        if need_log_probs:
            factor = grad * scale if scale is not None else grad
            if weight is not None:
                factor = factor * constant(weight)
            grad_log_probs = gg * probs * (factor.unsqueeze(axis) if factor.ndim else factor)
        return grad_grad, grad_log_probs


def softmax_nll(input, target, weight=None, dim=1, scale=None):
    """nll(log_softmax(input, dim), target, weight, dim, scale) as one op: the cross-entropy of logits
    `input` against class indices `target`, per sample, or with `scale` summed and scaled (see nll
    for target and weight). The op behind nn.functional's cross_entropy against class indices."""
    if input.dtype.kind != "f":
        raise DTypeError(f"softmax_nll: expects floating point logits, got {input.dtype}; convert them first "
                         "(x.float())")
    axis, target, weight = _class_index_arguments("softmax_nll", input, target, weight, dim)
    loss, _ = SoftmaxNll.apply(input, positions=_target_positions(target, input.shape, axis),
                               sample_shape=target.shape, weight=weight, scale=scale, axis=axis)
    return loss


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
