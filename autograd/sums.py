"""Sums along a matrix's rows or columns as BLAS matrix-vector products with a vector of ones, and
kept-dims sums built on them: the one home of the summing kernels (and of `extreme_keepdims`, the
max/min along short rows).

NumPy's own reductions walk a tall, narrow array one row at a time (an axis-0 sum of a (128, 256)
gradient costs about 3x the product `ones @ grad`) and allocate through several Python layers; a
product runs at memory speed in one call, and its blocked accumulation is as accurate wherever
NumPy's is not pairwise (see sum_leading_or_trailing). Users: every broadcast gradient (SumTo),
sum and mean, softmax, batch/layer/group norm and conv's bias gradient.
"""
import functools
import math

import numpy as np

_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False   # shared between calls
    return ones


def row_sums(matrix):
    """Each row's sum of a 2-D array: shape (rows,)."""
    if matrix.dtype not in _BLAS_DTYPES:
        return matrix.sum(axis=1)
    return matrix @ _ones(matrix.shape[1], matrix.dtype)


def column_sums(matrix):
    """Each column's sum of a 2-D array: shape (columns,)."""
    if matrix.dtype not in _BLAS_DTYPES:
        return matrix.sum(axis=0)
    return _ones(matrix.shape[0], matrix.dtype) @ matrix


def row_dots(a, b):
    """sum(a * b) along each row of two 2-D arrays of one shape, without the product array."""
    if a.shape[1] < 1024:  # many short rows: one matmul per row would cost more than einsum
        return np.einsum("km,km->k", a, b)
    return np.matmul(a[:, None, :], b[:, :, None]).reshape(a.shape[0])


def sum_leading(x, count):
    """x summed over its first `count` axes (a bias gradient's batch axes): one BLAS product for a
    contiguous float array, NumPy's pairwise sum for a column of one (a sum of everything)."""
    kept = x.shape[count:]
    size = math.prod(kept)
    if size > 1 and x.dtype in _BLAS_DTYPES and x.flags.c_contiguous:
        return column_sums(x.reshape(-1, size)).reshape(kept)
    return np.asarray(np.add.reduce(x, axis=tuple(range(count))))   # an array even when everything is summed


def sum_keepdims(x, axes):
    """np.sum(x, axis=axes, keepdims=True), as one BLAS product when the axes lead or trail a
    C-contiguous float array (a bias gradient's batch axes, a softmax's last axis), and with short
    axes summed as adds of their slices."""
    sums = sum_leading_or_trailing(x, axes)
    if sums is not None:
        return sums
    short = [axis for axis in axes if 1 < x.shape[axis] <= _SHORT] if x.dtype in _BLAS_DTYPES else []
    for axis in short:
        x = _add_slices(x, axis)
    long = tuple(axis for axis in axes if axis not in short)
    return np.add.reduce(x, axis=long, keepdims=True) if long or not short else x


# NumPy's reduce over a few elements per output (the 2 x 2 blocks of a nearest-upsampling gradient)
# runs a two-element inner loop: 16 ms for an (16, 32, 64, 64) gradient where adding the slices
# takes 0.65 ms.
_SHORT = 8


def _add_slices(x, axis):
    """x summed over `axis`, kept with size 1, as a sum of its slices."""
    before = (slice(None),) * axis
    total = np.add(x[before + (slice(0, 1),)], x[before + (slice(1, 2),)])
    for j in range(2, x.shape[axis]):
        total += x[before + (slice(j, j + 1),)]
    return total


def sum_leading_or_trailing(x, axes):
    """np.sum(x, axis=axes, keepdims=True) when `axes` (sorted, distinct) are x's first few axes, its
    last few, or both (a per-channel sum over (N, H, W) of an (N, C, H, W) array), and x is
    C-contiguous: x is then a matrix without a copy, and the sum one or two matrix-vector products.
    None otherwise. Along contiguous rows longer than _PAIRWISE_FROM, and for a sum of everything,
    NumPy's pairwise summation is more accurate than a product's running sums, so those are left to
    NumPy (None); down columns NumPy adds row after row, as BLAS does."""
    if not axes or x.dtype not in _BLAS_DTYPES or not x.flags.c_contiguous:
        return None
    shape, ndim = x.shape, x.ndim
    lead = 0   # axes 0, 1, ... first
    for axis in axes:
        if axis != lead:
            break
        lead += 1
    trail = len(axes) - lead
    if trail and axes[lead:] != tuple(range(ndim - trail, ndim)):
        return None
    kept_size = math.prod(shape[lead:ndim - trail])
    if lead == ndim or kept_size == 1:   # everything (a column of one is a row): as one row
        lead, trail = 0, ndim
    lead_size, trail_size = math.prod(shape[:lead]), math.prod(shape[ndim - trail:])
    if trail_size > _PAIRWISE_FROM:
        return None
    sums = x
    if trail:
        sums = row_sums(x.reshape(lead_size * kept_size, trail_size))
    if lead:
        sums = column_sums(sums.reshape(lead_size, kept_size))
    if lead + trail == ndim:
        return sums.reshape((1,) * ndim)
    return sums.reshape((1,) * lead + shape[lead:ndim - trail] + (1,) * trail)


_PAIRWISE_FROM = 1024


def extreme_keepdims(x, axes, largest=True):
    """np.amax (or np.amin) of x over `axes`, keepdims=True (NaN propagates, as there). Along one short
    trailing axis of a contiguous array with many rows (softmax's classes or attention keys), the
    rows are transposed into a copy first: NumPy's reduce walks each short row in its own inner
    loop (6.6 us for (128, 10), 357 us for (8192, 10)), while a reduce down columns is one vector
    pass per row of the copy (2.1 and 41 us)."""
    reduce = np.maximum.reduce if largest else np.minimum.reduce
    if len(axes) == 1 and axes[0] == x.ndim - 1 and 1 < x.shape[-1] <= _SHORT_ROW and x.size >= _TRANSPOSE_FROM \
            and x.flags.c_contiguous:
        length = x.shape[-1]
        columns = np.ascontiguousarray(x.reshape(-1, length).T)
        return reduce(columns, axis=0).reshape(x.shape[:-1] + (1,))
    return reduce(x, axis=axes, keepdims=True)


# Rows up to _SHORT_ROW long are faster transposed (measured: (512, 65) 23.7 -> 16.2 us, (512, 256) 42 -> 140
# us slower), and only from _TRANSPOSE_FROM elements does the copy pay for itself.
_SHORT_ROW = 64
_TRANSPOSE_FROM = 256
