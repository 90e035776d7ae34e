"""Tensor: a NumPy array, whether it requires grad, its gradient, and the node that made it.

Every method is a one-line call into `ops/`, where each op's forward and backward live together.
Each method's docstring names its PyTorch equivalent (`torch.Tensor.<name>` unless it says
otherwise) and only what differs from it.
"""
from __future__ import annotations

import builtins
import numbers
import warnings
import weakref
from collections import namedtuple
from typing import Tuple, Union

import numpy as np

from . import grad_mode
from .errors import DTypeError, IndexRangeError, ShapeError

# Type-hint vocabulary of the public API. Tensor has methods named int, float and bool (as
# torch.Tensor does), which shadow the builtins inside its body, so its annotations say Int, Float
# and Bool; the aliases are made here, where the names are still the builtins.
Int, Float, Bool = int, float, bool
Number = Union[int, float, bool]
Dim = Union[int, Tuple[int, ...], None]
TensorLike = Union["Tensor", int, float, bool, np.ndarray]


class _Size(int):
    """`t.size` is the element count as in NumPy (`t.size == 12`); `t.size()` / `t.size(0)` give the
    shape / one dimension as in PyTorch, so client code of either habit runs."""
    def __new__(cls, shape):
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self._shape = shape
        return self

    def __call__(self, dim=None):
        return self._shape if dim is None else self._shape[dim]


class Tensor:
    """A NumPy array that autograd can differentiate through: `torch.Tensor`.

    Make one with `autograd.tensor(data, requires_grad=False, dtype=None)` (Python floats become
    float32, NumPy arrays keep their dtype) or `Tensor(data, *, requires_grad=False, dtype=None)`;
    as torch's, `Tensor(*sizes)` (ints or a Size) is a tensor of that shape (of zeros here) and
    `Tensor()` an empty one, so `nn.Parameter(torch.Tensor(out_features, in_features))` runs.
    Ops on tensors that require grad record a graph (`grad_fn`); `backward()` fills the `.grad`
    of its leaves. `.data` is a Tensor sharing this one's memory, outside the graph; `.numpy()` is the
    `numpy.ndarray` itself (both shared, not copied).
    """
    # Every op makes a Tensor, so the four attributes each one sets are slots; the rarely set ones
    # (hooks, a display name, anything a user attaches) live in the instance dict, made on demand.
    # `_grad` is the slot behind the `grad` property, which warns when a non-leaf's is read.
    # `_version_counter` is a slot (None until the tensor is first viewed or changed in place) because
    # backward reads it for every saved tensor.
    __slots__ = ("_data", "_grad", "requires_grad", "grad_fn", "_version_counter", "__dict__", "__weakref__")
    _hooks = None
    _post_accumulate_grad_hooks = None
    # Set only on views (autograd/inplace.py).
    _base = None           # the tensor whose memory this view shares (as PyTorch's `_base`)
    _view_steps = ()       # the view ops that made this view from `_base`
    name = None
    output_nr = 0   # which output of grad_fn this tensor is (set only for ops with several outputs)
    # Make NumPy defer to Tensor's reflected operators (array * tensor -> Tensor).
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, *data_or_sizes, requires_grad=False, dtype=None):
        from .creation import constructor_array
        self._data = constructor_array(data_or_sizes, dtype)
        self._grad = None
        self.grad_fn = None
        self._version_counter = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, requires_grad, grad_fn):
        """The fast constructor used by ops: `data` is already an ndarray of the right dtype."""
        t = object.__new__(Tensor)
        t._data = data
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._grad = None
        t._version_counter = None
        return t

    # -- attributes ----------------------------------------------------------------------------
    @property
    def grad(self):
        """The gradient accumulated by `backward()`: a Tensor of this tensor's shape, or None.

        Only leaves that require grad (and tensors that called `retain_grad()`) get one; reading
        it on any other non-leaf warns, as PyTorch does, since it is always None there.
        """
        grad = self._grad
        if grad is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf is being read: it is None, since backward() "
                "fills .grad only for leaves. Call .retain_grad() on it before backward() to keep its gradient, "
                "or read the .grad of the leaf (e.g. a parameter) instead.", UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value):
        if value is not None:   # as PyTorch: a gradient that cannot be this tensor's is refused here, not at step()
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise ShapeError(f"assigned grad has shape {value.shape}, but the tensor has shape {self.shape}")
        self._grad = value

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's memory but not its graph, as PyTorch's: changes made through it
        (`p.data.add_(...)`, `p.data += ...`) change this tensor's values without being recorded or
        counted as in-place changes. Assigning `t.data = other` (a Tensor or an array) replaces this
        tensor's values, shape and dtype included."""
        return Tensor._make(self._data, False, None)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple[Int, ...]:
        """The shape, a tuple of ints (PyTorch gives a `torch.Size`, a tuple too)."""
        return self._data.shape

    @property
    def ndim(self) -> Int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element type, a `numpy.dtype` (`autograd.float32` is `numpy.float32`)."""
        return self._data.dtype

    @property
    def size(self) -> _Size:
        """The element count as in NumPy (`t.size == 12`), also callable as PyTorch's `t.size()`
        (the shape) and `t.size(dim)` (one dimension)."""
        return _Size(self._data.shape)

    def numel(self) -> Int:
        """The number of elements."""
        return self._data.size

    def dim(self) -> Int:
        """The number of dimensions (as `ndim`)."""
        return self._data.ndim

    @property
    def is_leaf(self) -> Bool:
        """True if no recorded op made this tensor (`grad_fn is None`): user-made tensors and
        parameters. Only leaves that require grad get a `.grad` from `backward()`."""
        return self.grad_fn is None

    @property
    def device(self) -> Device:
        """Always `device('cpu')` (equal to "cpu"): ndgrad runs on NumPy."""
        return _CPU

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose of a matrix)."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of matrices transposed)."""
        return ops.transpose(self, -2, -1)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of a batch of matrices: `mT`, tensors here being real."""
        return self.mT

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (or a vector itself), as torch's: `T`, tensors here being real."""
        if self.ndim > 2:
            raise ShapeError(f"H: expected a tensor of at most 2 dims (use mH for batches), got shape {self.shape}")
        return self.T

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(", **_print_options)
        extras = []
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec):
        """As PyTorch: a 0-d tensor formats as its number (f"{loss:.4f}"); others only without a spec."""
        return format(self.item(), spec) if self._data.ndim == 0 else object.__format__(self, spec)

    # -- conversion ----------------------------------------------------------------------------
    def item(self) -> Number:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item(): only a one-element tensor can be converted to a Python scalar, "
                             f"got shape {self.shape}")
        return self._data.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The `numpy.ndarray` itself, sharing memory (PyTorch refuses when grad is required, unless
        `force=True`; here it is always allowed, since the array is never recorded)."""
        return self._data

    def tolist(self) -> "list | Number":
        """The values as (nested) Python lists of numbers."""
        return self._data.tolist()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on tensors (`np.exp(t)`, `array * t`) run the autograd op, so gradients flow
        (autograd/numpy_protocol.py)."""
        return numpy_protocol.array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy functions on tensors (`np.sum(t, axis=0)`, `np.concatenate`) run the autograd op;
        one with no such op raises TypeError when an argument requires grad."""
        return numpy_protocol.array_function(self, func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements is ambiguous "
                               f"(shape {self.shape}); use .any() or .all()")
        return bool(self._data)

    def astype(self, dtype: "np.dtype | builtins.type | str") -> Tensor:
        """A copy converted to `dtype` (differentiable between floating dtypes). NumPy's name;
        PyTorch spells it `.to(dtype)`."""
        return ops.cast(self, dtype)

    def float(self) -> Tensor:
        """Converted to float32."""
        return ops.cast(self, np.float32)

    def double(self) -> Tensor:
        """Converted to float64."""
        return ops.cast(self, np.float64)

    def long(self) -> Tensor:
        """Converted to int64."""
        return ops.cast(self, np.int64)

    def int(self) -> Tensor:
        """Converted to int32."""
        return ops.cast(self, np.int32)

    def bool(self) -> Tensor:
        """Converted to bool."""
        return ops.cast(self, np.bool_)

    def byte(self) -> Tensor:
        """Converted to uint8 (older code's masks): `torch.Tensor.byte`."""
        return ops.cast(self, np.uint8)

    def short(self) -> Tensor:
        """Converted to int16: `torch.Tensor.short`."""
        return ops.cast(self, np.int16)

    def char(self) -> Tensor:
        """Converted to int8: `torch.Tensor.char`."""
        return ops.cast(self, np.int8)

    def half(self) -> Tensor:
        """Converted to float16."""
        return ops.cast(self, np.float16)

    def new_zeros(self, *size: Int, dtype=None, device=None, requires_grad: Bool = False) -> Tensor:
        """Zeros of `size` (ints or one tuple), of this tensor's dtype unless `dtype` says otherwise."""
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Int, dtype=None, device=None, requires_grad: Bool = False) -> Tensor:
        """Ones of `size`, of this tensor's dtype unless `dtype` says otherwise."""
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Int, dtype=None, device=None, requires_grad: Bool = False) -> Tensor:
        """An uninitialised tensor of `size`, of this tensor's dtype unless `dtype` says otherwise."""
        from .creation import empty
        return empty(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: tuple[Int, ...], fill_value: Number, dtype=None, device=None,
                 requires_grad: Bool = False) -> Tensor:
        """`fill_value` everywhere in `size`, of this tensor's dtype unless `dtype` says otherwise."""
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new(self, *data_or_sizes) -> Tensor:
        """PyTorch's legacy `Tensor.new`: `Tensor(*data_or_sizes)` of this tensor's dtype (sizes give
        a tensor of that shape, zeros here; data is converted), as older code writes `w.new(n).zero_()`."""
        return Tensor(*data_or_sizes, dtype=self.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: Bool = False) -> Tensor:
        """A copy of `data`, of this tensor's dtype unless `dtype` says otherwise."""
        from .creation import tensor
        if isinstance(data, Tensor):
            warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() "
                          "or sourceTensor.clone().detach().requires_grad_(True), rather than "
                          "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
            data = data.numpy().copy()
        return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def type(self, dtype=None) -> "str | Tensor":
        """Without an argument, the tensor-type name of the dtype: 'autograd.FloatTensor' for float32
        (torch says 'torch.FloatTensor'; this package's name stands in for torch's), 'autograd.LongTensor',
        ... With a dtype or a type name ('autograd.DoubleTensor', or torch's 'torch.DoubleTensor'), the
        tensor converted to it (itself if it already has it), as `torch.Tensor.type`."""
        from .creation import dtype_of_tensor_type, resolve_dtype, tensor_type_name
        if dtype is None:
            return tensor_type_name(self.dtype)
        dtype = dtype_of_tensor_type(dtype) if isinstance(dtype, str) and "." in dtype else resolve_dtype(dtype)
        return self if dtype == self.dtype else ops.cast(self, dtype)

    def stride(self, dim: Int | None = None) -> "tuple[Int, ...] | Int":
        """The step in elements between neighbours along each dim (or along `dim`), from the array's
        layout: as `torch.Tensor.stride`, except that NumPy views may have negative strides (a flip)
        where torch would have copied."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        if not -self.ndim <= dim < self.ndim:
            raise IndexRangeError(f"stride: dim {dim} is out of range for a tensor of shape {self.shape}")
        return strides[dim]

    def is_contiguous(self) -> Bool:
        """Whether the elements lie in memory in row-major order without gaps: `torch.Tensor.is_contiguous`."""
        return self._data.flags.c_contiguous

    def element_size(self) -> Int:
        """The size of one element in bytes: `torch.Tensor.element_size`."""
        return self._data.itemsize

    @property
    def itemsize(self) -> Int:
        """The size of one element in bytes (as `element_size()`): `torch.Tensor.itemsize`."""
        return self._data.itemsize

    @property
    def nbytes(self) -> Int:
        """The bytes the elements take, numel * element_size (a broadcast view counts every element, as
        torch's): `torch.Tensor.nbytes`."""
        return self._data.size * self._data.itemsize

    def sum_to_size(self, *size: Int) -> Tensor:
        """Summed down to `size`, which must expand to this shape: `torch.Tensor.sum_to_size`."""
        return ops.sum_to_size(self, *size)

    def type_as(self, other: Tensor) -> Tensor:
        """Converted to the dtype of `other`."""
        return ops.cast(self, other.dtype)

    def to(self, *args, **kwargs) -> Tensor:
        """`.to(dtype)`, `.to(other_tensor)` (its dtype), or `.to("cpu")` (the only device, so a
        no-op); any other device raises. Returns `self` when nothing changes, as PyTorch does."""
        from .creation import parse_to
        _, dtype = parse_to(*args, **kwargs)
        return self if dtype is None else ops.cast(self, dtype)

    def cpu(self) -> Tensor:
        """`self`: there is no other device."""
        return self

    def contiguous(self, memory_format=None) -> Tensor:
        """`self` if its memory is C-contiguous, else a contiguous copy (in the graph), as PyTorch
        (`memory_format` is accepted: there is one layout here)."""
        return self if self._data.flags.c_contiguous else ops.clone(self)

    def clone(self, *, memory_format=None) -> Tensor:
        """A copy with its own memory, differentiable (the gradient flows back to `self`)."""
        return ops.clone(self)

    # -- autograd ------------------------------------------------------------------------------
    def backward(self, gradient: TensorLike | None = None, retain_graph: Bool | None = None,
                 create_graph: Bool = False, inputs: "Tensor | list[Tensor] | None" = None) -> None:
        """Compute the gradient of this tensor with respect to the graph's leaves and add it into
        their `.grad` (it accumulates: zero it between steps).

        Arguments:
            gradient: d(something)/d(self), of this tensor's shape; may be omitted for a
                one-element tensor (it is then 1).
            retain_graph: keep the values saved for backward, so the graph can be walked again;
                defaults to `create_graph`.
            create_graph: record the backward pass itself, for higher-order gradients.
            inputs: accumulate only into these leaves' `.grad`.
        """
        root_grad = engine.root_grad(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        engine.backward([self], [root_grad], retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data (and its version counter), outside any graph."""
        detached = Tensor._make(self._data, False, None)
        detached._version_counter = inplace.counter_of(self)
        return detached

    def detach_(self) -> Tensor:
        """Detach this tensor itself from its graph, in place; returns it."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: Bool = True) -> Tensor:
        """Set whether ops on this (leaf, floating) tensor are recorded, in place; returns it."""
        if requires_grad and self._data.dtype.kind not in "fc":
            raise DTypeError(f"only floating point tensors can require gradients; this tensor is "
                            f"{self.dtype} (convert it with .float() or .double())")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` during the next backward passes (a no-op
        on a leaf, which keeps it anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        node = self.grad_fn
        if node is not None:
            node.retained = {**(node.retained or {}), self.output_nr: weakref.ref(self)}

    @property
    def retains_grad(self) -> Bool:
        """True if `retain_grad()` was called on this non-leaf tensor."""
        node = self.grad_fn
        ref = node is not None and node.retained and node.retained.get(self.output_nr)
        return bool(ref) and ref() is self

    def register_hook(self, hook):
        """Call `hook(grad)` each time this tensor's gradient is computed; a non-None result replaces
        the gradient. Returns a handle whose `.remove()` unregisters the hook."""
        from .function import RemovableHandle
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook, self.output_nr)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(self) right after backward has accumulated into this leaf's .grad."""
        from .post_accumulate_grad_hooks import register_post_accumulate_grad_hook
        return register_post_accumulate_grad_hook(self, hook)

    # -- in place (autograd/inplace.py: version counters, views, and the history they rewrite) ----
    @property
    def _version(self) -> Int:
        """How many in-place writes this tensor's memory (shared with its views) has seen."""
        counter = self._version_counter
        return 0 if counter is None else counter.value

    def zero_(self) -> Tensor:
        """Fill with zeros, in place; returns it."""
        return inplace.apply_inplace(self, "zero_", _filled, 0)

    def fill_(self, value: TensorLike) -> Tensor:
        """Fill with `value` (a number or a 0-d tensor), in place; returns it."""
        return inplace.apply_inplace(self, "fill_", _filled, _cast_to(self, value))

    def copy_(self, src: TensorLike) -> Tensor:
        """Copy `src` (broadcast to this shape, cast to this dtype) into this tensor; returns it. The
        gradient flows to `src`."""
        if not isinstance(src, Tensor):
            src = np.asarray(src)
        try:
            fits = np.broadcast_shapes(src.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"copy_: source of shape {src.shape} cannot be copied into shape {self.shape}")
        return inplace.apply_inplace(self, "copy_", _filled, _cast_to(self, src))

    def add_(self, other: TensorLike, alpha: Number = 1) -> Tensor:
        """`self += alpha * other`, in place; returns it."""
        return inplace.apply_inplace(self, "add_", Tensor.add, other, alpha)

    def sub_(self, other: TensorLike, alpha: Number = 1) -> Tensor:
        """`self -= alpha * other`, in place; returns it."""
        return inplace.apply_inplace(self, "sub_", Tensor.sub, other, alpha)

    def mul_(self, other: TensorLike) -> Tensor:
        """`self *= other`, in place; returns it."""
        return inplace.apply_inplace(self, "mul_", ops.mul, other)

    def div_(self, other: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
        """`self /= other` (rounded as `div`'s `rounding_mode`), in place; returns it."""
        return inplace.apply_inplace(self, "div_", ops.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent: TensorLike) -> Tensor:
        """`self **= exponent`, in place; returns it."""
        return inplace.apply_inplace(self, "pow_", ops.pow, exponent)

    def clamp_(self, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
        """Clamp into [min, max], in place; returns it (`clip_` is the same)."""
        return inplace.apply_inplace(self, "clamp_", ops.clamp, min, max)
    clip_ = clamp_

    def clamp_min_(self, min: TensorLike) -> Tensor:
        """max(self, min), in place; returns it."""
        return inplace.apply_inplace(self, "clamp_min_", ops.clamp, min, None)

    def clamp_max_(self, max: TensorLike) -> Tensor:
        """min(self, max), in place; returns it."""
        return inplace.apply_inplace(self, "clamp_max_", ops.clamp, None, max)

    def masked_fill_(self, mask: TensorLike, value: TensorLike) -> Tensor:
        """`value` where the bool `mask` (broadcast) is True, in place; returns it."""
        return inplace.apply_inplace(self, "masked_fill_", ops.masked_fill, mask, _cast_to(self, value))

    def addcmul_(self, tensor1: TensorLike, tensor2: TensorLike, value: Number = 1) -> Tensor:
        """`self += value * tensor1 * tensor2`, in place; returns it."""
        return inplace.apply_inplace(self, "addcmul_", Tensor.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: TensorLike, tensor2: TensorLike, value: Number = 1) -> Tensor:
        """`self += value * tensor1 / tensor2`, in place; returns it."""
        return inplace.apply_inplace(self, "addcdiv_", Tensor.addcdiv, tensor1, tensor2, value=value)

    def lerp_(self, end: TensorLike, weight: TensorLike) -> Tensor:
        """`self += weight * (end - self)`, in place; returns it."""
        return inplace.apply_inplace(self, "lerp_", Tensor.lerp, end, weight)

    def uniform_(self, a: Float = 0.0, b: Float = 1.0, generator=None) -> Tensor:
        """Fill with samples from U(a, b), in place (from `generator`, default the global one)."""
        from .creation import _generator
        return self.copy_(_generator(generator).uniform(a, b, self.shape))

    def normal_(self, mean: Float = 0.0, std: Float = 1.0, generator=None) -> Tensor:
        """Fill with samples from N(mean, std**2), in place (from `generator`, default the global one)."""
        from .creation import _generator
        return self.copy_(_generator(generator).normal(mean, std, self.shape))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __setitem__(self, index, value):
        inplace.setitem(self, index, value)

    def scatter(self, dim: Int, index: Tensor, src: TensorLike | None = None, value: Number | None = None,
                reduce=None) -> Tensor:
        """A copy with `src` (or the number `value`) written at `index` along `dim` (`torch.scatter`;
        `src` may be passed as a number too, as PyTorch allows)."""
        if src is not None and not isinstance(src, Tensor):
            src, value = None, src
        return ops.scatter(self, dim, index, src, value, reduce)

    def scatter_(self, dim: Int, index: Tensor, src: TensorLike | None = None, value: Number | None = None,
                 reduce=None) -> Tensor:
        """`scatter`, in place (`x.scatter_(1, labels[:, None], 1.0)` makes one-hot rows); returns it."""
        return inplace.apply_inplace(self, "scatter_", Tensor.scatter, dim, index, src, value, reduce)

    def scatter_add(self, dim: Int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with `src` added at `index` along `dim`, repeated positions accumulating."""
        return ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: Int, index: Tensor, src: Tensor) -> Tensor:
        """`scatter_add`, in place; returns it."""
        return inplace.apply_inplace(self, "scatter_add_", ops.scatter_add, dim, index, src)

    def scatter_reduce(self, dim: Int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
        """A copy with `src` reduced ('sum', 'mean', 'amax', 'amin') into the positions at `index` along
        `dim`: `torch.Tensor.scatter_reduce`."""
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self)

    def scatter_reduce_(self, dim: Int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
        """`scatter_reduce`, in place; returns it."""
        return inplace.apply_inplace(self, "scatter_reduce_", ops.scatter_reduce, dim, index, src, reduce, include_self)

    def index_add(self, dim: Int, index: Tensor, source: TensorLike, alpha: Number = 1) -> Tensor:
        """A copy with `alpha * source` added to the slices at `index` along `dim`."""
        return ops.index_add(self, dim, index, source, alpha)

    def index_add_(self, dim: Int, index: Tensor, source: TensorLike, alpha: Number = 1) -> Tensor:
        """`index_add`, in place; returns it."""
        return inplace.apply_inplace(self, "index_add_", ops.index_add, dim, index, source, alpha)

    def index_fill(self, dim: Int, index: Tensor, value: TensorLike) -> Tensor:
        """A copy with the slices at `index` along `dim` set to `value`."""
        return ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim: Int, index: Tensor, value: TensorLike) -> Tensor:
        """`index_fill`, in place; returns it."""
        return inplace.apply_inplace(self, "index_fill_", ops.index_fill, dim, index, value)

    def index_copy(self, dim: Int, index: Tensor, source: TensorLike) -> Tensor:
        """A copy with the slices at `index` along `dim` replaced by `source`'s."""
        return ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim: Int, index: Tensor, source: TensorLike) -> Tensor:
        """`index_copy`, in place; returns it."""
        return inplace.apply_inplace(self, "index_copy_", ops.index_copy, dim, index, source)

    def index_put(self, indices: tuple, values: TensorLike, accumulate: Bool = False) -> Tensor:
        """A copy with `values` written (added, with `accumulate`) at the positions `indices` (a tuple
        of index tensors) picks."""
        return ops.index_put(self, indices, values, accumulate)

    def put(self, index: Tensor, source: TensorLike, accumulate: Bool = False) -> Tensor:
        """A copy with `source` written (added, with `accumulate`) at `index` of the flattened tensor."""
        return ops.put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: TensorLike, accumulate: Bool = False) -> Tensor:
        """`put`, in place; returns it."""
        return inplace.apply_inplace(self, "put_", ops.put, index, source, accumulate)

    def masked_scatter(self, mask: TensorLike, source: Tensor) -> Tensor:
        """A copy with source's first elements written, in order, where the bool `mask` (broadcast) holds."""
        return ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: TensorLike, source: Tensor) -> Tensor:
        """`masked_scatter`, in place; returns it."""
        return inplace.apply_inplace(self, "masked_scatter_", ops.masked_scatter, mask, source)

    def index_put_(self, indices: tuple, values: TensorLike, accumulate: Bool = False) -> Tensor:
        """`index_put`, in place; returns it."""
        return inplace.apply_inplace(self, "index_put_", ops.index_put, indices, values, accumulate)

    def addcmul(self, tensor1: TensorLike, tensor2: TensorLike, value: Number = 1) -> Tensor:
        """`self + value * tensor1 * tensor2`."""
        return ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: TensorLike, tensor2: TensorLike, value: Number = 1) -> Tensor:
        """`self + value * tensor1 / tensor2`."""
        return ops.addcdiv(self, tensor1, tensor2, value=value)

    def lerp(self, end: TensorLike, weight: TensorLike) -> Tensor:
        """`self + weight * (end - self)`: linear interpolation towards `end`."""
        return ops.lerp(self, end, weight)

    # The in-place forms of unary ops, each `x.op_()` as `x.op()` written back into x.
    def neg_(self) -> Tensor:
        """`neg`, in place; returns it."""
        return inplace.apply_inplace(self, "neg_", ops.neg)

    def abs_(self) -> Tensor:
        """`abs`, in place; returns it."""
        return inplace.apply_inplace(self, "abs_", ops.abs)

    def exp_(self) -> Tensor:
        """`exp`, in place; returns it."""
        return inplace.apply_inplace(self, "exp_", ops.exp)

    def log_(self) -> Tensor:
        """`log`, in place; returns it."""
        return inplace.apply_inplace(self, "log_", ops.log)

    def sqrt_(self) -> Tensor:
        """`sqrt`, in place; returns it."""
        return inplace.apply_inplace(self, "sqrt_", ops.sqrt)

    def rsqrt_(self) -> Tensor:
        """`rsqrt`, in place; returns it."""
        return inplace.apply_inplace(self, "rsqrt_", ops.rsqrt)

    def sin_(self) -> Tensor:
        """`sin`, in place; returns it."""
        return inplace.apply_inplace(self, "sin_", ops.sin)

    def cos_(self) -> Tensor:
        """`cos`, in place; returns it."""
        return inplace.apply_inplace(self, "cos_", ops.cos)

    def tan_(self) -> Tensor:
        """`tan`, in place; returns it."""
        return inplace.apply_inplace(self, "tan_", ops.tan)

    def tanh_(self) -> Tensor:
        """`tanh`, in place; returns it."""
        return inplace.apply_inplace(self, "tanh_", ops.tanh)

    def sigmoid_(self) -> Tensor:
        """`sigmoid`, in place; returns it."""
        return inplace.apply_inplace(self, "sigmoid_", ops.sigmoid)

    def unsqueeze_(self, dim: Int) -> Tensor:
        """`unsqueeze`, in place (the same memory, a new shape); returns it."""
        return inplace.view_inplace(self, "unsqueeze_", ops.unsqueeze, dim, undo=ops.reshape)

    def squeeze_(self, dim: Dim = None) -> Tensor:
        """`squeeze`, in place; returns it."""
        return inplace.view_inplace(self, "squeeze_", ops.squeeze, dim, undo=ops.reshape)

    def t_(self) -> Tensor:
        """`t`, in place; returns it."""
        return inplace.view_inplace(self, "t_", ops.t, undo=lambda t, _: ops.t(t))

    def transpose_(self, dim0: Int, dim1: Int) -> Tensor:
        """`transpose`, in place; returns it."""
        return inplace.view_inplace(self, "transpose_", ops.transpose, dim0, dim1,
                                    undo=lambda t, _: ops.transpose(t, dim0, dim1))

    def relu_(self) -> Tensor:
        """`relu`, in place; returns it."""
        return inplace.apply_inplace(self, "relu_", ops.relu)

    def floor_(self) -> Tensor:
        """`floor`, in place; returns it."""
        return inplace.apply_inplace(self, "floor_", ops.floor)

    def ceil_(self) -> Tensor:
        """`ceil`, in place; returns it."""
        return inplace.apply_inplace(self, "ceil_", ops.ceil)

    def round_(self) -> Tensor:
        """`round`, in place; returns it."""
        return inplace.apply_inplace(self, "round_", ops.round)

    def trunc_(self) -> Tensor:
        """`trunc`, in place; returns it."""
        return inplace.apply_inplace(self, "trunc_", ops.trunc)

    def reciprocal_(self) -> Tensor:
        """`reciprocal`, in place; returns it."""
        return inplace.apply_inplace(self, "reciprocal_", ops.reciprocal)

    def square_(self) -> Tensor:
        """`square`, in place; returns it."""
        return inplace.apply_inplace(self, "square_", ops.square)

    def log1p_(self) -> Tensor:
        """`log1p`, in place; returns it."""
        return inplace.apply_inplace(self, "log1p_", ops.log1p)

    def expm1_(self) -> Tensor:
        """`expm1`, in place; returns it."""
        return inplace.apply_inplace(self, "expm1_", ops.expm1)

    def sign_(self) -> Tensor:
        """`sign`, in place; returns it."""
        return inplace.apply_inplace(self, "sign_", ops.sign)

    def frac_(self) -> Tensor:
        """`frac`, in place; returns it."""
        return inplace.apply_inplace(self, "frac_", ops.frac)

    def asin_(self) -> Tensor:
        """`asin`, in place; returns it."""
        return inplace.apply_inplace(self, "asin_", ops.asin)

    def acos_(self) -> Tensor:
        """`acos`, in place; returns it."""
        return inplace.apply_inplace(self, "acos_", ops.acos)

    def atan_(self) -> Tensor:
        """`atan`, in place; returns it."""
        return inplace.apply_inplace(self, "atan_", ops.atan)

    def sinh_(self) -> Tensor:
        """`sinh`, in place; returns it."""
        return inplace.apply_inplace(self, "sinh_", ops.sinh)

    def cosh_(self) -> Tensor:
        """`cosh`, in place; returns it."""
        return inplace.apply_inplace(self, "cosh_", ops.cosh)

    def asinh_(self) -> Tensor:
        """`asinh`, in place; returns it."""
        return inplace.apply_inplace(self, "asinh_", ops.asinh)

    def acosh_(self) -> Tensor:
        """`acosh`, in place; returns it."""
        return inplace.apply_inplace(self, "acosh_", ops.acosh)

    def atanh_(self) -> Tensor:
        """`atanh`, in place; returns it."""
        return inplace.apply_inplace(self, "atanh_", ops.atanh)

    def log2_(self) -> Tensor:
        """`log2`, in place; returns it."""
        return inplace.apply_inplace(self, "log2_", ops.log2)

    def log10_(self) -> Tensor:
        """`log10`, in place; returns it."""
        return inplace.apply_inplace(self, "log10_", ops.log10)

    def exp2_(self) -> Tensor:
        """`exp2`, in place; returns it."""
        return inplace.apply_inplace(self, "exp2_", ops.exp2)

    def erf_(self) -> Tensor:
        """`erf`, in place; returns it."""
        return inplace.apply_inplace(self, "erf_", ops.erf)

    def deg2rad_(self) -> Tensor:
        """`deg2rad`, in place; returns it."""
        return inplace.apply_inplace(self, "deg2rad_", ops.deg2rad)

    def rad2deg_(self) -> Tensor:
        """`rad2deg`, in place; returns it."""
        return inplace.apply_inplace(self, "rad2deg_", ops.rad2deg)

    def sinc_(self) -> Tensor:
        """`sinc`, in place; returns it."""
        return inplace.apply_inplace(self, "sinc_", ops.sinc)

    def fmod_(self, other: TensorLike) -> Tensor:
        """`fmod`, in place; returns it."""
        return inplace.apply_inplace(self, "fmod_", ops.fmod, other)

    def remainder_(self, other: TensorLike) -> Tensor:
        """`remainder`, in place; returns it."""
        return inplace.apply_inplace(self, "remainder_", ops.remainder, other)

    def floor_divide_(self, other: TensorLike) -> Tensor:
        """`floor_divide`, in place; returns it."""
        return inplace.apply_inplace(self, "floor_divide_", ops.floor_divide, other)

    def hypot_(self, other: TensorLike) -> Tensor:
        """`hypot`, in place; returns it."""
        return inplace.apply_inplace(self, "hypot_", ops.hypot, other)

    def atan2_(self, other: TensorLike) -> Tensor:
        """`atan2`, in place; returns it."""
        return inplace.apply_inplace(self, "atan2_", ops.atan2, other)

    def copysign_(self, other: TensorLike) -> Tensor:
        """`copysign`, in place; returns it."""
        return inplace.apply_inplace(self, "copysign_", ops.copysign, other)

    def float_power_(self, exponent: TensorLike) -> Tensor:
        """`float_power`, in place; returns it."""
        return inplace.apply_inplace(self, "float_power_", ops.float_power, exponent)

    def nan_to_num_(self, nan: Float = 0.0, posinf: Float | None = None, neginf: Float | None = None) -> Tensor:
        """`nan_to_num`, in place; returns it."""
        return inplace.apply_inplace(self, "nan_to_num_", ops.nan_to_num, nan, posinf, neginf)

    def random_(self, from_: Int = 0, to: Int | None = None, generator=None) -> Tensor:
        """Fill with integers drawn uniformly from [from_, to), in place; `random_(to)` draws from [0, to),
        and `random_()` from [0, 2**mantissa bits] for floats (the dtype's range for integers)."""
        from .creation import _generator
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            to = 2 ** (np.finfo(self.dtype).nmant + 1) + 1 if self.dtype.kind == "f" else np.iinfo(self.dtype).max
        return self.copy_(_generator(generator).integers(from_, to, self.shape))

    def fill_diagonal_(self, fill_value: Number, wrap: Bool = False) -> Tensor:
        """Set the main diagonal (of a 2-D tensor, or of one whose dims are all equal) to `fill_value`, in
        place; with `wrap`, a tall matrix's diagonal starts again after a gap of one row, as NumPy's and
        torch's do. Returns it."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ShapeError(f"fill_diagonal_: dimensions must be larger than 1 and all of equal length when "
                             f"there are more than 2, got shape {self.shape}")
        mask = np.zeros(self.shape, bool)
        np.fill_diagonal(mask, True, wrap=wrap)
        return self.masked_fill_(mask, fill_value)

    def xlogy(self, other: TensorLike) -> Tensor:
        """self * log(other), 0 where self is 0: `torch.xlogy`."""
        return ops.xlogy(self, other)

    def xlogy_(self, other: TensorLike) -> Tensor:
        """`xlogy`, in place; returns it."""
        return inplace.apply_inplace(self, "xlogy_", ops.xlogy, other)

    def get_device(self) -> Int:
        """-1: the tensor is on the CPU (a GPU's index otherwise, in PyTorch)."""
        return -1

    @property
    def is_cpu(self) -> Bool:
        """True: every tensor here is on the CPU."""
        return True

    def is_pinned(self) -> Bool:
        """False: there is no accelerator to pin memory for."""
        return False

    def data_ptr(self) -> Int:
        """The address of the first element: tensors sharing memory from the same element have the same
        one (the check code uses for tied weights, `a.data_ptr() == b.data_ptr()`): `Tensor.data_ptr`."""
        return self._data.__array_interface__["data"][0]

    def storage_offset(self) -> Int:
        """How many elements into the memory it views (that of the array owning it) this tensor starts:
        `Tensor.storage_offset`."""
        owner = self._data
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        return (self.data_ptr() - owner.__array_interface__["data"][0]) // self._data.itemsize

    def share_memory_(self) -> Tensor:
        """Self: one process, nothing to move to shared memory (`Tensor.share_memory_`)."""
        return self

    def bernoulli_(self, p: "Float | Tensor" = 0.5, generator=None) -> Tensor:
        """Fill with 1 (probability `p`, a number or a tensor of probabilities) or 0, in place."""
        from .creation import _generator
        probability = p._data if isinstance(p, Tensor) else p
        return self.copy_(_generator(generator).random(self.shape) < probability)

    def exponential_(self, lambd: Float = 1.0, generator=None) -> Tensor:
        """Fill with samples from the exponential distribution of rate `lambd`, in place."""
        from .creation import _generator
        return self.copy_(_generator(generator).exponential(1 / lambd, self.shape))

    # -- operators -----------------------------------------------------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    # As PyTorch, comparing with None or a string is plain Python (False), not elementwise (`if mask == None`).
    def __eq__(self, other): return False if other is None or isinstance(other, str) else ops.eq(self, other)
    def __ne__(self, other): return True if other is None or isinstance(other, str) else ops.ne(self, other)
    def __lt__(self, other): return ops.lt(self, other)
    def __le__(self, other): return ops.le(self, other)
    def __gt__(self, other): return ops.gt(self, other)
    def __ge__(self, other): return ops.ge(self, other)
    def __and__(self, other): return ops.bitwise_and(self, other)
    def __rand__(self, other): return ops.bitwise_and(other, self)
    def __or__(self, other): return ops.bitwise_or(self, other)
    def __ror__(self, other): return ops.bitwise_or(other, self)
    def __xor__(self, other): return ops.bitwise_xor(self, other)
    def __rxor__(self, other): return ops.bitwise_xor(other, self)
    def __invert__(self): return ops.bitwise_not(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # -- arithmetic and elementwise ------------------------------------------------------------
    def add(self, other: TensorLike, alpha: Number = 1) -> Tensor:
        """`self + alpha * other`, broadcasting."""
        return ops.add(self, other, alpha=alpha)
    def sub(self, other: TensorLike, alpha: Number = 1) -> Tensor:
        """`self - alpha * other`, broadcasting."""
        return ops.sub(self, other, alpha=alpha)
    def mul(self, other: TensorLike) -> Tensor:
        """`self * other`, broadcasting."""
        return ops.mul(self, other)
    def div(self, other: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
        """`self / other` (true division, or rounded: `rounding_mode` "floor" or "trunc"), broadcasting."""
        return ops.div(self, other, rounding_mode=rounding_mode)
    def pow(self, exponent: TensorLike) -> Tensor:
        """`self ** exponent`, broadcasting."""
        return ops.pow(self, exponent)
    def neg(self) -> Tensor:
        """`-self`."""
        return ops.neg(self)
    def exp(self) -> Tensor:
        """e ** x, elementwise."""
        return ops.exp(self)
    def log(self) -> Tensor:
        """The natural logarithm, elementwise."""
        return ops.log(self)
    def log1p(self) -> Tensor:
        """log(1 + x), accurate for small x."""
        return ops.log1p(self)
    def expm1(self) -> Tensor:
        """exp(x) - 1, accurate for small x."""
        return ops.expm1(self)
    def sqrt(self) -> Tensor:
        """The square root, elementwise."""
        return ops.sqrt(self)
    def rsqrt(self) -> Tensor:
        """1 / sqrt(x), elementwise."""
        return ops.rsqrt(self)
    def square(self) -> Tensor:
        """x ** 2, elementwise."""
        return ops.square(self)
    def abs(self) -> Tensor:
        """|x|, elementwise (gradient 0 at 0, as PyTorch)."""
        return ops.abs(self)
    def sign(self) -> Tensor:
        """-1, 0 or 1, elementwise (zero gradient)."""
        return ops.sign(self)
    sgn = sign  # torch.sgn: sign extended to complex numbers, which tensors here are not
    def sin(self) -> Tensor:
        """The sine, elementwise."""
        return ops.sin(self)
    def cos(self) -> Tensor:
        """The cosine, elementwise."""
        return ops.cos(self)
    def tanh(self) -> Tensor:
        """The hyperbolic tangent, elementwise."""
        return ops.tanh(self)
    def log2(self) -> Tensor:
        """The base-2 logarithm, elementwise."""
        return ops.log2(self)
    def log10(self) -> Tensor:
        """The base-10 logarithm, elementwise."""
        return ops.log10(self)
    def exp2(self) -> Tensor:
        """2 ** x, elementwise."""
        return ops.exp2(self)
    def tan(self) -> Tensor:
        """The tangent, elementwise."""
        return ops.tan(self)
    def asin(self) -> Tensor:
        """The arcsine, elementwise."""
        return ops.asin(self)
    def acos(self) -> Tensor:
        """The arccosine, elementwise."""
        return ops.acos(self)
    def atan(self) -> Tensor:
        """The arctangent, elementwise."""
        return ops.atan(self)
    def atan2(self, other: TensorLike) -> Tensor:
        """The angle of the point (other, self), elementwise: `torch.atan2(self, other)`."""
        return ops.atan2(self, other)
    def sinh(self) -> Tensor:
        """The hyperbolic sine, elementwise."""
        return ops.sinh(self)
    def cosh(self) -> Tensor:
        """The hyperbolic cosine, elementwise."""
        return ops.cosh(self)
    def asinh(self) -> Tensor:
        """The inverse hyperbolic sine, elementwise."""
        return ops.asinh(self)
    def acosh(self) -> Tensor:
        """The inverse hyperbolic cosine, elementwise."""
        return ops.acosh(self)
    def atanh(self) -> Tensor:
        """The inverse hyperbolic tangent, elementwise."""
        return ops.atanh(self)
    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)), elementwise."""
        return ops.sigmoid(self)
    def logit(self, eps: Float | None = None) -> Tensor:
        """log(x / (1 - x)), the inverse of sigmoid (x clamped into [eps, 1 - eps] if eps is given)."""
        return ops.logit(self, eps)
    def relu(self) -> Tensor:
        """max(x, 0), elementwise (gradient 0 at 0)."""
        return ops.relu(self)
    def erf(self) -> Tensor:
        """The error function, elementwise."""
        return ops.erf(self)
    def erfc(self) -> Tensor:
        """1 - erf(x), accurate where erf(x) is near 1: `torch.Tensor.erfc`."""
        return ops.erfc(self)
    def erfinv(self) -> Tensor:
        """The inverse error function: `torch.Tensor.erfinv`."""
        return ops.erfinv(self)
    def lgamma(self) -> Tensor:
        """log|Gamma(x)|: `torch.Tensor.lgamma`."""
        return ops.lgamma(self)
    def digamma(self) -> Tensor:
        """The derivative of lgamma: `torch.Tensor.digamma`."""
        return ops.digamma(self)
    def polygamma(self, n: Int) -> Tensor:
        """The n-th derivative of digamma: `torch.Tensor.polygamma`."""
        return ops.polygamma(n, self)
    def reciprocal(self) -> Tensor:
        """1 / x, elementwise."""
        return ops.reciprocal(self)
    def clamp(self, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
        """Values limited to [min, max] (either may be None); `clip` is the same."""
        return ops.clamp(self, min, max)
    clip = clamp
    def clamp_min(self, min: TensorLike) -> Tensor:
        """max(self, min), elementwise: `torch.Tensor.clamp_min`."""
        return ops.clamp_min(self, min)
    def clamp_max(self, max: TensorLike) -> Tensor:
        """min(self, max), elementwise: `torch.Tensor.clamp_max`."""
        return ops.clamp_max(self, max)
    def maximum(self, other: TensorLike) -> Tensor:
        """The elementwise maximum of `self` and `other` (ties share the gradient)."""
        return ops.maximum(self, other)
    def minimum(self, other: TensorLike) -> Tensor:
        """The elementwise minimum of `self` and `other` (ties share the gradient)."""
        return ops.minimum(self, other)
    def eq(self, other: TensorLike) -> Tensor:
        """`self == other`, a bool tensor (not differentiable)."""
        return ops.eq(self, other)
    def ne(self, other: TensorLike) -> Tensor:
        """`self != other`, a bool tensor."""
        return ops.ne(self, other)
    def lt(self, other: TensorLike) -> Tensor:
        """`self < other`, a bool tensor."""
        return ops.lt(self, other)
    def le(self, other: TensorLike) -> Tensor:
        """`self <= other`, a bool tensor."""
        return ops.le(self, other)
    def gt(self, other: TensorLike) -> Tensor:
        """`self > other`, a bool tensor."""
        return ops.gt(self, other)
    def ge(self, other: TensorLike) -> Tensor:
        """`self >= other`, a bool tensor."""
        return ops.ge(self, other)
    def isnan(self) -> Tensor:
        """True where the value is NaN."""
        return ops.isnan(self)
    def isfinite(self) -> Tensor:
        """True where the value is neither NaN nor infinite."""
        return ops.isfinite(self)
    def masked_fill(self, mask: Tensor, value: Number) -> Tensor:
        """A copy with `value` where the bool `mask` (broadcast) is True."""
        return ops.masked_fill(self, mask, value)

    # -- reductions ----------------------------------------------------------------------------
    def sum(self, dim: Dim = None, keepdim: Bool = False, dtype=None) -> Tensor:
        """The sum over `dim` (an int, a tuple, or None for all), keeping reduced dims as size 1 with `keepdim`."""
        return ops.sum(self, dim, keepdim, dtype=dtype)
    def mean(self, dim: Dim = None, keepdim: Bool = False, dtype=None) -> Tensor:
        """The mean over `dim` (an int, a tuple, or None for all), in `dtype` if given."""
        return ops.mean(self, dim, keepdim, dtype)
    def var(self, dim: Dim = None, unbiased: Bool = True, keepdim: Bool = False,
            correction: Int | None = None) -> Tensor:
        """The variance over `dim`, divided by n - 1 if `unbiased` (or by n - `correction`)."""
        return ops.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim: Dim = None, unbiased: Bool = True, keepdim: Bool = False,
            correction: Int | None = None) -> Tensor:
        """The standard deviation over `dim` (see `var`; gradient 0 where it is 0)."""
        return ops.std(self, dim, unbiased, keepdim, correction=correction)
    def aminmax(self, *, dim: Int | None = None, keepdim: Bool = False) -> tuple[Tensor, Tensor]:
        """The named tuple (min, max) over `dim` (all elements if None): `torch.Tensor.aminmax`."""
        return ops.aminmax(self, dim=dim, keepdim=keepdim)
    def amax(self, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """The largest values over `dim` (ties share the gradient equally)."""
        return ops.amax(self, dim, keepdim)
    def amin(self, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """The smallest values over `dim` (ties share the gradient equally)."""
        return ops.amin(self, dim, keepdim)
    def max(self, dim: Int | None = None, keepdim: Bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """With no `dim`, the largest element; with an int `dim`, a named tuple `(values, indices)`,
        so `_, pred = out.max(1)` works."""
        return ops.max(self, dim, keepdim)
    def min(self, dim: Int | None = None, keepdim: Bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """With no `dim`, the smallest element; with an int `dim`, a named tuple `(values, indices)`."""
        return ops.min(self, dim, keepdim)
    def argmax(self, dim: Int | None = None, keepdim: Bool = False) -> Tensor:
        """The index of the largest value over `dim` (of the flattened tensor if None), int64."""
        return ops.argmax(self, dim, keepdim)
    def argmin(self, dim: Int | None = None, keepdim: Bool = False) -> Tensor:
        """The index of the smallest value over `dim` (of the flattened tensor if None), int64."""
        return ops.argmin(self, dim, keepdim)
    def prod(self, dim: Dim = None, keepdim: Bool = False, dtype=None) -> Tensor:
        """The product over `dim` (integers in int64 unless `dtype` is given)."""
        return ops.prod(self, dim, keepdim, dtype)
    def logsumexp(self, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """log(sum(exp(x))) over `dim`, computed stably."""
        return ops.logsumexp(self, dim, keepdim)
    def norm(self, p: "Float | str" = 2, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """The p-norm over `dim` (all elements if None)."""
        return ops.norm(self, p, dim, keepdim)
    def dist(self, other: Tensor, p: Float = 2) -> Tensor:
        """The p-norm of self - other (broadcast), over all elements: `torch.Tensor.dist`."""
        return ops.dist(self, other, p)
    def all(self, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """True if every element over `dim` is nonzero."""
        return ops.all(self, dim, keepdim)
    def any(self, dim: Dim = None, keepdim: Bool = False) -> Tensor:
        """True if any element over `dim` is nonzero."""
        return ops.any(self, dim, keepdim)
    def softmax(self, dim: Int = -1, dtype=None) -> Tensor:
        """exp(x) / sum(exp(x)) along `dim`, computed stably (in `dtype` if given)."""
        return ops.softmax(self, dim, dtype)
    def log_softmax(self, dim: Int = -1, dtype=None) -> Tensor:
        """log(softmax(x)) along `dim`, computed stably (in `dtype` if given)."""
        return ops.log_softmax(self, dim, dtype)

    # -- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape: Int) -> Tensor:
        """The same elements in a new shape (one dim may be -1); a tuple also works."""
        return ops.reshape(self, *shape)
    def view(self, *shape: Int) -> Tensor:
        """As `reshape`: a view where the memory layout allows, else a copy. (PyTorch refuses to copy;
        here ops may lay out their outputs differently from PyTorch's, channel-major convolution
        outputs for one, so `x.view(n, -1)` must work wherever it works in PyTorch.) `view(dtype)`
        reinterprets the bits as PyTorch's does, outside the graph."""
        if len(shape) == 1 and isinstance(shape[0], (np.dtype, type, str)):
            return self._bits_as(shape[0])
        return ops.reshape(self, *shape)
    def _bits_as(self, dtype) -> Tensor:
        from .creation import resolve_dtype
        dtype = resolve_dtype(dtype)
        if dtype == self.dtype:
            return self
        try:
            return Tensor._make(self._data.view(dtype), False, None)
        except ValueError as error:
            raise ShapeError(f"view: cannot view a tensor of shape {self.shape} and dtype {self.dtype} as "
                             f"{dtype}: {error}") from None
    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to `other.shape`."""
        return ops.reshape(self, other.shape)
    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to `other.shape`."""
        return ops.reshape(self, other.shape)
    def flatten(self, start_dim: Int = 0, end_dim: Int = -1) -> Tensor:
        """Dims `start_dim` to `end_dim` merged into one."""
        return ops.flatten(self, start_dim, end_dim)
    def transpose(self, dim0: Int, dim1: Int) -> Tensor:
        """Dims `dim0` and `dim1` swapped."""
        return ops.transpose(self, dim0, dim1)
    def t(self) -> Tensor:
        """A matrix transposed (a 0-D or 1-D tensor as it is; more dims are an error, as in torch)."""
        return ops.t(self)
    def permute(self, *dims: Int) -> Tensor:
        """The dims reordered as `dims`."""
        return ops.permute(self, *dims)
    def squeeze(self, dim: Dim = None) -> Tensor:
        """Size-1 dims removed (only `dim` if given)."""
        return ops.squeeze(self, dim)
    def unsqueeze(self, dim: Int) -> Tensor:
        """A size-1 dim inserted at `dim`."""
        return ops.unsqueeze(self, dim)
    def expand(self, *shape: Int) -> Tensor:
        """Broadcast to `shape` without copying (-1 keeps a dim); the gradient is summed back."""
        return ops.expand(self, *shape)
    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to `other.shape`."""
        return ops.expand(self, other.shape)
    def broadcast_to(self, shape: tuple[Int, ...]) -> Tensor:
        """Broadcast to `shape` (`torch.broadcast_to`)."""
        return ops.broadcast_to(self, shape)
    def split(self, split_size_or_sections: "Int | list[Int]", dim: Int = 0) -> tuple[Tensor, ...]:
        """Pieces along `dim`: of size `split_size_or_sections` (the last may be smaller), or of the
        listed sizes. A tuple of tensors."""
        return ops.split(self, split_size_or_sections, dim)
    def chunk(self, chunks: Int, dim: Int = 0) -> tuple[Tensor, ...]:
        """At most `chunks` pieces of equal size along `dim`."""
        return ops.chunk(self, chunks, dim)
    def unbind(self, dim: Int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each without it (`torch.unbind`)."""
        return ops.unbind(self, dim)
    def narrow(self, dim: Int, start: Int, length: Int) -> Tensor:
        """The `length` elements of dim `dim` from `start` (negative: from the end), a view."""
        return ops.narrow(self, dim, start, length)
    def unflatten(self, dim: Int, sizes: tuple[Int, ...]) -> Tensor:
        """Dim `dim` split into dims of `sizes` (one may be -1): `torch.Tensor.unflatten`."""
        return ops.unflatten(self, dim, sizes)
    def select(self, dim: Int, index: Int) -> Tensor:
        """The slice at `index` along `dim`, without that dim: `torch.Tensor.select`."""
        return ops.select(self, dim, index)
    def roll(self, shifts: "Int | tuple[Int, ...]", dims: "Int | tuple[Int, ...] | None" = None) -> Tensor:
        """Elements shifted cyclically along `dims` (the flattened tensor if None): `torch.roll`."""
        return ops.roll(self, shifts, dims)
    def diag_embed(self, offset: Int = 0, dim1: Int = -2, dim2: Int = -1) -> Tensor:
        """Matrices with the last dim on their diagonal: `torch.diag_embed`."""
        return ops.diag_embed(self, offset, dim1, dim2)
    def tril_(self, diagonal: Int = 0) -> Tensor:
        """`tril`, in place; returns it."""
        return inplace.apply_inplace(self, "tril_", ops.tril, diagonal)
    def triu_(self, diagonal: Int = 0) -> Tensor:
        """`triu`, in place; returns it."""
        return inplace.apply_inplace(self, "triu_", ops.triu, diagonal)
    def tril(self, diagonal: Int = 0) -> Tensor:
        """The lower triangle of the last two dims, zero above diagonal `diagonal`: `torch.tril`."""
        return ops.tril(self, diagonal)
    def triu(self, diagonal: Int = 0) -> Tensor:
        """The upper triangle of the last two dims, zero below diagonal `diagonal`: `torch.triu`."""
        return ops.triu(self, diagonal)
    def gather(self, dim: Int, index: Tensor) -> Tensor:
        """Values picked along `dim` at the int64 `index` (gradients scatter-add back)."""
        return ops.gather(self, dim, index)
    def matmul(self, other: Tensor) -> Tensor:
        """The matrix product `self @ other` (1-D, 2-D and batched, broadcasting)."""
        return ops.matmul(self, other)
    def unfold(self, dimension: Int, size: Int, step: Int) -> Tensor:
        """Every slice of length `size` along `dimension`, `step` apart, in a new last dim, as
        PyTorch's `Tensor.unfold` (patches: `x.unfold(2, p, p).unfold(3, p, p)`). The im2col of images
        is the function `autograd.unfold` (`torch.nn.functional.unfold`)."""
        from .ops.indexing import sliding_windows
        return sliding_windows(self, dimension, size, step)

    # -- more of PyTorch's Tensor methods ------------------------------------------------------
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)
    def __floordiv__(self, other): return ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def remainder(self, other: TensorLike) -> Tensor:
        """The remainder of floor division, sign of the divisor (Python's `%`)."""
        return ops.remainder(self, other)
    def fmod(self, other: TensorLike) -> Tensor:
        """The remainder of truncated division, sign of the dividend (C's `fmod`)."""
        return ops.fmod(self, other)
    def floor_divide(self, other: TensorLike) -> Tensor:
        """Floor division (`//`), rounding toward minus infinity (gradient 0)."""
        return ops.floor_divide(self, other)
    def floor(self) -> Tensor:
        """Rounded down, elementwise (gradient 0)."""
        return ops.floor(self)
    def ceil(self) -> Tensor:
        """Rounded up, elementwise (gradient 0)."""
        return ops.ceil(self)
    def round(self, decimals: Int = 0) -> Tensor:
        """Rounded half to even to `decimals` places (gradient 0)."""
        return ops.round(self, decimals)
    def trunc(self) -> Tensor:
        """Rounded toward zero (gradient 0)."""
        return ops.trunc(self)
    def fix(self) -> Tensor:
        """As `trunc`."""
        return ops.trunc(self)
    def frac(self) -> Tensor:
        """x - trunc(x) (gradient 1)."""
        return ops.frac(self)
    def cumsum(self, dim: Int, dtype=None) -> Tensor:
        """The running sum along `dim`."""
        return ops.cumsum(self, dim, dtype=dtype)
    def cummax(self, dim: Int) -> tuple[Tensor, Tensor]:
        """The named tuple (values, indices) of the running maximum along `dim`."""
        return ops.cummax(self, dim)
    def cummin(self, dim: Int) -> tuple[Tensor, Tensor]:
        """The named tuple (values, indices) of the running minimum along `dim`."""
        return ops.cummin(self, dim)
    def logcumsumexp(self, dim: Int) -> Tensor:
        """Running log(sum(exp(x))) along `dim`, without overflow."""
        return ops.logcumsumexp(self, dim)
    def flip(self, *dims: Int) -> Tensor:
        """The order of elements reversed along `dims`."""
        return ops.flip(self, *dims)
    def repeat(self, *sizes: Int) -> Tensor:
        """Tiled `sizes[i]` times along each dim (PyTorch's `repeat`, NumPy's `tile`)."""
        return ops.repeat(self, *sizes)
    def tile(self, dims: tuple[Int, ...]) -> Tensor:
        """Tiled as NumPy's `tile`."""
        return ops.tile(self, dims)
    def index_select(self, dim: Int, index: Tensor) -> Tensor:
        """The entries at the int64 1-D `index` along `dim`."""
        return ops.index_select(self, dim, index)
    def masked_select(self, mask: Tensor) -> Tensor:
        """The 1-D tensor of the elements where the bool `mask` (broadcast) is True."""
        return ops.masked_select(self, mask)
    def repeat_interleave(self, repeats: "Int | Tensor", dim: Int | None = None, *,
                          output_size: Int | None = None) -> Tensor:
        """Each element (slice along `dim`) repeated `repeats` times: `torch.Tensor.repeat_interleave`."""
        return ops.repeat_interleave(self, repeats, dim, output_size=output_size)
    def nonzero(self, as_tuple: Bool = False) -> Tensor | tuple[Tensor, ...]:
        """The indices of nonzero elements: an (n, ndim) int64 tensor, or one tensor per dim with `as_tuple`."""
        return ops.nonzero(self, as_tuple=as_tuple)
    def argwhere(self) -> Tensor:
        """The indices of nonzero elements, (n, ndim) int64."""
        return ops.nonzero(self)
    def mm(self, other: Tensor) -> Tensor:
        """The product of two matrices."""
        return ops.mm(self, other)
    def bmm(self, other: Tensor) -> Tensor:
        """The product of two batches of matrices, (b, n, m) @ (b, m, p)."""
        return ops.bmm(self, other)
    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
        """beta * self + alpha * (mat1 @ mat2): `torch.addmm`."""
        return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def addmv(self, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
        """beta * self + alpha * (mat @ vec): `torch.addmv`."""
        return ops.addmv(self, mat, vec, beta=beta, alpha=alpha)
    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
        """beta * self + alpha * the sum of the batch of products batch1 @ batch2: `torch.addbmm`."""
        return ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
        """beta * self + alpha * (batch1 @ batch2), batched: `torch.baddbmm`."""
        return ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def dot(self, other: Tensor) -> Tensor:
        """The dot product of two 1-D tensors."""
        return ops.dot(self, other)
    def mv(self, other: Tensor) -> Tensor:
        """The product of a matrix and a vector."""
        return ops.mv(self, other)

    def sort(self, dim: Int = -1, descending: Bool = False, stable: Bool = False) -> tuple[Tensor, Tensor]:
        """A named tuple `(values, indices)` sorted along `dim`."""
        return ops.sort(self, dim, descending, stable)
    def mode(self, dim: Int = -1, keepdim: Bool = False) -> tuple[Tensor, Tensor]:
        """The named tuple (values, indices) of the most frequent value along `dim` (the smallest of
        equally frequent ones, at its last position)."""
        return ops.mode(self, dim, keepdim)

    def msort(self) -> Tensor:
        """Sorted along dim 0 (the values of `sort(0)`)."""
        return ops.msort(self)

    def kthvalue(self, k: Int, dim: Int = -1, keepdim: Bool = False) -> tuple[Tensor, Tensor]:
        """The named tuple (values, indices) of the k-th smallest element along `dim` (k from 1)."""
        return ops.kthvalue(self, k, dim, keepdim)
    def argsort(self, dim: Int = -1, descending: Bool = False, stable: Bool = False) -> Tensor:
        """The indices that sort along `dim`."""
        return ops.argsort(self, dim, descending, stable)
    def topk(self, k: Int, dim: Int = -1, largest: Bool = True, sorted: Bool = True) -> tuple[Tensor, Tensor]:
        """A named tuple `(values, indices)` of the `k` largest (or smallest) along `dim`."""
        return ops.topk(self, k, dim, largest, sorted)

    def is_floating_point(self) -> Bool:
        """True for a floating dtype."""
        return self._data.dtype.kind == "f"

    def is_complex(self) -> Bool:
        """True for a complex dtype."""
        return self._data.dtype.kind == "c"

    def nelement(self) -> Int:
        """The number of elements (as `numel`)."""
        return self._data.size

    def ndimension(self) -> Int:
        """The number of dimensions (as `ndim`)."""
        return self._data.ndim

    @property
    def is_cuda(self) -> Bool:
        """Always False."""
        return False

    def cuda(self, device=None, non_blocking=False):
        """Raises: ndgrad has no CUDA device (use `.to("cpu")` or nothing)."""
        from .creation import check_device
        check_device("cuda" if device is None else device)

    # NumPy's names and functions that PyTorch's tensors have as methods too
    def hypot(self, other: TensorLike):
        """sqrt(self**2 + other**2), without overflow."""
        return ops.hypot(self, other)
    def logaddexp(self, other: TensorLike):
        """log(exp(self) + exp(other)), computed stably."""
        return ops.logaddexp(self, other)
    def logaddexp2(self, other: TensorLike):
        """log2(2**self + 2**other), computed stably."""
        return ops.logaddexp2(self, other)
    def copysign(self, other: TensorLike):
        """|self| with the sign of `other`."""
        return ops.copysign(self, other)
    def fmax(self, other: TensorLike):
        """The elementwise maximum, where NaN loses to a number."""
        return ops.fmax(self, other)
    def fmin(self, other: TensorLike):
        """The elementwise minimum, where NaN loses to a number."""
        return ops.fmin(self, other)
    def float_power(self, exponent: TensorLike):
        """self ** exponent, computed in float64."""
        return ops.float_power(self, exponent)
    def ldexp(self, other: TensorLike):
        """self * 2**other."""
        return ops.ldexp(self, other)
    def heaviside(self, values: TensorLike):
        """The step function, `values` where self is 0 (no gradient)."""
        return ops.heaviside(self, values)
    def sinc(self):
        """sin(pi x) / (pi x), 1 at 0."""
        return ops.sinc(self)
    def deg2rad(self):
        """Degrees to radians."""
        return ops.deg2rad(self)
    def rad2deg(self):
        """Radians to degrees."""
        return ops.rad2deg(self)
    def nan_to_num(self, nan: Float = 0.0, posinf: Float | None = None, neginf: Float | None = None):
        """NaN and infinities replaced by numbers."""
        return ops.nan_to_num(self, nan, posinf, neginf)
    def positive(self):
        """self, as `+self`."""
        return ops.positive(self)
    def absolute(self):
        """As `abs`."""
        return ops.abs(self)
    def negative(self):
        """As `neg`."""
        return ops.neg(self)
    def arcsin(self):
        """As `asin`."""
        return ops.asin(self)
    def arccos(self):
        """As `acos`."""
        return ops.acos(self)
    def arctan(self):
        """As `atan`."""
        return ops.atan(self)
    def arcsinh(self):
        """As `asinh`."""
        return ops.asinh(self)
    def arccosh(self):
        """As `acosh`."""
        return ops.acosh(self)
    def arctanh(self):
        """As `atanh`."""
        return ops.atanh(self)
    def arctan2(self, other: TensorLike):
        """As `atan2`."""
        return ops.atan2(self, other)
    def divide(self, other: TensorLike, *, rounding_mode: str | None = None):
        """As `div`."""
        return ops.div(self, other, rounding_mode=rounding_mode)
    def true_divide(self, other: TensorLike):
        """As `div`."""
        return ops.div(self, other)
    def multiply(self, other: TensorLike):
        """As `mul`."""
        return ops.mul(self, other)
    def subtract(self, other: TensorLike, alpha: Number = 1):
        """As `sub`."""
        return self.sub(other, alpha)
    def signbit(self):
        """True where the sign bit is set (negatives and -0.0)."""
        return ops.signbit(self)
    def isinf(self):
        """True where the value is +inf or -inf."""
        return ops.isinf(self)
    def isposinf(self):
        """True where the value is +inf."""
        return ops.isposinf(self)
    def isneginf(self):
        """True where the value is -inf."""
        return ops.isneginf(self)
    def isreal(self):
        """True where the value has no imaginary part."""
        return ops.isreal(self)
    def isclose(self, other: TensorLike, rtol: Float = 1e-05, atol: Float = 1e-08, equal_nan: Bool = False):
        """True where |self - other| <= atol + rtol |other|."""
        return ops.isclose(self, other, rtol, atol, equal_nan)
    def allclose(self, other: TensorLike, rtol: Float = 1e-05, atol: Float = 1e-08, equal_nan: Bool = False):
        """True (a Python bool) when `isclose` holds everywhere."""
        return ops.allclose(self, other, rtol, atol, equal_nan)
    def equal(self, other: Tensor):
        """True (a Python bool) for the same shape and elements."""
        return ops.equal(self, other)
    def greater(self, other: TensorLike):
        """As `gt`."""
        return ops.gt(self, other)
    def greater_equal(self, other: TensorLike):
        """As `ge`."""
        return ops.ge(self, other)
    def less(self, other: TensorLike):
        """As `lt`."""
        return ops.lt(self, other)
    def less_equal(self, other: TensorLike):
        """As `le`."""
        return ops.le(self, other)
    def not_equal(self, other: TensorLike):
        """As `ne`."""
        return ops.ne(self, other)
    def logical_and(self, other: TensorLike):
        """Both nonzero, a bool tensor."""
        return ops.logical_and(self, other)
    def logical_or(self, other: TensorLike):
        """Either nonzero, a bool tensor."""
        return ops.logical_or(self, other)
    def logical_xor(self, other: TensorLike):
        """Exactly one nonzero, a bool tensor."""
        return ops.logical_xor(self, other)
    def logical_not(self):
        """True where zero, a bool tensor."""
        return ops.logical_not(self)
    def cumprod(self, dim: Int, dtype=None):
        """The running product along `dim`."""
        return ops.cumprod(self, dim, dtype=dtype)
    def diff(self, n: Int = 1, dim: Int = -1, prepend: Tensor | None = None, append: Tensor | None = None):
        """The n-th forward difference along `dim`."""
        return ops.diff(self, n, dim, prepend, append)
    def nansum(self, dim: Dim = None, keepdim: Bool = False, dtype=None):
        """The sum over `dim`, NaN counted as 0."""
        return ops.nansum(self, dim, keepdim, dtype=dtype)
    def nanmean(self, dim: Dim = None, keepdim: Bool = False, dtype=None):
        """The mean over `dim` of the elements that are not NaN."""
        return ops.nanmean(self, dim, keepdim, dtype=dtype)
    def count_nonzero(self, dim: Dim = None):
        """The number of nonzero elements over `dim`, int64."""
        return ops.count_nonzero(self, dim)
    def median(self, dim: Int | None = None, keepdim: Bool = False):
        """The (lower) median; with `dim`, a named tuple `(values, indices)`."""
        return ops.median(self, dim, keepdim)
    def quantile(self, q, dim: Int | None = None, keepdim: Bool = False, *, interpolation: str = "linear"):
        """The q-th quantiles over `dim`."""
        return ops.quantile(self, q, dim, keepdim, interpolation=interpolation)
    def movedim(self, source, destination):
        """Dims `source` moved to `destination`."""
        return ops.movedim(self, source, destination)
    def moveaxis(self, source, destination):
        """As `movedim`."""
        return ops.movedim(self, source, destination)
    def swapaxes(self, axis0: Int, axis1: Int):
        """As `transpose`."""
        return ops.transpose(self, axis0, axis1)
    def swapdims(self, dim0: Int, dim1: Int):
        """As `transpose`."""
        return ops.transpose(self, dim0, dim1)
    def ravel(self):
        """Flattened to 1-D."""
        return ops.ravel(self)
    def rot90(self, k: Int = 1, dims: tuple[Int, Int] = (0, 1)):
        """Rotated by k quarter turns in the plane of `dims`."""
        return ops.rot90(self, k, dims)
    def fliplr(self):
        """Reversed along dim 1."""
        return ops.fliplr(self)
    def flipud(self):
        """Reversed along dim 0."""
        return ops.flipud(self)
    def take(self, index: Tensor):
        """The elements at `index` of the flattened tensor."""
        return ops.take(self, index)
    def take_along_dim(self, indices: Tensor, dim: Int | None = None):
        """Values at `indices` along `dim`."""
        return ops.take_along_dim(self, indices, dim)
    def bincount(self, weights: Tensor | None = None, minlength: Int = 0):
        """The count (or weight sum) of each value 0, 1, ..."""
        return ops.bincount(self, weights, minlength)
    def unique(self, sorted: Bool = True, return_inverse: Bool = False, return_counts: Bool = False,
               dim: Int | None = None):
        """The distinct elements (or slices along `dim`), sorted."""
        return ops.unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse: Bool = False, return_counts: Bool = False, dim: Int | None = None):
        """Each run of equal consecutive elements (or slices along `dim`) kept once."""
        return ops.unique_consecutive(self, return_inverse, return_counts, dim)
    def outer(self, vec2: Tensor):
        """The outer product of two 1-D tensors."""
        return ops.outer(self, vec2)
    def ger(self, vec2: Tensor):
        """As `outer`."""
        return ops.outer(self, vec2)
    def inner(self, other: Tensor):
        """The sum of products over the last dims."""
        return ops.inner(self, other)
    def vdot(self, other: Tensor):
        """The dot product of two 1-D tensors."""
        return ops.vdot(self, other)
    def kron(self, other: Tensor):
        """The Kronecker product."""
        return ops.kron(self, other)
    def trace(self):
        """The sum of the main diagonal of a matrix."""
        return ops.trace(self)
    def diagonal(self, offset: Int = 0, dim1: Int = 0, dim2: Int = 1):
        """The diagonal of the (dim1, dim2) planes, as a last dim."""
        return ops.diagonal(self, offset, dim1, dim2)
    def diag(self, diagonal: Int = 0):
        """A 1-D tensor as a diagonal matrix, or a matrix's diagonal."""
        return ops.diag(self, diagonal)
    def cross(self, other: Tensor, dim: Int | None = None):
        """The cross product of 3-vectors along `dim`."""
        return ops.cross(self, other, dim)
    def cov(self, *, correction: Int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None):
        """The covariance matrix of the variables in the rows."""
        return ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)
    def corrcoef(self):
        """The correlation coefficients of the variables in the rows."""
        return ops.corrcoef(self)
    def histc(self, bins: Int = 100, min: Float = 0, max: Float = 0):
        """Counts in `bins` equal bins from `min` to `max`."""
        return ops.histc(self, bins, min, max)
    def histogram(self, bins=100, *, range=None, weight: Tensor | None = None, density: Bool = False):
        """The named tuple (hist, bin_edges)."""
        return ops.histogram(self, bins, range=range, weight=weight, density=density)
    def bitwise_and(self, other: TensorLike):
        """Bitwise and, for integer and bool tensors."""
        return ops.bitwise_and(self, other)
    def bitwise_or(self, other: TensorLike):
        """Bitwise or, for integer and bool tensors."""
        return ops.bitwise_or(self, other)
    def bitwise_xor(self, other: TensorLike):
        """Bitwise exclusive or, for integer and bool tensors."""
        return ops.bitwise_xor(self, other)
    def bitwise_not(self):
        """Bitwise not, for integer and bool tensors."""
        return ops.bitwise_not(self)
    def bitwise_left_shift(self, other: TensorLike):
        """self << other, for integer tensors."""
        return ops.bitwise_left_shift(self, other)
    def bitwise_right_shift(self, other: TensorLike):
        """self >> other, for integer tensors."""
        return ops.bitwise_right_shift(self, other)
    def gcd(self, other: TensorLike):
        """The greatest common divisor, for integer tensors."""
        return ops.gcd(self, other)
    def lcm(self, other: TensorLike):
        """The least common multiple, for integer tensors."""
        return ops.lcm(self, other)
    def tensor_split(self, indices_or_sections, dim: Int = 0):
        """Pieces along `dim`: n nearly equal ones, or split before the indices."""
        return ops.tensor_split(self, indices_or_sections, dim)
    def hsplit(self, indices_or_sections):
        """Split along dim 1 (dim 0 of a 1-D tensor)."""
        return ops.hsplit(self, indices_or_sections)
    def vsplit(self, indices_or_sections):
        """Split along dim 0."""
        return ops.vsplit(self, indices_or_sections)
    def dsplit(self, indices_or_sections):
        """Split along dim 2."""
        return ops.dsplit(self, indices_or_sections)
    def nanmedian(self, dim: Int | None = None, keepdim: Bool = False):
        """As `median`, ignoring NaN."""
        return ops.nanmedian(self, dim, keepdim)
    def nanquantile(self, q, dim: Int | None = None, keepdim: Bool = False, *, interpolation: str = "linear"):
        """As `quantile`, ignoring NaN."""
        return ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)
    def diagflat(self, offset: Int = 0):
        """The square matrix with the flattened elements on diagonal `offset`."""
        return ops.diagflat(self, offset)
    def bernoulli(self, p: Float | None = None, *, generator=None):
        """1 with probability self (or `p`), else 0 (`autograd.bernoulli`)."""
        from .creation import bernoulli
        return bernoulli(self, p, generator=generator)
    def inverse(self):
        """The inverse of a square matrix (or batch)."""
        return ops.inverse(self)
    def det(self):
        """The determinant of a square matrix (or batch)."""
        return ops.det(self)
    def logdet(self):
        """log det, NaN for a negative determinant."""
        return ops.logdet(self)
    def slogdet(self):
        """The named tuple (sign, logabsdet) of the determinant."""
        return ops.slogdet(self)
    def matrix_power(self, n: Int):
        """A square matrix (or batch) to the integer power n (`autograd.linalg.matrix_power`)."""
        from .linalg import matrix_power
        return matrix_power(self, n)
    def __lshift__(self, other): return ops.bitwise_left_shift(self, other)
    def __rshift__(self, other): return ops.bitwise_right_shift(self, other)
    def where(self, condition: TensorLike, other: TensorLike):
        """self where `condition` holds, `other` elsewhere (`autograd.where(condition, self, other)`)."""
        return ops.where(condition, self, other)
    def multinomial(self, num_samples: Int, replacement: Bool = False, *, generator=None):
        """Category indices drawn by the weights of each row (`autograd.multinomial`)."""
        from .creation import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)


class Device:
    """`autograd.device("cpu")`: the one device there is, so PyTorch loops' `.to(device)` runs."""
    __slots__ = ("type",)

    def __init__(self, type="cpu"):
        from .creation import check_device
        check_device(type)
        self.type = "cpu"

    def __repr__(self):
        return "device(type='cpu')"

    def __enter__(self):
        """`with torch.device("cpu"):` (new tensors on that device: the CPU, always); returns the device."""
        return self

    def __exit__(self, *exc):
        return None

    def __str__(self):
        return "cpu"

    def __eq__(self, other):
        return isinstance(other, Device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


_CPU = Device()

class Size(tuple):
    """A shape: a tuple of ints, with `numel()`, as `torch.Size` (`t.shape == ag.Size([2, 3])` holds, as
    a shape is a tuple)."""

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self) -> Int:
        """The number of elements of a tensor of this shape."""
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self):
        return f"autograd.Size({list(self)})"


_PRINT_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, max_line_width=80),
                   "short": dict(precision=2, threshold=1000, edgeitems=2, max_line_width=80),
                   "full": dict(precision=4, threshold=np.inf, edgeitems=3, max_line_width=80)}
_print_options = dict(_PRINT_PROFILES["default"])


def set_printoptions(precision: Int | None = None, threshold: Int | None = None, edgeitems: Int | None = None,
                     linewidth: Int | None = None, profile: str | None = None, sci_mode: Bool | None = None) -> None:
    """How tensors print: digits after the point, the element count beyond which they are summarised
    (edgeitems at each end), the line width; `profile` ('default', 'short', 'full') sets all of them
    first. As `torch.set_printoptions` (sci_mode is accepted; NumPy picks the notation)."""
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
        _print_options.update(_PRINT_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("max_line_width", linewidth)):
        if value is not None:
            _print_options[name] = value

MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _cast_to(tensor, value):
    """`value` in `tensor`'s dtype: fill_, copy_ and masked_fill_ cast what they write (a float into an integer
    tensor too), as in PyTorch, rather than promoting."""
    if isinstance(value, Tensor):
        return value.to(tensor.dtype)
    return np.asarray(value).astype(tensor.dtype, copy=False)


def _filled(tensor, value):
    """`tensor` with every element replaced by `value` (broadcast): the gradient goes to `value`."""
    return ops.masked_fill(tensor, np.True_, value)


from . import ops  # noqa: E402  (ops build on Tensor)
from . import inplace  # noqa: E402
from . import numpy_protocol  # noqa: E402
from . import engine  # noqa: E402  (Tensor.backward's; imported here, not there: an import in a call costs a microsecond)
from .axis_alias import add_axis_alias  # noqa: E402
add_axis_alias(Tensor)  # x.sum(axis=1), as torch
