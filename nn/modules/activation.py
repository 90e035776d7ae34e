"""Activation modules: thin wrappers around nn.functional, with PyTorch's reprs."""
import autograd as ag

from .. import functional as F
from ..module import Module
from ..parameter import Parameter


def _inplace(flag, leading=""):
    return f"{leading}inplace=True" if flag else ""


class ReLU(Module):
    """max(x, 0), elementwise (written into the input with `inplace`). As `torch.nn.ReLU`."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x (written into the input with `inplace`). As
    `torch.nn.LeakyReLU`."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace, ", ")


class PReLU(Module):
    """leaky_relu with a learned slope: one shared (num_parameters=1) or one per channel."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(ag.full((num_parameters,), init, dtype=dtype or ag.float32))

    def reset_parameters(self):
        """Set every slope back to `init`."""
        from .. import init as nn_init
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF: exact (erf) with approximate='none', PyTorch's tanh formula
    with 'tanh'. As `torch.nn.GELU`."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise. As `torch.nn.Sigmoid`."""

    def forward(self, input):
        return ag.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent, elementwise. As `torch.nn.Tanh`."""

    def forward(self, input):
        return ag.tanh(input)


class SiLU(Module):
    """x * sigmoid(x), elementwise (written into the input with `inplace`). As `torch.nn.SiLU`."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (written into the input with `inplace`). As
    `torch.nn.ELU`."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace(self.inplace, ", ")


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. As `torch.nn.Softplus`."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along `dim` (None: chosen as PyTorch does, with a warning). As `torch.nn.Softmax`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax along `dim` (None: chosen as PyTorch does, with a warning). As `torch.nn.LogSoftmax`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"
