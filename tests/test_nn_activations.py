"""Activations, as modules and functions: each row of ACTIVATIONS is compared with PyTorch
(values and gradients, float64 and float32, including large inputs) and gradchecked, first and
second order, in float64."""
from dataclasses import dataclass

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import DTYPES, assert_matches_torch, to_torch


@dataclass
class Activation:
    name: str
    module: str          # constructor call, evaluated with `m` = nn or torch.nn
    function: str        # functional call on `x`, evaluated with `F` = nn.functional or torch's
    shape: tuple = (3, 4)
    # PyTorch's CPU kernel rounds a constant to float32 (hardsigmoid's 1/6, celu's 1/alpha), so its
    # float64 results carry float32 error there: compare those to float32's precision.
    torch_rounds_constants: bool = False


ACTIVATIONS = [
    Activation("relu", "m.ReLU()", "F.relu(x)"),
    Activation("leaky_relu", "m.LeakyReLU()", "F.leaky_relu(x)"),
    Activation("leaky_relu_slope", "m.LeakyReLU(negative_slope=0.2)", "F.leaky_relu(x, 0.2)"),
    Activation("prelu", "m.PReLU()", None),
    Activation("prelu_per_channel", "m.PReLU(num_parameters=3, init=0.1)", None, (2, 3, 2)),
    Activation("gelu", "m.GELU()", "F.gelu(x)"),
    Activation("gelu_tanh", "m.GELU(approximate='tanh')", "F.gelu(x, approximate='tanh')"),
    Activation("sigmoid", "m.Sigmoid()", "F.sigmoid(x)"),
    Activation("tanh", "m.Tanh()", "F.tanh(x)"),
    Activation("silu", "m.SiLU()", "F.silu(x)"),
    Activation("elu", "m.ELU()", "F.elu(x)"),
    Activation("elu_alpha", "m.ELU(alpha=0.5)", "F.elu(x, alpha=0.5)"),
    Activation("softplus", "m.Softplus()", "F.softplus(x)"),
    Activation("softplus_beta", "m.Softplus(beta=2.0, threshold=5.0)", "F.softplus(x, beta=2.0, threshold=5.0)"),
    Activation("softmax", "m.Softmax(dim=1)", "F.softmax(x, dim=1)"),
    Activation("softmax_dim0", "m.Softmax(dim=0)", "F.softmax(x, 0)", (3, 2, 2)),
    Activation("log_softmax", "m.LogSoftmax(dim=1)", "F.log_softmax(x, dim=1)"),
    Activation("log_softmax_last", "m.LogSoftmax(dim=-1)", "F.log_softmax(x, dim=-1)", (2, 2, 3)),
    Activation("logsigmoid", "m.LogSigmoid()", "F.logsigmoid(x)"),
    Activation("relu6", "m.ReLU6()", "F.relu6(x * 4)"),
    Activation("hardtanh", "m.Hardtanh(-0.5, 2.0)", "F.hardtanh(x, -0.5, 2.0)"),
    Activation("hardsigmoid", "m.Hardsigmoid()", "F.hardsigmoid(x * 3)", torch_rounds_constants=True),
    Activation("hardswish", "m.Hardswish()", "F.hardswish(x * 3)"),
    Activation("selu", "m.SELU()", "F.selu(x)"),
    Activation("celu", "m.CELU(alpha=0.7)", "F.celu(x, 0.7)", torch_rounds_constants=True),
    Activation("mish", "m.Mish()", "F.mish(x)"),
    Activation("threshold", "m.Threshold(0.1, 20.0)", "F.threshold(x, 0.1, 20.0)"),
    Activation("softsign", "m.Softsign()", "F.softsign(x)"),
    Activation("tanhshrink", "m.Tanhshrink()", "F.tanhshrink(x)"),
    Activation("softshrink", "m.Softshrink(0.3)", "F.softshrink(x, 0.3)"),
    Activation("hardshrink", "m.Hardshrink(0.3)", "F.hardshrink(x, 0.3)"),
    Activation("softmin", "m.Softmin(dim=1)", "F.softmin(x, dim=1)"),
]

# Inputs: ordinary values, then large ones where naive formulas overflow or lose the gradient.
INPUT_SCALES = {"normal": 1.0, "large": 40.0}


def _inputs(shape, scale, rng, dtype):
    x = rng.standard_normal(shape) * scale
    x.flat[0] = 0.0         # the kink of relu, leaky_relu, elu: the gradient convention must match
    if scale > 1:
        x.flat[1], x.flat[-1] = 100.0, -100.0
    return x.astype(dtype)


def _callables(case, m, functional):
    """(label, callable(x)) for the module form and the functional form."""
    out = []
    if case.module:
        layer = eval(case.module, {"m": m})
        out.append(("module", layer))
    if case.function:
        out.append(("functional", lambda x, F=functional: eval(case.function, {"F": F, "x": x})))
    return out


@pytest.mark.parametrize("scale", list(INPUT_SCALES), ids=list(INPUT_SCALES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c.name for c in ACTIVATIONS])
def test_activation_matches_torch(case, dtype, scale, rng):
    torch = pytest.importorskip("torch")
    x = _inputs(case.shape, INPUT_SCALES[scale], rng, dtype)
    upstream = rng.standard_normal(case.shape).astype(dtype)
    for (label, mine), (_, theirs) in zip(_callables(case, nn, F), _callables(case, torch.nn, torch.nn.functional)):
        if label == "module":
            mine.to(dtype)
            theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
        mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
        m_out, t_out = mine(mx), theirs(tx)
        name = f"{case.name} {label} {scale}"
        assert m_out.dtype == dtype
        assert np.isfinite(m_out.numpy()).all() or not np.isfinite(t_out.detach().numpy()).all()
        rtol = 1e-6 if case.torch_rounds_constants else None
        assert_matches_torch(f"{name} output", m_out, t_out, dtype, rtol=rtol)
        m_out.backward(ag.tensor(upstream))
        t_out.backward(to_torch(upstream))
        assert np.isfinite(mx.grad.numpy()).all(), f"{name}: non-finite gradient"
        assert_matches_torch(f"{name} input grad", mx.grad, tx.grad, dtype, rtol=rtol)
        if label == "module":
            for (pname, tp), (_, mp) in zip(theirs.named_parameters(), mine.named_parameters()):
                assert_matches_torch(f"{name} {pname}.grad", mp.grad, tp.grad, dtype)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c.name for c in ACTIVATIONS])
def test_activation_gradcheck_and_gradgradcheck(case, rng):
    x = rng.standard_normal(case.shape) * 2
    x[np.abs(x) < 0.05] = 0.5      # finite differences straddling a kink are meaningless
    x = ag.tensor(x, requires_grad=True)
    for label, fn in _callables(case, nn, F):
        params = list(fn.parameters()) if label == "module" else []
        if label == "module":
            fn.double()
        assert ag.gradcheck(lambda *args: fn(x), [x] + params), label
        assert ag.gradgradcheck(lambda *args: fn(x), [x] + params), label


def test_sigmoid_and_softplus_are_stable_at_extremes():
    x = ag.tensor(np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], np.float32), requires_grad=True)
    s = F.sigmoid(x)
    assert np.isfinite(s.numpy()).all() and s.numpy()[0] == 0 and s.numpy()[-1] == 1
    sp = F.softplus(x)
    np.testing.assert_allclose(sp.numpy(), [0, 3.7e-44, np.log(2), 100, 1000], rtol=1e-6, atol=1e-45)
    sp.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 3.7e-44, 0.5, 1, 1], rtol=1e-2, atol=1e-45)


def test_implicit_softmax_dim_warns_and_follows_pytorchs_rule():
    x = ag.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(1), 1, rtol=1e-6)


def test_prelu_rejects_a_wrong_number_of_parameters():
    with pytest.raises(ValueError, match="prelu.*2 parameters.*3 channels"):
        nn.PReLU(2)(ag.zeros(4, 3))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


@pytest.mark.parametrize("make", [lambda: nn.ReLU6(inplace=True), lambda: nn.Hardtanh(inplace=True),
                                  lambda: nn.Hardswish(inplace=True), lambda: nn.SELU(inplace=True),
                                  lambda: nn.Mish(inplace=True), lambda: nn.CELU(inplace=True),
                                  lambda: nn.Threshold(0.0, -1.0, inplace=True)])
def test_inplace_activations_write_into_their_input_and_keep_the_gradient(make, rng):
    data = rng.standard_normal((3, 4)) * 3
    x = ag.tensor(data, requires_grad=True)
    hidden = x * 1.0
    layer = make()
    out = layer(hidden)
    assert out is hidden and "inplace=True" in repr(layer)
    out.sum().backward()
    layer.inplace = False
    x2 = ag.tensor(data, requires_grad=True)
    layer(x2 * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy())


@pytest.mark.parametrize("module, shape, feature_dims", [
    (nn.Dropout1d, (4, 6, 5), 1), (nn.Dropout2d, (4, 6, 3, 3), 2), (nn.Dropout3d, (2, 6, 2, 2, 2), 3),
    (nn.Dropout2d, (6, 3, 3), 2)])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(module, shape, feature_dims):
    ag.manual_seed(0)
    layer = module(p=0.5)
    x = ag.ones(*shape, requires_grad=True)
    out = layer(x)
    channels = out.numpy().reshape(shape[:len(shape) - feature_dims] + (-1,))
    assert set(np.unique(channels)) <= {0.0, 2.0}
    assert np.all(channels.min(-1) == channels.max(-1))           # a channel is kept or dropped whole
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ag.ShapeError, match="dropout2d"):
        nn.functional.dropout2d(ag.ones(2, 3))


def test_half_precision_sigmoid_is_torchs_bit_for_bit():
    torch = pytest.importorskip("torch")
    grid = np.linspace(-20, 20, 40001).astype(np.float16)[::-1]   # negative strides too
    out = ag.sigmoid(ag.from_numpy(grid))
    expected = torch.sigmoid(torch.from_numpy(grid.copy()))
    assert out.dtype == ag.float16
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("size", [7, 1 << 17], ids=["small", "blocked"])   # both of relu's paths
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_keeps_negative_zero_and_nan_as_torch(size, dtype):
    torch = pytest.importorskip("torch")
    special = np.array([-0.0, 0.0, -1.0, 2.0, np.nan, -np.inf, np.inf], dtype)
    x = np.resize(special, size)
    ours = ag.relu(ag.tensor(x)).numpy()
    theirs = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_gradient_is_exactly_zero_where_blocked_even_for_inf_and_nan_gradients_as_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([1.0, -1.0, 0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 2.0, -3.0], dtype)
    upstream = np.array([np.inf, np.nan, -np.inf, np.nan, 3.0, 4.0, 5.0, np.inf, -2.0, -0.0], dtype)
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ag.relu(ours).backward(ag.tensor(upstream))
    torch.relu(theirs).backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("low, high", [(-1.0, 1.0), (0.0, 6.0)])
def test_hardtanh_op_clamps_with_no_gradient_at_the_bounds_and_keeps_a_conv_outputs_layout(low, high):
    torch = pytest.importorskip("torch")
    values = np.array([low - 1, low, (low + high) / 2, high, high + 1, np.nan, -np.inf, np.inf], np.float32)
    channel_major = np.ascontiguousarray(np.resize(values, (3, 2, 4, 4))).transpose(1, 0, 2, 3)  # as conv outputs
    ours_x = ag.from_numpy(channel_major).requires_grad_()   # shares the array, strides and all
    theirs_x = torch.tensor(channel_major, requires_grad=True)
    ours, theirs = ag.hardtanh(ours_x, low, high), torch.nn.functional.hardtanh(theirs_x, low, high)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    assert ours.numpy().transpose(1, 0, 2, 3).flags.c_contiguous   # computed in memory order, not C order
    upstream = np.arange(channel_major.size, dtype=np.float32).reshape(channel_major.shape)
    ours.backward(ag.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())
    assert ag.gradgradcheck(lambda t: ag.hardtanh(t, low, high) ** 2,
                            [ag.tensor(np.array([low + 0.3, (low + high) / 2, high - 0.2]), requires_grad=True)])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_softplus_is_within_three_ulp_everywhere_and_never_overflows(dtype):
    from autograd.ops.activations import softplus_array
    x = np.concatenate([np.linspace(-120, 120, 20001), [0.0, -0.0, 1e-30, -1e-30, 88.7, 89.0, 710.0]]).astype(dtype)
    exact = np.logaddexp(0, x.astype(np.float64))
    ours = softplus_array(x)
    assert ours.dtype == dtype and np.isfinite(ours).all()
    ulps = np.abs(ours.astype(np.float64) - exact) / np.spacing(exact.astype(dtype)).astype(np.float64)
    assert ulps[exact > 0].max() <= 3
    special = softplus_array(np.array([np.inf, -np.inf, np.nan], dtype))
    assert special[0] == np.inf and special[1] == 0 and np.isnan(special[2])


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, 1.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_leaky_relu_matches_torch_bit_for_bit_with_its_gradient(slope, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-2, -0.0, 0.0, 3, np.nan, np.inf, -np.inf, 1e-40, -7.3, 65000, -1e-45], dtype)
    upstream = (np.arange(1, x.size + 1) * 1.37).astype(dtype)
    ours_x, theirs_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = F.leaky_relu(ours_x, slope), torch.nn.functional.leaky_relu(theirs_x, slope)
    ours.backward(ag.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(theirs.detach().numpy()))
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())


def test_silu_op_second_derivative_matches_torch_and_finite_differences():
    torch = pytest.importorskip("torch")
    x = np.array([-6.0, -1.3, -0.0, 0.4, 2.5, 9.0])
    ours_x, theirs_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours_g,) = ag.grad(ag.silu(ours_x).sum(), ours_x, create_graph=True)
    (theirs_g,) = torch.autograd.grad(torch.nn.functional.silu(theirs_x).sum(), theirs_x, create_graph=True)
    (ours_gg,) = ag.grad((ours_g * ours_g).sum(), ours_x)
    (theirs_gg,) = torch.autograd.grad((theirs_g * theirs_g).sum(), theirs_x)
    np.testing.assert_allclose(ours_g.numpy(), theirs_g.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_gg.numpy(), theirs_gg.numpy(), rtol=1e-12, atol=1e-15)
    assert ag.gradgradcheck(ag.silu, [ag.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_hardswish_op_matches_torch_bit_for_bit_with_gradients_and_second_derivative(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(5000) * 4, [-4, -3, -0.0, 0, 3, np.nan, np.inf, -np.inf]]).astype(dtype)
    upstream = rng.standard_normal(x.size).astype(dtype)
    ours_x, theirs_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = F.hardswish(ours_x), torch.nn.functional.hardswish(theirs_x)
    ours.backward(ag.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    number = ~np.isnan(x)   # at NaN torch's own gradient depends on whether its vectorised loop or its tail saw it
    np.testing.assert_array_equal(ours_x.grad.numpy()[number], theirs_x.grad.numpy()[number])
    points = np.array([-4.0, -3.0, -1.5, 0.0, 2.9, 3.0, 3.5])
    ours_p, theirs_p = ag.tensor(points, requires_grad=True), torch.tensor(points, requires_grad=True)
    (ours_g,) = ag.grad(F.hardswish(ours_p).sum(), ours_p, create_graph=True)
    (theirs_g,) = torch.autograd.grad(torch.nn.functional.hardswish(theirs_p).sum(), theirs_p, create_graph=True)
    np.testing.assert_array_equal(ag.grad(ours_g.sum(), ours_p)[0].numpy(), torch.autograd.grad(theirs_g.sum(), theirs_p)[0].numpy())
