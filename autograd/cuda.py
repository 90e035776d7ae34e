"""There is no GPU here: `autograd.cuda.is_available()` is False, so PyTorch loops pick "cpu"."""


def is_available():
    """False: there is no GPU. As `torch.cuda.is_available`."""
    return False


def device_count():
    """0: there is no GPU. As `torch.cuda.device_count`."""
    return 0


def manual_seed(seed) -> None:
    """Seed the generators of the GPUs, of which there are none: does nothing, as `torch.cuda.manual_seed`
    does without CUDA (`autograd.manual_seed` seeds the CPU generator)."""


def manual_seed_all(seed) -> None:
    """As `manual_seed`: does nothing here. As `torch.cuda.manual_seed_all`."""


def empty_cache() -> None:
    """Free cached GPU memory: there is none, so nothing to do. As `torch.cuda.empty_cache`."""
