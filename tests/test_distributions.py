"""autograd.distributions against torch.distributions: log_prob, entropy, cdf, moments and KL
divergences with their gradients (each case built in both libraries from the same arrays); draws by
their statistics and shapes (the generators differ); a REINFORCE update fed the same actions; and
the argument checks."""
import numpy as np
import pytest

import autograd as ag
import autograd.distributions as AD

torch = pytest.importorskip("torch")
TD = torch.distributions

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


LOC, LOG_SCALE, VALUE = normal(3, 4), normal(3, 4), normal(3, 4)
LOGITS, ACTIONS = normal(5, 6), rng.integers(0, 6, 5)
BINARY = (rng.random((4, 3)) > 0.5).astype(float)
LOW = normal(3)
HIGH = LOW + np.abs(normal(3)) + 0.1

# name -> (function of (library, distributions module, *tensors), arrays, indices of the differentiable ones)
CASES = {
    "normal_log_prob": (lambda lib, D, m, s, v: D.Normal(m, s.exp()).log_prob(v), [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "normal_entropy": (lambda lib, D, m, s: D.Normal(m, s.exp()).entropy(), [LOC, LOG_SCALE], (1,)),
    "normal_cdf": (lambda lib, D, m, s, v: D.Normal(m, s.exp()).cdf(v), [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "normal_icdf": (lambda lib, D, m, s: D.Normal(m, s.exp()).icdf(lib.full_like(m, 0.3)), [LOC, LOG_SCALE], (0, 1)),
    "normal_moments": (lambda lib, D, m, s: lib.stack([D.Normal(m, s.exp()).mean, D.Normal(m, s.exp()).variance,
                                                       D.Normal(m, s.exp()).stddev]), [LOC, LOG_SCALE], (0, 1)),
    "normal_number_parameters_broadcast": (lambda lib, D, m, v: D.Normal(m, 2.0).log_prob(v[:, None]),
                                           [normal(4), normal(3)], (0, 1)),
    "normal_kl": (lambda lib, D, m, s, m2, s2: D.kl_divergence(D.Normal(m, s.exp()), D.Normal(m2, s2.exp())),
                  [LOC, LOG_SCALE, VALUE, normal(3, 4)], (0, 1, 2, 3)),
    "categorical_logits_log_prob": (lambda lib, D, l, a: D.Categorical(logits=l).log_prob(a), [LOGITS, ACTIONS], (0,)),
    "categorical_unnormalised_probs_log_prob": (lambda lib, D, l, a: D.Categorical(probs=l.exp()).log_prob(a),
                                                [LOGITS, ACTIONS], (0,)),
    "categorical_log_prob_broadcast": (lambda lib, D, l: D.Categorical(logits=l).log_prob(lib.arange(6)[:, None]),
                                       [LOGITS], (0,)),
    "categorical_entropy": (lambda lib, D, l: D.Categorical(logits=l).entropy(), [LOGITS], (0,)),
    "categorical_normalised_parameters": (lambda lib, D, l: lib.stack([D.Categorical(logits=l).probs,
                                                                       D.Categorical(logits=l).logits]), [LOGITS], (0,)),
    "categorical_kl": (lambda lib, D, l, l2: D.kl_divergence(D.Categorical(logits=l), D.Categorical(logits=l2)),
                       [LOGITS, normal(5, 6)], (0, 1)),
    "categorical_kl_with_zero_probabilities": (
        lambda lib, D, p: D.kl_divergence(D.Categorical(probs=p * lib.tensor([1.0, 1.0, 0.0])),
                                          D.Categorical(probs=p)), [np.abs(normal(2, 3)) + 0.1], (0,)),
    "bernoulli_logits_log_prob": (lambda lib, D, l, v: D.Bernoulli(logits=l).log_prob(v), [normal(4, 3), BINARY], (0,)),
    "bernoulli_probs_log_prob": (lambda lib, D, l, v: D.Bernoulli(probs=l.sigmoid()).log_prob(v),
                                 [normal(4, 3), BINARY], (0,)),
    "bernoulli_entropy": (lambda lib, D, l: D.Bernoulli(logits=l).entropy(), [normal(4, 3)], (0,)),
    "bernoulli_moments": (lambda lib, D, l: lib.stack([D.Bernoulli(logits=l).mean, D.Bernoulli(logits=l).variance]),
                          [normal(4, 3)], (0,)),
    "bernoulli_kl": (lambda lib, D, l, l2: D.kl_divergence(D.Bernoulli(logits=l), D.Bernoulli(logits=l2)),
                     [normal(4, 3), normal(4, 3)], (0, 1)),
    "uniform_log_prob_entropy_moments": (
        lambda lib, D, a, b: lib.stack([D.Uniform(a, b).log_prob((a + b) / 2), D.Uniform(a, b).entropy(),
                                        D.Uniform(a, b).mean, D.Uniform(a, b).variance, D.Uniform(a, b).cdf(a + 0.05)]),
        [LOW, HIGH], (0, 1)),
    "uniform_log_prob_outside_support": (lambda lib, D, a, b: D.Uniform(a, b, validate_args=False).log_prob(b + 1),
                                         [LOW, HIGH], (0, 1)),
    "independent_log_prob": (lambda lib, D, m, s, v: D.Independent(D.Normal(m, s.exp()), 1).log_prob(v),
                             [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "independent_entropy": (lambda lib, D, m, s: D.Independent(D.Normal(m, s.exp()), 2).entropy(),
                            [LOC, LOG_SCALE], (1,)),
    "independent_kl": (lambda lib, D, m, s, m2: D.kl_divergence(D.Independent(D.Normal(m, s.exp()), 1),
                                                                D.Independent(D.Normal(m2, s.exp()), 1)),
                       [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "multivariate_normal_scale_tril": (
        lambda lib, D, m, raw, v: D.MultivariateNormal(m, scale_tril=lower(lib, raw)).log_prob(v),
        [normal(2, 3), normal(2, 3, 3), normal(4, 1, 3)], (0, 1, 2)),
    "multivariate_normal_covariance_and_precision": (
        lambda lib, D, m, raw, v: D.MultivariateNormal(m, covariance_matrix=spd(lib, raw)).log_prob(v)
        + D.MultivariateNormal(m, precision_matrix=spd(lib, raw)).log_prob(v),
        [normal(2, 3), normal(2, 3, 3), normal(2, 3)], (0, 1, 2)),
    "multivariate_normal_entropy_moments": (
        lambda lib, D, m, raw: (lambda d: lib.cat([d.entropy().flatten(), d.variance.flatten(),
                                                   d.covariance_matrix.flatten()]))(
            D.MultivariateNormal(m, scale_tril=lower(lib, raw))), [normal(2, 3), normal(2, 3, 3)], (1,)),
    "multivariate_normal_kl": (
        lambda lib, D, m, raw, m2: D.kl_divergence(D.MultivariateNormal(m, scale_tril=lower(lib, raw)),
                                                   D.MultivariateNormal(m2, scale_tril=lower(lib, raw * 0.5))),
        [normal(2, 3), normal(2, 3, 3), normal(2, 3)], (0, 1, 2)),
    "laplace": (lambda lib, D, m, s, v: (lambda d: lib.stack([d.log_prob(v), d.entropy(), d.variance]))(
        D.Laplace(m, s.exp())), [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "exponential": (lambda lib, D, r, v: (lambda d: lib.stack([d.log_prob(v.abs()), d.entropy(), d.mean]))(
        D.Exponential(r.exp())), [LOG_SCALE, VALUE], (0, 1)),
    "gamma": (lambda lib, D, a, b, v: (lambda d: lib.stack([d.log_prob(v.abs() + 0.1), d.entropy(), d.variance]))(
        D.Gamma(a.exp(), b.exp())), [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "beta": (lambda lib, D, a, b, v: (lambda d: lib.stack([d.log_prob(v.sigmoid()), d.entropy(), d.mean,
                                                           d.variance]))(D.Beta(a.exp(), b.exp())),
             [LOC, LOG_SCALE, VALUE], (0, 1, 2)),
    "poisson": (lambda lib, D, r: D.Poisson(r.exp()).log_prob(lib.arange(12.0, dtype=r.dtype).reshape(3, 4)),
                [LOG_SCALE], (0,)),
    "tanh_affine_transformed_normal": (
        lambda lib, D, m, s: D.TransformedDistribution(D.Normal(m, s.exp()), [
            D.transforms.TanhTransform(cache_size=1), D.transforms.AffineTransform(loc=1.0, scale=2.0)]).log_prob(
                lib.tensor(np.tanh(VALUE) * 2 + 1, dtype=m.dtype)), [LOC, LOG_SCALE], (0, 1)),
    "sigmoid_and_exp_transformed_normal": (
        lambda lib, D, m, s: D.TransformedDistribution(D.Normal(m, s.exp()), [D.transforms.SigmoidTransform()]).log_prob(
            lib.full_like(m, 0.3)) + D.TransformedDistribution(D.Normal(m, s.exp()), D.transforms.ExpTransform()
                                                              ).log_prob(lib.full_like(m, 2.0)), [LOC, LOG_SCALE], (0, 1)),
    "log_normal": (lambda lib, D, m, s: (lambda d: lib.stack([d.log_prob(lib.full_like(m, 1.5)), d.mean, d.variance,
                                                              d.entropy()]))(D.LogNormal(m, s.exp())),
                   [LOC, LOG_SCALE], (0, 1)),
    "one_hot_categorical": (lambda lib, D, l: (lambda d: lib.stack([d.log_prob(lib.eye(6, dtype=l.dtype)[
        lib.tensor(ACTIONS)]), d.entropy()]))(D.OneHotCategorical(logits=l)), [LOGITS], (0,)),
}


def lower(lib, raw):
    """A lower-triangular matrix with a positive diagonal, from any square one."""
    return raw.tril(-1) + lib.diag_embed(raw.diagonal(0, -2, -1).exp())


def spd(lib, raw):
    factor = lower(lib, raw)
    return factor @ factor.mT


def run(lib, D, case, dtype):
    fn, arrays, differentiable = CASES[case]
    inputs = [lib.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=i in differentiable)
              for i, a in enumerate(arrays)]
    out = fn(lib, D, *inputs)
    weights = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(dtype)
    finite = lib.tensor(np.isfinite(out.detach().numpy()))
    (lib.where(finite, out, 0.0) * lib.tensor(weights)).sum().backward()   # infinities (out of support) add none
    return out.detach().numpy(), [inputs[i].grad.numpy() for i in differentiable]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_values_and_gradients_match_torch(case, dtype):
    out, grads = run(ag, AD, case, dtype)
    expected, expected_grads = run(torch, TD, case, dtype)
    assert out.dtype == expected.dtype
    # float64: 1e-8, as the gamma-function kernels (SciPy's and torch's) differ in the ninth digit
    tolerance = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(out, expected, **tolerance)
    for grad, expected_grad in zip(grads, expected_grads):
        np.testing.assert_allclose(grad, expected_grad, **tolerance)


def test_log_prob_and_kl_have_second_derivatives():
    loc = ag.tensor(LOC[0], requires_grad=True)
    log_scale = ag.tensor(LOG_SCALE[0], requires_grad=True)
    assert ag.gradgradcheck(lambda m, s: AD.Normal(m, s.exp()).log_prob(ag.tensor(VALUE[0])), [loc, log_scale])
    assert ag.gradgradcheck(lambda m, s: AD.kl_divergence(AD.Normal(m, s.exp()), AD.Normal(0.0, 1.0)),
                            [loc, log_scale])
    logits = ag.tensor(LOGITS[:2], requires_grad=True)
    assert ag.gradgradcheck(lambda l: AD.Categorical(logits=l).entropy(), [logits])


def test_draws_have_the_distributions_statistics_and_torchs_shapes():
    ag.manual_seed(0)
    draws = AD.Normal(ag.tensor([1.0, -2.0]), ag.tensor([0.5, 3.0])).sample((20000,))
    assert draws.shape == (20000, 2) and not draws.requires_grad
    np.testing.assert_allclose(draws.numpy().mean(0), [1.0, -2.0], atol=0.06)
    np.testing.assert_allclose(draws.numpy().std(0), [0.5, 3.0], rtol=0.03)
    probs = np.array([0.1, 0.6, 0.3])
    classes = AD.Categorical(probs=ag.tensor(probs)).sample((20000,))
    assert classes.dtype == np.int64
    np.testing.assert_allclose(np.bincount(classes.numpy(), minlength=3) / 20000, probs, atol=0.015)
    ones = AD.Bernoulli(probs=ag.tensor([0.2, 0.9])).sample((20000,))
    np.testing.assert_allclose(ones.numpy().mean(0), [0.2, 0.9], atol=0.015)
    for dist, mean, variance in ((AD.Gamma(ag.tensor(2.0), ag.tensor(4.0)), 0.5, 0.125),
                                 (AD.Beta(ag.tensor(2.0), ag.tensor(3.0)), 0.4, 0.04),
                                 (AD.Poisson(ag.tensor(3.0)), 3.0, 3.0), (AD.Exponential(ag.tensor(2.0)), 0.5, 0.25),
                                 (AD.Laplace(ag.tensor(1.0), ag.tensor(0.5)), 1.0, 0.5)):
        draws = dist.sample((40000,)).numpy()
        assert abs(draws.mean() - mean) < 0.03 and abs(draws.var() - variance) < 0.06, type(dist).__name__
    mvn = AD.MultivariateNormal(ag.tensor([1.0, -1.0]), covariance_matrix=ag.tensor([[2.0, 0.6], [0.6, 0.5]]))
    np.testing.assert_allclose(np.cov(mvn.sample((40000,)).numpy().T), [[2.0, 0.6], [0.6, 0.5]], atol=0.06)
    uniform = AD.Uniform(ag.tensor(-1.0), ag.tensor(3.0)).sample((20000,)).numpy()
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.05
    for build in (lambda D, lib: D.Categorical(logits=lib.zeros(4, 5)), lambda D, lib: D.Normal(lib.zeros(4, 1), 1.0),
                  lambda D, lib: D.Bernoulli(logits=lib.zeros(4)), lambda D, lib: D.Uniform(lib.zeros(4), 1.0),
                  lambda D, lib: D.Independent(D.Normal(lib.zeros(4, 3), 1.0), 1),
                  lambda D, lib: D.OneHotCategorical(logits=lib.zeros(4, 5)),
                  lambda D, lib: D.MultivariateNormal(lib.zeros(4, 3), scale_tril=lib.eye(3))):
        ours, theirs = build(AD, ag), build(TD, torch)
        assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
        assert tuple(ours.sample((2, 3)).shape) == tuple(theirs.sample((2, 3)).shape)
        assert tuple(ours.sample().shape) == tuple(theirs.sample().shape)


def test_rsample_carries_the_gradient_to_the_parameters_as_the_reparameterisation_says():
    loc = ag.tensor([0.5, -1.0], requires_grad=True)
    log_scale = ag.tensor([0.1, -0.3], requires_grad=True)
    ag.manual_seed(3)
    z = AD.Normal(loc, log_scale.exp()).rsample((5,))
    (z * z).sum().backward()
    ag.manual_seed(3)
    noise = ag.randn(5, 2)   # the same draws: z = loc + noise * scale
    scale = np.exp(log_scale.numpy())
    z_expected = loc.numpy() + noise.numpy() * scale
    np.testing.assert_allclose(loc.grad.numpy(), (2 * z_expected).sum(0), rtol=1e-6)
    np.testing.assert_allclose(log_scale.grad.numpy(), (2 * z_expected * noise.numpy() * scale).sum(0), rtol=1e-5)


def test_reinforce_update_with_the_same_actions_matches_torch():
    """Policy gradient as the PyTorch tutorial writes it: sample from Categorical(logits=policy(s)),
    then minimise -(log_prob(actions) * returns).sum(); torch gets the actions ndgrad drew."""
    states = rng.standard_normal((8, 4)).astype(np.float32)
    returns = rng.standard_normal(8).astype(np.float32)
    weight = rng.standard_normal((4, 3)).astype(np.float32)
    w = ag.tensor(weight, requires_grad=True)
    policy = AD.Categorical(logits=ag.tensor(states) @ w)
    actions = policy.sample()
    loss = -(policy.log_prob(actions) * ag.tensor(returns)).sum() - 0.01 * policy.entropy().mean()
    loss.backward()
    tw = torch.tensor(weight, requires_grad=True)
    torch_policy = TD.Categorical(logits=torch.tensor(states) @ tw)
    torch_loss = (-(torch_policy.log_prob(torch.tensor(actions.numpy())) * torch.tensor(returns)).sum()
                  - 0.01 * torch_policy.entropy().mean())
    torch_loss.backward()
    np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build, message", [
    (lambda D, lib: D.Normal(0.0, -1.0), "to satisfy the constraint GreaterThan"),
    (lambda D, lib: D.Categorical(probs=lib.ones(2), logits=lib.ones(2)), "must be specified, but not both"),
    (lambda D, lib: D.Categorical(logits=lib.ones(3)).log_prob(lib.tensor(5)), "within the support"),
    (lambda D, lib: D.Bernoulli(probs=lib.tensor(0.3)).log_prob(lib.tensor(0.5)), "within the support"),
    (lambda D, lib: D.Bernoulli(probs=lib.tensor(1.5)), "to satisfy the constraint Interval"),
])
def test_invalid_arguments_and_values_raise_as_torch(build, message):
    for D, lib in ((TD, torch), (AD, ag)):
        with pytest.raises(ValueError, match=f"(?i){message}"):
            build(D, lib)
    with pytest.raises(NotImplementedError, match="no KL divergence is registered for Normal and Categorical"):
        AD.kl_divergence(AD.Normal(0.0, 1.0), AD.Categorical(logits=ag.zeros(2)))


def test_modes_and_the_default_validation_switch_as_torch():
    cases = [lambda D, lib: D.Normal(lib.tensor([1.0, 2.0]), 1.0), lambda D, lib: D.Categorical(
        logits=lib.tensor([[1.0, 3.0, 2.0]])), lambda D, lib: D.Bernoulli(probs=lib.tensor([0.3, 0.7, 0.5])),
        lambda D, lib: D.OneHotCategorical(logits=lib.tensor([1.0, 3.0, 2.0])),
        lambda D, lib: D.Independent(D.Normal(lib.zeros(2, 3), 1.0), 1), lambda D, lib: D.Laplace(lib.tensor(1.0), 2.0),
        lambda D, lib: D.MultivariateNormal(lib.ones(2), scale_tril=lib.eye(2))]
    for build in cases:
        np.testing.assert_array_equal(build(AD, ag).mode.numpy(), build(TD, torch).mode.numpy())
    for D in (AD, TD):
        D.Distribution.set_default_validate_args(False)
        try:
            assert D.Normal(0.0, -1.0).scale.item() == -1.0
        finally:
            D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0)


def test_a_squashed_gaussian_sample_scores_through_the_cached_inverse():
    """SAC's policy: a = tanh(x), x ~ N(mu, sigma); log_prob(a) uses the cached x, exact even where tanh
    saturates, and equals the change-of-variables formula."""
    mu = ag.tensor([0.0, 6.0], requires_grad=True)
    dist = AD.TransformedDistribution(AD.Normal(mu, 1.0), [AD.transforms.TanhTransform(cache_size=1)])
    ag.manual_seed(1)
    action = dist.rsample()
    log_prob = dist.log_prob(action)
    ag.manual_seed(1)
    x = AD.Normal(mu, 1.0).rsample()
    expected = AD.Normal(mu, 1.0).log_prob(x) - ag.log(1 - x.tanh() ** 2)
    np.testing.assert_allclose(log_prob.detach().numpy(), expected.detach().numpy(), rtol=1e-4)
    assert np.isfinite(log_prob.detach().numpy()).all()
    log_prob.sum().backward()
    assert mu.grad is not None
