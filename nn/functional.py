"""nn.functional: layers, activations and losses as functions, with PyTorch's names and arguments.

Everything here is built from autograd's ops; the hot paths (linear, conv2d, max_pool2d,
cross_entropy, batch_norm, layer_norm, softplus) use the fused primitives of
autograd's op families. Integer and boolean arrays that only select or mask (targets, dropout
masks) are constants: they never enter the graph.
"""
import functools
import math
import numbers
import warnings

import numpy as np

import autograd as ag
from autograd import Tensor


__all__ = [
    "relu", "relu_", "leaky_relu", "leaky_relu_", "elu_", "prelu", "gelu", "sigmoid", "tanh", "silu", "elu", "softplus", "logsigmoid",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "selu", "celu", "mish", "softsign", "tanhshrink", "softshrink",
    "hardshrink", "threshold", "softmin", "dropout1d", "dropout2d", "dropout3d",
    "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "multi_margin_loss", "linear", "conv2d", "max_pool2d", "avg_pool2d",
    "conv1d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "interpolate",
    "dropout", "batch_norm", "layer_norm", "group_norm", "embedding", "pad", "unfold", "fold", "one_hot", "flatten",
    "smooth_l1_loss", "huber_loss", "kl_div", "cosine_similarity", "normalize",
    "scaled_dot_product_attention", "multi_head_attention_forward",
    "glu", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "instance_norm",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "cosine_embedding_loss",
    "multilabel_soft_margin_loss", "multilabel_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss", "gaussian_nll_loss",
    "poisson_nll_loss", "hardtanh_", "threshold_", "celu_", "selu_", "rms_norm", "bilinear", "gumbel_softmax",
    "affine_grid", "grid_sample", "embedding_bag", "upsample", "upsample_nearest", "upsample_bilinear",
    "max_unpool1d", "max_unpool2d", "channel_shuffle", "adaptive_max_pool1d", "lp_pool1d", "lp_pool2d",
    "local_response_norm", "alpha_dropout", "feature_alpha_dropout", "rrelu", "rrelu_", "ctc_loss", "pdist",
    "conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
    "max_unpool3d", "lp_pool3d",
]


# -- helpers -----------------------------------------------------------------------------------

def _tensor(value, like=None):
    """A Tensor from a Tensor, array or number (numbers take `like`'s dtype)."""
    if isinstance(value, Tensor):
        return value
    if like is not None and np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return ag.tensor(value, dtype=like.dtype)
    return ag.tensor(np.asarray(value))


def _promoted(input, target):
    """input and a floating target in their promoted dtype, as PyTorch's losses promote (a float32
    input with a float64 target gives a float64 loss); a non-floating target takes the input's."""
    if target.dtype.kind != "f":
        return input, target.astype(input.dtype)
    dtype = np.promote_types(input.dtype, target.dtype)
    return (input if input.dtype == dtype else input.astype(dtype)), (target if target.dtype == dtype
                                                                     else target.astype(dtype))


def _array(value):
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (use 'mean', 'sum' or 'none')")


def _check_reduction(reduction, op):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (use 'mean', 'sum' or 'none')")


def _same_shape(op, input, target):
    if input.shape != target.shape:
        raise ag.ShapeError(f"{op}: the target's shape {tuple(target.shape)} differs from the input's shape "
                         f"{tuple(input.shape)}; they must be the same")


def _check_layer_dtypes(op, input, **tensors):
    """As PyTorch, a layer does not mix dtypes: a float64 batch into a float32 model (NumPy's default
    dtype meeting PyTorch's) is an error naming both, not a silent float64 computation."""
    for name, tensor in tensors.items():
        if tensor is not None and tensor.dtype != input.dtype:
            raise ag.DTypeError(f"{op}: the input's dtype {input.dtype} does not match the {name}'s dtype "
                                f"{tensor.dtype}; convert the input (input.to({tensor.dtype})) or the model "
                                f"(model.to({input.dtype}))")


# -- activations -------------------------------------------------------------------------------

def relu(input, inplace=False):
    """max(x, 0), elementwise; with `inplace`, written into `input` (returned). As
    `torch.nn.functional.relu`."""
    return input.relu_() if inplace else ag.relu(input)


def relu_(input):
    """max(x, 0), written into `input`, which is returned. As `torch.nn.functional.relu_`."""
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x (slope taken at 0, as PyTorch); with `inplace`, written
    into `input` (returned)."""
    return _maybe_inplace("leaky_relu_", ag.leaky_relu, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu written into `input`, which is returned. As `torch.nn.functional.leaky_relu_`."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """leaky_relu with a learnable slope: one for all channels, or one per channel (dim 1)."""
    _check_layer_dtypes("prelu", input, weight=weight)
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise ag.ShapeError(f"prelu: the weight has {weight.numel()} parameters but the input of shape "
                             f"{tuple(input.shape)} has {channels} channels (dim 1); use 1 or {channels}")
        weight = weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    elif weight.ndim > input.ndim:
        weight = weight.reshape(())
    return ag.where(input.numpy() > 0, input, weight * input)


def gelu(input, approximate="none"):
    """x * Phi(x) with the exact normal CDF (erf), or PyTorch's tanh approximation."""
    if approximate == "none":
        return ag.gelu(input)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * (ag.tanh(inner) + 1) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input):
    """1 / (1 + exp(-x)), elementwise. As `torch.nn.functional.sigmoid`."""
    return ag.sigmoid(input)


def tanh(input):
    """The hyperbolic tangent, elementwise. As `torch.nn.functional.tanh`."""
    return ag.tanh(input)


def silu(input, inplace=False):
    """x * sigmoid(x), elementwise (also called swish); with `inplace`, written into `input` (returned).
    As `torch.nn.functional.silu`."""
    return _maybe_inplace("silu_", ag.silu, input, inplace)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (exp never sees a positive x, so no overflow); with
    `inplace`, written into `input` (returned)."""
    return _maybe_inplace("elu_", lambda x: ag.relu(x) + ag.expm1(ag.clamp(x, max=0)) * alpha, input, inplace)


def elu_(input, alpha=1.0):
    """elu written into `input`, which is returned. As `torch.nn.functional.elu_`."""
    return elu(input, alpha, inplace=True)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    scaled = input if beta == 1 else input * beta
    soft = ag.softplus(scaled)
    if beta != 1:
        soft = soft * (1 / beta)
    linear = scaled.numpy() > threshold
    return ag.where(linear, input, soft) if linear.any() else soft   # no where to run (and differentiate) for none


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), elementwise, without overflow. As `torch.nn.functional.logsigmoid`."""
    return -ag.softplus(-input)


def _maybe_inplace(op, function, input, inplace, *args):
    """`function(input, *args)`, written into `input` with `inplace` (the `op_` form)."""
    if inplace:
        return ag.apply_inplace(input, op, function, *args)
    return function(input, *args)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val] (gradient 0 outside the open interval, as PyTorch). As
    `torch.nn.functional.hardtanh`."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _maybe_inplace("hardtanh_", ag.hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh written into `input`, which is returned. As `torch.nn.functional.hardtanh_`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6). As `torch.nn.functional.relu6`."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid. As `torch.nn.functional.hardsigmoid`."""
    return _maybe_inplace("hardsigmoid_", lambda x: ag.hardtanh(x + 3.0, 0.0, 6.0) * (1 / 6), input, inplace)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6 (MobileNetV3's activation). As `torch.nn.functional.hardswish`."""
    return _maybe_inplace("hardswish_", ag.hardswish, input, inplace)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed constants (self-normalising networks). As
    `torch.nn.functional.selu`."""
    return _maybe_inplace("selu_", lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE, input, inplace)


def selu_(input):
    """selu written into `input`, which is returned. As `torch.nn.functional.selu_`."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). As `torch.nn.functional.celu`."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return _maybe_inplace("celu_", lambda x: ag.relu(x) + ag.expm1(ag.clamp(x, max=0) * (1 / alpha)) * alpha,
                          input, inplace)


def celu_(input, alpha=1.0):
    """celu written into `input`, which is returned. As `torch.nn.functional.celu_`."""
    return celu(input, alpha, inplace=True)


def mish(input, inplace=False):
    """x * tanh(softplus(x)). As `torch.nn.functional.mish`."""
    return _maybe_inplace("mish_", lambda x: x * ag.tanh(ag.softplus(x)), input, inplace)


def softsign(input):
    """x / (1 + |x|). As `torch.nn.functional.softsign`."""
    return input / (ag.abs(input) + 1)


def tanhshrink(input):
    """x - tanh(x). As `torch.nn.functional.tanhshrink`."""
    return input - ag.tanh(input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between. As `torch.nn.functional.softshrink`."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be at least 0, got {lambd}")
    data = input.numpy()
    return ag.where(data > lambd, input - lambd, ag.where(data < -lambd, input + lambd, input * 0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0. As `torch.nn.functional.hardshrink`."""
    return ag.where(np.abs(input.numpy()) > lambd, input, input * 0)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else `value` (NaN stays NaN, as x <= threshold is false there). As
    `torch.nn.functional.threshold`."""
    return _maybe_inplace("threshold_", lambda x: ag.where(x.numpy() <= threshold, ag.zeros_like(x) + value, x),
                          input, inplace)


def threshold_(input, threshold, value):
    """threshold written into `input`, which is returned. As `torch.nn.functional.threshold_`."""
    return _threshold(input, threshold, value, inplace=True)


_threshold = threshold   # for threshold_, whose argument `threshold` hides the function


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along `dim`. As `torch.nn.functional.softmin`."""
    return softmax(-input, dim, _stacklevel + 1, dtype)


def glu(input, dim=-1):
    """The gated linear unit a * sigmoid(b), a and b the two halves of `input` along `dim`. As
    `torch.nn.functional.glu`."""
    if input.ndim == 0:
        raise ag.ShapeError("glu: does not support scalars because halving size must be even")
    _check_dim("glu", dim, input.ndim, input.shape)
    if input.shape[dim] % 2:
        raise ag.ShapeError(f"glu: halving dimension must be even, but dimension {dim} is size {input.shape[dim]} "
                            f"(input of shape {tuple(input.shape)})")
    a, b = ag.split(input, input.shape[dim] // 2, dim)
    return a * ag.sigmoid(b)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax (concrete) distribution: softmax((logits + g) / tau) with g
    standard Gumbel noise; with `hard`, the one-hot of its argmax in the forward pass and the soft
    sample's gradient (straight-through). Draws from autograd's global generator. As
    `torch.nn.functional.gumbel_softmax`."""
    gumbels = -ag.log(ag.empty(tuple(logits.shape), dtype=logits.dtype).exponential_())
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = np.expand_dims(soft.numpy().argmax(dim), dim)
    one_hot = np.zeros(soft.shape, soft.dtype)
    np.put_along_axis(one_hot, index, 1.0, dim)
    return soft - soft.detach() + ag.from_numpy(one_hot)


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, computed in `dtype` if given. Without `dim`, warns and picks one
    as PyTorch does (0 for 0-, 1- and 3-d input, else 1). As `torch.nn.functional.softmax`."""
    if dtype is not None:
        input = input.astype(dtype)
    return ag.softmax(input, _softmax_dim("softmax", input.ndim, dim))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along `dim`, computed stably, in `dtype` if given. Without `dim`, warns and picks
    one as PyTorch does. As `torch.nn.functional.log_softmax`."""
    if dtype is not None:
        input = input.astype(dtype)
    return ag.log_softmax(input, _softmax_dim("log_softmax", input.ndim, dim))


# -- losses ------------------------------------------------------------------------------------

def _class_indices(op, input, target, weight, ignore_index):
    """For class-index targets, checked: (targets with ignored ones set to class 0, the weight of each
    target (weight[target], 0 where ignored; None when every target counts 1), the total of those
    weights (a mean's denominator), the class weights as an array or None, the ignored mask or None)."""
    class_axis = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_axis]
    expected = input.shape[:class_axis] + input.shape[class_axis + 1:]
    t = _array(target)
    if t.dtype.kind not in "iu":
        raise ag.DTypeError(f"{op}: class-index targets must be integers, got {t.dtype} (float targets are "
                        "taken as class probabilities only with the input's shape)")
    if t.shape != expected:
        raise ag.ShapeError(f"{op}: expected a target of shape {expected} for an input of shape "
                         f"{tuple(input.shape)} (classes along dim {class_axis}), got {tuple(t.shape)}")
    low, high = (np.minimum.reduce(t, axis=None), np.maximum.reduce(t, axis=None)) if t.size else (0, 0)
    ignored = t == ignore_index if low <= ignore_index <= high else None   # no pass when it cannot occur
    if ignored is not None and not ignored.any():
        ignored = None
    safe = t if ignored is None else np.where(ignored, 0, t)
    if ignored is not None:
        low, high = (np.minimum.reduce(safe, axis=None), np.maximum.reduce(safe, axis=None)) if safe.size else (0, 0)
    if low < 0 or high >= classes:
        bad = safe[(safe < 0) | (safe >= classes)].flat[0]
        raise IndexError(f"{op}: target {bad} is out of bounds for {classes} classes")
    dtype = input.dtype
    w = None if weight is None else _constant_class_weight(op, weight, classes, dtype)
    if w is None and ignored is None:   # every target counts once: the common case, kept cheap
        return safe, None, t.size, None, None
    picked = np.ones(t.shape, dtype) if w is None else np.asarray(w[safe])
    if ignored is not None:
        picked = np.where(ignored, 0, picked).astype(dtype, copy=False)
    return safe, picked, picked.sum(dtype=np.float64), w, ignored


def _class_targets(op, input, target, weight, ignore_index, label_smoothing=0.0):
    """For class-index targets: (coef, total weight) where coef has the input's shape, holds
    weight[target] at each target class (0 for ignored targets), mixed with label smoothing, and
    the total is the sum of weight[target] over the targets not ignored (a mean's denominator)."""
    safe, picked, total, w, ignored = _class_indices(op, input, target, weight, ignore_index)
    class_axis = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_axis]
    dtype = input.dtype
    coef = np.zeros(input.shape, dtype)
    values = 1 if picked is None else np.expand_dims(picked, class_axis)
    np.put_along_axis(coef, np.expand_dims(safe, class_axis), values, class_axis)
    if label_smoothing:
        smooth = (np.ones(classes, dtype) if w is None else w) * (label_smoothing / classes)
        smooth = smooth.reshape((classes,) + (1,) * (input.ndim - class_axis - 1))
        kept = np.expand_dims(~ignored, class_axis) if ignored is not None else True
        coef = coef * (1 - label_smoothing) + np.where(kept, smooth, 0).astype(dtype)
    return coef, total


def _check_class_weight(op, weight, classes):
    if tuple(np.shape(weight)) != (classes,):
        raise ag.ShapeError(f"{op}: weight must have shape ({classes},), one per class, got {tuple(np.shape(weight))}")


def _constant_class_weight(op, weight, classes, dtype):
    """The class weights as an array, for the losses that (as PyTorch's) are not differentiable in them:
    a weight that requires grad is an error there rather than a gradient silently dropped."""
    _check_class_weight(op, weight, classes)
    if isinstance(weight, Tensor) and weight.requires_grad and ag.is_grad_enabled():
        raise ag.ArgumentError(f"{op}: the class weight requires grad, but this loss is not differentiable with "
                               "respect to weight (as in PyTorch); pass weight.detach()")
    return _array(weight).astype(dtype, copy=False)


def _mean_of_nothing(zero_loss):
    """A mean over no counted targets (all ignored, or none), as PyTorch: the loss is NaN, but the
    gradient is zero, not NaN (zero_loss is the loss scaled by 0, so that gradients still flow)."""
    return zero_loss + float("nan")


def _mean_scale(total):
    """1 / total as a Python float (a NumPy float64 would promote a float32 graph)."""
    return 1.0 / float(total) if total else float("nan")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits `input` (N, C) or (N, C, d1, ...) (or (C,)) against class
    indices (N,) / (N, d1, ...) or class probabilities (the input's shape), as PyTorch: with
    `weight`, the mean divides by the summed weight of the targets; `ignore_index` targets count
    for nothing; `label_smoothing` mixes in the uniform distribution."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if input.ndim == 0:
        raise ag.ShapeError("cross_entropy: the input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    class_axis = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_axis]
    t = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f":  # class probabilities
        target = _tensor(target)
        _same_shape("cross_entropy (probability targets)", input, target)
        input, coef = _promoted(input, target)
        if label_smoothing:
            coef = coef * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:  # a Tensor weight stays in the graph: this loss is differentiable in it
            _check_class_weight("cross_entropy", weight, classes)
            w = _tensor(weight)
            w = w if w.dtype == input.dtype else w.astype(input.dtype)
            coef = coef * w.reshape((classes,) + (1,) * (input.ndim - class_axis - 1))
        scale = None if reduction == "none" else 1.0 if reduction == "sum" else \
            _mean_scale(input.numel() // classes if classes else 0)
        return ag.softmax_cross_entropy(input, coef, dim=class_axis, scale=scale)
    if label_smoothing:
        coef, total = _class_targets("cross_entropy", input, target, weight, ignore_index, label_smoothing)
        loss = functools.partial(ag.softmax_cross_entropy, input, ag.from_numpy(coef), dim=class_axis)
    else:   # an index per sample: no one-hot array as large as the logits
        safe, picked, total, _, _ = _class_indices("cross_entropy", input, target, weight, ignore_index)
        loss = functools.partial(ag.softmax_nll, input, safe, picked, dim=class_axis)
    if reduction == "mean" and not total:
        return _mean_of_nothing(loss(scale=0.0))
    return loss(scale=None if reduction == "none" else 1.0 if reduction == "sum" else _mean_scale(total))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[target] (log-probabilities), weighted; mean divides by the targets' summed weight."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    if input.ndim == 0:
        raise ag.ShapeError("nll_loss: the input must have a class dimension, got a 0-d tensor")
    safe, picked, total, _, _ = _class_indices("nll_loss", input, target, weight, ignore_index)
    loss = functools.partial(ag.nll, input, safe, picked, dim=1 if input.ndim >= 2 else 0)
    if reduction == "mean" and not total:
        return _mean_of_nothing(loss(scale=0.0))
    return loss(scale=None if reduction == "none" else 1.0 if reduction == "sum" else _mean_scale(total))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """The squared error (input - target)**2, optionally times `weight`, reduced by `reduction` ('mean',
    'sum' or 'none'). Warns when target's shape differs from input's (it is broadcast). `size_average`
    and `reduce` are PyTorch's deprecated spellings of `reduction`. As `torch.nn.functional.mse_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _warn_broadcast("mse_loss", input, target)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """The absolute error |input - target|, optionally times `weight`, reduced by `reduction` ('mean',
    'sum' or 'none'). Warns when target's shape differs from input's. As `torch.nn.functional.l1_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _warn_broadcast("l1_loss", input, target)
    loss = ag.abs(input - target)
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction, "l1_loss")


def _warn_broadcast(op, input, target):
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:   # raised here, naming the loss, rather than by the subtraction inside it
            raise ag.ShapeError(f"{op}: the target's shape {tuple(target.shape)} does not broadcast with the "
                                f"input's shape {tuple(input.shape)}") from None
        warnings.warn(f"{op}: using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y log x + (1 - y) log(1 - x)) with both logs clamped at -100, as PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _same_shape("binary_cross_entropy", input, target)
    for name, values in (("input", input), ("target", target)):
        if values.numel() and ((values.numpy() < 0).any() or (values.numpy() > 1).any()):
            raise ag.ArgumentError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1 "
                             "(for logits use binary_cross_entropy_with_logits)")
    if target.dtype.kind == "f" and target.dtype != input.dtype:   # PyTorch refuses to mix them here
        raise ag.DTypeError(f"binary_cross_entropy: the target's dtype {target.dtype} differs from the input's "
                            f"{input.dtype}; convert one (target.to({input.dtype}))")
    loss = ag.binary_cross_entropy(input, target.astype(input.dtype))
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE of sigmoid(input), computed stably from the logits:
    (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    input, target = _promoted(input, target)
    soft = ag.softplus(-input)
    if pos_weight is not None:
        soft = soft * ((_tensor(pos_weight, input) - 1) * target + 1)
    loss = (1 - target) * input + soft
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss (a linear SVM's): for each sample,
    sum over j != y of max(0, margin - x[y] + x[j])**p (times weight[y]), divided by C."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    if input.ndim not in (1, 2):
        raise ag.ShapeError(f"multi_margin_loss: expected a 1-D (C,) or 2-D (N, C) input, got shape {tuple(input.shape)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = _array(target).reshape(-1)
    classes = x.shape[1]
    if t.dtype.kind not in "iu" or t.shape != (x.shape[0],):
        raise ag.ShapeError(f"multi_margin_loss: expected {x.shape[0]} integer class targets, got shape "
                         f"{tuple(_array(target).shape)} ({_array(target).dtype})")
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise IndexError(f"multi_margin_loss: target out of bounds for {classes} classes")
    hot = np.zeros(x.shape, x.dtype)
    hot[np.arange(len(t)), t] = 1
    picked = (x * ag.from_numpy(hot)).sum(1, keepdim=True)
    z = ag.relu(x - picked + margin)
    if p == 2:
        z = z * z
    factor = (1 - hot) / classes
    if weight is not None:
        factor = factor * _constant_class_weight("multi_margin_loss", weight, classes, x.dtype)[t][:, None]
    loss = (z * ag.from_numpy(factor.astype(x.dtype, copy=False))).sum(1)
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multi_margin_loss")


# -- margin and embedding losses -----------------------------------------------------------------

def _signs(target, like):
    """A +-1 target as an array of like's dtype (it selects and scales; it is not differentiated)."""
    return _array(target).astype(like.dtype, copy=False)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), target +1 where input1 should rank higher and -1
    where input2 should. As `torch.nn.functional.margin_ranking_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == np.ndim(_array(target)):
        raise ag.ShapeError(f"margin_ranking_loss: all input tensors should have the same dimension but got sizes: "
                            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
                            f"{tuple(np.shape(_array(target)))}")
    sign = _signs(target, input1)
    return _reduce(ag.relu((input1 - input2) * ag.from_numpy(-sign) + margin), reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1 (a distance that similar pairs
    shrink and dissimilar pairs push past margin). As `torch.nn.functional.hinge_embedding_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    sign = _signs(target, input)
    loss = ag.where(sign != 1, ag.relu(margin - input), 0.0) + ag.where(sign != -1, input, 0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: per sample, the sum over its target classes j and its other classes i
    of max(0, 1 - (x[j] - x[i])), divided by C. A target row lists the sample's classes first, ended
    by -1 (or by the row's end). As `torch.nn.functional.multilabel_margin_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_margin_loss")
    labels = _array(target)
    if input.ndim not in (1, 2) or labels.shape != tuple(input.shape) or labels.dtype.kind not in "iu":
        raise ag.ShapeError(f"multilabel_margin_loss: expects a 1-D (C,) or 2-D (N, C) input and integer targets "
                            f"of its shape, got {tuple(input.shape)} and {labels.shape} ({labels.dtype})")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    labels = labels.reshape(x.shape)
    classes = x.shape[1]
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise IndexError(f"multilabel_margin_loss: a target is out of bounds for {classes} classes (-1 ends a row)")
    # a target counts up to the row's first -1
    listed = np.cumprod(labels != -1, axis=1).astype(bool)
    rows = np.arange(x.shape[0])[:, None]
    is_target = np.zeros(x.shape, bool)
    is_target[np.broadcast_to(rows, labels.shape)[listed], labels[listed]] = True
    picked = x.gather(1, ag.from_numpy(np.where(listed, labels, 0)))            # x[j] per listed target j
    margins = ag.relu(1 - picked.unsqueeze(2) + x.unsqueeze(1))                # (N, targets, C)
    pairs = (listed[:, :, None] & ~is_target[:, None, :]).astype(x.dtype)
    loss = (margins * ag.from_numpy(pairs)).sum((1, 2)) / classes
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction, "multilabel_margin_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) for +-1 targets (the logistic loss). As
    `torch.nn.functional.soft_margin_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _same_shape("soft_margin_loss", input, target)
    return _reduce(ag.softplus(-(input * target.astype(input.dtype))), reduction, "soft_margin_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1, the cosine
    taken along dim 1 (dim 0 for unbatched 1-D inputs) with PyTorch's 1e-12 added to each squared
    norm. As `torch.nn.functional.cosine_embedding_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    sign = _signs(target, input1)
    if input1.shape != input2.shape or input1.ndim not in (1, 2) or sign.shape != input1.shape[:-1]:
        raise ag.ShapeError(f"cosine_embedding_loss: expects inputs of one shape, (N, D) or (D,), and a target (N,) "
                            f"or (); got {tuple(input1.shape)}, {tuple(input2.shape)} and {sign.shape}")
    dim = input1.ndim - 1
    epsilon = 1e-12
    product = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + epsilon) * ((input2 * input2).sum(dim) + epsilon)
    cos = product / ag.sqrt(norms)
    loss = ag.where(sign == 1, 1 - cos, 0.0) + ag.where(sign == -1, ag.relu(cos - margin), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the mean over the C classes of -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) (times
    weight), for (N, C) inputs and 0/1 targets. As `torch.nn.functional.multilabel_soft_margin_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    _same_shape("multilabel_soft_margin_loss", input, target)
    target = target.astype(input.dtype)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss.mean(input.ndim - 1), reduction, "multilabel_soft_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d pairwise_distance unless given;
    with swap, d(anchor, negative) is replaced by d(positive, negative) where that is smaller. As
    `torch.nn.functional.triplet_margin_with_distance_loss`."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = ag.minimum(negative_distance, distance(positive, negative))
    return _reduce(ag.relu(positive_distance - negative_distance + margin), reduction,
                   "triplet_margin_with_distance_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + ||a - p||_p - ||a - n||_p) (pairwise_distance's norm, with eps), with the
    distance swap of Balntas et al. if `swap`. As `torch.nn.functional.triplet_margin_loss`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    dims = {anchor.ndim, positive.ndim, negative.ndim}
    if len(dims) != 1 or dims - {1, 2}:
        raise ag.ShapeError(f"triplet_margin_loss: the anchor, positive and negative must all be 1-D or all 2-D, got "
                            f"shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}")
    _check_reduction(reduction, "triplet_margin_loss")
    distance = lambda x1, x2: pairwise_distance(x1, x2, p, eps)  # noqa: E731
    positive_distance, negative_distance = distance(anchor, positive), distance(anchor, negative)
    if swap:
        negative_distance = ag.minimum(negative_distance, distance(positive, negative))
    return _reduce(ag.relu(positive_distance - negative_distance + margin), reduction, "triplet_margin_loss")


# -- connectionist temporal classification ----------------------------------------------------------

def _logsumexp3(a, b, c):
    """Elementwise log(exp(a) + exp(b) + exp(c)), -inf where all three are."""
    top = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isneginf(top), 0, top)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe))


def _ctc_sample(log_probs, labels, blank):
    """One sequence's CTC forward-backward: (-log p(labels), the gradient PyTorch's ctc_loss gives
    log_probs (T, C): exp(lp) - the posterior of each class at each step, as if lp came from a
    log_softmax)."""
    steps, classes = log_probs.shape
    extended = np.full(2 * len(labels) + 1, blank, np.int64)
    extended[1::2] = labels
    size = len(extended)
    # a label may be reached from two back when it differs from the one there (the blank between them is optional)
    skip = np.zeros(size, bool)
    skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    emissions = log_probs[:, extended]                       # (T, S')
    alpha = np.full((steps, size), -np.inf)
    alpha[0, :min(2, size)] = emissions[0, :min(2, size)]
    for t in range(1, steps):
        previous = alpha[t - 1]
        one_back = np.concatenate([[-np.inf], previous[:-1]])
        two_back = np.where(skip, np.concatenate([[-np.inf, -np.inf], previous[:-2]]), -np.inf)
        alpha[t] = _logsumexp3(previous, one_back, two_back) + emissions[t]
    beta = np.full((steps, size), -np.inf)
    beta[-1, max(size - 2, 0):] = emissions[-1, max(size - 2, 0):]
    skip_ahead = np.concatenate([skip[2:], [False, False]])    # s + 2 may be reached from s
    for t in range(steps - 2, -1, -1):
        following = beta[t + 1]
        one_ahead = np.concatenate([following[1:], [-np.inf]])
        two_ahead = np.where(skip_ahead, np.concatenate([following[2:], [-np.inf, -np.inf]]), -np.inf)
        beta[t] = _logsumexp3(following, one_ahead, two_ahead) + emissions[t]
    ends = alpha[-1, max(size - 2, 0):]
    nll = -np.logaddexp.reduce(ends)
    occupancy = np.full((steps, classes), -np.inf)
    both_ways = alpha + beta                                  # counts each emission twice
    for s, label in enumerate(extended):
        occupancy[:, label] = np.logaddexp(occupancy[:, label], both_ways[:, s])
    with np.errstate(invalid="ignore", over="ignore"):
        grad = np.exp(log_probs) - np.exp(occupancy + nll - log_probs)
    return nll, grad


class _CTCLoss(ag.Function):
    """Per-sample CTC negative log-likelihoods (N,) of log_probs (T, N, C); the backward is PyTorch's
    (exp(lp) minus the class posteriors), computed in NumPy with the forward."""

    @staticmethod
    def forward(ctx, log_probs, labels, input_lengths, blank, zero_infinity):
        lp = log_probs.numpy().astype(np.float64)
        losses = np.zeros(lp.shape[1])
        grads = np.zeros(lp.shape)
        for n, (sequence, length) in enumerate(zip(labels, input_lengths)):
            losses[n], grads[:length, n] = _ctc_sample(lp[:length, n], sequence, blank)
            if zero_infinity and np.isinf(losses[n]):
                losses[n], grads[:, n] = 0.0, 0.0
        ctx.grads = grads.astype(log_probs.dtype)
        return losses.astype(log_probs.dtype)

    @staticmethod
    @ag.function.once_differentiable
    def backward(ctx, grad):
        return ctx.grads * grad.numpy()[None, :, None], None, None, None, None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: -log of the probability, summed over every alignment,
    that log_probs (T, N, C) (or (T, C) unbatched) spell the targets (padded (N, S) or concatenated
    1-D, with target_lengths; never containing `blank`) over input_lengths steps. 'mean' divides each
    loss by its target length, then averages; zero_infinity zeroes impossible alignments' losses and
    gradients. The gradient is PyTorch's (meant for log_softmax outputs). As
    `torch.nn.functional.ctc_loss`."""
    op = "ctc_loss"
    _check_reduction(reduction, op)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ag.ShapeError(f"{op}: expects log_probs of shape (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    steps, batch, classes = log_probs.shape
    inputs = np.atleast_1d(_array(input_lengths)).astype(np.int64)
    lengths = np.atleast_1d(_array(target_lengths)).astype(np.int64)
    flat = _array(targets).astype(np.int64)
    if unbatched and flat.ndim == 1 and lengths.size == 1 and flat.size != lengths[0]:
        flat = flat[:lengths[0]]
    if inputs.shape != (batch,) or lengths.shape != (batch,):
        raise ag.ShapeError(f"{op}: expected input_lengths and target_lengths of size {batch} (the batch), got "
                            f"{inputs.shape} and {lengths.shape}")
    if (inputs > steps).any() or (inputs < 0).any():
        raise ValueError(f"{op}: input_lengths must lie in [0, {steps}] (the time steps of log_probs), got "
                         f"{inputs.tolist()}")
    if flat.ndim == 2 or unbatched and flat.ndim == 1 and flat.size == lengths[0]:
        padded = flat.reshape(batch, -1)
        if (lengths > padded.shape[1]).any():
            raise ValueError(f"{op}: target_lengths {lengths.tolist()} exceed the padded targets' length "
                             f"{padded.shape[1]}")
        labels = [padded[n, :lengths[n]] for n in range(batch)]
    else:
        if lengths.sum() != flat.size:
            raise ValueError(f"{op}: concatenated targets have {flat.size} labels but target_lengths sum to "
                             f"{lengths.sum()}")
        labels = np.split(flat, np.cumsum(lengths)[:-1])
    if any(((label < 0) | (label >= classes) | (label == blank)).any() for label in labels):
        raise ValueError(f"{op}: targets must be class indices in [0, {classes}) other than the blank {blank}")
    losses = _CTCLoss.apply(log_probs, labels, inputs, blank, zero_infinity)
    if reduction == "none":
        return losses.squeeze(0) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    return (losses / ag.from_numpy(np.maximum(lengths, 1).astype(losses.dtype))).mean()


# -- regression and distribution losses, similarity and normalisation ------------------------------

def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of target under N(input, var): 0.5 (log var + (input - target)**2 /
    var) (+ 0.5 log(2 pi) with `full`). var has input's shape, or one dim fewer, or a last dim of 1;
    it is clamped at eps in value only (the gradient passes as if unclamped), as PyTorch. As
    `torch.nn.functional.gaussian_nll_loss`."""
    _check_reduction(reduction, "gaussian_nll_loss")
    var = _tensor(var, input)
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1:] == (1,)):
            raise ag.ShapeError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for an input of "
                                f"shape {tuple(input.shape)} (use the input's shape, one dim fewer, or a last dim "
                                "of 1)")
    if (var.numpy() < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    small = var.numpy() < eps
    if small.any():
        var = var + ag.from_numpy(np.where(small, eps - var.numpy(), 0).astype(var.dtype))
    diff = input - _tensor(target, input)
    loss = (ag.log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """The negative log-likelihood of target under Poisson(rate): exp(input) - target * input with
    log_input (input is the log-rate), else input - target * log(input + eps); with `full`, Stirling's
    approximation of log(target!) where target > 1. As `torch.nn.functional.poisson_nll_loss`, except
    that with `full` a zero target's own gradient is finite (PyTorch's is NaN, from 0 * log 0)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    target = _tensor(target, input)
    if log_input:
        loss = ag.exp(input) - target * input
    else:
        loss = input - target * ag.log(input + eps)
    if full:
        counted = target.numpy() > 1
        safe = ag.where(counted, target, 1.0)   # keeps the log's gradient finite where the term is masked
        stirling = safe * ag.log(safe) - safe + ag.log(safe * (2 * math.pi)) * 0.5
        loss = loss + ag.where(counted, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def _smooth_abs(diff, width):
    """|d| made quadratic near 0: d**2 / (2 width) where |d| < width, else |d| - width / 2. Both pieces
    have slope sign(d) at |d| = width, and the second derivative is 1 / width strictly inside (as
    PyTorch's smooth_l1 and huber double backward)."""
    size = ag.abs(diff)
    return ag.where(size.numpy() < width, diff * diff * (0.5 / width), size - 0.5 * width)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target; beta = 0 is the L1 loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "smooth_l1_loss")
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0 (negative values are not supported), got {beta}")
    target = _tensor(target, input)
    _warn_broadcast("smooth_l1_loss", input, target)
    diff = input - target
    loss = ag.abs(diff) if beta == 0 else _smooth_abs(diff, beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta): delta times smooth_l1 with beta = delta."""
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0 (non-positive values are not supported), got {delta}")
    target = _tensor(target, input)
    _warn_broadcast("huber_loss", input, target)
    loss = _smooth_abs(input - target, delta) * delta
    if weight is not None:
        weight = _tensor(weight, input)
        if weight.shape != input.shape:
            raise ag.ShapeError(f"huber_loss: the weight's shape {tuple(weight.shape)} differs from the input's "
                             f"shape {tuple(input.shape)}; they must be the same")
        loss = loss * weight
    return _reduce(loss, reduction, "huber_loss")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence of `target` from the log-probabilities `input`:
    target * (log(target) - input), 0 where target is 0 (exp(target) * (target - input) with log_target).
    'batchmean' divides the sum by the batch size input.shape[0] (the true KL divergence per sample);
    'mean' divides by the number of elements, and warns as PyTorch does.

    Where target is 0 its own gradient is taken as -input (the t log t term contributes 0); PyTorch
    gives NaN there (t log t has slope -inf at 0)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size and the support "
                      "size. 'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition. 'mean' will be changed to behave the same as 'batchmean' in the next major "
                      "release (of PyTorch).", stacklevel=2)
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction (use 'mean', 'batchmean', "
                         "'sum' or 'none')")
    target = _tensor(target, input)
    if log_target:
        loss = ag.exp(target) * (target - input)
    else:
        zero = target.numpy() == 0
        with np.errstate(invalid="ignore"):  # a negative target gives NaN, silently, as in PyTorch
            target_log_target = target * ag.log(ag.where(zero, 1, target) if zero.any() else target)
        loss = target_log_target - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction, "kl_div")


def _broadcast_pair(op, x1, x2):
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ag.ShapeError(f"{op}: the shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not broadcast") from None
    return (x1 if x1.shape == shape else x1.broadcast_to(shape)), (x2 if x2.shape == shape else x2.broadcast_to(shape))


def _check_dim(op, dim, ndim, shape):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for the {ndim}-d shape {tuple(shape)} "
                         f"(expected a dim in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps)) along `dim`, after broadcasting x1 with x2.

    As PyTorch, each vector is divided by its clamped norm before the product (so the result stays
    in [-1, 1]), and the clamp bounds only the value: the gradient flows through each norm as if it
    were unclamped."""
    x1, x2 = _broadcast_pair("cosine_similarity", x1, x2)
    _check_dim("cosine_similarity", dim, x1.ndim, x1.shape)

    def norm_clamped_in_value(x):
        norm = x.norm(2, dim, keepdim=True)
        small = norm.numpy() < eps
        if not small.any():
            return norm
        return ag.where(small, norm - norm.detach() + eps, norm)

    return ((x1 / norm_clamped_in_value(x1)) * (x2 / norm_clamped_in_value(x2))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps along the last dim, after broadcasting x1 with x2 (eps keeps the
    norm's gradient finite where x1 == x2). As `torch.nn.functional.pairwise_distance`."""
    x1, x2 = _broadcast_pair("pairwise_distance", x1, x2)
    if x1.ndim == 0:
        raise ag.ShapeError("pairwise_distance: expects inputs of at least 1 dim, got two 0-d tensors")
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along `dim`; where the norm is below eps the denominator is the
    constant eps (no gradient through the norm there), as PyTorch."""
    if out is not None:
        raise ag.ArgumentError("normalize: out= is not supported (tensors are not written in place); use the result")
    _check_dim("normalize", dim, input.ndim, input.shape)
    return input / ag.clamp(input.norm(p, dim, keepdim=True), min=eps)


# -- layers ------------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias, for input of shape (*, in_features) and weight (out_features,
    in_features): shape (*, out_features). As PyTorch, a 1-D weight (in_features,) gives input @
    weight, shape (*), and takes no bias but a 0-d one (and none at all with a 2-D input); a bias
    of another shape than (out_features,) must broadcast to the output's shape."""
    if weight.ndim == 2 and input.dtype == weight.dtype and (bias is None or bias.shape == weight.shape[:1]
                                                             and bias.dtype == weight.dtype):
        return ag.linear(input, weight, bias)   # the common case: ag.linear checks the input
    _check_layer_dtypes("linear", input, weight=weight, bias=bias)
    shapes = f"input {tuple(input.shape)}, weight {tuple(weight.shape)}" + \
        ("" if bias is None else f", bias {tuple(bias.shape)}")
    if input.ndim == 0 or weight.ndim not in (1, 2):
        raise ag.ShapeError(f"linear: needs an input of at least 1 dim and a 1-D or 2-D weight, got {shapes}")
    if input.shape[-1] != weight.shape[-1]:
        raise ag.ShapeError(f"linear: the input's last dim must equal the weight's in_features "
                            f"({weight.shape[-1]}), got {shapes}")
    if weight.ndim == 2:
        if input.ndim == 1:   # PyTorch takes it as one row, then drops the row dim: a (1, out) bias fits
            return linear(input.unsqueeze(0), weight, bias).squeeze(0)
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        try:
            fits = np.broadcast_shapes(out_shape, tuple(bias.shape)) == out_shape
        except ValueError:
            fits = False
        if not fits:
            raise ag.ShapeError(f"linear: the bias must broadcast to the output's shape {out_shape}, got {shapes}")
        return ag.linear(input, weight) + bias   # ag.linear's bias gradient is for a (out_features,) bias
    if bias is not None and (bias.ndim != 0 or input.ndim == 2):
        raise ag.ShapeError(f"linear: a 1-D weight takes no bias but a 0-d one, and none with a 2-D input (as "
                            f"PyTorch); got {shapes}. Add the bias to the result instead")
    out = ag.linear(input, weight.unsqueeze(0)).squeeze(-1)
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1^T weight_k input2 + bias_k, for inputs (*, in1) and (*, in2) and weight (out, in1,
    in2). As `torch.nn.functional.bilinear`."""
    _check_layer_dtypes("bilinear", input1, input2=input2, weight=weight, bias=bias)
    if weight.ndim != 3 or input1.shape[-1:] != weight.shape[1:2] or input2.shape[-1:] != weight.shape[2:3] \
            or input1.shape[:-1] != input2.shape[:-1]:
        raise ag.ShapeError(f"bilinear: expects inputs (*, in1) and (*, in2) with the same leading dims and a "
                            f"weight (out, in1, in2); got {tuple(input1.shape)}, {tuple(input2.shape)} and "
                            f"{tuple(weight.shape)}")
    out = ag.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of
    pixels (sub-pixel convolution). As `torch.nn.functional.pixel_shuffle`."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ag.ShapeError(f"pixel_shuffle: expects input to have at least 3 dimensions, but got input of shape "
                            f"{tuple(input.shape)}")
    *lead, channels, height, width = input.shape
    if r <= 0 or channels % (r * r):
        raise ag.ShapeError(f"pixel_shuffle: the channels {channels} (dim -3 of shape {tuple(input.shape)}) must be "
                            f"divisible by the square of upscale_factor {upscale_factor}")
    n = len(lead)
    out = input.reshape(*lead, channels // (r * r), r, r, height, width)
    out = out.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return out.reshape(*lead, channels // (r * r), height * r, width * r)


def channel_shuffle(input, groups):
    """(N, g * k, *) -> channels interleaved across the g groups: channel i * k + j goes to j * g + i
    (ShuffleNet). As `torch.nn.functional.channel_shuffle`."""
    if input.ndim < 3:
        raise ag.ShapeError(f"channel_shuffle: expects an input of at least 3 dims (N, C, *), got shape "
                            f"{tuple(input.shape)}")
    channels = input.shape[1]
    if groups <= 0 or channels % groups:
        raise ag.ShapeError(f"channel_shuffle: number of channels must be divisible by groups. Got {channels} channels "
                            f"and {groups} groups")
    batch, rest = input.shape[0], tuple(input.shape[2:])
    grouped = input.reshape(batch, groups, channels // groups, *rest)
    return grouped.transpose(1, 2).reshape(batch, channels, *rest)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W). As
    `torch.nn.functional.pixel_unshuffle`."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ag.ShapeError(f"pixel_unshuffle: expects input to have at least 3 dimensions, but got input of shape "
                            f"{tuple(input.shape)}")
    *lead, channels, height, width = input.shape
    if r <= 0 or height % r or width % r:
        raise ag.ShapeError(f"pixel_unshuffle: the height and width of the input of shape {tuple(input.shape)} must "
                            f"be divisible by downscale_factor {downscale_factor}")
    n = len(lead)
    out = input.reshape(*lead, channels, height // r, r, width // r, r)
    out = out.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return out.reshape(*lead, channels * r * r, height // r, width // r)


# Convolution and pooling are autograd's, which has them with PyTorch's signatures.
def _dtype_checked(convolution):
    """autograd's convolution `convolution`, refusing an input whose dtype is not the weight's."""
    @functools.wraps(convolution)
    def checked(input, weight, bias=None, *args, **kwargs):
        _check_layer_dtypes(convolution.__name__, input, weight=weight, bias=bias)
        return convolution(input, weight, bias, *args, **kwargs)
    return checked


conv1d = _dtype_checked(ag.conv1d)
conv2d = _dtype_checked(ag.conv2d)
conv3d = _dtype_checked(ag.conv3d)
conv_transpose1d = _dtype_checked(ag.conv_transpose1d)
conv_transpose2d = _dtype_checked(ag.conv_transpose2d)
conv_transpose3d = _dtype_checked(ag.conv_transpose3d)
max_pool1d = ag.max_pool1d
pdist = ag.pdist   # torch.nn.functional.pdist is torch.pdist
max_pool2d = ag.max_pool2d
max_pool3d = ag.max_pool3d
avg_pool1d = ag.avg_pool1d
avg_pool2d = ag.avg_pool2d
avg_pool3d = ag.avg_pool3d
adaptive_avg_pool1d = ag.adaptive_avg_pool1d
adaptive_avg_pool2d = ag.adaptive_avg_pool2d
adaptive_avg_pool3d = ag.adaptive_avg_pool3d
adaptive_max_pool2d = ag.adaptive_max_pool2d
adaptive_max_pool3d = ag.adaptive_max_pool3d


_INTERPOLATING_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}   # mode -> spatial dims


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The max over each of PyTorch's adaptive windows along the last axis of (N, C, L) or (C, L)
    (adaptive_max_pool2d on a unit height); return_indices adds each maximum's index. As
    `torch.nn.functional.adaptive_max_pool1d`."""
    if input.ndim not in (2, 3):
        raise ag.ShapeError(f"adaptive_max_pool1d: expects a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                            f"{tuple(input.shape)}")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), ag.from_numpy(_array(out[1]).squeeze(-2))
    return out.squeeze(-2)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x**p)**(1/p): the power-average pooling of PyTorch (p = norm_type; a
    window summing to a negative value gives 0). As `torch.nn.functional.lp_pool2d`."""
    return _lp_pool("lp_pool2d", avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """lp_pool2d over the (D, H, W) windows of (N, C, D, H, W) or (C, D, H, W). As
    `torch.nn.functional.lp_pool3d`."""
    return _lp_pool("lp_pool3d", avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


def _lp_pool(op, avg_pool, input, norm_type, kernel_size, stride, ceil_mode, dims):
    kernel = _per_dim(kernel_size, dims, "kernel_size", int, op)
    out = avg_pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (ag.relu(out) * math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """lp_pool2d along the last axis of (N, C, L) or (C, L). As `torch.nn.functional.lp_pool1d`."""
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (ag.relu(out) * int(kernel_size)).pow(1.0 / norm_type)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x**2 over `size` neighbouring channels)**beta, the window zero-padded
    at the ends (AlexNet's normalisation across channels). As `torch.nn.functional.local_response_norm`."""
    if input.ndim < 3:
        raise ag.ShapeError(f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim} "
                            f"dimensions, shape {tuple(input.shape)})")
    if input.numel() == 0:
        return input
    batch, channels = input.shape[:2]
    squares = (input * input).reshape(batch, 1, channels, -1)
    squares = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(squares, (size, 1), stride=1).reshape(input.shape)
    return input / (div * alpha + k).pow(beta)


def _max_unpool(op, input, indices, kernel_size, stride, padding, output_size, dims):
    """Each value of input (N, C, *spatial) placed at its flat index (as max_pool returns them) in
    a zero output of the pooling's input size; the rest of the output is zero."""
    kernel = _per_dim(kernel_size, dims, "kernel_size", int, op)
    stride = kernel if stride is None else _per_dim(stride, dims, "stride", int, op)
    padding = _per_dim(padding, dims, "padding", int, op)
    index = _array(indices)
    if input.ndim not in (dims + 1, dims + 2) or index.shape != tuple(input.shape):
        raise ag.ShapeError(f"{op}: expects a {dims + 1}-D or {dims + 2}-D input and indices of its shape, got "
                            f"{tuple(input.shape)} and {index.shape}")
    if index.dtype.kind not in "iu":
        raise ag.DTypeError(f"{op}: indices must be integers (max_pool's return_indices), got {index.dtype}")
    spatial = tuple(input.shape[-dims:])
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(spatial, stride, padding, kernel))
    size = default if output_size is None else tuple(int(n) for n in tuple(output_size)[-dims:])
    planes = int(np.prod(size))
    if index.size and (index.min() < 0 or index.max() >= planes):
        raise IndexError(f"{op}: found an invalid max index {index.max() if index.max() >= planes else index.min()} "
                         f"for an output of size {size} (max_pool's indices for this output size?)")
    lead = tuple(input.shape[:-dims])
    values, flat_index = input.reshape(*lead, -1), index.reshape(*lead, -1)
    out = ag.zeros(lead + (planes,), dtype=input.dtype).scatter_add(-1, ag.from_numpy(flat_index), values)
    if flat_index.shape[-1] > 1 and (np.diff(np.sort(flat_index, -1), axis=-1) == 0).any():
        # overlapping windows share a maximum: PyTorch writes it once, but each copy's gradient is the
        # output's gradient at its index (a gather), which is the gradient of the sum above
        written = np.zeros(out.shape, input.dtype)
        np.put_along_axis(written, flat_index, values.numpy(), -1)
        out = out + (ag.from_numpy(written) - out).detach()
    return out.reshape(*lead, *size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: (N, C, L) values at their indices, zeros elsewhere. As
    `torch.nn.functional.max_unpool1d`."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d (SegNet's decoder): (N, C, H, W) values at their indices,
    zeros elsewhere. As `torch.nn.functional.max_unpool2d`."""
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: (N, C, D, H, W) values at their indices, zeros elsewhere.
    As `torch.nn.functional.max_unpool3d`."""
    return _max_unpool("max_unpool3d", input, indices, kernel_size, stride, padding, output_size, 3)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, as PyTorch:
    'nearest' (output i reads input floor(i * scale)), 'nearest-exact' (floor((i + 0.5) * scale)),
    'area' (adaptive average pooling), or the interpolating 'linear' / 'bilinear' / 'trilinear' and
    'bicubic' (PyTorch's cubic convolution, a = -0.75, edges clamped). Every mode but nearest is
    separable: a product with one matrix per axis, so its derivatives are products again. size, or
    scale_factor (the output size is floor(size * factor)); the scale used is 1/scale_factor unless
    recompute_scale_factor, as PyTorch."""
    dims = input.ndim - 2
    if dims not in (1, 2, 3):
        raise ag.ShapeError(f"interpolate: expects a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, "
                            f"got shape {tuple(input.shape)}")
    if mode not in ("nearest", "nearest-exact", "area") + tuple(_INTERPOLATING_MODES):
        raise ValueError(f"interpolate: mode {mode!r} is not supported (use 'nearest', 'nearest-exact', 'area', "
                         "'linear', 'bilinear', 'bicubic' or 'trilinear')")
    if mode in _INTERPOLATING_MODES and _INTERPOLATING_MODES[mode] != dims:
        raise ValueError(f"interpolate: got {input.ndim}D input, but {mode} mode needs "
                         f"{_INTERPOLATING_MODES[mode] + 2}D input (shape {tuple(input.shape)})")
    if mode not in _INTERPOLATING_MODES and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias and (mode not in ("bilinear", "bicubic") or dims != 2):
        raise ValueError(f"interpolate: anti-alias option is restricted to bilinear and bicubic modes and requires a "
                         f"4-D tensor as input (got mode {mode!r}, shape {tuple(input.shape)})")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        sizes = _per_dim(size, dims, "size", int)
        scales = (None,) * dims
    else:
        factors = _per_dim(scale_factor, dims, "scale_factor", float)
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        scales = (None,) * dims if recompute_scale_factor or mode == "area" else factors
    if min(sizes) <= 0:
        raise ValueError(f"interpolate: the output size {sizes} must be positive")
    out = input
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        # PyTorch's 2-D nearest kernel copies (or doubles) an axis whose size stays (or doubles) whatever
        # the scale factor; its 1-D and 3-D kernels and nearest-exact always apply the scale
        shortcuts = dims == 2 and not exact
        sources = [_nearest_sources(n, m, scale, exact, shortcuts) for n, m, scale in zip(in_sizes, sizes, scales)]
        factors = [m // n for n, m in zip(in_sizes, sizes)]
        # all factors 1 would make _repeat_each a view of the input: index_select's copy below instead
        if max(factors) > 1 and all(m == k * n and np.array_equal(source, np.arange(m) // k)
                                    for n, m, k, source in zip(in_sizes, sizes, factors, sources)):
            return _repeat_each(input, factors)
    for axis, (n, m, scale) in enumerate(zip(in_sizes, sizes, scales), 2):
        if mode in ("nearest", "nearest-exact"):
            out = out.index_select(axis, ag.from_numpy(sources[axis - 2]))
            continue
        if mode == "area":
            weights = _area_weights(n, m, input.dtype)
        elif antialias:
            weights = _antialiased_weights(n, m, scale, bool(align_corners), mode == "bicubic", input.dtype)
        elif mode == "bicubic":
            weights = _cubic_weights(n, m, scale, bool(align_corners), input.dtype)
        else:
            weights = _linear_weights(n, m, scale, bool(align_corners), input.dtype)
        out = _along_axis(ag.from_numpy(weights), out, axis)
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's deprecated name for interpolate (it warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """PyTorch's deprecated interpolate(mode='nearest') (it warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """PyTorch's deprecated interpolate(mode='bilinear', align_corners=True) (it warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _along_axis(weights, x, axis):
    """weights (m, n) applied to dim `axis` of x (of size n): the same dim, of size m."""
    if axis == x.ndim - 2:
        return weights @ x
    if axis == x.ndim - 1:
        return x @ weights.mT
    return (x.movedim(axis, -1) @ weights.mT).movedim(-1, axis)


def _default_align_corners(op, align_corners):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0 "
                      f"(of PyTorch). Please specify align_corners=True if the old behavior is desired ({op})",
                      stacklevel=3)
        return False
    return align_corners


def _grid_coordinates(size, align_corners, dtype):
    """The normalised [-1, 1] coordinates of `size` pixels: with align_corners, evenly from -1 to 1;
    without, those times (size - 1) / size (the pixel centres). Rounded as PyTorch's CPU linspace
    (a fused multiply-add from each end), so that a grid point that should land on a pixel centre
    lands exactly where PyTorch's does: grid_sample's gradient jumps there."""
    dtype = np.dtype(dtype)
    if size <= 1:
        return np.zeros(size, dtype)
    wide = np.longdouble if dtype == np.float64 else np.float64   # exact products, one rounding
    step = wide(dtype.type(2) / dtype.type(size - 1))
    index = np.arange(size)
    from_start = -1 + step * index.astype(wide)
    from_end = 1 - step * (size - 1 - index).astype(wide)
    coordinates = np.where(index < size // 2, from_start, from_end).astype(dtype)
    return coordinates if align_corners else coordinates * dtype.type(size - 1) / dtype.type(size)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps theta for an output of `size`, for grid_sample: 2-D,
    theta (N, 2, 3) and size (N, C, H, W) give (N, H, W, 2); 3-D, theta (N, 3, 4) and size
    (N, C, D, H, W) give (N, D, H, W, 3): each output pixel's normalised (x, y[, z]) mapped by
    theta. Differentiable in theta (a spatial transformer learns it). As
    `torch.nn.functional.affine_grid`."""
    align_corners = _default_align_corners("affine_grid", align_corners)
    size = tuple(int(n) for n in size)
    dims = len(size) - 2
    if dims not in (2, 3) or theta.ndim != 3 or tuple(theta.shape) != (size[0], dims, dims + 1):
        raise ag.ShapeError(f"affine_grid: expects theta of shape (N, 2, 3) with a size (N, C, H, W), or theta of "
                            f"shape (N, 3, 4) with a size (N, C, D, H, W); got theta {tuple(theta.shape)} and "
                            f"size {size}")
    if theta.dtype.kind != "f":
        raise ag.DTypeError(f"affine_grid: expected theta to have a floating point type, got {theta.dtype}")
    spatial = size[2:]
    base = np.ones(spatial + (dims + 1,), theta.dtype)
    for k, axis in enumerate(reversed(range(dims))):    # (x, y, z) run along the last, middle, first spatial axes
        base[..., k] = _grid_coordinates(spatial[axis], align_corners, theta.dtype).reshape(
            (-1,) + (1,) * (dims - 1 - axis))
    axes = "dhw"[-dims:]
    return ag.einsum(f"{axes}k,nik->n{axes}i", ag.from_numpy(base), theta)


def _unnormalized_position(coordinate, size, align_corners):
    """grid_sample's pixel position for normalised coordinates (a Tensor): -1 and 1 are the corner
    pixels' centres (align_corners) or their outer edges."""
    if align_corners:
        return (coordinate + 1) * ((size - 1) / 2)
    shifted = coordinate + 1
    position = shifted * (size / 2) - 0.5
    # PyTorch's CPU kernel fuses this multiply-subtract (one rounding): a grid point meant for a
    # pixel centre must land on the same side of it, as the gradient jumps there
    wide = np.longdouble if position.dtype == np.float64 else np.float64
    fused = (shifted.numpy().astype(wide) * wide(size / 2) - wide(0.5)).astype(position.dtype)
    correction = fused - position.numpy()
    return position + ag.from_numpy(correction) if correction.any() else position


def _padded_position(position, size, padding_mode, align_corners):
    """A pixel position (a Tensor) after border or reflection padding (PyTorch's formulas:
    reflection about the edges, or the pixel centres' outer bounds, then clamped); unchanged for
    zero padding, where reads outside the input give 0."""
    if padding_mode == "reflection":
        low, span = (0.0, size - 1.0) if align_corners else (-0.5, float(size))
        if span <= 0:
            return position * 0.0
        distance = ag.abs(position - low)
        flips = np.floor(distance.numpy() / span)
        extra = distance - ag.from_numpy((flips * span).astype(distance.dtype))
        position = ag.where(flips % 2 == 0, extra + low, (span + low) - extra)
    if padding_mode in ("border", "reflection"):
        position = ag.clamp(position, 0, size - 1)
    return position


def _grid_sample_taps(coordinate, size, mode, padding_mode, align_corners):
    """Along one spatial axis: the (index array, weight Tensor or None) pairs whose weighted sum of
    reads is the sample: the nearest pixel (no weight), the two linear neighbours, or bicubic's four
    (PyTorch's cubic convolution, A = -0.75, on the unpadded position; then each neighbour's index
    padded as the position would be)."""
    if mode == "bicubic":
        position = _unnormalized_position(coordinate, size, align_corners)
        first = np.floor(position.numpy())
        weights = _cubic_taps((position - ag.from_numpy(first)).unsqueeze(-1))
        taps = []
        for offset, weight in zip((-1, 0, 1, 2), weights):
            index = ag.from_numpy(first + offset)
            if padding_mode != "zeros":
                index = _padded_position(index, size, padding_mode, align_corners)
            taps.append((np.rint(index.numpy()).astype(np.int64), weight))
        return taps
    position = _padded_position(_unnormalized_position(coordinate, size, align_corners), size, padding_mode,
                                align_corners)
    if mode == "nearest":
        return [(np.rint(position.numpy()).astype(np.int64), None)]
    first = np.floor(position.numpy())
    upper = (position - ag.from_numpy(first)).unsqueeze(-1)
    first = first.astype(np.int64)
    return [(first, 1 - upper), (first + 1, upper)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample the (N, C, H, W) input at the normalised positions of grid (N, H_out, W_out, 2) ((x, y)
    in [-1, 1]; outside, padding_mode 'zeros', 'border' or 'reflection' says what is read), bilinearly,
    bicubically or at the nearest pixel: (N, C, H_out, W_out); or the (N, C, D, H, W) input at grid
    (N, D_out, H_out, W_out, 3) ((x, y, z)), trilinearly ('bilinear') or at the nearest pixel.
    Differentiable in input and grid (whose gradient is zero in 'nearest' mode, as PyTorch's). As
    `torch.nn.functional.grid_sample`."""
    align_corners = _default_align_corners("grid_sample", align_corners)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    dims = input.ndim - 2
    if dims not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != dims or grid.shape[0] != input.shape[0]:
        raise ag.ShapeError(f"grid_sample: expects a 4-D input (N, C, H, W) with a grid (N, H_out, W_out, 2), or a "
                            f"5-D input (N, C, D, H, W) with a grid (N, D_out, H_out, W_out, 3); got input "
                            f"{tuple(input.shape)} and grid {tuple(grid.shape)}")
    if mode == "bicubic" and dims == 3:
        raise ValueError(f"grid_sample: bicubic interpolation only supports 4-D input, got input {tuple(input.shape)}")
    if grid.dtype != input.dtype:
        raise ag.DTypeError(f"grid_sample: expected input and grid to have the same dtype, got {input.dtype} and "
                            f"{grid.dtype}")
    spatial = input.shape[2:]
    # the grid's last dim is (x, y[, z]): x runs along the last spatial axis
    taps = [_grid_sample_taps(grid[..., dims - 1 - axis], size, mode, padding_mode, align_corners)
            for axis, size in enumerate(spatial)]
    samples = np.arange(input.shape[0]).reshape((-1,) + (1,) * dims)

    def read(indices):
        """input at integer indices (one (N, *out) array per spatial axis): (N, *out, C), 0 outside."""
        inside = np.logical_and.reduce([(index >= 0) & (index < size) for index, size in zip(indices, spatial)])
        values = input[(samples, slice(None)) + tuple(np.clip(index, 0, size - 1)
                                                      for index, size in zip(indices, spatial))]
        return values if inside.all() else values * ag.from_numpy(inside[..., None].astype(input.dtype))

    def combine(indices):
        """The taps of the next axis, each a sample over the axes after it, weighted and added."""
        if len(indices) == dims:
            return read(indices)
        total = None
        for index, weight in taps[len(indices)]:
            term = combine(indices + [index])
            term = term if weight is None else term * weight
            total = term if total is None else total + term
        return total

    out = combine([])
    if mode == "nearest" and grid.requires_grad and ag.is_grad_enabled():
        # as PyTorch, the grid gets a zero gradient rather than none: a where that never picks it
        out = ag.where(np.ones(out.shape, bool), out, grid[..., :1])
    return out.permute(0, dims + 1, *range(1, dims + 1))


def _repeat_each(input, factors):
    """Each element of the spatial dims repeated factors[i] times along dim i + 2 (nearest upsampling by
    whole factors): a broadcast and a reshape, so the gradient sums each block back in one reduction
    instead of an index_select's scatter."""
    lead, spatial = tuple(input.shape[:2]), tuple(input.shape[2:])
    spread = lead + tuple(x for n in spatial for x in (n, 1))
    repeated = lead + tuple(x for n, k in zip(spatial, factors) for x in (n, k))
    return input.reshape(spread).expand(*repeated).reshape(lead + tuple(n * k for n, k in zip(spatial, factors)))


def _per_dim(value, dims, name, kind, op="interpolate"):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims:
        raise ValueError(f"{op}: {name} must have {dims} elements for a {dims + 2}-D input, got {value!r}")
    return tuple(kind(v) for v in values)


def _nearest_sources(size, out, scale, exact=False, shortcuts=False):
    """PyTorch's 'nearest' (or 'nearest-exact', from the pixel centres) source index of each output
    position (computed in float32, as PyTorch); with `shortcuts`, an unchanged or doubled size copies
    or repeats each input whatever the scale (PyTorch's 2-D nearest kernel)."""
    if out == size and (shortcuts or not scale):
        return np.arange(out)
    if out == 2 * size and shortcuts:
        return np.arange(out) // 2
    step = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
    position = np.arange(out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(position * step).astype(np.int64), size - 1)


def _area_weights(size, out, dtype):
    """(out, size): output i averages inputs floor(i size / out) to ceil((i + 1) size / out), as
    adaptive average pooling."""
    matrix = np.zeros((out, size), dtype)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _source_positions(size, out, scale, align_corners, dtype):
    """Where each of `out` outputs samples an axis of `size` inputs (PyTorch's rule, in `dtype`): the
    corners aligned, or the pixel centres scaled by 1/scale (size/out if no scale is given)."""
    position = np.arange(out, dtype=dtype)
    if align_corners:
        return position * dtype.type((size - 1) / (out - 1) if out > 1 else 0)
    step = dtype.type(1.0 / scale) if scale else dtype.type(size) / dtype.type(out)
    return (position + dtype.type(0.5)) * step - dtype.type(0.5)


def _cubic_taps(t):
    """PyTorch's cubic convolution (A = -0.75) weights of the four neighbours at offsets -1, 0, 1, 2
    of a point a fraction t in [0, 1] past the second (arrays or Tensors, so grid_sample's are
    differentiable in t)."""
    a = -0.75
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1          # noqa: E731  (|x| <= 1)
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a     # noqa: E731  (1 < |x| < 2)
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_weights(size, out, scale, align_corners, dtype):
    """(out, size): PyTorch's bicubic taps (cubic convolution with A = -0.75) at each output's four
    neighbours, the indices clamped to the edges (their weights then add up there)."""
    source = _source_positions(size, out, scale, align_corners, np.dtype(dtype))
    first = np.minimum(np.floor(source), size - 1)
    matrix = np.zeros((out, size), np.float64)
    for offset, tap in zip((-1, 0, 1, 2), _cubic_taps(np.clip(source - first, 0, 1))):
        np.add.at(matrix, (np.arange(out), np.clip(first.astype(np.int64) + offset, 0, size - 1)), tap)
    return matrix.astype(dtype)


def _antialiased_weights(size, out, scale, align_corners, cubic, dtype):
    """(out, size): PyTorch's anti-aliased resampling (PIL's): when shrinking, the linear (or cubic,
    A = -0.5) filter is stretched by the shrink factor, so each output averages every input it
    covers; each row is normalised to sum to 1."""
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        ratio = 1.0 / scale if scale else size / out
    half_width = 2.0 if cubic else 1.0                        # the filter's support at ratio 1
    support = half_width * ratio if ratio >= 1.0 else half_width
    stretch = 1.0 / ratio if ratio >= 1.0 else 1.0
    a = -0.5

    def kernel(x):
        x = np.abs(x)
        if not cubic:
            return np.maximum(1.0 - x, 0.0)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))

    matrix = np.zeros((out, size), np.float64)
    for i in range(out):
        center = ratio * (i + 0.5)
        first = max(int(center - support + 0.5), 0)                 # truncations, as PyTorch's
        last = min(int(center + support + 0.5), size)
        taps = kernel((np.arange(first, last) - center + 0.5) * stretch)
        total = taps.sum()
        matrix[i, first:last] = taps / total if total != 0 else taps
    return matrix.astype(dtype)


def _linear_weights(size, out, scale, align_corners, dtype):
    """(out, size): each output's two neighbours and weights, PyTorch's source index rule."""
    dtype = np.dtype(dtype)
    source = _source_positions(size, out, scale, align_corners, dtype)
    if not align_corners:
        source = np.arange(out, dtype=dtype) if out == size else np.maximum(source, 0)
    first = np.minimum(source.astype(np.int64), size - 1)
    second = first + (first < size - 1)
    weight = np.clip(source - first, 0, 1).astype(dtype)
    matrix = np.zeros((out, size), dtype)
    np.add.at(matrix, (np.arange(out), first), 1 - weight)
    np.add.at(matrix, (np.arange(out), second), weight)
    return matrix


def _feature_dropout(op, input, p, training, inplace, feature_dims):
    """Dropout of whole channels: one draw per (sample, channel), over the `feature_dims` trailing
    dims (1 for dropout1d, 2 for dropout2d, 3 for dropout3d); an unbatched input has one dim fewer."""
    if input.ndim not in (feature_dims + 1, feature_dims + 2):
        raise ag.ShapeError(f"{op}: expects a {feature_dims + 1}-D (unbatched) or {feature_dims + 2}-D (batched) "
                            f"input, got shape {tuple(input.shape)}")
    return _dropout(input, p, training, inplace, input.shape[:input.ndim - feature_dims] + (1,) * feature_dims)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) (or (C, L)) with probability p, scaling the rest by 1/(1-p).
    As `torch.nn.functional.dropout1d`."""
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) (or (C, H, W)) with probability p. As
    `torch.nn.functional.dropout2d`."""
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) (or (C, D, H, W)) with probability p. As
    `torch.nn.functional.dropout3d`."""
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p) (in
    `input` itself with `inplace`); the identity when not training. Uses autograd's global generator (ag.manual_seed)."""
    return _dropout(input, p, training, inplace, input.shape)


def _dropout(input, p, training, inplace, mask_shape):
    """Inverted dropout with one draw per element of `mask_shape` (broadcast over the input)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        factor = np.zeros((), input.dtype)
    else:
        keep = ag.rand(mask_shape, dtype=input.dtype if input.dtype.kind == "f" else np.float32).numpy() >= p
        factor = keep * np.asarray(1 / (1 - p), input.dtype)
    return input.mul_(factor) if inplace else input * ag.from_numpy(factor)


_SELU_NEGATIVE_LIMIT = _SELU_ALPHA * _SELU_SCALE   # -selu(-inf): what a dropped unit of a SELU net is set to


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units are set to selu's negative limit, then an affine map
    restores the input's mean and variance (Klambauer et al.), as PyTorch's. The identity unless
    training. As `torch.nn.functional.alpha_dropout`."""
    return _alpha_dropout(input, p, training, inplace, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (one draw per sample and channel, dim 1). As
    `torch.nn.functional.feature_alpha_dropout`."""
    if input.ndim < 2:
        raise ag.ShapeError(f"feature_alpha_dropout: expects an input of at least 2 dims (N, C, *), got shape "
                            f"{tuple(input.shape)}")
    return _alpha_dropout(input, p, training, inplace, input.shape[:2] + (1,) * (input.ndim - 2))


def _alpha_dropout(input, p, training, inplace, mask_shape):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = ag.rand(mask_shape, dtype=input.dtype).numpy() >= p
    a = 1.0 / math.sqrt((_SELU_NEGATIVE_LIMIT ** 2 * p + 1) * (1 - p))
    scale = (keep * a).astype(input.dtype)
    shift = ((keep - 1.0) * (_SELU_NEGATIVE_LIMIT * a) + _SELU_NEGATIVE_LIMIT * a * p).astype(input.dtype)
    if inplace:
        return input.mul_(scale).add_(ag.from_numpy(np.broadcast_to(shift, input.shape)))
    return input * ag.from_numpy(scale) + ag.from_numpy(shift)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: negative inputs times a slope drawn from U(lower, upper) per element
    in training, times (lower + upper) / 2 otherwise. As `torch.nn.functional.rrelu`."""
    if training:
        slope = ag.rand(tuple(input.shape), dtype=input.dtype).numpy() * (upper - lower) + lower
    else:
        slope = np.asarray((lower + upper) / 2)
    factor = np.where(input.numpy() >= 0, 1, slope).astype(input.dtype)
    return input.mul_(factor) if inplace else input * ag.from_numpy(factor)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu written into `input`, which is returned. As `torch.nn.functional.rrelu_`."""
    return rrelu(input, lower, upper, training, inplace=True)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) with the batch statistics (training; the running statistics,
    if given, are updated in place) or with the running statistics (evaluation)."""
    _check_layer_dtypes("batch_norm", input, weight=weight, bias=bias, running_mean=running_mean,
                        running_var=running_var)
    return ag.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample (N, C, *) over its own positions, then scale and shift
    per channel. With use_input_stats False, the running statistics normalise instead; with it True
    they are updated in place, with the mean over the batch of each sample's mean and unbiased
    variance. As `torch.nn.functional.instance_norm`."""
    _check_layer_dtypes("instance_norm", input, weight=weight, bias=bias, running_mean=running_mean,
                        running_var=running_var)
    if input.ndim < 3:
        raise ag.ShapeError(f"instance_norm: expects an input of shape (N, C, *) with at least one position dim, "
                            f"got {tuple(input.shape)}")
    if not use_input_stats:
        return ag.batch_norm(input, weight, bias, running_mean, running_var, False, momentum, eps)
    batch, channels = input.shape[:2]
    # each (sample, channel) pair is one channel of a batch of one, as PyTorch computes it
    tracked = [None if stat is None else ag.tensor(np.tile(_array(stat), batch))
               for stat in (running_mean, running_var)]
    out = ag.batch_norm(input.reshape(1, batch * channels, *input.shape[2:]), None, None, *tracked, True, momentum,
                        eps).reshape(input.shape)
    for stat, per_instance in zip((running_mean, running_var), tracked):
        if stat is not None:
            with ag.no_grad():
                stat.copy_(per_instance.numpy().reshape(batch, channels).mean(0))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2) + eps) over the trailing dims `normalized_shape`, times weight; eps
    defaults to the dtype's machine epsilon. As `torch.nn.functional.rms_norm`."""
    _check_layer_dtypes("rms_norm", input, weight=weight)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise ag.ShapeError(f"rms_norm: expected an input ending in the normalized_shape {shape}, got "
                            f"{tuple(input.shape)}")
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ag.rsqrt((input * input).mean(dims, keepdim=True) + eps) if dims else input
    return out if weight is None else out * weight


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims `normalized_shape`, then scale and shift elementwise."""
    _check_layer_dtypes("layer_norm", input, weight=weight, bias=bias)
    return ag.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in `num_groups` groups, then scale and shift per channel."""
    _check_layer_dtypes("group_norm", input, weight=weight, bias=bias)
    return ag.group_norm(input, num_groups, weight, bias, eps)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` picked by the integer `input`; the padding_idx row gets no gradient. As
    `torch.nn.functional.embedding`: with max_norm, each row looked up whose norm_type-norm exceeds
    max_norm is first scaled down to it, in `weight` itself; with scale_grad_by_freq, each row's
    gradient is divided by how often it occurs in `input`. `sparse` is accepted, but the gradient is
    dense (ndgrad has no sparse tensors; an SGD step on it is the same)."""
    index = _array(input)
    if index.dtype.kind not in "iu":
        raise ag.DTypeError(f"embedding: indices must be integers, got {index.dtype}")
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):  # negative ones too, as PyTorch
        bad = index[(index < 0) | (index >= rows)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {rows} embeddings (indices must lie "
                         f"in [0, {rows}))")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(index), max_norm, norm_type)
    out = weight[index]
    if scale_grad_by_freq and index.size:
        _, inverse, counts = np.unique(index, return_inverse=True, return_counts=True)
        share = (1.0 / counts[inverse.reshape(index.shape)]).astype(weight.dtype)[..., None]
        out = out.detach() + (out - out.detach()) * ag.from_numpy(share)   # the value of out, 1/count of its gradient
    if padding_idx is not None:
        padding_idx = padding_idx % rows
        padded = index == padding_idx
        if padded.any():
            out = ag.where(padded[..., None], weight.detach()[index], out)
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the rows of `weight` in each bag of indices: the rows of a 2-D input
    (B, N), or the slices input[offsets[i]:offsets[i + 1]] of a 1-D one (the last runs to the end,
    unless include_last_offset says offsets ends with it). An empty bag gives zeros; padding_idx
    entries count for nothing; per_sample_weights (mode 'sum') weigh each entry. (B, embedding_dim).
    As `torch.nn.functional.embedding_bag` (sparse as in embedding)."""
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights was not None. per_sample_weights is only supported for "
                                  f"mode='sum' (got mode={mode!r})")
    index = _array(input)
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             "of fixed length sequences")
        starts = np.arange(0, index.size, index.shape[1]) if index.shape[1] else np.zeros(index.shape[0], np.int64)
        index = index.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif index.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None")
        starts = _array(offsets).astype(np.int64)
        if starts.ndim != 1 or (starts.size and starts[0] != 0) or np.any(np.diff(starts) < 0) or \
                (starts.size and starts[-1] > index.size):
            raise ag.ShapeError(f"{op}: offsets must be a 1-D, non-decreasing sequence starting at 0 and at most the "
                                f"input's length {index.size}, got {starts.tolist()}")
        if include_last_offset:
            starts = starts[:-1]
    else:
        raise ag.ShapeError(f"{op}: input has to be 1D or 2D Tensor, but got Tensor of dimension {index.ndim}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != index.shape:
        raise ag.ShapeError(f"{op}: per_sample_weights must have the input's shape, got "
                            f"{tuple(per_sample_weights.shape)} for input {tuple(_array(input).shape)}")
    ends = np.append(starts[1:], index.size) if not include_last_offset or offsets is None else \
        _array(offsets).astype(np.int64)[1:]
    rows = embedding(ag.from_numpy(index), weight, None, max_norm, norm_type, scale_grad_by_freq)
    bag_of_entry = np.repeat(np.arange(len(starts)), ends - starts)
    # the entries in some bag (all, unless include_last_offset leaves a tail) that are not padding
    counted = np.arange(index.size) < len(bag_of_entry)
    if padding_idx is not None:
        counted &= index != padding_idx % weight.shape[0]
    if mode == "max":
        entries = np.nonzero(counted)[0]
        return _bag_max(rows, bag_of_entry[entries], entries, len(starts))
    coef = np.zeros((len(starts), index.size), weight.dtype)
    coef[bag_of_entry, np.arange(len(bag_of_entry))] = 1
    coef[:, ~counted] = 0
    if mode == "mean":
        coef /= np.maximum(coef.sum(1, keepdims=True), 1)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    return ag.from_numpy(coef) @ rows


def _bag_max(rows, bag_of_entry, entries, bags):
    """The elementwise max of each bag's rows (zeros for an empty bag): the rows laid out as (bags,
    longest bag, dim), the gaps filled with -inf."""
    dim = rows.shape[1]
    sizes = np.bincount(bag_of_entry, minlength=bags)
    longest = int(sizes.max()) if sizes.size else 0
    if longest == 0:
        return ag.zeros((bags, dim), dtype=rows.dtype)
    position = np.arange(len(entries)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    source = np.full((bags, longest), len(rows), np.int64)   # the -inf row after the real ones
    source[bag_of_entry, position] = entries
    padded = ag.cat([rows, ag.full((1, dim), float("-inf"), dtype=rows.dtype)])[source]
    out = padded.amax(1)
    return ag.where((sizes == 0)[:, None], 0.0, out) if (sizes == 0).any() else out


def _renorm_rows(weight, rows, max_norm, norm_type):
    """Scale the rows of `weight` whose norm exceeds max_norm down to it, in place (PyTorch's
    embedding_renorm_, with its 1e-7 in the divisor)."""
    if not rows.size:
        return
    with ag.no_grad():
        norms = np.linalg.norm(weight.numpy()[rows].astype(np.float64), ord=norm_type, axis=1)
        too_long = norms > max_norm
        if too_long.any():
            scale = (max_norm / (norms[too_long] + 1e-7)).astype(weight.dtype)[:, None]
            chosen = ag.from_numpy(rows[too_long])
            weight[chosen] = weight[chosen] * ag.from_numpy(scale)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """PyTorch-style padding: `pad` lists (before, after) pairs starting from the LAST dim,
    e.g. (left, right, top, bottom). Negative amounts crop. Modes: constant, reflect, replicate,
    circular."""
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: the padding {tuple(pad)} must have an even length of at most 2 * {input.ndim} "
                         f"(for an input of shape {tuple(input.shape)})")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode != "constant":
        _check_non_constant_pad(input, pad, mode, widths)
    crop = tuple(slice(max(0, -b), n - max(0, -a) if a < 0 else None) for (b, a), n in zip(widths, input.shape))
    if any(b < 0 or a < 0 for b, a in widths):
        input = input[crop]
        widths = [(max(0, b), max(0, a)) for b, a in widths]
    if mode == "constant":
        return ag.pad(input, widths, value=0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r} (use 'constant', 'reflect', 'replicate' or 'circular')")
    out = input
    for axis, (before, after) in enumerate(widths):
        if before or after:
            index = np.pad(np.arange(input.shape[axis]), (before, after), mode=_PAD_MODES[mode])
            out = out[(slice(None),) * axis + (index,)]
    return out


def _check_non_constant_pad(input, pad, mode, widths):
    """PyTorch's limits on reflect, replicate and circular padding, which NumPy's pad does not have
    (it would reflect or wrap more than once, or pad a batch dim)."""
    dims = len(pad) // 2
    shape = tuple(input.shape)
    if dims not in (1, 2, 3) or input.ndim not in (dims + 1, dims + 2):
        raise ag.ShapeError(f"pad: {mode} padding of the last {dims} dim(s) (padding {tuple(pad)}) needs a "
                            f"{dims + 1}-D or {dims + 2}-D input (unbatched or batched), got shape {shape}")
    for axis in range(input.ndim - dims, input.ndim):
        size, (before, after) = shape[axis], widths[axis]
        if mode in ("reflect", "replicate") and size == 0:
            raise ag.ShapeError(f"pad: {mode} padding needs non-empty padded dims, got shape {shape}")
        widest = max(before, after)
        if mode == "reflect" and widest >= size or mode == "circular" and widest > size:
            limit = "less than" if mode == "reflect" else "at most"
            raise ag.ShapeError(f"pad: {mode} padding must be {limit} the size of the padded dim, got padding "
                                f"{(before, after)} for dim {axis} of size {size} (input of shape {shape})")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col, with torch.nn.functional.unfold's argument order."""
    return ag.unfold(input, kernel_size, stride=stride, padding=padding, dilation=dilation)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse of `unfold`: sums columns (N, C * kh * kw, L) of sliding blocks back into images (N, C,
    *output_size), overlapping blocks adding up. As `torch.nn.functional.fold`."""
    return ag.fold(input, output_size, kernel_size, stride=stride, padding=padding, dilation=dilation)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of class indices (nn.data.transforms.one_hot, imported on first use
    so that `import nn` does not load nn.data)."""
    from .data.transforms import one_hot as _one_hot
    return _one_hot(tensor, num_classes)


def flatten(input, start_dim=0, end_dim=-1):
    """input with dims start_dim..end_dim (both included) merged into one. As `torch.flatten`."""
    return ag.flatten(input, start_dim, end_dim)


# -- attention ---------------------------------------------------------------------------------

def _attention_shapes(op, query, key, value):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ag.ShapeError(f"{op}: query, key and value must have at least 2 dims (..., length, features), got "
                         f"shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ag.ShapeError(f"{op}: query (..., L, E) and key (..., S, E) must share E, and key and value (..., S, Ev) "
                         f"share S; got shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")


def _repeat_heads(x, groups):
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated `groups` times in a row."""
    *lead, heads, length, features = x.shape
    expanded = x.unsqueeze(-3).expand(*lead, heads, groups, length, features)
    return expanded.reshape(*lead, heads * groups, length, features)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + bias) value, with scale = 1/sqrt(E) unless given.

    query (..., L, E), key (..., S, E), value (..., S, Ev). A bool attn_mask (broadcasting to
    (..., L, S)) says where to attend (True); a float one is added to the scores. is_causal lets
    query i attend to keys 0..i only (the top-left lower triangle, for L != S too), and is an
    error together with attn_mask, as PyTorch documents. A query that may attend to no key
    at all gets zero weights (and zero output), as PyTorch's. Dropout (dropout_p) acts on the
    weights; with enable_gqa, key and value may have fewer heads (dim -3) than query, a divisor.
    """
    op = "scaled_dot_product_attention"
    _attention_shapes(op, query, key, value)
    if is_causal and attn_mask is not None:
        raise ag.ArgumentError(f"{op}: explicit attn_mask should not be set when is_causal=True (the causal mask is "
                            "built in; combine your mask with a causal one instead)")
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3] or key.shape[-3] != value.shape[-3]:
            raise ag.ShapeError(f"{op}: with enable_gqa, the query's heads (dim -3) must be a multiple of key's and "
                             f"value's; got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        groups = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    length, source = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ag.matmul(query * scale, key.transpose(-2, -1))
    if is_causal:
        scores = ag.masked_fill(scores, np.triu(np.ones((length, source), bool), 1), float("-inf"))
    elif attn_mask is not None:
        try:
            np.broadcast_shapes(tuple(attn_mask.shape), tuple(scores.shape))
        except ValueError:
            raise ag.ShapeError(f"{op}: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
                             f"attention scores' shape {tuple(scores.shape)} (..., L, S)") from None
        if attn_mask.dtype == np.bool_:
            scores = ag.masked_fill(scores, ~_array(attn_mask), float("-inf"))
        else:
            scores = scores + _tensor(attn_mask, scores)
    # Rows with no key left: a plain softmax would give NaN; PyTorch gives zeros, and so do we,
    # with the scores replaced before the softmax so that no NaN reaches the gradient either.
    empty = np.isneginf(scores.numpy()).all(-1, keepdims=True)
    if empty.any():
        scores = ag.where(empty, 0.0, scores)
    weights = ag.softmax(scores, -1)
    if empty.any():
        weights = ag.where(empty, 0.0, weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return ag.matmul(weights, value)


def _canonical_mask(mask, name, dtype):
    """A bool mask (True = do not attend) as a float one with -inf there; float masks as they are."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        return ag.tensor(np.where(_array(mask), -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise ag.DTypeError(f"multi_head_attention_forward: only bool and floating types of {name} are supported, "
                         f"got {mask.dtype}")
    return _tensor(mask)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's rules for batched (3-D) and unbatched (2-D) inputs; returns whether batched."""
    op = "multi_head_attention_forward"
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ag.ShapeError(f"{op}: query, key and value must all be 3-D (batched) or all 2-D (unbatched); got {shapes}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ag.ShapeError(f"{op}: for {query.ndim}-D query, key_padding_mask must be {query.ndim - 1}-D, got shape "
                         f"{tuple(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ag.ShapeError(f"{op}: attn_mask must be 2-D or 3-D, got shape {tuple(attn_mask.shape)}")
    return query.ndim == 3


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's multi-head attention on (L, N, E) query and (S, N, E_k/E_v) key/value (or
    unbatched (L, E), (S, E)). Masks: key_padding_mask (N, S), attn_mask (L, S) or (N * heads,
    L, S); bool ones block where True, float ones are added. Returns (output (L, N, E), weights
    (N, L, S) averaged over heads, (N, heads, L, S), or None without need_weights)."""
    op = "multi_head_attention_forward"
    is_batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise ag.ShapeError(f"{op}: expected the query's embedding dimension {embed_dim_to_check}, got query of shape "
                         f"{tuple(query.shape)}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ag.ArgumentError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != batch:
        raise ag.ShapeError(f"{op}: key and value must share their sequence and batch dims, and the batch with query; "
                         f"got query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}")
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise ag.ArgumentError(f"{op}: need attn_mask if specifying the is_causal hint; "
                            "Transformer.generate_square_subsequent_mask makes one")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask, as PyTorch
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        is_causal = False

    if use_separate_proj_weight:
        biases = (None,) * 3 if in_proj_bias is None else ag.split(in_proj_bias, embed_dim)
        q = linear(query, q_proj_weight, biases[0])
        k = linear(key, k_proj_weight, biases[1])
        v = linear(value, v_proj_weight, biases[2])
    elif query is key and key is value:  # self-attention: one matmul for all three
        q, k, v = ag.split(linear(query, in_proj_weight, in_proj_bias), embed_dim, -1)
    else:
        weights = ag.split(in_proj_weight, embed_dim)
        biases = (None,) * 3 if in_proj_bias is None else ag.split(in_proj_bias, embed_dim)
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    source = key.shape[0]
    if attn_mask is not None:
        expected = (length, source) if attn_mask.ndim == 2 else (batch * num_heads, length, source)
        if tuple(attn_mask.shape) != expected:
            raise ag.ShapeError(f"{op}: the {attn_mask.ndim}-D attn_mask has shape {tuple(attn_mask.shape)} but should "
                             f"be {expected} for query {tuple(query.shape)} and key {tuple(key.shape)}")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = ag.cat([k, bias_k.expand(1, batch, embed_dim)])
        v = ag.cat([v, bias_v.expand(1, batch, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    q = q.reshape(length, batch * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], batch * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], batch * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:
        zeros = ag.zeros((batch * num_heads, 1, head_dim), dtype=k.dtype)
        k, v = ag.cat([k, zeros], 1), ag.cat([v, zeros], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    source = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source):
            raise ag.ShapeError(f"{op}: key_padding_mask should have shape {(batch, source)} (batch, source length), "
                             f"got {tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(batch, 1, 1, source).expand(batch, num_heads, 1, source)
        padding = padding.reshape(batch * num_heads, 1, source)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = ag.matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = ag.softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = ag.matmul(weights, v).transpose(0, 1).reshape(length * batch, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, -1)
        weights = weights.reshape(batch, num_heads, length, source)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(batch, num_heads, -1, source)
    q = q.reshape(batch, num_heads, length, head_dim)
    k = k.reshape(batch, num_heads, source, head_dim)
    v = v.reshape(batch, num_heads, source, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = linear(out.permute(2, 0, 1, 3).reshape(batch * length, embed_dim), out_proj_weight, out_proj_bias)
    out = out.reshape(length, batch, -1)
    return (out.squeeze(1) if not is_batched else out), None
