"""nn.utils.parametrizations: weight_norm as a parametrization (nn.utils.parametrize), the API
PyTorch recommends over nn.utils.weight_norm: the state dict holds
parametrizations.<name>.original0 (g) and original1 (v)."""
from ..module import Module
from . import parametrize
from .weight_norms import _norm_except_dim

__all__ = ["weight_norm"]


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
