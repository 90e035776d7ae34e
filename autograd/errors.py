"""Error classes, and the helpers that word their messages, in one place.

Where PyTorch raises RuntimeError for a bad shape, dtype or argument value, our classes derive
from both the Python exception that describes the problem (ValueError, TypeError) and
RuntimeError, so both `except ValueError` and PyTorch-style `except RuntimeError` catch them.
"""


class GradcheckError(AssertionError):
    """Raised by gradcheck/gradgradcheck when analytical and numerical gradients differ."""


class ShapeError(ValueError, RuntimeError):
    """An op was given operands whose shapes do not fit together."""


class DTypeError(TypeError, RuntimeError):
    """A tensor has a dtype the op cannot take (requires_grad on an integer tensor, a float index)."""


class ArgumentError(ValueError, RuntimeError):
    """An argument has a value the op cannot take (a dim named twice, a non-positive size...)."""


class IndexRangeError(IndexError, RuntimeError):
    """An index outside its dim, where PyTorch raises RuntimeError (index_select) rather than IndexError."""


class DivisionByZeroError(ZeroDivisionError, RuntimeError):
    """Integer division (// or %) by zero; PyTorch raises a RuntimeError saying ZeroDivisionError."""


def shape_error(op, message, *shapes):
    """A ShapeError that names the op and the shapes involved: 'matmul: cannot ... (3, 4) and (5, 2)'."""
    return ShapeError(f"{op}: {message}" + ("" if not shapes else " (shapes " + ", ".join(str(tuple(s)) for s in shapes) + ")"))


def broadcast_error(op, x_shape, y_shape):
    """The ShapeError for `op` given two shapes that do not broadcast, naming both."""
    return ShapeError(
        f"{op}: shapes {tuple(x_shape)} and {tuple(y_shape)} cannot be broadcast together "
        "(trailing dimensions must be equal or 1)")


def freed_graph_error(node):
    """The RuntimeError for a second backward through `node` after its saved values were freed, saying to
    pass retain_graph=True."""
    return RuntimeError(
        f"Trying to backward through the graph a second time (op {node.name()}): its saved values were "
        "freed after the first backward. Pass retain_graph=True to the first backward (or autograd.grad) "
        "if you need to backward through it again.")
