"""`autograd.jit`, as `torch.jit`, for the model code that mentions TorchScript: `script` and `trace`
give back what they are given (ndgrad runs eagerly; as `ag.compile`), the decorators `ignore`,
`unused` and `export` leave the function as it is, `is_scripting()` / `is_tracing()` are False, and
`Final` / `annotate` are the typing helpers TorchScript reads (timm's `fused_attn: Final[bool]`)."""
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

__all__ = ["Final", "annotate", "export", "ignore", "is_scripting", "is_tracing", "script", "trace", "unused"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """`obj` (a function or module) unchanged: `torch.jit.script` without the compiler."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """`func` (a function or module) unchanged: `torch.jit.trace` without the recording; it runs as it is."""
    return func


def ignore(drop=False, **kwargs):
    """The decorator `@torch.jit.ignore` or `@torch.jit.ignore(drop=True)`: the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """The decorator `@torch.jit.unused`: the function unchanged."""
    return fn


def export(fn):
    """The decorator `@torch.jit.export`: the function unchanged."""
    return fn


def is_scripting() -> bool:
    """False: code never runs under TorchScript here (`torch.jit.is_scripting`)."""
    return False


def is_tracing() -> bool:
    """False: code is never being traced here (`torch.jit.is_tracing`)."""
    return False


def annotate(the_type, the_value):
    """`the_value`: TorchScript's type hint for it means nothing eagerly (`torch.jit.annotate`)."""
    return the_value
