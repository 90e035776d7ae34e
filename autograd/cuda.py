"""There is no GPU here: `autograd.cuda.is_available()` is False, so PyTorch loops pick "cpu"."""


def is_available():
    return False


def device_count():
    return 0
