"""Making tensors, and the dtype rules.

- Python floats become the default float dtype (float32 unless `set_default_dtype` said otherwise,
  as in PyTorch), ints int64, bools bool.
- NumPy arrays and NumPy scalars keep their dtype.
- An op between a tensor and a Python scalar keeps the tensor's dtype (a float32 graph is never
  promoted to float64 by a `* 0.5`); between two tensors, NumPy's promotion rules apply.
- Only numbers make tensors: bool, integer, floating (up to float64) and complex data. Strings,
  bytes, objects, datetimes and records are refused where the tensor is made (as PyTorch does),
  rather than failing later inside some op with a bare NumPy error.
"""
from __future__ import annotations

import builtins
import json
import numbers
from typing import TYPE_CHECKING, Union

import numpy as np

from .errors import ArgumentError, DTypeError, ShapeError

if TYPE_CHECKING:  # for the type hints only: tensor.py imports this module
    from .tensor import Device, Tensor

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int8, int16, int32, int64 = np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)
uint8, bool_ = np.dtype(np.uint8), np.dtype(np.bool_)
half, float, double, long, int = float16, float32, float64, int64, int32  # PyTorch's aliases

# Type-hint vocabulary (this module's own `int` and `float` are dtypes, so hints say builtins.int).
DTypeLike = Union[np.dtype, type, str, None]
DeviceLike = Union[str, "Device", None]   # only the CPU exists
Number = Union[builtins.int, builtins.float, bool]

_DTYPE_NAMES = {"float": float32, "double": float64, "long": int64, "int": int32, "half": float16,
                "bool": bool_}
_PYTHON_NUMBERS = (builtins.float, builtins.int)
_PYTHON_TYPES = {builtins.float: float32, builtins.int: int64, builtins.bool: bool_}


# Tensor.type()'s names, PyTorch's legacy tensor-type names under this package's name:
# `autograd.FloatTensor` for float32 where torch says `torch.FloatTensor`.
_TENSOR_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
                      int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor",
                      bool_: "BoolTensor", np.dtype(np.complex64): "ComplexFloatTensor",
                      np.dtype(np.complex128): "ComplexDoubleTensor"}


def tensor_type_name(dtype) -> str:
    """'autograd.FloatTensor' for float32, ...: what `Tensor.type()` answers."""
    return "autograd." + _TENSOR_TYPE_NAMES[np.dtype(dtype)]


def dtype_of_tensor_type(name: str) -> np.dtype:
    """The dtype a tensor-type name stands for: 'autograd.FloatTensor' or torch's 'torch.FloatTensor'
    (client code written for torch passes those) give float32."""
    package, _, short = name.rpartition(".")
    for dtype, type_name in _TENSOR_TYPE_NAMES.items():
        if package in ("autograd", "torch") and short == type_name:
            return dtype
    raise ArgumentError(f"type: invalid tensor type {name!r} (expected a name such as 'autograd.FloatTensor' "
                        "or 'torch.FloatTensor', or a dtype)")


class _LegacyTensorType(type):
    """The type of `FloatTensor`, `LongTensor`, ...: PyTorch's legacy constructors, still common in
    client code (`torch.LongTensor(token_ids)`), and `isinstance(t, FloatTensor)` tests the dtype."""

    def __call__(cls, *args):
        from .tensor import Tensor
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:  # torch aliases a tensor of the type, and refuses any other
                raise TypeError(f"{cls.__name__}: expected a tensor of dtype {cls.dtype}, got {args[0].dtype}")
            return args[0].detach()
        if len(args) == 1 and isinstance(args[0], (builtins.float, complex)):
            raise TypeError(f"{cls.__name__}(): data must be a sequence, got {type(args[0]).__name__}")
        return Tensor(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _legacy_tensor_type(dtype):
    name = _TENSOR_TYPE_NAMES[dtype]
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": f"`torch.{name}`: a {dtype} tensor from sizes "
                                        f"or data, as the legacy constructor.", "__module__": "autograd"})


(FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
 BoolTensor) = (_legacy_tensor_type(d) for d in (float32, float64, float16, int64, int32, int16, int8, uint8, bool_))


class _DTypeWithoutNumPy:
    """A dtype PyTorch has and NumPy lacks (`bfloat16`): the name exists, so that code which merely
    mentions it runs (`{'float32': torch.float32, 'bfloat16': torch.bfloat16}[dtype]`, or
    `autocast('cpu', dtype=torch.bfloat16)`, which runs in the tensors' own dtypes here); making a tensor
    of it raises."""

    def __init__(self, name):
        self.name = name
        self.is_floating_point, self.is_complex, self.is_signed, self.itemsize = True, False, True, 2

    def __repr__(self):
        return f"autograd.{self.name}"


bfloat16 = _DTypeWithoutNumPy("bfloat16")


def resolve_dtype(dtype):
    """A numpy dtype from anything naming one: np.float32, "float32", float (-> float32), ..."""
    if dtype is None or isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, _DTypeWithoutNumPy):
        raise TypeError(f"{dtype.name} tensors are not supported: NumPy has no {dtype.name} (use float32; "
                        f"autocast(dtype={dtype.name}) runs in the tensors' own dtypes)")
    if dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None


def as_array(data, dtype=None):
    """`data` as an ndarray following the dtype rules above (copying lists, keeping arrays)."""
    from .tensor import Tensor
    dtype = resolve_dtype(dtype)
    if dtype is not None:
        check_numeric(dtype, "tensor: cannot make a tensor of")
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
            data = _unwrap_nested(data)
        try:
            array = np.asarray(data)
        except ValueError as error:  # NumPy's words for a ragged list ("inhomogeneous shape ...")
            raise ValueError(f"tensor: the nested sequences have different lengths, so they make no tensor "
                             f"({error})") from None
        if dtype is None and array.dtype in _PYTHON_NUMBER_DTYPES:
            array = array.astype(_python_default(array.dtype))  # Python floats become the default dtype
        if array.dtype.kind == "O":
            _check_python_ints(data)
        elif dtype is not None and dtype.kind in "iu" and array.dtype.kind in "iu" and array.size:
            _check_fits(array, dtype)
    check_numeric(array.dtype, f"tensor: cannot make a tensor from {type(data).__name__} of")
    if dtype is not None and array.dtype != dtype:
        with np.errstate(over="ignore"):   # 1e10 as float16 is inf, silently, as in PyTorch
            array = array.astype(dtype)
    return array


# The dtype of floating tensors made from Python numbers, of creation functions without a dtype and of
# new parameters: PyTorch's default float32 unless set_default_dtype changes it (for the whole process).
_default_float = float32
_DEFAULT_FLOATS = (float16, float32, float64)
_PYTHON_NUMBER_DTYPES = (float64, np.dtype(np.complex128))   # what NumPy makes of Python floats, complex


def get_default_dtype() -> np.dtype:
    """The dtype floating tensors get when nothing says otherwise (float32 to start with):
    `torch.get_default_dtype`."""
    return _default_float


def set_default_dtype(dtype: DTypeLike) -> None:
    """Make `dtype` (float16, float32 or float64) the dtype of tensors made from Python floats, of
    `zeros`/`ones`/`randn`/... without a dtype and of new nn parameters: `torch.set_default_dtype`.
    Python complex numbers then become the complex dtype of twice its size, as in PyTorch."""
    global _default_float
    resolved = resolve_dtype(dtype)
    if resolved not in _DEFAULT_FLOATS:
        raise DTypeError(f"set_default_dtype: only floating-point types are supported as the default type "
                         f"(float16, float32, float64), got {dtype}")
    _default_float = resolved


def _python_default(dtype):
    """The dtype of an array NumPy made from Python floats (float64) or complex numbers (complex128)."""
    if dtype.kind == "f":
        return _default_float
    return np.dtype(np.complex128) if _default_float == float64 else np.dtype(np.complex64)


def _check_python_ints(data):
    """NumPy makes an object array of a Python int beyond 64 bits: say so, rather than 'objects'."""
    values = _flat(data) if isinstance(data, (list, tuple)) else [data]
    for value in values:
        if isinstance(value, builtins.int) and not -2 ** 63 <= value < 2 ** 64:
            raise ArgumentError(f"tensor: the integer {value} does not fit in 64 bits")


def _check_fits(array, dtype):
    """Python integers cast to a narrower integer dtype must fit (NumPy would wrap them silently)."""
    info = np.iinfo(dtype)
    low, high = array.min(), array.max()
    if low < info.min or high > info.max:
        bad = low if low < info.min else high
        raise ArgumentError(f"tensor: the value {bad} cannot be converted to {dtype} without overflow "
                            f"({dtype} holds {info.min}..{info.max})")


_NUMERIC_KINDS = {"b": 1, "i": 8, "u": 8, "f": 8, "c": 16}   # kind -> the largest itemsize a tensor holds


def check_numeric(dtype, what):
    """DTypeError unless `dtype` is one a tensor can hold: bool, integers, float16..float64, complex."""
    if dtype.kind not in _NUMERIC_KINDS or dtype.itemsize > _NUMERIC_KINDS[dtype.kind]:
        kind = {"O": "Python objects", "U": "strings", "S": "bytes", "M": "datetimes", "m": "timedeltas",
                "V": "records"}.get(dtype.kind, f"{dtype}, wider than float64")
        raise DTypeError(f"{what} dtype {dtype} ({kind}): tensors hold only bool, integer, floating point "
                         "(up to float64) and complex numbers")


def constructor_array(data_or_sizes, dtype=None):
    """The array behind `Tensor(*data_or_sizes)`. As torch.Tensor: sizes (ints, or one Size) give
    a tensor of that shape (zeros, where torch leaves memory uninitialised), nothing an empty one; one
    piece of data, Python numbers and (nested) lists of them, are of the default dtype whatever their
    kind (`Tensor([1, 2])` is float32, `tensor([1, 2])` int64); arrays and tensors keep their dtype
    (nn.Parameter relies on that)."""
    from .tensor import Size, Tensor
    if len(data_or_sizes) == 1 and isinstance(data_or_sizes[0], Size):
        data_or_sizes = tuple(data_or_sizes[0])
    if not data_or_sizes:
        data_or_sizes = (0,)
    if all(isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_)) for n in data_or_sizes):
        return np.zeros(_shape(data_or_sizes, "Tensor"), resolve_dtype(dtype) or _default_float)
    if len(data_or_sizes) != 1:
        raise TypeError(f"Tensor(): expected sizes (ints) or one piece of data, got "
                        f"{', '.join(type(a).__name__ for a in data_or_sizes)}")
    data = data_or_sizes[0]
    array = as_array(data, dtype)
    if dtype is None and array.dtype.kind in "biu" and not isinstance(data, (np.ndarray, np.generic, Tensor)):
        array = array.astype(_default_float)
    return array


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _unwrap_nested(data):
    from .tensor import Tensor
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(d) for d in data]
    return data


def scalar_operand(value, like):
    """A Python number (or array-like) as an array to combine with tensor `like`: a Python scalar
    takes the tensor's dtype where it fits, so float32 stays float32."""
    if value.__class__ in _PYTHON_NUMBERS and like.dtype.kind == "f":  # the common case, first
        return np.asarray(value, like.dtype)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # a NumPy scalar combines as a Python number does (as in PyTorch)
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        kind = like.dtype.kind
        if isinstance(value, bool):
            dtype = like.dtype if kind != "b" else bool_
        elif isinstance(value, numbers.Integral):
            dtype = like.dtype if kind in "fciu" else int64
        elif isinstance(value, numbers.Real):
            dtype = like.dtype if kind in "fc" else _default_float
        else:
            dtype = np.complex64
        try:
            return np.asarray(value, dtype=dtype)
        except OverflowError:  # as PyTorch: an int beyond an integer tensor's range wraps (uint8 * -1 is 255)
            return np.asarray(value).astype(dtype)
    return as_array(value)


def set_default_device(device: DeviceLike) -> None:
    """As torch.set_default_device: the device new tensors go to. The CPU is the only one, so this
    checks `device` (None or "cpu") and raises for any other."""
    if device is not None:
        check_device(device)


def get_default_device() -> "Device":
    """As torch.get_default_device: always `device('cpu')`."""
    from .tensor import Device
    return Device()


def check_device(device) -> None:
    """Raise a RuntimeError unless `device` is the CPU ("cpu", "cpu:0" or `autograd.device("cpu")`)."""
    name = getattr(device, "type", device)
    if name is None or str(name).split(":")[0] != "cpu":
        raise RuntimeError(f"device {device!r} is not available: ndgrad runs on NumPy, and 'cpu' is its only device")


class memory_format:
    """How a tensor's elements are laid out, as `torch.memory_format`. NumPy arrays here are in one
    layout, so the formats (`preserve_format`, `contiguous_format`, `channels_last`,
    `channels_last_3d`) are accepted where PyTorch takes them (`zeros_like(p,
    memory_format=preserve_format)`, `x.contiguous(memory_format=...)`, `model.to(memory_format=...)`)
    and change nothing."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"autograd.{self.name}"


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def parse_to(*args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
    """What arguments of `Tensor.to` / `Module.to` ask for, as (device, dtype), each None when not
    asked: `.to(dtype)`, `.to(device)`, `.to(device, dtype)`, `.to(other_tensor)` and the keyword
    forms, as in PyTorch. The CPU is the only device; naming another raises."""
    from .tensor import Device, Tensor
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = Device(), arg.dtype
        elif isinstance(arg, (str, Device)):
            device = arg
        else:
            dtype = arg
    if device is not None:
        device = Device(getattr(device, "type", device))
    return device, resolve_dtype(dtype)


# -- creation functions ------------------------------------------------------------------------

def _scalar(value):
    """A one-element Tensor as its Python number (`lengths.max()` as a size), anything else as it is."""
    from .tensor import Tensor
    return value.item() if isinstance(value, Tensor) and value._data.size == 1 else value


def _shape(shape, op):
    """The size arguments `(2, 3)`, `((2, 3),)` or `([2, 3],)` as a tuple of non-negative ints (one-element
    integer tensors count as ints, as in PyTorch)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(_scalar(n) for n in shape)
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"{op}: the size must be integers, got {shape!r}")
    if any(n < 0 for n in shape):
        raise ArgumentError(f"{op}: cannot make a tensor of shape {shape}: sizes must be non-negative")
    return tuple(builtins.int(n) for n in shape)


def _new(array, requires_grad, device=None):
    """The new tensor of a creation function, once its `device=` is known to be the CPU."""
    from .tensor import Tensor
    if device is not None:
        check_device(device)
    t = Tensor._make(array, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data`: `torch.tensor`.

    `data` is a Python number, a (nested) list, a NumPy array or a Tensor. Python floats become
    the default dtype (float32 unless set) and Python ints int64, as in PyTorch; NumPy arrays keep
    their dtype unless `dtype` is given. `requires_grad=True` makes it a leaf whose `.grad` backward fills.
    """
    from .tensor import Tensor
    array = as_array(data, dtype)
    source = data._data if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and np.may_share_memory(array, source):
        array = array.copy()
    return _new(array, requires_grad, device)


def as_tensor(data, dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    """`data` as a tensor without copying when it already is one of that dtype: `torch.as_tensor`."""
    from .tensor import Tensor
    if isinstance(data, Tensor) and (dtype is None or data.dtype == resolve_dtype(dtype)):
        return data
    return _new(as_array(data, dtype), False, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (writes to either show in both): `torch.from_numpy`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    check_numeric(array.dtype, "from_numpy: cannot share an array of")
    return _new(array, False)


def zeros(*shape: builtins.int, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (of the default dtype); the shape as ints or one tuple: `torch.zeros`."""
    return _new(np.zeros(_shape(shape, "zeros"), resolve_dtype(dtype) or _default_float), requires_grad, device)


def ones(*shape: builtins.int, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (of the default dtype): `torch.ones`."""
    return _new(np.ones(_shape(shape, "ones"), resolve_dtype(dtype) or _default_float), requires_grad, device)


def empty(*shape: builtins.int, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever was in memory (of the default dtype): `torch.empty`."""
    return _new(np.empty(_shape(shape, "empty"), resolve_dtype(dtype) or _default_float), requires_grad, device)


def full(shape: "builtins.int | tuple[builtins.int, ...]", fill_value: Number, dtype: DTypeLike = None,
         device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (dtype from the value unless given): `torch.full`."""
    shape = _shape((shape,) if isinstance(shape, numbers.Integral) else tuple(shape), "full")
    if not (isinstance(fill_value, (numbers.Number, np.generic)) or getattr(fill_value, "ndim", None) == 0):
        raise TypeError(f"full: fill_value must be a number, got {type(fill_value).__name__}")
    if dtype is None:
        dtype = as_array(fill_value).dtype
    dtype = resolve_dtype(dtype)
    if dtype.kind in "iu" and not np.isfinite(fill_value):   # NumPy would fill with garbage
        raise ArgumentError(f"full: fill_value {fill_value} cannot be converted to {dtype}")
    return _new(np.full(shape, fill_value, dtype), requires_grad, device)


def zeros_like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Zeros of `t`'s shape and dtype: `torch.zeros_like`."""
    _check_like("zeros_like", t)
    return _new(np.zeros(t.shape, resolve_dtype(dtype) or t.dtype), requires_grad, device)


def ones_like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Ones of `t`'s shape and dtype: `torch.ones_like`."""
    _check_like("ones_like", t)
    return _new(np.ones(t.shape, resolve_dtype(dtype) or t.dtype), requires_grad, device)


def full_like(t: Tensor, fill_value: Number, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """`fill_value` in `t`'s shape and dtype: `torch.full_like`."""
    _check_like("full_like", t)
    return _new(np.full(t.shape, fill_value, resolve_dtype(dtype) or t.dtype), requires_grad, device)


def empty_like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """An uninitialised tensor of `t`'s shape and dtype: `torch.empty_like`."""
    _check_like("empty_like", t)
    return _new(np.empty(t.shape, resolve_dtype(dtype) or t.dtype), requires_grad, device)


def asarray(obj, dtype: DTypeLike = None, device: DeviceLike = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """`obj` as a tensor, sharing memory with a tensor or NumPy array when the dtype allows and `copy` is not
    True (`copy=False` raises when a copy is needed); lists follow `tensor`'s dtype rules: `torch.asarray`."""
    from .tensor import Tensor
    source = obj._data if isinstance(obj, Tensor) else obj
    array = as_array(source, dtype)
    shares = isinstance(source, np.ndarray) and np.may_share_memory(array, source)
    if copy is False and isinstance(source, np.ndarray) and not shares:
        raise ArgumentError(f"asarray: copy=False, but turning {source.dtype} into {array.dtype} needs a copy")
    if copy and shares:
        array = array.copy()
    if isinstance(obj, Tensor) and array is obj._data and not requires_grad:
        return obj
    return _new(array, requires_grad, device)


def finfo(dtype: DTypeLike = None) -> np.finfo:
    """The limits of a floating dtype (of the default dtype): `.eps`, `.max`, `.min`, `.tiny`,
    `.smallest_normal`, `.resolution`, `.bits`, as `torch.finfo`."""
    dtype = resolve_dtype(dtype) or _default_float
    if dtype.kind not in "fc":
        raise TypeError(f"finfo: {dtype} is not a floating point dtype (use iinfo)")
    return np.finfo(dtype)


def iinfo(dtype: DTypeLike) -> np.iinfo:
    """The limits of an integer dtype: `.max`, `.min`, `.bits`, as `torch.iinfo`."""
    dtype = resolve_dtype(dtype)
    if dtype is None or dtype.kind not in "iu":
        raise TypeError(f"iinfo: {dtype} is not an integer dtype (use finfo)")
    return np.iinfo(dtype)


def promote_types(type1: DTypeLike, type2: DTypeLike) -> np.dtype:
    """The smallest dtype both dtypes convert to without losing their kind: `torch.promote_types`. As in
    PyTorch, an integer meeting a floating dtype gives that floating dtype (NumPy would widen int64 with
    float32 to float64)."""
    first, second = resolve_dtype(type1), resolve_dtype(type2)
    if first.kind in "biu" and second.kind in "fc":
        return second
    if second.kind in "biu" and first.kind in "fc":
        return first
    return np.promote_types(first, second)


def result_type(tensor1, tensor2) -> np.dtype:
    """The dtype an arithmetic op between the two (tensors or Python numbers) gives, by PyTorch's rules (a
    number takes the tensor's dtype where its kind fits): `torch.result_type`."""
    from .tensor import Tensor
    tensors = [t for t in (tensor1, tensor2) if isinstance(t, Tensor)]
    if len(tensors) == 2:
        return promote_types(tensor1.dtype, tensor2.dtype)
    if not tensors:
        return promote_types(as_array(tensor1).dtype, as_array(tensor2).dtype)
    (like,) = tensors
    number = tensor2 if like is tensor1 else tensor1
    return scalar_operand(number, like).dtype if like.dtype.kind != "b" or isinstance(number, bool) else \
        promote_types(like.dtype, as_array(number).dtype)


def can_cast(from_: DTypeLike, to: DTypeLike) -> bool:
    """Whether PyTorch's type promotion allows casting `from_` to `to`: never to a lower kind (floating to
    integer, integer to bool); within a kind, any size: `torch.can_cast`."""
    rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    return rank[resolve_dtype(from_).kind] <= rank[resolve_dtype(to).kind]


def randn_like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
               generator: Generator | None = None, memory_format=None) -> Tensor:
    """Standard normal samples in `t`'s shape and dtype: `torch.randn_like`."""
    _check_like("randn_like", t)
    dtype = resolve_dtype(dtype) or t.dtype
    return _new(_generator(generator).standard_normal(t.shape).astype(dtype), requires_grad, device)


def rand_like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
              generator: Generator | None = None, memory_format=None) -> Tensor:
    """Uniform samples from [0, 1) in `t`'s shape and dtype: `torch.rand_like`."""
    _check_like("rand_like", t)
    dtype = resolve_dtype(dtype) or t.dtype
    return _new(_generator(generator).random(t.shape).astype(dtype), requires_grad, device)


def _check_like(op, t):
    if not hasattr(t, "shape") or not hasattr(t, "dtype"):
        raise TypeError(f"{op}: expects a Tensor, got {type(t).__name__}")


def arange(start: Number, end: Number | None = None, step: Number = 1, dtype: DTypeLike = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """`start, start + step, ...` below `end` (`arange(n)` is 0..n-1): `torch.arange`.

    Integer arguments give int64, floating ones the default dtype, as in PyTorch.
    """
    if end is None:
        start, end = 0, start
    from .tensor import Tensor
    bounds = tuple(v.item() if isinstance(v, Tensor) and v.ndim == 0 else v for v in (start, end, step))
    start, end, step = bounds
    if not all(isinstance(v, numbers.Real) for v in bounds):
        raise TypeError(f"arange: start, end and step must be numbers, got {bounds}")
    if not all(np.isfinite(v) for v in bounds):
        raise ArgumentError(f"arange: start, end and step must be finite, got {bounds}")
    if step == 0 or (end - start) * step < 0:
        raise ArgumentError(f"arange: step {step} must be non-zero and lead from {start} towards {end}")
    array = np.arange(start, end, step)
    if dtype is None and array.dtype == np.float64:
        dtype = _default_float
    return _new(array.astype(resolve_dtype(dtype)) if dtype is not None else array, requires_grad, device)


def linspace(start: builtins.float, end: builtins.float, steps: builtins.int, dtype: DTypeLike = None,
             device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included (the default dtype): `torch.linspace`."""
    _shape((steps,), "linspace")
    return _new(np.linspace(start, end, steps, dtype=resolve_dtype(dtype) or _default_float), requires_grad, device)


def eye(n: builtins.int, m: builtins.int | None = None, dtype: DTypeLike = None,
        device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """The n x m (n x n) identity matrix (the default dtype): `torch.eye`."""
    _shape((n,) if m is None else (n, m), "eye")
    return _new(np.eye(n, m, dtype=resolve_dtype(dtype) or _default_float), requires_grad, device)


def _window(op, window_length, periodic, symmetric, dtype, device, requires_grad):
    """A window of `window_length` points from `symmetric(M)` (the symmetric window of M points): periodic
    windows (for spectral analysis, the default) are the symmetric one of length + 1 without its last point."""
    _shape((window_length,), op)
    dtype = resolve_dtype(dtype) or _default_float
    if window_length <= 1:
        return _new(np.ones(window_length, dtype), requires_grad, device)
    values = symmetric(window_length + 1)[:-1] if periodic else symmetric(window_length)
    return _new(values.astype(dtype), requires_grad, device)


def hann_window(window_length: builtins.int, periodic: bool = True, *, dtype: DTypeLike = None,
                device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """The Hann window 0.5 - 0.5 cos(2 pi n / (M - 1)): `torch.hann_window`."""
    return _window("hann_window", window_length, periodic, np.hanning, dtype, device, requires_grad)


def hamming_window(window_length: builtins.int, periodic: bool = True, alpha: builtins.float = 0.54,
                   beta: builtins.float = 0.46, *, dtype: DTypeLike = None, device: DeviceLike = None,
                   requires_grad: bool = False) -> Tensor:
    """The Hamming window alpha - beta cos(2 pi n / (M - 1)): `torch.hamming_window`."""
    def symmetric(m):
        return alpha - beta * np.cos(2 * np.pi * np.arange(m) / (m - 1))
    return _window("hamming_window", window_length, periodic, symmetric, dtype, device, requires_grad)


def blackman_window(window_length: builtins.int, periodic: bool = True, *, dtype: DTypeLike = None,
                    device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """The Blackman window: `torch.blackman_window`."""
    return _window("blackman_window", window_length, periodic, np.blackman, dtype, device, requires_grad)


def bartlett_window(window_length: builtins.int, periodic: bool = True, *, dtype: DTypeLike = None,
                    device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """The Bartlett (triangular) window: `torch.bartlett_window`."""
    return _window("bartlett_window", window_length, periodic, np.bartlett, dtype, device, requires_grad)


def kaiser_window(window_length: builtins.int, periodic: bool = True, beta: builtins.float = 12.0, *,
                  dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window of shape parameter `beta`: `torch.kaiser_window`."""
    return _window("kaiser_window", window_length, periodic, lambda m: np.kaiser(m, beta), dtype, device,
                   requires_grad)


def logspace(start: builtins.float, end: builtins.float, steps: builtins.int, base: builtins.float = 10.0,
             dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent (of the default
    dtype): `torch.logspace`."""
    _shape((steps,), "logspace")
    return _new(np.logspace(start, end, steps, base=base).astype(resolve_dtype(dtype) or _default_float), requires_grad,
                device)


def tril_indices(row: builtins.int, col: builtins.int, offset: builtins.int = 0, *, dtype: DTypeLike = None,
                 device: DeviceLike = None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix, on and below diagonal
    `offset`, as a 2 x N int64 tensor in row-major order: `torch.tril_indices`."""
    _shape((row, col), "tril_indices")
    return _new(np.stack(np.tril_indices(row, offset, col)).astype(resolve_dtype(dtype) or int64), False, device)


def triu_indices(row: builtins.int, col: builtins.int, offset: builtins.int = 0, *, dtype: DTypeLike = None,
                 device: DeviceLike = None) -> Tensor:
    """The (row, column) indices of the upper triangle of a row x col matrix, on and above diagonal
    `offset`, as a 2 x N int64 tensor in row-major order: `torch.triu_indices`."""
    _shape((row, col), "triu_indices")
    return _new(np.stack(np.triu_indices(row, offset, col)).astype(resolve_dtype(dtype) or int64), False, device)


# -- random numbers ----------------------------------------------------------------------------

class Generator:
    """A seeded source of random numbers (`autograd.Generator().manual_seed(0)`): `torch.Generator`.

    Pass it as `generator=` to `randn`, `rand`, `randint`, `randperm`, `multinomial`, `Tensor.normal_`,
    ... to draw from it instead of the global generator. A new one starts from PyTorch's default seed
    (67280421310721), so it is reproducible. The first argument is the device, "cpu", as in PyTorch;
    ndgrad also takes a seed there (`Generator(7)` is `Generator().manual_seed(7)`). Wraps a
    `numpy.random.Generator` (`.rng`), so its numbers are not PyTorch's.
    """
    DEFAULT_SEED = 67280421310721   # PyTorch's

    def __init__(self, device: DeviceLike = "cpu"):
        seed = self.DEFAULT_SEED
        if isinstance(device, numbers.Integral) and not isinstance(device, bool):
            seed, device = device, "cpu"
        check_device(device)
        self.manual_seed(seed)

    @property
    def device(self) -> "Device":
        """The device the numbers are made on: always `device('cpu')`."""
        from .tensor import Device
        return Device()

    def manual_seed(self, seed: builtins.int) -> Generator:
        """Reseed this generator with an integer (a negative one wraps modulo 2**64, as in PyTorch); returns it."""
        if not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed expected an integer seed, but got {type(seed).__name__} ({seed!r})")
        self._initial_seed = builtins.int(seed) % 2 ** 64
        self.rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> builtins.int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = builtins.int(np.random.SeedSequence().entropy % 2 ** 64)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> builtins.int:
        """The seed this generator was last seeded with."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The generator's state, as a uint8 tensor that `set_state` takes back (NumPy's bit-generator
        state in JSON, not PyTorch's byte layout)."""
        state = json.dumps({"seed": self._initial_seed, "state": self.rng.bit_generator.state})
        return _new(np.frombuffer(state.encode(), np.uint8).copy(), False)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state that `get_state` returned; returns the generator."""
        array = getattr(new_state, "_data", new_state)
        if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != 1:
            raise TypeError("set_state: expects the uint8 tensor that get_state returned")
        try:
            state = json.loads(array.tobytes().decode())
            rng = np.random.default_rng()
            rng.bit_generator.state = state["state"]
        except (ValueError, KeyError, TypeError) as error:
            raise ArgumentError(f"set_state: not a state that get_state returned ({error})") from None
        self._initial_seed, self.rng = state["seed"], rng
        return self


_default_generator = Generator()


def manual_seed(seed: builtins.int) -> Generator:
    """Seed the global generator that randn, rand, randint, the initialisers and dropout draw from:
    `torch.manual_seed`. Returns it."""
    return _default_generator.manual_seed(seed)


def seed() -> builtins.int:
    """Seed the global generator from the operating system's entropy; returns the seed: `torch.seed`."""
    return _default_generator.seed()


def initial_seed() -> builtins.int:
    """The seed the global generator was last seeded with: `torch.initial_seed`."""
    return _default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state, a uint8 tensor: `torch.get_rng_state`."""
    return _default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator's state from `get_rng_state`: `torch.set_rng_state`."""
    _default_generator.set_state(new_state)


def default_generator() -> Generator:
    """The global generator that `randn`, `rand`, `randint`, the initialisers and dropout draw from."""
    return _default_generator


def _generator(generator):
    return (generator or _default_generator).rng


def randn(*shape: builtins.int, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
          generator: Generator | None = None) -> Tensor:
    """Samples from the standard normal distribution (of the default dtype): `torch.randn`.

    `generator` (an `autograd.Generator`) instead of the global one seeded by `manual_seed`.
    """
    dtype, drawn = _floating_dtype("randn", dtype)
    return _new(_generator(generator).standard_normal(_shape(shape, "randn"), dtype=drawn).astype(dtype, copy=False),
                requires_grad, device)


def rand(*shape: builtins.int, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
         generator: Generator | None = None) -> Tensor:
    """Samples from the uniform distribution on [0, 1) (of the default dtype): `torch.rand`."""
    dtype, drawn = _floating_dtype("rand", dtype)
    return _new(_generator(generator).random(_shape(shape, "rand"), dtype=drawn).astype(dtype, copy=False), requires_grad, device)


def _floating_dtype(op, dtype):
    """(the dtype asked for, the one NumPy draws in: float32 or float64; float16 is drawn as float32)."""
    dtype = resolve_dtype(dtype) or _default_float
    if dtype.kind != "f":
        raise DTypeError(f"{op}: draws floating point numbers; dtype {dtype} is not a floating point dtype")
    return dtype, (float64 if dtype == float64 else float32)


def randint(low: builtins.int | None = None, high: builtins.int | None = None,
            size: tuple[builtins.int, ...] | None = None, *, generator: Generator | None = None,
            dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high) (int64 unless `dtype`): `torch.randint`, called as
    `randint(high, size)` or `randint(low, high, size)` (or with keywords; `size` is required)."""
    low, high = _scalar(low), _scalar(high)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), as PyTorch
        low, high, size = 0, low, high
    low = 0 if low is None else low
    if high is None or size is None:
        raise TypeError("randint: needs high and size, as randint(high, size) or randint(low, high, size), got "
                        f"low={low!r}, high={high!r}, size={size!r}")
    if not all(isinstance(v, numbers.Integral) for v in (low, high)):
        raise TypeError(f"randint: low and high must be integers, got low={low!r}, high={high!r}")
    if not low < high:
        raise ArgumentError(f"randint: low must be less than high, got low={low}, high={high}")
    size = _shape((size,) if isinstance(size, numbers.Integral) else tuple(size), "randint")
    dtype = resolve_dtype(dtype) or int64
    if dtype.kind in "iu" and (low < np.iinfo(dtype).min or high - 1 > np.iinfo(dtype).max):
        raise ArgumentError(f"randint: the range [{low}, {high}) does not fit in {dtype}")
    return _new(_generator(generator).integers(low, high, size=size).astype(dtype), requires_grad, device)


def randint_like(t: Tensor, low: builtins.int = 0, high: builtins.int | None = None, *, dtype: DTypeLike = None,
                 device: DeviceLike = None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    """Random integers in [low, high) in `t`'s shape and dtype, as `randint_like(t, high)` or
    `randint_like(t, low, high)`: `torch.randint_like`."""
    _check_like("randint_like", t)
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, generator=generator, dtype=resolve_dtype(dtype) or t.dtype, device=device,
                   requires_grad=requires_grad)


def normal(mean, std=1.0, size: tuple[builtins.int, ...] | None = None, *, generator: Generator | None = None,
           dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Samples from normal distributions of `mean` and `std` (tensors or numbers, broadcast together; with two
    numbers, `size` gives the shape), the default dtype unless a tensor says otherwise: `torch.normal`. Outside the
    graph (PyTorch gives mean and std zero gradients: reparameterise as mean + std * randn_like(mean) for
    useful ones)."""
    from .tensor import Tensor
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal: with a number for both mean and std, give the size")
    if tensors and size is not None:
        raise TypeError("normal: size goes with a number for both mean and std, not with tensors")
    mean_data, std_data = (getattr(v, "_data", v) for v in (mean, std))
    if np.any(np.asarray(std_data) < 0):
        raise ArgumentError("normal: std must be >= 0")
    try:
        shape = np.broadcast_shapes(np.shape(mean_data), np.shape(std_data)) if tensors else \
            _shape((size,) if isinstance(size, numbers.Integral) else tuple(size), "normal")
    except ValueError:
        raise ShapeError(f"normal: mean of shape {np.shape(mean_data)} and std of shape {np.shape(std_data)} "
                         "cannot be broadcast together") from None
    dtype = resolve_dtype(dtype) or (tensors[0].dtype if tensors else _default_float)
    sample = _generator(generator).normal(mean_data, std_data, shape)
    return _new(np.asarray(sample, dtype), requires_grad, device)


def bernoulli(input: Tensor, p: builtins.float | None = None, *, generator: Generator | None = None) -> Tensor:
    """1 with probability `input` (or with the one probability `p`), else 0, elementwise, in input's dtype:
    `torch.bernoulli`. Outside the graph."""
    probabilities = input._data if p is None else np.full(input.shape, p)
    if np.any(~((probabilities >= 0) & (probabilities <= 1))):
        raise ArgumentError("bernoulli: probabilities must be in [0, 1]")
    draws = _generator(generator).random(input.shape) < probabilities
    return _new(draws.astype(input.dtype), False)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Samples from Poisson distributions of the rates in `input`, in its dtype: `torch.poisson`. Outside
    the graph."""
    if input.dtype.kind != "f":
        raise DTypeError(f"poisson: needs a floating point tensor of rates, got {input.dtype}")
    if np.any(~(input._data >= 0)):
        raise ArgumentError("poisson: rates must be non-negative")
    return _new(_generator(generator).poisson(input._data).astype(input.dtype), False)


def multinomial(input: Tensor, num_samples: builtins.int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Indices drawn from the categories of each row of `input`, whose non-negative weights need not sum to
    1 (a 1-D input is one row): int64, of shape (num_samples,) or (rows, num_samples). Without
    `replacement` the indices of a row are distinct, each draw made among the categories not yet drawn
    (categories of weight 0 come last, once the others are drawn). `torch.multinomial`; outside the graph."""
    weights = getattr(input, "_data", None)
    if weights is None:
        raise TypeError(f"multinomial: expects a Tensor of weights, got {type(input).__name__}")
    if weights.dtype.kind != "f":
        raise DTypeError(f"multinomial only supports floating-point dtypes for input, got {weights.dtype}")
    if weights.ndim not in (1, 2):
        raise ArgumentError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {weights.shape}")
    num_samples = _scalar(num_samples)
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial: num_samples must be an int, got {type(num_samples).__name__}")
    categories = weights.shape[-1]
    if num_samples <= 0:
        raise ArgumentError(f"multinomial: cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    if not replacement and num_samples > categories:
        raise ArgumentError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                            f"({num_samples} > {categories})")
    rows = weights.reshape(-1, categories).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ArgumentError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ArgumentError(f"multinomial: invalid multinomial distribution (sum of probabilities <= 0) in row "
                            f"{builtins.int(np.argmax(totals <= 0))}")
    rng = _generator(generator)
    if replacement:
        # Inverse CDF: dividing by the cumulative sum's own last entry makes it exactly 1 from the last
        # category of nonzero weight on, so no draw can land on a category of weight 0.
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        draws = rng.random((rows.shape[0], num_samples))
        samples = np.stack([np.searchsorted(c, u, side="right") for c, u in zip(cdf, draws)]) if rows.size \
            else np.zeros((rows.shape[0], num_samples), np.int64)
    else:
        # PyTorch's method: the largest weight / Exp(1) keys are a draw without replacement.
        keys = rows / rng.exponential(size=rows.shape)
        samples = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return _new(samples.astype(int64).reshape(weights.shape[:-1] + (num_samples,)), False)


def randperm(n: builtins.int, generator: Generator | None = None, dtype: DTypeLike = None,
             device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64): `torch.randperm`."""
    _shape((n,), "randperm")
    return _new(_generator(generator).permutation(n).astype(resolve_dtype(dtype) or int64), requires_grad, device)
