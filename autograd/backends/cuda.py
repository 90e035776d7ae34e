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


def flash_sdp_enabled() -> bool:
    """Whether the flash attention kernel may be used (`torch.backends.cuda.flash_sdp_enabled`)."""
    return _sdp_enabled["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    """`torch.backends.cuda.enable_flash_sdp`: recorded, changes nothing here."""
    _sdp_enabled["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    """Whether the memory-efficient attention kernel may be used (`torch.backends.cuda.mem_efficient_sdp_enabled`)."""
    return _sdp_enabled["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """`torch.backends.cuda.enable_mem_efficient_sdp`: recorded, changes nothing here."""
    _sdp_enabled["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    """Whether the math attention kernel may be used (`torch.backends.cuda.math_sdp_enabled`)."""
    return _sdp_enabled["math"]


def enable_math_sdp(enabled: bool) -> None:
    """`torch.backends.cuda.enable_math_sdp`: recorded, changes nothing here."""
    _sdp_enabled["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    """Whether the cuDNN attention kernel may be used (`torch.backends.cuda.cudnn_sdp_enabled`)."""
    return _sdp_enabled["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """`torch.backends.cuda.enable_cudnn_sdp`: recorded, changes nothing here."""
    _sdp_enabled["cudnn"] = bool(enabled)


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
