"""Comparisons, logical and bitwise ops: bool and integer tensors, outside the graph (they have no
gradient)."""
import numpy as np

from ..errors import DTypeError, broadcast_error
from ..tensor import Tensor, TensorLike
from .elementwise import constant


def _compare(name, ufunc, x, y):
    x_data = x._data if isinstance(x, Tensor) else x
    y_data = y._data if isinstance(y, Tensor) else y
    try:
        return constant(np.asarray(ufunc(x_data, y_data)))
    except ValueError:
        raise broadcast_error(name, np.shape(x_data), np.shape(y_data)) from None


def eq(x: TensorLike, y: TensorLike) -> Tensor:
    """x == y, elementwise with broadcasting, as a bool tensor outside the graph; either may be a number.
    As `torch.eq`."""
    return _compare("eq", np.equal, x, y)


def ne(x: TensorLike, y: TensorLike) -> Tensor:
    """x != y, elementwise with broadcasting, as a bool tensor outside the graph. As `torch.ne`."""
    return _compare("ne", np.not_equal, x, y)


def lt(x: TensorLike, y: TensorLike) -> Tensor:
    """x < y, elementwise with broadcasting, as a bool tensor outside the graph. As `torch.lt`."""
    return _compare("lt", np.less, x, y)


def le(x: TensorLike, y: TensorLike) -> Tensor:
    """x <= y, elementwise with broadcasting, as a bool tensor outside the graph. As `torch.le`."""
    return _compare("le", np.less_equal, x, y)


def gt(x: TensorLike, y: TensorLike) -> Tensor:
    """x > y, elementwise with broadcasting, as a bool tensor outside the graph. As `torch.gt`."""
    return _compare("gt", np.greater, x, y)


def ge(x: TensorLike, y: TensorLike) -> Tensor:
    """x >= y, elementwise with broadcasting, as a bool tensor outside the graph. As `torch.ge`."""
    return _compare("ge", np.greater_equal, x, y)


def logical_and(x: TensorLike, y: TensorLike) -> Tensor:
    """x and y (nonzero is True), elementwise with broadcasting, as a bool tensor. As `torch.logical_and`."""
    return _compare("logical_and", np.logical_and, x, y)


def logical_or(x: TensorLike, y: TensorLike) -> Tensor:
    """x or y (nonzero is True), elementwise with broadcasting, as a bool tensor. As `torch.logical_or`."""
    return _compare("logical_or", np.logical_or, x, y)


def logical_xor(x: TensorLike, y: TensorLike) -> Tensor:
    """Exactly one of x and y nonzero, elementwise with broadcasting, as a bool tensor. As
    `torch.logical_xor`."""
    return _compare("logical_xor", np.logical_xor, x, y)


def logical_not(x: Tensor) -> Tensor:
    """x == 0, elementwise, as a bool tensor. As `torch.logical_not`."""
    return constant(np.logical_not(x._data))


def isnan(x: Tensor) -> Tensor:
    """Where x is NaN, as a bool tensor. As `torch.isnan`."""
    return constant(np.isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    """Where x is +inf or -inf, as a bool tensor. As `torch.isinf`."""
    return constant(np.isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    """Where x is neither NaN nor infinite, as a bool tensor. As `torch.isfinite`."""
    return constant(np.isfinite(x._data))


def isposinf(x: Tensor) -> Tensor:
    """Where x is +inf, as a bool tensor. As `torch.isposinf`."""
    return constant(np.isposinf(x._data))


def isneginf(x: Tensor) -> Tensor:
    """Where x is -inf, as a bool tensor. As `torch.isneginf`."""
    return constant(np.isneginf(x._data))


def isreal(x: Tensor) -> Tensor:
    """Where x has no imaginary part (everywhere for a real dtype), as a bool tensor. As `torch.isreal`."""
    return constant(np.isreal(x._data))


def signbit(x: Tensor) -> Tensor:
    """Where the sign bit is set (negative numbers and -0.0), as a bool tensor. As `torch.signbit`."""
    return constant(np.signbit(x._data))


def isclose(x: TensorLike, y: TensorLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Where |x - y| <= atol + rtol |y|, elementwise with broadcasting, as a bool tensor. As `torch.isclose`."""
    x_data, y_data = np.asarray(x), np.asarray(y)
    try:
        return constant(np.asarray(np.isclose(x_data, y_data, rtol=rtol, atol=atol, equal_nan=equal_nan)))
    except ValueError:
        raise broadcast_error("isclose", x_data.shape, y_data.shape) from None


def isin(elements: TensorLike, test_elements: TensorLike, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Where each of `elements` is found among `test_elements`, as a bool tensor of `elements`' shape. As
    `torch.isin`."""
    return constant(np.asarray(np.isin(np.asarray(elements), np.asarray(test_elements), assume_unique=assume_unique,
                                       invert=invert)))


def equal(x: Tensor, y: Tensor) -> bool:
    """True when both tensors have the same shape and elements (torch.equal)."""
    return x.shape == y.shape and bool(np.array_equal(x._data, y._data))


def allclose(x: TensorLike, y: TensorLike, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """True when |x - y| <= atol + rtol |y| everywhere (with broadcasting; NaNs are unequal), as a Python
    bool. As `torch.allclose`."""
    return bool(np.allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol, equal_nan=equal_nan))


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _integer_op(name, ufunc, *operands):
    """A bitwise or number-theoretic ufunc on integer or bool operands (tensors or numbers)."""
    for operand in operands:
        dtype = operand.dtype if isinstance(operand, Tensor) else np.asarray(operand).dtype
        if dtype.kind not in "biu":
            raise DTypeError(f"{name}: needs integer or bool operands, got {dtype}")
    if len(operands) == 1:
        return constant(np.asarray(ufunc(operands[0]._data)))
    from .arithmetic import operands as promoted
    # promoted as arithmetic's operands (PyTorch's rules): a Python int beyond the tensor's dtype wraps, a 0-d
    # tensor takes the dtype of one with dims; comparisons keep NumPy's exact values instead
    return _compare(name, ufunc, *promoted(*operands))


def bitwise_and(x: TensorLike, y: TensorLike) -> Tensor:
    """x & y bit by bit, for integer and bool tensors. As `torch.bitwise_and`."""
    return _integer_op("bitwise_and", np.bitwise_and, x, y)


def bitwise_or(x: TensorLike, y: TensorLike) -> Tensor:
    """x | y bit by bit, for integer and bool tensors. As `torch.bitwise_or`."""
    return _integer_op("bitwise_or", np.bitwise_or, x, y)


def bitwise_xor(x: TensorLike, y: TensorLike) -> Tensor:
    """x ^ y bit by bit, for integer and bool tensors. As `torch.bitwise_xor`."""
    return _integer_op("bitwise_xor", np.bitwise_xor, x, y)


def bitwise_not(x: Tensor) -> Tensor:
    """~x bit by bit (logical not for bool), for integer and bool tensors. As `torch.bitwise_not`."""
    return _integer_op("bitwise_not", np.invert, x)


def bitwise_left_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x << y, for integer tensors. As `torch.bitwise_left_shift`."""
    return _integer_op("bitwise_left_shift", np.left_shift, x, y)


def bitwise_right_shift(x: TensorLike, y: TensorLike) -> Tensor:
    """x >> y (arithmetic shift), for integer tensors. As `torch.bitwise_right_shift`."""
    return _integer_op("bitwise_right_shift", np.right_shift, x, y)


def gcd(x: TensorLike, y: TensorLike) -> Tensor:
    """The greatest common divisor, elementwise, for integer tensors. As `torch.gcd`."""
    return _integer_op("gcd", np.gcd, x, y)


def lcm(x: TensorLike, y: TensorLike) -> Tensor:
    """The least common multiple, elementwise, for integer tensors. As `torch.lcm`."""
    return _integer_op("lcm", np.lcm, x, y)
