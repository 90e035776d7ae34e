"""Trigonometric and hyperbolic functions (radians), each backward right under its forward:
sin, cos, tan and their inverses, atan2, and sinh, cosh and the inverse hyperbolic functions
(tanh, the activation, lives in elementwise.py)."""
import numpy as np

from ..function import Primitive
from ..tensor import Tensor, TensorLike
from .arithmetic import broadcasting_ufunc, operands
from .elementwise import floating, rsqrt


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


class Tan(Primitive):
    """tan'(x) = 1 + tan(x)**2, from the saved output."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.tan(x))

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return grad * (1 + y * y)


class Inverse(Primitive):
    """asin, acos, atan, asinh, acosh, atanh: `derivative(x)` gives each one's derivative as Tensor
    ops (so it is differentiable again). The node is named after the function (AsinBackward...)."""
    @staticmethod
    def forward(ctx, x, func, derivative):
        ctx.func, ctx.derivative = func, derivative
        ctx.save_for_backward(x)
        return func(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.derivative(x)

    def name(self):
        return "A" + self.func.__name__[3:]   # np.arcsin -> Asin, as torch's AsinBackward0


class Sinh(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cosh(x)


class Cosh(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sinh(x)


class Atan2(Primitive):
    """atan2(y, x), the angle of the point (x, y): d/dy = x / (x² + y²), d/dx = -y / (x² + y²)."""
    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return broadcasting_ufunc("atan2", np.arctan2, y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        scale = grad / (x * x + y * y)
        return scale * x, -scale * y


# -- the functions -----------------------------------------------------------------------------

def sin(x: Tensor) -> Tensor:
    """The sine (radians), elementwise. As `torch.sin`."""
    return Sin.apply(floating(x))


def cos(x: Tensor) -> Tensor:
    """The cosine (radians), elementwise. As `torch.cos`."""
    return Cos.apply(floating(x))


def tan(x: Tensor) -> Tensor:
    """The tangent (radians), elementwise. As `torch.tan`."""
    return Tan.apply(floating(x))


def asin(x: Tensor) -> Tensor:
    """The arcsine, elementwise; NaN outside [-1, 1]. As `torch.asin` (alias `arcsin`)."""
    return Inverse.apply(floating(x), func=np.arcsin, derivative=lambda t: rsqrt(1 - t * t))


def acos(x: Tensor) -> Tensor:
    """The arccosine, elementwise; NaN outside [-1, 1]. As `torch.acos` (alias `arccos`)."""
    return Inverse.apply(floating(x), func=np.arccos, derivative=lambda t: -rsqrt(1 - t * t))


def atan(x: Tensor) -> Tensor:
    """The arctangent, elementwise. As `torch.atan` (alias `arctan`)."""
    return Inverse.apply(floating(x), func=np.arctan, derivative=lambda t: 1 / (1 + t * t))


def sinh(x: Tensor) -> Tensor:
    """The hyperbolic sine, elementwise. As `torch.sinh`."""
    return Sinh.apply(floating(x))


def cosh(x: Tensor) -> Tensor:
    """The hyperbolic cosine, elementwise. As `torch.cosh`."""
    return Cosh.apply(floating(x))


def asinh(x: Tensor) -> Tensor:
    """The inverse hyperbolic sine, elementwise. As `torch.asinh` (alias `arcsinh`)."""
    return Inverse.apply(floating(x), func=np.arcsinh, derivative=lambda t: rsqrt(t * t + 1))


def acosh(x: Tensor) -> Tensor:
    """The inverse hyperbolic cosine, elementwise; NaN below 1. As `torch.acosh` (alias `arccosh`)."""
    return Inverse.apply(floating(x), func=np.arccosh, derivative=lambda t: rsqrt(t * t - 1))


def atanh(x: Tensor) -> Tensor:
    """The inverse hyperbolic tangent, elementwise; NaN outside [-1, 1]. As `torch.atanh` (alias `arctanh`)."""
    return Inverse.apply(floating(x), func=np.arctanh, derivative=lambda t: 1 / (1 - t * t))


def atan2(y: TensorLike, x: TensorLike) -> Tensor:
    """The angle of the point (x, y) in radians, elementwise with broadcasting; either may be a
    number. As `torch.atan2` (alias `arctan2`)."""
    y, x = operands(y, x)
    return Atan2.apply(floating(y) if isinstance(y, Tensor) else y, floating(x) if isinstance(x, Tensor) else x)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2
