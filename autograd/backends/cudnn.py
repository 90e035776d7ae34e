"""`torch.backends.cudnn` without cuDNN: the flags scripts set (deterministic, benchmark) are kept
and change nothing."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: there is no cuDNN here. As `torch.backends.cudnn.is_available`."""
    return False


def version():
    """None: there is no cuDNN here. As `torch.backends.cudnn.version`."""
    return None
