"""Whether operations are being recorded: no_grad / enable_grad (thread-local), and detect_anomaly.

Each thread has its own flags, as in PyTorch, so a data-loading thread under no_grad does not
switch recording off for the training loop.
"""
import contextlib
import functools
import threading


class _State(threading.local):
    grad_enabled = True
    anomaly = False
    inference = False
    in_backward = False   # the engine is running backward formulas (autograd/inplace.py skips view upkeep)
    quiet_context = None  # the context built-in ops' forwards run in (autograd/function.py)


_state = _State()


def is_grad_enabled() -> bool:
    """True if ops are being recorded in this thread (not under `no_grad`): `torch.is_grad_enabled`."""
    return _state.grad_enabled


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly` (or after `set_detect_anomaly(True)`) in this thread."""
    return _state.anomaly


class _GradModeSwitch(contextlib.ContextDecorator):
    """A context manager and decorator that sets grad mode on entry and restores it on exit."""
    enabled = True

    def __new__(cls, *args, **kwargs):
        # `@no_grad` without parentheses decorates too, as in PyTorch.
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._previous = _state.grad_enabled
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        _state.grad_enabled = self._previous
        return False

    def __call__(self, func):
        """Used as a decorator: run `func` in this mode."""
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeSwitch):
    """Do not record operations: results have requires_grad=False and no grad_fn: `torch.no_grad`.

    A context manager (`with autograd.no_grad():`) or a decorator (`@autograd.no_grad()` or
    `@autograd.no_grad`); for evaluation loops and in-place parameter updates. Thread-local.
    """
    enabled = False


class enable_grad(_GradModeSwitch):
    """Record operations again inside a `no_grad` block (context manager or decorator): `torch.enable_grad`."""
    enabled = True


class inference_mode(_GradModeSwitch):
    """`torch.inference_mode`: here the same as `no_grad` (`inference_mode(False)` changes nothing).
    PyTorch also forbids using tensors made inside it in a graph later; we do not track that."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = (_state.grad_enabled, _state.inference)
        if self.mode:
            _state.grad_enabled = False
            _state.inference = True

    def __exit__(self, *exc):
        _state.grad_enabled, _state.inference = self._previous
        return False

    def __call__(self, func):
        """Used as a decorator: run `func` in this mode."""
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return func(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()` in this thread: `torch.is_inference_mode_enabled`."""
    return _state.inference


class set_grad_enabled(_GradModeSwitch):
    """Turn recording on or off, as a call, a context manager or a decorator: `torch.set_grad_enabled`.

    `set_grad_enabled(False)` called plainly switches recording off until switched back on; `with
    set_grad_enabled(mode):` and `@set_grad_enabled(mode)` restore the previous mode afterwards.
    """
    def __init__(self, mode):
        self.enabled = bool(mode)
        self._before_call = _state.grad_enabled
        _state.grad_enabled = self.enabled  # takes effect as a plain call too, as in PyTorch

    def __enter__(self):
        self._previous = self._before_call
        _state.grad_enabled = self.enabled

    def __call__(self, func):
        """Used as a decorator: run `func` in this mode."""
        enabled = self.enabled
        _state.grad_enabled = self._before_call  # as a decorator it only applies inside func

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(enabled):
                return func(*args, **kwargs)
        return wrapper


class detect_anomaly(contextlib.ContextDecorator):
    """Record where each op was created, and make backward raise at the first op whose
    gradient contains NaN or Inf, naming the op and that line of user code:
    `torch.autograd.detect_anomaly`. A context manager or a decorator; slows every op down, so
    use it to find a NaN, not to train. `check_nan=False` records creation sites only."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = _state.anomaly
        _state.anomaly = self.check_nan

    def __exit__(self, *exc):
        _state.anomaly = self._previous
        return False


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for this thread, as a plain call: `torch.autograd.set_detect_anomaly`."""
    _state.anomaly = bool(mode)


