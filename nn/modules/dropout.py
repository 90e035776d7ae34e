"""Dropout."""
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
