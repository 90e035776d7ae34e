"""Trigonometric and hyperbolic functions (radians), each backward right under its forward:
sin, cos, tan and their inverses, atan2, sinh, cosh and the inverse hyperbolic functions (tanh, the
activation, lives in elementwise.py), sinc, and the conversions between degrees and radians."""
import math

import numpy as np

from ..function import Primitive
from ..tensor import Tensor, TensorLike
from .arithmetic import broadcasting_ufunc, operands, where
from .elementwise import floating, rsqrt


class Tan(Primitive):
    """tan'(x) = 1 + tan(x)**2, from the saved output."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(np.tan(x))

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return grad * (1 + y * y)


class Trigonometric(Primitive):
    """sin, cos, sinh, cosh and the inverse functions: `func` on arrays forward, and backward
    grad * derivative(x), the derivative given as Tensor ops (so it is differentiable again). The
    node is named after the function (SinBackward, AsinBackward...)."""
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
        name = self.func.__name__   # np.arcsin -> Asin, as torch's AsinBackward0
        return "A" + name[3:] if name.startswith("arc") else name.capitalize()


class Atan2(Primitive):
    """atan2(y, x), the angle of the point (x, y): d/dy = x / (x² + y²), d/dx = -y / (x² + y²), taken as 0
    at the origin (as PyTorch; the formula gives 0/0 there)."""
    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return broadcasting_ufunc("atan2", np.arctan2, y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        squared_radius = x * x + y * y
        origin = squared_radius._data == 0
        if origin.any():
            scale = where(origin, 0.0, grad / where(origin, 1.0, squared_radius))
        else:
            scale = grad / squared_radius
        return scale * x, -scale * y


# -- the functions -----------------------------------------------------------------------------

def sin(x: Tensor) -> Tensor:
    """The sine (radians), elementwise. As `torch.sin`."""
    return Trigonometric.apply(floating(x), func=np.sin, derivative=cos)


def cos(x: Tensor) -> Tensor:
    """The cosine (radians), elementwise. As `torch.cos`."""
    return Trigonometric.apply(floating(x), func=np.cos, derivative=lambda t: -sin(t))


def tan(x: Tensor) -> Tensor:
    """The tangent (radians), elementwise. As `torch.tan`."""
    return Tan.apply(floating(x))


def asin(x: Tensor) -> Tensor:
    """The arcsine, elementwise; NaN outside [-1, 1]. As `torch.asin` (alias `arcsin`)."""
    return Trigonometric.apply(floating(x), func=np.arcsin, derivative=lambda t: rsqrt(1 - t * t))


def acos(x: Tensor) -> Tensor:
    """The arccosine, elementwise; NaN outside [-1, 1]. As `torch.acos` (alias `arccos`)."""
    return Trigonometric.apply(floating(x), func=np.arccos, derivative=lambda t: -rsqrt(1 - t * t))


def atan(x: Tensor) -> Tensor:
    """The arctangent, elementwise. As `torch.atan` (alias `arctan`)."""
    return Trigonometric.apply(floating(x), func=np.arctan, derivative=lambda t: 1 / (1 + t * t))


def sinh(x: Tensor) -> Tensor:
    """The hyperbolic sine, elementwise. As `torch.sinh`."""
    return Trigonometric.apply(floating(x), func=np.sinh, derivative=cosh)


def cosh(x: Tensor) -> Tensor:
    """The hyperbolic cosine, elementwise. As `torch.cosh`."""
    return Trigonometric.apply(floating(x), func=np.cosh, derivative=sinh)


def asinh(x: Tensor) -> Tensor:
    """The inverse hyperbolic sine, elementwise. As `torch.asinh` (alias `arcsinh`)."""
    return Trigonometric.apply(floating(x), func=np.arcsinh, derivative=lambda t: rsqrt(t * t + 1))


def acosh(x: Tensor) -> Tensor:
    """The inverse hyperbolic cosine, elementwise; NaN below 1. As `torch.acosh` (alias `arccosh`)."""
    return Trigonometric.apply(floating(x), func=np.arccosh, derivative=lambda t: rsqrt(t * t - 1))


def atanh(x: Tensor) -> Tensor:
    """The inverse hyperbolic tangent, elementwise; NaN outside [-1, 1]. As `torch.atanh` (alias `arctanh`)."""
    return Trigonometric.apply(floating(x), func=np.arctanh, derivative=lambda t: 1 / (1 - t * t))


def atan2(y: TensorLike, x: TensorLike) -> Tensor:
    """The angle of the point (x, y) in radians, elementwise with broadcasting; either may be a
    number. As `torch.atan2` (alias `arctan2`)."""
    y, x = operands(y, x)
    return Atan2.apply(floating(y) if isinstance(y, Tensor) else y, floating(x) if isinstance(x, Tensor) else x)


def sinc(x: Tensor) -> Tensor:
    """The normalised sinc, sin(pi x) / (pi x), and 1 at 0, elementwise. As `torch.sinc`."""
    return Trigonometric.apply(floating(x), func=np.sinc, derivative=_sinc_derivative)


def _sinc_derivative(t):
    """(cos(pi t) - sinc(t)) / t, and 0 at 0 (where sinc is flat); as PyTorch's, its own derivative at 0 is
    taken as 0 too."""
    zero = t._data == 0
    safe = where(zero, 1.0, t) if zero.any() else t
    slope = (cos(safe * math.pi) - sinc(safe)) / safe
    return where(zero, 0.0, slope) if zero.any() else slope


def deg2rad(x: Tensor) -> Tensor:
    """Degrees converted to radians, elementwise. As `torch.deg2rad` (NumPy's `radians`)."""
    return floating(x) * (math.pi / 180)


def rad2deg(x: Tensor) -> Tensor:
    """Radians converted to degrees, elementwise. As `torch.rad2deg` (NumPy's `degrees`)."""
    return floating(x) * (180 / math.pi)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2
