"""Random sampling as PyTorch's (autograd/creation.py): Generator, the global seed functions, randint,
randint_like and multinomial: shapes, dtypes, reproducibility, the distributions drawn, and errors."""
import re

import numpy as np
import pytest

import autograd as ag


def test_a_new_generator_starts_from_pytorchs_default_seed(torch):
    assert ag.Generator().initial_seed() == torch.Generator().initial_seed()
    first, second = ag.Generator(), ag.Generator("cpu")
    np.testing.assert_array_equal(ag.randn(5, generator=first).numpy(), ag.randn(5, generator=second).numpy())


def test_generator_manual_seed_returns_it_and_makes_draws_reproducible():
    g = ag.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    a = ag.rand(4, generator=g)
    b = ag.rand(4, generator=ag.Generator().manual_seed(42))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ag.Generator(42).initial_seed() == 42   # ndgrad's shorthand


def test_generator_takes_a_negative_seed_modulo_2_to_the_64_as_torch(torch):
    assert ag.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()


@pytest.mark.parametrize("seed", [2.5, "7", None])
def test_generator_refuses_a_seed_that_is_not_an_integer(seed):
    with pytest.raises(TypeError, match="manual_seed expected an integer seed"):
        ag.Generator().manual_seed(seed)


def test_generator_on_another_device_raises():
    with pytest.raises(RuntimeError, match="'cuda' is not available"):
        ag.Generator("cuda")
    assert ag.Generator().device == ag.device("cpu")


def test_get_state_and_set_state_replay_the_same_numbers():
    g = ag.Generator().manual_seed(3)
    state = g.get_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = ag.randn(6, generator=g).numpy()
    assert g.set_state(state) is g
    np.testing.assert_array_equal(ag.randn(6, generator=g).numpy(), first)


def test_set_state_refuses_something_get_state_did_not_return():
    with pytest.raises(TypeError, match="uint8 tensor"):
        ag.Generator().set_state(ag.ones(3))
    with pytest.raises(ValueError, match="not a state that get_state returned"):
        ag.Generator().set_state(ag.tensor([1, 2, 3], dtype=ag.uint8))


def test_global_rng_state_functions_replay_the_global_generator():
    ag.manual_seed(11)
    assert ag.initial_seed() == 11
    state = ag.get_rng_state()
    first = ag.rand(3).numpy()
    ag.set_rng_state(state)
    np.testing.assert_array_equal(ag.rand(3).numpy(), first)
    new_seed = ag.seed()
    assert ag.initial_seed() == new_seed and 0 <= new_seed < 2 ** 64


# -- randint --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda lib: lib.randint(10, (2, 3)),
    lambda lib: lib.randint(3, 10, (2, 3)),
    lambda lib: lib.randint(high=10, size=(2, 3)),
    lambda lib: lib.randint(low=3, high=10, size=(2, 3)),
], ids=["high-size", "low-high-size", "keywords", "all-keywords"])
def test_randint_takes_torchs_call_forms(call, torch):
    out, expected = call(ag), call(torch)
    assert out.shape == tuple(expected.shape) and out.dtype == np.int64
    values = out.numpy()
    assert values.min() >= 0 and values.max() < 10


def test_randint_covers_its_range_uniformly():
    values = ag.randint(-2, 3, (50_000,), generator=ag.Generator(0)).numpy()
    counts = np.bincount(values + 2, minlength=5)
    assert counts.sum() == 50_000 and np.all(np.abs(counts / 10_000 - 1) < 0.05)


def test_randint_with_a_float_dtype_can_require_grad_as_torch():
    out = ag.randint(0, 5, (3,), dtype=ag.float32, requires_grad=True)
    assert out.dtype == np.float32 and out.requires_grad and np.all(out.numpy() == np.round(out.numpy()))


@pytest.mark.parametrize("call, error, message", [
    (lambda lib: lib.randint(10), TypeError, None),
    (lambda lib: lib.randint(10, 3, (2,)), RuntimeError, "low must be less than high"),
    (lambda lib: lib.randint(3.5, 10, (2,)), TypeError, None),
    (lambda lib: lib.randint(0, 300, (2,), dtype=lib.uint8), RuntimeError, "does not fit in uint8"),
    (lambda lib: lib.randint(0, 3, (2,), requires_grad=True), RuntimeError, None),
], ids=["no-size", "empty-range", "float-bound", "overflowing-dtype", "integer-requires-grad"])
def test_randint_errors_as_torch(call, error, message, torch):
    with pytest.raises(error, match=message):
        call(ag)
    with pytest.raises(error):
        call(torch)


def test_randint_is_reproducible_with_a_generator_or_manual_seed():
    a = ag.randint(0, 100, (20,), generator=ag.Generator(5)).numpy()
    np.testing.assert_array_equal(ag.randint(0, 100, (20,), generator=ag.Generator(5)).numpy(), a)
    ag.manual_seed(5)
    b = ag.randint(0, 100, (20,)).numpy()
    ag.manual_seed(5)
    np.testing.assert_array_equal(ag.randint(0, 100, (20,)).numpy(), b)


def test_randint_like_takes_the_shape_and_dtype(torch):
    like = ag.zeros(2, 3, dtype=ag.float64)
    out = ag.randint_like(like, 4)
    assert out.shape == (2, 3) and out.dtype == np.float64 and set(out.numpy().ravel()) <= {0, 1, 2, 3}
    assert set(ag.randint_like(like, 5, 7).numpy().ravel()) <= {5, 6}
    assert torch.randint_like(torch.zeros(2, 3, dtype=torch.float64), 4).dtype == torch.float64


# -- multinomial --------------------------------------------------------------------------------------

def test_multinomial_shapes_and_dtype_as_torch(torch):
    for shape, n, replacement in [((4,), 3, False), ((2, 4), 4, False), ((4,), 9, True), ((3, 2), 5, True),
                                  ((0, 3), 2, False)]:
        weights = np.ones(shape, np.float32)
        out = ag.multinomial(ag.tensor(weights), n, replacement)
        expected = torch.multinomial(torch.tensor(weights), n, replacement)
        assert out.shape == tuple(expected.shape) and out.dtype == np.int64 and not out.requires_grad


def test_multinomial_with_replacement_draws_each_category_in_proportion_to_its_weight():
    weights = np.array([[1.0, 0.0, 5.0, 4.0], [0.0, 0.0, 2.0, 0.0]])
    out = ag.multinomial(ag.tensor(weights), 40_000, replacement=True, generator=ag.Generator(0)).numpy()
    first = np.bincount(out[0], minlength=4) / 40_000
    np.testing.assert_allclose(first, weights[0] / weights[0].sum(), atol=0.01)
    assert first[1] == 0 and np.all(out[1] == 2)


def test_multinomial_without_replacement_draws_distinct_indices_the_first_by_weight():
    weights = np.tile([0.1, 0.0, 0.5, 0.4], (20_000, 1))
    out = ag.multinomial(ag.tensor(weights), 3, generator=ag.Generator(1)).numpy()
    assert all(len(set(row)) == 3 for row in out[:500])
    np.testing.assert_allclose(np.bincount(out[:, 0], minlength=4) / 20_000, weights[0], atol=0.015)
    assert not np.isin(1, out)   # the category of weight 0 is never needed for three draws


def test_multinomial_draws_categories_of_weight_zero_last_without_replacement(torch):
    out = ag.multinomial(ag.tensor([0.0, 1.0, 0.0, 2.0]), 4, generator=ag.Generator(0)).numpy()
    assert set(out[:2]) == {1, 3} and set(out[2:]) == {0, 2}
    expected = torch.multinomial(torch.tensor([0.0, 1.0, 0.0, 2.0]), 4).numpy()
    assert set(expected[:2]) == {1, 3}


def test_multinomial_is_reproducible_with_a_generator():
    weights = ag.tensor([0.2, 0.3, 0.5])
    a = ag.multinomial(weights, 10, True, generator=ag.Generator(9)).numpy()
    np.testing.assert_array_equal(ag.multinomial(weights, 10, True, generator=ag.Generator(9)).numpy(), a)


@pytest.mark.parametrize("weights, n, replacement, error, message", [
    ([0.0, 1.0, 0.0, 2.0], 5, False, RuntimeError, "cannot sample n_sample > prob_dist.size(-1)"),
    ([0.0, 1.0], 0, True, RuntimeError, "cannot sample n_sample <= 0 samples"),
    ([0.0, -1.0, 2.0], 1, False, RuntimeError, "`inf`, `nan` or element < 0"),
    ([0.0, float("nan")], 1, False, RuntimeError, "`inf`, `nan` or element < 0"),
    ([0.0, float("inf")], 1, True, RuntimeError, "`inf`, `nan` or element < 0"),
    ([0.0, 0.0], 1, True, RuntimeError, "sum of probabilities <= 0"),
    ([1, 2], 1, False, RuntimeError, "only supports floating-point dtypes"),
    ([[[1.0]]], 1, False, RuntimeError, "prob_dist must be 1 or 2 dim"),
    (1.0, 1, False, RuntimeError, "prob_dist must be 1 or 2 dim"),
    ([1.0, 2.0], 2.0, False, TypeError, "num_samples must be an int"),
], ids=["too-many", "zero-samples", "negative", "nan", "inf", "all-zero", "integer", "3-d", "0-d", "float-count"])
def test_multinomial_errors_as_torch(weights, n, replacement, error, message, torch):
    with pytest.raises(error, match=re.escape(message)):
        ag.multinomial(ag.tensor(weights), n, replacement)
    with pytest.raises(error):
        torch.multinomial(torch.tensor(weights), n, replacement)


def test_logspace_and_triangle_indices_match_torch(torch):
    np.testing.assert_allclose(ag.logspace(-1, 2, 4).numpy(), torch.logspace(-1, 2, 4).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ag.logspace(0, 3, 4, base=2).numpy(), torch.logspace(0, 3, 4, base=2).numpy())
    assert ag.logspace(0, 1, 3).dtype == np.float32
    for row, col, offset in [(3, 3, 0), (4, 2, -1), (2, 5, 1), (0, 3, 0)]:
        np.testing.assert_array_equal(ag.tril_indices(row, col, offset).numpy(),
                                      torch.tril_indices(row, col, offset).numpy())
        np.testing.assert_array_equal(ag.triu_indices(row, col, offset).numpy(),
                                      torch.triu_indices(row, col, offset).numpy())
    assert ag.tril_indices(3, 3).dtype == np.int64


# -- normal, bernoulli, poisson ---------------------------------------------------------------------

def test_normal_takes_torchs_forms_and_broadcasts(torch):
    for call in [lambda lib: lib.normal(lib.zeros(2, 1), 1.0), lambda lib: lib.normal(0.0, lib.ones(3)),
                 lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)), lambda lib: lib.normal(2.0, 3.0, (4, 2))]:
        out, expected = call(ag), call(torch)
        assert out.shape == tuple(expected.shape) and out.dtype == np.float32
    assert ag.normal(ag.zeros(2, dtype=ag.float64), 1.0).dtype == np.float64


def test_normal_draws_with_the_mean_and_std_given():
    out = ag.normal(ag.tensor([-3.0, 5.0]).reshape(2, 1).expand(2, 20_000), ag.tensor([0.5, 2.0]).reshape(2, 1),
                    generator=ag.Generator(0)).numpy()
    np.testing.assert_allclose(out.mean(1), [-3.0, 5.0], atol=0.05)
    np.testing.assert_allclose(out.std(1), [0.5, 2.0], rtol=0.03)


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.normal(0.0, 1.0), TypeError),
    (lambda lib: lib.normal(lib.zeros(2), lib.ones(3)), RuntimeError),
    (lambda lib: lib.normal(lib.zeros(2), -1.0), RuntimeError),
], ids=["no-size", "shapes", "negative-std"])
def test_normal_errors_as_torch(call, error, torch):
    with pytest.raises(error):
        call(ag)
    with pytest.raises(error):
        call(torch)


def test_bernoulli_draws_ones_with_the_probability_given(torch):
    probabilities = ag.tensor([0.0, 0.25, 1.0]).reshape(3, 1).expand(3, 40_000)
    out = ag.bernoulli(probabilities, generator=ag.Generator(0))
    assert out.dtype == np.float32 and set(np.unique(out.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(out.numpy().mean(1), [0.0, 0.25, 1.0], atol=0.01)
    assert ag.zeros(1000).bernoulli(0.5, generator=ag.Generator(1)).numpy().mean() == pytest.approx(0.5, abs=0.05)
    with pytest.raises(RuntimeError, match="bernoulli: probabilities must be in"):
        ag.bernoulli(ag.tensor([1.5]))
    with pytest.raises(RuntimeError):
        torch.bernoulli(torch.tensor([1.5]))


def test_poisson_draws_with_the_rates_given():
    rates = ag.tensor([0.5, 4.0], dtype=ag.float64).reshape(2, 1).expand(2, 40_000)
    out = ag.poisson(rates, generator=ag.Generator(0))
    assert out.dtype == np.float64 and np.all(out.numpy() == np.round(out.numpy()))
    np.testing.assert_allclose(out.numpy().mean(1), [0.5, 4.0], rtol=0.03)
    with pytest.raises(RuntimeError, match="rates must be non-negative"):
        ag.poisson(ag.tensor([-1.0]))

