"""Dropout: Dropout, Dropout1d/2d/3d, and AlphaDropout and FeatureAlphaDropout for SELU networks."""
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Inverted dropout in training (zero with probability p, scale the rest by 1/(1-p)); the
    identity in eval mode. p outside [0, 1] is an error here, at construction."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _FeatureDropout(Dropout):
    """Dropout of whole channels (`function` is F.dropout1d, 2d or 3d)."""
    function = None

    def forward(self, input):
        return type(self).function(input, self.p, self.training, self.inplace)


class Dropout1d(_FeatureDropout):
    """Zero whole channels of (N, C, L) inputs in training. As `torch.nn.Dropout1d`."""
    function = staticmethod(F.dropout1d)


class Dropout2d(_FeatureDropout):
    """Zero whole channels of (N, C, H, W) inputs in training. As `torch.nn.Dropout2d`."""
    function = staticmethod(F.dropout2d)


class Dropout3d(_FeatureDropout):
    """Zero whole channels of (N, C, D, H, W) inputs in training. As `torch.nn.Dropout3d`."""
    function = staticmethod(F.dropout3d)


class AlphaDropout(_FeatureDropout):
    """Dropout that keeps a SELU network's mean and variance, in training. As `torch.nn.AlphaDropout`."""
    function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_FeatureDropout):
    """AlphaDropout of whole channels, in training. As `torch.nn.FeatureAlphaDropout`."""
    function = staticmethod(F.feature_alpha_dropout)
