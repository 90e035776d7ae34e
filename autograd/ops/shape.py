"""Shape ops: reshape, permute, expand and the ops made from them (view, flatten, transpose,
squeeze, unsqueeze, broadcast_to). None of them copies data where NumPy can give a view."""
import numpy as np

from ..broadcasting import expand as _expand
from ..errors import ArgumentError, ShapeError
from ..function import Primitive
from ..tensor import Dim, Tensor
from .reduction import normalize_axes


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


class Reshape(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape, ctx.new_shape = x.shape, shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return array.reshape(ctx.new_shape)


class Permute(Primitive):
    complex_safe = True
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return permute(grad, tuple(np.argsort(ctx.dims)))

    @staticmethod
    def replay_view(ctx, array, index):
        """The same view of `array`, an array of the input's shape (for writes through views)."""
        return array.transpose(ctx.dims)


class Flip(Primitive):
    """Reverse the order along some axes (a copy, as torch.flip makes); its own backward."""
    complex_safe = True
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, axes=ctx.axes)


class Repeat(Primitive):
    """Tile the input `reps[i]` times along each dim (torch.repeat, numpy.tile). Every output
    element is a copy of one input element, so the gradient sums the copies: grad viewed as
    (r0, n0, r1, n1, ...) and summed over the r axes."""
    @staticmethod
    def forward(ctx, x, reps):
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.input_shape, ctx.reps = x.shape, reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        interleaved = tuple(n for pair in zip(ctx.reps, ctx.input_shape) for n in pair)
        return grad.reshape(interleaved).sum(tuple(range(0, 2 * len(ctx.reps), 2)))


def reshape(x: Tensor, *shape) -> Tensor:
    """The elements of x in a new shape, given as ints or one tuple; one entry may be -1 (inferred). x
    itself when the shape is unchanged. As `torch.reshape` (alias `view`, which here never needs a
    contiguous tensor)."""
    shape = _shape_args(shape)
    if shape == x.shape:
        return x
    known = [s for s in shape if s != -1]
    size = int(np.prod(known, dtype=np.int64))
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
            -1 not in shape and size != x._data.size) or (-1 in shape and (size == 0 or x._data.size % size)):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x._data.size} elements) "
                         f"into shape {shape}")
    return Reshape.apply(x, shape=shape)


view = reshape


def permute(x: Tensor, *dims) -> Tensor:
    """x with its dims reordered: output dim i is input dim dims[i] (ints or one tuple). As
    `torch.permute`."""
    dims = _shape_args(dims)
    if sorted(d % x.ndim if x.ndim else d for d in dims) != list(range(x.ndim)):
        raise ArgumentError(f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with dims dim0 and dim1 swapped. As `torch.transpose` (alias `swapaxes`)."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    (a,), (b,) = normalize_axes("transpose", dim0, x.ndim), normalize_axes("transpose", dim1, x.ndim)
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims))


swapaxes = transpose


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """x with dims start_dim..end_dim (both included) merged into one; a 0-d tensor becomes shape (1,). As
    `torch.flatten`."""
    if x.ndim == 0:
        return reshape(x, 1)
    (start,), (end,) = normalize_axes("flatten", start_dim, x.ndim), normalize_axes("flatten", end_dim, x.ndim)
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1], dtype=np.int64)),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x: Tensor, dim: Dim = None) -> Tensor:
    """x without its size-1 dims: all of them, or only those of `dim` (an int or a tuple) that have size 1.
    As `torch.squeeze`."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = normalize_axes("squeeze", dim, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """x with a new size-1 dim inserted at position `dim` (negative counts from the end of the result). As
    `torch.unsqueeze`."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor of {x.ndim} dimensions")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, *shape):
    """Broadcast to `shape`; -1 keeps that dim's size."""
    shape = _shape_args(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the shape {shape} has fewer dims than the tensor's {x.shape}")
    full = tuple(x.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    if any(n < 0 for n in full):
        raise ShapeError(f"expand: cannot expand shape {x.shape} to {shape}: a size of -1 keeps an existing dim, "
                         "a new leading dim needs a size of at least 0")
    for i, n in enumerate(x.shape):
        if n != 1 and n != full[lead + i]:
            raise ShapeError(f"expand: cannot expand shape {x.shape} to {shape}: dim {i} has size {n}, "
                             "which is not 1")
    return _expand(x, full)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """x expanded to `shape` by broadcasting (a view, no copy); the gradient is summed back. As
    `torch.broadcast_to`."""
    return expand(x, *tuple(shape))


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The shape that tensors of `shapes` (each a tuple or an int) broadcast to. As `torch.broadcast_shapes`."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} cannot be broadcast together "
                         "(trailing dimensions must be equal or 1)") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views; gradients are summed back). As
    `torch.broadcast_tensors`."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, *shape) for t in tensors)


class Roll(Primitive):
    """Shift elements cyclically along some axes (np.roll); backward rolls back by -shifts."""
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, shifts=tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts,
                          axes=ctx.axes)


class Triangle(Primitive):
    """The lower (tril) or upper (triu) triangle of the last two dims, zero elsewhere; the gradient
    keeps the same triangle, so the op is its own backward."""
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, diagonal=ctx.diagonal, upper=ctx.upper)


def roll(x, shifts, dims=None):
    """Shift elements cyclically by `shifts` along `dims` (the flattened tensor when dims is None),
    as torch.roll."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)) and len(shifts) != 1:
            raise ArgumentError(f"roll: shifts {shifts} must be a single int when dims is None")
        shift = int(shifts) if isinstance(shifts, (int, np.integer)) else int(shifts[0])
        return Roll.apply(x.reshape(-1), shifts=shift, axes=None).reshape(x.shape)
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    axes = tuple(normalize_axes("roll", d, x.ndim)[0] for d in dims)   # in order, repeats allowed (as np.roll)
    return Roll.apply(x, shifts=shifts, axes=axes)


def tril(x, diagonal=0):
    """The lower triangle of the last two dims (with `diagonal` diagonals above the main one), as torch.tril."""
    if x.ndim < 2:
        raise ShapeError(f"tril: expects a tensor of at least 2 dims, got shape {x.shape}")
    return Triangle.apply(x, diagonal=int(diagonal), upper=False)


def triu(x, diagonal=0):
    """The upper triangle of the last two dims (from `diagonal` on), as torch.triu."""
    if x.ndim < 2:
        raise ShapeError(f"triu: expects a tensor of at least 2 dims, got shape {x.shape}")
    return Triangle.apply(x, diagonal=int(diagonal), upper=True)


def flip(x, *dims):
    """Reverse the order of elements along `dims` (an int, several ints, or a sequence)."""
    dims = _shape_args(dims)
    if not dims:
        return x
    axes = normalize_axes("flip", dims, x.ndim)
    if not axes:  # a 0-d tensor: flip(0) is the tensor itself, as in PyTorch
        return Flip.apply(x, axes=None)
    return Flip.apply(x, axes=axes)


def repeat(x, *sizes):
    """Repeat the tensor sizes[i] times along dim i, as torch.Tensor.repeat: one size per dim at
    least; extra leading sizes add new leading dims."""
    reps = _shape_args(sizes)
    if len(reps) < x.ndim:
        raise ArgumentError(f"repeat: got {len(reps)} repeat sizes {reps} for a tensor of shape {x.shape}; "
                            f"give at least one per dim ({x.ndim})")
    if any(r < 0 for r in reps):
        raise ArgumentError(f"repeat: repeat sizes must be non-negative, got {reps}")
    return Repeat.apply(x, reps=reps)


def tile(x, dims):
    """As torch.tile: like repeat, but fewer sizes than dims are padded with ones on the left."""
    reps = _shape_args((dims,)) if isinstance(dims, (tuple, list)) else (int(dims),)
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def _at_least(ndim, place, tensors):
    """atleast_nd of one tensor, or a tuple for several (or for one sequence of them), as PyTorch."""
    several = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    results = tuple(reshape(t, place(t.shape)) if t.ndim < ndim else t for t in tensors)
    return results if several else results[0]


def atleast_1d(*tensors: Tensor) -> "Tensor | tuple[Tensor, ...]":
    """A 0-d tensor as shape (1,), others as they are (one tensor, or a tuple for several). As
    `torch.atleast_1d`."""
    return _at_least(1, lambda shape: (1,), tensors)


def atleast_2d(*tensors: Tensor) -> "Tensor | tuple[Tensor, ...]":
    """Leading size-1 dims added until each tensor has at least 2 dims (one tensor, or a tuple for several).
    As `torch.atleast_2d`."""
    return _at_least(2, lambda shape: (1,) * (2 - len(shape)) + shape, tensors)


def atleast_3d(*tensors: Tensor) -> "Tensor | tuple[Tensor, ...]":
    """Tensors with at least 3 dims, as NumPy and PyTorch place them: (n,) -> (1, n, 1), (m, n) -> (m, n, 1).
    As `torch.atleast_3d`."""
    return _at_least(3, lambda shape: {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)], tensors)


def movedim(x: Tensor, source: "int | tuple[int, ...]", destination: "int | tuple[int, ...]") -> Tensor:
    """x with the dims `source` moved to the positions `destination`, the others keeping their order. As
    `torch.movedim` (alias `moveaxis`)."""
    source = normalize_axes_in_order("movedim", source, x.ndim)
    destination = normalize_axes_in_order("movedim", destination, x.ndim)
    if len(source) != len(destination):
        raise ArgumentError(f"movedim: source {source} and destination {destination} name different numbers of dims")
    rest = iter(d for d in range(x.ndim) if d not in source)
    placed = dict(zip(destination, source))
    return permute(x, tuple(placed[i] if i in placed else next(rest) for i in range(x.ndim)))


moveaxis = movedim


def normalize_axes_in_order(op, dims, ndim):
    """dims (an int or a sequence) as non-negative axes, in the order given (not sorted)."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = [normalize_axes(op, d, ndim)[0] if ndim else 0 for d in dims]
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"{op}: dims {dims} name an axis twice")
    return tuple(axes)


def ravel(x: Tensor) -> Tensor:
    """x flattened to 1-D. As `torch.ravel`."""
    return reshape(x, -1)


def rot90(x: Tensor, k: int = 1, dims: "tuple[int, int]" = (0, 1)) -> Tensor:
    """x rotated by k quarter turns in the plane of `dims`, from the first towards the second. As
    `torch.rot90`."""
    if len(dims) != 2 or x.ndim < 2:
        raise ArgumentError(f"rot90: needs two dims of a tensor with at least 2 dims, got dims {tuple(dims)} for "
                            f"shape {x.shape}")
    first, second = normalize_axes_in_order("rot90", dims, x.ndim)
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(x, (first, second))
    return transpose(flip(x, second if k == 1 else first), first, second)


def fliplr(x: Tensor) -> Tensor:
    """x reversed along dim 1 (left to right); needs at least 2 dims. As `torch.fliplr`."""
    if x.ndim < 2:
        raise ArgumentError(f"fliplr: needs a tensor with at least 2 dims, got shape {x.shape}")
    return flip(x, 1)


def flipud(x: Tensor) -> Tensor:
    """x reversed along dim 0 (up to down); needs at least 1 dim. As `torch.flipud`."""
    if x.ndim < 1:
        raise ArgumentError("flipud: needs a tensor with at least 1 dim, got a 0-d tensor")
    return flip(x, 0)


swapdims = transpose


def t(x: Tensor) -> Tensor:
    """A matrix transposed; a 0-D or 1-D tensor as it is. As `torch.t` (more dims are an error)."""
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dims, got shape {x.shape} (use transpose)")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The `length` elements of dim `dim` from `start` (negative: from the end), a view. As
    `torch.narrow`."""
    from ..errors import IndexRangeError
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1) or x.ndim == 0:
        raise IndexRangeError(f"narrow: dim {dim} is out of range for a tensor of shape {x.shape}")
    dim %= x.ndim
    size, start = x.shape[dim], int(start)
    start = start + size if start < 0 else start
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexRangeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of dim "
                              f"{dim} (shape {x.shape})")
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Dim `dim` split into several of `sizes` (whose product is its size; one may be -1). As
    `torch.unflatten`."""
    if x.ndim == 0:
        raise ArgumentError("unflatten: cannot unflatten a 0-d tensor")
    (axis,) = normalize_axes("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ArgumentError("unflatten: sizes must not be empty")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    inferred = sizes.count(-1) == 1 and known > 0 and x.shape[axis] % known == 0
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) or (-1 in sizes and not inferred):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to the size {x.shape[axis]} of dim {dim} "
                         f"(shape {x.shape})")
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])
