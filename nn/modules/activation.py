"""Activation modules: thin wrappers around nn.functional, with PyTorch's reprs."""
import autograd as ag

from .. import functional as F
from ..module import Module
from ..parameter import Parameter


def _inplace(flag, leading=""):
    return f"{leading}inplace=True" if flag else ""


class _InplaceActivation(Module):
    """An elementwise activation `function(input, inplace)` with PyTorch's `inplace` flag and repr."""
    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class ReLU(_InplaceActivation):
    """max(x, 0), elementwise (written into the input with `inplace`). As `torch.nn.ReLU`."""
    function = staticmethod(F.relu)


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


class SiLU(_InplaceActivation):
    """x * sigmoid(x), elementwise (written into the input with `inplace`). As `torch.nn.SiLU`."""
    function = staticmethod(F.silu)


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


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (written into the input with `inplace`). As `torch.nn.Hardtanh`."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace, ", ")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) (written into the input with `inplace`). As `torch.nn.ReLU6`."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class Hardsigmoid(_InplaceActivation):
    """relu6(x + 3) / 6. As `torch.nn.Hardsigmoid`."""
    function = staticmethod(F.hardsigmoid)


class Hardswish(_InplaceActivation):
    """x * relu6(x + 3) / 6. As `torch.nn.Hardswish`."""
    function = staticmethod(F.hardswish)


class SELU(_InplaceActivation):
    """scale * elu(x, alpha) with SELU's constants. As `torch.nn.SELU`."""
    function = staticmethod(F.selu)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x)). As `torch.nn.Mish`."""
    function = staticmethod(F.mish)


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). As `torch.nn.CELU`."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace(self.inplace, ", ")


class Threshold(Module):
    """x where x > threshold, else value. As `torch.nn.Threshold`."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self.inplace, ", ")


class Softsign(Module):
    """x / (1 + |x|). As `torch.nn.Softsign`."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x). As `torch.nn.Tanhshrink`."""

    def forward(self, input):
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """log(sigmoid(x)). As `torch.nn.LogSigmoid`."""

    def forward(self, input):
        return F.logsigmoid(input)


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between. As `torch.nn.Softshrink`."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0. As `torch.nn.Hardshrink`."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Softmin(Module):
    """softmax(-x) along `dim`. As `torch.nn.Softmin`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class GLU(Module):
    """The gated linear unit: a * sigmoid(b), a and b the halves of the input along `dim`. As
    `torch.nn.GLU`."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels (dim -3) of a (N, C, H, W) or (C, H, W) input, at each location. As
    `torch.nn.Softmax2d`."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ag.ShapeError(f"Softmax2d: expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                                f"{tuple(input.shape)}")
        return F.softmax(input, -3)


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes in U(lower, upper) in training, their mean in
    eval mode. As `torch.nn.RReLU`."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace(self.inplace, ', ')}"
