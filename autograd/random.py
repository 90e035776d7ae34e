"""`autograd.random`, as `torch.random`: the global generator's seeding and state functions under the
module name client code also reaches them by (`torch.random.manual_seed(0)`), and `fork_rng`."""
import contextlib

from .creation import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Run the block with the global generator's state saved and restored on exit (so draws inside
    it do not change what is drawn after it): `torch.random.fork_rng`. `devices` and `device_type`
    name accelerators' generators; there are none here (only "cpu" is accepted)."""
    if device_type not in (None, "cpu"):
        from .creation import check_device
        check_device(device_type)
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
