"""The primitive ops, one module per family, and the functions built on them."""
from .elementwise import (abs, cast, clamp, clip, clone, cos, erf, exp, expm1, log, log1p, neg, reciprocal,
                          relu, rsqrt, sigmoid, sign, sin, sqrt, square, tanh)
from .arithmetic import (add, div, divide, masked_fill, maximum, minimum, mul, multiply, pow, sub, subtract,
                         true_divide, where)
from .comparison import (allclose, eq, equal, ge, gt, isfinite, isinf, isnan, le, logical_and, logical_not,
                         logical_or, logical_xor, lt, ne)
from .reduction import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum,
                        var)
from .softmax import log_softmax, softmax
from .shape import (atleast_2d, broadcast_to, expand, flatten, permute, reshape, squeeze, swapaxes, transpose,
                    unsqueeze, view)
from .indexing import gather, getitem, take_along_dim
from .joining import cat, chunk, concat, concatenate, pad, split, stack
from .linalg import bmm, dot, matmul, mm
from .windows import fold, unfold
