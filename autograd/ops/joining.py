"""Joining and splitting: cat, stack (and hstack, vstack, dstack, column_stack, meshgrid), split, chunk,
unbind, pad.

Split and Unbind are ops with several outputs (one node, one gradient slot per piece); their
backward is Cat / Stack of the pieces' gradients, and Cat's and Stack's backward hand each input
its slice again, so a loop over the pieces of a sequence costs one gradient array in all, not one
full-size array per piece.
"""
import functools
from typing import Sequence

import numpy as np

from ..errors import ArgumentError, DTypeError, ShapeError
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant
from .indexing import getitem
from .reduction import normalize_axes


class Cat(Primitive):
    """Backward hands each input its slice of the gradient (a view)."""
    complex_safe = True
    @staticmethod
    def forward(ctx, *xs, axis, dtype=None):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return np.concatenate(xs, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        lead = (slice(None),) * ctx.axis
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(getitem(grad, lead + (slice(start, start + size),)) if need else None)
            start += size
        return tuple(grads)


class Stack(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, *xs, axis, dtype=None):
        ctx.axis = axis
        return np.stack(xs, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(getitem(grad, lead + (i,)) if need else None for i, need in enumerate(ctx.needs_input_grad))


def _check_joinable(op, tensors, axis, same_shape):
    if not tensors:
        raise ArgumentError(f"{op}: expects a non-empty sequence of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], 1):
        if same_shape:
            bad = t.shape != first
        else:
            bad = t.ndim != len(first) or any(a != b for d, (a, b) in enumerate(zip(t.shape, first)) if d != axis)
        if bad:
            what = "all tensors must have the same shape" if same_shape else \
                f"all tensors must match in every dim but dim {axis}"
            raise ShapeError(f"{op}: {what}; tensor 0 has shape {first}, tensor {i} has shape {t.shape}")
    return tensors


def _joined_dtype(tensors):
    """The dtype of tensors joined by cat or stack, by PyTorch's promotion (float32 with int64 stays float32,
    where NumPy would give float64); None where they all have one dtype."""
    from ..creation import promote_types
    dtypes = {t.dtype for t in tensors}
    return None if len(dtypes) == 1 else functools.reduce(promote_types, dtypes)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along the existing dim `dim`; all other dims must match (1-D empty tensors join
    anything). As `torch.cat` (aliases `concat`, `concatenate`)."""
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError("cat: expects a non-empty sequence of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if any(t.ndim == 0 for t in tensors):
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    # As PyTorch, 1-D empty tensors join anything: each becomes an empty slice of the others' shape.
    like = next((t for t in tensors if t.shape != (0,)), tensors[0])
    (axis,) = normalize_axes("cat", dim, like.ndim)
    empty_slice = like.shape[:axis] + (0,) + like.shape[axis + 1:]
    tensors = [t.reshape(empty_slice) if t.shape == (0,) else t for t in tensors]
    tensors = _check_joinable("cat", tensors, axis, same_shape=False)
    return Cat.apply(*tensors, axis=axis, dtype=_joined_dtype(tensors))


concatenate = concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors, all of one shape, joined along a new dim `dim`. As `torch.stack`."""
    tensors = list(tensors)
    ndim = (tensors[0].ndim if tensors else 0) + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} is out of range for {ndim - 1}-d tensors")
    tensors = _check_joinable("stack", tensors, None, same_shape=True)
    return Stack.apply(*tensors, axis=dim % ndim, dtype=_joined_dtype(tensors))


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined column-wise: along dim 1, or dim 0 for 1-D tensors (0-d ones become 1-D). As
    `torch.hstack`."""
    from .shape import atleast_1d
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined row-wise along dim 0, 0-d and 1-D ones first made rows (1, n). As `torch.vstack`
    (alias `row_stack`)."""
    from .shape import atleast_2d
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined depth-wise along dim 2, each first made at least 3-D as `atleast_3d` does. As
    `torch.dstack`."""
    from .shape import atleast_3d
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors as columns, joined along dim 1: 0-d and 1-D ones become columns (n, 1). As
    `torch.column_stack`."""
    return cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors], 1)


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors (or one sequence of them): each output has one dim per input, and
    output i varies along input i's dim. `indexing="xy"` swaps the first two dims (NumPy's default);
    the default is PyTorch's, "ij". As `torch.meshgrid`."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-D tensors, tensor {i} has shape {t.shape}")
    tensors = [t.reshape(-1) for t in tensors]
    positions = grid_dims(len(tensors), indexing)
    shape = [0] * len(tensors)
    for t, position in zip(tensors, positions):
        shape[position] = t.shape[0]
    return tuple(t.reshape(tuple(-1 if d == position else 1 for d in range(len(shape)))).expand(*shape)
                 for t, position in zip(tensors, positions))


def grid_dims(count: int, indexing: str) -> list[int]:
    """The dim of a meshgrid along which each of `count` inputs varies: input i along dim i, but with
    "xy" indexing the first two swap (x along columns, y along rows)."""
    dims = list(range(count))
    if indexing == "xy" and count >= 2:
        dims[0], dims[1] = 1, 0
    return dims


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """An int is the size of each piece (the last may be smaller); a list gives the sizes."""
    (axis,) = normalize_axes("split", dim, x.ndim)
    length = x.shape[axis]
    if isinstance(split_size_or_sections, Tensor) and split_size_or_sections._data.size == 1:
        split_size_or_sections = split_size_or_sections.item()   # a one-element tensor, as torch takes it
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ArgumentError(f"split: split size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ArgumentError(f"split: sizes {sizes} do not add up to {length}, the size of dim {dim} "
                             f"of shape {x.shape}")
    return Split.apply(x, sizes=tuple(sizes), axis=axis)


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """x split along `dim`: an int n gives n pieces as equal as can be (the first ones one longer), a list
    gives the indices to split before. As `torch.tensor_split` (NumPy's `array_split`)."""
    (axis,) = normalize_axes("tensor_split", dim, x.ndim)
    length = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0:
            raise ArgumentError(f"tensor_split: the number of sections must be positive, got {indices_or_sections}")
        size, extra = divmod(length, int(indices_or_sections))
        sizes = [size + 1] * extra + [size] * (int(indices_or_sections) - extra)
    else:
        bounds = [0, *[min(max(int(i) if i >= 0 else int(i) + length, 0), length) for i in indices_or_sections],
                  length]
        if any(end < start for start, end in zip(bounds, bounds[1:])):
            # indices that go backwards: the pieces x[start:end] overlap or are empty, as NumPy's
            lead = (slice(None),) * axis
            return tuple(getitem(x, lead + (slice(start, end),)) for start, end in zip(bounds, bounds[1:]))
        sizes = [end - start for start, end in zip(bounds, bounds[1:])]
    return Split.apply(x, sizes=tuple(sizes), axis=axis)


def _split_along(op, x, sections, dim, min_ndim):
    if x.ndim < min_ndim:
        raise ShapeError(f"{op}: needs a tensor with at least {min_ndim} dims, got shape {x.shape}")
    if isinstance(sections, (int, np.integer)) and x.shape[dim] % sections:
        raise ArgumentError(f"{op}: dim {dim} of size {x.shape[dim]} cannot be split into {sections} equal parts")
    return tensor_split(x, sections, dim)


def hsplit(x: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """x split along dim 1 (dim 0 for a 1-D tensor) into equal parts or at indices. As `torch.hsplit`."""
    return _split_along("hsplit", x, indices_or_sections, 0 if x.ndim == 1 else 1, 1)


def vsplit(x: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """x split along dim 0 into equal parts or at indices; needs 2 dims. As `torch.vsplit`."""
    return _split_along("vsplit", x, indices_or_sections, 0, 2)


def dsplit(x: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """x split along dim 2 into equal parts or at indices; needs 3 dims. As `torch.dsplit`."""
    return _split_along("dsplit", x, indices_or_sections, 2, 3)


class Split(Primitive):
    """Consecutive pieces of `sizes` along `axis` (views); backward concatenates their gradients."""
    @staticmethod
    def forward(ctx, x, sizes, axis):
        ctx.axis = axis
        lead = (slice(None),) * axis
        starts = np.cumsum((0,) + sizes[:-1])
        ctx.pieces = [lead + (slice(start, start + size),) for start, size in zip(starts, sizes)]
        return tuple(x[piece] for piece in ctx.pieces)

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(*_zeros_for_missing(ctx, grads), axis=ctx.axis)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return array[ctx.pieces[index]]


class Unbind(Primitive):
    """The slices along `axis`, each without that axis (views); backward stacks their gradients."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        lead = (slice(None),) * axis
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[axis]))   # ...: 0-d views, not scalars

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(*_zeros_for_missing(ctx, grads), axis=ctx.axis)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return array[(slice(None),) * ctx.axis + (index, Ellipsis)]


def _zeros_for_missing(ctx, grads):
    """The pieces' gradients, with zeros for pieces that got none."""
    return [g if g is not None else constant(np.zeros(shape, dtype))
            for g, shape, dtype in zip(grads, ctx.shapes, ctx.dtypes)]


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The tuple of slices along `dim` (each without it), as torch.unbind."""
    if x.ndim == 0:
        raise ShapeError("unbind: a 0-d tensor has no dim to unbind")
    (axis,) = normalize_axes("unbind", dim, x.ndim)
    return Unbind.apply(x, axis=axis)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x split along `dim` into at most `chunks` pieces of equal size (the last may be smaller), as a
    tuple. As `torch.chunk`."""
    (axis,) = normalize_axes("chunk", dim, x.ndim)
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be greater than 0, got {chunks}")
    size = -(-x.shape[axis] // chunks)
    return split(x, max(size, 1), dim)


class Pad(Primitive):
    """Constant padding with NumPy-style widths; backward slices the padding off."""
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return getitem(grad, ctx.inner)


def pad(x, pad_width, value=0.0):
    """numpy-style pad widths: an int, (before, after), or one (before, after) pair per dim."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)) if np.ndim(pad_width) < 2 \
        else np.asarray(pad_width, dtype=np.int64)
    if widths.shape != (x.ndim, 2) or (widths < 0).any():
        raise ArgumentError(f"pad: pad_width {pad_width!r} does not give a non-negative (before, after) pair "
                         f"for each of the {x.ndim} dims of shape {x.shape}")
    return Pad.apply(x, widths=tuple(map(tuple, widths.tolist())), value=value)


# -- block_diag, cartesian_prod, combinations --------------------------------------------------

def block_diag(*tensors: Tensor) -> Tensor:
    """The matrices (0-d and 1-D tensors count as 1 x 1 and 1 x n) on the diagonal of a zero matrix, in
    their promoted dtype. As `torch.block_diag`."""
    from ..creation import get_default_dtype, promote_types
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(f"block_diag: expects tensors of at most 2 dims, tensor {i} has shape {t.shape}")
    if not tensors:
        return constant(np.zeros((1, 0), get_default_dtype()))
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    widths = [b.shape[1] for b in blocks]
    total, left = sum(widths), 0
    rows = []
    for block, width in zip(blocks, widths):
        rows.append(pad(block.astype(dtype), ((0, 0), (left, total - left - width))))
        left += width
    return cat(rows, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, as the rows of a (prod n_i, k) tensor (a
    single tensor is returned as it is). As `torch.cartesian_prod`."""
    for i, t in enumerate(tensors):
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1-D tensors, tensor {i} has shape {t.shape}")
    if not tensors:
        raise ArgumentError("cartesian_prod: expects at least one tensor")
    if len({t.dtype for t in tensors}) > 1:
        raise DTypeError(f"cartesian_prod: the tensors must have the same dtype, got "
                         f"{', '.join(str(t.dtype) for t in tensors)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([grid.reshape(-1) for grid in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of the elements of a 1-D tensor, as the rows of a tensor (in
    itertools' order; with repeated elements if `with_replacement`). As `torch.combinations`."""
    import itertools
    if input.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-D tensor, got shape {input.shape}")
    if r < 0:
        raise ArgumentError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return constant(np.empty(0, input.dtype))
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = np.array(list(choose(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[picks]
