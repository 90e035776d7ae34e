"""Convolution and pooling behaviours beyond the layer table of test_nn_layers.py: indices, output
sizes, initialisation, second derivatives of the gradient ops, and errors."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.errors import ArgumentError, ShapeError
from nn_helpers import assert_matches_torch, both, copy_torch_state, to_torch


def test_max_pool1d_indices_are_positions_along_the_length_as_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9))
    out, idx = F.max_pool1d(ag.tensor(x), 3, 2, 1, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool1d(to_torch(x), 3, 2, 1, return_indices=True)
    assert_matches_torch("max_pool1d values", out, t_out)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_adaptive_max_pool2d_picks_the_element_torch_picks_with_ties_and_nans(rng):
    torch = pytest.importorskip("torch")
    x = rng.integers(-2, 3, (2, 3, 7, 5)).astype(np.float64)     # many ties
    x[0, 0, 0, 1] = x[1, 2, 4, 3] = x[1, 2, 5, 4] = np.nan
    mx = ag.tensor(x, requires_grad=True)
    out, idx = nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(mx)
    tx = to_torch(x, requires_grad=True)
    t_out, t_idx = torch.nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(tx)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    upstream = rng.standard_normal(out.shape)
    out.backward(ag.tensor(upstream))
    t_out.backward(to_torch(upstream))
    np.testing.assert_array_equal(mx.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("output_size", [(7, 9), (8, 10)])
def test_conv_transpose2d_output_size_chooses_the_output_padding_as_torch(output_size, rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    mine = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    copy_torch_state(mine, theirs)
    x = rng.standard_normal((1, 2, 4, 5))
    assert_matches_torch("conv_transpose2d output_size", mine(ag.tensor(x), output_size=output_size),
                         theirs(to_torch(x), output_size=output_size))
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        mine(ag.tensor(x), output_size=(9, 9))


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same geometry
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    kwargs = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    y = ag.conv2d(ag.tensor(x), ag.tensor(w), **kwargs)
    g = rng.standard_normal(y.shape)
    back = ag.conv_transpose2d(ag.tensor(g), ag.tensor(w), output_padding=(0, 0), **kwargs)
    assert back.shape == x.shape
    assert math.isclose((y.numpy() * g).sum(), (x * back.numpy()).sum(), rel_tol=1e-12)


def _slices(x_shape, w_shape, out):
    """How many slices of the batch conv2d's ops take for these shapes (in float64)."""
    from autograd.ops.conv import _batches
    return len(_batches(x_shape[0], x_shape[1] * w_shape[2] * w_shape[3], out.shape[2] * out.shape[3], 8))


@pytest.mark.parametrize("size, kwargs", [(40, dict(padding=1)), (80, dict(stride=2, padding=(1, 0), groups=2)),
                                          (40, dict(padding="same", dilation=2))])
def test_convolution_of_a_batch_too_big_for_one_cache_slice_matches_torch(size, kwargs, rng):
    # 5 images whose column matrices do not fit in one slice: conv2d and its gradient ops work
    # through the batch in slices of unequal sizes (1, 2 and 2 images). The input is a 1x1 conv's
    # channel-major output, which same-size convolutions read with flat shifts.
    torch = pytest.importorskip("torch")
    x, w0 = rng.standard_normal((5, 4, size, size)), rng.standard_normal((16, 4, 1, 1))
    w, b = rng.standard_normal((8, 16 // kwargs.get("groups", 1), 3, 3)), rng.standard_normal(8)
    (mx, tx), (mw0, tw0), (mw, tw), (mb, tb) = both(x), both(w0), both(w), both(b)
    hidden, t_hidden = F.conv2d(mx, mw0), torch.nn.functional.conv2d(tx, tw0)
    out, t_out = F.conv2d(hidden, mw, mb, **kwargs), torch.nn.functional.conv2d(t_hidden, tw, tb, **kwargs)
    assert _slices(hidden.shape, w.shape, out) == 3
    assert_matches_torch("conv2d", out, t_out)
    upstream = rng.standard_normal(out.shape)
    out.backward(ag.tensor(upstream))
    t_out.backward(to_torch(upstream))
    for name, mine, theirs in (("input", mx, tx), ("1x1 weight", mw0, tw0), ("weight", mw, tw), ("bias", mb, tb)):
        assert_matches_torch(f"conv2d grad {name}", mine.grad, theirs.grad)


def test_transposed_convolution_of_a_batch_too_big_for_one_cache_slice_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w = rng.standard_normal((5, 8, 40, 40)), rng.standard_normal((8, 16, 3, 3))
    (mx, tx), (mw, tw) = both(x), both(w)
    out = F.conv_transpose2d(mx, mw, padding=1)
    t_out = torch.nn.functional.conv_transpose2d(tx, tw, padding=1)
    assert _slices(out.shape, (8, 16, 3, 3), x) == 3   # its forward is conv2d's gradient for the input
    assert_matches_torch("conv_transpose2d", out, t_out)
    upstream = rng.standard_normal(out.shape)
    out.backward(ag.tensor(upstream))
    t_out.backward(to_torch(upstream))
    assert_matches_torch("conv_transpose2d grad input", mx.grad, tx.grad)
    assert_matches_torch("conv_transpose2d grad weight", mw.grad, tw.grad)


def test_transposed_conv_weights_start_as_torchs_with_fan_in_from_out_channels():
    layer = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias.shape == (6,)
    bound = 1 / math.sqrt(3 * 3 * 3)     # fan_in = (out_channels / groups) * kh * kw, as torch
    assert 0.9 * bound < np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert [name for name, _ in nn.Conv1d(2, 4, 3).named_parameters()] == ["weight", "bias"]
    assert nn.Conv1d(2, 4, 3, stride=2).stride == (2,) and nn.ConvTranspose1d(2, 4, 3).weight.shape == (2, 4, 3)


@pytest.mark.parametrize("op, args", [
    ("grad_input", dict(stride=2, padding=1, groups=2)), ("grad_weight", dict(stride=(1, 2), dilation=(2, 1))),
    ("grad_input", dict(padding=1)), ("grad_weight", dict(padding=1, groups=2))])
def test_conv_gradient_ops_have_second_and_third_derivatives(op, args, rng):
    # conv2d's backward is made of ConvolutionGradInput and ConvolutionGradWeight: differentiating the
    # gradient twice checks both of their backwards and the ops those return.
    x = ag.tensor(rng.standard_normal((1, 4, 5, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 4 // args.get("groups", 1), 3, 3)), requires_grad=True)

    def first_gradient(x, w):
        out = ag.conv2d(x, w, **args)
        (gx, gw) = ag.grad((out * out).sum(), [x, w], create_graph=True)
        return gx if op == "grad_input" else gw
    assert ag.gradcheck(first_gradient, [x, w])
    assert ag.gradgradcheck(first_gradient, [x, w])


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.conv_transpose2d(ag.zeros(1, 2, 3, 3), ag.zeros(2, 2, 3, 3), stride=2, output_padding=2),
     ArgumentError, r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either stride"),
    (lambda: F.conv_transpose2d(ag.zeros(1, 3, 3, 3), ag.zeros(2, 2, 3, 3)), ShapeError,
     r"conv_transpose2d: the input has 3 channels but the weight expects 2"),
    (lambda: F.conv1d(ag.zeros(1, 2, 5, 5), ag.zeros(2, 2, 3)), ShapeError, r"conv1d: expects a 3-D"),
    (lambda: F.conv2d(ag.zeros(1, 2, 5, 5), ag.zeros(3, 2, 3, 3), ag.zeros(2)), ShapeError,
     r"conv2d: expects a bias of shape \(3,\)"),
    (lambda: F.conv2d(ag.zeros(1, 2, 5, 5), ag.zeros(3, 2, 3, 3), stride=(1, 2, 3)), ArgumentError,
     r"conv2d: stride must be an int or a pair of ints"),
    (lambda: F.max_pool1d(ag.zeros(1, 2, 3, 5), 2), ShapeError, r"max_pool1d: expects a 3-D"),
    (lambda: F.avg_pool2d(ag.zeros(1, 1, 4, 4), 2, divisor_override=0), ArgumentError, "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(ag.zeros(1, 1, 4, 4), (2, 0)), ArgumentError, "output_size must be positive"),
    (lambda: F.interpolate(ag.zeros(1, 1, 4, 4), size=2, scale_factor=2), ValueError, "exactly one of size"),
    (lambda: F.interpolate(ag.zeros(1, 1, 4), size=2, mode="bilinear"), ValueError, "bilinear mode needs 4D"),
    (lambda: F.interpolate(ag.zeros(1, 1, 4), size=2, align_corners=True), ValueError, "align_corners"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError, "padding_mode must be one of 'zeros'"),
])
def test_bad_convolution_and_pooling_arguments_raise_naming_the_op(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("build", [
    "nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode='reflect')",
    "nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)",
    "nn.ConvTranspose1d(2, 3, 4, dilation=2)", "nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)",
    "nn.AvgPool1d(3, padding=1)", "nn.AdaptiveAvgPool2d((3, None))", "nn.AdaptiveMaxPool2d(2)",
    "nn.AdaptiveAvgPool1d(5)", "nn.Upsample(scale_factor=2)", "nn.Upsample(size=(4, 5), mode='bilinear')"])
def test_new_layers_print_and_store_their_arguments_as_torch(build):
    torch = pytest.importorskip("torch")
    mine, theirs = eval(build, {"nn": nn}), eval(build, {"nn": torch.nn})
    assert repr(mine) == repr(theirs)
    assert mine.state_dict().keys() == theirs.state_dict().keys()
    for name, value in mine.state_dict().items():
        assert value.shape == tuple(theirs.state_dict()[name].shape)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=1), dict(size=(3, 4)), dict(scale_factor=(1, 2))])
def test_nearest_interpolate_returns_a_new_tensor_that_in_place_ops_do_not_write_through(kwargs):
    x = ag.ones(1, 2, 3, 4)
    y = F.interpolate(x, **kwargs)
    y.add_(1)
    assert (x.numpy() == 1).all() and (y.numpy() == 2).all()


@pytest.mark.parametrize("transposed", [False, True])
def test_convolution_of_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients_as_torch(rng, transposed):
    torch = pytest.importorskip("torch")
    x = np.zeros((0, 3, 8, 8))
    w = rng.standard_normal((3, 4, 3, 3) if transposed else (4, 3, 3, 3))
    b = rng.standard_normal(4)
    op, t_op = (F.conv_transpose2d, torch.nn.functional.conv_transpose2d) if transposed else \
        (F.conv2d, torch.nn.functional.conv2d)
    mx, mw, mb = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (to_torch(a, requires_grad=True) for a in (x, w, b))
    out, t_out = op(mx, mw, mb, padding=1), t_op(tx, tw, tb, padding=1)
    assert out.shape == tuple(t_out.shape)
    out.sum().backward()
    t_out.sum().backward()
    for mine, theirs in ((mx, tx), (mw, tw), (mb, tb)):
        assert mine.grad.shape == tuple(theirs.grad.shape)
        np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("op, weight_shape", [(F.conv2d, (0, 3, 3, 3)), (F.conv2d, (4, 0, 3, 3)),
                                              (F.conv_transpose2d, (3, 0, 3, 3)), (F.conv1d, (0, 3, 3))])
def test_a_weight_with_an_empty_dim_is_refused_naming_the_shapes_as_torch_refuses_it(op, weight_shape):
    x = ag.zeros(1, 3, 5) if len(weight_shape) == 3 else ag.zeros(1, 3, 5, 5)
    with pytest.raises(ShapeError, match=r"at least one channel each way.*\(1, 3, 5(, 5)?\), \(" + str(weight_shape[0])):
        op(x, ag.zeros(*weight_shape))
