"""Tensor: a NumPy array, whether it requires grad, its gradient, and the node that made it.

Every method is a one-line call into `ops/`, where each op's forward and backward live together.
"""
import numbers
import weakref
from collections import namedtuple

import numpy as np

from . import grad_mode
from .errors import DTypeError, ShapeError


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
    # Every op makes a Tensor, so the four attributes each one sets are slots; the rarely set ones
    # (hooks, a display name, anything a user attaches) live in the instance dict, made on demand.
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "__dict__", "__weakref__")
    _hooks = None
    _post_accumulate_grad_hooks = None
    name = None
    output_nr = 0   # which output of grad_fn this tensor is (set only for ops with several outputs)
    # Make NumPy defer to Tensor's reflected operators (array * tensor -> Tensor).
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False, dtype=None):
        from .creation import constructor_array
        self.data = constructor_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, requires_grad, grad_fn):
        """The fast constructor used by ops: `data` is already an ndarray of the right dtype."""
        t = object.__new__(Tensor)
        t.data = data
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t.grad = None
        return t

    # -- attributes ----------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return _Size(self.data.shape)

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        return "cpu"

    @property
    def T(self):
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- conversion ----------------------------------------------------------------------------
    def item(self):
        if self.data.size != 1:
            raise ShapeError(f"item(): only a one-element tensor can be converted to a Python scalar, "
                             f"got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous "
                               f"(shape {self.shape}); use .any() or .all()")
        return bool(self.data)

    def astype(self, dtype):
        return ops.cast(self, dtype)

    def float(self):
        return ops.cast(self, np.float32)

    def double(self):
        return ops.cast(self, np.float64)

    def long(self):
        return ops.cast(self, np.int64)

    def int(self):
        return ops.cast(self, np.int32)

    def bool(self):
        return ops.cast(self, np.bool_)

    def half(self):
        return ops.cast(self, np.float16)

    def type_as(self, other):
        return ops.cast(self, other.dtype)

    def to(self, *args, **kwargs):
        """`.to(dtype)`, `.to(other_tensor)`, or `.to("cpu")` (the only device, so a no-op)."""
        from .creation import parse_to
        _, dtype = parse_to(*args, **kwargs)
        return self if dtype is None else ops.cast(self, dtype)

    def cpu(self):
        return self

    def contiguous(self):
        return self

    def clone(self):
        return ops.clone(self)

    # -- autograd ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from . import engine
        root_grad = engine.root_grad(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        engine.backward([self], [root_grad], retain_graph, create_graph, inputs)

    def detach(self):
        return Tensor._make(self.data, False, None)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise DTypeError(f"only floating point tensors can require gradients; this tensor is "
                            f"{self.dtype} (convert it with .float() or .double())")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        node = self.grad_fn
        if node is not None:
            node.retained = {**(node.retained or {}), self.output_nr: weakref.ref(self)}

    @property
    def retains_grad(self):
        node = self.grad_fn
        ref = node is not None and node.retained and node.retained.get(self.output_nr)
        return bool(ref) and ref() is self

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a non-None result replaces it."""
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

    # -- in place (for optimizers, initialisers and `w -= lr * w.grad` under no_grad) ------------
    def _check_inplace(self, op):
        if grad_mode._state.grad_enabled and self.requires_grad:
            kind = "a leaf tensor that requires grad" if self.grad_fn is None else "a tensor that is part of a graph"
            raise RuntimeError(f"{op}: in-place operation on {kind}; wrap it in `with autograd.no_grad():` "
                               "or use the out-of-place op")

    def _assign(self, op, values):
        self._check_inplace(op)
        values = values.data if isinstance(values, Tensor) else values
        if self.data.flags.writeable:
            np.copyto(self.data, values, casting="unsafe")
        else:  # a broadcast view: give this tensor its own memory
            self.data = np.array(np.broadcast_to(values, self.shape), dtype=self.dtype)
        return self

    def zero_(self):
        return self._assign("zero_", 0)

    def fill_(self, value):
        return self._assign("fill_", value)

    def copy_(self, src):
        src_data = src.data if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.broadcast_to(src_data, self.shape)
        except ValueError:
            raise ShapeError(f"copy_: source of shape {src_data.shape} cannot be copied into shape "
                             f"{self.shape}") from None
        return self._assign("copy_", src_data)

    def add_(self, other, alpha=1):
        other = other.data if isinstance(other, Tensor) else other
        return self._assign("add_", self.data + (other if alpha == 1 else alpha * other))

    def sub_(self, other, alpha=1):
        other = other.data if isinstance(other, Tensor) else other
        return self._assign("sub_", self.data - (other if alpha == 1 else alpha * other))

    def mul_(self, other):
        return self._assign("mul_", self.data * (other.data if isinstance(other, Tensor) else other))

    def div_(self, other):
        return self._assign("div_", self.data / (other.data if isinstance(other, Tensor) else other))

    def clamp_(self, min=None, max=None):
        return self._assign("clamp_", np.clip(self.data, min, max))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .creation import _generator
        return self._assign("uniform_", _generator(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .creation import _generator
        return self._assign("normal_", _generator(generator).normal(mean, std, self.shape))

    def _inplace_or_new(self, op, other, fallback):
        """`t += x`: in place where PyTorch would be (no graph involved), else a new tensor."""
        if (grad_mode._state.grad_enabled and self.requires_grad) or (
                isinstance(other, Tensor) and other.requires_grad and grad_mode._state.grad_enabled):
            if self.grad_fn is None and self.requires_grad:
                self._check_inplace(op)  # raises, as PyTorch does for a leaf
            return fallback(self, other)
        result = fallback(self, other)
        if result.shape != self.shape:
            raise ShapeError(f"{op}: result shape {result.shape} does not match the tensor's shape {self.shape}")
        return self._assign(op, result.data)

    def __iadd__(self, other):
        return self._inplace_or_new("__iadd__", other, ops.add)

    def __isub__(self, other):
        return self._inplace_or_new("__isub__", other, ops.sub)

    def __imul__(self, other):
        return self._inplace_or_new("__imul__", other, ops.mul)

    def __itruediv__(self, other):
        return self._inplace_or_new("__itruediv__", other, ops.div)

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        from .ops.indexing import normalize_index
        self.data[normalize_index(index)] = value.data if isinstance(value, Tensor) else value

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
    def __eq__(self, other): return ops.eq(self, other)
    def __ne__(self, other): return ops.ne(self, other)
    def __lt__(self, other): return ops.lt(self, other)
    def __le__(self, other): return ops.le(self, other)
    def __gt__(self, other): return ops.gt(self, other)
    def __ge__(self, other): return ops.ge(self, other)
    def __and__(self, other): return ops.logical_and(self, other)
    def __or__(self, other): return ops.logical_or(self, other)
    def __xor__(self, other): return ops.logical_xor(self, other)
    def __invert__(self): return ops.logical_not(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # -- arithmetic and elementwise ------------------------------------------------------------
    def add(self, other, alpha=1): return ops.add(self, other if alpha == 1 else ops.mul(other, alpha))
    def sub(self, other, alpha=1): return ops.sub(self, other if alpha == 1 else ops.mul(other, alpha))
    def mul(self, other): return ops.mul(self, other)
    def div(self, other): return ops.div(self, other)
    def pow(self, exponent): return ops.pow(self, exponent)
    def neg(self): return ops.neg(self)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def log1p(self): return ops.log1p(self)
    def expm1(self): return ops.expm1(self)
    def sqrt(self): return ops.sqrt(self)
    def rsqrt(self): return ops.rsqrt(self)
    def square(self): return ops.square(self)
    def abs(self): return ops.abs(self)
    def sign(self): return ops.sign(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def erf(self): return ops.erf(self)
    def reciprocal(self): return ops.reciprocal(self)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def eq(self, other): return ops.eq(self, other)
    def ne(self, other): return ops.ne(self, other)
    def lt(self, other): return ops.lt(self, other)
    def le(self, other): return ops.le(self, other)
    def gt(self, other): return ops.gt(self, other)
    def ge(self, other): return ops.ge(self, other)
    def isnan(self): return ops.isnan(self)
    def isfinite(self): return ops.isfinite(self)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)

    # -- reductions ----------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None): return ops.sum(self, dim, keepdim, dtype=dtype)
    def mean(self, dim=None, keepdim=False): return ops.mean(self, dim, keepdim)
    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction)
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False): return ops.prod(self, dim, keepdim)
    def logsumexp(self, dim=None, keepdim=False): return ops.logsumexp(self, dim, keepdim)
    def norm(self, p=2, dim=None, keepdim=False): return ops.norm(self, p, dim, keepdim)
    def all(self, dim=None, keepdim=False): return ops.all(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return ops.any(self, dim, keepdim)
    def softmax(self, dim=-1): return ops.softmax(self, dim)
    def log_softmax(self, dim=-1): return ops.log_softmax(self, dim)

    # -- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape): return ops.reshape(self, *shape)
    def view_as(self, other): return ops.reshape(self, other.shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def t(self): return ops.transpose(self, 0, 1) if self.ndim == 2 else self
    def permute(self, *dims): return ops.permute(self, *dims)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def expand(self, *shape): return ops.expand(self, *shape)
    def expand_as(self, other): return ops.expand(self, other.shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def split(self, split_size_or_sections, dim=0): return ops.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def unbind(self, dim=0): return ops.unbind(self, dim)
    def roll(self, shifts, dims=None): return ops.roll(self, shifts, dims)
    def tril(self, diagonal=0): return ops.tril(self, diagonal)
    def triu(self, diagonal=0): return ops.triu(self, diagonal)
    def gather(self, dim, index): return ops.gather(self, dim, index)
    def matmul(self, other): return ops.matmul(self, other)
    def unfold(self, kernel_size, stride=1, padding=0, dilation=1):
        return ops.unfold(self, kernel_size, stride, padding, dilation)

    # -- more of PyTorch's Tensor methods ------------------------------------------------------
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)
    def __floordiv__(self, other): return ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def remainder(self, other): return ops.remainder(self, other)
    def fmod(self, other): return ops.fmod(self, other)
    def floor_divide(self, other): return ops.floor_divide(self, other)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def round(self, decimals=0): return ops.round(self, decimals)
    def trunc(self): return ops.trunc(self)
    def fix(self): return ops.trunc(self)
    def frac(self): return ops.frac(self)
    def cumsum(self, dim, dtype=None): return ops.cumsum(self, dim, dtype=dtype)
    def flip(self, *dims): return ops.flip(self, *dims)
    def repeat(self, *sizes): return ops.repeat(self, *sizes)
    def tile(self, dims): return ops.tile(self, dims)
    def index_select(self, dim, index): return ops.index_select(self, dim, index)
    def nonzero(self, as_tuple=False): return ops.nonzero(self, as_tuple=as_tuple)
    def argwhere(self): return ops.nonzero(self)
    def mm(self, other): return ops.mm(self, other)
    def bmm(self, other): return ops.bmm(self, other)
    def dot(self, other): return ops.dot(self, other)
    def mv(self, other): return ops.mv(self, other)

    def sort(self, dim=-1, descending=False, stable=False): return ops.sort(self, dim, descending, stable)
    def argsort(self, dim=-1, descending=False, stable=False): return ops.argsort(self, dim, descending, stable)
    def topk(self, k, dim=-1, largest=True, sorted=True): return ops.topk(self, k, dim, largest, sorted)

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_complex(self):
        return self.data.dtype.kind == "c"

    def nelement(self):
        return self.data.size

    def ndimension(self):
        return self.data.ndim

    @property
    def is_cuda(self):
        return False

    def cuda(self, device=None, non_blocking=False):
        from .creation import check_device
        check_device("cuda" if device is None else device)


class Device:
    """`autograd.device("cpu")`: the one device there is, so PyTorch loops' `.to(device)` runs."""
    __slots__ = ("type",)

    def __init__(self, type="cpu"):
        from .creation import check_device
        check_device(type)
        self.type = "cpu"

    def __repr__(self):
        return "device(type='cpu')"

    def __eq__(self, other):
        return isinstance(other, Device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])

from . import ops  # noqa: E402  (ops build on Tensor)
