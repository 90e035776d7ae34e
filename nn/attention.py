"""`nn.attention`, as `torch.nn.attention`: `SDPBackend` and the `sdpa_kernel` context manager that
chooses which scaled_dot_product_attention kernels PyTorch may use. ndgrad has one kernel (the math
one, in F.scaled_dot_product_attention), so the choice is recorded in `autograd.backends.cuda`'s
flags for the block, where code reads it, and changes no result."""
import contextlib
import enum

import autograd as ag

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The attention kernels, as `torch.nn.attention.SDPBackend`."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_FLAGS = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash", SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
          SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Only `backends` (one SDPBackend or a list) enabled in the block, as `torch.nn.attention.sdpa_kernel`."""
    backends = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for backend in backends:
        if not isinstance(backend, SDPBackend):
            raise TypeError(f"sdpa_kernel: expected SDPBackend values, got {backend!r}")
    chosen = {_FLAGS[b] for b in backends if b in _FLAGS}
    with ag.backends.cuda.sdp_flags(**{name: name in chosen for name in _FLAGS.values()}):
        yield
