"""NumPy's `axis=` accepted wherever torch accepts it as another name for `dim=`: torch's argument
parser takes `x.sum(axis=1)`, `torch.cat(ts, axis=1)`, `x.max(axis=1)`, and code written by NumPy
users relies on it. The reductions, sorts and joins below get the alias in one place (tensor methods
from tensor.py, functions from the package's __init__)."""
import functools
import inspect

# The names torch's parser gives an `axis` alias (checked against torch 2.x); only those with a
# `dim` parameter here are wrapped.
AXIS_NAMES = ("sum", "mean", "std", "var", "amax", "amin", "max", "min", "argmax", "argmin", "any", "all", "prod",
              "softmax", "log_softmax", "median", "logsumexp", "squeeze", "unsqueeze", "cumsum", "cumprod", "nansum",
              "count_nonzero", "argsort", "sort", "topk", "gather", "split", "chunk", "unbind", "cat", "concat",
              "concatenate", "stack", "std_mean", "var_mean", "nanmean")


def with_axis_alias(fn):
    """`fn`, also taking `axis=` for `dim=` (both at once is an error, as in torch)."""
    @functools.wraps(fn)
    def taking_axis(*args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'")
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)
    taking_axis.takes_axis = True
    return taking_axis


def add_axis_alias(namespace):
    """Wrap the AXIS_NAMES found in `namespace` (a class, or a module's globals dict) that take `dim`."""
    get = namespace.get if isinstance(namespace, dict) else lambda name: namespace.__dict__.get(name)
    for name in AXIS_NAMES:
        fn = get(name)
        if fn is None or getattr(fn, "takes_axis", False):
            continue
        try:
            takes_dim = "dim" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        if takes_dim:
            if isinstance(namespace, dict):
                namespace[name] = with_axis_alias(fn)
            else:
                setattr(namespace, name, with_axis_alias(fn))
