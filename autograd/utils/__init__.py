"""`autograd.utils`, as `torch.utils`: `checkpoint` (activation checkpointing), and `data`, which is
`nn.data` (so `torch.utils.data.DataLoader` written through the library's name runs after the import swap)."""
from . import checkpoint  # noqa: F401


def __getattr__(name):
    if name == "data":  # imported on first use: nn is built on autograd and imports it
        import nn.data
        return nn.data
    raise AttributeError(f"module 'autograd.utils' has no attribute {name!r}")
