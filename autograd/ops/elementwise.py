"""Unary elementwise ops, each backward right under its forward.

Backward formulas are Tensor code (differentiable again); masks and constants are plain arrays
wrapped as Tensors without grad.
"""
import functools
import math

import numpy as np
import scipy.special

from ..errors import ArgumentError, DTypeError
from ..function import Primitive
from ..tensor import Tensor, TensorLike


def constant(array):
    """An array as a Tensor outside the graph (a mask, a sign, a constant factor)."""
    return Tensor._make(array, False, None)


class Neg(Primitive):
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
        return grad * constant(np.sign(x.data))


class Sin(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


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


class Sigmoid(Primitive):
    """sigmoid(x) = 1 / (1 + exp(-x)), by scipy.special.expit: never overflows, keeps tiny values
    for very negative x (sigmoid(-100) is 3.7e-44, not 0), and runs at exp's speed (the
    overflow-proof logaddexp form was 15x slower). sigmoid'(x) = y (1 - y)."""
    @staticmethod
    def forward(ctx, x):
        out = np.asarray(scipy.special.expit(x), dtype=x.dtype)   # 0-d stays an array
        if x.dtype.itemsize < 8:
            tiny = x < -80   # expit's single precision flushes these subnormal results to 0; float64 keeps them
            if tiny.any():
                out[tiny] = scipy.special.expit(x[tiny].astype(np.float64))
        return ctx.save_output(out)

    @staticmethod
    def backward(ctx, grad):
        return SigmoidGrad.apply(grad, ctx.output)


class SigmoidGrad(Primitive):
    """sigmoid's backward, grad * y (1 - y), as one op, differentiable in grad and y."""
    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return grad * (y - y * y)  # = grad * y (1 - y), in three array ops without a Python scalar

    @staticmethod
    def backward(ctx, grad_grad):
        grad, y = ctx.saved_tensors
        return grad_grad * (y * (1 - y)), grad_grad * grad * (1 - 2 * y)


class Relu(Primitive):
    """relu'(x) = 1 where x > 0, else 0 (0 at 0, as in PyTorch)."""
    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * constant(ctx.output.data > 0)


class Clamp(Primitive):
    """The gradient passes where min <= x <= max (both ends included, as in PyTorch)."""
    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(x.shape, bool)
        if low is not None:
            inside &= x.data >= low
        if high is not None:
            inside &= x.data <= high
        return grad * constant(inside)


class Erf(Primitive):
    """erf'(x) = 2/sqrt(pi) exp(-x**2). The forward is accurate to float64 (see `erf_array`)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (exp(-(x * x)) * (2 / math.sqrt(math.pi)))


def erf_array(x):
    """erf elementwise, in x's floating dtype (float64 for other dtypes).

    SciPy's kernel (Cephes' rational approximations) is within a few ulps of the true value in
    float64, as the series this replaced was, and 40-100x faster: in the small GPT's train step
    the series took three quarters of the time.
    """
    x = np.asarray(x)
    out = np.empty(x.shape, x.dtype if x.dtype.kind == "f" else np.float64)
    return scipy.special.erf(x, out=out)   # an array even for 0-d x, which the ufunc alone makes a scalar


# -- gelu ------------------------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class Gelu(Primitive):
    """gelu(x) = x Phi(x) with the exact normal CDF Phi(x) = (1 + erf(x / sqrt(2))) / 2, as
    PyTorch's GELU(approximate='none'); gelu'(x) = Phi(x) + x phi(x), phi the normal density.

    One op instead of five (scale, erf, add, multiply, multiply), and Phi(x) is kept for the
    backward so erf runs once per step, as in PyTorch.
    """
    @staticmethod
    def forward(ctx, x):
        cdf = erf_array(x * x.dtype.type(_SQRT_HALF))
        cdf += 1
        cdf *= 0.5
        ctx.save_for_backward(x, cdf)
        return np.multiply(x, cdf, out=np.empty_like(x))

    @staticmethod
    def backward(ctx, grad):
        x, cdf = ctx.saved_tensors
        return GeluGrad.apply(grad, x, cdf)


class GeluGrad(Primitive):
    """gelu's backward, grad (Phi(x) + x phi(x)), as one op; differentiable in grad and x
    (gelu''(x) = phi(x) (2 - x**2)). `cdf` is Phi(x), saved by the forward: a constant here."""
    @staticmethod
    def forward(ctx, grad, x, cdf):
        ctx.save_for_backward(grad, x, cdf)
        slope = np.multiply(x, x, out=np.empty_like(x))    # an array even for 0-d x
        slope *= -0.5
        np.exp(slope, out=slope)
        slope *= x
        slope *= x.dtype.type(_INV_SQRT_2PI)     # x phi(x)
        slope += cdf
        slope *= grad
        return slope

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x, cdf = ctx.saved_tensors
        density = exp(x * x * -0.5) * _INV_SQRT_2PI
        return grad_grad * (cdf + x * density), grad_grad * grad * density * (2 - x * x), None


class Rounding(Primitive):
    """floor, ceil, round, trunc: piecewise constant, so the gradient is zero (as PyTorch, which
    also gives zero at the jumps)."""
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
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# -- the functions -----------------------------------------------------------------------------

def floating(x):
    """The input of a floating op (exp, log, sqrt, sin, sigmoid, ...) by PyTorch's rule: a bool or
    integer tensor is computed in the default float dtype, float32. (NumPy would pick float16 for
    bool and 8-bit ints, float64 for the rest, and sigmoid would even stay integer.)"""
    if x.dtype.kind in "biu":
        return constant(np.asarray(x, dtype=np.float32))  # integer tensors never require grad
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


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), elementwise, accurate for small x. As `torch.log1p`."""
    return Log1p.apply(floating(x))


def sqrt(x: Tensor) -> Tensor:
    """The square root, elementwise (nan below 0). As `torch.sqrt`."""
    return Sqrt.apply(floating(x))


def abs(x: Tensor) -> Tensor:
    """|x|, elementwise; the gradient at 0 is 0. As `torch.abs`."""
    return Abs.apply(x)


def sin(x: Tensor) -> Tensor:
    """The sine (radians), elementwise. As `torch.sin`."""
    return Sin.apply(floating(x))


def cos(x: Tensor) -> Tensor:
    """The cosine (radians), elementwise. As `torch.cos`."""
    return Cos.apply(floating(x))


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise. As `torch.tanh`."""
    return Tanh.apply(floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function 1 / (1 + exp(-x)), elementwise, without overflow. As `torch.sigmoid`."""
    return Sigmoid.apply(floating(x))


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise; the gradient at 0 is 0. As `torch.relu`."""
    return Relu.apply(x)


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise. As `torch.erf`."""
    return Erf.apply(floating(x))


def clone(x: Tensor) -> Tensor:
    """A copy of x with its own array, still in the graph (the gradient passes through unchanged). As
    `torch.clone`."""
    return Clone.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x), elementwise. As `torch.rsqrt`."""
    return 1 / sqrt(x)


def square(x: Tensor) -> Tensor:
    """x * x, elementwise. As `torch.square`."""
    return x * x


def reciprocal(x: Tensor) -> Tensor:
    """1 / x, elementwise. As `torch.reciprocal`."""
    return 1 / x


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x, elementwise, as a constant outside the graph (the derivative is
    zero everywhere, so no gradient flows back through it). As `torch.sign`."""
    return constant(np.sign(x.data))


def clamp(x: Tensor, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """x limited to [min, max], elementwise; min or max may be None (not both), a number or a one-element
    tensor. The gradient passes where min <= x <= max. As `torch.clamp` (alias `clip`)."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, min=_bound(min), max=_bound(max))


clip = clamp


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


def gelu(x: Tensor) -> Tensor:
    """x * Phi(x), Phi the standard normal CDF (exact, by erf), as one fused op; needs a floating
    tensor. As `torch.nn.functional.gelu` with approximate='none'."""
    if x.dtype.kind != "f":
        raise DTypeError(f"gelu: needs a floating point tensor, got {x.dtype}")
    return Gelu.apply(x)


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


# -- softplus --------------------------------------------------------------------------------------

class Softplus(Primitive):
    """log(1 + exp(x)), computed without overflow; softplus'(x) = sigmoid(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid(x)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), elementwise, without overflow. As `torch.nn.functional.softplus` with beta=1."""
    return Softplus.apply(x)
