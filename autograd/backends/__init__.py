"""`torch.backends` and the global kernel switches, for a machine with NumPy kernels only.

`compile` (torch.compile) returns its model unchanged: ndgrad runs eagerly.

Training scripts set these while seeding or picking a device (`torch.backends.cudnn.deterministic =
True`, `torch.backends.mps.is_available()`, `torch.use_deterministic_algorithms(True)`,
`torch.set_float32_matmul_precision("high")`). NumPy's kernels are deterministic and compute float32
matrix products in float32, so each switch is recorded, reads back as set, and changes nothing.
"""
import warnings

from . import cuda, cudnn, mps  # noqa: F401  (import autograd.backends.cudnn as cudnn, as with torch)

_MATMUL_PRECISIONS = ("highest", "high", "medium")
_settings = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, **kwargs):
    """`torch.compile`: ndgrad runs eagerly, so the model or function comes back unchanged (used as a
    decorator, with or without arguments, too)."""
    if model is None:
        return lambda fn: fn
    return model


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms: `torch.use_deterministic_algorithms` (ndgrad's always are)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be bool, not {type(mode).__name__}")
    _settings.update(deterministic=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    """What `use_deterministic_algorithms` last set: `torch.are_deterministic_algorithms_enabled`."""
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """`torch.is_deterministic_algorithms_warn_only_enabled`."""
    return _settings["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    """'highest', 'high' or 'medium' (TF32 or bfloat16 products on GPUs): `torch.set_float32_matmul_precision`.
    NumPy multiplies float32 matrices in float32 whatever is set; an unknown name warns and changes
    nothing, as in PyTorch."""
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the set_float32_matmul_precision "
                      "call has no effect.", stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """What `set_float32_matmul_precision` last set ('highest' at first): `torch.get_float32_matmul_precision`."""
    return _settings["matmul_precision"]
