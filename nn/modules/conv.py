"""Convolutions: Conv1d, Conv2d, Conv3d and the transposed ConvTranspose1d, ConvTranspose2d,
ConvTranspose3d."""

from .. import functional as F
from ..module import Module
from ._utils import check_spatial_input, new_parameter, ntuple, reset_weight_and_bias, shape_error

class _ConvNd(Module):
    """What every convolution module shares, as torch.nn's _ConvNd: the arguments (as tuples of
    `dims` ints), the weight, (out_channels, in_channels / groups, *kernel_size), or for a
    transposed convolution (in_channels, out_channels / groups, *kernel_size), the bias
    (out_channels,), and PyTorch's default initialisation."""
    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        modes = ("zeros",) if self.transposed else ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {', '.join(map(repr, modes))} for "
                             f"{type(self).__name__}, but got padding_mode='{padding_mode}'")
        n = self.dims
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = ntuple(kernel_size, n), ntuple(stride, n)
        self.dilation, self.output_padding = ntuple(dilation, n), (0,) * n
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r} for {type(self).__name__}"
                                 + ("" if self.transposed else ", should be one of {'valid', 'same'}"))
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(padding, n)
        self.groups, self.padding_mode = groups, padding_mode
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = new_parameter(channels + self.kernel_size, dtype, device)
        if bias:
            self.bias = new_parameter((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def _check(self, input):
        n = self.dims
        check_spatial_input(self, input, n)
        if input.shape[-n - 1] != self.in_channels:
            raise shape_error(self, f"expected an input with in_channels={self.in_channels} channels "
                              f"(dim {input.ndim - n - 1})", input.shape)

    def _explicit_padding(self):
        """F.pad's widths (last dim first) for padding_mode != 'zeros'."""
        if self.padding == "valid":
            return (0, 0) * self.dims
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            widths = [(total // 2, total - total // 2) for total in totals]
        else:
            widths = [(p, p) for p in self.padding]
        return tuple(w for pair in reversed(widths) for w in pair)

    def _convolve(self, input, conv):
        self._check(input)
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) (or unbatched (C, L)) inputs, as torch.nn.Conv1d."""
    dims = 1

    def forward(self, input):
        return self._convolve(input, F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) inputs, as torch.nn.Conv2d:
    weight (out_channels, in_channels / groups, kh, kw), bias (out_channels,); padding is an int,
    a pair, 'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""

    def forward(self, input):
        return self._convolve(input, F.conv2d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) (or unbatched (C, D, H, W)) inputs, as torch.nn.Conv3d:
    weight (out_channels, in_channels / groups, kd, kh, kw), bias (out_channels,); padding is an
    int, a triple, 'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""
    dims = 3

    def forward(self, input):
        return self._convolve(input, F.conv3d)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        self.output_padding = ntuple(output_padding, self.dims)

    def _output_padding(self, input, output_size):
        """The output_padding that gives `output_size` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        output_size = tuple(int(s) for s in output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or {n + 2} elements, "
                             f"got {output_size}")
        padding = []
        for size, wanted, s, p, d, k in zip(input.shape[-n:], output_size, self.stride, self.padding,
                                            self.dilation, self.kernel_size):
            smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= wanted < smallest + s:
                raise ValueError(f"{type(self).__name__}: requested an output size of {output_size}, but valid "
                                 f"sizes range from {smallest} to {smallest + s - 1} in each spatial dim")
            padding.append(wanted - smallest)
        return tuple(padding)

    def _convolve_transposed(self, input, output_size, conv_transpose):
        self._check(input)
        return conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (the adjoint of Conv1d in its input), as torch.nn.ConvTranspose1d:
    weight (in_channels, out_channels / groups, k)."""
    dims = 1

    def forward(self, input, output_size=None):
        return self._convolve_transposed(input, output_size, F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the adjoint of Conv2d in its input), as torch.nn.ConvTranspose2d:
    weight (in_channels, out_channels / groups, kh, kw)."""

    def forward(self, input, output_size=None):
        return self._convolve_transposed(input, output_size, F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution (the adjoint of Conv3d in its input), as torch.nn.ConvTranspose3d:
    weight (in_channels, out_channels / groups, kd, kh, kw)."""
    dims = 3

    def forward(self, input, output_size=None):
        return self._convolve_transposed(input, output_size, F.conv_transpose3d)
