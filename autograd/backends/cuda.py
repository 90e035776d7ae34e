"""`torch.backends.cuda`: no CUDA here; `matmul.allow_tf32` and friends are kept and change nothing."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    """False. As `torch.backends.cuda.is_built`."""
    return False
