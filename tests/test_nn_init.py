"""nn.init: gains, fans, the distributions' bounds and spreads, in-place use and reproducibility."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init

GAINS = [("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
         ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
         ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(2 / 6)), ("selu", None, 0.75)]


@pytest.mark.parametrize("nonlinearity, param, gain", GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain)
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape, fans", [((3, 5), (5, 3)), ((8, 4, 3, 3), (36, 72)), ((2, 3, 4), (12, 8))])
def test_fans_follow_pytorch(shape, fans):
    assert init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(ag.empty(5))


SHAPE = (300, 200)
FAN_IN, FAN_OUT = 200, 300

# (initialiser, kwargs, expected bound of a uniform or None, expected std, expected mean)
INITIALISERS = [
    (init.uniform_, {"a": -2.0, "b": 3.0}, (-2.0, 3.0), 5 / math.sqrt(12), 0.5),
    (init.normal_, {"mean": 1.0, "std": 0.5}, None, 0.5, 1.0),
    (init.xavier_uniform_, {}, math.sqrt(6 / (FAN_IN + FAN_OUT)), math.sqrt(2 / (FAN_IN + FAN_OUT)), 0.0),
    (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), 0.0),
    (init.xavier_normal_, {}, None, math.sqrt(2 / (FAN_IN + FAN_OUT)), 0.0),
    (init.kaiming_uniform_, {}, math.sqrt(6 / FAN_IN), math.sqrt(2 / FAN_IN), 0.0),   # a=0: leaky_relu gain sqrt(2)
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(FAN_IN), 1 / math.sqrt(3 * FAN_IN), 0.0),
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(6 / FAN_OUT), math.sqrt(2 / FAN_OUT), 0.0),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, None, math.sqrt(2 / FAN_IN), 0.0),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}, None, 5 / 3 / math.sqrt(FAN_OUT), 0.0),
    (init.trunc_normal_, {"std": 0.5, "a": -1.0, "b": 1.0}, (-1.0, 1.0), 0.5 * 0.8796, 0.0),
]


@pytest.mark.parametrize("fn, kwargs, bound, std, mean", INITIALISERS,
                         ids=[f"{fn.__name__}{kwargs}" for fn, kwargs, *_ in INITIALISERS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_initialisers_have_the_right_distribution(fn, kwargs, bound, std, mean, dtype):
    ag.manual_seed(0)
    t = nn.Parameter(ag.zeros(SHAPE, dtype=dtype))
    array_before = t.numpy()
    assert fn(t, **kwargs) is t
    assert t.numpy() is array_before and t.dtype == dtype        # filled in place, dtype kept
    values = t.numpy()
    if bound is not None:
        low, high = bound if isinstance(bound, tuple) else (-bound, bound)
        slack = 1e-6 * max(abs(low), abs(high))      # the bound itself rounded to float32
        assert values.min() >= low - slack and values.max() <= high + slack
        assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low)
    assert values.std() == pytest.approx(std, rel=0.02)
    assert values.mean() == pytest.approx(mean, abs=0.02 * std + 1e-12)
    assert t.requires_grad and t.grad is None and t.grad_fn is None


@pytest.mark.parametrize("fn, kwargs", [(init.kaiming_uniform_, {}), (init.xavier_normal_, {}), (init.normal_, {}),
                                        (init.uniform_, {}), (init.orthogonal_, {}), (init.sparse_, {"sparsity": 0.5})])
def test_initialisers_are_reproducible_with_manual_seed_or_a_generator(fn, kwargs):
    first, second = ag.empty(4, 5), ag.empty(4, 5)
    ag.manual_seed(7)
    fn(first, **kwargs)
    ag.manual_seed(7)
    fn(second, **kwargs)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    fn(second, **kwargs)
    assert not np.array_equal(first.numpy(), second.numpy())
    third = ag.empty(4, 5)
    fn(third, generator=ag.Generator(7), **kwargs)
    np.testing.assert_array_equal(first.numpy(), third.numpy())


@pytest.mark.parametrize("fn, args, value", [(init.zeros_, (), 0.0), (init.ones_, (), 1.0), (init.constant_, (0.3,), 0.3)])
def test_constant_initialisers(fn, args, value):
    p = nn.Parameter(ag.empty(3, 4))
    fn(p, *args)
    np.testing.assert_array_equal(p.numpy(), np.float32(value))


def test_eye_():
    t = init.eye_(ag.empty(2, 3))
    np.testing.assert_array_equal(t.numpy(), np.eye(2, 3))


def test_initialising_a_parameter_records_no_graph_and_works_under_grad_mode():
    layer = nn.Linear(3, 2)
    with ag.enable_grad():
        init.xavier_uniform_(layer.weight)
    assert layer.weight.is_leaf and layer.weight.requires_grad
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_normal_(layer.weight, mode="fan_avg")


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3, 3), (2, 3, 4)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain_as_torch(torch, shape):
    """The flattened (out, rest) matrix has orthonormal rows (or columns, if there are fewer), times
    the gain; the same holds for PyTorch's on the same shape."""
    mine, theirs = init.orthogonal_(ag.empty(*shape), gain=2.0), torch.nn.init.orthogonal_(torch.empty(shape), gain=2.0)
    for weight in (mine.numpy(), theirs.numpy()):
        flat = weight.reshape(shape[0], -1).astype(np.float64)
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-5)
    assert mine.dtype == np.float32


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((2, 4, 3, 3), 1), ((4, 2, 1, 3, 2), 2),
                                           ((3, 3, 3, 3), 1)])
def test_dirac_matches_torch_and_passes_the_input_through_a_convolution(torch, shape, groups):
    mine, theirs = init.dirac_(ag.empty(*shape), groups), torch.nn.init.dirac_(torch.empty(shape), groups)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    if shape == (3, 3, 3, 3):
        x = ag.randn(1, 3, 5, 5)
        np.testing.assert_allclose(nn.functional.conv2d(x, mine, padding=1).numpy(), x.numpy(), atol=1e-6)


def test_sparse_zeros_the_same_number_of_rows_in_every_column_as_torch(torch):
    mine, theirs = init.sparse_(ag.empty(10, 6), 0.25, std=0.5), torch.nn.init.sparse_(torch.empty(10, 6), 0.25, std=0.5)
    for weight in (mine.numpy(), theirs.numpy()):
        assert ((weight == 0).sum(0) == 3).all()        # ceil(0.25 * 10) per column
    assert 0.2 < mine.numpy()[mine.numpy() != 0].std() < 1.0


@pytest.mark.parametrize("call, message", [(lambda: init.orthogonal_(ag.empty(3)), "2 or more dimensions"),
                                           (lambda: init.dirac_(ag.empty(3, 3)), "3, 4, or 5 dimensions"),
                                           (lambda: init.dirac_(ag.empty(3, 3, 3), groups=2), "divisible by groups"),
                                           (lambda: init.sparse_(ag.empty(3, 3, 3), 0.1), "2 dimensions")])
def test_orthogonal_dirac_and_sparse_refuse_shapes_as_torch(call, message):
    with pytest.raises(ValueError, match=message):
        call()
