"""einsum: Einstein summation over any number of operands, as torch.einsum.

The equation is first made explicit: `...` becomes letters of its own (right-aligned, so ellipsis
dims broadcast) and an implicit output (no `->`) becomes the letters seen once, sorted, after the
ellipsis dims. A labelled dim of size 1 broadcasts against the same label elsewhere, as in PyTorch.

The gradient of an operand is itself an einsum: of the output's gradient with the other
operands, to the operand's distinct letters. Two cases need more than that: a letter found in no
other operand and not in the output was summed over, so its gradient is broadcast back along it;
and a letter repeated within the operand (`ii->i`, a diagonal) gets its gradient on the diagonal
only, an einsum with identity matrices. Every step is an einsum or a shape op, so the gradient is
differentiable again.
"""
import functools
import math
import string

import numpy as np

from ..broadcasting import expand, sum_to
from ..errors import ArgumentError, DTypeError, ShapeError
from ..function import Primitive
from ..tensor import Tensor
from .elementwise import constant

LETTERS = string.ascii_letters  # torch's sublist integers 0..51 name a-z, then A-Z


class Einsum(Primitive):
    """The einsum of explicit `inputs` subscripts (one string per operand) to `output`."""
    @staticmethod
    def forward(ctx, *operands, inputs, output):
        ctx.inputs, ctx.output_letters = inputs, output
        ctx.save_for_backward(*operands)
        equation = ",".join(inputs) + "->" + output
        return np.asarray(np.einsum(equation, *operands, optimize=_worth_optimizing(inputs, operands)))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return tuple(_operand_grad(grad, operands, ctx.inputs, ctx.output_letters, k)
                     if ctx.needs_input_grad[k] else None for k in range(len(operands)))


def _worth_optimizing(inputs, operands):
    """Whether to let NumPy plan the contraction (pairwise, through BLAS): it costs some 50 us a call, and
    pays once there are more than two operands or the plain loop over all letters is long (attention scores
    "bid,bjd->bij" of 8 x 64 x 32: 127 us planned, 522 us not; a dot of 1000 elements: 50 us planned, 2 us
    not)."""
    if len(operands) > 2:
        return True
    sizes = {}
    for subscripts, operand in zip(inputs, operands):
        sizes.update(zip(subscripts, operand.shape))
    return len(operands) == 2 and math.prod(sizes.values()) > 10_000


def _operand_grad(grad, operands, inputs, output, k):
    """The gradient of operand k, as an einsum of `grad` and the other operands (see the module doc)."""
    own = inputs[k]
    distinct = "".join(dict.fromkeys(own))
    elsewhere = set(output).union(*(inputs[j] for j in range(len(inputs)) if j != k))
    kept = "".join(letter for letter in distinct if letter in elsewhere)
    others = [j for j in range(len(operands)) if j != k]
    g = Einsum.apply(grad, *(operands[j] for j in others), inputs=(output, *(inputs[j] for j in others)),
                     output=kept)
    own_size = dict(zip(own, operands[k].shape))
    g = sum_to(g, tuple(own_size[letter] for letter in kept))   # labels that broadcast from size 1
    if kept != distinct:   # letters summed within this operand alone: the gradient is the same along them
        g = g.reshape(tuple(own_size[letter] if letter in kept else 1 for letter in distinct))
        g = expand(g, tuple(own_size[letter] for letter in distinct))
    if distinct != own:
        g = _on_diagonals(g, distinct, own, "".join(inputs) + output)
    return g


def _on_diagonals(g, distinct, own, used):
    """g (one dim per distinct letter) placed on the diagonals of an operand whose subscripts `own`
    repeat letters, zero elsewhere: each repeat gets a fresh letter tied to the first by an identity."""
    fresh = iter(letter for letter in LETTERS if letter not in used)
    renamed, identities, seen = [], [], set()
    for letter, size in zip(own, _sizes_of(g, distinct, own)):
        if letter in seen:
            new = next(fresh)
            identities.append((letter + new, constant(np.eye(size, dtype=g.dtype))))
            renamed.append(new)
        else:
            seen.add(letter)
            renamed.append(letter)
    return Einsum.apply(g, *(eye for _, eye in identities), inputs=(distinct, *(s for s, _ in identities)),
                        output="".join(renamed))


def _sizes_of(g, distinct, own):
    size = dict(zip(distinct, g.shape))
    return [size[letter] for letter in own]


# -- parsing ------------------------------------------------------------------------------------

def _sublist_equation(args):
    """torch.einsum(op1, [0, 1], op2, [1, 2], [0, 2]): the equation string and the operands."""
    def letters(sublist):
        out = ""
        for item in sublist:
            if item is Ellipsis:
                out += "..."
            elif isinstance(item, (int, np.integer)) and 0 <= item < len(LETTERS):
                out += LETTERS[item]
            else:
                raise ArgumentError(f"einsum(): subscript in a sublist must be an int in [0, 52) or ..., got {item!r}")
        return out
    operands, subscripts = list(args[0::2]), list(args[1::2])
    output = None
    if len(subscripts) < len(operands):   # an odd count: the last sublist is the output's
        output = letters(operands.pop()) if not isinstance(operands[-1], Tensor) else None
    equation = ",".join(letters(s) for s in subscripts)
    return equation + ("" if output is None else "->" + output), operands


def _parse(equation, shapes):
    """(explicit input subscripts, explicit output subscripts) of `equation` for operands of `shapes`."""
    equation = equation.replace(" ", "")
    for i, char in enumerate(equation):
        if char not in LETTERS and char not in ".,->":
            raise ArgumentError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                                "subscripts must be in [a-zA-Z]")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise ArgumentError(f"einsum(): fewer operands were provided ({len(shapes)}) than specified in the "
                            f"equation {equation!r} ({len(terms)})")
    if len(terms) < len(shapes):
        raise ArgumentError(f"einsum(): more operands were provided ({len(shapes)}) than specified in the "
                            f"equation {equation!r} ({len(terms)})")
    for term in terms + ([rhs] if arrow else []):
        if term.replace("...", "", 1).count(".") or term.count("...") > 1:
            raise ArgumentError(f"einsum(): found '.' that is not part of a single ellipsis ('...') in {term!r}")
    ellipsis_dims = 0
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        labels = len(term.replace("...", ""))
        if "..." not in term and labels != len(shape):
            raise ShapeError(f"einsum(): the number of subscripts in the equation ({labels}) does not match the "
                             f"number of dimensions ({len(shape)}) for operand {k} and no ellipsis was given")
        if labels > len(shape):
            raise ShapeError(f"einsum(): the number of subscripts in the equation ({labels}) is more than the "
                             f"number of dimensions ({len(shape)}) for operand {k}")
        ellipsis_dims = max(ellipsis_dims, len(shape) - labels)
    named = set(lhs.replace(",", "").replace(".", ""))
    spare = [letter for letter in LETTERS if letter not in named]
    if ellipsis_dims > len(spare):
        raise ArgumentError(f"einsum(): the equation uses too many dims: {ellipsis_dims} under the ellipsis and "
                            f"{len(named)} letters, more than the 52 letters a-zA-Z")
    broadcast = "".join(spare[:ellipsis_dims])
    # each operand's ellipsis covers its dims not named, the last of the broadcast letters (right-aligned)
    inputs = [term.replace("...", broadcast[len(broadcast) - (len(shape) - len(term) + 3):])
              for term, shape in zip(terms, shapes)]
    if arrow:
        output = rhs.replace("...", broadcast)
        for letter in rhs.replace(".", ""):
            if rhs.count(letter) > 1:
                raise ArgumentError(f"einsum(): output subscript {letter} appears more than once in the output")
            if letter not in named:
                raise ArgumentError(f"einsum(): output subscript {letter} does not appear in the equation for any "
                                    "input operand")
    else:
        counts = lhs.replace(",", "").replace(".", "")
        output = broadcast + "".join(sorted(letter for letter in named if counts.count(letter) == 1))
    return inputs, output


def _check_sizes(inputs, shapes):
    """PyTorch's rules: a letter repeated within one operand has one size there; across operands sizes
    agree or are 1 (broadcast)."""
    seen = {}
    for k, (subscripts, shape) in enumerate(zip(inputs, shapes)):
        own = {}
        for letter, n in zip(subscripts, shape):
            if letter in own and own[letter] != n:
                raise ShapeError(f"einsum(): subscript {letter} is repeated for operand {k} but the sizes don't "
                                 f"match, {n} != {own[letter]}")
            own[letter] = n
        for letter, n in own.items():
            if letter in seen and n != seen[letter] and 1 not in (n, seen[letter]):
                raise ShapeError(f"einsum(): subscript {letter} has size {n} for operand {k} which does not "
                                 f"broadcast with previously seen size {seen[letter]} (shapes "
                                 f"{', '.join(str(s) for s in shapes)})")
            seen[letter] = n if letter not in seen or seen[letter] == 1 else seen[letter]


def einsum(*args) -> Tensor:
    """Einstein summation, as `torch.einsum`: `einsum("ij,jk->ik", a, b)`, `einsum("ij,jk", [a, b])`, or the
    sublist form `einsum(a, [0, 1], b, [1, 2], [0, 2])`.

    Letters a-zA-Z name dims; `...` stands for the dims not named (they broadcast); without `->` the
    output is the letters used once, in alphabetical order, after the ellipsis dims. A letter repeated
    within one operand takes its diagonal (`"ii->i"`, `"ii"` is the trace). Differentiable any number of
    times: each operand's gradient is an einsum too. The operands must share one dtype, as in PyTorch.
    """
    if not args:
        raise ArgumentError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise ArgumentError("einsum(): must provide at least one operand")
    for k, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, got {type(operand).__name__}")
    dtypes = {o.dtype for o in operands}
    if len(dtypes) > 1:
        raise DTypeError(f"einsum(): the operands must have the same dtype, got "
                         f"{', '.join(str(o.dtype) for o in operands)} (convert them with .to(dtype))")
    inputs, output = _explicit(equation, tuple(o.shape for o in operands))
    return Einsum.apply(*operands, inputs=inputs, output=output)


@functools.lru_cache(maxsize=256)
def _explicit(equation, shapes):
    """The checked explicit form of `equation` for operands of `shapes`; a model calls the same few
    equations on the same shapes every step, so each is parsed once (parsing cost 3x NumPy's dot of 1000)."""
    inputs, output = _parse(equation, shapes)
    _check_sizes(inputs, shapes)
    return tuple(inputs), output
