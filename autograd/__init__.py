"""ndgrad's autograd: a reverse-mode automatic differentiation engine on NumPy, PyTorch's API."""
__version__ = "0.1.0"

from .tensor import Device as device, Size, Tensor, set_printoptions
from .creation import (Generator, get_default_device, set_default_device, arange, as_tensor, asarray, bernoulli,
                       bool_ as bool, can_cast, channels_last, channels_last_3d, contiguous_format, default_generator, double, empty, empty_like, eye, finfo, float,
                       float16, float32, float64, from_numpy, full, full_like, get_default_dtype, get_rng_state, half, iinfo,
                       bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window,
                       initial_seed, int, int8, int16, int32, int64, linspace, logspace, long, manual_seed, memory_format,
                       multinomial, normal, ones, ones_like, parse_to, poisson, preserve_format, promote_types, rand, rand_like,
                       randint, randint_like, randn, randn_like, randperm, result_type, seed, set_default_dtype, set_rng_state, tensor,
                       tril_indices, triu_indices, uint8, zeros, zeros_like,
                       BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
                       ShortTensor, bfloat16)
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled,
                        is_inference_mode_enabled, no_grad, set_detect_anomaly, set_grad_enabled)
from .function import Function
from .inplace import apply_inplace
from .errors import ArgumentError, DTypeError, GradcheckError, ShapeError
from .engine import grad
from .gradcheck import gradcheck, gradgradcheck
from .threads import get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads
from .graph_report import saved_tensors_report, trace_graph
from .viz import draw_graph  # graphviz itself is imported on the first drawing
from .ops import *  # noqa: F401,F403  (every op as a function: ag.exp(t), ag.sum(t, dim), ...)
from .ops import abs, all, any, max, min, pow, sum  # noqa: F401  (shadow the builtins on purpose)
from .ops.gemm import add_scaled_  # noqa: F401  (y += a x on arrays, in one pass: the optimizers' update)
from . import cuda  # noqa: F401
from . import backends  # noqa: F401
from . import amp, distributions  # noqa: F401  (ag.distributions.Normal, Categorical, ..., as torch.distributions)
from .amp import autocast, is_autocast_enabled  # noqa: F401
from . import testing, utils  # noqa: F401  (ag.testing.assert_close, ag.utils.checkpoint, as torch's)
from . import random  # noqa: F401  (ag.random.manual_seed, ag.random.fork_rng, as torch.random)
from . import accelerator, distributed, jit  # noqa: F401  (torch.jit.script, torch.jit.is_scripting, torch.distributed.is_initialized)
from .backends import (are_deterministic_algorithms_enabled, compile, get_float32_matmul_precision,  # noqa: F401
                       is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision,
                       use_deterministic_algorithms)


def is_tensor(obj) -> bool:
    """True if `obj` is a Tensor (or a Parameter): `torch.is_tensor`."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of elements of `t`: `torch.numel`."""
    return t._data.size


def is_floating_point(t: Tensor) -> bool:
    """True if `t` has a floating dtype: `torch.is_floating_point`."""
    return t.is_floating_point()


def is_complex(t: Tensor) -> bool:
    """True if `t` has a complex dtype: `torch.is_complex`."""
    return t.is_complex()


def _assert(condition, message):
    """`assert condition, message`, as a function model code calls (`torch._assert`, torchvision's ViT)."""
    assert condition, message

from . import autograd  # noqa: E402,F401  (ag.autograd.grad, ag.autograd.Function, as torch.autograd)
from . import func  # noqa: E402,F401  (ag.func.grad, ag.func.functional_call, as torch.func)
from .func import vmap  # noqa: E402,F401  (torch.vmap too)
globals().pop("linalg", None)  # the star import above may bring ops' linalg family; ag.linalg is torch.linalg's
from . import linalg  # noqa: E402,F401  (ag.linalg.norm, ag.linalg.inv, as torch.linalg)
from .linalg import matrix_power  # noqa: E402,F401  (torch.matrix_power too)


from .axis_alias import add_axis_alias as _add_axis_alias  # noqa: E402
_add_axis_alias(globals())  # ag.sum(x, axis=1), ag.cat(ts, axis=1), as torch
globals().pop("special", None)  # the star import above brings ops' special family; ag.special is torch.special's
from . import special  # noqa: E402,F401  (ag.special.expit, ag.special.gammaln, as torch.special)


def __getattr__(name):
    """`ag.nn` and `ag.optim` are the `nn` package and `nn.optim`, and `ag.save` / `ag.load` are
    `nn.save` / `nn.load`, imported on first use: code written against PyTorch reaches them through
    the library's name (`torch.nn.utils.clip_grad_norm_(...)`, `torch.nn.functional.relu`,
    `torch.optim.Adam`, `torch.save(checkpoint, path)`), and that name becomes `autograd` after the
    import swap. Lazy, because `nn` is built on autograd and imports it."""
    if name == "nn":
        import nn
        return nn
    if name == "optim":
        import nn.optim
        return nn.optim
    if name in ("save", "load"):
        import nn
        return getattr(nn, name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
