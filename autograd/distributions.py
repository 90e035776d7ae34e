"""Probability distributions, as torch.distributions: Normal, Categorical, OneHotCategorical,
Bernoulli, Uniform, Independent, MultivariateNormal, Laplace, Exponential, Gamma, Beta and Poisson, with `sample`, `rsample` (reparameterised, so gradients reach the parameters),
`log_prob`, `entropy`, `mean`, `variance`, and `kl_divergence` between two of a kind.

They are what policy-gradient (REINFORCE, actor-critic, PPO) and variational code calls:
`Categorical(logits=policy(state))`, `action = dist.sample()`, `-dist.log_prob(action) * advantage`,
`Normal(mu, std).rsample()`, `kl_divergence(q, p)`. Every formula is a composition of differentiable
Tensor ops (torch's expressions), so gradients and second derivatives follow from the ops. Draws come
from the global generator that `autograd.manual_seed` seeds (NumPy's, not PyTorch's: the same seed
gives other numbers than torch).

As in PyTorch, the arguments are validated (a non-positive scale, probabilities outside [0, 1], a
value outside the support of `log_prob` raise a ValueError naming the distribution);
`validate_args=False` skips the checks.
"""
import math
import numbers
import types

import numpy as np

from . import creation
from .grad_mode import no_grad
from .ops.activations import softplus
from .ops.shape import broadcast_shapes, broadcast_tensors
from .tensor import Tensor

__all__ = ["Distribution", "Normal", "Categorical", "OneHotCategorical", "Bernoulli", "Uniform", "Independent",
           "MultivariateNormal", "Laplace", "Exponential", "Gamma", "Beta", "Poisson", "TransformedDistribution",
           "LogNormal", "transforms", "kl_divergence", "register_kl"]


def _as_tensor(value, like=None):
    """A Tensor for a parameter or value: Tensors as they are, Python numbers in `like`'s dtype (else
    the default dtype), as torch's broadcast_all makes them."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, numbers.Number):
        return creation.tensor(value, dtype=like.dtype)
    return creation.tensor(value)


def _parameters(*values):
    """The parameters as Tensors of one broadcast shape (numbers take a Tensor argument's dtype)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    return broadcast_tensors(*(_as_tensor(v, like) for v in values))


class Distribution:
    """Base class: a batch of distributions of shape `batch_shape`, each over values of shape
    `event_shape`. Subclasses give `log_prob`, and `rsample` (reparameterised) or `sample`."""

    has_rsample = False
    _validate_by_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = Distribution._validate_by_default if validate_args is None else bool(validate_args)

    @staticmethod
    def set_default_validate_args(value):
        """Whether distributions made without validate_args check their arguments (True at first), as
        `torch.distributions.Distribution.set_default_validate_args`."""
        if value not in (True, False):
            raise ValueError("set_default_validate_args: value must be True or False")
        Distribution._validate_by_default = value

    @property
    def mode(self):
        """The most likely value."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def batch_shape(self):
        """The shape of the batch of distributions."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one draw of one distribution."""
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def _numpy_draws(self, sample_shape, draw, *parameters):
        """Draws of NumPy's generator method `draw` (e.g. 'gamma') from the global generator, its parameters
        broadcast to the draws' shape (outside the graph)."""
        shape = self._extended_shape(sample_shape)
        method = getattr(creation._generator(None), draw)
        return method(*(np.broadcast_to(p.numpy(), shape) for p in parameters))

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape + event_shape, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """Reparameterised draws: differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling (rsample); use sample")

    def sample_n(self, n):
        """`n` draws (torch's older name for sample((n,)))."""
        return self.sample((n,))

    def log_prob(self, value):
        """The log density (or log probability) of `value` under each distribution of the batch."""
        raise NotImplementedError

    def entropy(self):
        """The entropy of each distribution of the batch."""
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy)."""
        return self.entropy().exp()

    @property
    def stddev(self):
        """The standard deviation: the root of the variance."""
        return self.variance.sqrt()

    def _refuse(self, message):
        raise ValueError(f"{type(self).__name__}: {message}")

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self._batch_shape}, event_shape={self._event_shape})"


class Normal(Distribution):
    """N(loc, scale**2), elementwise over the broadcast shape of loc and scale."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _parameters(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        if self._validate_args and not np.all(self.scale.numpy() > 0):
            self._refuse(f"expected parameter scale (a tensor of shape {tuple(self.scale.shape)}) to satisfy the "
                         "constraint GreaterThan(lower_bound=0.0), but found invalid values")

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """scale**2."""
        return self.scale.pow(2)

    @property
    def stddev(self):
        """scale."""
        return self.scale

    @property
    def mode(self):
        """loc."""
        return self.loc

    def rsample(self, sample_shape=()):
        noise = creation.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + noise * self.scale

    def log_prob(self, value):
        value = _as_tensor(value, self.loc)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        """P(X <= value)."""
        value = _as_tensor(value, self.loc)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value):
        """The value below which the probability is `value`."""
        return self.loc + self.scale * (2 * _as_tensor(value, self.loc) - 1).erfinv() * math.sqrt(2)


class Categorical(Distribution):
    """Distributions over the classes 0 .. K-1 of the last dim of `probs` (non-negative weights,
    normalised here) or of `logits` (unnormalised log probabilities); give exactly one."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, but not both")
        if probs is not None:
            probs = _as_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("Categorical: `probs` parameter must be at least one-dimensional")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=float(np.finfo(probs.dtype).eps),
                                           max=1 - float(np.finfo(probs.dtype).eps)).log()
        else:
            logits = _as_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("Categorical: `logits` parameter must be at least one-dimensional")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = self.logits.shape[-1]
        super().__init__(self.logits.shape[:-1], (), validate_args)
        if self._validate_args and probs is not None and not np.all(probs.numpy() >= 0):
            self._refuse("expected parameter probs to be non-negative (class weights), but found negative values")

    @property
    def param_shape(self):
        """The shape of probs and logits."""
        return tuple(self.logits.shape)

    @property
    def mean(self):
        """NaN, as torch's: the classes are labels, not numbers."""
        return creation.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def variance(self):
        """NaN, as torch's."""
        return self.mean

    @property
    def mode(self):
        """The most probable class."""
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        count = int(np.prod(sample_shape, dtype=np.int64))
        rows = self.probs.detach().reshape(-1, self._num_events)
        draws = creation.multinomial(rows, count, True).numpy().T
        return creation.from_numpy(np.ascontiguousarray(draws).reshape(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        value = _as_tensor(value).long()
        if self._validate_args and not np.all((value.numpy() >= 0) & (value.numpy() < self._num_events)):
            self._refuse(f"expected the value argument to be within the support (a class in [0, {self._num_events})), "
                         "but found invalid values")
        value, log_pmf = broadcast_tensors(value.unsqueeze(-1), self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """The classes 0 .. K-1 along a new first dim (expanded over the batch if `expand`)."""
        values = creation.arange(self._num_events).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class _OneTrialMoments:
    """The moments of a 0/1 draw (per class, for one-hot ones): mean probs, variance probs (1 - probs)."""

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def variance(self):
        """probs (1 - probs)."""
        return self.probs * (1 - self.probs)


class Bernoulli(_OneTrialMoments, Distribution):
    """0/1 draws with probability `probs` of a 1 (or `logits`, its log-odds); give exactly one."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: either `probs` or `logits` must be specified, but not both")
        if probs is not None:
            (self.probs,) = _parameters(probs)
            eps = float(np.finfo(self.probs.dtype).eps)
            clamped = self.probs.clamp(min=eps, max=1 - eps)
            self.logits = clamped.log() - (-clamped).log1p()
            validate = Distribution._validate_by_default if validate_args is None else validate_args
            if validate and not np.all((self.probs.numpy() >= 0) & (self.probs.numpy() <= 1)):
                raise ValueError("Bernoulli: expected parameter probs to satisfy the constraint Interval(lower_bound="
                                 "0.0, upper_bound=1.0), but found invalid values")
        else:
            (self.logits,) = _parameters(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape, (), validate_args)

    @property
    def mode(self):
        """1 where probs > 1/2, 0 where below, NaN at 1/2 (as torch's)."""
        p = self.probs.detach().numpy()
        return creation.from_numpy(np.where(p > 0.5, 1.0, np.where(p < 0.5, 0.0, np.nan)).astype(p.dtype))

    def sample(self, sample_shape=()):
        probs = self.probs.detach().expand(*self._extended_shape(sample_shape))
        return creation.bernoulli(probs)

    def log_prob(self, value):
        value = _as_tensor(value, self.logits)
        if self._validate_args and not np.all((value.numpy() == 0) | (value.numpy() == 1)):
            self._refuse("expected the value argument to be within the support (0 or 1), but found invalid values")
        logits, value = broadcast_tensors(self.logits, value.astype(self.logits.dtype))
        return value * logits - softplus(logits)    # -binary_cross_entropy_with_logits(logits, value)

    def entropy(self):
        return softplus(self.logits) - self.probs * self.logits


class Uniform(Distribution):
    """Uniform on [low, high), elementwise over the broadcast shape of low and high."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _parameters(low, high)
        super().__init__(self.low.shape, (), validate_args)
        if self._validate_args and not np.all(self.low.numpy() < self.high.numpy()):
            self._refuse("expected low < high everywhere")

    @property
    def mean(self):
        """(low + high) / 2."""
        return (self.high + self.low) / 2

    @property
    def variance(self):
        """(high - low)**2 / 12."""
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        unit = creation.rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + unit * (self.high - self.low)

    def log_prob(self, value):
        value = _as_tensor(value, self.low)
        inside = (self.low.numpy() <= value.numpy()) & (value.numpy() < self.high.numpy())
        outside_log = creation.from_numpy(np.where(inside, 0.0, -np.inf).astype(self.low.dtype))  # log of the 0/1 density
        return outside_log - (self.high - self.low).log()

    def entropy(self):
        return (self.high - self.low).log()

    def cdf(self, value):
        """P(X <= value), clamped to [0, 1]."""
        return ((_as_tensor(value, self.low) - self.low) / (self.high - self.low)).clamp(0, 1)


class Independent(Distribution):
    """`base_distribution` with its last `reinterpreted_batch_ndims` batch dims taken as event dims:
    log_prob and entropy sum over them (e.g. a diagonal Gaussian over vectors from a Normal)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        batch = base_distribution.batch_shape
        if not 0 <= reinterpreted_batch_ndims <= len(batch):
            raise ValueError(f"Independent: expected 0 <= reinterpreted_batch_ndims <= {len(batch)} (the base "
                             f"distribution's batch dims), got {reinterpreted_batch_ndims}")
        split = len(batch) - reinterpreted_batch_ndims
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.has_rsample = base_distribution.has_rsample
        super().__init__(batch[:split], batch[split:] + base_distribution.event_shape, validate_args)

    @property
    def mean(self):
        """The base distribution's mean."""
        return self.base_dist.mean

    @property
    def variance(self):
        """The base distribution's variance."""
        return self.base_dist.variance

    @property
    def mode(self):
        """The base distribution's mode."""
        return self.base_dist.mode

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _sum_reinterpreted(self, values):
        if self.reinterpreted_batch_ndims == 0:
            return values
        return values.sum(tuple(range(-self.reinterpreted_batch_ndims, 0)))

    def log_prob(self, value):
        return self._sum_reinterpreted(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_reinterpreted(self.base_dist.entropy())


class OneHotCategorical(_OneTrialMoments, Categorical):
    """Categorical draws as one-hot vectors over the last dim (event shape (K,))."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args)
        self._event_shape = (self._num_events,)

    @property
    def mode(self):
        """The most probable class, one-hot."""
        return creation.from_numpy(np.eye(self._num_events, dtype=self.probs.dtype)[Categorical.mode.fget(self).numpy()])

    def sample(self, sample_shape=()):
        classes = Categorical.sample(self, sample_shape).numpy()
        return creation.from_numpy(np.eye(self._num_events, dtype=self.probs.dtype)[classes])

    def log_prob(self, value):
        value = _as_tensor(value, self.logits)
        return (value * self.logits).sum(-1)

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape


def _mahalanobis(scale_tril, difference):
    """|L^-1 d|^2 for each batch of the lower-triangular L and the vectors d."""
    from .ops.decompositions import solve_triangular
    solved = solve_triangular(scale_tril, difference.unsqueeze(-1), upper=False)
    return (solved * solved).sum((-2, -1))


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors (event shape (k,)), Sigma given as covariance_matrix, precision_matrix
    (its inverse) or scale_tril (its lower Cholesky factor L, Sigma = L L^T)."""

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        from .ops.decompositions import linalg_cholesky
        from .ops.linalg import inverse
        if sum(m is not None for m in (covariance_matrix, precision_matrix, scale_tril)) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        loc = _as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional.")
        if scale_tril is not None:
            scale_tril = _as_tensor(scale_tril, loc)
        elif covariance_matrix is not None:
            scale_tril = linalg_cholesky(_as_tensor(covariance_matrix, loc))
        else:
            scale_tril = linalg_cholesky(inverse(_as_tensor(precision_matrix, loc)))
        batch = broadcast_shapes(tuple(loc.shape[:-1]), tuple(scale_tril.shape[:-2]))
        k = loc.shape[-1]
        self.loc = loc.expand(*batch, k)
        self.scale_tril = scale_tril.expand(*batch, k, k)
        super().__init__(batch, (k,), validate_args)

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def covariance_matrix(self):
        """L L^T."""
        return self.scale_tril @ self.scale_tril.mT

    @property
    def variance(self):
        """The diagonal of the covariance."""
        return (self.scale_tril * self.scale_tril).sum(-1)

    def rsample(self, sample_shape=()):
        noise = creation.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self.scale_tril @ noise.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self.scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        k = self._event_shape[0]
        distance = _mahalanobis(self.scale_tril, _as_tensor(value, self.loc) - self.loc)
        return -0.5 * (k * math.log(2 * math.pi) + distance) - self._half_log_det()

    def entropy(self):
        return 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()


class Laplace(Distribution):
    """The Laplace (double exponential) distribution of location `loc` and scale `scale`."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _parameters(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        if self._validate_args and not np.all(self.scale.numpy() > 0):
            self._refuse("expected parameter scale to satisfy the constraint GreaterThan(lower_bound=0.0), but found "
                         "invalid values")

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """2 scale**2."""
        return 2 * self.scale.pow(2)

    @property
    def mode(self):
        """loc."""
        return self.loc

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = creation.rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype) * (2 - 2 * eps) - (1 - eps)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        return -(2 * self.scale).log() - (_as_tensor(value, self.loc) - self.loc).abs() / self.scale

    def entropy(self):
        return 1 + (2 * self.scale).log()


class Exponential(Distribution):
    """The exponential distribution of rate `rate` (mean 1 / rate)."""

    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _parameters(rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def variance(self):
        """1 / rate**2."""
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        unit = creation.empty(*self._extended_shape(sample_shape), dtype=self.rate.dtype).exponential_()
        return unit / self.rate

    def log_prob(self, value):
        return self.rate.log() - self.rate * _as_tensor(value, self.rate)

    def entropy(self):
        return 1.0 - self.rate.log()


class Gamma(Distribution):
    """The gamma distribution of shape `concentration` and rate `rate` (sampled, not reparameterised)."""

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = _parameters(concentration, rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """concentration / rate."""
        return self.concentration / self.rate

    @property
    def variance(self):
        """concentration / rate**2."""
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape=()):
        draws = self._numpy_draws(sample_shape, "gamma", self.concentration) / self.rate.numpy()
        return creation.from_numpy(draws.astype(self.rate.dtype))

    def log_prob(self, value):
        from .ops.arithmetic import xlogy
        value = _as_tensor(value, self.rate)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value) - self.rate * value
                - self.concentration.lgamma())

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()


class Beta(Distribution):
    """The beta distribution on (0, 1) of concentrations `concentration1` (alpha) and `concentration0`
    (beta) (sampled, not reparameterised)."""

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = _parameters(concentration1, concentration0)
        super().__init__(self.concentration1.shape, (), validate_args)

    @property
    def mean(self):
        """alpha / (alpha + beta)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        """alpha beta / ((alpha + beta)**2 (alpha + beta + 1))."""
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=()):
        draws = self._numpy_draws(sample_shape, "beta", self.concentration1, self.concentration0)
        return creation.from_numpy(draws.astype(self.concentration1.dtype))

    def _log_normaliser(self):
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value):
        from .ops.arithmetic import xlogy
        value = _as_tensor(value, self.concentration1)
        return (xlogy(self.concentration1 - 1, value) + xlogy(self.concentration0 - 1, 1 - value)
                - self._log_normaliser())

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return self._log_normaliser() - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (a + b - 2) * (a + b).digamma()


class Poisson(Distribution):
    """Counts with the Poisson distribution of mean `rate`."""

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _parameters(rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """rate."""
        return self.rate

    @property
    def variance(self):
        """rate."""
        return self.rate

    def sample(self, sample_shape=()):
        return creation.from_numpy(self._numpy_draws(sample_shape, "poisson", self.rate).astype(self.rate.dtype))

    def log_prob(self, value):
        from .ops.arithmetic import xlogy
        value = _as_tensor(value, self.rate)
        return xlogy(value, self.rate) - self.rate - (value + 1).lgamma()


class Transform:
    """An invertible map y = f(x) with log |dy/dx|, for TransformedDistribution (as
    torch.distributions.transforms). With cache_size=1 the last (x, y) pair is kept, so the inverse of
    a sample is exact (tanh's inverse is ill-conditioned near +-1)."""

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached = None

    def __call__(self, x):
        y = self._forward(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def inv(self, y):
        """x with f(x) = y."""
        if self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        return self._inverse(y)

    def log_abs_det_jacobian(self, x, y):
        """log |dy/dx|, elementwise."""
        raise NotImplementedError


class TanhTransform(Transform):
    """y = tanh(x) (squashing a Gaussian policy's action into (-1, 1))."""

    def _forward(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * ((1 + y).log() - (1 - y).log())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale * x."""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    def _forward(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        out = _as_tensor(self.scale, x).abs().log().expand(*x.shape)
        return out.sum(tuple(range(-self.event_dim, 0))) if self.event_dim else out


class ExpTransform(Transform):
    """y = exp(x)."""

    def _forward(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = sigmoid(x)."""

    def _forward(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


transforms = types.SimpleNamespace(Transform=Transform, TanhTransform=TanhTransform, AffineTransform=AffineTransform,
                                   ExpTransform=ExpTransform, SigmoidTransform=SigmoidTransform)


class TransformedDistribution(Distribution):
    """The distribution of transforms[-1](...transforms[0](x)) for x drawn from `base_distribution`
    (elementwise transforms): log_prob(y) = base.log_prob(x) - sum of the log |det| of each step."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        self.base_dist = base_distribution
        self.transforms = list(transforms) if isinstance(transforms, (list, tuple)) else [transforms]
        self.has_rsample = base_distribution.has_rsample
        super().__init__(base_distribution.batch_shape, base_distribution.event_shape, validate_args)

    def _through(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape=()):
        with no_grad():
            return self._through(self.base_dist.sample(sample_shape))

    def rsample(self, sample_shape=()):
        return self._through(self.base_dist.rsample(sample_shape))

    def log_prob(self, value):
        y = _as_tensor(value)
        log_det = 0.0
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            log_det = log_det + transform.log_abs_det_jacobian(x, y)
            y = x
        base = self.base_dist.log_prob(y)
        event_dims = len(self.event_shape)
        if event_dims and not isinstance(log_det, float):
            log_det = log_det.sum(tuple(range(-event_dims, 0)))
        return base - log_det


class LogNormal(TransformedDistribution):
    """exp of a Normal(loc, scale) draw."""

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args), ExpTransform(), validate_args)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale

    @property
    def mean(self):
        """exp(loc + scale**2 / 2)."""
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def variance(self):
        """(exp(scale**2) - 1) exp(2 loc + scale**2)."""
        squared = self.scale.pow(2)
        return squared.expm1() * (2 * self.loc + squared).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


# -- KL divergences --------------------------------------------------------------------------------

_KL = {}


def register_kl(type_p, type_q):
    """Decorator registering `fn(p, q)` as KL(p || q) for p of type_p and q of type_q."""
    def register(fn):
        _KL[type_p, type_q] = fn
        return fn
    return register


def kl_divergence(p, q):
    """KL(p || q) for each distribution of the batch (p and q of registered types: Normal, Categorical,
    Bernoulli, Uniform pairs, and Independent ones over them)."""
    for (type_p, type_q), fn in _KL.items():
        if isinstance(p, type_p) and isinstance(q, type_q):
            return fn(p, q)
    raise NotImplementedError(f"kl_divergence: no KL divergence is registered for {type(p).__name__} and "
                              f"{type(q).__name__}")


def _infinite_where(condition, values):
    """values with inf where the NumPy mask `condition` holds (outside the graph there)."""
    if not condition.any():
        return values
    return values.masked_fill(creation.from_numpy(np.broadcast_to(condition, values.shape)), math.inf)


def _zero_where(condition, values):
    if not condition.any():
        return values
    return values.masked_fill(creation.from_numpy(np.broadcast_to(condition, values.shape)), 0.0)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    shape = broadcast_shapes(tuple(p.probs.shape), tuple(q.probs.shape))
    t = _infinite_where(np.broadcast_to(q.probs.numpy() == 0, shape), t)
    t = _zero_where(np.broadcast_to(p.probs.numpy() == 0, shape), t)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = _zero_where(p.probs.numpy() == 0, _infinite_where(q.probs.numpy() == 0, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = _zero_where(p.probs.numpy() == 1, _infinite_where(q.probs.numpy() == 1, t2))
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low.numpy() > p.low.numpy()) | (q.high.numpy() < p.high.numpy()), result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions over different event dims")
    return p._sum_reinterpreted(kl_divergence(p.base_dist, q.base_dist))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariate_normal(p, q):
    from .ops.decompositions import solve_triangular
    k = p.event_shape[0]
    half_log_det_ratio = q._half_log_det() - p._half_log_det()
    scaled = solve_triangular(q.scale_tril, p.scale_tril, upper=False)
    trace = (scaled * scaled).sum((-2, -1))
    return half_log_det_ratio + 0.5 * (trace + _mahalanobis(q.scale_tril, q.loc - p.loc) - k)
