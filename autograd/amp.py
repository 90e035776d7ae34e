"""Mixed precision, as torch.amp: `autocast` and `GradScaler`, so that training loops written for
mixed precision run here as PyTorch runs them on a CPU-only machine.

- `autocast("cuda")` (and `GradScaler("cuda")`, the default device) are disabled with PyTorch's
  warning, as PyTorch disables them without CUDA: the loop runs in full precision.
- `autocast("cpu")` would compute matrix products in bfloat16 in PyTorch; NumPy has no bfloat16,
  so ndgrad warns and runs the region in the tensors' own dtypes.
- `GradScaler("cpu")` scales as PyTorch's does: the loss times the scale, the gradients divided by
  it before the step, a step with an inf or NaN gradient skipped and the scale halved (doubled
  after `growth_interval` good steps).
"""
import contextlib
import math
import threading
import warnings

import numpy as np

from .tensor import Tensor

__all__ = ["autocast", "GradScaler", "is_autocast_enabled"]

_state = threading.local()


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """True inside an enabled `autocast` region (of `device_type`, if given): `torch.is_autocast_enabled`."""
    regions = getattr(_state, "regions", [])
    return bool(regions) and regions[-1] is not None and device_type in (None, regions[-1])


class autocast(contextlib.ContextDecorator):
    """A region (context manager or decorator) where PyTorch would compute some ops in lower precision:
    `torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`. See the module docstring
    for what ndgrad does instead."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected device_type of type str, got {type(device_type).__name__}")
        if device_type not in ("cpu", "cuda", "mps", "xpu", "hpu", "xla", "mtia"):
            raise RuntimeError(f"autocast: unsupported device_type {device_type!r}")
        self.device = device_type
        self.fast_dtype = dtype
        if enabled and device_type != "cpu":
            warnings.warn(f"{device_type.upper() if device_type == 'cuda' else device_type} is not available or "
                          "torch_xla is imported. Disabling autocast.", stacklevel=2)
            enabled = False
        elif enabled:
            warnings.warn("autocast('cpu'): ndgrad has no bfloat16 or float16 kernels to autocast to; the region "
                          "runs in the tensors' own dtypes", stacklevel=2)
        self._enabled = enabled

    def __enter__(self):
        if not hasattr(_state, "regions"):
            _state.regions = []
        _state.regions.append(self.device if self._enabled else None)
        return self

    def __exit__(self, *exc):
        _state.regions.pop()
        return False


class GradScaler:
    """Scale the loss so that small float16 gradients do not underflow, and unscale the gradients
    before the optimizer's step: `torch.amp.GradScaler(device="cuda", init_scale=2.**16,
    growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True)`.

        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)            # optional, e.g. to clip the true gradients
        scaler.step(optimizer)                # skipped if a gradient is inf or NaN
        scaler.update()
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        if enabled and device != "cpu":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: the backoff factor must be < 1.0 (and > 0), got {backoff_factor}")
        self._device = device
        self._enabled = enabled
        self._scale = float(np.float32(init_scale))
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer = {}   # id(optimizer) -> {"unscaled": bool, "stepped": bool, "found_inf": bool}

    def is_enabled(self) -> bool:
        """False when disabled (by `enabled=False`, or for a device that is not here)."""
        return self._enabled

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after `growth_interval` steps without an inf or NaN."""
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after a step with an inf or NaN gradient."""
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        """How many good steps in a row make the scale grow."""
        return self._growth_interval

    def scale(self, outputs):
        """`outputs` (a Tensor, or a list/tuple of them) times the scale; unchanged when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(out) for out in outputs)
        raise ValueError("GradScaler.scale: outputs must be a Tensor or an iterable of Tensors")

    def _state_of(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"unscaled": False, "stepped": False, "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of `optimizer`'s parameters by the scale (once per step), noting any inf
        or NaN; e.g. before clip_grad_norm_, which then sees the true gradients."""
        if not self._enabled:
            return
        state = self._state_of(optimizer)
        if state["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stepped"]:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = np.float32(1.0) / np.float32(self._scale)
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad._data
                if grad.flags.writeable:   # in place, as torch: a g = p.grad the caller kept is unscaled too
                    np.multiply(grad, inverse.astype(grad.dtype), out=grad)
                else:
                    grad = grad * inverse.astype(grad.dtype)
                    p.grad = Tensor._make(grad, False, None)
                state["found_inf"] = state["found_inf"] or not np.isfinite(grad).all()
        state["unscaled"] = True

    def step(self, optimizer, *args, **kwargs):
        """`optimizer.step(*args, **kwargs)` on the unscaled gradients, skipped (returning None) if one of
        them is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state_of(optimizer)
        if state["stepped"]:
            raise RuntimeError("step() has already been called since the last update().")
        if not state["unscaled"]:
            self.unscale_(optimizer)
        state["stepped"] = True
        if state["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """Set the scale for the next iteration: `new_scale` if given, else halved (backoff_factor) after
        an inf or NaN, grown (growth_factor) after growth_interval good steps in a row."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        elif any(state["found_inf"] for state in self._per_optimizer.values()):
            self._scale = float(np.float32(self._scale * self._backoff_factor))
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                grown = float(np.float32(self._scale * self._growth_factor))
                if math.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
        self._per_optimizer = {}

    def state_dict(self) -> dict:
        """The scale and its schedule (empty when disabled), as PyTorch's."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict()` gave."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = int(state_dict["_growth_tracker"])
