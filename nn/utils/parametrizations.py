"""nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations (nn.utils.parametrize),
the API PyTorch recommends over nn.utils.weight_norm and spectral_norm: the state dict holds
parametrizations.<name>.original0 (g) and original1 (v), or original with the power iteration's
vectors parametrizations.<name>.0._u and _v."""
import autograd as ag

from .. import functional as F
from ..module import Module
from . import parametrize
from .weight_norms import _TRANSPOSED, _norm_except_dim, _normalize

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    """w = g v / ||v||, the norm over every dim but `dim` (all for None)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = None if dim == -1 else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        """(g, v) for a weight: its norm and itself."""
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Parametrize module.<name> as g v / ||v|| (Salimans & Kingma), g and v learnt. Returns the module.
    As `torch.nn.utils.parametrizations.weight_norm`."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """w / sigma(w), sigma = u^T W v from power iteration on the buffers _u and _v (15 steps at the
    start, n_power_iterations per training forward; W is w with dim `dim` first, flattened to a
    matrix). A 1-D w is just normalised."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{weight.ndim}, {weight.ndim - 1}] "
                             f"but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.dim, self.eps = dim % weight.ndim, eps
        if weight.ndim > 1:
            self.n_power_iterations = n_power_iterations
            height, width = self._matrix(weight).shape
            self.register_buffer("_u", ag.from_numpy(_normalize(ag.randn(height, dtype=weight.dtype).numpy(), eps)))
            self.register_buffer("_v", ag.from_numpy(_normalize(ag.randn(width, dtype=weight.dtype).numpy(), eps)))
            self._power_method(self._matrix(weight), 15)

    def _matrix(self, weight):
        return (weight if self.dim == 0 else weight.movedim(self.dim, 0)).flatten(1)

    def _power_method(self, matrix, iterations):
        w, u, v = matrix.detach().numpy(), self._u.numpy(), self._v.numpy()
        for _ in range(iterations):       # in place, as PyTorch's
            u[...] = _normalize(w @ v, self.eps)
            v[...] = _normalize(w.T @ u, self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        sigma = (self._u.clone() * (matrix @ self._v.clone())).sum()
        return weight / sigma

    def right_inverse(self, value):
        """The weight itself: assignment stores it as the original."""
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Parametrize module.<name> as itself divided by its spectral norm (largest singular value),
    estimated by power iteration (dim defaults to 0, 1 for transposed convolutions). Returns the
    module. As `torch.nn.utils.parametrizations.spectral_norm`."""
    weight = getattr(module, name, None)
    if not isinstance(weight, ag.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__ in _TRANSPOSED else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
