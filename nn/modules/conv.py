"""Conv2d."""

from .. import functional as F
from ..module import Module
from ._utils import new_parameter, pair, reset_weight_and_bias, shape_error


class Conv2d(Module):
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) inputs, as torch.nn.Conv2d:
    weight (out_channels, in_channels / groups, kh, kw), bias (out_channels,); padding is an int,
    a pair, 'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = pair(kernel_size), pair(stride), pair(dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = pair(padding)
        self.groups, self.padding_mode = groups, padding_mode
        self.output_padding, self.transposed = (0, 0), False
        self.weight = new_parameter((out_channels, in_channels // groups) + self.kernel_size, dtype, device)
        if bias:
            self.bias = new_parameter((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def _explicit_padding(self):
        """(top, bottom, left, right) for padding_mode != 'zeros'."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
        (ph, pw) = self.padding
        return (ph, ph, pw, pw)

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise shape_error(self, "expected a 4-D (N, C, H, W) or 3-D (C, H, W) input", input.shape)
        if input.shape[-3] != self.in_channels:
            raise shape_error(self, f"expected an input with in_channels={self.in_channels} channels "
                              f"(dim {input.ndim - 3})", input.shape)
        if self.padding_mode != "zeros":
            top, bottom, left, right = self._explicit_padding()
            padded = F.pad(input, (left, right, top, bottom), mode=self.padding_mode)
            return F.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
