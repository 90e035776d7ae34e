"""NumPy's dispatch protocols on Tensors (`__array_ufunc__`, `__array_function__`).

`np.exp(t)`, `t * np.ones(3)`, `np.sum(t, axis=0)` or `np.concatenate([t, u])` run the autograd op
that does the same thing, so they return a Tensor in the graph and their gradients come from the
very primitives the methods use. A NumPy function that has no such op still works on tensors that
need no gradient (it sees their arrays and returns what NumPy returns), but raises TypeError, naming
the function, when an argument requires grad: a gradient is never dropped silently.

A ufunc writing into an array (`out=`, e.g. `array += t`) writes plain values, as NumPy does, and is
refused in the same way when the tensor requires grad.
"""
import numpy as np

from . import grad_mode, linalg, ops
from .creation import as_tensor, empty_like, full_like, ones_like, zeros_like
from .ops.joining import grid_dims
from .ops.linalg import solve_system
from .tensor import Tensor

# ufunc -> the autograd op, called with the ufunc's inputs (Tensors, arrays or numbers).
_UFUNCS = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.true_divide: ops.div, np.power: ops.pow,
    np.float_power: ops.float_power, np.remainder: ops.remainder, np.fmod: ops.fmod, np.floor_divide: ops.floor_divide,
    np.maximum: ops.maximum, np.minimum: ops.minimum, np.matmul: ops.matmul,
    np.negative: ops.neg, np.positive: lambda x: x * 1, np.absolute: ops.abs, np.sign: ops.sign,
    np.exp: ops.exp, np.expm1: ops.expm1, np.log: ops.log, np.log1p: ops.log1p, np.sqrt: ops.sqrt,
    np.square: ops.square, np.reciprocal: ops.reciprocal, np.sin: ops.sin, np.cos: ops.cos, np.tanh: ops.tanh,
    np.log2: ops.log2, np.log10: ops.log10, np.exp2: ops.exp2, np.tan: ops.tan, np.arcsin: ops.asin,
    np.arccos: ops.acos, np.arctan: ops.atan, np.arctan2: ops.atan2, np.sinh: ops.sinh, np.cosh: ops.cosh,
    np.arcsinh: ops.asinh, np.arccosh: ops.acosh, np.arctanh: ops.atanh,
    np.floor: ops.floor, np.ceil: ops.ceil, np.trunc: ops.trunc, np.rint: ops.round,
    np.equal: ops.eq, np.not_equal: ops.ne, np.less: ops.lt, np.less_equal: ops.le, np.greater: ops.gt,
    np.greater_equal: ops.ge, np.logical_and: ops.logical_and, np.logical_or: ops.logical_or,
    np.logical_xor: ops.logical_xor, np.logical_not: ops.logical_not,
    np.isnan: ops.isnan, np.isinf: ops.isinf, np.isfinite: ops.isfinite,
    np.hypot: ops.hypot, np.logaddexp: ops.logaddexp, np.logaddexp2: ops.logaddexp2, np.copysign: ops.copysign,
    np.fmax: ops.fmax, np.fmin: ops.fmin, np.ldexp: ops.ldexp, np.deg2rad: ops.deg2rad, np.radians: ops.deg2rad,
    np.rad2deg: ops.rad2deg, np.degrees: ops.rad2deg, np.signbit: ops.signbit,
    np.heaviside: lambda x, values: ops.heaviside(_tensor(x), values),
}

# ufunc.reduce -> the reduction it is (np.add.reduce is np.sum's kernel).
_REDUCTIONS = {np.add: ops.sum, np.multiply: ops.prod, np.maximum: ops.amax, np.minimum: ops.amin}


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(op):
    def call(a, axis=None, dtype=None, out=None, keepdims=False, **_):
        result = op(a, _axis(axis), keepdims)
        return result if dtype is None else result.to(dtype)
    return call


def _moment(op):
    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **_):
        return op(a, _axis(axis), keepdim=keepdims, correction=ddof)
    return call


def _where(condition, x=None, y=None):
    if x is None and y is None:  # np.where(condition): the indices, no gradient
        return np.where(np.asarray(condition))
    return ops.where(condition, x, y)


# NumPy function -> the autograd op, with NumPy's argument names mapped to the op's.
_FUNCTIONS = {
    np.sum: _reduction(ops.sum), np.prod: _reduction(ops.prod), np.mean: _reduction(ops.mean),
    np.max: _reduction(ops.amax), np.amax: _reduction(ops.amax), np.min: _reduction(ops.amin),
    np.amin: _reduction(ops.amin), np.var: _moment(ops.var), np.std: _moment(ops.std),
    np.cumsum: lambda a, axis=None, dtype=None, out=None: ops.cumsum(a.reshape(-1) if axis is None else a,
                                                                     0 if axis is None else axis, dtype),
    np.reshape: lambda a, shape=None, order="C", newshape=None, **_: ops.reshape(a, shape if shape is not None
                                                                                 else newshape),
    np.transpose: lambda a, axes=None: ops.permute(a, tuple(reversed(range(a.ndim))) if axes is None else axes),
    np.swapaxes: lambda a, axis1, axis2: ops.transpose(a, axis1, axis2),
    np.squeeze: lambda a, axis=None: ops.squeeze(a, axis),
    np.expand_dims: lambda a, axis: ops.unsqueeze(a, axis),
    np.broadcast_to: lambda array, shape, subok=False: ops.broadcast_to(array, shape),
    np.concatenate: lambda arrays, axis=0, out=None, **_: ops.cat([_tensor(a) for a in arrays], axis),
    np.stack: lambda arrays, axis=0, out=None, **_: ops.stack([_tensor(a) for a in arrays], axis),
    np.split: lambda ary, indices_or_sections, axis=0: _np_split(ary, indices_or_sections, axis),
    np.where: _where,
    np.clip: lambda a, a_min=None, a_max=None, out=None, min=None, max=None, **_: ops.clamp(
        a, a_min if a_min is not None else min, a_max if a_max is not None else max),
    np.dot: lambda a, b, out=None: ops.matmul(_tensor(a), _tensor(b)),
    np.flip: lambda m, axis=None: ops.flip(m, tuple(range(m.ndim)) if axis is None else axis),
    np.roll: lambda a, shift, axis=None: ops.roll(a, shift, axis),
    np.einsum: lambda *operands, **kwargs: _np_einsum(*operands, **kwargs),
    np.cumprod: lambda a, axis=None, dtype=None, out=None: ops.cumprod(a.reshape(-1) if axis is None else a,
                                                                       0 if axis is None else axis, dtype=dtype),
    np.diff: lambda a, n=1, axis=-1, prepend=None, append=None: ops.diff(
        a, n, axis, *(None if v is None else _tensor(np.asarray(v, a.dtype) if not isinstance(v, Tensor) else v)
                      for v in (prepend, append))),
    np.outer: lambda a, b, out=None: ops.outer(*_promoted(_tensor(a).reshape(-1), _tensor(b).reshape(-1))),
    np.inner: lambda a, b: ops.inner(*_promoted(_tensor(a), _tensor(b))),
    np.vdot: lambda a, b: ops.dot(*_promoted(_tensor(a).reshape(-1), _tensor(b).reshape(-1))),
    np.kron: lambda a, b: ops.kron(*_promoted(_tensor(a), _tensor(b))),
    np.tensordot: lambda a, b, axes=2: ops.tensordot(*_promoted(_tensor(a), _tensor(b)), axes),
    np.cross: lambda a, b, axisa=-1, axisb=-1, axisc=-1, axis=None: ops.cross(
        *_promoted(_tensor(a), _tensor(b)), dim=axis if axis is not None else _one_axis("cross", axisa, axisb, axisc)),
    np.trace: lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: ops.diagonal(a, offset, axis1, axis2).sum(
        -1, dtype=dtype),
    np.diagonal: lambda a, offset=0, axis1=0, axis2=1: ops.diagonal(a, offset, axis1, axis2),
    np.diag: lambda v, k=0: ops.diag(v, k),
    np.meshgrid: lambda *xi, copy=True, sparse=False, indexing="xy": _np_meshgrid(xi, sparse, indexing),
    np.nan_to_num: lambda x, copy=True, nan=0.0, posinf=None, neginf=None: ops.nan_to_num(x, nan, posinf, neginf),
    np.sinc: lambda x: ops.sinc(x),
    np.nansum: lambda a, axis=None, dtype=None, out=None, keepdims=False, **_: ops.nansum(a, _axis(axis), keepdims,
                                                                                          dtype=dtype),
    np.nanmean: lambda a, axis=None, dtype=None, out=None, keepdims=False, **_: ops.nanmean(a, _axis(axis), keepdims,
                                                                                            dtype=dtype),
    np.median: lambda a, axis=None, out=None, overwrite_input=False, keepdims=False: ops.quantile(
        a, 0.5, axis, keepdims),   # NumPy's median averages the two middle values: the linear 0.5 quantile
    np.quantile: lambda a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, **_:
        ops.quantile(a, q, axis, keepdims, interpolation=method),
    np.percentile: lambda a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, **_:
        ops.quantile(a, np.asarray(q, np.float64) / 100, axis, keepdims, interpolation=method),
    np.nanmedian: lambda a, axis=None, out=None, overwrite_input=False, keepdims=False: ops.nanquantile(
        a, 0.5, axis, keepdims),
    np.nanquantile: lambda a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, **_:
        ops.nanquantile(a, q, axis, keepdims, interpolation=method),
    np.nanpercentile: lambda a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, **_:
        ops.nanquantile(a, np.asarray(q, np.float64) / 100, axis, keepdims, interpolation=method),
    np.diagflat: lambda v, k=0: ops.diagflat(_tensor(v), k),
    np.vander: lambda x, N=None, increasing=False: ops.vander(_tensor(x), N, increasing),
    np.sort: lambda a, axis=-1, kind=None, order=None, **_: ops.sort(a.reshape(-1) if axis is None else a,
                                                                     -1 if axis is None else axis).values,
    np.round: lambda a, decimals=0, out=None: ops.round(a, decimals),
    np.around: lambda a, decimals=0, out=None: ops.round(a, decimals),
    np.take: lambda a, indices, axis=None, out=None, mode="raise": ops.take(a, _tensor(indices)) if axis is None
        else ops.getitem(a, (slice(None),) * (axis % a.ndim) + (np.asarray(indices),)),
    np.take_along_axis: lambda arr, indices, axis=-1: ops.take_along_dim(arr, _tensor(indices), axis),
    np.moveaxis: lambda a, source, destination: ops.movedim(a, source, destination),
    np.ravel: lambda a, order="C": ops.ravel(a),
    np.hstack: lambda tup, **_: ops.hstack([_tensor(t) for t in tup]),
    np.vstack: lambda tup, **_: ops.vstack([_tensor(t) for t in tup]),
    np.dstack: lambda tup: ops.dstack([_tensor(t) for t in tup]),
    np.column_stack: lambda tup: ops.column_stack([_tensor(t) for t in tup]),
    np.atleast_1d: lambda *arys: ops.atleast_1d(*map(_tensor, arys)),
    np.atleast_2d: lambda *arys: ops.atleast_2d(*map(_tensor, arys)),
    np.atleast_3d: lambda *arys: ops.atleast_3d(*map(_tensor, arys)),
    np.rot90: lambda m, k=1, axes=(0, 1): ops.rot90(m, k, axes),
    np.fliplr: lambda m: ops.fliplr(m), np.flipud: lambda m: ops.flipud(m),
    np.cov: lambda m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, **_: ops.cov(
        _variables(m, y, rowvar), correction=ddof if ddof is not None else 0 if bias else 1,
        fweights=None if fweights is None else _tensor(fweights),
        aweights=None if aweights is None else _tensor(aweights)),
    np.corrcoef: lambda x, y=None, rowvar=True, **_: ops.corrcoef(_variables(x, y, rowvar)),
    np.trapezoid: lambda y, x=None, dx=1.0, axis=-1: ops.trapezoid(y, None if x is None else _tensor(x),
                                                                   dx=None if x is not None else dx, dim=axis),
    np.array_split: lambda ary, indices_or_sections, axis=0: list(ops.tensor_split(ary, indices_or_sections, axis)),
    np.hsplit: lambda ary, indices_or_sections: list(ops.hsplit(ary, indices_or_sections)),
    np.vsplit: lambda ary, indices_or_sections: list(ops.vsplit(ary, indices_or_sections)),
    np.dsplit: lambda ary, indices_or_sections: list(ops.dsplit(ary, indices_or_sections)),
    np.broadcast_arrays: lambda *args, subok=False: ops.broadcast_tensors(*map(_tensor, args)),
    np.zeros_like: lambda a, dtype=None, **_: zeros_like(a, dtype=dtype),
    np.ones_like: lambda a, dtype=None, **_: ones_like(a, dtype=dtype),
    np.empty_like: lambda prototype, dtype=None, **_: empty_like(prototype, dtype=dtype),
    np.full_like: lambda a, fill_value, dtype=None, **_: full_like(a, fill_value, dtype=dtype),
    np.linalg.inv: lambda a: linalg.inv(a), np.linalg.det: lambda a: linalg.det(a),
    np.linalg.slogdet: lambda a: linalg.slogdet(a),
    np.linalg.solve: lambda a, b: solve_system(_tensor(a), _tensor(b), np.ndim(b) == 1),
    np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: linalg.norm(x, ord, axis, keepdims),
    np.linalg.matrix_power: lambda a, n: linalg.matrix_power(a, n),
    np.linalg.multi_dot: lambda arrays, out=None: linalg.multi_dot([_tensor(a) for a in arrays]),
    np.tril: lambda m, k=0: ops.tril(m, k), np.triu: lambda m, k=0: ops.triu(m, k),
    np.tile: lambda A, reps: ops.tile(A, (reps,) if isinstance(reps, int) else tuple(reps)),
}


def _np_einsum(*args, out=None, optimize=False, dtype=None, casting="safe", order="K"):
    """np.einsum on tensors and arrays: NumPy's dtype promotion (ag.einsum, as torch, wants one dtype),
    in the equation form or the sublist form."""
    if isinstance(args[0], str):
        equation, operands = args[0], [_tensor(a) for a in args[1:]]
        dtype = dtype or np.result_type(*(o.dtype for o in operands))
        return ops.einsum(equation, *(ops.cast(o, dtype) for o in operands))
    # operand, sublist, operand, sublist, ..., and maybe the output's sublist last
    is_operand = [k % 2 == 0 and not (k == len(args) - 1 and len(args) % 2) for k in range(len(args))]
    args = [_tensor(a) if operand else a for a, operand in zip(args, is_operand)]
    dtype = dtype or np.result_type(*(a.dtype for a, operand in zip(args, is_operand) if operand))
    return ops.einsum(*(ops.cast(a, dtype) if operand else a for a, operand in zip(args, is_operand)))


def _promoted(a, b):
    """Two operands in one dtype, by NumPy's promotion rules."""
    dtype = np.result_type(a.dtype, b.dtype)
    return ops.cast(a, dtype), ops.cast(b, dtype)


def _variables(m, y, rowvar):
    """np.cov's and np.corrcoef's variables as rows: y's appended, columns taken as variables if not rowvar."""
    m = _tensor(m)
    if not rowvar and m.ndim == 2:
        m = m.mT
    if y is not None:
        y = _tensor(y)
        m = ops.vstack([m, y.mT if not rowvar and y.ndim == 2 else y])
    return m


def _one_axis(op, *axes):
    if len(set(axes)) != 1:
        raise TypeError(f"numpy.{op} on tensors takes one axis for all operands, got {axes}")
    return axes[0]


def _np_meshgrid(tensors, sparse, indexing):
    """np.meshgrid: NumPy's default indexing is "xy"; sparse grids keep size 1 along the other dims."""
    tensors = [_tensor(t).reshape(-1) for t in tensors]
    if not sparse:
        return ops.meshgrid(tensors, indexing=indexing)
    return tuple(t.reshape(tuple(-1 if d == position else 1 for d in range(len(tensors))))
                 for t, position in zip(tensors, grid_dims(len(tensors), indexing)))


def _np_split(a, indices_or_sections, axis):
    """np.split: np.array_split that insists on equal parts when given their number."""
    if isinstance(indices_or_sections, (int, np.integer)) and a.shape[axis] % indices_or_sections:
        raise ValueError("array split does not result in an equal division")
    return list(ops.tensor_split(a, indices_or_sections, axis))


def _tensor(value):
    """A NumPy function's array argument as a tensor (NumPy's dtype rules for lists)."""
    return as_tensor(np.asarray(value)) if not isinstance(value, Tensor) else value


def _tensors_in(values):
    for value in values:
        if isinstance(value, Tensor):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from _tensors_in(value)
        elif isinstance(value, dict):
            yield from _tensors_in(value.values())


def _arrays(value):
    """The value with every Tensor (also inside lists, tuples and dicts) replaced by its array."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value


# NumPy functions whose results carry no gradient (indices, counts, truth values, shapes): they run on the
# arrays even when a tensor requires grad, since no gradient can be lost through them.
_NO_GRADIENT = {
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.count_nonzero, np.searchsorted,
    np.digitize, np.isclose, np.allclose, np.array_equal, np.array_equiv, np.isin,
    np.isposinf, np.isneginf, np.isreal, np.iscomplex, np.isrealobj, np.iscomplexobj, np.all, np.any, np.shape,
    np.ndim, np.size, np.result_type, np.histogram, np.histogram_bin_edges, np.lexsort, np.unravel_index,
    np.ravel_multi_index, np.may_share_memory, np.shares_memory,
}


def _refuse_if_differentiated(name, values):
    if grad_mode.is_grad_enabled() and any(t.requires_grad for t in _tensors_in(values)):
        raise TypeError(
            f"numpy.{name} was called on a tensor that requires grad, and autograd has no op for it, so its "
            "gradient would be lost. Use the autograd op if there is one (ag.exp, t.sum(dim), ...), or "
            "call it on t.detach() (or under autograd.no_grad()) if no gradient should flow through it.")


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Tensor.__array_ufunc__: a ufunc on tensors runs the matching autograd op (see above)."""
    out = kwargs.get("out")
    if method == "__call__" and ufunc in _UFUNCS and not kwargs:
        return _UFUNCS[ufunc](*inputs)
    if method == "reduce" and ufunc in _REDUCTIONS and out is None and len(inputs) == 1:
        return _reduction(_REDUCTIONS[ufunc])(inputs[0], axis=kwargs.get("axis", 0),
                                              keepdims=kwargs.get("keepdims", False))
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    _refuse_if_differentiated(name, inputs)
    result = getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))
    if out is not None:  # written into the caller's arrays, as NumPy does
        return result
    # As PyTorch's tensors do through __array_wrap__: a ufunc of tensors gives a tensor.
    return Tensor._make(result, False, None) if isinstance(result, np.ndarray) and result.dtype.kind in "biufc" else result


def array_function(self, func, types, args, kwargs):
    """Tensor.__array_function__: a NumPy function on tensors runs the matching autograd op."""
    if func in _FUNCTIONS and kwargs.get("out") is None:
        return _FUNCTIONS[func](*args, **kwargs)
    if func not in _NO_GRADIENT:
        _refuse_if_differentiated(func.__name__, (args, kwargs))
    return func(*_arrays(args), **_arrays(kwargs))
