"""Padding layers: F.pad as a module, for 1, 2 or 3 trailing dims, with PyTorch's names (ZeroPad2d,
ConstantPad1d, ReflectionPad2d, ReplicationPad3d, CircularPad2d, ...) and argument forms: one int
pads every side, a tuple lists (before, after) pairs from the last dim backwards."""
from .. import functional as F
from ..module import Module
from ._utils import ntuple

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    """Pads the last `_dims` dims by `padding` with F.pad's `_mode`."""

    _dims, _mode = 1, "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = ntuple(padding, 2 * self._dims)
        if len(self.padding) != 2 * self._dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self._dims} ints, "
                             f"got {padding!r}")

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant `value`."""

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant. As torch.nn.ConstantPad1d."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with a constant. As torch.nn.ConstantPad2d."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with a constant. As torch.nn.ConstantPad3d."""
    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros. As torch.nn.ZeroPad1d."""
    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros. As torch.nn.ZeroPad2d."""
    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros. As torch.nn.ZeroPad3d."""
    _dims = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (the edge not repeated); (N, C, L) or (C, L) input. As
    torch.nn.ReflectionPad1d."""
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with their reflection; (N, C, H, W) or (C, H, W) input. As
    torch.nn.ReflectionPad2d."""
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with their reflection. As torch.nn.ReflectionPad3d."""
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge values. As torch.nn.ReplicationPad1d."""
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating their edge values. As torch.nn.ReplicationPad2d."""
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating their edge values. As torch.nn.ReplicationPad3d."""
    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pads the last dim by wrapping around. As torch.nn.CircularPad1d."""
    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pads the last 2 dims by wrapping around. As torch.nn.CircularPad2d."""
    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pads the last 3 dims by wrapping around. As torch.nn.CircularPad3d."""
    _dims, _mode = 3, "circular"
