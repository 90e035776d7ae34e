"""The primitive ops, one module per family, and the functions built on them."""
from .elementwise import (abs, cast, ceil, clamp, clip, clone, exp, exp2, expm1, fix, floor, frac, log, log1p, log2,
                          log10, neg, reciprocal, round, rsqrt, sign, sqrt, square, tanh, trunc)
from .trigonometry import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan,
                           atan2, atanh, cos, cosh, sin, sinh, tan)
from .activations import erf, gelu, relu, sigmoid, softplus
from .arithmetic import (add, div, divide, floor_divide, fmod, masked_fill, maximum, minimum, mul, multiply, pow,
                         remainder, sub, subtract, true_divide, where)
from .comparison import (allclose, eq, equal, ge, gt, isfinite, isinf, isnan, le, logical_and, logical_not,
                         logical_or, logical_xor, lt, ne)
from .reduction import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min, norm, prod, std,
                        sum, var)
from .softmax import log_softmax, softmax
from .shape import (atleast_2d, broadcast_to, expand, flatten, flip, permute, repeat, reshape, roll, squeeze,
                    swapaxes, tile, transpose, tril, triu, unsqueeze, view)
from .indexing import argwhere, gather, getitem, index_select, nonzero, take_along_dim
from .joining import cat, chunk, concat, concatenate, pad, split, stack, unbind
from .linalg import bmm, dot, linear, matmul, mm, mv
from .einsum import einsum
from .einsum import einsum
from .losses import binary_cross_entropy, softmax_cross_entropy
from .normalization import batch_norm, group_norm, layer_norm
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .windows import fold, unfold
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                      max_pool2d)
from .sorting import argsort, sort, topk
