"""`torch.backends.mps` (Apple's GPUs): not available, so device-picking code falls back to "cpu"."""


def is_available() -> bool:
    """False. As `torch.backends.mps.is_available`."""
    return False


def is_built() -> bool:
    """False. As `torch.backends.mps.is_built`."""
    return False
