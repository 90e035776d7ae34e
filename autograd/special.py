"""`autograd.special`: the names PyTorch keeps under `torch.special` (SciPy's `scipy.special`), so that
`torch.special.expit(x)`, `torch.special.gammaln(x)` run after `torch` -> `autograd`. The kernels live
with their op families (ops/special.py, ops/elementwise.py, ...); here are torch.special's names for
them and the few functions made from them, each differentiable as its parts are."""
import math

from .ops import (digamma, erf, erfc, erfinv, exp2, expm1, lgamma, log1p, log_softmax, logit, logsumexp,
                  polygamma, round, sigmoid, sinc, softmax, xlogy)

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "ndtr", "polygamma", "psi", "round", "sinc", "softmax", "xlogy"]

expit = sigmoid
gammaln = lgamma
psi = digamma


def ndtr(x):
    """The standard normal distribution function, (1 + erf(x / sqrt 2)) / 2: `torch.special.ndtr`."""
    return (1 + erf(x * (1 / math.sqrt(2)))) * 0.5


def log_ndtr(x):
    """log(ndtr(x)), through erfc so that the left tail keeps its digits: `torch.special.log_ndtr`."""
    return (erfc(x * (-1 / math.sqrt(2))) * 0.5).log()

