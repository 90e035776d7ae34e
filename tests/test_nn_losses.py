"""Losses: each row of LOSSES is compared with PyTorch for every reduction (value and gradients,
float64 and float32) and gradchecked in float64; then extremes and error cases."""
from dataclasses import dataclass, field
import re

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import DTYPES, assert_close, assert_matches_torch, both, to_torch

REDUCTIONS = ["mean", "sum", "none"]


@dataclass
class LossCase:
    name: str
    module: str                    # class name, in nn and torch.nn
    input: str                     # "logits" | "probabilities" | "log_probabilities"
    shape: tuple                   # input shape
    target: str                    # "classes" | "probabilities" | "binary" | "real01" (in [0, 1]) | "real" |
    #                                "label_lists" (each row: some classes, then -1s)
    kwargs: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)   # keyword -> shape of a positive float array (weight...)
    gradgrad: bool = False


LOSSES = [
    LossCase("cross_entropy", "CrossEntropyLoss", "logits", (5, 4), "classes", gradgrad=True),
    LossCase("cross_entropy_weight", "CrossEntropyLoss", "logits", (5, 4), "classes", arrays={"weight": (4,)}),
    LossCase("cross_entropy_ignore", "CrossEntropyLoss", "logits", (6, 4), "classes", {"ignore_index": 1}),
    LossCase("cross_entropy_weight_ignore_smoothing", "CrossEntropyLoss", "logits", (6, 4), "classes",
             {"ignore_index": 2, "label_smoothing": 0.2}, arrays={"weight": (4,)}),
    LossCase("cross_entropy_smoothing", "CrossEntropyLoss", "logits", (5, 3), "classes", {"label_smoothing": 0.1}),
    LossCase("cross_entropy_spatial", "CrossEntropyLoss", "logits", (2, 3, 2, 2), "classes",
             {"ignore_index": 0}, arrays={"weight": (3,)}),
    LossCase("cross_entropy_unbatched", "CrossEntropyLoss", "logits", (4,), "classes"),
    LossCase("cross_entropy_probabilities", "CrossEntropyLoss", "logits", (4, 3), "probabilities", gradgrad=True),
    LossCase("cross_entropy_probabilities_weight_smoothing", "CrossEntropyLoss", "logits", (2, 3, 2),
             "probabilities", {"label_smoothing": 0.3}, arrays={"weight": (3,)}),
    LossCase("nll", "NLLLoss", "log_probabilities", (5, 4), "classes"),
    LossCase("nll_weight_ignore", "NLLLoss", "log_probabilities", (6, 4), "classes", {"ignore_index": 3},
             arrays={"weight": (4,)}),
    LossCase("nll_spatial", "NLLLoss", "log_probabilities", (2, 3, 4), "classes"),
    LossCase("mse", "MSELoss", "logits", (3, 4), "real", gradgrad=True),
    LossCase("l1", "L1Loss", "logits", (3, 4), "real"),
    LossCase("bce", "BCELoss", "probabilities", (3, 4), "binary", gradgrad=True),
    LossCase("bce_soft_targets_weight", "BCELoss", "probabilities", (3, 4), "real01", arrays={"weight": (4,)}),
    LossCase("bce_logits", "BCEWithLogitsLoss", "logits", (3, 4), "binary", gradgrad=True),
    LossCase("bce_logits_weights", "BCEWithLogitsLoss", "logits", (3, 4), "real01",
             arrays={"weight": (3, 1), "pos_weight": (4,)}),
    LossCase("multi_margin", "MultiMarginLoss", "logits", (5, 4), "classes"),
    LossCase("multi_margin_p2_weight", "MultiMarginLoss", "logits", (5, 4), "classes", {"p": 2, "margin": 0.5},
             arrays={"weight": (4,)}),
    LossCase("multi_margin_unbatched", "MultiMarginLoss", "logits", (4,), "classes"),
    LossCase("multilabel_margin", "MultiLabelMarginLoss", "logits", (6, 5), "label_lists"),
    LossCase("multilabel_margin_unbatched", "MultiLabelMarginLoss", "logits", (5,), "label_lists"),
]


def _data(case, rng, dtype):
    """(input, target, extra keyword arrays) as NumPy arrays."""
    x = rng.standard_normal(case.shape) * 2
    if case.input == "probabilities":
        x = 1 / (1 + np.exp(-x))
    elif case.input == "log_probabilities":
        axis = 1 if len(case.shape) > 1 else 0
        x = x - np.log(np.exp(x).sum(axis, keepdims=True))
    class_axis = 1 if len(case.shape) > 1 else 0
    classes = case.shape[class_axis]
    if case.target == "classes":
        target = rng.integers(0, classes, case.shape[:class_axis] + case.shape[class_axis + 1:])
        ignore = case.kwargs.get("ignore_index")
        if ignore is not None:
            target.flat[0] = ignore   # make sure the ignored class occurs
    elif case.target == "probabilities":
        target = rng.random(case.shape)
        target /= target.sum(class_axis, keepdims=True)
    elif case.target == "binary":
        target = rng.integers(0, 2, case.shape).astype(float)
    elif case.target == "label_lists":
        rows = np.array([rng.permutation(classes) for _ in range(int(np.prod(case.shape[:-1])))])
        for row, count in zip(rows, rng.integers(0, classes + 1, len(rows))):   # none, some or all listed
            if count < classes:
                row[count] = -1
                row[count + 1:] = rng.integers(-1, 1, classes - count - 1)   # ignored after the first -1
        target = rows.reshape(case.shape)
    elif case.target == "real01":
        target = rng.random(case.shape)
    else:
        target = rng.standard_normal(case.shape)
    arrays = {k: rng.random(shape) + 0.5 for k, shape in case.arrays.items()}
    target = target if target.dtype.kind == "i" else target.astype(dtype)
    return x.astype(dtype), target, {k: v.astype(dtype) for k, v in arrays.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", LOSSES, ids=[c.name for c in LOSSES])
def test_loss_matches_torch(case, dtype, reduction, rng):
    torch = pytest.importorskip("torch")
    x, target, arrays = _data(case, rng, dtype)
    theirs = getattr(torch.nn, case.module)(reduction=reduction, **case.kwargs,
                                            **{k: to_torch(v) for k, v in arrays.items()})
    mine = getattr(nn, case.module)(reduction=reduction, **case.kwargs,
                                    **{k: ag.tensor(v) for k, v in arrays.items()})
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    m_out, t_out = mine(mx, ag.tensor(target)), theirs(tx, to_torch(target))
    name = f"{case.name} {reduction}"
    assert m_out.dtype == dtype
    assert_matches_torch(f"{name} loss", m_out, t_out, dtype)
    upstream = rng.standard_normal(t_out.shape).astype(dtype)
    m_out.backward(ag.tensor(upstream))
    t_out.backward(to_torch(upstream))
    assert_matches_torch(f"{name} input grad", mx.grad, tx.grad, dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSSES, ids=[c.name for c in LOSSES])
def test_loss_gradcheck(case, reduction, rng):
    x, target, arrays = _data(case, rng, np.float64)
    loss = getattr(nn, case.module)(reduction=reduction, **case.kwargs,
                                    **{k: ag.tensor(v) for k, v in arrays.items()})
    mx = ag.tensor(x, requires_grad=True)
    inputs = [mx]
    target_tensor = ag.tensor(target)
    if target.dtype.kind == "f" and case.module not in ("MultiMarginLoss",):
        target_tensor.requires_grad_(True)     # float targets are differentiable too, as in PyTorch
        inputs.append(target_tensor)
    assert ag.gradcheck(lambda *args: loss(mx, target_tensor), inputs)
    if case.gradgrad and reduction == "mean":
        assert ag.gradgradcheck(lambda *args: loss(mx, target_tensor), inputs)


def test_target_gradients_match_torch(rng):
    torch = pytest.importorskip("torch")
    for fn_name, x in [("binary_cross_entropy", rng.random((3, 4)) * 0.9 + 0.05),
                       ("binary_cross_entropy_with_logits", rng.standard_normal((3, 4))),
                       ("mse_loss", rng.standard_normal((3, 4))), ("cross_entropy", rng.standard_normal((3, 4)))]:
        target = rng.random((3, 4))
        my_target, their_target = ag.tensor(target, requires_grad=True), to_torch(target, True)
        getattr(F, fn_name)(ag.tensor(x), my_target).backward()
        getattr(torch.nn.functional, fn_name)(to_torch(x), their_target).backward()
        assert_matches_torch(f"{fn_name} target grad", my_target.grad, their_target.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_bce_with_logits_is_finite_for_huge_logits(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([[-100.0, 100.0, -1000.0, 1000.0, 0.0]], dtype)
    for target in (np.zeros_like(x), np.ones_like(x)):
        mx = ag.tensor(x, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(mx, ag.tensor(target), reduction="sum")
        assert np.isfinite(loss.item())
        loss.backward()
        assert np.isfinite(mx.grad.numpy()).all()
        tx = to_torch(x, True)
        t_loss = torch.nn.functional.binary_cross_entropy_with_logits(tx, to_torch(target), reduction="sum")
        t_loss.backward()
        assert_matches_torch("bce_with_logits huge logits", loss, t_loss, dtype)
        assert_matches_torch("bce_with_logits huge logits grad", mx.grad, tx.grad, dtype)


def test_bce_clamps_the_log_at_minus_100_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1.0, 1e-50, 0.5])
    target = np.array([1.0, 0.0, 1.0, 1.0])
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    loss = F.binary_cross_entropy(mx, ag.tensor(target), reduction="none")
    t_loss = torch.nn.functional.binary_cross_entropy(tx, to_torch(target), reduction="none")
    assert_matches_torch("bce clamped log", loss, t_loss)
    loss.sum().backward()
    t_loss.sum().backward()
    assert_matches_torch("bce clamped log grad", mx.grad, tx.grad)


def test_cross_entropy_is_stable_for_huge_logits():
    x = ag.tensor(np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 0.0]], np.float32), requires_grad=True)
    loss = F.cross_entropy(x, ag.tensor(np.array([1, 1])))
    np.testing.assert_allclose(loss.item(), 1000.0, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-6)


def test_cross_entropy_all_targets_ignored_gives_nan_like_torch():
    loss = F.cross_entropy(ag.zeros(2, 3), ag.tensor(np.array([-100, -100])))
    assert np.isnan(loss.item())


def test_cross_entropy_matches_torch_at_benchmark_size_in_float32(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((128, 10)).astype(np.float32) * 3
    y = rng.integers(0, 10, 128)
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    loss, t_loss = F.cross_entropy(mx, ag.tensor(y)), torch.nn.functional.cross_entropy(tx, to_torch(y))
    loss.backward()
    t_loss.backward()
    assert_matches_torch("cross_entropy batch 128 float32", loss, t_loss, np.float32)
    assert_matches_torch("cross_entropy batch 128 float32 grad", mx.grad, tx.grad, np.float32)
    assert loss.grad_fn.name() == "SoftmaxNll"   # nll over log_softmax in one node: no one-hot array


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.cross_entropy(ag.zeros(3, 4), ag.tensor(np.array([0, 4, 1]))), IndexError, "target 4 is out of bounds"),
    (lambda: F.cross_entropy(ag.zeros(3, 4), ag.tensor(np.array([0, 1]))), ValueError,
     r"expected a target of shape \(3,\).*got \(2,\)"),
    (lambda: F.cross_entropy(ag.zeros(3, 4), ag.zeros(3, 5)), ValueError, r"\(3, 5\).*\(3, 4\)"),
    (lambda: F.nll_loss(ag.zeros(3, 4), ag.zeros(3)), TypeError, "integers"),
    (lambda: F.cross_entropy(ag.zeros(3, 4), ag.tensor(np.array([0, 1, 2])), reduction="avg"), ValueError,
     "not a valid value for reduction"),
    (lambda: nn.MSELoss(reduction="average"), ValueError, "not a valid value for reduction"),
    (lambda: F.binary_cross_entropy(ag.full((2,), 1.5), ag.ones(2)), ValueError, "between 0 and 1"),
    (lambda: F.binary_cross_entropy(ag.full((2,), 0.5), ag.ones(3)), ValueError, r"\(3,\).*\(2,\)"),
    (lambda: F.multi_margin_loss(ag.zeros(2, 3), ag.tensor(np.array([0, 3]))), IndexError, "out of bounds"),
])
def test_loss_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_hinge_loss_is_multi_margin_loss():
    x = ag.tensor(np.array([[0.1, 0.2, 0.4, 0.8]]))
    y = ag.tensor(np.array([3]))
    # (1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4) = 1.3, divided by the 4 classes.
    np.testing.assert_allclose(nn.HingeLoss()(x, y).item(), 1.3 / 4)
    np.testing.assert_allclose(nn.MultiMarginLoss()(x, y).item(), 1.3 / 4)
    assert repr(nn.HingeLoss()) == "HingeLoss()"


def test_mse_loss_warns_when_target_broadcasts():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ag.zeros(3, 1), ag.zeros(3))


def test_functional_losses_match_torch(torch, rng):
    x, xt = both(rng.standard_normal((4, 3)).astype(np.float32))
    y = np.array([0, 2, 1, 1])
    t = rng.standard_normal((4, 3)).astype(np.float32)
    tf = torch.nn.functional
    assert_close(F.cross_entropy(x, ag.tensor(y)), tf.cross_entropy(xt, torch.tensor(y)))
    assert_close(F.nll_loss(F.log_softmax(x, 1), ag.tensor(y)), tf.nll_loss(tf.log_softmax(xt, 1), torch.tensor(y)))
    assert_close(F.mse_loss(x, ag.tensor(t)), tf.mse_loss(xt, torch.tensor(t)))
    assert_close(F.l1_loss(x, ag.tensor(t), reduction="sum"), tf.l1_loss(xt, torch.tensor(t), reduction="sum"))
    s = 1 / (1 + np.exp(-t))
    assert_close(F.binary_cross_entropy(F.sigmoid(x), ag.tensor(s)),
                 tf.binary_cross_entropy(torch.sigmoid(xt), torch.tensor(s)))
    assert_close(F.binary_cross_entropy_with_logits(x, ag.tensor(s)),
                 tf.binary_cross_entropy_with_logits(xt, torch.tensor(s)))


@pytest.mark.parametrize("kwargs", [dict(weight=True, label_smoothing=0.2), dict(weight=True, ignore_index=2),
                                    dict(weight=True, ignore_index=2, label_smoothing=0.3, reduction="sum"),
                                    dict(label_smoothing=0.3, ignore_index=2, reduction="none")])
def test_cross_entropy_weight_smoothing_ignore_combinations(torch, rng, kwargs):
    x, xt = both(rng.standard_normal((5, 4)).astype(np.float32))
    y = np.array([0, 2, 3, 1, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    ours_kw, theirs_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        ours_kw["weight"], theirs_kw["weight"] = ag.tensor(w), torch.tensor(w)
    loss = F.cross_entropy(x, ag.tensor(y), **ours_kw)
    loss_t = torch.nn.functional.cross_entropy(xt, torch.tensor(y), **theirs_kw)
    assert_close(loss, loss_t)
    loss.sum().backward()
    loss_t.sum().backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2)], ids=["batched", "spatial"])
def test_cross_entropy_probability_targets_give_the_class_weight_a_gradient_like_torch(
        torch, rng, reduction, label_smoothing, shape):
    x, xt = both(rng.standard_normal(shape))
    target = rng.random(shape)
    target /= target.sum(1, keepdims=True)
    w, wt = both(rng.random(3) + 0.5)
    loss = F.cross_entropy(x, ag.tensor(target), weight=w, reduction=reduction, label_smoothing=label_smoothing)
    loss_t = torch.nn.functional.cross_entropy(xt, to_torch(target), weight=wt, reduction=reduction,
                                               label_smoothing=label_smoothing)
    assert_matches_torch("loss", loss, loss_t)
    upstream = rng.standard_normal(loss_t.shape)
    loss.backward(ag.tensor(upstream))
    loss_t.backward(to_torch(upstream))
    assert_matches_torch("input grad", x.grad, xt.grad)
    assert_matches_torch("weight grad", w.grad, wt.grad)
    assert ag.gradcheck(lambda x, w: F.cross_entropy(x, ag.tensor(target), weight=w, reduction=reduction,
                                                     label_smoothing=label_smoothing), [x, w])


@pytest.mark.parametrize("call", [
    lambda w: F.cross_entropy(ag.zeros(3, 4, requires_grad=True), ag.tensor(np.array([0, 1, 2])), weight=w),
    lambda w: F.cross_entropy(ag.zeros(3, 4), ag.tensor(np.array([0, 1, 2])), weight=w, label_smoothing=0.1),
    lambda w: F.nll_loss(ag.zeros(3, 4), ag.tensor(np.array([0, 1, 2])), weight=w),
    lambda w: F.multi_margin_loss(ag.zeros(3, 4), ag.tensor(np.array([0, 1, 2])), weight=w),
], ids=["cross_entropy", "cross_entropy_smoothing", "nll_loss", "multi_margin_loss"])
def test_class_index_losses_refuse_a_class_weight_that_requires_grad_like_torch(torch, call):
    """PyTorch raises ('not differentiable with respect to argument weight'); dropping the gradient
    silently would be worse. Under no_grad the weight is only a constant, and it works."""
    w = ag.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="weight requires grad.*not differentiable.*weight.detach"):
        call(w)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        torch.nn.functional.nll_loss(torch.zeros(3, 4), torch.tensor([0, 1, 2]), weight=torch.ones(4, requires_grad=True))
    with ag.no_grad():
        assert np.isfinite(call(w).item())
    assert np.isfinite(call(w.detach()).item())


def test_cross_entropy_probability_targets_check_the_weight_shape():
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\), one per class, got \(3,\)"):
        F.cross_entropy(ag.zeros(2, 4), ag.full((2, 4), 0.25), weight=ag.ones(3))


@pytest.mark.parametrize("scale", [None, 1.0, 1 / 7])
@pytest.mark.parametrize("shape, dim", [((7, 5), 1), ((5,), 0), ((3, 4, 2, 3), 1)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_of_class_indices_passes_gradcheck_and_gradgradcheck(rng, scale, shape, dim, weighted):
    x = ag.tensor(rng.standard_normal(shape), requires_grad=True)
    target_shape = shape[:dim] + shape[dim + 1:]
    target = rng.integers(0, shape[dim], target_shape)
    weight = rng.random(target_shape) if weighted else None   # a zero would stand for an ignored target
    if weighted and weight.size:
        weight.flat[0] = 0.0

    def loss(x):
        return ag.nll(x, target, weight, dim=dim, scale=scale)

    def cross_entropy(x):
        return ag.nll(ag.log_softmax(x, dim), target, weight, dim=dim, scale=scale)

    def fused(x):   # the same as cross_entropy, as one op
        return ag.softmax_nll(x, target, weight, dim=dim, scale=scale)

    for fn in (loss, cross_entropy, fused):
        assert ag.gradcheck(fn, (x,))
        assert ag.gradgradcheck(fn, (x,))
    # The fused op's values, gradients and second derivatives are those of the two ops.
    upstream = rng.standard_normal(() if scale is not None else target_shape)
    probe = rng.standard_normal(shape)
    results = []
    for fn in (cross_entropy, fused):
        (g,) = ag.grad(fn(x), x, ag.tensor(upstream), create_graph=True)
        (gg,) = ag.grad((g * ag.tensor(probe)).sum(), x)
        results.append((fn(x).numpy(), g.numpy(), gg.numpy()))
    for two_ops, one_op in zip(*results):
        np.testing.assert_allclose(one_op, two_ops, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_of_column_major_logits_matches_torch(torch, rng, reduction):
    # logits laid out column-major (a transposed product): the targets' flat positions are C-order ones
    x = np.asfortranarray(rng.standard_normal((6, 5)))
    target = rng.integers(0, 5, 6)
    mx, tx = ag.from_numpy(x).requires_grad_(), to_torch(x, True)
    assert mx.numpy().flags.f_contiguous and not mx.numpy().flags.c_contiguous
    loss = F.cross_entropy(mx, ag.tensor(target), reduction=reduction)
    t_loss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction=reduction)
    assert_matches_torch("loss", loss, t_loss)
    upstream = rng.standard_normal(t_loss.shape)
    loss.backward(ag.tensor(upstream))
    t_loss.backward(to_torch(upstream))
    assert_matches_torch("grad", mx.grad, tx.grad)


def test_softmax_nll_gradient_reaches_the_upstream_gradient_under_create_graph(rng):
    # The gradient of the fused op's gradient with respect to the incoming gradient (a gradient
    # penalty's path through a scaled loss): checked against the two-op form.
    x = ag.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    target = np.array([0, 2, 1, 1])
    results = []
    for loss_of in (lambda s: ag.softmax_nll(x, target, scale=0.25) * s,
                    lambda s: ag.nll(ag.log_softmax(x, 1), target, scale=0.25) * s):
        s = ag.tensor(1.5, requires_grad=True)
        (g,) = ag.grad(loss_of(s), x, create_graph=True)
        results.append(ag.grad((g * g).sum(), [x, s]))
    for one_op, two_ops in zip(*results):
        np.testing.assert_allclose(one_op.numpy(), two_ops.numpy(), rtol=1e-12)


@pytest.mark.parametrize("op", [ag.softmax_nll, ag.nll])
@pytest.mark.parametrize("weight", [np.ones(4), np.ones((3, 1)), np.ones(2)], ids=["class weights", "column", "too few"])
def test_per_sample_weights_of_another_shape_than_the_targets_are_refused(op, weight):
    # weight is per sample (the class weight of each target), as the targets: (4,) class weights gave a
    # NumPy broadcast error from inside the op, a (3, 1) column a (3, 3) loss
    name = op.__name__
    with pytest.raises(ag.ShapeError, match=rf"{name}: weight must have the targets' shape \(3,\).*got {re.escape(str(weight.shape))}"):
        op(ag.zeros(3, 4, requires_grad=True), [0, 1, 2], weight=weight)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: ag.softmax_nll(ag.zeros(3, 4), [0, 1, 4]), IndexError, "softmax_nll: target 4 is out of bounds for 4"),
    (lambda: ag.softmax_nll(ag.zeros(3, 4), [0, 1]), ag.ShapeError, r"softmax_nll: expected targets of shape \(3,\)"),
    (lambda: ag.softmax_nll(ag.zeros(3, 4), np.zeros(3)), ag.DTypeError, "softmax_nll: targets must be class"),
    (lambda: ag.softmax_nll(ag.tensor(np.zeros((3, 4), np.int64)), [0, 1, 2]), ag.DTypeError,
     "softmax_nll: expects floating point logits, got int64"),
])
def test_softmax_nll_refuses_bad_targets_and_integer_logits(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("kwargs", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=1),
                                    dict(weight=True, reduction="none"), dict(weight=True, ignore_index=0)])
def test_cross_entropy_over_spatial_targets_matches_torch_to_the_second_derivative(torch, rng, kwargs):
    x = rng.standard_normal((3, 4, 2, 5))
    y = rng.integers(0, 4, (3, 2, 5))
    w = rng.random(4) + 0.5
    ours_kw, theirs_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        ours_kw["weight"], theirs_kw["weight"] = ag.tensor(w), torch.tensor(w)
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    loss = F.cross_entropy(mx, ag.tensor(y), **ours_kw)
    t_loss = torch.nn.functional.cross_entropy(tx, torch.tensor(y), **theirs_kw)
    assert_matches_torch("cross_entropy spatial", loss, t_loss)
    upstream = rng.standard_normal(loss.shape)
    (g,) = ag.grad(loss, mx, ag.tensor(upstream), create_graph=True)
    (tg,) = torch.autograd.grad(t_loss, tx, to_torch(upstream), create_graph=True)
    assert_matches_torch("cross_entropy spatial grad", g, tg)
    probe = rng.standard_normal(x.shape)
    (gg,) = ag.grad((g * ag.tensor(probe)).sum(), mx)
    (tgg,) = torch.autograd.grad((tg * to_torch(probe)).sum(), tx)
    assert_matches_torch("cross_entropy spatial double backward", gg, tgg)


def test_cross_entropy_against_class_indices_keeps_only_the_log_probabilities(rng):
    # No one-hot array as large as the logits: a language model's would double the loss's memory.
    import tracemalloc
    x = ag.tensor(rng.standard_normal((512, 3000)).astype(np.float32), requires_grad=True)
    target = ag.tensor(rng.integers(0, 3000, 512))
    tracemalloc.start()
    try:
        loss = F.cross_entropy(x, target)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 1.1 * x.numpy().nbytes   # the log-probabilities, kept for backward (not the logits)
    assert peak < 2.1 * x.numpy().nbytes
    loss.backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("loss_name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape, target_shape", [((5, 4), (5,)), ((4,), ()), ((3, 4, 2, 2), (3, 2, 2))])
@pytest.mark.parametrize("kwargs", [dict(), dict(reduction="none"), dict(reduction="sum"), dict(ignore_index=1),
                                    dict(weight=True), dict(weight=True, ignore_index=2, reduction="none")])
def test_class_index_losses_match_torch_for_any_shape_weight_and_reduction(torch, rng, loss_name, shape, target_shape,
                                                                           kwargs):
    x = rng.standard_normal(shape)
    target = np.asarray(rng.integers(0, 4, target_shape))
    ours_kw, theirs_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        w = rng.random(4)
        ours_kw["weight"], theirs_kw["weight"] = ag.tensor(w), torch.tensor(w)
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    loss = getattr(F, loss_name)(mx, ag.tensor(target), **ours_kw)
    t_loss = getattr(torch.nn.functional, loss_name)(tx, torch.tensor(target), **theirs_kw)
    assert_matches_torch(loss_name, loss, t_loss)
    loss.sum().backward()
    t_loss.sum().backward()
    assert_matches_torch(f"{loss_name} grad", mx.grad, tx.grad)


def test_logits_changed_in_place_after_cross_entropy_still_backpropagate_as_in_torch(torch, rng):
    # cross_entropy keeps log_softmax's output, not the logits (which a language model's loss
    # would otherwise hold on to until backward), so changing them afterwards is no error.
    x, w, t = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), np.array([0, 4, 2, 1])
    mw, tw = ag.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    logits, t_logits = ag.tensor(x) @ mw.T, torch.tensor(x) @ tw.T
    loss = F.cross_entropy(logits, ag.tensor(t))
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.tensor(t))
    logits.add_(1.0)
    t_logits.add_(1.0)
    loss.backward()
    t_loss.backward()
    assert_matches_torch("weight grad after in-place on the logits", mw.grad, tw.grad)


@pytest.mark.parametrize("target_dtype", [np.int8, np.int16, np.uint8, np.uint16, np.uint32, np.uint64])
@pytest.mark.parametrize("loss_name", ["nll_loss", "cross_entropy"])
def test_class_index_losses_take_targets_of_any_integer_dtype_as_torch_takes_int64(torch, rng, loss_name, target_dtype):
    # 300 samples of 10 classes by 3 positions: flat positions past 127 and 255, where int8 or uint8 would wrap.
    x = rng.standard_normal((300, 10, 3))
    target = rng.integers(0, 10, (300, 3))
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    loss = getattr(F, loss_name)(mx, ag.tensor(target.astype(target_dtype)), reduction="none")
    t_loss = getattr(torch.nn.functional, loss_name)(tx, torch.tensor(target), reduction="none")
    assert_matches_torch(f"{loss_name} {target_dtype.__name__} targets", loss, t_loss)
    loss.sum().backward()
    t_loss.sum().backward()
    assert_matches_torch(f"{loss_name} {target_dtype.__name__} targets grad", mx.grad, tx.grad)


def test_an_ignored_target_whose_stand_in_log_probability_is_infinite_counts_for_nothing_as_torch(torch):
    x = np.array([[-np.inf, 1.0, 2.0], [0.5, 1.0, -1.0]])
    target = np.array([-100, 2])
    assert_matches_torch("cross_entropy with an ignored target", F.cross_entropy(ag.tensor(x), ag.tensor(target)),
                         torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target)))
    with np.errstate(divide="ignore"):
        log_probs = np.log(np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]))
    assert_matches_torch("nll_loss with an ignored target", F.nll_loss(ag.tensor(log_probs), ag.tensor(target)),
                         torch.nn.functional.nll_loss(torch.tensor(log_probs), torch.tensor(target)))


@pytest.mark.parametrize("target, error, pattern", [
    ([0, 1], ag.ShapeError, r"nll: expected targets of shape \(3,\).*\(3, 4\).*got \(2,\)"),
    ([0, 1, 4], IndexError, "nll: target 4 is out of bounds for 4 classes"),
    ([-1, 1, 2], IndexError, "nll: target -1 is out of bounds"),
    (np.array([0.0, 1.0, 2.0]), ag.DTypeError, "nll: targets must be class indices"),
])
def test_nll_refuses_targets_of_the_wrong_shape_dtype_or_range(target, error, pattern):
    with pytest.raises(error, match=pattern):
        ag.nll(ag.zeros(3, 4), target)


def test_losses_promote_a_float64_target_with_a_float32_input_as_torch_or_refuse_where_it_refuses(torch, rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    target = rng.random((4, 3))
    probabilities = target / target.sum(1, keepdims=True)
    for name, t in (("binary_cross_entropy_with_logits", target), ("cross_entropy", probabilities)):
        mx, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        loss = getattr(F, name)(mx, ag.tensor(t))
        t_loss = getattr(torch.nn.functional, name)(tx, torch.tensor(t))
        assert loss.dtype == ag.float64 and t_loss.dtype == torch.float64
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-6)
        loss.backward()
        t_loss.backward()
        assert mx.grad.dtype == ag.float32
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    with pytest.raises(ag.DTypeError, match="binary_cross_entropy: the target's dtype float64 differs"):
        F.binary_cross_entropy(F.sigmoid(ag.tensor(x)), ag.tensor(target))
