"""Flatten and Unflatten; Fold and Unfold (sliding blocks to columns and back)."""
import math
import numbers

import autograd as ag

from .. import functional as F
from ..module import Module


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into the shape `unflattened_size` (the inverse of Flatten); one size may be -1."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if isinstance(size, bool) or not isinstance(size, numbers.Integral):
                raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but found element of type "
                                f"{type(size).__name__} at position {i}")
        self.dim, self.unflattened_size = int(dim), unflattened_size  # kept as given, for the repr

    def forward(self, input):
        shape = tuple(input.shape)
        if not -max(len(shape), 1) <= self.dim < max(len(shape), 1) or not shape:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape {shape}")
        dim = self.dim % len(shape)
        sizes = tuple(int(size) for size in self.unflattened_size)
        known = math.prod(size for size in sizes if size != -1)
        fits = shape[dim] == known if -1 not in sizes else known != 0 and shape[dim] % known == 0
        if not fits or sizes.count(-1) > 1 or any(size < -1 for size in sizes):
            raise ag.ShapeError(f"Unflatten: the sizes {sizes} don't multiply up to the size {shape[dim]} of dim "
                             f"{self.dim} of the input of shape {shape}")
        return input.reshape(shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Unfold(Module):
    """Sliding blocks of (N, C, H, W) as columns (N, C * kh * kw, L): F.unfold (im2col) as a layer.
    As `torch.nn.Unfold`."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Unfold):
    """Columns (N, C * kh * kw, L) summed back into images (N, C, *output_size): F.fold as a layer.
    As `torch.nn.Fold`."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, {super().extra_repr()}"
