"""`torch.backends.cuda`: no CUDA here; `matmul.allow_tf32` and friends are kept and change nothing."""
import contextlib
import warnings
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    """False. As `torch.backends.cuda.is_built`."""
    return False


# Which scaled_dot_product_attention kernels PyTorch may pick. ndgrad has one (the math one), so the
# flags are kept for code that sets or reads them (`with sdp_kernel(enable_flash=False)`) and change nothing.
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_flag(name, kernel):
    """The getter and setter pair of one kernel's flag (`flash_sdp_enabled`, `enable_flash_sdp`, ...)."""
    def enabled() -> bool:
        return _sdp_enabled[name]

    def enable(flag: bool) -> None:
        _sdp_enabled[name] = bool(flag)
    enabled.__name__, enable.__name__ = f"{name}_sdp_enabled", f"enable_{name}_sdp"
    enabled.__doc__ = f"Whether the {kernel} attention kernel may be used (`torch.backends.cuda.{enabled.__name__}`)."
    enable.__doc__ = f"`torch.backends.cuda.{enable.__name__}`: recorded, changes nothing here."
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp_flag("flash", "flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_flag("mem_efficient", "memory-efficient")
math_sdp_enabled, enable_math_sdp = _sdp_flag("math", "math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_flag("cudnn", "cuDNN")


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True):
    """The older `torch.backends.cuda.sdp_kernel` (deprecated, with torch's warning): the kernel flags
    set for the block and restored after it."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    with sdp_flags(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn):
        yield


@contextlib.contextmanager
def sdp_flags(**enabled):
    """The kernel flags given (flash=, math=, mem_efficient=, cudnn=) for the block, restored after it."""
    saved = dict(_sdp_enabled)
    _sdp_enabled.update({name: bool(value) for name, value in enabled.items()})
    try:
        yield
    finally:
        _sdp_enabled.update(saved)
