"""3-D convolution and pooling (conv3d, conv_transpose3d, max/avg/adaptive pooling, max_unpool3d and
their modules) against PyTorch: values, gradients, indices, float64 gradcheck and gradgradcheck, and
the errors bad arguments get."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.errors import ArgumentError, DTypeError, ShapeError
from nn_helpers import assert_matches_torch, both, copy_torch_state, to_torch

torch = pytest.importorskip("torch")
tf = torch.nn.functional


def _compare_with_gradients(name, mine, theirs, inputs, rng):
    """Values of mine vs theirs, then the gradients of the same random weighting of both outputs
    for each (ours, PyTorch's) leaf in inputs."""
    assert_matches_torch(name, mine, theirs)
    upstream = rng.standard_normal(tuple(theirs.shape))
    mine.backward(ag.tensor(upstream))
    theirs.backward(to_torch(upstream))
    for i, (ours, reference) in enumerate(inputs):
        assert_matches_torch(f"{name} grad {i}", ours.grad, reference.grad)


# -- conv3d -------------------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 6, 7, 5), (4, 3, 3, 3, 3), dict()),
    ((2, 3, 6, 7, 5), (4, 3, 3, 2, 3), dict(stride=2, padding=1)),
    ((1, 4, 7, 6, 8), (6, 2, 3, 3, 2), dict(stride=(1, 2, 3), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2)),
    ((2, 2, 5, 6, 5), (3, 2, 2, 3, 4), dict(padding="same")),            # even kernels: the odd extra goes last
    ((2, 2, 5, 6, 5), (3, 2, 3, 3, 3), dict(padding="same", dilation=(1, 2, 1))),
    ((2, 2, 5, 6, 5), (3, 2, 3, 3, 3), dict(padding="valid", stride=(2, 1, 1))),
    ((3, 5, 6, 5), (2, 3, 3, 2, 2), dict(padding=1)),                    # unbatched (C, D, H, W)
    ((2, 4, 4, 5, 6), (4, 1, 3, 3, 3), dict(padding=1, groups=4)),       # depthwise
])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")   # torch's, about its own copy
def test_conv3d_values_and_gradients_match_torch(x_shape, w_shape, kwargs, with_bias, rng):
    (x, xt), (w, wt) = both(rng.standard_normal(x_shape)), both(rng.standard_normal(w_shape))
    b, bt = both(rng.standard_normal(w_shape[0])) if with_bias else (None, None)
    leaves = [(x, xt), (w, wt)] + ([(b, bt)] if with_bias else [])
    _compare_with_gradients("conv3d", F.conv3d(x, w, b, **kwargs), tf.conv3d(xt, wt, bt, **kwargs), leaves, rng)


def test_conv3d_in_float32_matches_torch(rng):
    x = rng.standard_normal((2, 3, 8, 8, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3, 3)).astype(np.float32)
    (mx, tx), (mw, tw) = both(x), both(w)
    out, t_out = F.conv3d(mx, mw, padding=1, stride=(2, 1, 1)), tf.conv3d(tx, tw, padding=1, stride=(2, 1, 1))
    assert out.dtype == np.float32
    _compare_with_gradients("conv3d float32", out, t_out, [(mx, tx), (mw, tw)], rng)


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1, groups=2), dict(padding="same", dilation=(2, 1, 1)),
                                    dict(stride=(1, 2, 1), padding=(0, 1, 1))])
def test_conv3d_gradients_pass_gradcheck_and_gradgradcheck(kwargs, rng):
    x = ag.tensor(rng.standard_normal((1, 2, 4, 5, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 2 // kwargs.get("groups", 1), 3, 2, 3)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(2), requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.conv3d(x, w, b, **kwargs), [x, w, b])
    assert ag.gradgradcheck(lambda x, w, b: F.conv3d(x, w, b, **kwargs), [x, w, b])


def test_conv3d_is_the_adjoint_of_conv_transpose3d(rng):
    # <conv3d(x, w), y> == <x, conv_transpose3d(y, w)> for the same geometry
    x, w = rng.standard_normal((2, 4, 7, 6, 5)), rng.standard_normal((6, 2, 3, 2, 3))
    kwargs = dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)
    y = F.conv3d(ag.tensor(x), ag.tensor(w), **kwargs)
    g = rng.standard_normal(y.shape)
    back = F.conv_transpose3d(ag.tensor(g), ag.tensor(w), **kwargs)
    assert back.shape == x.shape
    np.testing.assert_allclose((y.numpy() * g).sum(), (x * back.numpy()).sum(), rtol=1e-12)


# -- conv_transpose3d ------------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 3, 4, 3), (3, 2, 3, 3, 3), dict()),
    ((2, 4, 3, 4, 3), (4, 3, 3, 2, 4), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((1, 2, 3, 3, 4), (2, 3, 2, 3, 3), dict(stride=(1, 2, 3), padding=(0, 1, 1), output_padding=(0, 1, 2),
                                            dilation=(2, 1, 1))),
    ((2, 3, 4, 3), (2, 2, 3, 3, 3), dict(stride=2)),                      # unbatched
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_transpose3d_values_and_gradients_match_torch(x_shape, w_shape, kwargs, with_bias, rng):
    (x, xt), (w, wt) = both(rng.standard_normal(x_shape)), both(rng.standard_normal(w_shape))
    groups = kwargs.get("groups", 1)
    b, bt = both(rng.standard_normal(w_shape[1] * groups)) if with_bias else (None, None)
    leaves = [(x, xt), (w, wt)] + ([(b, bt)] if with_bias else [])
    _compare_with_gradients("conv_transpose3d", F.conv_transpose3d(x, w, b, **kwargs),
                            tf.conv_transpose3d(xt, wt, bt, **kwargs), leaves, rng)


def test_conv_transpose3d_gradients_pass_gradcheck_and_gradgradcheck(rng):
    x = ag.tensor(rng.standard_normal((1, 2, 3, 2, 3)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 1, 2, 3, 2)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(2), requires_grad=True)
    kwargs = dict(stride=(2, 1, 2), padding=(0, 1, 0), output_padding=(1, 0, 0), groups=2)
    assert ag.gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, **kwargs), [x, w, b])
    assert ag.gradgradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, **kwargs), [x, w, b])


# -- the modules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    "Conv3d(2, 4, 3, padding=1)", "Conv3d(2, 4, (3, 2, 3), stride=(2, 1, 1), padding=1, padding_mode='reflect')", "Conv3d(4, 4, 3, padding='same', padding_mode='replicate', groups=2)",
    "Conv3d(2, 3, 2, padding=(1, 0, 1), padding_mode='circular', bias=False)", "Conv3d(2, 3, 3, padding='valid')",
    "ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=1)", "ConvTranspose3d(4, 2, (2, 3, 2), groups=2)"])
def test_conv3d_modules_match_torch_with_its_weights(build, rng):
    theirs = eval(build, {"Conv3d": torch.nn.Conv3d, "ConvTranspose3d": torch.nn.ConvTranspose3d}).double()
    mine = eval(build, {"Conv3d": nn.Conv3d, "ConvTranspose3d": nn.ConvTranspose3d}).double()
    assert repr(mine) == repr(theirs)
    copy_torch_state(mine, theirs)
    x, xt = both(rng.standard_normal((2, mine.in_channels, 5, 4, 6)))
    leaves = [(x, xt), (mine.weight, theirs.weight)] + ([(mine.bias, theirs.bias)] if mine.bias is not None else [])
    _compare_with_gradients(build, mine(x), theirs(xt), leaves, rng)


def test_conv3d_weights_start_as_torchs_and_transposed_output_size_picks_the_output_padding(rng):
    layer = nn.Conv3d(4, 6, (3, 2, 1), groups=2)
    assert layer.weight.shape == (6, 2, 3, 2, 1) and layer.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 3 * 2 * 1)     # fan_in = in_channels / groups * kd * kh * kw, as torch
    assert 0.8 * bound < np.abs(layer.weight.numpy()).max() <= bound
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1).double()
    mine = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1).double()
    copy_torch_state(mine, theirs)
    x = rng.standard_normal((1, 2, 3, 4, 5))
    assert_matches_torch("output_size", mine(ag.tensor(x), output_size=(6, 8, 9)),
                         theirs(to_torch(x), output_size=(6, 8, 9)))
    with pytest.raises(ValueError, match="valid sizes range from 5 to 6"):
        mine(ag.tensor(x), output_size=(7, 8, 9))


# -- max pooling -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 6, 7, 8), dict(kernel_size=2)),
    ((2, 3, 7, 6, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 8, 9), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), padding=(1, 1, 0), dilation=(2, 1, 2))),
    ((2, 2, 6, 7, 5), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 5, 6, 7), dict(kernel_size=(3, 2, 2), stride=2, padding=(1, 1, 0), ceil_mode=True)),
    ((2, 6, 5, 7), dict(kernel_size=2, stride=1)),                        # unbatched (C, D, H, W)
    ((2, 2, 4, 4, 4), dict(kernel_size=1, stride=(1, 2, 1))),
])
def test_max_pool3d_values_indices_and_gradients_match_torch(shape, kwargs, rng):
    x, xt = both(rng.standard_normal(shape))
    out, index = F.max_pool3d(x, return_indices=True, **kwargs)
    t_out, t_index = tf.max_pool3d(xt, return_indices=True, **kwargs)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    _compare_with_gradients("max_pool3d", out, t_out, [(x, xt)], rng)


def test_max_pool3d_sends_ties_and_nans_where_torch_does(rng):
    x = rng.integers(-2, 3, (2, 3, 6, 5, 7)).astype(np.float64)   # many ties inside each window
    x[0, 0, 1, 2, 3] = x[1, 2, 4, 0, 0] = x[1, 2, 5, 1, 1] = np.nan
    (mx, tx) = both(x)
    out, index = nn.MaxPool3d(3, stride=2, padding=1, return_indices=True)(mx)
    t_out, t_index = torch.nn.MaxPool3d(3, stride=2, padding=1, return_indices=True)(tx)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    upstream = rng.standard_normal(out.shape)
    out.backward(ag.tensor(upstream))
    t_out.backward(to_torch(upstream))
    assert_matches_torch("max_pool3d grad with ties", mx.grad, tx.grad)   # overlaps may add in another order


def test_max_pool3d_of_a_channel_major_input_keeps_its_layout_and_matches_torch(rng):
    # a convolution's output is stored (C, N, D, H, W): pooling reads it in place
    (x, xt), (w, wt) = both(rng.standard_normal((2, 3, 6, 6, 6))), both(rng.standard_normal((4, 3, 1, 1, 1)))
    hidden, t_hidden = F.conv3d(x, w), tf.conv3d(xt, wt)
    assert not hidden.numpy().flags.c_contiguous
    _compare_with_gradients("max_pool3d of a conv3d", F.max_pool3d(hidden, 2), tf.max_pool3d(t_hidden, 2),
                            [(x, xt), (w, wt)], rng)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1),
                                    dict(kernel_size=2, dilation=(1, 2, 1), ceil_mode=True, stride=2)])
def test_max_pool3d_gradients_pass_gradcheck_and_gradgradcheck(kwargs, rng):
    x = ag.tensor(rng.permutation(2 * 4 * 5 * 4).reshape(1, 2, 4, 5, 4) / 7.0, requires_grad=True)   # no ties
    assert ag.gradcheck(lambda x: F.max_pool3d(x, **kwargs), [x])
    assert ag.gradgradcheck(lambda x: F.max_pool3d(x, **kwargs), [x])


# -- average pooling -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 6, 7, 8), dict(kernel_size=2)),
    ((2, 3, 7, 6, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 6, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((1, 2, 7, 8, 9), dict(kernel_size=(2, 3, 4), stride=(1, 2, 3), padding=(1, 1, 2), divisor_override=5)),
    ((2, 2, 6, 7, 5), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 5, 6, 7), dict(kernel_size=(3, 2, 2), stride=2, padding=(1, 1, 0), ceil_mode=True,
                           count_include_pad=False)),
    ((2, 6, 5, 7), dict(kernel_size=2, stride=1)),                        # unbatched
])
def test_avg_pool3d_values_and_gradients_match_torch(shape, kwargs, rng):
    x, xt = both(rng.standard_normal(shape))
    _compare_with_gradients("avg_pool3d", F.avg_pool3d(x, **kwargs), tf.avg_pool3d(xt, **kwargs), [(x, xt)], rng)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                                              count_include_pad=False, ceil_mode=True),
                                    dict(kernel_size=(1, 2, 3), divisor_override=4, stride=1)])
def test_avg_pool3d_gradients_pass_gradcheck_and_gradgradcheck(kwargs, rng):
    x = ag.tensor(rng.standard_normal((1, 2, 4, 5, 4)), requires_grad=True)
    assert ag.gradcheck(lambda x: F.avg_pool3d(x, **kwargs), [x])
    assert ag.gradgradcheck(lambda x: F.avg_pool3d(x, **kwargs), [x])


@pytest.mark.parametrize("build", ["AvgPool3d(2)", "AvgPool3d((2, 3, 1), stride=1, padding=(1, 1, 0), ceil_mode=True, "
                                   "count_include_pad=False, divisor_override=3)", "MaxPool3d(2, stride=1, dilation=2)",
                                   "MaxPool3d((3, 2, 2), padding=1, ceil_mode=True)"])
def test_pool3d_modules_match_torch(build, rng):
    mine, theirs = eval(build, {**vars(nn)}), eval(build, {**vars(torch.nn)})
    assert repr(mine) == repr(theirs)
    x, xt = both(rng.standard_normal((2, 3, 5, 6, 7)))
    _compare_with_gradients(build, mine(x), theirs(xt), [(x, xt)], rng)


@pytest.mark.parametrize("build", ["LPPool3d(2, 2)", "LPPool3d(3, (2, 3, 2), stride=(1, 2, 1), ceil_mode=True)",
                                   "LPPool2d(2, (2, 3))"])
def test_lp_pool_modules_match_torch(build, rng):
    mine, theirs = eval(build, {**vars(nn)}), eval(build, {**vars(torch.nn)})
    assert repr(mine) == repr(theirs)
    x, xt = both(rng.uniform(0.5, 2.0, (2, 3, 5, 6, 7)[-(mine.dims + 2):]))
    _compare_with_gradients(build, mine(x), theirs(xt), [(x, xt)], rng)
    assert ag.gradcheck(mine, [ag.tensor(rng.uniform(0.5, 2.0, (1, 1, 3, 4, 4)[-(mine.dims + 2):]),
                                         requires_grad=True)])


# -- adaptive pooling ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, output_size", [((2, 3, 6, 7, 5), (3, 2, 4)), ((2, 3, 6, 7, 5), 1),
                                                ((2, 3, 6, 8, 4), (3, 4, 2)), ((2, 3, 6, 7, 5), (None, 3, None)),
                                                ((3, 5, 4, 7), (7, 3, 2)), ((1, 2, 3, 4, 5), (5, 6, 7))])
def test_adaptive_pool3d_values_indices_and_gradients_match_torch(shape, output_size, rng):
    x, xt = both(rng.standard_normal(shape))
    _compare_with_gradients("adaptive_avg_pool3d", nn.AdaptiveAvgPool3d(output_size)(x),
                            torch.nn.AdaptiveAvgPool3d(output_size)(xt), [(x, xt)], rng)
    x, xt = both(rng.standard_normal(shape))
    out, index = nn.AdaptiveMaxPool3d(output_size, return_indices=True)(x)
    t_out, t_index = torch.nn.AdaptiveMaxPool3d(output_size, return_indices=True)(xt)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    _compare_with_gradients("adaptive_max_pool3d", out, t_out, [(x, xt)], rng)


def test_adaptive_max_pool3d_picks_the_element_torch_picks_with_ties_and_nans(rng):
    x = rng.integers(-2, 3, (2, 3, 5, 7, 4)).astype(np.float64)
    x[0, 0, 0, 1, 2] = x[1, 2, 4, 3, 3] = x[1, 2, 4, 5, 3] = np.nan
    out, index = F.adaptive_max_pool3d(ag.tensor(x), (2, 3, 3), return_indices=True)
    t_out, t_index = tf.adaptive_max_pool3d(to_torch(x), (2, 3, 3), return_indices=True)
    np.testing.assert_array_equal(index.numpy(), t_index.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


def test_adaptive_pool3d_gradients_pass_gradcheck_and_gradgradcheck(rng):
    x = ag.tensor(rng.permutation(2 * 5 * 4 * 3).reshape(1, 2, 5, 4, 3) / 9.0, requires_grad=True)
    for pool in (lambda x: F.adaptive_avg_pool3d(x, (3, 2, 2)), lambda x: F.adaptive_max_pool3d(x, (3, 2, 2))):
        assert ag.gradcheck(pool, [x])
        assert ag.gradgradcheck(pool, [x])


# -- max_unpool3d ----------------------------------------------------------------------------------

def test_max_unpool3d_inverts_max_pool3d_as_torch(rng):
    x, xt = both(rng.standard_normal((2, 3, 6, 5, 7)))
    out, index = nn.MaxPool3d(2, stride=2, return_indices=True)(x)
    t_out, t_index = torch.nn.MaxPool3d(2, stride=2, return_indices=True)(xt)
    unpooled = nn.MaxUnpool3d(2)(out, index, output_size=x.shape)
    t_unpooled = torch.nn.MaxUnpool3d(2)(t_out, t_index, output_size=xt.shape)
    assert repr(nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))
    _compare_with_gradients("max_unpool3d", unpooled, t_unpooled, [(x, xt)], rng)


# -- empty batches ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["conv3d(x, w, padding=1)", "conv_transpose3d(x, w.transpose(0, 1), stride=2)",
                                  "max_pool3d(x, 2)", "avg_pool3d(x, 2, ceil_mode=True)", "adaptive_avg_pool3d(x, 3)",
                                  "adaptive_max_pool3d(x, (2, 3, 1))", "adaptive_max_pool2d(x[:, 0], (2, 3))",
                                  "adaptive_avg_pool2d(x[:, 0], (3, 4))"])
def test_3d_convolution_and_pooling_of_an_empty_batch_give_empty_outputs_as_torch(call, rng):
    (x, xt), (w, wt) = both(np.zeros((0, 3, 4, 5, 6))), both(rng.standard_normal((4, 3, 3, 3, 3)))
    out, t_out = eval(call, {**vars(F), "x": x, "w": w}), eval(call, {**vars(tf), "x": xt, "w": wt})
    assert out.shape == tuple(t_out.shape)
    out.sum().backward()
    t_out.sum().backward()
    assert x.grad.shape == x.shape
    if w.grad is not None:
        np.testing.assert_array_equal(w.grad.numpy(), wt.grad.numpy())


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.conv3d(ag.zeros(2, 5, 5), ag.zeros(3, 2, 3, 3, 3)), ShapeError,
     r"conv3d: expects a 5-D \(N, C, D, H, W\) or 4-D \(C, D, H, W\) input and a 5-D .*\(2, 5, 5\), \(3, 2, 3, 3, 3\)"),
    (lambda: F.conv3d(ag.zeros(1, 2, 5, 5, 5), ag.zeros(3, 2, 3, 3)), ShapeError, r"conv3d: expects a 5-D"),
    (lambda: F.conv3d(ag.zeros(1, 4, 5, 5, 5), ag.zeros(3, 2, 3, 3, 3)), ShapeError,
     r"conv3d: the input has 4 channels but the weight expects 2"),
    (lambda: F.conv3d(ag.zeros(1, 2, 5, 5, 5), ag.zeros(3, 2, 3, 3, 3), stride=(1, 2)), ArgumentError,
     r"conv3d: stride must be an int or 3 ints"),
    (lambda: F.conv3d(ag.zeros(1, 2, 5, 5, 5), ag.zeros(3, 2, 3, 3, 3), padding="same", stride=2), ArgumentError,
     r"conv3d: padding='same' is not supported for strided convolutions"),
    (lambda: F.conv3d(ag.zeros(1, 2, 2, 5, 5), ag.zeros(3, 2, 3, 3, 3)), ShapeError,
     r"conv3d: the window .* is larger than the padded input \(2, 5, 5\)"),
    (lambda: F.conv3d(ag.zeros(1, 2, 5, 5, 5), ag.zeros(3, 2, 3, 3, 3), ag.zeros(2)), ShapeError,
     r"conv3d: expects a bias of shape \(3,\)"),
    (lambda: F.conv3d(ag.zeros(1, 2, 5, 5, 5), ag.zeros(3, 2, 3, 3, 3), groups=2), ArgumentError,
     r"conv3d: in_channels \(2\) must be divisible by groups \(2\)|out_channels \(3\) must be divisible"),
    (lambda: F.conv_transpose3d(ag.zeros(1, 2, 3, 3, 3), ag.zeros(2, 2, 3, 3, 3), stride=2, output_padding=2),
     ArgumentError, r"conv_transpose3d: output_padding \(2, 2, 2\) must be smaller than either stride"),
    (lambda: F.conv_transpose3d(ag.zeros(1, 2, 3, 3, 3), ag.zeros(2, 2, 3, 3, 3), padding="same"), ArgumentError,
     r"conv_transpose3d: padding must be an int or 3 ints"),
    (lambda: F.conv_transpose3d(ag.zeros(1, 2, 3, 3), ag.zeros(2, 2, 3, 3)), ShapeError,
     r"conv_transpose3d: expects a 5-D .* \(in, out/groups, kd, kh, kw\) weight"),
    (lambda: F.max_pool3d(ag.zeros(1, 2, 3), 2), ShapeError,
     r"max_pool3d: expects a 5-D \(N, C, D, H, W\) or 4-D \(C, D, H, W\) input.*\(1, 2, 3\)"),
    (lambda: F.max_pool3d(ag.zeros(1, 1, 4, 4, 4), 2, padding=2), ArgumentError,
     r"max_pool3d: padding \(2, 2, 2\) should be at most half"),
    (lambda: F.avg_pool3d(ag.zeros(1, 1, 4, 4, 4), 2, divisor_override=0), ArgumentError,
     "avg_pool3d: divisor_override must not be zero"),
    (lambda: F.avg_pool3d(ag.zeros(1, 1, 4, 4, 4, dtype=ag.int64), 2), DTypeError,
     "avg_pool3d: expects a floating-point input, got int64"),
    (lambda: F.avg_pool3d(ag.zeros(1, 1, 4, 4, 4), (2, 2)), ArgumentError,
     r"avg_pool3d: kernel_size must be an int or 3 ints"),
    (lambda: F.adaptive_avg_pool3d(ag.zeros(1, 1, 4, 4, 4), (2, 0, 2)), ArgumentError, "output_size must be positive"),
    (lambda: F.adaptive_max_pool3d(ag.zeros(1, 4, 4), 2), ShapeError, r"adaptive_max_pool3d: expects a 5-D"),
    (lambda: nn.Conv3d(2, 2, 3)(ag.zeros(2, 5, 5)), ShapeError, r"expected a 5-D \(N, C, D, H, W\) or 4-D"),
    (lambda: nn.MaxPool3d(2)(ag.zeros(2, 5, 5)), ShapeError, r"expected a 5-D \(N, C, D, H, W\) or 4-D"),
])
def test_bad_3d_convolution_and_pooling_arguments_raise_naming_the_op_and_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
