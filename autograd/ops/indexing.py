"""Indexing: t[...] with ints, slices, None, Ellipsis, integer arrays/tensors and boolean masks;
gather along a dim. Backward scatters the gradient back into zeros; integer-array indices may
repeat, and repeated positions accumulate.

GetItem and IndexAdd are each other's backward (so are Gather and ScatterAdd), which keeps
higher-order gradients working through indexing.
"""
import numpy as np

from ..errors import DTypeError, IndexRangeError, shape_error
from ..function import Primitive
from ..tensor import Tensor


def normalize_index(index):
    """Tensors become arrays, lists become arrays: a NumPy index with the same meaning."""
    if isinstance(index, tuple):
        return tuple(_normalize_one(i) for i in index)
    return _normalize_one(index)


def _normalize_one(i):
    if isinstance(i, Tensor):
        return i._data
    if isinstance(i, list):
        array = np.asarray(i)
        return array.astype(np.int64) if array.size == 0 else array
    return i


def _has_integer_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" and p.ndim > 0 for p in parts)


class GetItem(Primitive):
    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        try:
            return x[index]
        except IndexError as error:
            raise IndexError(f"getitem: index {_describe(index)} is invalid for shape {x.shape}: {error}") from None

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, shape=ctx.input_shape, index=ctx.index)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return array[ctx.index]   # a view only for basic indices, the only ones tracked as views


class IndexAdd(Primitive):
    """zeros(shape) with `grad` added at `index`: the backward of getitem."""
    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        out = np.zeros(shape, grad.dtype)
        if _has_integer_array(index):
            np.add.at(out, index, grad)   # repeated indices must accumulate
        else:
            out[index] = grad             # basic indexing and masks never repeat a position
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index)


def _describe(index):
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(f"array{p.shape}" if isinstance(p, np.ndarray) else repr(p) for p in parts) + "]"


def getitem(x, index):
    """x[index]: ints, slices, None, Ellipsis, bool masks and integer arrays or tensors, as NumPy indexing;
    the gradient is scattered (summed at repeated indices) back to x's shape. As `Tensor.__getitem__`."""
    return GetItem.apply(x, index=normalize_index(index))


# -- writing into a region: t[index] = v, and writes through views ----------------------------------

class IndexRegion:
    """The part of an array that `t[index]` covers (any NumPy index: basic or advanced)."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def take(self, array):
        """`array[index]`."""
        return array[self.index]

    def put(self, out, values):
        """`out[index] = values`, in place."""
        out[self.index] = values


class Overwrite(Primitive):
    """`base` with `values` written over one region of it (`region.put`: an index, or the chain of
    view ops that made a view of base). In place (into base's memory) for the in-place ops of
    autograd/inplace.py, which have already written the values when `written`; out of place for
    gradients. Its gradient: the rest of the incoming gradient to base, the region to values."""
    @staticmethod
    def forward(ctx, base, values, region, in_place, written=False):
        ctx.region, ctx.values_shape = region, np.shape(values)
        out = base if in_place else base.copy()
        if not written:
            region.put(out, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_base, need_values = ctx.needs_input_grad[:2]
        base_grad = Overwrite.apply(grad, np.zeros((), grad.dtype), region=ctx.region, in_place=False) if need_base else None
        values_grad = RegionOf.apply(grad, region=ctx.region) if need_values else None
        return base_grad, values_grad


class RegionOf(Primitive):
    """The region of `x` that `region` covers (a copy, or a view for a view chain); its gradient fills
    that region of zeros (Overwrite's values gradient and its inverse)."""
    @staticmethod
    def forward(ctx, x, region):
        ctx.region, ctx.input_shape = region, x.shape
        return region.take(x)

    @staticmethod
    def backward(ctx, grad):
        zeros = Tensor._make(np.zeros(ctx.input_shape, grad.dtype), False, None)
        return Overwrite.apply(zeros, grad, region=ctx.region, in_place=False)


def overwrite(base, values, region, in_place=False, written=False):
    """`base` with `values` written over `region` (see Overwrite); for autograd/inplace.py."""
    return Overwrite.apply(base, values, region=region, in_place=in_place, written=written)


def region_of(x, region):
    """The part of `x` that `region` covers, differentiably (see RegionOf)."""
    return RegionOf.apply(x, region=region)


# -- gather --------------------------------------------------------------------------------------

def _gather_index(index, axis):
    """The full NumPy index that picks input[..., index, ...] along `axis` (as torch.gather)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


class Gather(Primitive):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.input_shape, ctx.axis, ctx.index = x.shape, axis, index
        return x[_gather_index(index, axis)]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, shape=ctx.input_shape, axis=ctx.axis, index=ctx.index)


class ScatterAdd(Primitive):
    """zeros(shape) with `grad` added at (..., index, ...) along axis: the backward of gather."""
    @staticmethod
    def forward(ctx, grad, shape, axis, index):
        ctx.axis, ctx.index = axis, index
        out = np.zeros(shape, grad.dtype)
        np.add.at(out, _gather_index(index, axis), grad)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Gather.apply(grad, axis=ctx.axis, index=ctx.index)


def integer_index(op, index):
    """`index` (a Tensor or array-like) as an integer ndarray; DTypeError for any other dtype."""
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    return index


def check_index_range(op, index, shape, dim, negative_ok=False):
    """IndexRangeError naming the first index outside [0, size of dim), or [-size, size) where
    PyTorch lets negative indices count from the end (getitem, take_along_dim; not gather,
    index_select, embedding, scatter)."""
    size = shape[dim] if shape else 1
    low = -size if negative_ok else 0
    if index.size and (index.min() < low or index.max() >= size):
        bad = index[(index < low) | (index >= size)].flat[0]
        raise IndexRangeError(f"{op}: index {bad} is out of range for dim {dim} of size {size} (shape {shape}); "
                              f"indices must be in [{low}, {size})")


def gather(x, dim, index):
    """x's values at `index` along `dim`, as torch.gather: index has x's number of dims, is no larger
    than x outside `dim`, and its values lie in [0, size of dim) (negative ones are an error)."""
    from .reduction import normalize_axes
    (axis,) = normalize_axes("gather", dim, x.ndim)
    index = integer_index("gather", index)
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise shape_error("gather", f"index must have the input's number of dims and be no larger "
                          f"outside dim {axis}", index.shape, x.shape)
    check_index_range("gather", index, x.shape, axis)
    return Gather.apply(x, axis=axis, index=index)


def take_along_dim(x, indices, dim=None):
    """x's values at `indices` along `dim`, as torch.take_along_dim: negative indices count from the
    end, and x and indices broadcast over the other dims; with dim=None, gather from the flattened x."""
    from .reduction import normalize_axes
    from .shape import broadcast_to
    index = integer_index("take_along_dim", indices)
    if dim is None:  # PyTorch gathers from the flattened input then, where negative indices are an error
        return gather(x.reshape(-1), 0, index.reshape(-1))
    (axis,) = normalize_axes("take_along_dim", dim, x.ndim)
    if index.ndim != x.ndim:
        raise shape_error("take_along_dim", "input and indices must have the same number of dims",
                          x.shape, index.shape)
    size = x.shape[axis]
    # PyTorch reads out of bounds here (garbage, no error) for indices outside [-size, size): we raise.
    check_index_range("take_along_dim", index, x.shape, axis, negative_ok=True)
    index = np.where(index < 0, index + size, index)
    try:
        batch = np.broadcast_shapes(x.shape[:axis] + (1,) + x.shape[axis + 1:],
                                    index.shape[:axis] + (1,) + index.shape[axis + 1:])
    except ValueError:
        raise shape_error("take_along_dim", f"input and indices must broadcast outside dim {axis}",
                          x.shape, index.shape) from None
    x = broadcast_to(x, batch[:axis] + (size,) + batch[axis + 1:])
    index = np.broadcast_to(index, batch[:axis] + (index.shape[axis],) + batch[axis + 1:])
    return Gather.apply(x, axis=axis, index=index)


# -- index_select, nonzero -----------------------------------------------------------------------

def index_select(x, dim, index):
    """x's slices at `index` (a 1-D or 0-d integer tensor) along `dim`, as torch.index_select; the
    result keeps x's number of dims. Built on getitem, so repeated indices accumulate gradient."""
    from .reduction import normalize_axes
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select: index must be a Tensor, got {type(index).__name__}")
    index = integer_index("index_select", index)
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be a vector (1-D or 0-d), got shape {index.shape}")
    (axis,) = normalize_axes("index_select", dim, x.ndim) or (0,)
    index = index.reshape(-1)
    check_index_range("index_select", index, x.shape, axis)
    if x.ndim == 0:
        if index.size != 1:
            raise IndexRangeError(f"index_select: a 0-d tensor takes exactly one index, got {index.size}")
        return getitem(x, ())
    return getitem(x, (slice(None),) * axis + (index.astype(np.int64, copy=False),))


def nonzero(x, as_tuple=False):
    """The indices of the non-zero elements: an int64 (count, ndim) tensor, or with as_tuple one
    1-D tensor per dim (a 0-d input counts as 1-D there, as in PyTorch). No gradient."""
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False), False, None)
                     for i in np.nonzero(np.atleast_1d(data)))
    return Tensor._make(np.argwhere(data).astype(np.int64, copy=False), False, None)


argwhere = nonzero


# -- scatter and the index_ ops: gather's and index_select's writing counterparts ----------------

def _scatter_arguments(op, x, dim, index, src):
    """(axis, the full NumPy index of the positions written, src cut to index's shape) for scatter
    and scatter_add, checked as torch checks them."""
    from .reduction import normalize_axes
    (axis,) = normalize_axes(op, dim, x.ndim)
    index = integer_index(op, index)
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise shape_error(op, f"index must have the input's number of dims and be no larger outside dim {axis}",
                          index.shape, x.shape)
    check_index_range(op, index, x.shape, axis)
    if isinstance(src, Tensor) and src.ndim:
        if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
            raise shape_error(op, "src must have index's number of dims and be no smaller", src.shape, index.shape)
        if src.shape != index.shape:
            src = getitem(src, tuple(slice(0, n) for n in index.shape))
    return axis, _gather_index(index, axis), src


def scatter(x, dim, index, src=None, value=None, reduce=None):
    """x with `src` (or the number `value`) written at `index` along `dim`: out[..., index[i], ...] =
    src[i] for each position i of index, as torch.scatter. Gradients: src gets the gradient at the
    positions it was written to, x the rest. `reduce` ('add', 'multiply') is not supported here:
    use scatter_add (or scatter_reduce in PyTorch)."""
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported; use scatter_add")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor) and value (a number)")
    source = src if src is not None else value
    axis, positions, source = _scatter_arguments("scatter", x, dim, index, source)
    return overwrite(x, source, IndexRegion(positions))


def scatter_add(x, dim, index, src):
    """x with `src` added at `index` along `dim` (repeated positions accumulate), as
    torch.scatter_add; gradients: x gets all of it, src the gradient at its positions."""
    axis, positions, src = _scatter_arguments("scatter_add", x, dim, index, src)
    index = positions[axis]
    from .arithmetic import add
    return add(x, ScatterAdd.apply(src, shape=x.shape, axis=axis, index=np.broadcast_to(index, src.shape)))


def _index_arguments(op, x, dim, index, source=None):
    """(the NumPy index of the slices at `index` along `dim`) for index_add/index_fill/index_copy,
    checked as torch checks them."""
    from .reduction import normalize_axes
    (axis,) = normalize_axes(op, dim, x.ndim) or (0,)
    index = integer_index(op, index)
    if index.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (1-D or 0-d), got shape {index.shape}")
    index = index.reshape(-1).astype(np.int64, copy=False)
    check_index_range(op, index, x.shape, axis)
    slices = (slice(None),) * axis + (index,)
    if source is not None:
        expected = x.shape[:axis] + (index.size,) + x.shape[axis + 1:]
        if tuple(np.shape(source)) != expected:
            raise shape_error(op, f"source must have the input's shape with {index.size} (the index's "
                              f"length) along dim {axis}", np.shape(source), expected)
    return slices


def index_add(x, dim, index, source, alpha=1):
    """x with `alpha * source` added to its slices at `index` along `dim` (repeated indices
    accumulate), as torch.index_add."""
    from .arithmetic import add, mul
    slices = _index_arguments("index_add", x, dim, index, source)
    scaled = source if alpha == 1 else mul(source, alpha)
    return add(x, IndexAdd.apply(scaled, shape=x.shape, index=slices))


def index_fill(x, dim, index, value):
    """x with its slices at `index` along `dim` set to `value` (a number or 0-d tensor), as
    torch.index_fill."""
    return overwrite(x, value, IndexRegion(_index_arguments("index_fill", x, dim, index)))


def index_copy(x, dim, index, source):
    """x with its slices at `index` along `dim` replaced by `source`'s, as torch.index_copy."""
    return overwrite(x, source, IndexRegion(_index_arguments("index_copy", x, dim, index, source)))
