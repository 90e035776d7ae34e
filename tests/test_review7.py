"""Second review of the activation, indexing, cumsum, complex and gradient-accumulation changes,
against PyTorch."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def _both(build):
    """build(lib) for ndgrad and torch, each result as NumPy arrays."""
    ours = [t.numpy() for t in build(ag)]
    theirs = [t.detach().numpy() for t in build(torch)]
    return ours, theirs


def _assert_same_as_torch(build):
    ours, theirs = _both(build)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_a_tensor_a_leaf_hook_returns_is_not_written_into_by_a_later_backward():
    def build(lib):
        x = lib.tensor([1., 2, 3], requires_grad=True)
        replacement = lib.tensor([5., 5, 5])
        x.register_hook(lambda g: replacement)
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        return x.grad, replacement
    _assert_same_as_torch(build)


def test_a_gradient_a_leaf_hook_kept_is_not_written_into_by_a_later_backward():
    def build(lib):
        x = lib.tensor([1., 2, 3], requires_grad=True)
        seen = []
        x.register_hook(seen.append)
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        return x.grad, seen[0], seen[1]
    _assert_same_as_torch(build)


def test_a_gradient_a_node_hook_kept_is_not_written_into_by_a_later_backward():
    def build(lib):
        x = lib.tensor([1., 2, 3], requires_grad=True)
        seen = []
        y = x + 0
        y.register_hook(seen.append)
        (y * 2).sum().backward(retain_graph=True)
        (y * 2).sum().backward()
        return x.grad, seen[0]
    _assert_same_as_torch(build)


def test_a_tensor_a_custom_backward_returns_is_not_written_into_by_a_later_backward():
    def build(lib):
        class PassesWeight(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(w)
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                (w,) = ctx.saved_tensors
                return w, None

        x, w = lib.tensor([1., 2, 3], requires_grad=True), lib.tensor([7., 7, 7])
        y = PassesWeight.apply(x, w).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad, w
    _assert_same_as_torch(build)


def test_a_root_gradient_viewing_the_callers_array_is_accumulated_into_through_a_view_leaf_as_torch():
    # torch's leaf keeps the view it is given (nothing else holds that view), so the caller's array sees the sum
    def build(lib):
        whole = lib.ones(2, 3)
        x = lib.tensor([1., 2, 3], requires_grad=True)
        y = x.view(3, 1).view(3)
        first_row = whole[0]
        y.backward(first_row, retain_graph=True)
        y.backward(first_row)
        return x.grad, whole
    _assert_same_as_torch(build)


def _backward_with_graph_then_without(lib, first_pass):
    x = lib.tensor([1., 2], requires_grad=True)
    held = first_pass(lib, x)
    (x * 1).sum().backward()
    return x.grad, held


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")   # torch warns of the cycle; wanted here
def test_a_root_gradient_a_create_graph_backward_stored_is_not_written_into_by_a_later_backward():
    def through_view(lib, x):
        g = lib.tensor([1., 1])
        x.view(2).backward(g, create_graph=True)
        return g
    _assert_same_as_torch(lambda lib: _backward_with_graph_then_without(lib, through_view))


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")   # torch warns of the cycle; wanted here
def test_a_gradient_a_hook_kept_in_a_create_graph_backward_is_not_written_into_by_a_later_backward():
    def kept_by_hook(lib, x):
        seen = []
        x.register_hook(seen.append)
        (x * 2).sum().backward(create_graph=True)
        return seen[0]
    _assert_same_as_torch(lambda lib: _backward_with_graph_then_without(lib, kept_by_hook))


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")   # torch warns of the cycle; wanted here
def test_a_shared_gradient_cloned_under_create_graph_stays_differentiable():
    x = ag.tensor([1., 2], requires_grad=True, dtype=ag.float64)
    g = ag.tensor([3., 4], requires_grad=True, dtype=ag.float64)
    x.view(2).backward(g, create_graph=True)
    x.grad.pow(2).sum().backward(inputs=[g])
    tx = torch.tensor([1., 2], requires_grad=True, dtype=torch.float64)
    tg = torch.tensor([3., 4], requires_grad=True, dtype=torch.float64)
    tx.view(2).backward(tg, create_graph=True)
    tx.grad.pow(2).sum().backward(inputs=[tg])
    np.testing.assert_array_equal(g.grad.numpy(), tg.grad.numpy())


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_optimizer_zero_grad_without_none_zeros_the_gradient_a_caller_holds_as_torch(optimizer):
    def build(lib):
        p = lib.nn.Parameter(lib.tensor([1., 2, 3]))
        opt = getattr(lib.optim, optimizer)([p], lr=0.1)
        (p * p).sum().backward()
        held = p.grad
        opt.zero_grad(set_to_none=False)
        after_zeroing = held.clone()
        (p * 3).sum().backward()
        return after_zeroing, held, p.grad
    _assert_same_as_torch(build)


def _held_gradient_after(lib, rescale):
    """A gradient a caller took as g = p.grad, after `rescale` (which works on p.grad), with p.grad."""
    p = lib.nn.Parameter(lib.tensor([3., -4., 12.]))
    (p * p).sum().backward()
    held = p.grad
    rescale(lib, p)
    return held, p.grad


@pytest.mark.parametrize("rescale", [
    lambda lib, p: lib.nn.utils.clip_grad_norm_([p], 1.0),
    lambda lib, p: lib.nn.utils.clip_grad_value_([p], 5.0),
], ids=["clip_grad_norm_", "clip_grad_value_"])
def test_gradient_clipping_rescales_the_gradient_a_caller_holds_in_place_as_torch(rescale):
    _assert_same_as_torch(lambda lib: _held_gradient_after(lib, rescale))


def test_grad_scaler_unscale_divides_the_gradient_a_caller_holds_in_place_as_torch():
    def build(lib):
        p = lib.nn.Parameter(lib.tensor([3., -4., 12.]))
        opt = lib.optim.SGD([p], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale((p * p).sum()).backward()
        held = p.grad
        scaler.unscale_(opt)
        return held, p.grad
    _assert_same_as_torch(build)


@pytest.mark.parametrize("size", [4, 5000])   # below and above the block-of-zeros path
def test_relu_keeps_negative_zero_in_half_precision_as_torch(size):
    x = np.resize(np.array([-0.0, 0.0, -1.0, 2.0], np.float16), size)
    ours = ag.relu(ag.tensor(x)).numpy()
    theirs = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-1.5, 2.5), (0.0, 6.0), (-1.7, 2.7)])
def test_hardtanh_of_an_integer_tensor_stays_integer_as_torch(dtype, bounds):
    x = np.array([0, 1, 2, 3, 5, 7, 100], dtype) if dtype == np.uint8 else np.array([-5, -2, -1, 0, 1, 2, 3, 5, 7], dtype)
    if dtype == np.uint8 and bounds[0] < 0:
        with pytest.raises(ValueError, match="hardtanh.*unsigned.*negative"):
            nn.functional.hardtanh(ag.tensor(x), *bounds)
        return
    ours = nn.functional.hardtanh(ag.tensor(x), *bounds).numpy()
    theirs = torch.nn.functional.hardtanh(torch.from_numpy(x), *bounds).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_relu6_in_place_on_an_integer_tensor_as_torch():
    x, tx = ag.tensor([-5, 0, 3, 9]), torch.tensor([-5, 0, 3, 9])
    nn.functional.relu6(x, inplace=True)
    torch.nn.functional.relu6(tx, inplace=True)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


def test_hardtanh_of_a_bool_tensor_raises_naming_the_op():
    with pytest.raises(TypeError, match="hardtanh.*bool"):
        nn.functional.relu6(ag.tensor([True, False]))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_])
def test_leaky_relu_of_an_integer_or_bool_tensor_computes_in_the_default_float_as_silu(dtype):
    x = np.array([0, 1, 5], dtype)
    ours = nn.functional.leaky_relu(ag.tensor(x), 0.2)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.numpy(), nn.functional.leaky_relu(ag.tensor(x.astype(np.float32)), 0.2).numpy())


_LINEAR_ON_COMPLEX = {   # ops whose gradient needs no conjugation: it was right before complex results were refused
    "reshape": lambda L, z: z.reshape(3, 1),
    "getitem": lambda L, z: z[1:],
    "clone": lambda L, z: z.clone(),
    "add": lambda L, z: z + z,
    "sub": lambda L, z: z - z[0],
    "neg": lambda L, z: -z,
    "sum": lambda L, z: z.sum(),
    "flip": lambda L, z: z.flip(0),
    "cat": lambda L, z: L.cat([z, z]),
    "stack": lambda L, z: L.stack([z, z]),
    "permute": lambda L, z: z.reshape(1, 3).permute(1, 0),
    "expand": lambda L, z: z.reshape(1, 3).expand(2, 3),
}


@pytest.mark.parametrize("op", sorted(_LINEAR_ON_COMPLEX))
def test_a_complex_leaf_still_differentiates_through_ops_that_need_no_conjugation_as_torch(op):
    def build(lib):
        z = lib.tensor(np.array([1 + 2j, -3 + 0.5j, 0.2 - 1j]), requires_grad=True)
        _LINEAR_ON_COMPLEX[op](lib, z).abs().sum().backward()
        return (z.grad,)
    ours, theirs = _both(build)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)


def test_a_complex_product_is_still_refused_naming_the_op():
    z = ag.tensor(np.array([1 + 2j, -3 + 0.5j]), requires_grad=True)
    with pytest.raises(TypeError, match="Mul.*complex"):
        z * z


@pytest.mark.parametrize("slope", [0.1, 0.0, 3.0, -0.5])
@pytest.mark.parametrize("value", [-0.7, 0.0, 2.0])
def test_leaky_relu_of_a_0d_tensor_differentiates_twice_as_torch(slope, value):
    def build(lib):
        x = lib.tensor(value, requires_grad=True, dtype=lib.float64)
        y = lib.nn.functional.leaky_relu(x, slope)
        (g,) = lib.autograd.grad(y * y, [x], create_graph=True)
        (gg,) = lib.autograd.grad(g, [x])
        return y, g, gg
    _assert_same_as_torch(build)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_accumulating_into_a_grad_a_graph_saved_makes_that_graph_refuse_a_second_backward_as_torch():
    # x.grad from create_graph is saved by x.grad ** 2; the next backward adds into it in place, so
    # backward through the power again would use the sum: torch raises, ndgrad must not be silently wrong
    for lib in (ag, torch):
        x = lib.tensor([1., 2.], requires_grad=True, dtype=lib.float64)
        (x ** 3).sum().backward(create_graph=True)
        penalty = (x.grad ** 2).sum()
        penalty.backward(retain_graph=True)
        np.testing.assert_array_equal(x.grad.detach().numpy(), [39., 300.])
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            penalty.backward()


def test_accumulating_into_a_plain_grad_a_graph_saved_makes_that_graph_refuse_a_second_backward_as_torch():
    for lib in (ag, torch):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        (x * x).sum().backward()
        weighted = (x.grad * w).sum()   # saves x.grad for w's gradient
        (x * 1).sum().backward()        # adds into x.grad in place
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            weighted.backward()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("zeroing", ["module", "optimizer"])
def test_zero_grad_without_none_detaches_and_zeros_a_graph_grad_so_its_graph_refuses_as_torch(zeroing):
    for lib in (ag, torch):
        layer = lib.nn.Linear(2, 1)
        (layer(lib.ones(1, 2)) ** 2).sum().backward(create_graph=True)
        held = layer.weight.grad
        penalty = (held ** 2).sum()   # saves the .grad
        zero = layer.zero_grad if zeroing == "module" else lib.optim.SGD(layer.parameters(), lr=0.1).zero_grad
        zero(set_to_none=False)
        assert layer.weight.grad is held and held.grad_fn is None and not held.requires_grad, lib
        np.testing.assert_array_equal(held.detach().numpy(), np.zeros((1, 2)))
        with pytest.raises(RuntimeError, match="modified by an inplace operation|detached in-place"):
            penalty.backward()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("clip", ["clip_grad_norm_", "clip_grad_value_"])   # (torch's unscale_ counts no version)
def test_clipping_a_grad_a_graph_saved_makes_that_graph_refuse_as_torch(clip):
    for lib in (ag, torch):
        w = lib.nn.Parameter(lib.tensor([3., -4.]))
        (w ** 3).sum().backward(create_graph=True)
        penalty = (w.grad ** 2).sum()
        getattr(lib.nn.utils, clip)([w], 1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            penalty.backward()
