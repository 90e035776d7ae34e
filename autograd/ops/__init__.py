"""The primitive ops, one module per family, and the functions built on them."""
from .elementwise import (abs, cast, ceil, clamp, clamp_max, clamp_min, clip, clone, exp, exp2, expm1, fix, floor, frac,
                          hardtanh, log, log1p, log2, log10, nan_to_num, neg, positive, reciprocal, round, rsqrt, sign,
                          sqrt, square, tanh, trunc)
from .trigonometry import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan,
                           atan2, atanh, cos, cosh, deg2rad, rad2deg, sin, sinc, sinh, tan)
from .activations import erf, gelu, hardswish, leaky_relu, logit, relu, sigmoid, silu, softplus
from .arithmetic import (add, addcdiv, addcmul, copysign, div, divide, float_power, floor_divide, fmax, fmin, fmod,
                         heaviside, hypot, ldexp, lerp, logaddexp, logaddexp2, masked_fill, maximum, minimum, mul,
                         multiply, pow, remainder, sub, subtract, true_divide, where, xlogy)
from .comparison import (allclose, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                         bitwise_xor, eq, equal, gcd, ge, greater, greater_equal, gt, isclose, isfinite, isin, isinf,
                         isnan, isneginf, isposinf, isreal, lcm, le, less, less_equal, logical_and, logical_not,
                         logical_or, logical_xor, lt, ne, not_equal, signbit)
from .reduction import (all, amax, amin, aminmax, any, argmax, argmin, corrcoef, count_nonzero, cov, cummax, cummin,
                        cumprod, cumsum, diff, logcumsumexp, logsumexp, max, mean, min, nanmean, nansum, norm, prod,
                        std, std_mean, sum, sum_to_size, trapezoid, trapz, var, var_mean)
from .softmax import log_softmax, softmax
from .shape import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, broadcast_to, expand,
                    flatten, flip, fliplr, flipud, moveaxis, movedim, narrow, permute, ravel, repeat, reshape, roll,
                    rot90, squeeze, swapaxes, swapdims, t, tile, transpose, tril, triu, unflatten, unsqueeze, view)
from .indexing import (argwhere, bincount, bucketize, gather, getitem, histc, histogram, index_add, index_copy,
                       index_fill, index_put, index_select, masked_scatter, masked_select, nonzero, put, repeat_interleave, scatter,
                       scatter_add, scatter_reduce, searchsorted, select, take, take_along_dim, unique, unique_consecutive,
                       unravel_index)
from .joining import (block_diag, cartesian_prod, cat, chunk, combinations, column_stack, concat, concatenate, dsplit,
                      dstack, hsplit, hstack, meshgrid, pad, row_stack, split, stack, tensor_split, unbind, vsplit,
                      vstack)
from .decompositions import cholesky, pinverse, qr, svd
from .linalg import (addbmm, addmm, addmv, baddbmm, bmm, cdist, chain_matmul, cross, det, diag, diag_embed, diagflat,
                     diagonal, dist, dot, ger, inner, inverse, kron, linear, logdet, matmul, mm, mv, outer, pdist, slogdet,
                     tensordot, trace, vander, vdot)
from .einsum import einsum
from .special import digamma, erfc, erfinv, lgamma, polygamma
from .losses import binary_cross_entropy, nll, softmax_cross_entropy, softmax_nll
from .recurrent import fused_gru_cell, fused_lstm_cell, hidden_projection
from .normalization import batch_norm, group_norm, layer_norm
from .conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .windows import fold, unfold
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool2d,
                      adaptive_max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d)
from .sorting import argsort, kthvalue, median, mode, msort, nanmedian, nanquantile, quantile, sort, topk

absolute, negative = abs, neg   # NumPy's names (torch has both too)
