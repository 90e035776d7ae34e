"""`autograd.testing.assert_close`, as `torch.testing.assert_close`: Tensors (or arrays, numbers, and
sequences or mappings of them) equal up to dtype-dependent tolerances, with PyTorch's defaults and a
message naming the worst element."""
import collections.abc
import numbers

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]

# PyTorch's defaults (rtol, atol) per dtype; exact for integers and booleans
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


def _array(value):
    if isinstance(value, Tensor):
        return value.numpy()
    return np.asarray(value)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise an AssertionError unless |actual - expected| <= atol + rtol * |expected| elementwise (NaNs
    equal with equal_nan), with the same shape and (check_dtype) dtype; give rtol and atol together, or
    neither for PyTorch's defaults of the dtype."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    if isinstance(expected, collections.abc.Mapping):
        if not isinstance(actual, collections.abc.Mapping) or set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                                 f"{sorted(map(str, expected))}")
        for key in expected:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(expected, (list, tuple)) and not isinstance(actual, (Tensor, np.ndarray)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    a, e = _array(actual), _array(expected)
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number):
        check_dtype = False   # Python numbers compare by value, as torch's scalars
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.result_type(a.dtype, e.dtype), (0.0, 0.0))
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan) if a.dtype.kind in "fc" or \
        e.dtype.kind in "fc" else (a == e)
    if np.all(close):
        return
    if msg is not None:
        raise AssertionError(msg)
    difference = np.abs(a.astype(np.float64) - e.astype(np.float64)) if a.dtype.kind != "c" else np.abs(a - e)
    mismatches = np.where(close, -np.inf, np.nan_to_num(difference, nan=np.inf))   # a NaN counts as the worst
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(mismatches), a.shape))
    relative = difference / np.abs(e.astype(np.float64) if e.dtype.kind != "c" else e)
    kind = "Tensor-likes" if a.ndim else "Scalars"
    exact = rtol == 0 and atol == 0
    raise AssertionError(
        f"{kind} are not {'equal' if exact else 'close'}!\n\nMismatched elements: {int((~close).sum())} / {close.size} "
        f"({100 * (~close).mean():.1f}%)\nGreatest absolute difference: {difference[worst]} at index {worst} "
        f"(up to {atol} allowed)\nGreatest relative difference: {relative[worst]} at index {worst} "
        f"(up to {rtol} allowed)")
