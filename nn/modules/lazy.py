"""Lazy layers (LazyLinear, LazyConv2d, LazyBatchNorm2d, ...): the input size (in_features,
in_channels, num_features) is left out of the constructor and read from the first input, as in
PyTorch (the d2l.ai book builds its models this way).

Until then the parameters are empty (size 0 along the unknown dim) but already the Parameter
objects they stay: the first forward gives them their shape and PyTorch's initialisation in place,
and the module becomes the ordinary layer (`type(m)` is then Linear, Conv2d, ...). So an optimizer
may be built before that first call, as long as it steps after it.
"""
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyBatchNorm1d",
           "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]

_HOOKS = {"_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
          "_forward_hooks_always_called", "_backward_pre_hooks",
          "_backward_hooks", "_parameters", "_buffers", "_modules"}


class _LazyMixin:
    """Builds the layer with an input size of 0, and the real one at the first forward."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        self.cls_to_become.__init__(self, 0, *args, **kwargs)
        self._lazy_arguments = (args, kwargs)

    def has_uninitialized_params(self):
        """True until the first forward has given the parameters their shape."""
        return True

    def initialize_parameters(self, input):
        """Read the input size from `input`, shape and initialise the parameters and buffers in place,
        and become the ordinary layer (`cls_to_become`)."""
        args, kwargs = self._lazy_arguments
        built = self.cls_to_become(self._input_size(input), *args, **kwargs)
        for name, param in built._parameters.items():
            if param is not None:
                self._parameters[name].data = param.data     # the same Parameter objects, now shaped
        self._buffers.update(built._buffers)
        for name, value in vars(built).items():
            if name not in _HOOKS:
                self.__dict__[name] = value
        del self.__dict__["_lazy_arguments"]
        self.__class__ = self.cls_to_become

    def forward(self, input, *args, **kwargs):
        self.initialize_parameters(input)
        return self.forward(input, *args, **kwargs)


class _LazyFeatures(_LazyMixin):
    def _input_size(self, input):
        return input.shape[-1]


class _LazyChannels(_LazyMixin):
    def _input_size(self, input):
        return input.shape[input.ndim - self.dims - 1]    # batched or unbatched


class _LazyNormalization(_LazyMixin):
    def _input_size(self, input):
        return input.shape[1] if input.ndim == self._dims[0] else input.shape[0]


class _LazyInstanceNorm(_LazyNormalization):
    # PyTorch's lazy instance norms default to affine and tracked running statistics, unlike the
    # layers they become
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        super().__init__(eps, momentum, affine, track_running_stats, device, dtype)


class LazyLinear(_LazyFeatures, Linear):
    """Linear whose in_features is the last dim of its first input. As `torch.nn.LazyLinear`."""
    cls_to_become = Linear


class LazyConv1d(_LazyChannels, Conv1d):
    """Conv1d whose in_channels comes from its first input. As `torch.nn.LazyConv1d`."""
    cls_to_become = Conv1d


class LazyConv2d(_LazyChannels, Conv2d):
    """Conv2d whose in_channels comes from its first input. As `torch.nn.LazyConv2d`."""
    cls_to_become = Conv2d


class LazyConvTranspose1d(_LazyChannels, ConvTranspose1d):
    """ConvTranspose1d whose in_channels comes from its first input. As `torch.nn.LazyConvTranspose1d`."""
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyChannels, ConvTranspose2d):
    """ConvTranspose2d whose in_channels comes from its first input. As `torch.nn.LazyConvTranspose2d`."""
    cls_to_become = ConvTranspose2d


class LazyBatchNorm1d(_LazyNormalization, BatchNorm1d):
    """BatchNorm1d whose num_features comes from its first input. As `torch.nn.LazyBatchNorm1d`."""
    cls_to_become = BatchNorm1d

    def _input_size(self, input):
        return input.shape[1]


class LazyBatchNorm2d(_LazyNormalization, BatchNorm2d):
    """BatchNorm2d whose num_features comes from its first input. As `torch.nn.LazyBatchNorm2d`."""
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormalization, BatchNorm3d):
    """BatchNorm3d whose num_features comes from its first input. As `torch.nn.LazyBatchNorm3d`."""
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """InstanceNorm1d whose num_features comes from its first input. As `torch.nn.LazyInstanceNorm1d`."""
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """InstanceNorm2d whose num_features comes from its first input. As `torch.nn.LazyInstanceNorm2d`."""
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """InstanceNorm3d whose num_features comes from its first input. As `torch.nn.LazyInstanceNorm3d`."""
    cls_to_become = InstanceNorm3d
