"""Pooling: MaxPool1d/2d/3d, MaxUnpool1d/2d/3d, AvgPool1d/2d/3d, LPPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d
and AdaptiveMaxPool1d/2d/3d."""
from .. import functional as F
from ..module import Module
from ._utils import check_spatial_input, ntuple

class _Pool(Module):
    dims = 2

    def _check(self, input):
        check_spatial_input(self, input, self.dims)


class _MaxPoolNd(_Pool):
    """Max over kernel_size windows (stride defaults to kernel_size); padding counts as -inf."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        self._check(input)
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, L) or (C, L) input; stride defaults to kernel_size, padding
    counts as -inf; with return_indices, also the flat indices of the maxima. As `torch.nn.MaxPool1d`."""
    dims = 1
    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W) input; stride defaults to kernel_size,
    padding counts as -inf; with return_indices, also the flat indices of the maxima. As
    `torch.nn.MaxPool2d`."""
    _pool = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over kernel_size windows of (N, C, D, H, W) or (C, D, H, W) input, as MaxPool2d; the
    indices are flat positions in each (D, H, W) volume. As `torch.nn.MaxPool3d`."""
    dims = 3
    _pool = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(Module):
    """The partial inverse of max pooling: values at the indices max pooling returned."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = ntuple(kernel_size, self.dims)
        self.stride = ntuple(stride if stride is not None else kernel_size, self.dims)
        self.padding = ntuple(padding, self.dims)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """(N, C, L) values placed at max_pool1d's indices, zeros elsewhere. As `torch.nn.MaxUnpool1d`."""
    dims = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """(N, C, H, W) values placed at max_pool2d's indices, zeros elsewhere. As `torch.nn.MaxUnpool2d`."""
    dims = 2

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """(N, C, D, H, W) values placed at max_pool3d's indices, zeros elsewhere. As `torch.nn.MaxUnpool3d`."""
    dims = 3

    def forward(self, input, indices, output_size=None):
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class _AvgPoolNd(_Pool):
    """Mean over kernel_size windows (stride defaults to kernel_size); zero padding is counted
    unless count_include_pad=False."""

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over kernel_size windows of (N, C, L) or (C, L) input; stride defaults to kernel_size; zero
    padding is counted unless count_include_pad=False. As `torch.nn.AvgPool1d`."""

    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 1)     # tuples, as torch.nn.AvgPool1d keeps them
        self.stride = ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = ntuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        self._check(input)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPoolWithDivisor(_AvgPoolNd):
    """Average pooling that takes divisor_override (the 2-D and 3-D layers)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        self._check(input)
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPoolWithDivisor):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W) input; stride defaults to kernel_size;
    zero padding is counted unless count_include_pad=False; divisor_override replaces the window size as
    divisor. As `torch.nn.AvgPool2d`."""
    _pool = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolWithDivisor):
    """Mean over kernel_size windows of (N, C, D, H, W) or (C, D, H, W) input, as AvgPool2d. As
    `torch.nn.AvgPool3d`."""
    dims = 3
    _pool = staticmethod(F.avg_pool3d)


class _AdaptivePool(_Pool):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """The mean over output_size windows that cover the input as evenly as PyTorch's do."""
    dims = 1

    def forward(self, input):
        self._check(input)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """The mean over output_size windows (None keeps that dim's size) as PyTorch's."""

    def forward(self, input):
        self._check(input)
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """The mean over output_size windows of (N, C, D, H, W) or (C, D, H, W) (None keeps that dim's
    size), as `torch.nn.AdaptiveAvgPool3d`."""
    dims = 3

    def forward(self, input):
        self._check(input)
        return F.adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePool):
    """The max over output_size windows; with return_indices, also their flat indices."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        self._check(input)
        return self._pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The max over output_size windows of (N, C, L) or (C, L), as PyTorch's; with return_indices,
    also their indices. As `torch.nn.AdaptiveMaxPool1d`."""
    dims = 1
    _pool = staticmethod(F.adaptive_max_pool1d)


class _LPPoolNd(_Pool):
    """Power-average pooling: (sum over each window of x**norm_type)**(1/norm_type)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling of (N, C, L) or (C, L) input. As `torch.nn.LPPool1d`."""
    dims = 1

    def forward(self, input):
        self._check(input)
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling of (N, C, H, W) or (C, H, W) input. As `torch.nn.LPPool2d`."""

    def forward(self, input):
        self._check(input)
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of (N, C, D, H, W) or (C, D, H, W) input. As `torch.nn.LPPool3d`."""
    dims = 3

    def forward(self, input):
        self._check(input)
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The max over output_size windows (None keeps that dim's size) as PyTorch's."""
    _pool = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """The max over output_size windows of (N, C, D, H, W) or (C, D, H, W) (None keeps that dim's
    size); with return_indices, also their flat indices in each volume. As `torch.nn.AdaptiveMaxPool3d`."""
    dims = 3
    _pool = staticmethod(F.adaptive_max_pool3d)
