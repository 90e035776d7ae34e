"""Every differentiable op once, with the shapes to try it on; the generic tests in test_ops.py
expand this table into forward, gradcheck, gradgradcheck and PyTorch comparisons.

`fn` takes autograd tensors, `torch_fn` the same call on torch tensors (it is also given the
`torch` module), `numpy_fn` (optional) the forward on arrays. `shapes` lists cases, one shape
per input. `domain` bounds the random inputs (log needs positive ones, and so on).
"""
import dataclasses
from typing import Callable, Optional

import numpy as np

import autograd as ag


@dataclasses.dataclass
class OpSpec:
    name: str
    fn: Callable
    torch_fn: Optional[Callable]
    shapes: list
    numpy_fn: Optional[Callable] = None
    domain: tuple = (-2.0, 2.0)
    second_order: bool = True      # run gradgradcheck
    distinct: bool = False          # keep inputs apart (ties make max/abs non-differentiable)


UNARY_SHAPES = [[()], [(1,)], [(3,)], [(2, 3)], [(2, 1, 3)], [(0, 3)]]
BINARY_SHAPES = [[(3,), (3,)], [(2, 3), (3,)], [(2, 1), (1, 3)], [(), (2, 2)], [(2, 3), ()],
                 [(2, 1, 3), (4, 1)], [(0, 3), (3,)], [(1,), (2, 1)]]
REDUCE_SHAPES = [[(3,)], [(2, 3)], [(2, 3, 4)], [(1, 1)]]


def unary(name, fn, torch_fn, numpy_fn=None, **kw):
    return OpSpec(name, fn, torch_fn, UNARY_SHAPES, numpy_fn, **kw)


def binary(name, fn, torch_fn, numpy_fn=None, **kw):
    return OpSpec(name, fn, torch_fn, BINARY_SHAPES, numpy_fn, **kw)


def reduction(name, fn, torch_fn, shapes=REDUCE_SHAPES, **kw):
    return OpSpec(name, fn, torch_fn, shapes, **kw)


def squared(name, fn, torch_fn, shapes, **kw):
    """A row for an op's output squared: the gradient reaching the op then depends on the inputs,
    so gradgradcheck (whose grad_outputs are constants) also differentiates the op's backward in
    its incoming gradient, as the second derivative of a loss through the op needs."""
    return OpSpec(f"{name}_squared", lambda *a: fn(*a) ** 2, lambda t, *a: torch_fn(t, *a) ** 2, shapes, **kw)


OPS = [
    # elementwise
    unary("neg", lambda x: -x, lambda t, x: -x, np.negative),
    unary("exp", ag.exp, lambda t, x: x.exp(), np.exp),
    unary("expm1", ag.expm1, lambda t, x: x.expm1(), np.expm1),
    unary("log", ag.log, lambda t, x: x.log(), np.log, domain=(0.2, 3.0)),
    unary("log1p", ag.log1p, lambda t, x: x.log1p(), np.log1p, domain=(-0.5, 3.0)),
    unary("sqrt", ag.sqrt, lambda t, x: x.sqrt(), np.sqrt, domain=(0.2, 3.0)),
    unary("rsqrt", ag.rsqrt, lambda t, x: x.rsqrt(), lambda x: 1 / np.sqrt(x), domain=(0.2, 3.0)),
    unary("abs", ag.abs, lambda t, x: x.abs(), np.abs, distinct=True),
    unary("sin", ag.sin, lambda t, x: x.sin(), np.sin),
    unary("cos", ag.cos, lambda t, x: x.cos(), np.cos),
    unary("tanh", ag.tanh, lambda t, x: x.tanh(), np.tanh),
    unary("log2", ag.log2, lambda t, x: x.log2(), np.log2, domain=(0.2, 3.0)),
    unary("log10", lambda x: x.log10(), lambda t, x: x.log10(), np.log10, domain=(0.2, 3.0)),
    unary("exp2", ag.exp2, lambda t, x: x.exp2(), np.exp2),
    unary("tan", ag.tan, lambda t, x: x.tan(), np.tan, domain=(-1.2, 1.2)),
    unary("asin", ag.asin, lambda t, x: x.asin(), np.arcsin, domain=(-0.9, 0.9)),
    unary("acos", lambda x: x.acos(), lambda t, x: x.acos(), np.arccos, domain=(-0.9, 0.9)),
    unary("atan", ag.arctan, lambda t, x: x.atan(), np.arctan),
    unary("sinh", ag.sinh, lambda t, x: x.sinh(), np.sinh),
    unary("cosh", ag.cosh, lambda t, x: x.cosh(), np.cosh),
    unary("asinh", ag.asinh, lambda t, x: x.asinh(), np.arcsinh),
    unary("acosh", ag.acosh, lambda t, x: x.acosh(), np.arccosh, domain=(1.2, 3.0)),
    unary("atanh", ag.atanh, lambda t, x: x.atanh(), np.arctanh, domain=(-0.9, 0.9)),
    OpSpec("atan2", ag.atan2, lambda t, y, x: t.atan2(y, x), BINARY_SHAPES, np.arctan2, domain=(0.3, 2.0)),
    OpSpec("atan2_signs", lambda y, x: (y - 1.1).atan2(x - 1.2), lambda t, y, x: (y - 1.1).atan2(x - 1.2),
           [[(3,), (3,)], [(2, 3), (3,)]], lambda y, x: np.arctan2(y - 1.1, x - 1.2), domain=(0.3, 2.0)),
    unary("sigmoid", ag.sigmoid, lambda t, x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    unary("relu", ag.relu, lambda t, x: x.relu(), lambda x: np.maximum(x, 0), distinct=True),
    unary("erf", ag.erf, lambda t, x: x.erf(), None, domain=(-3.0, 3.0)),
    unary("clamp", lambda x: x.clamp(-0.5, 0.7), lambda t, x: x.clamp(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
          distinct=True),
    unary("clamp_min", lambda x: ag.clamp(x, min=0.1), lambda t, x: x.clamp(min=0.1), lambda x: np.maximum(x, 0.1),
          distinct=True),
    unary("square", ag.square, lambda t, x: x.square(), np.square),
    unary("pow_scalar", lambda x: x ** 3, lambda t, x: x ** 3, lambda x: x ** 3),
    unary("pow_fraction", lambda x: x ** 1.5, lambda t, x: x ** 1.5, lambda x: x ** 1.5, domain=(0.2, 3.0)),
    unary("rpow", lambda x: 2.0 ** x, lambda t, x: 2.0 ** x, lambda x: 2.0 ** x),
    unary("scalar_arith", lambda x: (3 - x) * 2 / (x * x + 1) + 0.5,
          lambda t, x: (3 - x) * 2 / (x * x + 1) + 0.5, lambda x: (3 - x) * 2 / (x * x + 1) + 0.5),
    # rounding: zero gradient, as PyTorch
    unary("floor", ag.floor, lambda t, x: x.floor(), np.floor),
    unary("ceil", lambda x: x.ceil(), lambda t, x: x.ceil(), np.ceil),
    unary("round", lambda x: x.round(), lambda t, x: x.round(), np.round),
    unary("round_decimals", lambda x: ag.round(x, decimals=1), lambda t, x: x.round(decimals=1),
          lambda x: np.round(x, 1)),
    unary("trunc", lambda x: x.trunc(), lambda t, x: x.trunc(), np.trunc),
    unary("sign", ag.sign, lambda t, x: x.sign(), np.sign, distinct=True),
    unary("frac", lambda x: x.frac() * x, lambda t, x: x.frac() * x, lambda x: (x - np.trunc(x)) * x),
    unary("floor_times_x", lambda x: x.floor() * x, lambda t, x: x.floor() * x, lambda x: np.floor(x) * x),
    # remainder and floor division (discontinuous where x / y is whole; random inputs stay clear)
    unary("remainder_scalar", lambda x: x % 0.7, lambda t, x: x % 0.7, lambda x: np.remainder(x, 0.7)),
    OpSpec("rremainder", lambda x: 2.5 % x,  # torch has no derivative for scalar % tensor; a 0-d tensor does
           lambda t, x: t.remainder(t.tensor(2.5, dtype=x.dtype), x), UNARY_SHAPES, lambda x: np.remainder(2.5, x),
           domain=(0.3, 2.0)),
    OpSpec("remainder", lambda x, y: x % y, lambda t, x, y: x % y, BINARY_SHAPES, np.remainder, domain=(0.5, 2.0)),
    OpSpec("remainder_signs", lambda x, y: (x - 1.25) % (y - 3), lambda t, x, y: (x - 1.25) % (y - 3),
           BINARY_SHAPES, lambda x, y: np.remainder(x - 1.25, y - 3), domain=(0.5, 2.0)),
    OpSpec("fmod", ag.fmod, lambda t, x, y: t.fmod(x, y), BINARY_SHAPES, np.fmod, domain=(0.5, 2.0)),
    OpSpec("fmod_signs", lambda x, y: (x - 1.25).fmod(y - 3), lambda t, x, y: (x - 1.25).fmod(y - 3),
           BINARY_SHAPES, lambda x, y: np.fmod(x - 1.25, y - 3), domain=(0.5, 2.0)),
    # torch has no derivative for floor_divide (it raises); ours is zero, the derivative of floor(x / y),
    # so torch's forward is compared and its gradient taken as zero.
    OpSpec("floor_divide", lambda x, y: (x - 1.25) // (y - 1.3), lambda t, x, y: ((x - 1.25) // (y - 1.3)).detach()
           + 0 * (x + y), BINARY_SHAPES, lambda x, y: np.floor_divide(x - 1.25, y - 1.3), domain=(0.5, 2.0)),
    # binary, broadcasting
    binary("add", lambda x, y: x + y, lambda t, x, y: x + y, np.add),
    binary("sub", lambda x, y: x - y, lambda t, x, y: x - y, np.subtract),
    binary("mul", lambda x, y: x * y, lambda t, x, y: x * y, np.multiply),
    OpSpec("div", lambda x, y: x / y, lambda t, x, y: x / y, BINARY_SHAPES, np.divide, domain=(0.5, 2.0)),
    OpSpec("pow", lambda x, y: x ** y, lambda t, x, y: x ** y, BINARY_SHAPES, np.power, domain=(0.5, 2.0)),
    binary("maximum", ag.maximum, lambda t, x, y: t.maximum(x, y), np.maximum, distinct=True),
    binary("minimum", ag.minimum, lambda t, x, y: t.minimum(x, y), np.minimum, distinct=True),
    binary("where", lambda x, y: ag.where(x > 0.1, x, y), lambda t, x, y: t.where(x > 0.1, x, y),
           lambda x, y: np.where(x > 0.1, x, y), distinct=True),
    # reductions
    reduction("sum_all", lambda x: x.sum(), lambda t, x: x.sum()),
    reduction("sum_dim", lambda x: x.sum(-1), lambda t, x: x.sum(-1)),
    reduction("sum_keepdim", lambda x: x.sum(0, keepdim=True), lambda t, x: x.sum(0, keepdim=True)),
    reduction("mean_all", lambda x: x.mean(), lambda t, x: x.mean()),
    reduction("mean_dims", lambda x: x.mean((0, -1)), lambda t, x: x.mean((0, -1)),
              shapes=[[(2, 3)], [(2, 3, 4)]]),
    reduction("var", lambda x: x.var(-1), lambda t, x: x.var(-1), shapes=[[(3,)], [(2, 3)], [(2, 3, 4)]]),
    reduction("var_biased", lambda x: x.var(0, unbiased=False), lambda t, x: x.var(0, unbiased=False)),
    reduction("std", lambda x: x.std(), lambda t, x: x.std(), shapes=[[(3,)], [(2, 3)]]),
    reduction("amax", lambda x: x.amax(-1), lambda t, x: x.amax(-1), distinct=True),
    reduction("amin_all", lambda x: x.amin(), lambda t, x: x.amin(), distinct=True),
    reduction("max_dim", lambda x: x.max(0).values, lambda t, x: x.max(0).values, distinct=True),
    reduction("min_dim_keepdim", lambda x: x.min(-1, keepdim=True)[0], lambda t, x: x.min(-1, keepdim=True)[0],
              distinct=True),
    reduction("max_all", lambda x: x.max(), lambda t, x: x.max(), distinct=True),
    reduction("prod", lambda x: x.prod(-1), lambda t, x: x.prod(-1)),
    reduction("logsumexp", lambda x: x.logsumexp(-1), lambda t, x: x.logsumexp(-1)),
    reduction("norm", lambda x: x.norm(), lambda t, x: x.norm()),
    reduction("norm_dim", lambda x: x.norm(dim=-1, keepdim=True), lambda t, x: x.norm(dim=-1, keepdim=True)),
    reduction("norm_p3", lambda x: x.norm(p=3, dim=0), lambda t, x: x.norm(p=3, dim=0)),
    reduction("norm_p1", lambda x: x.norm(p=1), lambda t, x: x.norm(p=1), distinct=True, second_order=False),
    reduction("cumsum", lambda x: x.cumsum(-1), lambda t, x: x.cumsum(-1),
              shapes=REDUCE_SHAPES + [[()], [(0, 3)], [(3, 0)]]),
    reduction("cumsum_dim0", lambda x: ag.cumsum(x * x, 0), lambda t, x: t.cumsum(x * x, 0), shapes=REDUCE_SHAPES),
    reduction("softmax", lambda x: x.softmax(-1), lambda t, x: x.softmax(-1)),
    reduction("softmax_dim0", lambda x: ag.softmax(x, 0), lambda t, x: t.softmax(x, 0)),
    reduction("log_softmax", lambda x: x.log_softmax(-1), lambda t, x: x.log_softmax(-1)),
    # shape
    OpSpec("reshape", lambda x: x.reshape(3, -1), lambda t, x: x.reshape(3, -1), [[(2, 3)], [(3, 2, 2)]]),
    OpSpec("view_flatten", lambda x: x.flatten(1), lambda t, x: x.flatten(1), [[(2, 3, 4)], [(2, 1)]]),
    OpSpec("transpose", lambda x: x.transpose(0, -1), lambda t, x: x.transpose(0, -1), [[(2, 3)], [(2, 3, 4)]]),
    OpSpec("T", lambda x: x.T * 1, lambda t, x: x.T * 1, [[(2, 3)]]),
    OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda t, x: x.permute(2, 0, 1), [[(2, 3, 4)]]),
    OpSpec("squeeze", lambda x: x.squeeze(), lambda t, x: x.squeeze(), [[(1, 3, 1)], [(2, 1)]]),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(-1), lambda t, x: x.unsqueeze(-1), [[(3,)], [()]]),
    OpSpec("expand", lambda x: x.expand(2, -1, 3), lambda t, x: x.expand(2, -1, 3), [[(4, 1)], [(1, 3)]]),
    OpSpec("flip", lambda x: x.flip(0) * x, lambda t, x: x.flip(0) * x, [[()], [(1,)], [(3,)], [(2, 3)], [(0, 2)]]),
    OpSpec("flip_dims", lambda x: x.flip((0, -1)), lambda t, x: x.flip((0, -1)), [[(2, 3)], [(2, 3, 4)], [(1, 1)]]),
    OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda t, x: x.repeat(2, 1, 3),
           [[()], [(1,)], [(3,)], [(2, 3)], [(2, 1, 3)], [(0, 3)]]),
    OpSpec("repeat_zero", lambda x: x.repeat(2, 0), lambda t, x: x.repeat(2, 0), [[(3,)], [(2, 3)]]),
    OpSpec("repeat_squared", lambda x: x.repeat(3, 2) * x.repeat(3, 2), lambda t, x: x.repeat(3, 2) * x.repeat(3, 2),
           [[(2,)], [(2, 2)]]),
    OpSpec("tile", lambda x: ag.tile(x, (2,)), lambda t, x: t.tile(x, (2,)), [[()], [(3,)], [(2, 3)]]),
    OpSpec("roll", lambda x: x.roll(1, 0) * x, lambda t, x: x.roll(1, 0) * x, [[(3,)], [(3, 2)], [(1,)]]),
    OpSpec("roll_dims", lambda x: ag.roll(x, (2, -1), (-1, 0)), lambda t, x: t.roll(x, (2, -1), (-1, 0)),
           [[(2, 3)], [(3, 2, 4)]]),
    OpSpec("roll_flat", lambda x: ag.roll(x, -4), lambda t, x: t.roll(x, -4), [[(2, 3)], [(5,)]]),
    OpSpec("tril", lambda x: x.tril() ** 2, lambda t, x: x.tril() ** 2, [[(3, 3)], [(2, 3, 4)], [(4, 2)]]),
    OpSpec("triu_offset", lambda x: ag.triu(x, 1) * x, lambda t, x: t.triu(x, 1) * x, [[(3, 3)], [(2, 2, 3)]]),
    OpSpec("tril_negative_offset", lambda x: ag.tril(x, -1), lambda t, x: t.tril(x, -1), [[(3, 4)]]),
    # indexing
    OpSpec("getitem_basic", lambda x: x[1:, None, ::2], lambda t, x: x[1:, None, ::2], [[(3, 4)]]),
    OpSpec("getitem_int_ellipsis", lambda x: x[..., 1], lambda t, x: x[..., 1], [[(2, 3, 4)]]),
    OpSpec("getitem_repeated", lambda x: x[[0, 2, 0, 0]], lambda t, x: x[[0, 2, 0, 0]], [[(3, 2)], [(3,)]]),
    OpSpec("getitem_2d_arrays", lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 0])],
           lambda t, x: x[t.tensor([0, 1, 1]), t.tensor([2, 2, 0])], [[(2, 3)]]),
    OpSpec("getitem_bool", lambda x: x[x > 0], lambda t, x: x[x > 0], [[(3, 4)]]),
    OpSpec("getitem_negative", lambda x: x[-1, -2:], lambda t, x: x[-1, -2:], [[(3, 4)]]),
    OpSpec("gather", lambda x: x.gather(1, ag.tensor([[0, 0], [2, 1]])),
           lambda t, x: x.gather(1, t.tensor([[0, 0], [2, 1]])), [[(2, 3)]]),
    OpSpec("scatter", lambda x, s: x.scatter(1, ag.tensor([[2, 0], [1, 2]]), s),
           lambda t, x, s: x.scatter(1, t.tensor([[2, 0], [1, 2]]), s), [[(2, 3), (2, 2)]]),
    OpSpec("scatter_value", lambda x: x.scatter(0, ag.tensor([[1, 0, 1]]), 0.5),
           lambda t, x: x.scatter(0, t.tensor([[1, 0, 1]]), 0.5), [[(2, 3)]]),
    OpSpec("scatter_add", lambda x, s: x.scatter_add(1, ag.tensor([[2, 2], [1, 0]]), s),
           lambda t, x, s: x.scatter_add(1, t.tensor([[2, 2], [1, 0]]), s), [[(2, 3), (2, 2)]]),
    OpSpec("index_add", lambda x, s: x.index_add(0, ag.tensor([1, 1, 0]), s, alpha=-2),
           lambda t, x, s: x.index_add(0, t.tensor([1, 1, 0]), s, alpha=-2), [[(2, 3), (3, 3)], [(2,), (3,)]]),
    OpSpec("index_fill", lambda x: x.index_fill(1, ag.tensor([0, 2]), -1.0),
           lambda t, x: x.index_fill(1, t.tensor([0, 2]), -1.0), [[(2, 3)], [(1, 3, 2)]]),
    OpSpec("index_copy", lambda x, s: x.index_copy(1, ag.tensor([2, 0]), s),
           lambda t, x, s: x.index_copy(1, t.tensor([2, 0]), s), [[(2, 3), (2, 2)]]),
    OpSpec("scatter_in_place", lambda x, s: (x * 1).scatter_(1, ag.tensor([[2], [0]]), s) * x,
           lambda t, x, s: (x * 1).scatter_(1, t.tensor([[2], [0]]), s) * x, [[(2, 3), (2, 1)]]),
    OpSpec("index_add_in_place", lambda x, s: (x * 1).index_add_(0, ag.tensor([1]), s) * x,
           lambda t, x, s: (x * 1).index_add_(0, t.tensor([1]), s) * x, [[(2, 3), (1, 3)]]),
    OpSpec("index_select", lambda x: x.index_select(-1, ag.tensor([2, 0, 2])),
           lambda t, x: x.index_select(-1, t.tensor([2, 0, 2])), [[(3,)], [(2, 3)], [(2, 1, 3)], [(0, 3)]]),
    OpSpec("index_select_dim0", lambda x: ag.index_select(x, 0, ag.tensor([0, 0])),
           lambda t, x: t.index_select(x, 0, t.tensor([0, 0])), [[(1,)], [(1, 3)]]),
    OpSpec("index_select_0d", lambda x: x.index_select(0, ag.tensor([0])) * x,
           lambda t, x: x.index_select(0, t.tensor([0])) * x, [[()]]),
    OpSpec("index_select_0d_index", lambda x: x.index_select(1, ag.tensor(1)),
           lambda t, x: x.index_select(1, t.tensor(1)), [[(2, 3)]]),
    OpSpec("index_select_empty_index", lambda x: x.index_select(0, ag.tensor([], dtype=ag.int64)),
           lambda t, x: x.index_select(0, t.tensor([], dtype=t.int64)), [[(2, 3)]]),
    OpSpec("sort", lambda x: x.sort(-1).values * x, lambda t, x: x.sort(-1).values * x,
           [[()], [(1,)], [(4,)], [(2, 3)], [(0, 3)]], distinct=True),
    OpSpec("sort_descending_dim0", lambda x: ag.sort(x, 0, descending=True)[0],
           lambda t, x: t.sort(x, 0, descending=True)[0], [[(3, 2)], [(2, 1, 3)]], distinct=True),
    OpSpec("topk", lambda x: x.topk(2).values, lambda t, x: x.topk(2).values, [[(3,)], [(2, 4)]], distinct=True),
    OpSpec("topk_smallest_dim0", lambda x: ag.topk(x, 1, dim=0, largest=False)[0] ** 2,
           lambda t, x: t.topk(x, 1, dim=0, largest=False)[0] ** 2, [[(3, 2)], [(1,)], [()]], distinct=True),
    # joining
    OpSpec("cat", lambda x, y: ag.cat([x, y, x], 1), lambda t, x, y: t.cat([x, y, x], 1), [[(2, 3), (2, 1)]]),
    OpSpec("stack", lambda x, y: ag.stack([x, y], -1), lambda t, x, y: t.stack([x, y], -1), [[(2, 3), (2, 3)]]),
    OpSpec("split", lambda x: ag.split(x, 2, 1)[1] * 2, lambda t, x: t.split(x, 2, 1)[1] * 2, [[(2, 5)]]),
    OpSpec("split_sections", lambda x: ag.split(x, [1, 2], 0)[1], lambda t, x: t.split(x, [1, 2], 0)[1], [[(3, 2)]]),
    OpSpec("split_pieces_used_unevenly", lambda x: ag.cat([p * (i + 1) for i, p in enumerate(ag.split(x, 2, -1)[:2])]),
           lambda t, x: t.cat([p * (i + 1) for i, p in enumerate(t.split(x, 2, -1)[:2])]), [[(5,)], [(2, 5)]]),
    OpSpec("chunk", lambda x: ag.chunk(x, 2, 0)[1] * ag.chunk(x, 2, 0)[0], lambda t, x: t.chunk(x, 2, 0)[1] * t.chunk(x, 2, 0)[0],
           [[(4, 3)], [(2,)]]),
    OpSpec("unbind", lambda x: ag.stack(x.unbind(1)[::-2], 0) * 2, lambda t, x: t.stack(x.unbind(1)[::-2], 0) * 2,
           [[(2, 3)], [(2, 4, 2)], [(1, 1)]]),
    OpSpec("unbind_some_unused", lambda x: ag.unbind(x)[0] * ag.unbind(x)[2], lambda t, x: t.unbind(x)[0] * t.unbind(x)[2],
           [[(3,)], [(3, 2)]]),
    OpSpec("pad", lambda x: ag.pad(x, ((1, 0), (0, 2)), value=0.5),
           lambda t, x: t.nn.functional.pad(x, (0, 2, 1, 0), value=0.5), [[(2, 3)]]),
    # linear algebra
    OpSpec("matmul_2d", ag.matmul, lambda t, x, y: x @ y, [[(2, 3), (3, 4)], [(1, 1), (1, 1)]]),
    OpSpec("matmul_batched", ag.matmul, lambda t, x, y: x @ y, [[(2, 2, 3), (3, 4)], [(2, 1, 2, 3), (3, 3, 2)]]),
    OpSpec("matmul_vector", ag.matmul, lambda t, x, y: x @ y, [[(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 2)],
                                                               [(3,), (2, 3, 4)], [(2, 2, 3), (3,)]]),
    OpSpec("mm_method", lambda x, y: x.mm(y), lambda t, x, y: x.mm(y), [[(2, 3), (3, 4)], [(0, 2), (2, 1)]]),
    OpSpec("bmm_method", lambda x, y: x.bmm(y), lambda t, x, y: x.bmm(y), [[(2, 2, 3), (2, 3, 1)]]),
    OpSpec("dot_method", lambda x, y: x.dot(y), lambda t, x, y: x.dot(y), [[(3,), (3,)], [(0,), (0,)]]),
    OpSpec("mv", lambda x, y: x.mv(y), lambda t, x, y: x.mv(y), [[(2, 3), (3,)]]),
    # fused nn ops (each with a backward made of differentiable grad primitives)
    OpSpec("linear", ag.linear, lambda t, x, w, b: t.nn.functional.linear(x, w, b),
           [[(4, 3), (2, 3), (2,)], [(2, 5, 3), (2, 3), (2,)], [(3,), (2, 3), (2,)], [(0, 3), (2, 3), (2,)]]),
    OpSpec("linear_no_bias", ag.linear, lambda t, x, w: t.nn.functional.linear(x, w), [[(4, 3), (2, 3)]]),
    unary("softplus", ag.softplus, lambda t, x: t.nn.functional.softplus(x), lambda x: np.logaddexp(0, x)),
    unary("gelu", ag.gelu, lambda t, x: t.nn.functional.gelu(x), domain=(-4.0, 4.0)),
    OpSpec("softmax_cross_entropy", ag.softmax_cross_entropy, lambda t, x, c: -(c * x.log_softmax(1)).sum(1),
           [[(4, 3), (4, 3)], [(2, 3, 2), (2, 3, 2)], [(1, 1), (1, 1)]]),
    OpSpec("softmax_cross_entropy_scaled", lambda x, c: ag.softmax_cross_entropy(x, c, dim=-1, scale=0.25),
           lambda t, x, c: -(c * x.log_softmax(-1)).sum() * 0.25, [[(4, 3), (4, 3)], [(2, 2, 3), (2, 2, 3)]]),
    OpSpec("binary_cross_entropy", ag.binary_cross_entropy,
           lambda t, x, y: -(y * x.log().clamp(min=-100) + (1 - y) * (1 - x).log().clamp(min=-100)),
           [[(3,), (3,)], [(2, 3), (2, 3)]], domain=(0.05, 0.95)),
    OpSpec("batch_norm", lambda x, w, b: ag.batch_norm(x, w, b, training=True),
           lambda t, x, w, b: t.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
           [[(4, 3), (3,), (3,)], [(2, 3, 2, 2), (3,), (3,)], [(3, 2, 4), (2,), (2,)]]),
    OpSpec("batch_norm_no_affine", lambda x: ag.batch_norm(x, training=True),
           lambda t, x: t.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False), [[(3, 2, 4)], [(5, 2)]]),
    OpSpec("layer_norm", lambda x, w, b: ag.layer_norm(x, 3, w, b), lambda t, x, w, b: t.layer_norm(x, (3,), w, b),
           [[(4, 3), (3,), (3,)], [(2, 2, 3), (3,), (3,)], [(3,), (3,), (3,)]]),
    OpSpec("group_norm", lambda x, w, b: ag.group_norm(x, 2, w, b), lambda t, x, w, b: t.group_norm(x, 2, w, b),
           [[(2, 4, 3), (4,), (4,)], [(3, 2, 2, 2), (2,), (2,)]]),
    OpSpec("layer_norm_2d_weight_only", lambda x, w: ag.layer_norm(x, (2, 3), w),
           lambda t, x, w: t.layer_norm(x, (2, 3), w), [[(2, 2, 3), (2, 3)]]),
    # windows: unfold and fold (im2col and col2im, with torch.nn.functional's arguments)
    OpSpec("unfold", lambda x: ag.unfold(x, 2), lambda t, x: t.nn.functional.unfold(x, 2), [[(1, 2, 3, 3)]]),
    OpSpec("unfold_strided", lambda x: ag.unfold(x, (2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
           lambda t, x: t.nn.functional.unfold(x, (2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
           [[(2, 1, 4, 5)]]),
    OpSpec("fold", lambda x: ag.fold(x, (3, 3), 2),
           lambda t, x: t.nn.functional.fold(x, (3, 3), 2), [[(1, 8, 4)]]),
    squared("unfold", lambda x: ag.unfold(x, 2, 1, 1), lambda t, x: t.nn.functional.unfold(x, 2, padding=1),
            [[(1, 2, 3, 3)]]),
    squared("fold", lambda x: ag.fold(x, (3, 3), 2), lambda t, x: t.nn.functional.fold(x, (3, 3), 2), [[(1, 8, 4)]]),
    OpSpec("fold_strided", lambda x: ag.fold(x, (5, 4), (2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
           lambda t, x: t.nn.functional.fold(x, (5, 4), (2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
           [[(2, 6, 6)]]),
    # convolution: ag.conv2d takes torch.conv2d's arguments
    OpSpec("conv2d", lambda x, w, b: ag.conv2d(x, w, b), lambda t, x, w, b: t.conv2d(x, w, b),
           [[(2, 3, 5, 4), (4, 3, 3, 2), (4,)], [(1, 1, 3, 3), (2, 1, 1, 1), (2,)]]),
    OpSpec("conv2d_stride_padding", lambda x, w: ag.conv2d(x, w, stride=2, padding=1),
           lambda t, x, w: t.conv2d(x, w, stride=2, padding=1), [[(1, 2, 5, 6), (3, 2, 3, 3)]]),
    OpSpec("conv2d_dilation_rect", lambda x, w, b: ag.conv2d(x, w, b, (2, 1), (0, 2), (1, 2)),
           lambda t, x, w, b: t.conv2d(x, w, b, (2, 1), (0, 2), (1, 2)), [[(2, 2, 6, 5), (2, 2, 2, 3), (2,)]]),
    OpSpec("conv2d_groups", lambda x, w, b: ag.conv2d(x, w, b, padding=1, groups=2),
           lambda t, x, w, b: t.conv2d(x, w, b, padding=1, groups=2), [[(2, 4, 4, 3), (6, 2, 3, 3), (6,)]]),
    OpSpec("conv2d_depthwise_same_even_kernel", lambda x, w, b: ag.conv2d(x, w, b, padding="same", groups=3),
           lambda t, x, w, b: t.conv2d(x, w, b, padding="same", groups=3), [[(1, 3, 4, 5), (3, 1, 2, 2), (3,)]]),
    OpSpec("conv2d_unbatched_valid", lambda x, w: ag.conv2d(x, w, padding="valid", dilation=2),
           lambda t, x, w: t.conv2d(x, w, padding="valid", dilation=2), [[(2, 5, 5), (3, 2, 2, 2)]]),
    # the second conv reads the first's channel-major output: the same-size flat-shift im2col/col2im
    OpSpec("conv2d_chain", lambda x, w: ag.conv2d(ag.conv2d(x, w, padding=1), w, padding=(2, 1), dilation=(2, 1)),
           lambda t, x, w: t.conv2d(t.conv2d(x, w, padding=1), w, padding=(2, 1), dilation=(2, 1)),
           [[(2, 2, 4, 5), (2, 2, 3, 3)]]),
    OpSpec("conv1d", lambda x, w, b: ag.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
           lambda t, x, w, b: t.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
           [[(2, 4, 7), (4, 2, 2), (4,)], [(4, 5), (2, 2, 3), (2,)]]),
    # transposed convolution: conv2d's gradient for its input, as an op of its own
    OpSpec("conv_transpose2d", lambda x, w, b: ag.conv_transpose2d(x, w, b, (2, 1), (1, 0), (1, 0), 2, (1, 2)),
           lambda t, x, w, b: t.conv_transpose2d(x, w, b, (2, 1), (1, 0), (1, 0), 2, (1, 2)),
           [[(2, 4, 3, 3), (4, 1, 3, 2), (2,)], [(2, 2, 3), (2, 3, 2, 2), (6,)]]),
    OpSpec("conv_transpose1d", lambda x, w: ag.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2),
           lambda t, x, w: t.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2), [[(2, 2, 4), (2, 3, 3)]]),
    squared("conv2d_groups_stride", lambda x, w, b: ag.conv2d(x, w, b, 2, 1, (1, 2), 2),
            lambda t, x, w, b: t.conv2d(x, w, b, 2, 1, (1, 2), 2), [[(2, 4, 5, 6), (4, 2, 3, 2), (4,)]]),
    squared("conv2d_same", lambda x, w, b: ag.conv2d(x, w, b, padding="same"),
            lambda t, x, w, b: t.conv2d(x, w, b, padding="same"), [[(2, 2, 4, 3), (3, 2, 3, 3), (3,)]]),
    squared("conv_transpose2d", lambda x, w, b: ag.conv_transpose2d(x, w, b, 2, 1, 1, 2),
            lambda t, x, w, b: t.conv_transpose2d(x, w, b, 2, 1, 1, 2), [[(2, 4, 3, 2), (4, 1, 3, 3), (2,)]]),
    # pooling: ag.max_pool2d / ag.avg_pool2d take torch.nn.functional's arguments
    OpSpec("max_pool2d", lambda x: ag.max_pool2d(x, 2), lambda t, x: t.nn.functional.max_pool2d(x, 2),
           [[(2, 3, 4, 6)], [(1, 5, 5)]], distinct=True),
    OpSpec("max_pool2d_overlap_padding_ceil", lambda x: ag.max_pool2d(x, 3, 2, 1, ceil_mode=True),
           lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), [[(1, 2, 6, 5)]], distinct=True),
    OpSpec("max_pool2d_dilation_rect", lambda x: ag.max_pool2d(x, (2, 3), (1, 2), dilation=(2, 1)),
           lambda t, x: t.nn.functional.max_pool2d(x, (2, 3), (1, 2), dilation=(2, 1)), [[(1, 2, 5, 7)]],
           distinct=True),
    OpSpec("max_pool2d_return_indices", lambda x: ag.max_pool2d(x, 3, 2, 1, return_indices=True)[0],
           lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)[0], [[(2, 1, 5, 4)]],
           distinct=True),
    # each window holds both copies of its maximum: the gradient must reach x once, not twice
    OpSpec("max_pool2d_ties", lambda x: ag.max_pool2d(ag.cat([x, x], 2), (4, 2), stride=1),
           lambda t, x: t.nn.functional.max_pool2d(t.cat([x, x], 2), (4, 2), stride=1), [[(1, 2, 3, 3)]],
           distinct=True),
    OpSpec("avg_pool2d", lambda x: ag.avg_pool2d(x, 2), lambda t, x: t.nn.functional.avg_pool2d(x, 2),
           [[(2, 3, 4, 6)], [(1, 5, 5)]]),
    OpSpec("avg_pool2d_padding_ceil", lambda x: ag.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
           lambda t, x: t.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True), [[(1, 2, 6, 5)]]),
    OpSpec("avg_pool2d_exclude_padding_ceil", lambda x: ag.avg_pool2d(x, (3, 2), (2, 1), (1, 1), True, False),
           lambda t, x: t.nn.functional.avg_pool2d(x, (3, 2), (2, 1), (1, 1), True, False), [[(2, 1, 6, 5)]]),
    OpSpec("max_pool1d", lambda x: ag.max_pool1d(x, 3, 2, 1, ceil_mode=True),
           lambda t, x: t.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True), [[(2, 3, 8)], [(2, 6)]], distinct=True),
    OpSpec("avg_pool1d", lambda x: ag.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
           lambda t, x: t.nn.functional.avg_pool1d(x, 3, 2, 1, count_include_pad=False), [[(2, 3, 8)], [(2, 6)]]),
    OpSpec("adaptive_max_pool2d", lambda x: ag.adaptive_max_pool2d(x, (2, 3)),
           lambda t, x: t.nn.functional.adaptive_max_pool2d(x, (2, 3)), [[(2, 2, 5, 4)], [(1, 3, 7)]], distinct=True),
    OpSpec("adaptive_avg_pool2d", lambda x: ag.adaptive_avg_pool2d(x, (3, 2)),
           lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (3, 2)), [[(2, 2, 5, 4)], [(1, 2, 3)]]),
    OpSpec("adaptive_avg_pool1d", lambda x: ag.adaptive_avg_pool1d(x, 3),
           lambda t, x: t.nn.functional.adaptive_avg_pool1d(x, 3), [[(2, 2, 7)]]),
    squared("max_pool2d_overlap_padding_ceil", lambda x: ag.max_pool2d(x, 3, 2, 1, ceil_mode=True),
            lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), [[(1, 2, 6, 5)]], distinct=True),
    squared("max_pool2d_ties", lambda x: ag.max_pool2d(ag.cat([x, x], 2), (4, 2), stride=1),
            lambda t, x: t.nn.functional.max_pool2d(t.cat([x, x], 2), (4, 2), stride=1), [[(1, 2, 3, 3)]],
            distinct=True),
    squared("avg_pool2d_exclude_padding_ceil", lambda x: ag.avg_pool2d(x, 3, 2, 1, True, False),
            lambda t, x: t.nn.functional.avg_pool2d(x, 3, 2, 1, True, False), [[(2, 1, 6, 5)]]),
    OpSpec("avg_pool2d_divisor_override", lambda x: ag.avg_pool2d(x, 2, 1, divisor_override=3),
           lambda t, x: t.nn.functional.avg_pool2d(x, 2, 1, divisor_override=3), [[(1, 2, 4, 5)]]),
]
