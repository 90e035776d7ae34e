"""`autograd.utils`, as `torch.utils`: `checkpoint` (activation checkpointing). The data utilities of
`torch.utils.data` are `nn.data`."""
from . import checkpoint  # noqa: F401
