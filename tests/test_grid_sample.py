"""grid_sample's bicubic mode, the zero grid gradient of its nearest mode, and 3-D (5-D input)
grid_sample and affine_grid, against PyTorch: values, input, grid and theta gradients, and float64
gradcheck and gradgradcheck."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from nn_helpers import assert_matches_torch, both, to_torch

torch = pytest.importorskip("torch")
tf = torch.nn.functional

PADDING_MODES = ["zeros", "border", "reflection"]


def _sample_and_compare(name, rng, input_shape, grid_shape, mode, padding_mode, align_corners, dtype=np.float64):
    """grid_sample of the same random input and grid (reaching past the edges, so every padding
    rule is used) in both libraries: the output and the input's and grid's gradients."""
    (x, xt) = both(rng.standard_normal(input_shape).astype(dtype))
    (grid, grid_t) = both(rng.uniform(-1.6, 1.6, grid_shape).astype(dtype))
    out = F.grid_sample(x, grid, mode, padding_mode, align_corners)
    out_t = tf.grid_sample(xt, grid_t, mode, padding_mode, align_corners)
    assert_matches_torch(name, out, out_t)
    upstream = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    out.backward(ag.tensor(upstream))
    out_t.backward(to_torch(upstream))
    assert_matches_torch(f"{name} input grad", x.grad, xt.grad)
    assert_matches_torch(f"{name} grid grad", grid.grad, grid_t.grad)
    return grid


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_bicubic_grid_sample_matches_torch(rng, padding_mode, align_corners):
    _sample_and_compare("bicubic grid_sample", rng, (2, 3, 5, 6), (2, 4, 7, 2), "bicubic", padding_mode,
                        align_corners)


def test_bicubic_grid_sample_in_float32_matches_torch(rng):
    _sample_and_compare("bicubic grid_sample float32", rng, (2, 3, 8, 7), (2, 5, 6, 2), "bicubic", "border", False,
                        np.float32)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_bicubic_grid_sample_passes_gradcheck_and_gradgradcheck(rng, padding_mode):
    x = ag.tensor(rng.standard_normal((1, 2, 4, 3)), requires_grad=True)
    grid = ag.tensor(rng.uniform(-1.3, 1.3, (1, 2, 3, 2)), requires_grad=True)

    def sample(x, grid):
        return F.grid_sample(x, grid, "bicubic", padding_mode, align_corners=False)
    assert ag.gradcheck(sample, [x, grid])
    assert ag.gradgradcheck(sample, [x, grid])


def test_bicubic_grid_sample_of_an_identity_grid_is_the_input(rng):
    image = rng.standard_normal((2, 3, 6, 5))
    grid = F.affine_grid(ag.tensor(np.tile([[1.0, 0, 0], [0, 1.0, 0]], (2, 1, 1))), image.shape, align_corners=False)
    np.testing.assert_allclose(F.grid_sample(ag.tensor(image), grid, "bicubic", align_corners=False).numpy(), image,
                               atol=1e-12)


@pytest.mark.parametrize("input_shape, grid_shape", [((2, 3, 4, 5), (2, 3, 6, 2)), ((2, 3, 4, 5, 3), (2, 2, 3, 4, 3))])
def test_nearest_grid_sample_gives_the_grid_a_zero_gradient_as_torch(rng, input_shape, grid_shape):
    grid = _sample_and_compare("nearest grid_sample", rng, input_shape, grid_shape, "nearest", "zeros", False)
    assert grid.grad is not None and not grid.grad.numpy().any()


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_3d_grid_sample_matches_torch(rng, mode, padding_mode, align_corners):
    _sample_and_compare(f"3-D {mode} grid_sample", rng, (2, 3, 4, 5, 3), (2, 3, 2, 4, 3), mode, padding_mode,
                        align_corners)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_3d_grid_sample_passes_gradcheck_and_gradgradcheck(rng, padding_mode):
    x = ag.tensor(rng.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    grid = ag.tensor(rng.uniform(-1.3, 1.3, (1, 2, 1, 2, 3)), requires_grad=True)

    def sample(x, grid):
        return F.grid_sample(x, grid, "bilinear", padding_mode, align_corners=True)
    assert ag.gradcheck(sample, [x, grid])
    assert ag.gradgradcheck(sample, [x, grid])


@pytest.mark.parametrize("align_corners", [False, True])
def test_3d_affine_grid_matches_torch_and_its_identity_samples_the_input_back(rng, align_corners):
    theta, theta_t = both(rng.standard_normal((2, 3, 4)))
    grid = F.affine_grid(theta, (2, 3, 4, 5, 6), align_corners)
    grid_t = tf.affine_grid(theta_t, (2, 3, 4, 5, 6), align_corners=align_corners)
    assert_matches_torch("3-D affine_grid", grid, grid_t)
    (grid * grid).sum().backward()
    (grid_t * grid_t).sum().backward()
    assert_matches_torch("3-D affine_grid theta grad", theta.grad, theta_t.grad)
    identity = np.tile(np.eye(3, 4), (2, 1, 1))
    volume = rng.standard_normal((2, 2, 3, 4, 5))
    identity_grid = F.affine_grid(ag.tensor(identity), volume.shape, align_corners)
    np.testing.assert_array_equal(identity_grid.numpy(), tf.affine_grid(
        torch.tensor(identity), volume.shape, align_corners=align_corners).numpy())
    np.testing.assert_allclose(F.grid_sample(ag.tensor(volume), identity_grid, align_corners=align_corners).numpy(),
                               volume, atol=1e-12)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.grid_sample(ag.zeros(1, 1, 2, 3, 3), ag.zeros(1, 2, 2, 2, 3), "bicubic", align_corners=False),
     ValueError, r"grid_sample: bicubic interpolation only supports 4-D input, got input \(1, 1, 2, 3, 3\)"),
    (lambda: F.grid_sample(ag.zeros(1, 1, 2, 3, 3), ag.zeros(1, 2, 2, 2, 2), align_corners=False), ValueError,
     r"grid_sample: expects .* a 5-D input \(N, C, D, H, W\) with a grid \(N, D_out, H_out, W_out, 3\); got input "
     r"\(1, 1, 2, 3, 3\) and grid \(1, 2, 2, 2, 2\)"),
    (lambda: F.grid_sample(ag.zeros(1, 1, 3, 3), ag.zeros(1, 2, 2, 2), "bicubical", align_corners=False), ValueError,
     r"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got 'bicubical'"),
    (lambda: F.affine_grid(ag.zeros(1, 2, 3), (1, 1, 2, 3, 3), align_corners=False), ValueError,
     r"affine_grid: expects theta of shape \(N, 2, 3\) .* or theta of shape \(N, 3, 4\) .* got theta \(1, 2, 3\)"),
])
def test_bad_grid_sample_and_affine_grid_arguments_raise_naming_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
