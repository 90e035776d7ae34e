"""Functions and methods PyTorch client code calls (addmm family, addcmul/addcdiv/lerp, repeat_interleave,
masked_select, clamp_min/max, select, narrow, unflatten, t, logit, kthvalue, aminmax, var_mean/std_mean,
cummax/cummin, logcumsumexp): values, dtypes and shapes as torch's, gradients by gradcheck and
gradgradcheck in float64 and against torch's, and clear errors."""
import numpy as np
import pytest

import autograd as ag
from torch_cases import torch_case_tests
from autograd.errors import ArgumentError, DTypeError, IndexRangeError, ShapeError

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def distinct(*shape):
    """float64 values without ties (so max/sort-like ops pick the same element in both libraries)."""
    return rng.permutation(np.prod(shape, dtype=int)).reshape(shape) / 7.0 - 1.0


def probabilities(*shape):
    return rng.uniform(0.05, 0.95, shape)


# name -> (fn(lib, *inputs) -> a tensor or a tuple whose first item is differentiable, float64 inputs)
CASES = {
    "addmm": (lambda lib, i, a, b: lib.addmm(i, a, b), [distinct(2, 4), distinct(2, 3), distinct(3, 4)]),
    "addmm_beta_alpha_broadcast": (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0.5, alpha=-2.0),
                                   [distinct(4), distinct(2, 3), distinct(3, 4)]),
    "addmm_method": (lambda lib, i, a, b: i.addmm(a, b, alpha=3), [distinct(2, 4), distinct(2, 3), distinct(3, 4)]),
    "addmv": (lambda lib, i, a, v: lib.addmv(i, a, v, beta=2.0), [distinct(2), distinct(2, 3), distinct(3)]),
    "addbmm": (lambda lib, i, a, b: lib.addbmm(i, a, b, alpha=0.5), [distinct(2, 4), distinct(5, 2, 3),
                                                                     distinct(5, 3, 4)]),
    "baddbmm": (lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=-1.0), [distinct(5, 2, 4), distinct(5, 2, 3),
                                                                        distinct(5, 3, 4)]),
    "addcmul": (lambda lib, i, a, b: lib.addcmul(i, a, b, value=0.5), [distinct(2, 3), distinct(3), distinct(2, 1)]),
    "addcdiv": (lambda lib, i, a, b: lib.addcdiv(i, a, b, value=2), [distinct(2, 3), distinct(2, 3),
                                                                     distinct(2, 3) + 5]),
    "lerp_tensor_weight": (lambda lib, a, b, w: lib.lerp(a, b, w), [distinct(2, 3), distinct(2, 3), probabilities(3)]),
    "lerp_number_weight": (lambda lib, a, b: lib.lerp(a, b, 0.25), [distinct(2, 3), distinct(2, 3)]),
    "repeat_interleave_int": (lambda lib, x: lib.repeat_interleave(x, 2), [distinct(2, 3)]),
    "repeat_interleave_dim": (lambda lib, x: x.repeat_interleave(3, dim=1), [distinct(2, 3)]),
    "repeat_interleave_tensor": (lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2]), dim=-1,
                                                                      output_size=3), [distinct(2, 3)]),
    "repeat_interleave_one_count_tensor": (lambda lib, x: lib.repeat_interleave(x, lib.tensor([2]), dim=0),
                                           [distinct(2, 3)]),
    "masked_select": (lambda lib, x: lib.masked_select(x, x > 0.05), [distinct(3, 4)]),
    "masked_select_broadcast_mask": (lambda lib, x: x.masked_select(lib.tensor([True, False, True, True])),
                                     [distinct(3, 4)]),
    "masked_select_broadcast_input": (lambda lib, x: lib.masked_select(x, lib.tensor([[True], [False]])),
                                      [distinct(4)]),
    "clamp_min": (lambda lib, x: lib.clamp_min(x, 0.1), [distinct(3, 4)]),
    "clamp_max_method": (lambda lib, x: x.clamp_max(-0.2), [distinct(3, 4)]),
    "select": (lambda lib, x: lib.select(x, 1, -1), [distinct(2, 3, 4)]),
    "select_method": (lambda lib, x: x.select(0, 1), [distinct(2, 3)]),
    "narrow": (lambda lib, x: lib.narrow(x, 1, 1, 2), [distinct(2, 4)]),
    "narrow_negative_start": (lambda lib, x: lib.narrow(x, -1, -3, 2), [distinct(2, 4)]),
    "unflatten": (lambda lib, x: lib.unflatten(x, 1, (2, 3)), [distinct(4, 6)]),
    "unflatten_inferred": (lambda lib, x: x.unflatten(-1, (-1, 2)), [distinct(4, 6)]),
    "t_function": (lambda lib, x: lib.t(x), [distinct(2, 3)]),
    "t_vector": (lambda lib, x: lib.t(x), [distinct(3)]),
    "logit": (lambda lib, x: lib.logit(x), [probabilities(3, 4)]),
    "logit_eps": (lambda lib, x: x.logit(eps=0.2), [probabilities(3, 4)]),
    "kthvalue": (lambda lib, x: lib.kthvalue(x, 2), [distinct(3, 4)]),
    "kthvalue_dim_keepdim": (lambda lib, x: x.kthvalue(3, 0, True), [distinct(3, 4)]),
    "aminmax": (lambda lib, x: lib.aminmax(x), [distinct(3, 4)]),
    "aminmax_dim": (lambda lib, x: lib.aminmax(x, dim=1, keepdim=True), [distinct(3, 4)]),
    "aminmax_max_gradient": (lambda lib, x: x.aminmax(dim=0)[::-1], [distinct(3, 4)]),
    "var_mean": (lambda lib, x: lib.var_mean(x, 1), [distinct(3, 4)]),
    "var_mean_correction": (lambda lib, x: lib.var_mean(x, (0, 1), correction=0, keepdim=True), [distinct(3, 4)]),
    "var_mean_unbiased_bool": (lambda lib, x: lib.var_mean(x, False), [distinct(3, 4)]),
    "var_mean_mean_gradient": (lambda lib, x: lib.var_mean(x, 0)[::-1], [distinct(3, 4)]),
    "std_mean": (lambda lib, x: lib.std_mean(x, dim=0, unbiased=False), [distinct(3, 4)]),
    "std_mean_all": (lambda lib, x: lib.std_mean(x), [distinct(3, 4)]),
    "cummax": (lambda lib, x: lib.cummax(x, 1), [distinct(3, 5)]),
    "cummin_method": (lambda lib, x: x.cummin(0), [distinct(4, 3)]),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, 1), [distinct(3, 5) * 3]),
    "logcumsumexp_method_dim0": (lambda lib, x: x.logcumsumexp(0), [distinct(4, 2)]),
}


def _to_torch(array, requires_grad=False):
    return torch.tensor(array, requires_grad=requires_grad)


(test_values_dtypes_and_shapes_match_torch_in_float32, test_gradients_pass_gradcheck_and_gradgradcheck,
 test_gradients_match_torch) = torch_case_tests(CASES, rng)


def test_cummax_and_cummin_take_the_later_index_at_ties_and_stay_at_nan_as_torch():
    data = [1.0, 3.0, 3.0, float("nan"), 2.0, float("nan"), 5.0]
    for op in ("cummax", "cummin"):
        ours, theirs = getattr(ag, op)(ag.tensor(data), 0), getattr(torch, op)(torch.tensor(data), 0)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        assert ours.indices.dtype == np.int64


def test_logcumsumexp_does_not_overflow_or_underflow_and_its_gradient_stays_finite():
    data = np.array([-1000.0, 0.0, 1000.0, -np.inf, 999.0])
    x, reference = ag.tensor(data, requires_grad=True), _to_torch(data, requires_grad=True)
    ag.logcumsumexp(x, 0).sum().backward()
    torch.logcumsumexp(reference, 0).sum().backward()
    np.testing.assert_allclose(ag.logcumsumexp(ag.tensor(data), 0).numpy(),
                               torch.logcumsumexp(_to_torch(data), 0).detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), atol=1e-12)


def test_repeat_interleave_of_counts_alone_gives_repeated_positions():
    np.testing.assert_array_equal(ag.repeat_interleave(ag.tensor([2, 0, 1])).numpy(),
                                  torch.repeat_interleave(torch.tensor([2, 0, 1])).numpy())


def test_int_inputs_keep_torch_dtypes():
    for ours, theirs in [(ag.repeat_interleave(ag.tensor([1, 2]), 2), torch.repeat_interleave(torch.tensor([1, 2]), 2)),
                         (ag.masked_select(ag.tensor([1, 2]), ag.tensor([True, False])),
                          torch.masked_select(torch.tensor([1, 2]), torch.tensor([True, False]))),
                         (ag.clamp_min(ag.tensor([1, 5]), 3), torch.clamp_min(torch.tensor([1, 5]), 3)),
                         (ag.logit(ag.tensor([0, 1]), 0.25), torch.logit(torch.tensor([0, 1]), 0.25))]:
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_clamp_min_and_clamp_max_write_into_the_tensor():
    x = ag.tensor([-1.0, 0.5, 2.0])
    x.clamp_min_(0.0).clamp_max_(1.0)
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("call, error, words", [
    (lambda: ag.addmm(ag.zeros(3, 4), ag.zeros(2, 3), ag.zeros(3, 4)), ShapeError, r"addmm: input of shape \(3, 4\)"),
    (lambda: ag.addmm(ag.zeros(2, 4), ag.zeros(2, 3), ag.zeros(2, 4)), ShapeError, r"matmul|mm"),
    (lambda: ag.addmm(ag.zeros(2, 4), ag.zeros(2, 3, 1), ag.zeros(3, 4)), ShapeError, "mm: expects two 2-D"),
    (lambda: ag.addmm(ag.zeros(2, 4, dtype=ag.float64), ag.zeros(2, 3), ag.zeros(3, 4)), DTypeError,
     "addmm: input is float64"),
    (lambda: ag.baddbmm(ag.zeros(2, 4), ag.zeros(2, 3), ag.zeros(3, 4)), ShapeError, "bmm: expects two 3-D"),
    (lambda: ag.repeat_interleave(ag.zeros(3), ag.tensor([1, 2])), ShapeError, "repeat_interleave: repeats"),
    (lambda: ag.repeat_interleave(ag.zeros(3), -1), ArgumentError, "non-negative"),
    (lambda: ag.repeat_interleave(ag.zeros(3), 2.0), DTypeError, "repeats must be integers"),
    (lambda: ag.repeat_interleave(ag.zeros(3), 2, output_size=5), ArgumentError, "output_size 5"),
    (lambda: ag.masked_select(ag.zeros(3), ag.tensor([1, 0, 1])), DTypeError, "masked_select: the mask must be a bool"),
    (lambda: ag.masked_select(ag.zeros(3), ag.tensor([True, False])), ShapeError, r"masked_select.*\(3,\), \(2,\)"),
    (lambda: ag.select(ag.zeros(2, 3), 1, 3), IndexRangeError, "select: index 3 is out of range for dim 1 of size 3"),
    (lambda: ag.select(ag.zeros(2, 3), 2, 0), IndexError, "select"),
    (lambda: ag.narrow(ag.zeros(2, 3), 1, 2, 2), IndexRangeError, "narrow: start"),
    (lambda: ag.unflatten(ag.zeros(4, 6), 1, (4, 2)), ShapeError, r"unflatten: sizes \(4, 2\)"),
    (lambda: ag.unflatten(ag.zeros(4, 6), 1, (-1, -1)), ShapeError, "unflatten"),
    (lambda: ag.t(ag.zeros(2, 3, 4)), ShapeError, r"t: expects a tensor with at most 2 dims, got shape \(2, 3, 4\)"),
    (lambda: ag.kthvalue(ag.zeros(2, 3), 4), ArgumentError, "kthvalue: k=4 is out of range"),
    (lambda: ag.aminmax(ag.zeros(0)), ArgumentError, "aminmax: cannot reduce an empty tensor"),
    (lambda: ag.logcumsumexp(ag.tensor([1, 2]), 0), DTypeError, "logcumsumexp: needs a floating point"),
    (lambda: ag.cummax(ag.zeros(2, 3), 2), IndexError, "cummax"),
])
def test_bad_arguments_raise_clear_errors_naming_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_addmm_with_beta_zero_ignores_nan_in_input_and_gives_it_a_zero_gradient():
    mat1, mat2 = np.ones((2, 3)), np.ones((3, 2))
    ours = ag.tensor(np.full((2, 2), np.nan), requires_grad=True)
    theirs = torch.tensor(np.full((2, 2), np.nan), requires_grad=True)
    out_ours = ag.addmm(ours, ag.tensor(mat1), ag.tensor(mat2), beta=0)
    out_theirs = torch.addmm(theirs, torch.tensor(mat1), torch.tensor(mat2), beta=0)
    np.testing.assert_array_equal(out_ours.detach().numpy(), out_theirs.detach().numpy())
    out_ours.sum().backward()
    out_theirs.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
