"""Indexing: t[...] with ints, slices, None, Ellipsis, integer arrays/tensors and boolean masks;
gather along a dim. Backward scatters the gradient back into zeros; integer-array indices may
repeat, and repeated positions accumulate.

GetItem and IndexAdd are each other's backward (so are Gather and ScatterAdd), which keeps
higher-order gradients working through indexing.
"""
import warnings
from collections import namedtuple

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexRangeError, shape_error
from ..function import Primitive
from ..tensor import Tensor


def normalize_index(index):
    """Tensors become arrays, lists become arrays: a NumPy index with the same meaning."""
    if isinstance(index, tuple):
        parts = []
        for i in index:   # a loop, not a generator: _normalize_one's warning points at the caller's line
            parts.append(_normalize_one(i))
        return tuple(parts)
    if isinstance(index, list) and len(index) < 32 and any(
            i is None or i is Ellipsis or isinstance(i, (slice, Tensor, list, tuple, np.ndarray)) for i in index):
        warnings.warn("Indexing with a list that holds tensors, lists, slices or None indexes as x[tensor(seq)] "
                      "here, the meaning PyTorch has announced; PyTorch 2.x still reads it as x[tuple(seq)] (and "
                      "warns): write x[tuple(seq)] for that.", UserWarning, stacklevel=4)
    return _normalize_one(index)


def _normalize_one(i):
    if isinstance(i, Tensor):
        if i.ndim == 0 and i.dtype.kind in "iu":
            return int(i._data)     # a 0-d integer tensor indexes as an int (a view), as in PyTorch
        if i.dtype == np.uint8:     # as PyTorch (a deprecated form of a bool mask), with its warning
            warnings.warn("indexing with dtype uint8 is deprecated, please use a dtype bool instead: a uint8 "
                          "index tensor is read as a mask, as PyTorch does", UserWarning, stacklevel=5)
            return i._data.astype(bool)
        return i._data.copy()       # kept by the graph: a later in-place write must not change it
    if isinstance(i, list):
        array = np.asarray(i)
        return array.astype(np.int64) if array.size == 0 else array
    return i


def _with_ellipsis(index):
    """The same basic index, ending in `...` so that NumPy gives a 0-d view rather than a scalar."""
    parts = index if isinstance(index, tuple) else (index,)
    return parts if any(p is Ellipsis for p in parts) else parts + (Ellipsis,)


def _has_integer_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" and p.ndim > 0 for p in parts)


class GetItem(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        try:
            out = x[index]
            if out.__class__ is not np.ndarray:   # one element: NumPy gives a copy, PyTorch a 0-d view
                out = x[_with_ellipsis(index)]
                ctx.index = _with_ellipsis(index)
            return out
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
        parts = index if isinstance(index, tuple) else (index,)
        axis = _sole_integer_array_axis(parts) if out.ndim else None
        if axis is not None:   # x[idx] (an embedding) or x[:, :, idx] (index_select): sorted row adds, that dim first
            picked = parts[axis]
            add_rows(np.moveaxis(out, axis, 0), picked,
                     np.moveaxis(grad, tuple(range(axis, axis + picked.ndim)), tuple(range(picked.ndim))))
        elif _has_integer_array(index):
            np.add.at(out, index, grad)   # repeated indices must accumulate
        else:
            out[index] = grad             # basic indexing and masks never repeat a position
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index)


def add_rows(out, rows, values):
    """np.add.at(out, rows, values) for an integer array `rows` into out's first axis, with the same
    result to the bit, several times faster. NumPy's add.at adds one index at a time (10 ms for 4096
    embedding rows of 256 floats); here the occurrences are sorted stably by row and added in rounds,
    the k-th occurrence of every row in round k: each round is one fancy-indexed add without repeated
    rows, and each row receives its values in their original order, as add.at adds them. A row
    repeated more than _MAX_ROUNDS times leaves the work to add.at."""
    flat = rows.reshape(-1)
    if flat.size == 0:
        return
    if flat.min() < 0:
        flat = np.where(flat < 0, flat + out.shape[0], flat)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    first = np.empty(flat.size, bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    rank = np.arange(flat.size) - np.flatnonzero(first)[np.cumsum(first) - 1]   # occurrence number per row
    rounds = int(rank.max()) + 1
    values = values.reshape(flat.shape + out.shape[1:])
    if rounds > _MAX_ROUNDS:
        np.add.at(out, flat, values)
        return
    values = values[order]
    for k in range(rounds):
        chosen = rank == k
        out[ordered[chosen]] += values[chosen]


_MAX_ROUNDS = 64


def _sole_integer_array_axis(parts):
    """k for an index (a tuple) of k whole slices and one integer array of 1 or more dims (what an
    embedding and index_select build), else None."""
    if not parts:
        return None
    *leading, last = parts
    whole = slice(None)
    if (isinstance(last, np.ndarray) and last.dtype.kind in "iu" and last.ndim
            and all(isinstance(part, slice) and part == whole for part in leading)):
        return len(leading)
    return None


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

    def positions(self, shape):
        """The index itself (what `take` reads, for an array of `shape`)."""
        return self.index


class Overwrite(Primitive):
    """`base` with `values` written over one region of it (`region.put`: an index, or the chain of
    view ops that made a view of base). In place (into base's memory) for the in-place ops of
    autograd/inplace.py, which have already written the values when `written`; out of place for
    gradients. Its gradient: the rest of the incoming gradient to base, the region to values."""
    @staticmethod
    def forward(ctx, base, values, region, in_place, written=False):
        ctx.region = region
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
    """The region of `x` that `region` covers (a copy, or a view for a view chain): Overwrite's values
    gradient. Its own gradient adds into that region of zeros (IndexAdd)."""
    @staticmethod
    def forward(ctx, x, region):
        ctx.region, ctx.input_shape = region, x.shape
        return region.take(x)

    @staticmethod
    def backward(ctx, grad):
        # Added, not written: a region may cover a position twice (an index with repeats, a broadcast).
        return IndexAdd.apply(grad, shape=ctx.input_shape, index=ctx.region.positions(ctx.input_shape))


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
    """`index` (a Tensor or array-like) as an integer ndarray; DTypeError for any other dtype. A
    tensor's array is copied: the graph keeps the index, and a later in-place write into the tensor
    must not move the gradient."""
    index = index._data.copy() if isinstance(index, Tensor) else np.asarray(index)
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
    axis, index = _along_dim_index("gather", x, dim, index)
    return Gather.apply(x, axis=axis, index=index)


def _along_dim_index(op, x, dim, index):
    """(axis, index as an integer array) for gather and scatter, checked as torch checks them: index
    has x's number of dims, is no larger than x outside `dim`, and lies in [0, size of dim)."""
    from .reduction import normalize_axes
    (axis,) = normalize_axes(op, dim, x.ndim)
    index = integer_index(op, index)
    if index.ndim != x.ndim or any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise shape_error(op, f"index must have the input's number of dims and be no larger outside dim {axis}",
                          index.shape, x.shape)
    check_index_range(op, index, x.shape, axis)
    return axis, index


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
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select: index must be a Tensor, got {type(index).__name__}")
    slices = _index_arguments("index_select", x, dim, index)
    if x.ndim == 0:
        if slices[-1].size != 1:
            raise IndexRangeError(f"index_select: a 0-d tensor takes exactly one index, got {slices[-1].size}")
        return getitem(x, ())
    return getitem(x, slices)


def sliding_windows(x, dimension, size, step):
    """Every slice of length `size` along `dimension`, `step` apart: that dim becomes the window count
    and a last dim of `size` is added. As PyTorch's `Tensor.unfold(dimension, size, step)` (where it is
    a view; here a gather, so the gradient of overlapping windows accumulates)."""
    dim = dimension % x.ndim if x.ndim else 0
    length = x.shape[dim] if x.ndim else 1
    if size < 0 or step <= 0 or size > length:
        raise ArgumentError(f"unfold: cannot take windows of size {size} with step {step} along dim {dimension} of "
                            f"shape {x.shape} (need 0 <= size <= {length} and step > 0)")
    count = (length - size) // step + 1
    starts = np.arange(count) * step
    index = Tensor._make((starts[:, None] + np.arange(size)).reshape(-1).astype(np.int64), False, None)
    if x.ndim == 0:  # as torch: the one element, as a window of its own
        return getitem(x.reshape(1), slice(0, size))
    from .shape import movedim
    windows = index_select(x, dim, index)
    return movedim(windows.reshape(*x.shape[:dim], count, size, *x.shape[dim + 1:]), dim + 1, -1)


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
    axis, index = _along_dim_index(op, x, dim, index)
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
    if reduce == "add" and src is not None:       # torch's older spelling of scatter_add
        return scatter_add(x, dim, index, src)
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported; use scatter_add or scatter_reduce")
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


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(x, dim, index, src, reduce, include_self=True):
    """x with `src` reduced into the positions `index` names along `dim`, as torch.scatter_reduce:
    each position of x gets the sum, mean, amax or amin of the src values scattered to it (and of its
    own value, unless include_self=False); positions nothing is scattered to keep x's value.
    Gradients as torch's: amax/amin share a position's gradient evenly among the elements equal to
    the result; mean divides it by the count. ('prod' is refused: use a log-sum for products.)"""
    if reduce not in _SCATTER_REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if reduce == "prod":
        raise NotImplementedError("scatter_reduce: reduce='prod' is not supported (use 'sum' of logarithms)")
    from .arithmetic import add, div, masked_fill, mul
    axis, positions, src = _scatter_arguments("scatter_reduce", x, dim, index, src)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    if src.dtype != x.dtype:
        raise DTypeError(f"scatter_reduce: expected self.dtype to be equal to src.dtype, got {x.dtype} and {src.dtype}")
    flat_index = np.broadcast_to(positions[axis], src.shape)
    written = np.zeros(x.shape, np.int64)
    np.add.at(written, _gather_index(flat_index, axis), 1)
    hit = written > 0
    base = x if include_self else masked_fill(x, hit, 0)
    if reduce in ("sum", "mean"):
        total = add(base, ScatterAdd.apply(src, shape=x.shape, axis=axis, index=flat_index))
        if reduce == "sum":
            return total
        count = np.maximum(written + (1 if include_self else 0), 1).astype(x.dtype)
        if x.dtype.kind in "iu":
            return Tensor._make(total._data // count, False, None)
        return div(total, Tensor._make(count, False, None))
    # amax / amin: the extreme in NumPy; the gradient shared by the tied elements through weights
    pick = np.maximum if reduce == "amax" else np.minimum
    extreme = x._data.copy()
    if not include_self:
        extreme[hit] = src._data.min() if reduce == "amax" else src._data.max()
    pick.at(extreme, _gather_index(flat_index, axis), src._data)
    gathered = extreme[_gather_index(flat_index, axis)]
    src_ties = src._data == gathered
    # torch counts x's elements equal to the extreme even where include_self=False leaves them out
    # (they then get no gradient, and the src elements share a smaller part): so do we, to agree
    ties = (x._data == extreme).astype(np.int64)
    np.add.at(ties, _gather_index(flat_index, axis), src_ties)
    self_gets = (x._data == extreme) & (include_self | ~hit)
    self_weight = np.where(self_gets, 1.0 / np.maximum(ties, 1), 0.0).astype(x.dtype)
    src_weight = (src_ties / ties[_gather_index(flat_index, axis)]).astype(x.dtype)
    shared = add(mul(x, Tensor._make(self_weight, False, None)),
                 ScatterAdd.apply(mul(src, Tensor._make(src_weight, False, None)), shape=x.shape, axis=axis,
                                  index=flat_index))
    # the weighted sum is the extreme up to rounding: take the exact value, keep the sum's gradient
    return add(shared, Tensor._make(extreme - shared._data, False, None))


def _index_arguments(op, x, dim, index, source=None):
    """(the NumPy index of the slices at `index` along `dim`) for index_select and index_add/fill/copy,
    checked as torch checks them: a 1-D or 0-d integer index within the dim; `source`, if given, of
    x's shape with the index's length along dim."""
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

def take(x: Tensor, index: Tensor) -> Tensor:
    """x's elements at `index` as if x were 1-D (negative indices count from the end), in index's shape.
    Gradients scatter-add back. As `torch.take`."""
    index = integer_index("take", index)
    flat = x.reshape(-1)
    check_index_range("take", index.reshape(-1), flat.shape, 0, negative_ok=True)
    return getitem(flat, (index.astype(np.int64, copy=False),))


def _check_source_dtype(op, x, source):
    if source.dtype != x.dtype:   # as torch: no silent cast of what is written
        raise DTypeError(f"{op}: the source's dtype {source.dtype} differs from the tensor's {x.dtype}")


def put(x: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """x with `source`'s elements written (added, with `accumulate`) at the positions `index` picks
    in x as if it were 1-D (negative indices count from the end): take's adjoint. As `torch.put`."""
    index = integer_index("put", index)
    flat = x.reshape(-1)
    check_index_range("put", index.reshape(-1), flat.shape, 0, negative_ok=True)
    source = source if isinstance(source, Tensor) else Tensor._make(np.asarray(source, x.dtype), False, None)
    _check_source_dtype("put", x, source)
    if source.numel() != index.size:
        raise shape_error("put", "expects as many source elements as indices", index.shape, source.shape)
    return index_put(flat, (index.reshape(-1).astype(np.int64, copy=False),), source.reshape(-1), accumulate).reshape(x.shape)


def masked_scatter(x: Tensor, mask, source: Tensor) -> Tensor:
    """x with the first elements of `source` (in C order) written, in order, where the bool `mask`
    (broadcast to x) holds; the gradient reaches x elsewhere and those elements of source. As
    `torch.masked_scatter`."""
    mask = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if mask.dtype != np.bool_:
        raise DTypeError(f"masked_scatter: the mask must be a bool tensor, got {mask.dtype}")
    try:
        mask = np.broadcast_to(mask, x.shape)
    except ValueError:
        raise shape_error("masked_scatter", "the mask must broadcast to the tensor", mask.shape, x.shape) from None
    _check_source_dtype("masked_scatter", x, source)
    count = int(mask.sum())
    if source.numel() < count:
        raise shape_error("masked_scatter", f"the mask selects {count} elements, more than source has",
                          mask.shape, source.shape)
    return index_put(x, (np.nonzero(mask) if x.ndim else (mask,)), source.reshape(-1)[:count])


# -- searching and counting (integer results, outside the graph) ---------------------------------

def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """For each of `values`, the index where it would go in `sorted_sequence` to keep it sorted: before
    equal elements, or after them with `right=True` (or side="right"). A 1-D sequence serves all values;
    an N-D one has a sorted last dim per row of `values` (same leading dims). int64 (int32 with
    `out_int32`), outside the graph. As `torch.searchsorted`."""
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise ArgumentError(f"searchsorted: side must be 'left' or 'right' and agree with right={right}, "
                                f"got {side!r}")
        right = side == "right"
    sequence = sorted_sequence._data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, integer_index("searchsorted", sorter), axis=-1)
    scalar = not isinstance(values, Tensor)
    value_data = np.asarray(values._data if not scalar else values)
    kind = "right" if right else "left"
    if sequence.ndim == 1:
        out = np.searchsorted(sequence, value_data, side=kind)
    elif sequence.ndim == 0 or scalar or sequence.shape[:-1] != value_data.shape[:-1]:
        raise shape_error("searchsorted", "an N-D sorted_sequence needs values with the same leading dims",
                          sequence.shape, value_data.shape)
    elif value_data.size == 0:
        out = np.zeros(value_data.shape, np.int64)
    else:   # one sorted row per row of values
        rows = sequence.reshape(-1, sequence.shape[-1])
        per_row = value_data.reshape(rows.shape[0], -1)
        out = np.stack([np.searchsorted(row, v, side=kind) for row, v in zip(rows, per_row)]).reshape(value_data.shape)
    return Tensor._make(np.asarray(out, np.int32 if out_int32 else np.int64), False, None)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """For each element of `input`, the index of its bucket among the sorted 1-D `boundaries`: the i with
    boundaries[i-1] < x <= boundaries[i] (with `right`, boundaries[i-1] <= x < boundaries[i]). As
    `torch.bucketize`."""
    if boundaries.ndim != 1:
        raise shape_error("bucketize", "boundaries must be 1-D", boundaries.shape)
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


class NotDifferentiable(Primitive):
    """An op PyTorch has no derivative for (unique's values, bincount's weights): its result is recorded,
    as PyTorch records it, and backward through it raises rather than dropping the gradient."""
    @staticmethod
    def forward(ctx, x, result, op):
        ctx.op = op
        return result

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"the derivative for '{ctx.op}' is not implemented (as in PyTorch); compute it on "
                           "a detached tensor if no gradient should flow through it")


def _recorded(op, result, source):
    """`result` (an array) as a tensor, recorded as NotDifferentiable when `source` requires grad."""
    return NotDifferentiable.apply(source, result=result, op=op) if source.requires_grad else \
        Tensor._make(result, False, None)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer `input` (at least `minlength`
    counts); with `weights`, their sums instead, in the weights' dtype. Outside the graph. As
    `torch.bincount`."""
    data = input._data
    if data.ndim != 1 or data.dtype.kind not in "iub" or (data.size and data.min() < 0):
        raise ArgumentError(f"bincount only supports 1-d non-negative integral inputs, got shape {data.shape}, "
                            f"dtype {data.dtype}")
    if weights is None:
        return Tensor._make(np.bincount(data, minlength=minlength).astype(np.int64), False, None)
    weight_data = weights._data
    if weight_data.shape != data.shape:
        raise shape_error("bincount", "weights must have the same shape as input", data.shape, weight_data.shape)
    dtype = weight_data.dtype if weight_data.dtype.kind == "f" else np.float64
    return _recorded("bincount", np.bincount(data, weight_data, minlength).astype(dtype), weights)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None):
    """The distinct elements of `input` (flattened), or its distinct slices along `dim`, sorted; with
    `return_inverse` also where each element (slice) of the input went, with `return_counts` how often
    each occurs: a tensor, or a tuple of those. Outside the graph. As `torch.unique`."""
    from .reduction import normalize_axes
    data = input._data
    axis = None if dim is None else normalize_axes("unique", dim, data.ndim)[0]
    # equal_nan=False: each NaN is distinct, as in PyTorch (NumPy would fold them into one)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=axis, equal_nan=False)
    inverse = inverse.reshape(data.shape if axis is None else (data.shape[axis],))
    results = [_recorded("unique", values, input)]
    if return_inverse:
        results.append(Tensor._make(inverse.astype(np.int64), False, None))
    if return_counts:
        results.append(Tensor._make(counts.astype(np.int64), False, None))
    return results[0] if len(results) == 1 else tuple(results)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """`input` (flattened, or its slices along `dim`) with each run of equal consecutive elements
    (slices) kept once, as in CTC's greedy decoding; with `return_inverse` also the run each element
    belongs to, with `return_counts` each run's length. Outside the graph. As `torch.unique_consecutive`."""
    from .reduction import normalize_axes
    data = input._data
    axis = None if dim is None else normalize_axes("unique_consecutive", dim, data.ndim)[0]
    items = data.reshape(-1) if axis is None else np.moveaxis(data, axis, 0)
    if len(items):
        changed = np.any((items[1:] != items[:-1]).reshape(len(items) - 1, -1), axis=1)
        starts = np.concatenate([[True], changed])
    else:
        starts = np.zeros(0, bool)
    values = items[starts] if axis is None else np.moveaxis(items[starts], 0, axis)
    results = [_recorded("unique_consecutive", np.ascontiguousarray(values), input)]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        results.append(Tensor._make(inverse.reshape(data.shape if axis is None else (-1,)).astype(np.int64), False,
                                    None))
    if return_counts:
        results.append(Tensor._make(np.diff(np.append(np.flatnonzero(starts), len(items))).astype(np.int64),
                                    False, None))
    return results[0] if len(results) == 1 else tuple(results)


HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """The counts of `input`'s elements in `bins` equal bins from `min` to `max` (by default, when both are
    0, the data's own range), in input's floating dtype; elements outside are ignored. As `torch.histc`."""
    data = input._data
    if data.dtype.kind != "f":
        raise DTypeError(f"histc: needs a floating point tensor, got {data.dtype}")
    low, high = (min, max) if (min, max) != (0, 0) or not data.size else (data.min(), data.max())
    if low > high:
        raise ArgumentError(f"histc: max ({high}) must be larger than or equal to min ({low})")
    if low == high:   # as torch: a single value gets a range of width 2 around it
        low, high = low - 1, high + 1
    return Tensor._make(np.histogram(data, bins, range=(low, high))[0].astype(data.dtype), False, None)


def histogram(input: Tensor, bins=100, *, range: tuple | None = None, weight: Tensor | None = None,
              density: bool = False):
    """The named tuple (hist, bin_edges) of `input`'s elements: `bins` equal bins over `range` (the data's
    own by default), or the bin edges given as a 1-D tensor; `weight` weights each element, `density`
    normalises to a density. In input's floating dtype. As `torch.histogram`."""
    data = input._data
    if data.dtype.kind != "f":
        raise DTypeError(f"histogram: needs a floating point tensor, got {data.dtype}")
    edges = bins._data if isinstance(bins, Tensor) else bins
    hist, edges = np.histogram(data, edges, range=range, density=density,
                               weights=None if weight is None else weight._data)
    return HistogramResult(Tensor._make(hist.astype(data.dtype), False, None),
                           Tensor._make(edges.astype(data.dtype), False, None))


def unravel_index(indices, shape) -> tuple[Tensor, ...]:
    """The coordinates, one int64 tensor per dim of `shape`, of flat `indices` into a tensor of that shape.
    As `torch.unravel_index`."""
    flat = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if flat.dtype.kind not in "iu":
        raise DTypeError(f"unravel_index: indices must be integers, got {flat.dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if flat.size and (flat.min() < -size or flat.max() >= size):
        raise IndexRangeError(f"unravel_index: indices must be in [-{size}, {size}) for shape {shape}")
    coordinates = np.unravel_index(np.where(flat < 0, flat + size, flat), shape)
    return tuple(Tensor._make(np.asarray(c, np.int64), False, None) for c in coordinates)


def index_put(x, indices, values, accumulate=False):
    """x with `values` written (or, with `accumulate`, added: repeated positions add up) at the
    positions a tuple of index tensors picks, as torch.index_put."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got {type(indices).__name__}")
    index = normalize_index(tuple(indices))
    try:
        target_shape = np.broadcast_to(np.False_, x.shape)[index].shape   # no memory of x's size
    except IndexError as error:
        raise IndexError(f"index_put: indices {_describe(index)} are invalid for shape {x.shape}: {error}") from None
    if not accumulate:
        return overwrite(x, values, IndexRegion(index))
    from .arithmetic import add
    from .shape import broadcast_to
    if not isinstance(values, Tensor):
        values = Tensor._make(np.asarray(values, x.dtype), False, None)
    return add(x, IndexAdd.apply(broadcast_to(values, target_shape), shape=x.shape, index=index))


# -- select, masked_select, repeat_interleave ------------------------------------------------------

def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The slice of x at `index` along `dim`, without that dim (a view): `x[:, index]` for dim 1. As
    `torch.select`."""
    from .reduction import normalize_axes
    if x.ndim == 0:
        raise IndexRangeError("select: cannot select on a 0-d tensor")
    (axis,) = normalize_axes("select", dim, x.ndim)
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexRangeError(f"select: index {index} is out of range for dim {dim} of size {size} (shape {x.shape})")
    return getitem(x, (slice(None),) * axis + (int(index),))


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of x's elements where the bool `mask` is True, x and mask broadcast together. As
    `torch.masked_select`."""
    from .shape import broadcast_to
    mask_data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_data.dtype != np.bool_:
        raise DTypeError(f"masked_select: the mask must be a bool tensor, got {mask_data.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, mask_data.shape)
    except ValueError:
        raise shape_error("masked_select", "x and mask cannot be broadcast together", x.shape,
                          mask_data.shape) from None
    return getitem(broadcast_to(x, shape) if x.shape != shape else x, np.broadcast_to(mask_data, shape))


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None
                      ) -> Tensor:
    """Each element (each slice along `dim`) repeated `repeats` times in place: [a, b] -> [a, a, b, b].
    `repeats` is an int or a tensor of one count per slice (or one count); with dim None the input is
    flattened first. With only a 1-D count tensor, `repeat_interleave(counts)` gives the indices
    0..len-1 each repeated counts[i] times. Gradients sum over the copies. As `torch.repeat_interleave`."""
    if repeats is None:  # torch.repeat_interleave(counts): the positions, repeated
        counts = _repeat_counts(input, None)
        return Tensor._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts), False, None)
    if dim is None:
        input, dim = input.reshape(-1), 0
    from .reduction import normalize_axes
    (axis,) = normalize_axes("repeat_interleave", dim, input.ndim) or (0,)
    if input.ndim == 0:
        input = input.reshape(1)
    size = input.shape[axis]
    counts = np.broadcast_to(_repeat_counts(repeats, size).reshape(-1), (size,))
    if output_size is not None and output_size != counts.sum():
        raise ArgumentError(f"repeat_interleave: output_size {output_size} is not the sum of the repeats "
                            f"({counts.sum()})")
    positions = np.repeat(np.arange(size, dtype=np.int64), counts)
    return getitem(input, (slice(None),) * axis + (positions,))


def _repeat_counts(repeats, size):
    """The counts of repeat_interleave as an int64 array, checked: non-negative integers, one per slice
    (or a single one) when `size` is given, 1-D when they stand alone."""
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise DTypeError(f"repeat_interleave: repeats must be integers, got {counts.dtype}")
    if size is None and counts.ndim != 1:
        raise ArgumentError(f"repeat_interleave: the repeats alone must be a 1-D tensor, got shape {counts.shape}")
    if counts.ndim > 1 or (size is not None and counts.size not in (1, size)):
        raise shape_error("repeat_interleave", f"repeats must be one count or one per slice ({size})",
                          counts.shape)
    if (counts < 0).any():
        raise ArgumentError(f"repeat_interleave: repeats must be non-negative, got {counts.min()}")
    return counts.astype(np.int64)
