"""SmoothL1Loss, HuberLoss, KLDivLoss, F.cosine_similarity, F.normalize, nn.Unflatten and
nn.utils.rnn.pad_sequence against PyTorch (values and gradients, float64 and float32, every
reduction and option), with float64 gradcheck/gradgradcheck away from the kinks, exact gradients at
the kinks, PyTorch's warnings, and clear errors."""
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.errors import ShapeError
from nn.utils.rnn import pad_sequence
from nn_helpers import DTYPES, assert_matches_torch, to_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def both(array, requires_grad=True):
    return ag.tensor(array.copy(), requires_grad=requires_grad), to_torch(array, requires_grad)


def compare_loss(name, ours_fn, torch_fn, arrays, dtype, grad_of=None):
    """Call both on the same arrays (all requiring grad), compare value and every gradient."""
    ours = [ag.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    theirs = [to_torch(a.astype(dtype), True) for a in arrays]
    out, torch_out = ours_fn(*ours), torch_fn(*theirs)
    assert_matches_torch(f"{name} value", out, torch_out, dtype)
    seed = np.random.default_rng(5).normal(size=torch_out.shape).astype(dtype)
    out.backward(ag.tensor(seed))
    torch_out.backward(to_torch(seed))
    for i, (x, tx) in enumerate(zip(ours, theirs)):
        if grad_of is None or i in grad_of:
            assert_matches_torch(f"{name} grad {i}", x.grad, tx.grad, dtype)
    return ours, theirs


# -- smooth L1 and Huber -------------------------------------------------------------------------------
def regression_arrays(rng, width, shape=(4, 5), target_shape=None):
    """Input and target whose differences include 0 and +-width exactly (the kinks)."""
    target = rng.normal(size=target_shape or shape)
    diff = rng.normal(size=shape) * 2 * width
    diff.flat[:3] = [0.0, width, -width]
    return np.broadcast_to(target, shape) + diff, target


SMOOTH = [("smooth_l1_loss", "SmoothL1Loss", "beta", value) for value in (1.0, 0.5, 2.0, 0.0)] + \
         [("huber_loss", "HuberLoss", "delta", value) for value in (1.0, 0.3, 2.5)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn,module,option,value", SMOOTH)
def test_smooth_losses_match_torch_values_and_gradients_including_the_kinks(fn, module, option, value, reduction,
                                                                             dtype):
    x, t = regression_arrays(np.random.default_rng(0), value or 1.0)
    kwargs = {option: value, "reduction": reduction}
    compare_loss(f"{fn} {kwargs}", lambda a, b: getattr(F, fn)(a, b, **kwargs),
                 lambda a, b: getattr(TF, fn)(a, b, **kwargs), [x, t], dtype)
    ours_module, torch_module = getattr(nn, module)(**kwargs), getattr(torch.nn, module)(**kwargs)
    assert_matches_torch(f"{module}", ours_module(ag.tensor(x.astype(dtype)), ag.tensor(t.astype(dtype))),
                         torch_module(to_torch(x.astype(dtype)), to_torch(t.astype(dtype))), dtype)


@pytest.mark.parametrize("fn,option,value", [("smooth_l1_loss", "beta", 0.7), ("huber_loss", "delta", 0.7)])
def test_smooth_losses_second_derivative_is_one_over_width_strictly_inside_as_torch(fn, option, value):
    x, t = regression_arrays(np.random.default_rng(1), value)
    (a, ta), (b, tb) = both(x), both(t)
    g, = ag.grad(getattr(F, fn)(a, b, reduction="sum", **{option: value}), [a], create_graph=True)
    tg, = torch.autograd.grad(getattr(TF, fn)(ta, tb, reduction="sum", **{option: value}), [ta],
                              create_graph=True)
    assert_matches_torch(f"{fn} first derivative", g, tg)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    assert_matches_torch(f"{fn} second derivative (input)", a.grad, ta.grad)
    assert_matches_torch(f"{fn} second derivative (target)", b.grad, tb.grad)


@pytest.mark.parametrize("fn,option,value", [("smooth_l1_loss", "beta", 0.8), ("huber_loss", "delta", 1.3)])
def test_smooth_losses_pass_gradcheck_and_gradgradcheck_away_from_the_kinks(fn, option, value):
    rng = np.random.default_rng(2)
    target = rng.normal(size=(3, 4))
    diff = rng.uniform(0.1, 0.6, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4)) * value
    diff[0] = rng.uniform(1.2, 3.0, size=4) * value * rng.choice([-1, 1], size=4)  # the linear pieces
    x, t = ag.tensor(target + diff, requires_grad=True), ag.tensor(target, requires_grad=True)
    for reduction in ("mean", "none"):
        def loss(a, b):
            return getattr(F, fn)(a, b, reduction=reduction, **{option: value})
        assert ag.gradcheck(loss, [x, t])
        assert ag.gradgradcheck(loss, [x, t])


def test_huber_weight_matches_torch_and_must_have_the_input_shape():
    rng = np.random.default_rng(3)
    x, t = regression_arrays(rng, 1.0)
    weight = rng.uniform(0.1, 2.0, size=x.shape)
    for reduction in ("mean", "sum", "none"):
        compare_loss(f"huber weight {reduction}", lambda a, b, w: F.huber_loss(a, b, reduction, 0.8, weight=w),
                     lambda a, b, w: TF.huber_loss(a, b, reduction, 0.8, weight=w), [x, t, weight], np.float64)
    with pytest.raises(ShapeError, match=r"huber_loss: the weight's shape \(5,\) differs .* \(4, 5\)"):
        F.huber_loss(ag.tensor(x), ag.tensor(t), weight=ag.tensor(weight[0]))


@pytest.mark.parametrize("fn", ["smooth_l1_loss", "huber_loss"])
def test_broadcast_targets_warn_as_torch_and_give_torch_values(fn):
    x, t = regression_arrays(np.random.default_rng(4), 1.0, shape=(3, 4), target_shape=(4,))
    with pytest.warns(UserWarning, match=r"target size \(\(4,\)\) that is different to the input size \(\(3, 4\)\)"):
        out = getattr(F, fn)(ag.tensor(x), ag.tensor(t))
    with pytest.warns(UserWarning, match="different to the input size"):
        torch_out = getattr(TF, fn)(to_torch(x), to_torch(t))
    assert_matches_torch(fn, out, torch_out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, fn)(ag.tensor(x), ag.tensor(x))  # same shapes: silent


def test_bad_beta_delta_and_reduction_raise_naming_the_value():
    x = ag.ones(3)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0.*-1\.0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    for delta in (0.0, -2.0):
        with pytest.raises(ValueError, match=rf"huber_loss: delta must be > 0.*{delta}"):
            F.huber_loss(x, x, delta=delta)
    with pytest.raises(ValueError, match="SmoothL1Loss: beta"):
        nn.SmoothL1Loss(beta=-0.5)
    with pytest.raises(ValueError, match="HuberLoss: delta"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.huber_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.SmoothL1Loss(reduction="avg")


def test_smooth_l1_legacy_size_average_and_reduce_as_torch():
    x, t = regression_arrays(np.random.default_rng(5), 1.0)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that these are deprecated
            expected = TF.smooth_l1_loss(to_torch(x), to_torch(t), size_average=size_average, reduce=reduce)
        assert_matches_torch("legacy", F.smooth_l1_loss(ag.tensor(x), ag.tensor(t), size_average, reduce), expected)


# -- KL divergence ---------------------------------------------------------------------------------------
def kl_arrays(rng, shape, log_target):
    input = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    target = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if not log_target:
        target.flat[[1, 5]] = 0.0  # 0 log 0 = 0
    return input, (np.log(target) if log_target else target)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
def test_kl_div_matches_torch_for_every_reduction_and_log_target(reduction, log_target, dtype):
    x, t = kl_arrays(np.random.default_rng(6), (4, 5), log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reduction='mean' warns, in both
        ours, _ = compare_loss(f"kl_div {reduction} {log_target}",
                               lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                               lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                               [x, t], dtype, grad_of=[0] if not log_target else None)
        module = nn.KLDivLoss(reduction=reduction, log_target=log_target)
        expected = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(to_torch(x), to_torch(t))
        assert_matches_torch("KLDivLoss", module(ag.tensor(x), ag.tensor(t)), expected)
    if not log_target:  # the target's gradient: PyTorch's wherever the target is positive
        torch_target = to_torch(t.astype(dtype), True)
        torch_input = to_torch(x.astype(dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TF.kl_div(torch_input, torch_target, reduction=reduction).backward(
                to_torch(np.random.default_rng(5).normal(size=() if reduction != "none" else t.shape).astype(dtype)))
        positive = t > 0
        assert_matches_torch("kl_div target grad", ours[1].grad.numpy()[positive], torch_target.grad.numpy()[positive],
                             dtype)
        # where the target is 0 its own term t log t contributes nothing: the gradient is that of -t * input
        seed = np.random.default_rng(5).normal(size=() if reduction != "none" else t.shape).astype(dtype)
        scale = {"batchmean": 1 / 4, "sum": 1.0, "mean": 1 / 20, "none": 1.0}[reduction]
        expected_zero = -(seed * np.ones(t.shape) * scale * x.astype(dtype))[~positive]
        np.testing.assert_allclose(ours[1].grad.numpy()[~positive], expected_zero, rtol=1e-5)


def test_kl_div_warns_for_mean_as_torch_and_batchmean_divides_by_the_batch():
    x, t = kl_arrays(np.random.default_rng(7), (3, 4), False)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(ag.tensor(x), ag.tensor(t))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        TF.kl_div(to_torch(x), to_torch(t))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = F.kl_div(ag.tensor(x), ag.tensor(t), reduction="sum").item()
        assert F.kl_div(ag.tensor(x), ag.tensor(t), reduction="batchmean").item() == pytest.approx(total / 3)
        scalar = F.kl_div(ag.tensor(-1.0), ag.tensor(0.5), reduction="batchmean")  # 0-d: no batch to divide by
    assert_matches_torch("0-d batchmean", scalar,
                         TF.kl_div(torch.tensor(-1.0), torch.tensor(0.5), reduction="batchmean"))


def test_kl_div_negative_target_gives_nan_silently_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.kl_div(ag.tensor([0.0, -1.0]), ag.tensor([-0.5, 0.5]), reduction="none")
    expected = TF.kl_div(torch.tensor([0.0, -1.0]), torch.tensor([-0.5, 0.5]), reduction="none")
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(expected.numpy()))
    assert_matches_torch("finite part", out.numpy()[1:], expected[1:])


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_passes_gradcheck_and_gradgradcheck(log_target):
    x, t = kl_arrays(np.random.default_rng(8), (3, 4), log_target=True)
    t = t if log_target else np.exp(t)
    a, b = ag.tensor(x, requires_grad=True), ag.tensor(t, requires_grad=True)

    def loss(a, b):
        return F.kl_div(a, b, reduction="batchmean", log_target=log_target)
    assert ag.gradcheck(loss, [a, b])
    assert ag.gradgradcheck(loss, [a, b])


def test_kl_div_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="kl_div: 'avg' is not a valid value for reduction .*'batchmean'"):
        F.kl_div(ag.zeros(2), ag.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="KLDivLoss: 'avg' is not a valid value"):
        nn.KLDivLoss(reduction="avg")


# -- cosine similarity and normalize ------------------------------------------------------------------
COSINE_SHAPES = [((4, 5), (4, 5), 1), ((4, 5), (4, 5), -1), ((4, 5), (4, 5), 0), ((2, 1, 3), (4, 3), -1),
                 ((3,), (3,), 0), ((2, 3, 4), (1, 3, 1), 1), ((5, 3), (3,), 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape1,shape2,dim", COSINE_SHAPES)
def test_cosine_similarity_matches_torch_with_broadcasting(shape1, shape2, dim, dtype):
    rng = np.random.default_rng(9)
    compare_loss(f"cosine {shape1} {shape2} {dim}", lambda a, b: F.cosine_similarity(a, b, dim=dim),
                 lambda a, b: TF.cosine_similarity(a, b, dim=dim),
                 [rng.normal(size=shape1), rng.normal(size=shape2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity_clamps_small_norms_in_value_only_as_torch(dtype):
    """Zero and tiny vectors: the norm is clamped to eps, the gradient still flows through the norm."""
    rng = np.random.default_rng(10)
    x1, x2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x1[0] = 0.0
    x1[1] = 1e-5
    x2[2] = 0.0
    compare_loss("cosine small norms", lambda a, b: F.cosine_similarity(a, b, eps=1e-4),
                 lambda a, b: TF.cosine_similarity(a, b, eps=1e-4), [x1, x2], dtype)
    compare_loss("cosine zeros", lambda a, b: F.cosine_similarity(a, b, dim=1),
                 lambda a, b: TF.cosine_similarity(a, b, dim=1), [np.zeros((2, 3)), np.ones((2, 3))], dtype)


def test_cosine_similarity_passes_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(11)
    a, b = ag.tensor(rng.normal(size=(3, 4)), requires_grad=True), ag.tensor(rng.normal(size=(4,)), requires_grad=True)
    assert ag.gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=-1), [a, b])
    assert ag.gradgradcheck(lambda a, b: F.cosine_similarity(a, b, dim=-1), [a, b])


def test_cosine_similarity_bad_shapes_and_dims_raise_naming_them():
    with pytest.raises(ShapeError, match=r"cosine_similarity: the shapes \(2, 3\) and \(2, 4\) do not broadcast"):
        F.cosine_similarity(ag.ones(2, 3), ag.ones(2, 4))
    with pytest.raises(IndexError, match=r"cosine_similarity: dim 2 is out of range for the 2-d shape \(2, 3\)"):
        F.cosine_similarity(ag.ones(2, 3), ag.ones(2, 3), dim=2)
    with pytest.raises(IndexError, match="dim 1 is out of range"):
        F.cosine_similarity(ag.ones(3), ag.ones(3))  # the default dim=1 needs 2-d inputs, as in PyTorch


NORMALIZE = [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,dim", NORMALIZE)
def test_normalize_matches_torch_including_rows_below_eps(p, dim, dtype):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(4, 5, 3))
    x[0, :, 0] = 0.0
    x[:, 1, 1] = 0.0
    compare_loss(f"normalize p={p} dim={dim} default eps", lambda a: F.normalize(a, p, dim),
                 lambda a: TF.normalize(a, p, dim), [x], dtype)
    x[2] = 1e-6  # norms below eps: the denominator is eps, a constant
    compare_loss(f"normalize p={p} dim={dim}", lambda a: F.normalize(a, p, dim, eps=1e-3),
                 lambda a: TF.normalize(a, p, dim, eps=1e-3), [x], dtype)


def test_normalize_passes_gradcheck_and_gradgradcheck():
    x = ag.tensor(np.random.default_rng(13).normal(size=(3, 4)), requires_grad=True)
    for p in (2.0, 3.0):
        assert ag.gradcheck(lambda a: F.normalize(a, p=p, dim=1), [x])
        assert ag.gradgradcheck(lambda a: F.normalize(a, p=p, dim=0), [x])


def test_normalize_rejects_out_and_a_bad_dim():
    with pytest.raises(ag.ArgumentError, match="normalize: out= is not supported"):
        F.normalize(ag.ones(2, 3), out=ag.zeros(2, 3))
    with pytest.raises(IndexError, match="normalize: dim 1 is out of range for the 1-d shape"):
        F.normalize(ag.ones(3))


# -- Unflatten -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, (2, -1), (3, 8)), (0, [1, 2, 2], (4, 3)),
                                             (1, (5,), (2, 5, 3)), (-2, (3, 1, 2), (2, 6, 1))])
def test_unflatten_matches_torch_and_gradients_flow_back(dim, sizes, shape):
    x = np.random.default_rng(14).normal(size=shape)
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    compare_loss(f"Unflatten {dim} {sizes}", ours, theirs, [x], np.float64)
    assert repr(ours) == repr(theirs)
    assert nn.Sequential(nn.Flatten(), nn.Unflatten(1, shape[1:]))(ag.tensor(x)).shape == shape


def test_unflatten_bad_sizes_raise_naming_them():
    with pytest.raises(ShapeError, match=r"Unflatten: the sizes \(2, 3\) don't multiply up to the size 7 of dim 1"):
        nn.Unflatten(1, (2, 3))(ag.ones(2, 7))
    with pytest.raises(ShapeError, match="don't multiply up"):
        nn.Unflatten(1, (-1, -1))(ag.ones(2, 4))
    with pytest.raises(ShapeError, match="don't multiply up"):
        nn.Unflatten(1, (3, -1))(ag.ones(2, 4))
    with pytest.raises(IndexError, match=r"Unflatten: dim 2 is out of range for an input of shape \(2, 4\)"):
        nn.Unflatten(2, (2, 2))(ag.ones(2, 4))
    with pytest.raises(TypeError, match="element of type float at position 1"):
        nn.Unflatten(1, (2, 2.0))
    with pytest.raises(TypeError, match="tuple or list of ints"):
        nn.Unflatten(1, 4)


# -- pad_sequence -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence_matches_torch_and_gradients_reach_each_sequence(trailing, padding_side, batch_first, dtype):
    rng = np.random.default_rng(15)
    arrays = [rng.normal(size=(n,) + trailing) for n in (3, 1, 4, 4)]
    compare_loss(f"pad_sequence {trailing} {padding_side} {batch_first}",
                 lambda *s: pad_sequence(s, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side),
                 lambda *s: torch.nn.utils.rnn.pad_sequence(s, batch_first=batch_first, padding_value=-2.5,
                                                            padding_side=padding_side), arrays, dtype)


def test_pad_sequence_takes_a_tensor_as_a_list_of_its_rows_and_keeps_integer_dtypes():
    x = np.arange(6).reshape(3, 2)
    assert_matches_torch("tensor input", pad_sequence(ag.tensor(x)), torch.nn.utils.rnn.pad_sequence(to_torch(x)))
    seqs = [np.arange(2), np.arange(4)]
    ours = pad_sequence([ag.tensor(s) for s in seqs], batch_first=True, padding_value=7)
    expected = torch.nn.utils.rnn.pad_sequence([to_torch(s) for s in seqs], batch_first=True, padding_value=7)
    np.testing.assert_array_equal(ours.numpy(), expected.numpy())
    assert ours.dtype == np.int64
    assert pad_sequence([ag.ones(2, 3)]).shape == (2, 1, 3)
    assert nn.utils.rnn.pad_sequence is pad_sequence


def test_pad_sequence_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ShapeError, match=r"sequence 0 has shape \(2, 3\), sequence 1 has shape \(2, 4\)"):
        pad_sequence([ag.ones(2, 3), ag.ones(2, 4)])
    with pytest.raises(ShapeError, match=r"sequence 1 has shape \(\)"):
        pad_sequence([ag.ones(2), ag.tensor(1.0)])
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right', got 'top'"):
        pad_sequence([ag.ones(2)], padding_side="top")
    with pytest.raises(TypeError, match="sequence 1 is a list"):
        pad_sequence([ag.ones(2), [1.0, 2.0]])


@pytest.mark.parametrize("loss, kwargs", [("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.1}),
                                          ("nll_loss", {})])
def test_a_mean_over_only_ignored_targets_is_nan_with_a_zero_gradient_as_torch(loss, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    targets = np.array([2, 2, 2])
    ours = ag.tensor(x, requires_grad=True)
    value = getattr(F, loss)(ours, ag.tensor(targets), ignore_index=2, **kwargs)
    value.backward()
    theirs = torch.tensor(x, requires_grad=True)
    reference = getattr(torch.nn.functional, loss)(theirs, torch.tensor(targets), ignore_index=2, **kwargs)
    reference.backward()
    assert np.isnan(value.item()) and np.isnan(reference.item()) and value.dtype == np.float32
    np.testing.assert_array_equal(np.abs(ours.grad.numpy()), np.abs(theirs.grad.numpy()))


# -- margin, embedding and likelihood losses ---------------------------------------------------------

def _pm1(rng, shape):
    return np.where(rng.random(shape) > 0.5, 1.0, -1.0)


# (module, inputs as arrays that require grad, constant arrays): built with `nn` or torch.nn
MORE_LOSSES = [
    ("MarginRankingLoss(margin=0.3)", lambda r: [r.standard_normal(6), r.standard_normal(6)], lambda r: [_pm1(r, 6)]),
    ("HingeEmbeddingLoss(margin=0.8)", lambda r: [r.random((3, 4)) * 2], lambda r: [_pm1(r, (3, 4))]),
    ("SoftMarginLoss()", lambda r: [r.standard_normal((3, 4))], lambda r: [_pm1(r, (3, 4))]),
    ("CosineEmbeddingLoss(margin=0.2)", lambda r: [r.standard_normal((5, 3)), r.standard_normal((5, 3))],
     lambda r: [_pm1(r, 5)]),
    ("CosineEmbeddingLoss()", lambda r: [r.standard_normal(4), r.standard_normal(4)], lambda r: [np.array(-1.0)]),
    ("MultiLabelSoftMarginLoss()", lambda r: [r.standard_normal((3, 4))],
     lambda r: [r.integers(0, 2, (3, 4)).astype(float)]),
    ("MultiLabelSoftMarginLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64))",
     lambda r: [r.standard_normal((3, 4))], lambda r: [r.integers(0, 2, (3, 4)).astype(float)]),
    ("TripletMarginLoss(margin=2.0)", lambda r: [r.standard_normal((4, 3)) for _ in range(3)], lambda r: []),
    ("TripletMarginLoss(p=1.0, swap=True)", lambda r: [r.standard_normal((4, 3)) for _ in range(3)], lambda r: []),
    ("TripletMarginWithDistanceLoss(margin=1.5, swap=True)", lambda r: [r.standard_normal((4, 3)) for _ in range(3)],
     lambda r: []),
    ("GaussianNLLLoss()", lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.random((4, 3)) + 0.1],
     lambda r: []),
    ("GaussianNLLLoss(full=True, eps=0.05)", lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                                                        r.random((4, 1)) * 0.1], lambda r: []),
    ("GaussianNLLLoss()", lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.random(4) + 0.1],
     lambda r: []),
    ("PoissonNLLLoss()", lambda r: [r.standard_normal((3, 4)), r.integers(0, 5, (3, 4)).astype(float)], lambda r: []),
    # targets in (1, 5), away from the jump of the Stirling term at 1 (and from 0, where PyTorch's target
    # gradient is NaN with full=True, from 0 * log 0, and ours finite)
    ("PoissonNLLLoss(log_input=False, full=True)", lambda r: [r.random((3, 4)) + 0.1, r.random((3, 4)) * 3 + 1.5],
     lambda r: []),
    ("PoissonNLLLoss(full=True)", lambda r: [r.standard_normal((3, 4))], lambda r: [r.integers(0, 5, (3, 4)) * 1.0]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("build, inputs, constants", MORE_LOSSES, ids=[c[0] for c in MORE_LOSSES])
def test_margin_embedding_and_likelihood_losses_match_torch(build, inputs, constants, reduction):
    rng = np.random.default_rng(0)
    arrays, fixed = inputs(rng), constants(rng)
    with_reduction = f"nn.{build[:-1]}{', ' if build[-2] != '(' else ''}reduction={reduction!r})"
    mine = eval(with_reduction, {"nn": nn, "torch": ag})
    theirs = eval(with_reduction, {"nn": torch.nn, "torch": torch})
    compare_loss(build, lambda *xs: mine(*xs, *(ag.tensor(c) for c in fixed)),
                 lambda *xs: theirs(*xs, *(to_torch(c) for c in fixed)), arrays, np.float64)
    if "eps=0.05" not in build:   # there var is clamped in value only, so its gradient is not the slope
        ours = [ag.tensor(a, requires_grad=True) for a in arrays]
        assert ag.gradcheck(lambda *xs: mine(*xs, *(ag.tensor(c) for c in fixed)), ours)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.margin_ranking_loss(ag.zeros(3), ag.zeros(3, 1), ag.ones(3)), ValueError, "same dimension"),
    (lambda: F.gaussian_nll_loss(ag.zeros(4, 3), ag.zeros(4, 3), ag.ones(4, 2)), ValueError,
     r"var is of incorrect size \(4, 2\) for an input of shape \(4, 3\)"),
    (lambda: F.gaussian_nll_loss(ag.zeros(2), ag.zeros(2), ag.full((2,), -1.0)), ValueError, "negative entry"),
    (lambda: nn.TripletMarginLoss(margin=0.0), ValueError, "margin must be greater than 0"),
    (lambda: F.triplet_margin_loss(ag.zeros(2, 3), ag.zeros(3), ag.zeros(2, 3)), ValueError, "all be 1-D or all 2-D"),
    (lambda: F.cosine_embedding_loss(ag.zeros(2, 3), ag.zeros(2, 3), ag.ones(3)), ValueError, "a target"),
])
def test_margin_and_likelihood_loss_mistakes_raise_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- CTC ---------------------------------------------------------------------------------------------

CTC_CASES = [  # (targets, target_lengths, input_lengths): padded, repeated labels, concatenated, impossible
    (np.array([[1, 2, 2, 3], [4, 1, 0, 0], [2, 3, 1, 4]]), [4, 2, 3], [12, 9, 10]),
    (np.array([1, 2, 2, 3, 4, 1, 2, 3, 1]), [4, 2, 3], [12, 12, 5]),
    (np.array([[1, 1, 1, 1, 1, 1, 1], [2, 3, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0, 0]]), [7, 2, 1], [6, 12, 1]),
]


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", range(len(CTC_CASES)))
def test_ctc_loss_matches_torch_through_log_softmax(case, dtype, reduction, zero_infinity):
    """Losses and gradients of the logits and of the log-probabilities (PyTorch's own, which assumes a
    log_softmax before it). Case 2 has a target longer than its input: an infinite loss, or zero."""
    targets, target_lengths, input_lengths = CTC_CASES[case]
    logits = np.random.default_rng(case).standard_normal((12, 3, 5)).astype(dtype)
    x, xt = ag.tensor(logits, requires_grad=True), to_torch(logits, True)
    log_probs, log_probs_t = F.log_softmax(x, 2), TF.log_softmax(xt, 2)
    log_probs.retain_grad()
    log_probs_t.retain_grad()
    loss = nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity)(
        log_probs, ag.tensor(targets), ag.tensor(np.array(input_lengths)), ag.tensor(np.array(target_lengths)))
    loss_t = torch.nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity)(
        log_probs_t, torch.tensor(targets), torch.tensor(input_lengths), torch.tensor(target_lengths))
    if not np.isfinite(loss_t.detach().numpy()).all():       # an impossible alignment without zero_infinity
        np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-5)
        return
    assert_matches_torch("ctc loss", loss, loss_t, dtype)
    loss.sum().backward()
    loss_t.sum().backward()
    assert_matches_torch("log_probs grad", log_probs.grad, log_probs_t.grad, dtype)
    assert_matches_torch("logits grad", x.grad, xt.grad, dtype)


def test_ctc_loss_gradcheck_through_log_softmax_and_unbatched_input():
    rng = np.random.default_rng(3)
    targets = ag.tensor(np.array([[1, 2, 2], [3, 1, 0]]))
    logits = ag.tensor(rng.standard_normal((6, 2, 4)), requires_grad=True)
    assert ag.gradcheck(lambda x: F.ctc_loss(F.log_softmax(x, 2), targets, [6, 5], [3, 2]), [logits])
    single = rng.standard_normal((7, 4))
    mine = F.ctc_loss(ag.tensor(single), ag.tensor(np.array([1, 3])), 7, 2, reduction="none")
    theirs = TF.ctc_loss(torch.tensor(single), torch.tensor([1, 3]), torch.tensor(7), torch.tensor(2), reduction="none")
    assert_matches_torch("unbatched", mine, theirs)


@pytest.mark.parametrize("call, message", [
    (lambda: F.ctc_loss(ag.zeros(4, 2, 3), ag.tensor(np.array([[0, 1], [2, 1]])), [4, 4], [2, 2]),
     "other than the blank 0"),
    (lambda: F.ctc_loss(ag.zeros(4, 2, 3), ag.tensor(np.array([1, 2, 1])), [4, 4], [1, 1]), "sum to 2"),
    (lambda: F.ctc_loss(ag.zeros(4, 2, 3), ag.tensor(np.array([[1], [2]])), [5, 4], [1, 1]), r"\[0, 4\]"),
])
def test_ctc_loss_refuses_bad_targets_and_lengths(call, message):
    with pytest.raises(ValueError, match=message):
        call()
