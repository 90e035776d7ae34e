"""`autograd.accelerator`, as `torch.accelerator`: there is none (ndgrad runs on NumPy), so the
official tutorials' device line, `torch.accelerator.current_accelerator().type if
torch.accelerator.is_available() else "cpu"`, picks the CPU."""

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: no accelerator (`torch.accelerator.is_available`)."""
    return False


def current_accelerator(check_available: bool = False):
    """None: no accelerator (`torch.accelerator.current_accelerator`)."""
    return None


def device_count() -> int:
    """0 (`torch.accelerator.device_count`)."""
    return 0
