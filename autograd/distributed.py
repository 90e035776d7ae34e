"""`autograd.distributed`, as much of `torch.distributed` as single-process code asks about: it is not
available (ndgrad runs in one process), so helpers written as `if dist.is_available() and
dist.is_initialized(): ...` take their single-process path."""

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """False: there is no distributed backend (`torch.distributed.is_available`)."""
    return False


def is_initialized() -> bool:
    """False: no process group is ever initialised (`torch.distributed.is_initialized`)."""
    return False
