"""Layers: each row of LAYERS is checked against PyTorch (forward, input and parameter gradients,
buffers, in float64 and float32) and by float64 gradcheck; then behaviour tables and error cases."""
import inspect
import math
from dataclasses import dataclass, field

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn_helpers import (DTYPES, assert_close, assert_matches_torch, both, copy_torch_state, gradcheck_module,
                        to_torch)


@dataclass
class LayerCase:
    name: str
    build: str                 # constructor call, evaluated with `nn` bound to ndgrad's nn or torch.nn
    shape: tuple               # input shape for the PyTorch comparison
    small: tuple = None        # input shape for gradcheck (defaults to shape)
    integer_input: int = 0     # > 0: integer indices below this (Embedding)
    gradgrad: bool = False     # also run gradgradcheck (second derivatives)
    modes: tuple = ("train", "eval")
    kwargs: dict = field(default_factory=dict)


LAYERS = [
    LayerCase("linear", "nn.Linear(4, 3)", (5, 4), gradgrad=True),
    LayerCase("linear_nobias_3d", "nn.Linear(4, 3, bias=False)", (2, 5, 4), small=(2, 2, 4)),
    LayerCase("linear_1d", "nn.Linear(4, 2)", (4,)),
    LayerCase("conv", "nn.Conv2d(2, 3, 3)", (2, 2, 6, 6), small=(1, 2, 4, 4), gradgrad=True),
    LayerCase("conv_stride_pad", "nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2))", (2, 2, 7, 6),
              small=(1, 2, 4, 3)),
    LayerCase("conv_dilation", "nn.Conv2d(2, 2, 3, dilation=2, padding=2)", (2, 2, 7, 7), small=(1, 2, 5, 5)),
    LayerCase("conv_groups", "nn.Conv2d(4, 6, 3, groups=2, bias=False)", (2, 4, 5, 5), small=(1, 4, 3, 3),
              gradgrad=True),
    LayerCase("conv_depthwise_stride3", "nn.Conv2d(3, 3, 2, stride=3, groups=3)", (2, 3, 8, 7), small=(1, 3, 4, 4)),
    LayerCase("conv_same_even_kernel", "nn.Conv2d(2, 3, 4, padding='same')", (2, 2, 6, 5), small=(1, 2, 4, 4)),
    LayerCase("conv_valid", "nn.Conv2d(1, 2, 3, padding='valid')", (2, 1, 5, 5), small=(1, 1, 4, 4)),
    LayerCase("conv_reflect", "nn.Conv2d(2, 2, 3, padding=1, padding_mode='reflect')", (2, 2, 5, 5),
              small=(1, 2, 3, 3)),
    LayerCase("conv_circular", "nn.Conv2d(2, 2, 3, padding=2, padding_mode='circular')", (2, 2, 5, 5),
              small=(1, 2, 3, 3)),
    LayerCase("conv_replicate", "nn.Conv2d(1, 2, 3, padding=1, padding_mode='replicate')", (2, 1, 5, 4),
              small=(1, 1, 3, 3)),
    LayerCase("conv_unbatched", "nn.Conv2d(2, 3, 3, padding=1)", (2, 5, 5), small=(2, 3, 3)),
    LayerCase("maxpool", "nn.MaxPool2d(2)", (2, 3, 6, 6), small=(1, 2, 4, 4), gradgrad=True),
    LayerCase("maxpool_odd_input", "nn.MaxPool2d(2)", (2, 2, 7, 5), small=(1, 1, 5, 5)),
    LayerCase("maxpool_overlap_pad", "nn.MaxPool2d(3, stride=2, padding=1)", (2, 2, 7, 6), small=(1, 1, 5, 5),
              gradgrad=True),
    LayerCase("maxpool_dilation", "nn.MaxPool2d(2, stride=1, dilation=2)", (2, 2, 6, 6), small=(1, 1, 4, 4)),
    LayerCase("maxpool_ceil", "nn.MaxPool2d(3, stride=2, ceil_mode=True)", (2, 2, 8, 8), small=(1, 1, 6, 6)),
    LayerCase("maxpool_rect", "nn.MaxPool2d((2, 3), stride=(1, 2))", (2, 2, 5, 7), small=(1, 1, 3, 5)),
    LayerCase("maxpool_unbatched", "nn.MaxPool2d(2)", (3, 4, 4), small=(1, 4, 4)),
    LayerCase("avgpool", "nn.AvgPool2d(2)", (2, 3, 6, 6), small=(1, 2, 4, 4)),
    LayerCase("avgpool_pad", "nn.AvgPool2d(3, stride=2, padding=1)", (2, 2, 7, 6), small=(1, 1, 5, 5)),
    LayerCase("avgpool_pad_exclude", "nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)",
              (2, 2, 7, 6), small=(1, 1, 5, 5)),
    LayerCase("avgpool_ceil", "nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 2, 8, 8),
              small=(1, 1, 6, 6)),
    LayerCase("avgpool_divisor", "nn.AvgPool2d(2, divisor_override=3)", (2, 2, 4, 5), small=(1, 1, 4, 4)),
    LayerCase("conv1d", "nn.Conv1d(2, 3, 3)", (2, 2, 7), small=(1, 2, 5), gradgrad=True),
    LayerCase("conv1d_stride_pad_dilation_groups", "nn.Conv1d(4, 6, 2, stride=2, padding=1, dilation=2, groups=2)",
              (2, 4, 9), small=(1, 4, 6)),
    LayerCase("conv1d_same_even_kernel_reflect", "nn.Conv1d(2, 2, 4, padding='same', padding_mode='reflect')",
              (2, 2, 6)),
    LayerCase("conv1d_unbatched_circular", "nn.Conv1d(2, 3, 3, padding=2, padding_mode='circular')", (2, 5)),
    LayerCase("convtranspose2d", "nn.ConvTranspose2d(2, 3, 3)", (2, 2, 4, 5), small=(1, 2, 3, 3), gradgrad=True),
    LayerCase("convtranspose2d_stride_pad_output_padding_groups",
              "nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)",
              (2, 4, 3, 4), small=(1, 4, 2, 3), gradgrad=True),
    LayerCase("convtranspose2d_dilation_no_bias", "nn.ConvTranspose2d(2, 2, 2, dilation=2, output_padding=1, bias=False)",
              (2, 2, 4, 4), small=(1, 2, 3, 3)),
    LayerCase("convtranspose2d_unbatched", "nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)", (2, 3, 3)),
    LayerCase("convtranspose1d", "nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2)",
              (2, 4, 5), small=(1, 4, 3), gradgrad=True),
    LayerCase("maxpool1d", "nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", (2, 3, 8), gradgrad=True),
    LayerCase("maxpool1d_dilation", "nn.MaxPool1d(2, dilation=2)", (2, 2, 7)),
    LayerCase("maxpool1d_unbatched", "nn.MaxPool1d(2)", (3, 6)),
    LayerCase("avgpool1d", "nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)", (2, 3, 8), gradgrad=True),
    LayerCase("avgpool1d_ceil", "nn.AvgPool1d(2, ceil_mode=True)", (2, 2, 7)),
    LayerCase("adaptive_avgpool1d", "nn.AdaptiveAvgPool1d(3)", (2, 3, 7), gradgrad=True),
    LayerCase("adaptive_avgpool2d", "nn.AdaptiveAvgPool2d((3, None))", (2, 2, 7, 5), small=(1, 2, 5, 3), gradgrad=True),
    LayerCase("adaptive_avgpool2d_larger_output", "nn.AdaptiveAvgPool2d(5)", (2, 2, 3, 4)),
    LayerCase("adaptive_maxpool2d", "nn.AdaptiveMaxPool2d((2, 3))", (2, 2, 7, 5), small=(1, 2, 5, 4), gradgrad=True),
    LayerCase("adaptive_maxpool2d_unbatched", "nn.AdaptiveMaxPool2d(3)", (2, 4, 4)),
    LayerCase("upsample_nearest", "nn.Upsample(scale_factor=2)", (2, 2, 3, 4), small=(1, 1, 3, 2), gradgrad=True),
    LayerCase("upsample_nearest_size", "nn.Upsample(size=(5, 7))", (1, 2, 3, 4)),
    LayerCase("upsample_nearest_fraction", "nn.Upsample(scale_factor=1.7)", (1, 2, 3, 4)),
    LayerCase("upsample_bilinear", "nn.Upsample(scale_factor=2, mode='bilinear')", (2, 2, 3, 4),
              small=(1, 1, 3, 2), gradgrad=True),
    LayerCase("upsample_bilinear_align_corners", "nn.Upsample(size=(5, 3), mode='bilinear', align_corners=True)",
              (1, 2, 3, 4)),
    LayerCase("upsample_bilinear_recompute",
              "nn.Upsample(scale_factor=(1.5, 0.6), mode='bilinear', recompute_scale_factor=True)", (1, 2, 4, 5)),
    LayerCase("upsample_linear", "nn.Upsample(scale_factor=2.5, mode='linear')", (2, 3, 4)),
    LayerCase("upsample_nearest_1d", "nn.Upsample(scale_factor=1.5)", (2, 3, 4)),
    LayerCase("adaptive_maxpool2d_larger_output", "nn.AdaptiveMaxPool2d((4, 7))", (1, 2, 3, 5)),
    LayerCase("upsample_linear_align_corners", "nn.Upsample(size=7, mode='linear', align_corners=True)", (2, 3, 4)),
    LayerCase("upsample_nearest_exact", "nn.Upsample(scale_factor=1.7, mode='nearest-exact')", (1, 2, 3, 4)),
    LayerCase("upsample_area", "nn.Upsample(size=(2, 3), mode='area')", (1, 2, 5, 7), gradgrad=True),
    LayerCase("upsample_bicubic", "nn.Upsample(scale_factor=2, mode='bicubic')", (1, 2, 3, 4), gradgrad=True),
    LayerCase("upsample_bicubic_align_corners", "nn.Upsample(size=(5, 2), mode='bicubic', align_corners=True)",
              (1, 2, 3, 4)),
    LayerCase("upsample_trilinear", "nn.Upsample(scale_factor=(1.5, 2, 0.7), mode='trilinear')", (1, 2, 2, 3, 4)),
    LayerCase("upsample_nearest_3d", "nn.Upsample(scale_factor=2)", (1, 1, 2, 3, 2)),
    LayerCase("upsample_area_3d", "nn.Upsample(scale_factor=0.6, mode='area')", (1, 1, 4, 5, 6)),
    LayerCase("flatten", "nn.Flatten()", (2, 3, 4, 2)),
    LayerCase("flatten_range", "nn.Flatten(0, 1)", (2, 3, 4)),
    LayerCase("batchnorm1d", "nn.BatchNorm1d(3)", (6, 3), gradgrad=True),
    LayerCase("batchnorm1d_3d", "nn.BatchNorm1d(3)", (4, 3, 5), small=(2, 3, 2)),
    LayerCase("batchnorm2d", "nn.BatchNorm2d(3)", (4, 3, 3, 3), small=(2, 2, 2, 2), kwargs={"features": 2},
              gradgrad=True),
    LayerCase("batchnorm2d_no_affine", "nn.BatchNorm2d(3, affine=False)", (4, 3, 3, 3), small=(2, 3, 2, 1)),
    LayerCase("batchnorm2d_no_bias", "nn.BatchNorm2d(3, bias=False)", (4, 3, 2, 3), small=(2, 3, 2, 1)),
    LayerCase("batchnorm2d_cumulative", "nn.BatchNorm2d(3, momentum=None)", (4, 3, 3, 3), small=(2, 3, 2, 1)),
    LayerCase("batchnorm1d_no_running_stats", "nn.BatchNorm1d(3, track_running_stats=False)", (5, 3)),
    LayerCase("layernorm", "nn.LayerNorm(5)", (3, 5), gradgrad=True),
    LayerCase("layernorm_2d_shape", "nn.LayerNorm((3, 4))", (2, 3, 4), small=(2, 3, 2), kwargs={"shape": (3, 2)}),
    LayerCase("layernorm_no_affine", "nn.LayerNorm(4, elementwise_affine=False)", (3, 4)),
    LayerCase("layernorm_no_bias", "nn.LayerNorm(4, bias=False)", (3, 2, 4), small=(2, 4)),
    LayerCase("groupnorm", "nn.GroupNorm(2, 4)", (3, 4, 3, 2), small=(2, 4, 2, 1), gradgrad=True),
    LayerCase("groupnorm_1d_one_group", "nn.GroupNorm(1, 3)", (4, 3, 5)),
    LayerCase("groupnorm_per_channel_no_affine", "nn.GroupNorm(4, 4, affine=False)", (2, 4, 3, 3), small=(2, 4, 2, 1)),
    LayerCase("embedding", "nn.Embedding(7, 3)", (4, 5), integer_input=7),
    LayerCase("embedding_padding", "nn.Embedding(7, 3, padding_idx=2)", (4, 5), integer_input=7),
    LayerCase("dropout_eval_only", "nn.Dropout(0.3)", (4, 5), modes=("eval",)),
    LayerCase("identity", "nn.Identity(3, unused=True)", (2, 3)),
    LayerCase("instancenorm2d", "nn.InstanceNorm2d(3)", (2, 3, 4, 3), small=(2, 3, 2, 2), gradgrad=True),
    LayerCase("instancenorm1d_affine_running_stats", "nn.InstanceNorm1d(3, affine=True, track_running_stats=True)",
              (4, 3, 5), small=(2, 3, 3)),
    LayerCase("instancenorm2d_unbatched_running_stats_cumulative",
              "nn.InstanceNorm2d(2, track_running_stats=True, momentum=None)", (2, 3, 3)),
    LayerCase("instancenorm3d_affine", "nn.InstanceNorm3d(2, affine=True)", (2, 2, 2, 3, 2)),
    LayerCase("rmsnorm", "nn.RMSNorm(5)", (3, 5), gradgrad=True),
    LayerCase("rmsnorm_2d_shape_eps", "nn.RMSNorm((3, 4), eps=1e-3)", (2, 3, 4), small=(2, 3, 2),
              kwargs={"shape": (3, 2)}),
    LayerCase("rmsnorm_no_affine", "nn.RMSNorm(4, elementwise_affine=False)", (2, 3, 4)),
    LayerCase("batchnorm3d", "nn.BatchNorm3d(3)", (2, 3, 2, 3, 2), small=(2, 3, 2, 1, 2)),
    LayerCase("channel_shuffle", "nn.ChannelShuffle(3)", (2, 6, 2, 2)),
    LayerCase("unfold_layer", "nn.Unfold((2, 3), padding=1, stride=2)", (2, 3, 5, 4)),
    LayerCase("fold_layer", "nn.Fold((4, 5), 2)", (2, 8, 12)),
    LayerCase("adaptive_maxpool1d", "nn.AdaptiveMaxPool1d(3)", (2, 3, 7)),
    LayerCase("adaptive_maxpool1d_unbatched", "nn.AdaptiveMaxPool1d(4)", (3, 6)),
    LayerCase("lppool2d", "nn.LPPool2d(2, 3, stride=2)", (2, 2, 7, 6), small=(1, 1, 5, 5)),
    LayerCase("lppool1d_ceil", "nn.LPPool1d(2, 3, stride=2, ceil_mode=True)", (2, 3, 8)),
    LayerCase("local_response_norm", "nn.LocalResponseNorm(3)", (2, 5, 3, 3), gradgrad=True),
    LayerCase("local_response_norm_3d_even_size", "nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0)", (2, 6, 5)),
    LayerCase("pixel_shuffle", "nn.PixelShuffle(2)", (2, 8, 3, 2), gradgrad=True),
    LayerCase("pixel_shuffle_unbatched_3", "nn.PixelShuffle(3)", (9, 2, 1)),
    LayerCase("pixel_unshuffle", "nn.PixelUnshuffle(2)", (2, 3, 4, 6)),
    LayerCase("glu", "nn.GLU()", (3, 4), gradgrad=True),
    LayerCase("glu_dim1", "nn.GLU(1)", (2, 6, 3)),
    LayerCase("softmax2d", "nn.Softmax2d()", (2, 3, 2, 2)),
    LayerCase("upsampling_nearest2d", "nn.UpsamplingNearest2d(scale_factor=2)", (1, 2, 3, 2)),
    LayerCase("upsampling_bilinear2d", "nn.UpsamplingBilinear2d(size=(5, 4))", (1, 2, 3, 2)),
]


def _build(case, module, dtype, small=False):
    build = case.build
    if small and "features" in case.kwargs:
        build = build.replace("3", str(case.kwargs["features"]), 1)
    if small and "shape" in case.kwargs:
        build = build.replace("(3, 4)", str(case.kwargs["shape"]))
    layer = eval(build, {"nn": module})
    return layer.double() if dtype == np.float64 else layer


def _input(case, shape, rng, dtype):
    if case.integer_input:
        values = rng.integers(0, case.integer_input, shape)
        if "padding" in case.name:
            values.flat[:3] = 2
        return values.astype(np.int64)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")   # PyTorch's own, not ours
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", LAYERS, ids=[c.name for c in LAYERS])
def test_layer_matches_torch(case, dtype, rng):
    torch = pytest.importorskip("torch")
    theirs = _build(case, torch.nn, dtype)
    mine = _build(case, nn, dtype)
    copy_torch_state(mine, theirs)
    for mode in case.modes:
        theirs.train(mode == "train")
        mine.train(mode == "train")
        x = _input(case, case.shape, rng, dtype)
        differentiable = not case.integer_input
        tx = to_torch(x, requires_grad=differentiable)
        mx = ag.tensor(x, requires_grad=differentiable)
        t_out, m_out = theirs(tx), mine(mx)
        label = f"{case.name}[{mode}]"
        assert_matches_torch(f"{label} output", m_out, t_out, dtype)
        upstream = rng.standard_normal(t_out.shape).astype(dtype)
        t_out.backward(to_torch(upstream))
        m_out.backward(ag.tensor(upstream))
        if differentiable:
            assert_matches_torch(f"{label} input grad", mx.grad, tx.grad, dtype)
        for (name, t_param), (my_name, m_param) in zip(theirs.named_parameters(), mine.named_parameters()):
            assert name == my_name
            assert_matches_torch(f"{label} {name}.grad", m_param.grad, t_param.grad, dtype)
            t_param.grad, m_param.grad = None, None
        for (name, t_buffer), (my_name, m_buffer) in zip(theirs.named_buffers(), mine.named_buffers()):
            assert name == my_name
            assert_matches_torch(f"{label} buffer {name}", m_buffer, t_buffer, t_buffer.numpy().dtype)


@pytest.mark.parametrize("case", [c for c in LAYERS if not c.integer_input], ids=lambda c: c.name)
def test_layer_gradcheck(case, rng):
    layer = _build(case, nn, np.float64, small=True)
    layer.train("train" in case.modes)
    x = ag.tensor(_input(case, case.small or case.shape, rng, np.float64), requires_grad=True)
    assert gradcheck_module(layer, x)


@pytest.mark.parametrize("case", [c for c in LAYERS if c.gradgrad], ids=lambda c: c.name)
def test_layer_gradgradcheck(case, rng):
    layer = _build(case, nn, np.float64, small=True)
    x = ag.tensor(_input(case, case.small or case.shape, rng, np.float64), requires_grad=True)
    params = [p for p in layer.parameters()]
    assert ag.gradgradcheck(lambda *args: layer(x), [x] + params)


def test_embedding_gradcheck(rng):
    index = ag.tensor(np.array([[0, 1, 4], [4, 4, 1]]))
    layer = nn.Embedding(5, 2).double()
    assert ag.gradcheck(lambda w: layer(index), [layer.weight])
    layer = nn.Embedding(5, 2, padding_idx=1)
    layer(index).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[1], 0)   # the padding row learns nothing
    np.testing.assert_array_equal(layer.weight.grad.numpy()[4], 3)   # repeated indices accumulate


def test_maxout_is_linear_then_max_over_pieces(rng):
    torch = pytest.importorskip("torch")
    layer = nn.Maxout(4, 3, pieces=2).double()
    x = rng.standard_normal((5, 4))
    tw, tb = to_torch(layer.weight, True), to_torch(layer.bias, True)
    tx = to_torch(x, True)
    expected = torch.nn.functional.linear(tx, tw, tb).view(5, 3, 2).amax(-1)
    mx = ag.tensor(x, requires_grad=True)
    out = layer(mx)
    assert_matches_torch("maxout output", out, expected)
    upstream = rng.standard_normal((5, 3))
    out.backward(ag.tensor(upstream))
    expected.backward(to_torch(upstream))
    assert_matches_torch("maxout input grad", mx.grad, tx.grad)
    assert_matches_torch("maxout weight grad", layer.weight.grad, tw.grad)
    assert gradcheck_module(layer, ag.tensor(rng.standard_normal((2, 4)), requires_grad=True))
    assert repr(layer) == "Maxout(in_features=4, out_features=3, pieces=2, bias=True)"


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("layer_name, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                                ("BatchNorm2d", (4, 3, 5, 2))])
def test_batchnorm_running_statistics_follow_torch_over_several_steps(layer_name, shape, momentum, rng):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, layer_name)(3, momentum=momentum).double()
    mine = getattr(nn, layer_name)(3, momentum=momentum).double()
    for step in range(5):
        x = rng.standard_normal(shape) * (step + 1) + step
        theirs(to_torch(x))
        mine(ag.tensor(x))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_matches_torch(f"{layer_name} momentum={momentum} {name}", getattr(mine, name),
                             getattr(theirs, name), np.float64)
    theirs.eval()
    mine.eval()
    x = rng.standard_normal(shape)
    assert_matches_torch(f"{layer_name} momentum={momentum} eval output", mine(ag.tensor(x)),
                         theirs(to_torch(x)), np.float64)


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone(rng):
    bn = nn.BatchNorm2d(2)
    bn.running_mean.numpy()[...] = [1.0, -1.0]
    bn.running_var.numpy()[...] = [4.0, 0.25]
    bn.eval()
    x = ag.tensor(rng.standard_normal((3, 2, 2, 2)).astype(np.float32))
    out = bn(x)
    expected = (x.numpy() - np.array([1, -1], np.float32)[:, None, None]) / np.sqrt(
        np.array([4, 0.25], np.float32)[:, None, None] + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(bn.running_mean.numpy(), [1.0, -1.0])
    assert int(bn.num_batches_tracked.item()) == 0


def test_batchnorm_needs_more_than_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ag.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(ag.zeros(1, 3))  # fine with running statistics


def test_float32_graph_stays_float32(rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 6), nn.LayerNorm(6),
                          nn.GELU(), nn.Linear(6, 3))
    x = ag.tensor(rng.standard_normal((4, 1, 4, 4)).astype(np.float32))
    out = model(x)
    assert out.dtype == np.float32
    loss = F.cross_entropy(out, ag.tensor(np.array([0, 1, 2, 1])))
    assert loss.dtype == np.float32
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad.dtype == np.float32, name
    for name, b in model.named_buffers():
        assert b.dtype == (np.int64 if name.endswith("num_batches_tracked") else np.float32), name


# -- dropout ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_probability_outside_unit_interval_raises_at_construction(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(ag.ones(3), p)


def test_dropout_is_inverted_and_reproducible_with_manual_seed():
    x = ag.ones(200, 50, requires_grad=True)
    layer = nn.Dropout(0.25)
    ag.manual_seed(3)
    out = layer(x)
    kept = out.numpy() != 0
    assert set(np.unique(out.numpy())) <= {0.0, np.float32(1 / 0.75)}
    assert abs(kept.mean() - 0.75) < 0.02
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())    # the gradient uses the same mask
    ag.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy(), out.numpy())


def test_dropout_is_identity_in_eval_and_for_p_zero_and_zero_for_p_one():
    x = ag.randn(4, 5)
    assert nn.Dropout(0.9).eval()(x) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0)


def test_dropout_gradcheck():
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)

    def fn(t):
        ag.manual_seed(0)
        return F.dropout(t, 0.4)
    assert ag.gradcheck(fn, [x])


# -- default initialisation -------------------------------------------------------------------------

@pytest.mark.parametrize("build, fan_in", [(lambda: nn.Linear(50, 40), 50), (lambda: nn.Conv2d(3, 20, (3, 5)), 45),
                                           (lambda: nn.Conv2d(8, 16, 3, groups=4), 18)])
def test_default_initialisation_is_pytorchs(build, fan_in):
    ag.manual_seed(0)
    layer = build()
    bound = 1 / math.sqrt(fan_in)   # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound * (1 + 1e-6)     # up to float32 rounding of the bound
        assert np.abs(p.numpy()).max() > 0.8 * bound
    assert abs(layer.weight.numpy().std() - bound / math.sqrt(3)) < 0.15 * bound
    ag.manual_seed(0)
    np.testing.assert_array_equal(build().weight.numpy(), layer.weight.numpy())


def test_embedding_starts_standard_normal_with_zero_padding_row():
    ag.manual_seed(0)
    emb = nn.Embedding(400, 50, padding_idx=-1)
    assert emb.padding_idx == 399
    np.testing.assert_array_equal(emb.weight.numpy()[399], 0)
    assert abs(emb.weight.numpy().mean()) < 0.02 and abs(emb.weight.numpy().std() - 1) < 0.02


def test_layer_dtype_keyword():
    assert nn.Linear(2, 3, dtype=ag.float64).weight.dtype == np.float64
    assert nn.BatchNorm2d(2, dtype=np.float64).running_var.dtype == np.float64


# -- error messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, shape, pattern", [
    (nn.Linear(3, 4), (2, 5), r"Linear\(in_features=3, out_features=4, bias=True\).*in_features=3.*\(2, 5\)"),
    (nn.Conv2d(3, 8, 3), (2, 4, 8, 8), r"Conv2d\(3, 8, kernel_size=\(3, 3\).*in_channels=3.*\(2, 4, 8, 8\)"),
    (nn.Conv2d(3, 8, 3), (3, 8), r"Conv2d\(3, 8.*4-D.*\(3, 8\)"),
    (nn.Conv2d(1, 1, 5), (1, 1, 3, 3), r"conv2d.*larger than the padded input"),
    (nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d\(3.*4D.*\(2, 3, 4\)"),
    (nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d\(3.*num_features=3.*\(2, 4\)"),
    (nn.LayerNorm(4), (2, 5), r"LayerNorm.*\(4,\).*\(2, 5\)"),
    (nn.MaxPool2d(2), (2, 3), r"MaxPool2d.*4-D.*\(2, 3\)"),
])
def test_wrong_input_shape_names_the_layer_and_the_shapes(layer, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        layer(ag.zeros(shape))


def test_functional_shape_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"linear.*\(2, 5\).*\(4, 3\)"):
        F.linear(ag.zeros(2, 5), ag.zeros(4, 3))
    with pytest.raises(ValueError, match=r"conv2d.*4 channels.*expects 3"):
        F.conv2d(ag.zeros(1, 4, 5, 5), ag.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(ag.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


# -- functional extras ------------------------------------------------------------------------------

@pytest.mark.parametrize("pad, mode", [((1, 2), "constant"), ((1, 0, 2, 1), "constant"), ((2, 1, 1, 2), "reflect"),
                                       ((1, 2, 0, 1), "replicate"), ((2, 2, 1, 1), "circular"),
                                       ((-1, 2, 1, -1), "constant"), ((0, 0, 0, 0, 1, 1), "constant")])
def test_pad_matches_torch(pad, mode, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 5))
    mx, tx = ag.tensor(x, requires_grad=True), to_torch(x, True)
    out = F.pad(mx, pad, mode=mode)
    expected = torch.nn.functional.pad(tx, pad, mode=mode)
    assert_matches_torch(f"pad {pad} {mode}", out, expected)
    upstream = rng.standard_normal(expected.shape)
    out.backward(ag.tensor(upstream))
    expected.backward(to_torch(upstream))
    assert_matches_torch(f"pad {pad} {mode} grad", mx.grad, tx.grad)


@pytest.mark.parametrize("build, shapes", [("CosineSimilarity()", [(3, 4), (3, 4)]),
                                           ("CosineSimilarity(dim=-1, eps=1e-3)", [(2, 3, 4), (3, 1)]),
                                           ("PairwiseDistance()", [(3, 4), (3, 4)]),
                                           ("PairwiseDistance(p=1.0, keepdim=True)", [(2, 3, 4), (4,)]),
                                           ("PairwiseDistance(p=float('inf'), eps=0.0)", [(5, 3), (5, 3)])])
def test_distance_layers_match_torch(torch, rng, build, shapes):
    mine, theirs = eval(f"nn.{build}", {"nn": nn}), eval(f"nn.{build}", {"nn": torch.nn})
    assert repr(mine) == repr(theirs)
    pairs = [both(rng.standard_normal(shape)) for shape in shapes]
    out, out_t = mine(*(m for m, _ in pairs)), theirs(*(t for _, t in pairs))
    assert_matches_torch(build, out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    for m, t in pairs:
        assert_matches_torch(f"{build} grad", m.grad, t.grad)


@pytest.mark.parametrize("call, message", [
    (lambda: F.glu(ag.zeros(2, 3)), r"glu: halving dimension must be even, but dimension -1 is size 3"),
    (lambda: F.pixel_shuffle(ag.zeros(1, 6, 2, 2), 2), r"pixel_shuffle: the channels 6 .* divisible by the square"),
    (lambda: F.pixel_shuffle(ag.zeros(4, 2), 2), "at least 3 dimensions"),
    (lambda: F.pixel_unshuffle(ag.zeros(1, 1, 3, 4), 2), r"height and width of the input of shape \(1, 1, 3, 4\)"),
    (lambda: nn.Softmax2d()(ag.zeros(2, 3)), r"Softmax2d: expects a 3-D .* got shape \(2, 3\)"),
    (lambda: nn.InstanceNorm2d(3)(ag.zeros(2, 3)), r"InstanceNorm2d\(3.*expected 3D or 4D input.*\(2, 3\)"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(ag.zeros(2, 4, 5)), r"size at dim=1 to match num_features \(3\)"),
    (lambda: F.rms_norm(ag.zeros(2, 3), (2,)), r"rms_norm: expected an input ending in the normalized_shape \(2,\)"),
    (lambda: F.channel_shuffle(ag.zeros(1, 4, 2, 2), 3), "Got 4 channels and 3 groups"),
])
def test_new_layers_name_the_shape_at_fault(torch, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_instance_norm_without_affine_warns_on_a_channel_count_mismatch_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 4, 5))
    with pytest.warns(UserWarning, match="size at dim=1 does not match num_features"):
        out = nn.InstanceNorm1d(3)(ag.tensor(x))
    with pytest.warns(UserWarning, match="size at dim=1 does not match num_features"):
        out_t = torch.nn.InstanceNorm1d(3)(to_torch(x))
    assert_matches_torch("instance norm of 4 channels", out, out_t)


@pytest.mark.parametrize("bias, shapes", [(True, [(4, 3), (4, 2)]), (False, [(2, 5, 3), (2, 5, 2)]), (True, [(3,), (2,)])])
def test_bilinear_matches_torch(torch, rng, bias, shapes):
    mine, theirs = nn.Bilinear(3, 2, 4, bias=bias).double(), torch.nn.Bilinear(3, 2, 4, bias=bias).double()
    copy_torch_state(mine, theirs)
    assert repr(mine) == repr(theirs)
    pairs = [both(rng.standard_normal(shape)) for shape in shapes]
    out, out_t = mine(*(m for m, _ in pairs)), theirs(*(t for _, t in pairs))
    assert_matches_torch("bilinear", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    for (m, t), name in zip(pairs, ("input1", "input2")):
        assert_matches_torch(f"{name} grad", m.grad, t.grad)
    for (name, p), p_t in zip(mine.named_parameters(), theirs.parameters()):
        assert_matches_torch(f"{name} grad", p.grad, p_t.grad)
    assert ag.gradcheck(lambda *xs: mine(*xs), [m for m, _ in pairs])
    bound = 1 / np.sqrt(3)
    fresh = nn.Bilinear(3, 2, 4).weight.numpy()
    assert np.abs(fresh).max() <= bound and np.abs(fresh).max() > 0.5 * bound
    with pytest.raises(ValueError, match=r"bilinear: .*got \(4, 3\), \(4, 5\)"):
        mine(ag.zeros(4, 3, dtype=ag.float64), ag.zeros(4, 5, dtype=ag.float64))


@pytest.mark.parametrize("name, args", [("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, -2.0)), ("celu_", (0.7,)),
                                        ("selu_", ())])
def test_in_place_activation_functions_match_torch(torch, rng, name, args):
    x = rng.standard_normal((3, 4))
    mine, theirs = ag.tensor(x), to_torch(x)
    assert getattr(F, name)(mine, *args) is mine
    getattr(torch.nn.functional, name)(theirs, *args)
    assert_matches_torch(name, mine, theirs)


def test_gumbel_softmax_samples_the_categorical_and_hard_passes_the_soft_gradient(torch):
    ag.manual_seed(0)
    logits = ag.tensor(np.log(np.array([0.2, 0.5, 0.3])), requires_grad=True)
    samples = F.gumbel_softmax(logits.expand(20000, 3), tau=0.5)
    np.testing.assert_allclose(samples.numpy().sum(-1), 1.0, rtol=1e-12)
    counts = np.bincount(samples.numpy().argmax(-1), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.02)   # argmax of Gumbel-perturbed logits
    hard = F.gumbel_softmax(logits.expand(4, 3), tau=2.0, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0} and (hard.numpy().sum(-1) == 1).all()
    upstream = np.random.default_rng(1).standard_normal((4, 3))
    (hard * ag.tensor(upstream)).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0
    theirs = torch.nn.functional.gumbel_softmax(torch.zeros(4, 3), hard=True)
    assert hard.shape == tuple(theirs.shape)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_affine_grid_and_grid_sample_match_torch(torch, rng, mode, padding_mode, align_corners):
    """A spatial transformer's two steps: values and the gradients of input, grid and theta (grid points
    reach past the edges, so every padding rule is exercised)."""
    x, xt = both(rng.standard_normal((2, 3, 4, 5)))
    grid, grid_t = both(rng.uniform(-1.6, 1.6, (2, 3, 6, 2)))
    theta, theta_t = both(rng.standard_normal((2, 2, 3)))
    tf = torch.nn.functional
    out, out_t = F.grid_sample(x, grid, mode, padding_mode, align_corners), \
        tf.grid_sample(xt, grid_t, mode, padding_mode, align_corners)
    assert_matches_torch("grid_sample", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    assert_matches_torch("grid_sample input grad", x.grad, xt.grad)
    if mode == "bilinear":
        assert_matches_torch("grid_sample grid grad", grid.grad, grid_t.grad)
        assert ag.gradcheck(lambda x, grid: F.grid_sample(x, grid, mode, padding_mode, align_corners),
                            [both(rng.standard_normal((1, 2, 3, 3)))[0], both(rng.uniform(-1.3, 1.3, (1, 2, 2, 2)))[0]])
    sampled_grid = F.affine_grid(theta, (2, 3, 3, 4), align_corners)
    sampled_grid_t = tf.affine_grid(theta_t, (2, 3, 3, 4), align_corners=align_corners)
    assert_matches_torch("affine_grid", sampled_grid, sampled_grid_t)
    (sampled_grid * sampled_grid).sum().backward()
    (sampled_grid_t * sampled_grid_t).sum().backward()
    assert_matches_torch("affine_grid theta grad", theta.grad, theta_t.grad)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_an_identity_grid_lands_on_the_pixel_centres_exactly_as_in_torch(torch, rng, dtype, align_corners):
    """The spatial-transformer tutorial starts from the identity: every grid point then sits exactly on a
    pixel centre, where grid_sample's gradient jumps, so the grid must round as PyTorch's does."""
    theta = np.tile(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype), (2, 1, 1))
    for size in [(2, 1, 28, 28), (2, 1, 29, 7), (2, 1, 5, 100)]:
        grid, grid_t = both(F.affine_grid(ag.tensor(theta), size, align_corners).numpy())
        np.testing.assert_array_equal(grid.numpy(), torch.nn.functional.affine_grid(
            torch.tensor(theta), size, align_corners=align_corners).numpy())
        image = rng.standard_normal(size).astype(dtype)
        out = F.grid_sample(ag.tensor(image), grid, align_corners=align_corners)
        out_t = torch.nn.functional.grid_sample(to_torch(image), grid_t, align_corners=align_corners)
        out.sum().backward()
        out_t.sum().backward()
        assert_matches_torch("identity sample", out, out_t, dtype)
        assert_matches_torch("grid grad at the pixel centres", grid.grad, grid_t.grad, dtype)


def test_grid_sample_and_affine_grid_warn_without_align_corners_and_check_shapes(torch):
    identity = ag.tensor(np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], np.float32))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(identity, (1, 1, 3, 3))
    image = ag.tensor(np.arange(9.0, dtype=np.float32).reshape(1, 1, 3, 3))
    np.testing.assert_allclose(F.grid_sample(image, grid, align_corners=False).numpy(), image.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match=r"grid_sample: expects a 4-D input .* got input \(1, 3, 3\)"):
        F.grid_sample(ag.zeros(1, 3, 3), ag.zeros(1, 2, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match=r"affine_grid: expects theta of shape \(N, 2, 3\)"):
        F.affine_grid(ag.zeros(1, 3, 3), (1, 1, 3, 3), align_corners=False)


@pytest.mark.parametrize("kwargs", [dict(max_norm=1.5), dict(max_norm=2.0, norm_type=1.0), dict(scale_grad_by_freq=True),
                                    dict(scale_grad_by_freq=True, padding_idx=5), dict(sparse=True),
                                    dict(max_norm=1.0, scale_grad_by_freq=True, padding_idx=2)])
def test_embedding_options_match_torch(torch, rng, kwargs):
    """max_norm renormalises the looked-up rows of the weight itself; scale_grad_by_freq divides each
    row's gradient by its count; sparse gives the same (dense) gradient."""
    weight = rng.standard_normal((6, 3)) * 2
    index = np.array([[0, 2, 2, 5], [5, 5, 1, 2]])
    mine, theirs = nn.Embedding(6, 3, **kwargs).double(), torch.nn.Embedding(6, 3, **kwargs).double()
    assert repr(mine) == repr(theirs)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
    mine.weight.numpy()[...] = weight
    out, out_t = mine(ag.tensor(index)), theirs(torch.tensor(index))
    assert_matches_torch("embedding", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    grad_t = theirs.weight.grad.to_dense() if theirs.weight.grad.is_sparse else theirs.weight.grad
    assert_matches_torch("weight grad", mine.weight.grad, grad_t)
    assert_matches_torch("weight after renorm", mine.weight, theirs.weight)


def test_embedding_from_pretrained_shares_and_freezes_the_weight_like_torch(torch):
    vectors = ag.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(vectors, padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(vectors.numpy()), padding_idx=1)
    assert repr(frozen) == repr(theirs) and not frozen.weight.requires_grad
    assert_close(frozen(ag.tensor(np.array([1, 2]))), theirs(torch.tensor([1, 2])))   # the padding row kept
    vectors.numpy()[0, 0] = 10.0
    assert frozen.weight.numpy()[0, 0] == 10.0                                       # shared, not copied
    assert nn.Embedding.from_pretrained(vectors, freeze=False).weight.requires_grad
    bag = nn.EmbeddingBag.from_pretrained(vectors, freeze=False, mode="sum")
    assert bag.weight.requires_grad and repr(bag) == "EmbeddingBag(3, 2, mode='sum')"
    with pytest.raises(ValueError, match="expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(ag.zeros(3))


EMBEDDING_BAGS = [
    ("mean", dict(offsets=[0, 4, 4]), {}), ("sum", dict(offsets=[0, 3, 5]), {}), ("max", dict(offsets=[0, 4, 4]), {}),
    ("mean", dict(offsets=[0, 2, 5, 8]), dict(include_last_offset=True)),
    ("max", dict(offsets=[0, 2, 6]), dict(padding_idx=4)), ("mean", dict(offsets=[0, 4, 4]), dict(padding_idx=2)),
    ("sum", dict(offsets=[0, 1, 5], weights=True), {}), ("mean", dict(rows=True), {}), ("max", dict(rows=True), {}),
    # (not scale_grad_by_freq: PyTorch 2.13's CPU embedding_bag applies the counts to the wrong rows when
    # the indices are unsorted, e.g. [1, 2, 4, 5, 4, 3, 2, 0] gives row 3 half and row 4 twice its gradient)
    ("sum", dict(offsets=[0, 3, 6]), dict(max_norm=1.0)),
]


@pytest.mark.parametrize("mode, call, options", EMBEDDING_BAGS, ids=[f"{m}-{c}-{o}" for m, c, o in EMBEDDING_BAGS])
def test_embedding_bag_matches_torch(torch, rng, mode, call, options):
    mine, theirs = nn.EmbeddingBag(6, 3, mode=mode, **options).double(), \
        torch.nn.EmbeddingBag(6, 3, mode=mode, **options).double()
    copy_torch_state(mine, theirs)
    assert repr(mine) == repr(theirs)
    index = np.array([1, 2, 4, 5, 4, 3, 2, 0])
    args, args_t = [], []
    if call.get("rows"):
        index = index.reshape(2, 4)
    else:
        args, args_t = [ag.tensor(np.array(call["offsets"]))], [torch.tensor(call["offsets"])]
    weights = None
    if call.get("weights"):
        weights, weights_t = both(rng.standard_normal(index.shape))
    out = mine(ag.tensor(index), *args, per_sample_weights=weights)
    out_t = theirs(torch.tensor(index), *args_t, per_sample_weights=None if weights is None else weights_t)
    assert_matches_torch("embedding_bag", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    assert_matches_torch("weight grad", mine.weight.grad, theirs.weight.grad)
    if weights is not None:
        assert_matches_torch("per_sample_weights grad", weights.grad, weights_t.grad)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.embedding_bag(ag.tensor(np.array([1, 2])), ag.zeros(3, 2), mode="mean",
                             offsets=ag.tensor(np.array([0])), per_sample_weights=ag.ones(2)),
     NotImplementedError, "only supported for mode='sum'"),
    (lambda: F.embedding_bag(ag.tensor(np.array([[1, 2]])), ag.zeros(3, 2), ag.tensor(np.array([0]))), ValueError,
     "if input is 2D, then offsets has to be None"),
    (lambda: F.embedding_bag(ag.tensor(np.array([1, 2])), ag.zeros(3, 2)), ValueError, "offsets has to be a 1D Tensor"),
    (lambda: F.embedding_bag(ag.tensor(np.array([1, 2])), ag.zeros(3, 2), ag.tensor(np.array([1]))), ValueError,
     r"starting at 0 .* got \[1\]"),
])
def test_embedding_bag_mistakes_raise_as_torch(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: F.interpolate(ag.zeros(1, 1, 3), scale_factor=2, mode="bicubic"), "got 3D input, but bicubic mode needs 4D"),
    (lambda: F.interpolate(ag.zeros(1, 1, 3, 3), scale_factor=2, mode="area", align_corners=True),
     "align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(ag.zeros(1, 1, 3, 3), scale_factor=2, mode="lanczos"), "mode 'lanczos' is not supported"),
    (lambda: F.interpolate(ag.zeros(1, 1, 3, 3), scale_factor=2, antialias=True),
     "anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor"),
    (lambda: F.interpolate(ag.zeros(1, 1, 3), scale_factor=2, mode="linear", antialias=True), "anti-alias option"),
])
def test_interpolate_refuses_mode_and_shape_mismatches_as_torch(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("resize", [dict(scale_factor=0.5), dict(scale_factor=0.3), dict(size=(3, 7)),
                                    dict(scale_factor=(2.0, 0.4)), dict(size=(4, 2), align_corners=True),
                                    dict(scale_factor=0.45, recompute_scale_factor=True)],
                         ids=["half", "0.3", "size", "up-and-down", "align-corners", "recomputed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_antialiased_interpolate_matches_torch_with_gradients(mode, resize, dtype, torch, rng):
    """Downscaling a photo (torchvision's Resize(antialias=True)): the filter widens with the shrink."""
    x = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    tx, mx = to_torch(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    expected = torch.nn.functional.interpolate(tx, mode=mode, antialias=True, **resize)
    out = F.interpolate(mx, mode=mode, antialias=True, **resize)
    assert_matches_torch("antialiased output", out, expected, dtype)
    upstream = rng.standard_normal(expected.shape).astype(dtype)
    expected.backward(to_torch(upstream))
    out.backward(ag.tensor(upstream))
    assert_matches_torch("antialiased input grad", mx.grad, tx.grad, dtype)


@pytest.mark.parametrize("shape, scale_factor, mode", [
    ((1, 2, 4), 1.2, "nearest"), ((1, 2, 4), 2.2, "nearest"), ((1, 1, 4, 4, 4), (1.1, 2.2, 1.0), "nearest"),
    ((1, 2, 4, 4), (1.2, 2.2), "nearest"), ((1, 2, 4), 1.2, "nearest-exact"), ((1, 2, 4, 4), 1.2, "nearest-exact"),
    ((1, 1, 4, 4, 4), 1.2, "nearest-exact")])
def test_nearest_with_a_scale_that_keeps_or_doubles_the_size_picks_torchs_pixels(shape, scale_factor, mode, torch):
    """torch's 2-D 'nearest' kernel copies a kept size and repeats a doubled one whatever the scale, its 1-D
    and 3-D kernels and 'nearest-exact' apply the scale. (torch's own 1-D/3-D backward takes the 2-D
    shortcuts, disagreeing with its forward, so the gradient is checked against ours: gradcheck.)"""
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    expected = torch.nn.functional.interpolate(to_torch(x), scale_factor=scale_factor, mode=mode)
    out = F.interpolate(ag.tensor(x), scale_factor=scale_factor, mode=mode)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert ag.gradcheck(lambda t: F.interpolate(t, scale_factor=scale_factor, mode=mode),
                        [ag.tensor(x, requires_grad=True)])


def test_deprecated_upsample_functions_warn_and_interpolate_as_torch(torch, rng):
    x = rng.standard_normal((1, 2, 3, 4))
    for name in ("upsample", "upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match=f"nn.functional.{name} is deprecated"):
            out = getattr(F, name)(ag.tensor(x), scale_factor=2)
        with pytest.warns(UserWarning):
            expected = getattr(torch.nn.functional, name)(to_torch(x), scale_factor=2)
        assert_matches_torch(name, out, expected)


@pytest.mark.parametrize("dims, shape, options", [(2, (2, 3, 6, 4), dict(kernel_size=2)),
                                                  (2, (1, 2, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
                                                  (1, (2, 3, 8), dict(kernel_size=2)),
                                                  (2, (1, 2, 5, 5), dict(kernel_size=2, output_size=(5, 5)))])
def test_max_unpool_puts_the_pooled_maxima_back_like_torch(torch, rng, dims, shape, options):
    """SegNet's decoder: pool with return_indices, unpool to the pooling's input size."""
    options = dict(options)
    output_size = options.pop("output_size", None)
    pool, unpool = f"max_pool{dims}d", f"max_unpool{dims}d"
    x, xt = both(rng.standard_normal(shape))
    pooled, index = getattr(F, pool)(x, return_indices=True, **options)
    pooled_t, index_t = getattr(torch.nn.functional, pool)(xt, return_indices=True, **options)
    np.testing.assert_array_equal(index.numpy(), index_t.numpy())
    out = getattr(F, unpool)(pooled, index, output_size=output_size, **options)
    out_t = getattr(torch.nn.functional, unpool)(pooled_t, index_t, output_size=output_size, **options)
    assert_matches_torch("unpooled", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    assert_matches_torch("input grad", x.grad, xt.grad)
    layer, layer_t = getattr(nn, f"MaxUnpool{dims}d")(**options), getattr(torch.nn, f"MaxUnpool{dims}d")(**options)
    assert repr(layer) == repr(layer_t)
    assert_matches_torch("module", layer(pooled, index, output_size), layer_t(pooled_t, index_t, output_size))
    with pytest.raises(IndexError, match="invalid max index"):
        getattr(F, unpool)(pooled, index + 100, **options)


@pytest.mark.parametrize("build, shape", [("LazyLinear(3)", (2, 5, 4)), ("LazyConv2d(4, 3, padding=1)", (2, 2, 5, 5)),
                                          ("LazyConv1d(4, 2, groups=2)", (4, 6)),
                                          ("LazyConvTranspose2d(4, 2, stride=2)", (1, 3, 2, 2)),
                                          ("LazyBatchNorm1d()", (4, 3)), ("LazyBatchNorm2d(momentum=0.3)", (2, 3, 2, 2)),
                                          ("LazyInstanceNorm2d()", (2, 3, 4, 4))])
def test_lazy_layers_take_their_input_size_from_the_first_input_like_torch(torch, rng, build, shape):
    mine, theirs = eval(f"nn.{build}", {"nn": nn}), eval(f"nn.{build}", {"nn": torch.nn})
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    placeholders = list(mine.parameters())
    optimizer = nn.optim.SGD(placeholders, lr=0.1) if placeholders else None   # before they have a shape
    x = rng.standard_normal(shape).astype(np.float32)
    mine(ag.tensor(x))
    theirs(to_torch(x))
    assert type(mine).__name__ == type(theirs).__name__ and repr(mine) == repr(theirs)
    assert all(p is q for p, q in zip(mine.parameters(), placeholders))
    assert [(n, tuple(t.shape)) for n, t in mine.state_dict().items()] == \
        [(n, tuple(t.shape)) for n, t in theirs.state_dict().items()]
    copy_torch_state(mine, theirs)
    out, out_t = mine(ag.tensor(x)), theirs(to_torch(x))
    assert_matches_torch("second output", out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    for (name, p), p_t in zip(mine.named_parameters(), theirs.parameters()):
        assert_matches_torch(f"{name} grad", p.grad, p_t.grad)
    if optimizer:
        optimizer.step()


def test_adaptive_max_pool1d_returns_torchs_indices(torch, rng):
    x = rng.standard_normal((2, 3, 7))
    out, index = F.adaptive_max_pool1d(ag.tensor(x), 3, return_indices=True)
    out_t, index_t = torch.nn.functional.adaptive_max_pool1d(to_torch(x), 3, return_indices=True)
    assert_matches_torch("values", out, out_t)
    np.testing.assert_array_equal(index.numpy(), index_t.numpy())


def test_alpha_dropout_keeps_a_selu_nets_statistics_with_torchs_constants(torch):
    ag.manual_seed(0)
    x = ag.randn(200000, dtype=ag.float64)
    out = F.alpha_dropout(x, 0.3, training=True)
    assert abs(out.numpy().mean()) < 0.01 and abs(out.numpy().std() - 1) < 0.01
    # on zeros, kept units give alpha a p and dropped ones alpha a (p - 1): the same two values as PyTorch's
    mine = np.unique(F.alpha_dropout(ag.zeros(1000, dtype=ag.float64), 0.3, True).numpy())
    theirs = np.unique(torch.nn.functional.alpha_dropout(torch.zeros(1000, dtype=torch.float64), 0.3, True).numpy())
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert F.alpha_dropout(x, 0.3, training=False) is x
    channels = F.feature_alpha_dropout(ag.zeros(4, 6, 5), 0.5, training=True).numpy()
    assert (channels == channels[..., :1]).all()                       # one draw per (sample, channel)
    assert repr(nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))


def test_rrelu_uses_the_mean_slope_in_eval_and_random_slopes_in_training_like_torch(torch, rng):
    x = rng.standard_normal((4, 5))
    assert_matches_torch("eval", F.rrelu(ag.tensor(x)), torch.nn.functional.rrelu(to_torch(x)))
    mine = ag.tensor(x, requires_grad=True)
    layer = nn.RReLU(0.1, 0.3)
    out = layer(mine)
    out.sum().backward()
    slopes = (out.numpy() / x)[x < 0]
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all() and len(np.unique(slopes)) > 1
    np.testing.assert_allclose(mine.grad.numpy()[x < 0], slopes)
    assert repr(layer) == repr(torch.nn.RReLU(0.1, 0.3))


@pytest.mark.parametrize("build, call", [
    ("Linear(3, 2)", lambda m, x: m(x)), ("Conv2d(1, 2, 3)", lambda m, x: m(x.reshape(1, 1, 3, 4))),
    ("Conv1d(1, 2, 3)", lambda m, x: m(x.reshape(1, 1, 12))),
    ("ConvTranspose2d(1, 2, 3)", lambda m, x: m(x.reshape(1, 1, 3, 4))),
    ("BatchNorm1d(3)", lambda m, x: m(x)), ("LayerNorm(3)", lambda m, x: m(x)),
    ("GroupNorm(1, 4)", lambda m, x: m(x.reshape(1, 4, 3))), ("PReLU()", lambda m, x: m(x)),
    ("Bilinear(3, 3, 2)", lambda m, x: m(x, x)), ("MultiheadAttention(3, 1)", lambda m, x: m(x, x, x)),
])
def test_a_float64_batch_into_a_float32_model_is_refused_as_in_torch(torch, build, call):
    """NumPy data is float64 and models are float32: PyTorch raises rather than compute in float64,
    and so do we, naming the op and both dtypes."""
    data = np.arange(12.0).reshape(4, 3)
    with pytest.raises(RuntimeError):
        call(eval(f"nn.{build}", {"nn": torch.nn}), torch.tensor(data))
    with pytest.raises(TypeError, match=r"the input's dtype float64 does not match the \w+'s dtype float32"):
        call(eval(f"nn.{build}", {"nn": nn}), ag.tensor(data))
    mine = eval(f"nn.{build}", {"nn": nn})
    call(mine.double(), ag.tensor(data))                          # converting the model is the way out
    call(eval(f"nn.{build}", {"nn": nn}), ag.tensor(data.astype(np.float32)))   # or the data


PADDING_LAYERS = [("ZeroPad2d(2)", (2, 3, 4, 5)), ("ZeroPad2d((1, 0, 2, 3))", (3, 4, 5)), ("ZeroPad1d((0, 2))", (2, 3, 4)),
                  ("ConstantPad1d(2, 3.5)", (2, 3, 4)), ("ConstantPad3d((1, 0, 0, 1, 2, 0), -1.0)", (1, 2, 3, 4, 5)),
                  ("ReflectionPad2d(1)", (2, 3, 4, 5)), ("ReflectionPad1d((3, 1))", (3, 4)),
                  ("ReplicationPad2d((1, 2, 0, 3))", (1, 2, 3, 4)), ("ReplicationPad3d(1)", (2, 2, 3, 3)),
                  ("CircularPad2d(1)", (2, 3, 4, 5)), ("CircularPad1d((2, 3))", (1, 2, 4))]


@pytest.mark.parametrize("build, shape", PADDING_LAYERS, ids=[b for b, _ in PADDING_LAYERS])
def test_padding_layers_match_torch(torch, rng, build, shape):
    mine, theirs = eval(f"nn.{build}", {"nn": nn}), eval(f"nn.{build}", {"nn": torch.nn})
    assert repr(mine) == repr(theirs)
    x, xt = both(rng.standard_normal(shape))
    out, out_t = mine(x), theirs(xt)
    assert_matches_torch(build, out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    assert_matches_torch(f"{build} grad", x.grad, xt.grad)


@pytest.mark.parametrize("shape, pad, mode, message", [
    ((1, 3, 3), (3, 3), "reflect", r"less than the size of the padded dim, got padding \(3, 3\) for dim 2 of size 3"),
    ((1, 1, 3), (4, 0), "circular", r"at most the size of the padded dim, got padding \(4, 0\)"),
    ((3, 3), (1, 1, 1, 1), "reflect", r"last 2 dim\(s\) \(padding \(1, 1, 1, 1\)\) needs a 3-D or 4-D input"),
    ((1, 2, 3, 3), (1, 1), "replicate", r"needs a 2-D or 3-D input .*got shape \(1, 2, 3, 3\)"),
    ((1, 1, 0), (1, 1), "replicate", "needs non-empty padded dims"),
])
def test_pad_refuses_what_torch_refuses_instead_of_numpys_repeated_reflection(torch, shape, pad, mode, message):
    with pytest.raises((RuntimeError, NotImplementedError, ValueError)):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode)
    with pytest.raises(ValueError, match="pad: " + mode + ".*" + message):
        F.pad(ag.zeros(shape), pad, mode=mode)


def test_unfold_and_fold_take_torchs_argument_order(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 6, 5))
    expected = torch.nn.functional.unfold(to_torch(x), (2, 3), 2, 1, (1, 2))   # dilation, padding, stride
    cols = F.unfold(ag.tensor(x), (2, 3), 2, 1, (1, 2))
    assert_matches_torch("unfold", cols, expected)
    folded = F.fold(cols, (6, 5), (2, 3), 2, 1, (1, 2))
    assert_matches_torch("fold", folded, torch.nn.functional.fold(expected, (6, 5), (2, 3), 2, 1, (1, 2)))


def test_one_hot_and_flatten():
    out = F.one_hot(ag.tensor(np.array([0, 2, 1])), 4)
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.flatten(ag.zeros(2, 3, 4), 1).shape == (2, 12)


def test_max_pool2d_return_indices_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 7, 6))
    out, idx = F.max_pool2d(ag.tensor(x), 3, 2, 1, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(to_torch(x), 3, 2, 1, return_indices=True)
    assert_matches_torch("max_pool2d return_indices values", out, t_out)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_max_pool_pads_with_minus_infinity_and_gives_the_gradient_to_one_maximum():
    x = ag.tensor(-np.ones((1, 1, 2, 2)) * 5, requires_grad=True)   # all ties, all negative
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_array_equal(out.numpy(), -5)                     # not the zero padding
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.numpy().sum() == 1 and x.grad.numpy()[0, 0, 0, 0] == 1    # the first maximum, as PyTorch


def test_conv_matches_torch_at_benchmark_size_in_float32(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(784, 10))
    mine = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(784, 10))
    copy_torch_state(mine, theirs)
    x = rng.random((16, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    t_loss = torch.nn.functional.cross_entropy(theirs(to_torch(x)), to_torch(y))
    m_loss = F.cross_entropy(mine(ag.tensor(x)), ag.tensor(y))
    assert_matches_torch("small CNN loss", m_loss, t_loss, np.float32)
    t_loss.backward()
    m_loss.backward()
    for (name, tp), (_, mp) in zip(theirs.named_parameters(), mine.named_parameters()):
        assert_matches_torch(f"small CNN {name}.grad", mp.grad, tp.grad, np.float32, rtol=1e-3, atol=1e-5)


def test_conv_and_pool_scratch_buffers_are_reused_only_when_nothing_refers_to_them(rng):
    from autograd.ops.workspace import workspace
    layer = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.MaxPool2d(2))
    x = ag.tensor(rng.standard_normal((16, 2, 32, 32)).astype(np.float32), requires_grad=True)
    first = layer(x)
    kept = first.numpy().copy()
    loss = first.sum()
    second = layer(x * 2)                  # the first graph is alive: its buffers must not be reused
    np.testing.assert_array_equal(first.numpy(), kept)
    assert not np.shares_memory(first.numpy(), second.numpy())
    loss.backward()
    grad = x.grad.numpy().copy()
    del second
    x.grad = None
    layer(x).sum().backward()             # buffers freed above may be reused here
    np.testing.assert_array_equal(x.grad.numpy(), grad)
    np.testing.assert_array_equal(first.numpy(), kept)
    workspace.clear()


def test_relu_of_a_channel_major_conv_output_stays_channel_major_with_its_gradient(rng):
    hidden = nn.Conv2d(3, 8, 3, padding=1).double()(ag.tensor(rng.standard_normal((4, 3, 16, 16))))
    hidden.retain_grad()
    out = ag.relu(hidden)
    assert out.numpy().transpose(1, 0, 2, 3).flags.c_contiguous   # the next conv reads it without a copy
    np.testing.assert_array_equal(out.numpy(), np.maximum(hidden.numpy(), 0))
    upstream = rng.standard_normal((8, 4, 16, 16)).transpose(1, 0, 2, 3)
    out.backward(ag.tensor(upstream))
    np.testing.assert_array_equal(hidden.grad.numpy(), np.where(hidden.numpy() > 0, upstream, 0))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_channel_major_cnn_blocks_match_torch(dtype, rng):
    # Conv outputs are channel-major views, which batchnorm, relu and pooling keep: this runs the
    # same-size flat-shift im2col/col2im (with dilation), the batchnorm row-matrix paths and the
    # tiled 2x2 pooling end to end, with ties at the pooling (integer-valued input).
    torch = pytest.importorskip("torch")

    def build(m):
        layers = [m.Conv2d(2, 6, 3, padding=1), m.BatchNorm2d(6), m.ReLU(), m.MaxPool2d(2),
                  m.Conv2d(6, 4, 3, padding=2, dilation=2, bias=False), m.BatchNorm2d(4, affine=False),
                  m.MaxPool2d((1, 2)), m.Flatten(), m.LayerNorm(4 * 4 * 2)]
        return m.Sequential(*layers)
    theirs, mine = build(torch.nn), build(nn)
    if dtype == np.float64:
        theirs, mine = theirs.double(), mine.double()
    copy_torch_state(mine, theirs)
    x = rng.integers(-2, 3, (5, 2, 8, 8)).astype(dtype)
    grad = rng.standard_normal((5, 32)).astype(dtype)
    t_x, m_x = to_torch(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    t_out, m_out = theirs(t_x), mine(m_x)
    assert_matches_torch("cnn blocks", m_out, t_out, dtype)
    t_out.backward(to_torch(grad))
    m_out.backward(ag.tensor(grad))
    assert_matches_torch("cnn blocks input grad", m_x.grad, t_x.grad, dtype)
    for (name, tp), (_, mp) in zip(theirs.named_parameters(), mine.named_parameters()):
        assert_matches_torch(f"cnn blocks {name}.grad", mp.grad, tp.grad, dtype)


@pytest.mark.parametrize("channel_major", [False, True])
def test_normalize_fast_paths_accept_either_layout_for_input_and_gradient(channel_major, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
    grad = rng.standard_normal((4, 3, 5, 6))
    if channel_major:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    else:
        grad = np.ascontiguousarray(grad.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    tensors = [ag.tensor(a, requires_grad=True) for a in (x, w, b)]
    t_tensors = [to_torch(a, requires_grad=True) for a in (x, w, b)]
    out = F.batch_norm(tensors[0], None, None, tensors[1], tensors[2], True)
    t_out = torch.nn.functional.batch_norm(t_tensors[0], None, None, t_tensors[1], t_tensors[2], True)
    out.backward(ag.tensor(grad))
    t_out.backward(to_torch(grad))
    assert_matches_torch("batch_norm", out, t_out)
    for name, mine, theirs in zip(("x", "weight", "bias"), tensors, t_tensors):
        assert_matches_torch(f"batch_norm {name}.grad", mine.grad, theirs.grad)


def test_normalize_scratch_buffers_are_not_overwritten_while_held(rng):
    layer = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4))
    x = ag.tensor(rng.standard_normal((8, 2, 16, 16)).astype(np.float32), requires_grad=True)
    first = layer(x)
    kept = first.numpy().copy()
    first.sum().backward()
    grad = x.grad.numpy()
    grad_kept = grad.copy()
    x.grad = None
    for _ in range(3):
        layer(x * 3).sum().backward()
    np.testing.assert_array_equal(first.numpy(), kept)
    np.testing.assert_array_equal(grad, grad_kept)


# -- regressions found in review -------------------------------------------------------------------

def test_max_pool_sends_the_gradient_to_a_nan_as_pytorch():
    torch = pytest.importorskip("torch")
    for k, row in [(2, [1.0, np.nan, 0.0, 0.0]), (3, [1.0, np.nan, 0.5, 0.0, np.nan, 0.0]),
                   (3, [np.nan, np.nan, 2.0, 1.0, 3.0, 2.0]), (2, [np.nan, np.nan, 1.0, 2.0])]:
        x0 = np.array(row).reshape(1, 1, 1, -1)
        x = ag.tensor(x0, requires_grad=True)
        y, idx = F.max_pool2d(x, (1, k), return_indices=True)
        y.sum().backward()
        tx = torch.tensor(x0, requires_grad=True)
        ty, tidx = torch.nn.functional.max_pool2d(tx, (1, k), return_indices=True)
        ty.sum().backward()
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_second_backward_through_max_pool_raises():
    x = ag.randn(1, 1, 4, 4, requires_grad=True)
    y = F.max_pool2d(x, 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_max_pool_2d_window_with_nans_matches_pytorch():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    x0[0, 0, 0, 1] = x0[0, 0, 1, 0] = x0[1, 2, 3, 3] = np.nan
    x = ag.tensor(x0, requires_grad=True)
    y, idx = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    (y * ag.tensor(np.arange(y.size, dtype=np.float64).reshape(y.shape))).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(tx, 3, stride=2, padding=1, return_indices=True)
    (ty * torch.arange(ty.numel(), dtype=torch.float64).reshape(ty.shape)).sum().backward()
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# -- functional forms and options as PyTorch code passes them ------------------------------------------------

def test_functional_positional_signatures(torch):
    params = {
        "dropout": ["input", "p", "training"], "batch_norm": ["input", "running_mean", "running_var", "weight",
                                                              "bias", "training", "momentum", "eps"],
        "conv2d": ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
        "max_pool2d": ["input", "kernel_size", "stride", "padding"],
        "avg_pool2d": ["input", "kernel_size", "stride", "padding"],
        "linear": ["input", "weight", "bias"], "layer_norm": ["input", "normalized_shape", "weight", "bias", "eps"],
        "cross_entropy": ["input", "target", "weight"], "leaky_relu": ["input", "negative_slope"],
        "one_hot": ["tensor", "num_classes"], "softmax": ["input", "dim"], "log_softmax": ["input", "dim"],
        "nll_loss": ["input", "target", "weight"], "mse_loss": ["input", "target"], "elu": ["input", "alpha"],
    }
    for name, expected in params.items():
        names = list(inspect.signature(getattr(F, name)).parameters)
        assert names[:len(expected)] == expected, name


def test_functional_conv2d_positional_signature(torch, rng):
    x, xt = both(rng.standard_normal((1, 4, 6, 6)).astype(np.float32))
    w, wt = both(rng.standard_normal((4, 2, 3, 3)).astype(np.float32))
    b, bt = both(rng.standard_normal(4).astype(np.float32))
    out = F.conv2d(x, w, b, 2, 1, 1, 2)
    out_t = torch.nn.functional.conv2d(xt, wt, bt, 2, 1, 1, 2)
    assert_close(out, out_t, atol=1e-5)
    assert_close(F.conv2d(x, w, None, stride=1, padding=0, dilation=2, groups=2),
                 torch.nn.functional.conv2d(xt, wt, None, stride=1, padding=0, dilation=2, groups=2), atol=1e-5)


def test_linear_matches_torch_including_batched_inputs(torch, rng):
    ours, theirs = nn.Linear(5, 3), torch.nn.Linear(5, 3)
    copy_torch_state(ours, theirs)
    x, xt = both(rng.standard_normal((2, 4, 5)).astype(np.float32))
    assert_close(ours(x), theirs(xt), atol=1e-6)
    assert_close(F.linear(x, ours.weight, ours.bias), torch.nn.functional.linear(xt, theirs.weight, theirs.bias))
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


@pytest.mark.parametrize("bias", [True, False])
def test_linear_on_a_small_batch_is_row_ordered_and_matches_torch(torch, rng, bias):
    # 3 rows for 64 outputs: the product is taken the other way round and turned back to row order
    ours, theirs = nn.Linear(16, 64, bias=bias), torch.nn.Linear(16, 64, bias=bias)
    copy_torch_state(ours, theirs)
    x, xt = both(rng.standard_normal((3, 16)).astype(np.float32))
    out = ours(x)
    assert out.numpy().flags.c_contiguous and out.dtype == np.float32
    assert_close(out, theirs(xt), atol=1e-6)
    out.sum().backward()
    theirs(xt).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, atol=1e-6)
    assert_close(x.grad, xt.grad, atol=1e-6)


LINEAR_SHAPES = [  # (input, weight, bias or None), each accepted or refused as PyTorch does
    ((3,), (3,), None), ((2, 3), (3,), None), ((4, 2, 3), (3,), None), ((3,), (3,), ()), ((4, 2, 3), (3,), ()),
    ((2, 3), (3,), ()), ((3,), (3,), (1,)), ((4, 2, 3), (3,), (1,)), ((2, 3), (3,), (2,)),
    ((2, 3), (5, 3), ()), ((2, 3), (5, 3), (1,)), ((2, 3), (5, 3), (2, 5)), ((2, 3), (5, 3), (2, 1)),
    ((3,), (5, 3), (1, 5)), ((4, 2, 3), (5, 3), (4, 2, 5)), ((2, 3), (5, 3), (2,)), ((2, 3), (5, 3), (3, 2, 5)),
    ((3,), (), None), ((), (3,), None), ((2, 3), (5, 3, 1), None), ((2, 3), (5, 4), None),
]


@pytest.mark.parametrize("shapes", LINEAR_SHAPES, ids=str)
def test_linear_takes_the_weight_and_bias_shapes_torch_takes_and_refuses_the_others_clearly(torch, rng, shapes):
    """Where PyTorch computes a result (a 1-D weight gives input @ weight), ours has its shape, values
    and gradients; where PyTorch raises, ours raises a ShapeError naming linear and the shapes."""
    x_shape, w_shape, b_shape = shapes
    arrays = [rng.standard_normal(shape) for shape in (x_shape, w_shape, b_shape) if shape is not None]
    pairs = [both(a) for a in arrays]
    mine, theirs = [m for m, _ in pairs], [t for _, t in pairs]
    try:
        out_t = torch.nn.functional.linear(*theirs)
    except RuntimeError:
        with pytest.raises(ValueError, match=r"linear: .*" + r"\(" + ", ".join(map(str, w_shape)) + r",?\)"):
            F.linear(*mine)
        return
    out = F.linear(*mine)
    assert_matches_torch("output", out, out_t)
    upstream = rng.standard_normal(out_t.shape)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    for name, m, t in zip(("input", "weight", "bias"), mine, theirs):
        assert_matches_torch(f"{name} grad", m.grad, t.grad)
    assert ag.gradcheck(F.linear, mine)
    assert ag.gradgradcheck(lambda *args: F.linear(*args) ** 2, mine)   # through every output of LinearGrad


@pytest.mark.parametrize("frozen", ["input", "weight", "bias", "input and bias"])
def test_linear_second_derivatives_with_some_inputs_frozen_match_torch(torch, rng, frozen):
    arrays = [rng.standard_normal(shape) for shape in ((4, 2, 3), (5, 3), (5,))]
    pairs = [both(a) for a in arrays]
    for name, (m, t) in zip(("input", "weight", "bias"), pairs):
        if name in frozen:
            m.requires_grad_(False)
            t.requires_grad_(False)
    mine = [m for m, _ in pairs if m.requires_grad]
    theirs = [t for _, t in pairs if t.requires_grad]
    out, out_t = F.linear(*[m for m, _ in pairs]), torch.nn.functional.linear(*[t for _, t in pairs])
    probe = rng.standard_normal(out_t.shape)
    grads = ag.grad((out * out * ag.tensor(probe)).sum(), mine, create_graph=True)
    grads_t = torch.autograd.grad((out_t * out_t * to_torch(probe)).sum(), theirs, create_graph=True)
    penalty = sum((g * g).sum() for g in grads)
    penalty_t = sum((g * g).sum() for g in grads_t)
    for name, g, g_t in zip(("first", "second"), (grads, ag.grad(penalty, mine)),
                            (grads_t, torch.autograd.grad(penalty_t, theirs))):
        for m, t in zip(g, g_t):
            assert_matches_torch(f"{name} derivative", m, t)


POOL_OPTIONS = [
    ("max_pool2d", dict(kernel_size=3, stride=2, ceil_mode=True)), ("max_pool2d", dict(kernel_size=2, dilation=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ("avg_pool2d", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=2, divisor_override=3)),
]


@pytest.mark.parametrize("name, kwargs", POOL_OPTIONS, ids=[f"{n}-{k}" for n, k in POOL_OPTIONS])
def test_functional_pool_options_match_torch(torch, rng, name, kwargs):
    x, xt = both(rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
    out, out_t = getattr(F, name)(x, **kwargs), getattr(torch.nn.functional, name)(xt, **kwargs)
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(x.grad, xt.grad)


def test_dropout_scales_kept_values_in_training_and_is_identity_in_eval():
    ag.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = ag.ones(200, 50)
    y = drop(x)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    drop.eval()
    assert np.array_equal(drop(x).numpy(), x.numpy())
    assert np.array_equal(F.dropout(x, 0.5, False).numpy(), x.numpy())
    assert np.array_equal(F.dropout(x, p=0.5, training=False).numpy(), x.numpy())
    z = F.dropout(x, 0.5, True)
    assert 0.4 < (z.numpy() != 0).mean() < 0.6
    assert nn.Dropout().p == 0.5


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 5))])
def test_batchnorm_training_eval_running_stats_match_torch(torch, rng, cls, shape):
    ours, theirs = getattr(nn, cls)(3, momentum=0.2), getattr(torch.nn, cls)(3, momentum=0.2)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    copy_torch_state(ours, theirs)
    for step in range(3):
        data = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        x, xt = both(data)
        out, out_t = ours(x), theirs(xt)
        assert_close(out, out_t, atol=1e-5)
        w = rng.standard_normal(shape).astype(np.float32)
        (out * ag.tensor(w)).sum().backward()
        (out_t * torch.tensor(w)).sum().backward()
        assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.bias.grad, theirs.bias.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.running_mean, theirs.running_mean, atol=1e-6)
    assert_close(ours.running_var, theirs.running_var, rtol=1e-5)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    data = rng.standard_normal(shape).astype(np.float32)
    x, xt = both(data)
    assert_close(ours(x), theirs(xt), atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batchnorm_constructor_keywords(torch):
    bn = nn.BatchNorm2d(4, eps=1e-3, momentum=0.01, affine=False, track_running_stats=True)
    assert bn.weight is None and bn.eps == 1e-3
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm2d(4, affine=False).state_dict())
    bn2 = nn.BatchNorm1d(4, track_running_stats=False)
    assert list(bn2.state_dict()) == list(torch.nn.BatchNorm1d(4, track_running_stats=False).state_dict())
    bn2.eval()
    assert bn2(ag.randn(5, 4)).shape == (5, 4)


def test_functional_batch_norm_positional_signature(torch, rng):
    data = rng.standard_normal((6, 3, 2, 2)).astype(np.float32)
    x, xt = both(data)
    rm, rv = ag.zeros(3), ag.ones(3)
    rmt, rvt = torch.zeros(3), torch.ones(3)
    w, wt = both(np.array([1.0, 2.0, 0.5], np.float32))
    b, bt = both(np.array([0.0, -1.0, 1.0], np.float32))
    out = F.batch_norm(x, rm, rv, w, b, True, 0.3, 1e-3)
    out_t = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, True, 0.3, 1e-3)
    assert_close(out, out_t, atol=1e-5)
    assert_close(rm, rmt, atol=1e-6)
    assert_close(rv, rvt, rtol=1e-5)
    out_eval = F.batch_norm(x, rm, rv, w, b, False, 0.3, 1e-3)
    out_eval_t = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, False, 0.3, 1e-3)
    assert_close(out_eval, out_eval_t, atol=1e-5)
    assert_close(F.batch_norm(x, rm, rv, training=True), torch.nn.functional.batch_norm(xt, rmt, rvt, training=True),
                 atol=1e-5)


def test_layernorm_matches_torch(torch, rng):
    ours, theirs = nn.LayerNorm(4), torch.nn.LayerNorm(4)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    copy_torch_state(ours, theirs)
    x, xt = both(rng.standard_normal((2, 3, 4)).astype(np.float32))
    assert_close(ours(x), theirs(xt), atol=1e-5)
    ours(x).pow(2).sum().backward()
    theirs(xt).pow(2).sum().backward()
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-4)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-4)
    ln2, ln2t = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    assert_close(ln2(x), ln2t(xt), atol=1e-5)
    assert_close(F.layer_norm(x, (4,)), torch.nn.functional.layer_norm(xt, (4,)), atol=1e-5)


def test_functional_one_hot_infers_num_classes_like_torch(torch):
    t = ag.tensor([0, 2, 1])
    assert F.one_hot(t).tolist() == torch.nn.functional.one_hot(torch.tensor([0, 2, 1])).tolist()
    assert F.one_hot(t, num_classes=4).tolist() == torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), 4).tolist()
    assert F.one_hot(t).dtype == np.int64


# -- second derivatives through layers ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["linear", "conv2d", "cross_entropy", "batch_norm", "layer_norm", "softplus", "gelu",
                                  "log_softmax", "binary_cross_entropy_with_logits"])
def test_hessian_vector_products_through_nn_functional_match_torch(torch, rng, name):
    def d(*shape):
        return rng.standard_normal(shape)

    cases = {
        "linear": (lambda L, lib, x, w, b: L.linear(x, w, b), [d(3, 4), d(2, 4), d(2)]),
        "conv2d": (lambda L, lib, x, w, b: L.conv2d(x, w, b, 1, 1), [d(1, 2, 4, 4), d(3, 2, 3, 3), d(3)]),
        "cross_entropy": (lambda L, lib, x: L.cross_entropy(x, lib.tensor([0, 2, 1]), label_smoothing=0.1), [d(3, 4)]),
        "batch_norm": (lambda L, lib, x, w, b: L.batch_norm(x, None, None, w, b, True), [d(4, 3), d(3), d(3)]),
        "layer_norm": (lambda L, lib, x, w, b: L.layer_norm(x, (3,), w, b), [d(4, 3), d(3), d(3)]),
        "softplus": (lambda L, lib, x: L.softplus(x), [d(5)]),
        "gelu": (lambda L, lib, x: L.gelu(x), [d(5)]),
        "log_softmax": (lambda L, lib, x: L.log_softmax(x, 1), [d(2, 3)]),
        "binary_cross_entropy_with_logits": (
            lambda L, lib, x: L.binary_cross_entropy_with_logits(x, lib.tensor(np.array([0.0, 1.0, 1.0]))), [d(3)]),
    }
    f, arrays = cases[name]
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, out_t = f(F, ag, *xs), f(torch.nn.functional, torch, *ts)
    v = rng.standard_normal(out.shape)
    grads = ag.grad((out * ag.tensor(v)).sum(), xs, create_graph=True)
    grads_t = torch.autograd.grad((out_t * torch.tensor(v)).sum(), ts, create_graph=True)
    us = [rng.standard_normal(a.shape) for a in arrays]
    s = sum((g * ag.tensor(u)).sum() for g, u in zip(grads, us))
    s_t = sum((g * torch.tensor(u)).sum() for g, u in zip(grads_t, us))
    hvp = ag.grad(s, xs, allow_unused=True)
    hvp_t = torch.autograd.grad(s_t, ts, allow_unused=True)
    for h, h_t, a in zip(hvp, hvp_t, arrays):  # None (unused) counts as zero on either side
        ours = np.zeros_like(a) if h is None else h.numpy()
        theirs = np.zeros_like(a) if h_t is None else h_t.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def test_gradient_penalty_double_backward_through_a_cnn_matches_torch(torch, rng):
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LeakyReLU(0.2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 1))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.LeakyReLU(0.2), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(18, 1))
    copy_torch_state(ours, theirs)
    x, xt = both(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    (g,) = ag.grad(ours(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(theirs(xt).sum(), xt, create_graph=True)
    penalty = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty_t = ((gt.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    penalty_t.backward()
    assert penalty.item() == pytest.approx(penalty_t.item(), rel=1e-5)
    for (name, p), pt in zip(ours.named_parameters(), theirs.parameters()):
        # None counts as zero here: torch gives 0.bias a zero gradient where we give None (see below)
        ours_grad = np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy()
        theirs_grad = np.zeros(p.shape, np.float32) if pt.grad is None else pt.grad.numpy()
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-4, atol=1e-6, err_msg=name)


def test_group_norm_rejects_channels_that_do_not_split_into_groups():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ag.ShapeError, match=r"GroupNorm\(2, 4.*\(N, 4, \.\.\.\).*\(2, 3, 5\)"):
        nn.GroupNorm(2, 4)(ag.zeros(2, 3, 5))


def test_normalisation_of_an_empty_batch_gives_an_empty_result_as_pytorch(torch):
    import torch.nn.functional as TF
    for ours, theirs in [
        (F.batch_norm(ag.zeros(0, 3), ag.zeros(3), ag.ones(3), training=True),
         TF.batch_norm(torch.zeros(0, 3), torch.zeros(3), torch.ones(3), training=True)),
        (F.group_norm(ag.zeros(0, 4, 2), 2), TF.group_norm(torch.zeros(0, 4, 2), 2)),
        (F.layer_norm(ag.zeros(0, 5), (5,)), TF.layer_norm(torch.zeros(0, 5), (5,))),
        (F.batch_norm(ag.zeros(0, 3, 4), None, None, training=True),
         TF.batch_norm(torch.zeros(0, 3, 4), None, None, training=True)),
    ]:
        assert ours.shape == tuple(theirs.shape)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel"):   # as torch: one value
        F.batch_norm(ag.zeros(1, 3), None, None, training=True)


@pytest.mark.parametrize("layer, shape", [("group_norm", (300, 12, 9, 9)), ("layer_norm", (300, 7, 100)),
                                          ("group_norm", (2, 6, 5)), ("batch_norm", (64, 3, 40, 40))])
def test_normalisation_over_many_row_blocks_matches_torch_to_the_second_derivative(torch, rng, layer, shape):
    # Inputs of several MiB are normalised block by block, and group norm's per-channel scale and
    # shift are applied inside the fused op: values, gradients and double backward against torch.
    import torch.nn.functional as TF
    x, w, b = rng.standard_normal(shape), rng.standard_normal(shape[-1] if layer == "layer_norm" else shape[1]), \
        rng.standard_normal(shape[-1] if layer == "layer_norm" else shape[1])
    mx, mw, mb = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    if layer == "group_norm":
        out, t_out = F.group_norm(mx, 3, mw, mb), TF.group_norm(tx, 3, tw, tb)
    elif layer == "layer_norm":
        out, t_out = F.layer_norm(mx, shape[-1:], mw, mb), TF.layer_norm(tx, shape[-1:], tw, tb)
    else:
        out = F.batch_norm(mx, None, None, mw, mb, training=True)
        t_out = TF.batch_norm(tx, None, None, tw, tb, training=True)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-9)
    upstream = rng.standard_normal(shape)
    grads = ag.grad(out, [mx, mw, mb], ag.tensor(upstream), create_graph=True)
    t_grads = torch.autograd.grad(t_out, [tx, tw, tb], torch.tensor(upstream), create_graph=True)
    for mine, theirs in zip(grads, t_grads):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-8, atol=1e-8)
    probes = [rng.standard_normal(g.shape) for g in grads]
    second = ag.grad(sum((g * ag.tensor(p)).sum() for g, p in zip(grads, probes)), [mx, mw])
    t_second = torch.autograd.grad(sum((g * torch.tensor(p)).sum() for g, p in zip(t_grads, probes)), [tx, tw])
    for mine, theirs in zip(second, t_second):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-7)


def test_half_precision_normalisation_takes_its_statistics_in_single_precision_as_torch(torch, rng):
    import torch.nn.functional as TF
    x = (rng.standard_normal((64, 16, 32, 32)) + 2).astype(np.float16)   # channel sums far beyond 65504
    exact = TF.batch_norm(torch.tensor(x.astype(np.float64)), None, None, training=True).numpy()
    ours = F.batch_norm(ag.tensor(x), None, None, training=True)
    assert ours.dtype == ag.float16
    assert np.abs(ours.numpy() - exact).max() <= 4e-3   # torch's own error here: 3.5e-3
    x = (rng.standard_normal((64, 128, 512)) * 3 + 1).astype(np.float16)
    w, b = rng.standard_normal(512).astype(np.float16), rng.standard_normal(512).astype(np.float16)
    exact = TF.layer_norm(*(torch.tensor(a.astype(np.float64)) for a in (x,)), (512,),
                          torch.tensor(w.astype(np.float64)), torch.tensor(b.astype(np.float64))).numpy()
    theirs = TF.layer_norm(torch.tensor(x), (512,), torch.tensor(w), torch.tensor(b)).numpy().astype(np.float64)
    ours = F.layer_norm(ag.tensor(x), (512,), ag.tensor(w), ag.tensor(b)).numpy().astype(np.float64)
    assert np.abs(ours - exact).max() <= 1.1 * np.abs(theirs - exact).max()


def test_convert_sync_batchnorm_keeps_the_statistics_and_normalises_as_batchnorm_in_one_process():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.InstanceNorm2d(4),
                                 lib.nn.Sequential(lib.nn.BatchNorm2d(4)))
    ours, theirs = build(ag), build(torch)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours, theirs = nn.SyncBatchNorm.convert_sync_batchnorm(ours), torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[1].running_mean.numpy(), theirs[1].running_mean.numpy(), rtol=1e-5, atol=1e-6)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
