"""Identity, Linear, Bilinear and Maxout."""
import math

from .. import functional as F
from .. import init
from ..module import Module
from ._utils import new_parameter, reset_weight_and_bias, shape_error


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features), for x of shape (*, in_features).
    Initialised as PyTorch: W ~ kaiming_uniform_(a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = new_parameter((out_features, in_features), dtype, device)
        if bias:
            self.bias = new_parameter((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight and bias again as at construction (PyTorch's initialisation)."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise shape_error(self, f"expected an input whose last dimension is in_features={self.in_features}",
                              input.shape)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Maxout(Module):
    """Maxout units (Goodfellow et al., 2013): a Linear layer to out_features * pieces outputs,
    then the max over each unit's `pieces` consecutive outputs."""

    def __init__(self, in_features, out_features, pieces, bias=True, device=None, dtype=None):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be at least 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.weight = new_parameter((out_features * pieces, in_features), dtype, device)
        if bias:
            self.bias = new_parameter((out_features * pieces,), dtype, device)
        else:
            self.register_parameter("bias", None)
        Linear.reset_parameters(self)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise shape_error(self, f"expected an input whose last dimension is in_features={self.in_features}",
                              input.shape)
        out = F.linear(input, self.weight, self.bias)
        return out.reshape(*input.shape[:-1], self.out_features, self.pieces).amax(-1)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1^T A x2 + b, with A of shape (out_features, in1_features, in2_features). Initialised as
    PyTorch: A and b ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)). As `torch.nn.Bilinear`."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = new_parameter((out_features, in1_features, in2_features), dtype, device)
        if bias:
            self.bias = new_parameter((out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight and bias again from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
