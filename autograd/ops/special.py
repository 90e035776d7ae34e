"""Special functions, as torch's: lgamma, digamma, polygamma, erfinv, erfc. SciPy's kernels compute
them (each is a series or rational approximation we would otherwise have to write and test); each
derivative, below its forward, is the next function of the family, so every order of gradient works:
d lgamma = digamma, d digamma = polygamma(1), d polygamma(n) = polygamma(n + 1),
d erfinv(x) = sqrt(pi) / 2 exp(erfinv(x)**2), d erfc(x) = -2 / sqrt(pi) exp(-x**2).
"""
import math
import numbers

import numpy as np
import scipy.special

from ..errors import ArgumentError, DTypeError
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import exp, floating


def _in_dtype_of(x, values):
    """SciPy's result in x's floating dtype (some kernels, polygamma's, answer in float64)."""
    return np.asarray(values, dtype=x.dtype)


class Polygamma(Primitive):
    """The n-th derivative of digamma (n = 0: digamma itself); its derivative is polygamma(n + 1)."""
    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        kernel = scipy.special.psi(x) if n == 0 else scipy.special.polygamma(n, x)
        return _in_dtype_of(x, kernel)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, n=ctx.n + 1)


class _FromKernel(Primitive):
    """f(x) by the SciPy kernel of the subclass; the gradient is grad * its `derivative(x)`, written in
    Tensor ops (so differentiable again). ctx is an instance of the subclass, so it finds both."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_dtype_of(x, ctx.kernel(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.derivative(x)


class LogGamma(_FromKernel):
    """log|Gamma(x)|; its derivative is digamma."""
    kernel = staticmethod(scipy.special.gammaln)

    @staticmethod
    def derivative(x):
        """digamma(x)."""
        return Polygamma.apply(x, n=0)


class Erfc(_FromKernel):
    """1 - erf(x), without the cancellation for large x; derivative -2/sqrt(pi) exp(-x**2)."""
    kernel = staticmethod(scipy.special.erfc)

    @staticmethod
    def derivative(x):
        """-2/sqrt(pi) exp(-x**2)."""
        return exp(-(x * x)) * (-2 / math.sqrt(math.pi))


class ErfInv(Primitive):
    """The inverse of erf on (-1, 1); its derivative, from the saved output y, is sqrt(pi)/2 exp(y**2)."""
    @staticmethod
    def forward(ctx, x):
        return ctx.save_output(_in_dtype_of(x, scipy.special.erfinv(x)))

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return grad * (exp(y * y) * (math.sqrt(math.pi) / 2))


def _real_floating(op, x):
    x = floating(x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a real tensor, got {x.dtype}")
    return x


def lgamma(x: Tensor) -> Tensor:
    """log|Gamma(x)|, elementwise (inf at 0 and the negative integers). As `torch.lgamma`."""
    return LogGamma.apply(_real_floating("lgamma", x))


def digamma(x: Tensor) -> Tensor:
    """The derivative of lgamma, elementwise (-inf at 0, NaN at the negative integers). As
    `torch.digamma`."""
    return Polygamma.apply(_real_floating("digamma", x), n=0)


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of digamma (n >= 0; 0 is digamma), elementwise. As `torch.polygamma`."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise DTypeError(f"polygamma: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ArgumentError(f"polygamma: n must be non-negative, got {n}")
    return Polygamma.apply(_real_floating("polygamma", x), n=int(n))


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function, elementwise: +-inf at +-1, NaN outside [-1, 1]. As `torch.erfinv`."""
    return ErfInv.apply(_real_floating("erfinv", x))


def erfc(x: Tensor) -> Tensor:
    """The complementary error function 1 - erf(x), elementwise, accurate where erf(x) is near 1. As
    `torch.erfc`."""
    return Erfc.apply(_real_floating("erfc", x))
