"""Unary elementwise ops, each backward right under its forward.

Backward formulas are Tensor code (differentiable again); masks and constants are plain arrays
wrapped as Tensors without grad.
"""
import functools
import math

import numpy as np

from ..creation import get_default_dtype
from ..errors import ArgumentError, DTypeError
from ..function import Primitive
from ..tensor import Tensor, TensorLike


def constant(array):
    """An array as a Tensor outside the graph (a mask, a sign, a constant factor)."""
    return Tensor._make(array, False, None)


class Neg(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Primitive):
    """exp'(x) = exp(x), taken from the saved output."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.exp(x))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.output


class Expm1(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.expm1(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * exp(x)


class Log(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class LogBase(Primitive):
    """log2 and log10: d log_b(x)/dx = 1 / (x ln b)."""
    @staticmethod
    def forward(ctx, x, func, ln_base):
        ctx.ln_base = ln_base
        ctx.save_for_backward(x)
        return func(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * ctx.ln_base)


class Exp2(Primitive):
    """2**x; its derivative is 2**x ln 2, from the saved output."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.exp2(x))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.output * math.log(2)


class Log1p(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Primitive):
    """sqrt'(x) = 1 / (2 sqrt(x))."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.sqrt(x))

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.output * 2)


class Abs(Primitive):
    """abs'(x) = sign(x), 0 at 0 as in PyTorch."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * constant(np.sign(x._data))


class Tanh(Primitive):
    """tanh'(x) = 1 - tanh(x)**2, from the saved output."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.tanh(x))

    @staticmethod
    def backward(ctx, grad):
        return TanhGrad.apply(grad, ctx.output)


class TanhGrad(Primitive):
    """tanh's backward, grad * (1 - y**2), as one op (the hot path), differentiable in grad and y."""
    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return grad - grad * y * y  # = grad * (1 - y**2), in three array ops without a Python scalar

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.saved_tensors
        return grad_grad * (1 - y * y), grad_grad * grad * y * -2


def keep_where(values, condition, out=None):
    """values where `condition` (a bool array made for this call, which it overwrites), else +0.0, inf and
    NaN replaced too: values' bits ANDed with the condition's bytes turned into all ones (True) or zeros.
    A mask's multiply needs a pass after it for the NaN an inf times 0 makes, and NumPy multiplies
    floats by bools through a casting loop: relu's gradient on (128, 256) float32 took 20.4 us that way,
    11.2 this way."""
    mask = np.asarray(condition).view(np.int8)   # (a comparison of 0-d arrays gives a NumPy scalar)
    np.negative(mask, out=mask)   # 1 -> -1: all bits set, and still so when widened to the values' size
    integers = np.dtype(f"i{values.dtype.itemsize}")
    if out is None:
        out = np.empty(np.broadcast_shapes(values.shape, condition.shape), values.dtype)
    np.bitwise_and(values.view(integers), mask, out=out.view(integers))
    return out


def scale_keeping_zeros(grad, factor):
    """grad * factor, exactly 0 where factor is 0 even if grad is inf or NaN there (PyTorch's masked
    backwards select rather than multiply: sqrt(clamp(x, min=0)) has a zero gradient at x < 0, not
    inf * 0 = NaN). A bool mask selects (keep_where, on a copy: the factor is kept for the backward);
    another factor multiplies, 12x faster than np.where, and the max finds the rare NaN it made."""
    if factor.dtype == bool:
        return keep_where(grad, factor.copy())
    out = np.asarray(np.multiply(grad, factor))   # (0-d operands give a NumPy scalar)
    if out.size and np.isnan(out.max()):
        out[np.isnan(out) & (np.asarray(factor) == 0)] = 0
    return out


class ScaleKeepingZeros(Primitive):
    """grad * factor for a constant factor (a mask, a share), 0 wherever factor is: the backward of clamp,
    maximum and minimum. Linear in grad, so its own backward is itself."""
    @staticmethod
    def forward(ctx, grad, factor):
        ctx.factor = factor
        return scale_keeping_zeros(grad, factor)

    @staticmethod
    def backward(ctx, grad_grad):
        return ScaleKeepingZeros.apply(grad_grad, factor=ctx.factor)


class Clamp(Primitive):
    """The gradient passes where min <= x <= max (both ends included, as in PyTorch's clamp), or with
    open_interval where min < x < max (neither end: PyTorch's hardtanh and relu6)."""
    @staticmethod
    def forward(ctx, x, min=None, max=None, open_interval=False):
        ctx.save_for_backward(x)
        ctx.bounds, ctx.open_interval = (min, max), open_interval
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        above, below = (np.greater, np.less) if ctx.open_interval else (np.greater_equal, np.less_equal)
        # Each mask is laid out as x (a channel-major conv output stays so): a mask made in C order and
        # filled from such an x ran 10x slower.
        inside = above(x._data, low) if low is not None else None
        if high is not None:
            within = below(x._data, high)
            inside = within if inside is None else inside & within
        return ScaleKeepingZeros.apply(grad, factor=inside)


class Rounding(Primitive):
    """floor, ceil, round, trunc, sign: piecewise constant, so the gradient is zero (as PyTorch,
    which also gives zero at the jumps)."""
    @staticmethod
    def forward(ctx, x, func):
        return func(x)

    @staticmethod
    def backward(ctx, grad):
        return constant(np.zeros(grad.shape, grad.dtype))


class Frac(Primitive):
    """frac(x) = x - trunc(x), the fractional part with x's sign; frac'(x) = 1."""
    @staticmethod
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class NanToNum(Primitive):
    """NaN and the infinities replaced by numbers; the gradient passes where x was finite, and is 0 where a
    value was replaced (PyTorch's)."""
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * constant(ctx.finite)


class Cast(Primitive):
    """A change of dtype; the gradient is cast back to the input's dtype."""
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return cast(grad, ctx.input_dtype)


class Clone(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# -- the functions -----------------------------------------------------------------------------

def floating(x):
    """The input of a floating op (exp, log, sqrt, sin, sigmoid, ...) by PyTorch's rule: a bool or
    integer tensor is computed in the default float dtype (float32 unless set). (NumPy would pick
    float16 for bool and 8-bit ints, float64 for the rest, and sigmoid would even stay integer.)"""
    if x.dtype.kind in "biu":
        return constant(np.asarray(x, dtype=get_default_dtype()))  # integer tensors never require grad
    return x


def neg(x: Tensor) -> Tensor:
    """-x, elementwise. As `torch.neg`."""
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    """e to the power x, elementwise (integer and bool tensors computed in float32). As `torch.exp`."""
    return Exp.apply(floating(x))


def expm1(x: Tensor) -> Tensor:
    """exp(x) - 1, elementwise, accurate for small x. As `torch.expm1`."""
    return Expm1.apply(floating(x))


def log(x: Tensor) -> Tensor:
    """The natural logarithm, elementwise (-inf at 0, nan below). As `torch.log`."""
    return Log.apply(floating(x))


def log2(x: Tensor) -> Tensor:
    """The base-2 logarithm, elementwise (exact at powers of 2). As `torch.log2`."""
    return LogBase.apply(floating(x), func=np.log2, ln_base=math.log(2))


def log10(x: Tensor) -> Tensor:
    """The base-10 logarithm, elementwise. As `torch.log10`."""
    return LogBase.apply(floating(x), func=np.log10, ln_base=math.log(10))


def exp2(x: Tensor) -> Tensor:
    """2**x, elementwise. As `torch.exp2`."""
    return Exp2.apply(floating(x))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), elementwise, accurate for small x. As `torch.log1p`."""
    return Log1p.apply(floating(x))


def sqrt(x: Tensor) -> Tensor:
    """The square root, elementwise (nan below 0). As `torch.sqrt`."""
    return Sqrt.apply(floating(x))


def abs(x: Tensor) -> Tensor:
    """|x|, elementwise; the gradient at 0 is 0. As `torch.abs`."""
    return Abs.apply(x)


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise. As `torch.tanh`."""
    return Tanh.apply(floating(x))


def clone(x: Tensor) -> Tensor:
    """A copy of x with its own array, still in the graph (the gradient passes through unchanged). As
    `torch.clone`."""
    return Clone.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x), elementwise. As `torch.rsqrt`."""
    return 1 / sqrt(x)


def square(x: Tensor) -> Tensor:
    """x * x, elementwise (a bool tensor gives int64, as x ** 2 does). As `torch.square`."""
    return x ** 2 if x.dtype.kind == "b" else x * x


def reciprocal(x: Tensor) -> Tensor:
    """1 / x, elementwise. As `torch.reciprocal`."""
    return 1 / x


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x, elementwise. Piecewise constant, so its gradient is zero, but (as
    in PyTorch) the result of a tensor that requires grad is in the graph. As `torch.sign`."""
    if x.dtype.kind != "f":
        return constant(np.sign(x._data) if x.dtype != np.bool_ else x._data.copy())
    return Rounding.apply(x, func=np.sign)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """x with NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf` (by default the dtype's largest
    and smallest finite values). Gradient 1 where x is finite, 0 where a value was replaced. As
    `torch.nan_to_num`."""
    if x.dtype.kind != "f":
        return clone(x)   # integers hold no NaN or infinity
    return NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


def positive(x: Tensor) -> Tensor:
    """x itself, as `+x`. As `torch.positive`."""
    if x.dtype == np.bool_:
        raise DTypeError("positive: the + operator on a bool tensor is not supported")
    return x


def clamp(x: Tensor, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """x limited to [min, max], elementwise; min or max may be None (not both), a number or a tensor
    (broadcast against x, e.g. per-coordinate box limits). The gradient passes to x where min <= x <=
    max, and to a tensor bound where it binds. As `torch.clamp` (alias `clip`)."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    if any(isinstance(b, Tensor) and (b.ndim or b.requires_grad) for b in (min, max)):
        return _clamp_to_tensors(x, min, max)
    return _clamp_to_numbers(x, min, max, open_interval=False)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val], with the gradient passing only strictly inside (0 at either
    bound): the op of torch.nn.functional.hardtanh, relu6, hardsigmoid and hardswish."""
    if x.dtype.kind in "biu":
        # As torch: an integer tensor stays integer (clamped, then truncated toward zero: for integers the
        # same as clamping to the truncated bounds); bool, and negative bounds on an unsigned one, refused.
        if x.dtype.kind == "b":
            raise DTypeError("hardtanh: bool inputs are not supported (torch neither)")
        if x.dtype.kind == "u" and min(min_val, max_val) < 0:
            raise ArgumentError(f"hardtanh: cannot do hardtanh on an unsigned type ({x.dtype}) with negative limits "
                                f"({min_val}, {max_val})")
        min_val, max_val = math.trunc(min_val), math.trunc(max_val)
    return _clamp_to_numbers(x, min_val, max_val, open_interval=True)


def _clamp_to_numbers(x, min, max, open_interval):
    min, max = _bound(min), _bound(max)
    if x.dtype.kind in "biu" and (isinstance(min, float) or isinstance(max, float)):
        x = floating(x)   # as PyTorch: an integer tensor clamped to a float bound gives the default float dtype
    return Clamp.apply(x, min=min, max=max, open_interval=open_interval)


clip = clamp


def clamp_min(x: Tensor, min: TensorLike) -> Tensor:
    """max(x, min), elementwise: `clamp(x, min=min)`. As `torch.clamp_min`."""
    return clamp(x, min, None)


def clamp_max(x: Tensor, max: TensorLike) -> Tensor:
    """min(x, max), elementwise: `clamp(x, max=max)`. As `torch.clamp_max`."""
    return clamp(x, None, max)


def _clamp_to_tensors(x, low, high):
    """clamp to bounds that are tensors (broadcast, and differentiable): as PyTorch, the gradient goes to x
    where low <= x <= high, to low where x < low, to high where the result would exceed high (high wins
    where low > high)."""
    from .arithmetic import where   # arithmetic builds on this module
    out = x if low is None else where(x < low, low, x)
    return out if high is None else where(out > high, high, out)


def _bound(value):
    return value.item() if isinstance(value, Tensor) else value


def _rounding(op, func, x):
    if x.dtype.kind in "iu":
        return clone(x)  # integers are already whole numbers (as PyTorch: same dtype, a copy)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating point or integer tensor, got {x.dtype}")
    return Rounding.apply(x, func=func)


def floor(x: Tensor) -> Tensor:
    """The largest whole number <= x, elementwise; integer tensors are returned as a copy. Zero gradient.
    As `torch.floor`."""
    return _rounding("floor", np.floor, x)


def ceil(x: Tensor) -> Tensor:
    """The smallest whole number >= x, elementwise; integer tensors are returned as a copy. Zero gradient.
    As `torch.ceil`."""
    return _rounding("ceil", np.ceil, x)


def trunc(x: Tensor) -> Tensor:
    """x rounded towards zero, elementwise; integer tensors are returned as a copy. Zero gradient. As
    `torch.trunc` (alias `fix`)."""
    return _rounding("trunc", np.trunc, x)


fix = trunc


def round(x: Tensor, decimals: int = 0) -> Tensor:
    """Round half to even, as PyTorch (and NumPy); `decimals` digits after the point."""
    if decimals == 0:
        return _rounding("round", np.round, x)
    if x.dtype.kind != "f":
        raise DTypeError(f"round: decimals={decimals} needs a floating point tensor, got {x.dtype}")
    return Rounding.apply(x, func=functools.partial(np.round, decimals=decimals))


def frac(x: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with x's sign, of a floating tensor. As `torch.frac`."""
    if x.dtype.kind != "f":
        raise DTypeError(f"frac: needs a floating point tensor, got {x.dtype}")
    return Frac.apply(x)


def cast(x: Tensor, dtype) -> Tensor:
    """x converted to `dtype` (anything naming one: np.float64, "float64", ...); x itself if it already has
    it. The gradient is cast back. As `Tensor.to(dtype)`."""
    from ..creation import resolve_dtype
    dtype = resolve_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)
