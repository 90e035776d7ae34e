"""There is no GPU here: `autograd.cuda.is_available()` is False, so PyTorch loops pick "cpu"."""


def is_available():
    """False: there is no GPU. As `torch.cuda.is_available`."""
    return False


def device_count():
    """0: there is no GPU. As `torch.cuda.device_count`."""
    return 0
