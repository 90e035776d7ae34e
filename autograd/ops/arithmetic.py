"""Binary arithmetic with broadcasting: + - * / ** maximum minimum, and where.

Backward formulas return gradients of the broadcast (output) shape; the engine sums them back to
each input's shape, so no op here un-broadcasts.
"""
import math

import numpy as np

from ..creation import as_array, result_type, scalar_operand
from ..errors import ArgumentError, DTypeError, DivisionByZeroError, broadcast_error
from ..function import Primitive
from ..tensor import Tensor, TensorLike
from .elementwise import ScaleKeepingZeros, cast, constant, exp2, floating, floor, log, trunc


def operands(x, y):
    """The operands for a binary op. A Python scalar is a constant (`apply` passes non-Tensors
    through without an edge): with a floating tensor it stays a Python number, which NumPy
    treats as weakly typed (float32 stays float32); otherwise it becomes an array of the
    tensor's dtype where that fits. As in PyTorch, an integer or bool operand meeting a floating
    one takes its dtype (NumPy would make int64 * float32 float64)."""
    if x.__class__ is Tensor and y.__class__ is Tensor and x._data.dtype.kind == y._data.dtype.kind:
        if x._data.dtype == y._data.dtype or (x._data.ndim == 0) == (y._data.ndim == 0):
            return x, y
        return _zero_dim_follows(x, y)
    if x.__class__ in _PYTHON_NUMBERS and isinstance(y, Tensor) and y._data.dtype.kind == "f":
        return x, y
    if y.__class__ in _PYTHON_NUMBERS and isinstance(x, Tensor) and x._data.dtype.kind == "f":
        return x, y
    if not isinstance(x, Tensor):
        if not isinstance(y, Tensor):
            y = constant(as_array(y))
        x = scalar_operand(x, y)
    elif not isinstance(y, Tensor):
        y = scalar_operand(y, x)
    kind_x, kind_y = x.dtype.kind, y.dtype.kind
    if (x.ndim == 0) != (y.ndim == 0) and x.dtype != y.dtype and _CATEGORY[kind_x] == _CATEGORY[kind_y]:
        return _zero_dim_follows(x, y)
    if kind_y == "f" and kind_x in "biu":
        x = _as_dtype(x, y.dtype)
    elif kind_x == "f" and kind_y in "biu":
        y = _as_dtype(y, x.dtype)
    return x, y


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _zero_dim_follows(x, y):
    """As PyTorch: a 0-d tensor meeting a tensor with dims of the same category (bool, integer, floating)
    takes that tensor's dtype, as a Python number would: float32 * float64 0-d stays float32, int8 + uint8
    0-d stays int8. (NumPy would promote to float64 and int16.)"""
    if x.ndim == 0:
        return cast(x, y.dtype), y
    return x, cast(y, x.dtype)


def _as_dtype(value, dtype):
    """An integer or bool operand (never in the graph) as `dtype`."""
    return constant(value._data.astype(dtype)) if isinstance(value, Tensor) else value.astype(dtype)


_PYTHON_NUMBERS = (float, int)


def data_of(value):
    """The array behind a saved operand (a Tensor, or a Python number kept as it was)."""
    return value._data if isinstance(value, Tensor) else value


def broadcasting_ufunc(op_name, ufunc, x, y):
    """ufunc(x, y) with broadcasting, or a ShapeError naming the op and both shapes."""
    try:
        return ufunc(x, y)
    except ValueError:
        raise broadcast_error(op_name, np.shape(x), np.shape(y)) from None


class Add(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, y):
        return broadcasting_ufunc("add", np.add, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, y):
        return broadcasting_ufunc("sub", np.subtract, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Primitive):
    @staticmethod
    def forward(ctx, x, y):
        # Each operand is saved only for the other's gradient, so that writing in place into an
        # operand that no gradient needs (`y = 2 * a; a.add_(1)`) stays allowed, as in PyTorch.
        needs = ctx.needs_input_grad   # empty when nothing is recorded
        if needs:
            ctx.save_for_backward(x if needs[1] else None, y if needs[0] else None)
        return broadcasting_ufunc("mul", np.multiply, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # Mul.apply rather than `*`: forward's operands are already normalised (the hot path).
        return (Mul.apply(grad, y) if need_x else None), (Mul.apply(grad, x) if need_y else None)


class Div(Primitive):
    """d(x/y)/dx = 1/y, d(x/y)/dy = -x/y**2."""
    @staticmethod
    def forward(ctx, x, y):
        needs = ctx.needs_input_grad   # empty when nothing is recorded
        if needs:
            ctx.save_for_backward(x if needs[1] else None, y)   # x only for y's gradient
        return broadcasting_ufunc("div", np.true_divide, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (Div.apply(grad, y) if need_x else None), (-grad * x / (y * y) if need_y else None)


class Pow(Primitive):
    """d(x**y)/dx = y x**(y-1); d(x**y)/dy = x**y log(x), taken as 0 where x == 0 (as PyTorch)."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        if np.asarray(y).dtype.kind == "i" and np.asarray(x).dtype.kind in "biu" and (np.asarray(y) < 0).any():
            return _integer_power(x, y)
        return broadcasting_ufunc("pow", np.power, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad * y * x ** (y - 1) if need_x else None
        grad_y = None
        if need_y:
            zero = data_of(x) == 0
            safe_x = where(zero, 1, x) if zero.any() else x
            grad_y = grad * (x ** y) * log(safe_x)
        return grad_x, grad_y


def _integer_power(x, y):
    """x ** y for integer arrays where some exponent is negative, which NumPy refuses: PyTorch's values,
    the integer part of 1 / x**|y| (1 for a base of 1, -1 or 1 for -1 by the exponent's parity, else 0)."""
    out = broadcasting_ufunc("pow", np.power, x, np.abs(y))
    negative = np.broadcast_to(y < 0, out.shape)
    base = np.broadcast_to(x, out.shape)
    return np.where(negative, np.where(np.abs(base) == 1, out, 0), out).astype(out.dtype, copy=False)


class PowScalar(Primitive):
    """d(x**p)/dx = p x**(p-1), for a constant exponent p. The exponents PyTorch computes by cheaper
    operations are computed by the same ones (so its values, and NumPy's pow, a scalar loop, is
    avoided: x**3 on 2^21 float32 values took 125 ms, x*x*x 0.46)."""
    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        if x.dtype in (np.float32, np.float64) and exponent in _POWER_BY_PRODUCTS:   # half: pow, as torch
            return np.asarray(_POWER_BY_PRODUCTS[exponent](x))
        return np.power(x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return grad * 0
        return grad * (x * p if p == 2 else pow(x, p - 1) * p)


_POWER_BY_PRODUCTS = {
    2: lambda x: np.multiply(x, x),
    3: lambda x: np.multiply(np.multiply(x, x), x),
    0.5: np.sqrt,
    -0.5: lambda x: np.reciprocal(np.sqrt(x)),
    -1: np.reciprocal,
    -2: lambda x: np.reciprocal(np.multiply(x, x)),
}


class Remainder(Primitive):
    """x % y = x - floor(x / y) * y, with the sign of y (Python's %, torch.remainder).
    d/dx = 1, d/dy = -floor(x / y); fmod is the same with trunc in place of floor (sign of x)."""
    @staticmethod
    def forward(ctx, x, y, op, ufunc, rounding):
        ctx.save_for_backward(x, y)
        ctx.rounding = rounding
        _check_integer_divisor(op, x, y)
        with np.errstate(divide="ignore", invalid="ignore"):  # float % 0 is NaN, as in PyTorch
            return broadcasting_ufunc(op, ufunc, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad if need_x else None), (-grad * ctx.rounding(x / y) if need_y else None)


class Fmod(Remainder):
    """fmod(x, y) = x - trunc(x / y) * y, with the sign of x (C's fmod); gradients as Remainder's."""


class RoundedDivide(Primitive):
    """floor(x / y), computed as Python's // (exact where floor(true_divide) would round wrongly), or
    trunc(x / y). Piecewise constant, so the gradient is zero (PyTorch's for div with a rounding_mode;
    it has none for floor_divide and raises)."""
    @staticmethod
    def forward(ctx, x, y, op="floor_divide", ufunc=np.floor_divide):
        _check_integer_divisor(op, x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return broadcasting_ufunc(op, ufunc, x, y)

    @staticmethod
    def backward(ctx, grad):
        zero = constant(np.zeros(grad.shape, grad.dtype))
        return tuple(zero if need else None for need in ctx.needs_input_grad)


def _check_integer_divisor(op, x, y):
    if np.result_type(x, y).kind in "iub" and np.size(x) and np.any(np.asarray(y) == 0):  # (x empty: no division)
        raise DivisionByZeroError(f"{op}: integer division by zero (the divisor, of shape {np.shape(y)}, "
                                  "holds a 0)")


class Maximum(Primitive):
    """The gradient goes to the larger input; ties split it evenly (as PyTorch)."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return broadcasting_ufunc("maximum", np.maximum, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        x, y = data_of(x), data_of(y)
        return _extremum_grads(grad, x, y, x_loses=x < y, y_loses=y < x)


def _extremum_grads(grad, x, y, x_loses, y_loses):
    """As PyTorch: the gradient goes to each input that did not lose, half to each at a tie (both get it
    where a NaN makes the comparison fail), and is exactly 0 for the loser."""
    tie = np.equal(x, y)
    grads = []
    for loses in (x_loses, y_loses):
        share = np.asarray(np.logical_not(loses), dtype=grad.dtype)
        if tie.any():
            share[tie] = 0.5
        grads.append(ScaleKeepingZeros.apply(grad, factor=share))
    return tuple(grads)


class Minimum(Primitive):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return broadcasting_ufunc("minimum", np.minimum, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        x, y = data_of(x), data_of(y)
        return _extremum_grads(grad, x, y, x_loses=x > y, y_loses=y > x)


class Hypot(Primitive):
    """hypot(x, y) = sqrt(x**2 + y**2), without overflow: d/dx = x / hypot, d/dy = y / hypot."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.save_output(broadcasting_ufunc("hypot", np.hypot, x, y))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        scale = grad / ctx.output
        return scale * x, scale * y


class LogAddExp(Primitive):
    """log(exp(x) + exp(y)), and logaddexp2 = log2(2**x + 2**y), computed stably: d/dx = sigmoid((x - y) ln b),
    d/dy = sigmoid((y - x) ln b) for the base b (e, or 2 with `ln_base` ln 2)."""
    @staticmethod
    def forward(ctx, x, y, op, ufunc, ln_base):
        ctx.ln_base = ln_base
        ctx.save_for_backward(x, y)
        return broadcasting_ufunc(op, ufunc, x, y)

    @staticmethod
    def backward(ctx, grad):
        from .activations import sigmoid
        x, y = ctx.saved_tensors
        share_x = sigmoid((x - y) * ctx.ln_base)
        return grad * share_x, grad * (1 - share_x)


class CopySign(Primitive):
    """|x| with the sign of y: piecewise linear in x, d/dx = copysign(x, y) / x (0 where x == 0, as PyTorch),
    and zero gradient in y."""
    @staticmethod
    def forward(ctx, x, y):
        out = broadcasting_ufunc("copysign", np.copysign, x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.slope = np.where(np.asarray(x) == 0, 0, out / x).astype(out.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        return (grad * constant(ctx.slope) if need_x else None), (grad * 0 if need_y else None)


class NanExtremum(Primitive):
    """fmax and fmin: the larger (smaller) of x and y where NaN loses to a number. The gradient goes to x
    where x wins (ties included) or y is NaN, to y elsewhere, as PyTorch."""
    @staticmethod
    def forward(ctx, x, y, op, ufunc):
        out = broadcasting_ufunc(op, ufunc, x, y)
        x_wins = (out == x) | np.isnan(y)   # out == x is False where x is NaN
        ctx.to_x = np.broadcast_to(x_wins, out.shape).astype(out.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        to_x = constant(ctx.to_x)
        return grad * to_x, grad * (1 - to_x)


class Where(Primitive):
    """where(cond, x, y): the gradient goes to x where cond holds, to y elsewhere."""
    @staticmethod
    def forward(ctx, x, y, condition):
        ctx.condition = condition
        try:
            return np.where(condition, x, y)
        except ValueError:
            raise broadcast_error("where", np.shape(condition), np.broadcast_shapes(np.shape(x), np.shape(y))
                                  if _broadcastable(x, y) else np.shape(x)) from None

    @staticmethod
    def backward(ctx, grad):
        zero = constant(np.zeros((), grad.dtype))
        need_x, need_y = ctx.needs_input_grad
        return (Where.apply(grad, zero, condition=ctx.condition) if need_x else None,
                Where.apply(zero, grad, condition=ctx.condition) if need_y else None)


def _broadcastable(x, y):
    try:
        np.broadcast_shapes(np.shape(x), np.shape(y))
        return True
    except ValueError:
        return False


# -- the functions -----------------------------------------------------------------------------

def add(x: TensorLike, y: TensorLike, *, alpha: float = 1) -> Tensor:
    """x + alpha * y, elementwise with broadcasting; either may be a Python number. An integer or bool
    tensor meeting a floating one takes its dtype. As `torch.add`."""
    return Add.apply(*operands(x, y if alpha == 1 else mul(y, alpha)))


def sub(x: TensorLike, y: TensorLike, *, alpha: float = 1) -> Tensor:
    """x - alpha * y, elementwise with broadcasting; either may be a Python number. As `torch.sub`
    (alias `subtract`)."""
    return Sub.apply(*operands(x, y if alpha == 1 else mul(y, alpha)))


def mul(x: TensorLike, y: TensorLike) -> Tensor:
    """x * y, elementwise with broadcasting; either may be a Python number. As `torch.mul` (alias
    `multiply`)."""
    return Mul.apply(*operands(x, y))


def div(x: TensorLike, y: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
    """x / y, true division, elementwise with broadcasting; two integer operands give float32. With
    `rounding_mode` "floor" (as //) or "trunc" (toward zero) the quotient is rounded, integers stay integers,
    and the gradient is zero. As `torch.div` (aliases `divide`, `true_divide`)."""
    if rounding_mode is not None:
        return _rounded_div(x, y, rounding_mode)
    if _integer_operand(x) and _integer_operand(y):  # as PyTorch: integers divide to float32, each from its
        x, y = (_as_dtype(v, np.float32) if hasattr(v, "dtype") else v for v in (x, y))  # own values
    return Div.apply(*operands(x, y))


def _rounded_div(x, y, rounding_mode):
    if rounding_mode == "floor":
        return floor_divide(x, y)
    if rounding_mode != "trunc":
        raise ArgumentError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    return RoundedDivide.apply(*operands(x, y), op="div", ufunc=_trunc_divide)


def _trunc_divide(x, y):
    """x / y rounded toward zero; exact in integers, where x - fmod(x, y) is a multiple of y."""
    if np.result_type(x, y).kind in "biu":
        return np.floor_divide(np.subtract(x, np.fmod(x, y)), y)
    return np.trunc(np.true_divide(x, y))


def _integer_operand(value):
    """Whether `value` (a Tensor, an array or a Python number) is an integer or bool."""
    dtype = getattr(value, "dtype", None)
    return dtype.kind in "biu" if dtype is not None else isinstance(value, int)


true_divide = divide = div
multiply, subtract = mul, sub


def pow(x: TensorLike, exponent: TensorLike) -> Tensor:
    """x ** exponent, elementwise with broadcasting; either may be a Python number (an integer tensor to a
    float power gives float32). The gradient in the exponent is taken as 0 where x == 0. As `torch.pow`."""
    if isinstance(x, Tensor) and not isinstance(exponent, Tensor) and np.ndim(exponent) == 0:
        if x.dtype.kind in "biu" and isinstance(exponent, float):  # as PyTorch: int ** float is float32
            x = _as_dtype(x, np.float32)
        elif x.dtype.kind == "b" and not isinstance(exponent, bool):  # and bool ** int is int64
            x = _as_dtype(x, np.int64)
        elif x.dtype.kind in "iu" and exponent < 0:
            raise ArgumentError(f"pow: integers to negative integer powers are not allowed (a tensor of dtype "
                                f"{x.dtype} to the power {exponent}); make the tensor floating point first")
        return PowScalar.apply(x, exponent=exponent.item() if hasattr(exponent, "item") else exponent)
    if not isinstance(x, Tensor):  # 2 ** t: the base as an array, since backward takes its log
        x = constant(scalar_operand(x, exponent))
    return Pow.apply(*operands(x, exponent))


def remainder(x: TensorLike, y: TensorLike) -> Tensor:
    """x % y with the sign of y (Python's %), elementwise with broadcasting. As `torch.remainder`."""
    return Remainder.apply(*operands(x, y), op="remainder", ufunc=np.remainder, rounding=floor)


def fmod(x: TensorLike, y: TensorLike) -> Tensor:
    """The remainder of x / y with the sign of x (C's fmod), elementwise with broadcasting. As
    `torch.fmod`."""
    return Fmod.apply(*operands(x, y), op="fmod", ufunc=np.fmod, rounding=trunc)


def floor_divide(x: TensorLike, y: TensorLike) -> Tensor:
    """floor(x / y) as Python's //, elementwise with broadcasting; its gradient is zero (PyTorch has none
    and raises). As `torch.floor_divide`."""
    return RoundedDivide.apply(*operands(x, y))


def maximum(x: TensorLike, y: TensorLike) -> Tensor:
    """The larger of x and y, elementwise with broadcasting; at ties the gradient is split evenly. As
    `torch.maximum`."""
    return Maximum.apply(*operands(x, y))


def minimum(x: TensorLike, y: TensorLike) -> Tensor:
    """The smaller of x and y, elementwise with broadcasting; at ties the gradient is split evenly. As
    `torch.minimum`."""
    return Minimum.apply(*operands(x, y))


def hypot(x: TensorLike, y: TensorLike) -> Tensor:
    """sqrt(x**2 + y**2), elementwise with broadcasting, without overflow. As `torch.hypot`."""
    return Hypot.apply(*operands(x, y))


def logaddexp(x: TensorLike, y: TensorLike) -> Tensor:
    """log(exp(x) + exp(y)), elementwise with broadcasting, computed stably. As `torch.logaddexp`."""
    return LogAddExp.apply(*operands(x, y), op="logaddexp", ufunc=np.logaddexp, ln_base=1.0)


def logaddexp2(x: TensorLike, y: TensorLike) -> Tensor:
    """log2(2**x + 2**y), elementwise with broadcasting, computed stably. As `torch.logaddexp2`."""
    return LogAddExp.apply(*operands(x, y), op="logaddexp2", ufunc=np.logaddexp2, ln_base=math.log(2))


def copysign(x: TensorLike, y: TensorLike) -> Tensor:
    """|x| with the sign of y (-0.0 counts as negative), elementwise with broadcasting; integers give float32.
    As `torch.copysign`."""
    x, y = operands(x, y)
    if all(not isinstance(v, Tensor) or v.dtype.kind in "biu" for v in (x, y)):
        x, y = (_as_dtype(v, np.float32) if isinstance(v, Tensor) else float(v) for v in (x, y))
    return CopySign.apply(x, y)


def fmax(x: TensorLike, y: TensorLike) -> Tensor:
    """The larger of x and y, elementwise with broadcasting, where a NaN loses to a number (NaN only if both
    are). As `torch.fmax`."""
    return NanExtremum.apply(*operands(x, y), op="fmax", ufunc=np.fmax)


def fmin(x: TensorLike, y: TensorLike) -> Tensor:
    """The smaller of x and y, elementwise with broadcasting, where a NaN loses to a number. As `torch.fmin`."""
    return NanExtremum.apply(*operands(x, y), op="fmin", ufunc=np.fmin)


def float_power(x: TensorLike, exponent: TensorLike) -> Tensor:
    """x ** exponent computed in float64 whatever the dtypes, elementwise with broadcasting. As
    `torch.float_power`."""
    if isinstance(x, Tensor):
        x = cast(x, np.float64)
    if isinstance(exponent, Tensor):
        exponent = cast(exponent, np.float64)
    elif not isinstance(x, Tensor):
        raise TypeError("float_power: needs a tensor as the base or the exponent")
    return pow(x, exponent)


def ldexp(x: TensorLike, other: TensorLike) -> Tensor:
    """x * 2**other, elementwise with broadcasting. As `torch.ldexp`."""
    other = floating(other) if isinstance(other, Tensor) else constant(np.asarray(other, np.float32))
    return mul(x, exp2(other))


def heaviside(x: Tensor, values: TensorLike) -> Tensor:
    """The step function: 0 where x < 0, 1 where x > 0, `values` (broadcast) where x == 0; outside the graph
    (it has no useful gradient; PyTorch has none). As `torch.heaviside`."""
    value_data = values._data if isinstance(values, Tensor) else np.asarray(values, x.dtype)
    if value_data.dtype != x.dtype:
        raise DTypeError(f"heaviside: input ({x.dtype}) and values ({value_data.dtype}) must have the same dtype")
    return constant(np.asarray(broadcasting_ufunc("heaviside", np.heaviside, x._data, value_data)).astype(x.dtype))


def where(condition: TensorLike, x: TensorLike = None, y: TensorLike = None) -> Tensor:
    """where(condition, x, y); either branch may be a Python scalar. As torch's, `where(condition)`
    alone is `nonzero(condition, as_tuple=True)`: a tuple of index tensors, one per dimension."""
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (where(condition) is nonzero(condition, as_tuple=True))")
    # A tensor's mask is copied: the graph keeps it, and a later in-place write must not change it.
    condition = condition._data.copy() if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        condition = condition.astype(bool)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):   # as PyTorch: where(c, 1, 0) is int64
        x, y = (v.item() if isinstance(v, np.generic) else v for v in (x, y))
        dtype = result_type(x, y)
        x, y = constant(np.asarray(x, dtype)), constant(np.asarray(y, dtype))
    x, y = operands(x, y)
    return Where.apply(x, y, condition=condition)


def xlogy(x: TensorLike, y: TensorLike) -> Tensor:
    """x * log(y), and 0 where x is 0 whatever y (the p log p terms of an entropy). Gradients:
    log(y) for x (0 where x is 0), x / y for y. As `torch.xlogy`."""
    from .elementwise import log
    x, y = operands(x, y)
    zero = x._data == 0
    return where(zero, 0.0, mul(x, log(where(zero, 1.0, y))))


def masked_fill(x: Tensor, mask: TensorLike, value: TensorLike) -> Tensor:
    """x with `value` (a number or one-element tensor, cast to x's dtype) where the bool `mask` (broadcast
    to x) is True; no gradient reaches x there. As `Tensor.masked_fill`."""
    mask_dtype = getattr(mask, "dtype", None) or np.asarray(mask).dtype
    if mask_dtype != np.bool_:   # as PyTorch: a float mask is more likely an additive one (0 / -inf) used wrongly
        raise DTypeError(f"masked_fill: the mask must be a bool tensor, got {mask_dtype} (compare to make one: "
                         "mask != 0)")
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=x.dtype)  # as PyTorch: the fill value takes the tensor's dtype
    return where(mask, value, x)


def addcmul(input: TensorLike, tensor1: TensorLike, tensor2: TensorLike, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2, broadcast together. As `torch.addcmul`."""
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input: TensorLike, tensor1: TensorLike, tensor2: TensorLike, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2, broadcast together. As `torch.addcdiv`."""
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def lerp(input: TensorLike, end: TensorLike, weight: TensorLike) -> Tensor:
    """input + weight * (end - input): linear interpolation from input towards end. As `torch.lerp`."""
    return add(input, mul(weight, sub(end, input)))
