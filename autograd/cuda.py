"""There is no GPU here: `autograd.cuda.is_available()` is False, so PyTorch loops pick "cpu"."""
from types import SimpleNamespace


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


def _cuda_grad_scaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                      enabled=True):
    """`torch.cuda.amp.GradScaler(...)`: `autograd.amp.GradScaler("cuda", ...)`, disabled here."""
    return _amp.GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def _cuda_autocast(enabled=True, dtype=None, cache_enabled=True):
    """`torch.cuda.amp.autocast(...)`: `autograd.amp.autocast("cuda", ...)`, disabled here."""
    return _amp.autocast("cuda", dtype, enabled, cache_enabled)


from . import amp as _amp  # noqa: E402  (amp needs the Tensor class, imported after this module's functions)

# torch.cuda.amp's two names, PyTorch's older spelling of torch.amp's with device "cuda"
amp = SimpleNamespace(GradScaler=_cuda_grad_scaler, autocast=_cuda_autocast)
