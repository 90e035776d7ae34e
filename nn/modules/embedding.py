"""Embedding and EmbeddingBag."""
import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import new_parameter


def _padding_index(padding_idx, num_embeddings):
    """padding_idx made non-negative (None stays None); it must name one of the embeddings."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def _lookup_options(module):
    """The repr of the options Embedding and EmbeddingBag share, where they differ from the defaults."""
    s = f", max_norm={module.max_norm}" if module.max_norm is not None else ""
    if module.norm_type != 2:
        s += f", norm_type={module.norm_type}"
    return s + (", scale_grad_by_freq=True" if module.scale_grad_by_freq else "")


def _as_tensor(value):
    return value if isinstance(value, ag.Tensor) else ag.as_tensor(value)


def _pretrained_weight(embeddings):
    """A Parameter sharing the array of `embeddings` (a 2-D Tensor or array), for from_pretrained."""
    weight = _as_tensor(embeddings)
    if weight.ndim != 2:
        raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape {tuple(weight.shape)}")
    return Parameter(weight)


def _given_weight(module, weight, num_embeddings, embedding_dim):
    """The constructor's _weight as a Parameter sharing its array (as PyTorch), if its shape fits."""
    weight = _as_tensor(weight)
    if tuple(weight.shape) != (num_embeddings, embedding_dim):
        raise ValueError(f"{module}: _weight of shape {tuple(weight.shape)} does not match num_embeddings and "
                         f"embedding_dim ({num_embeddings}, {embedding_dim})")
    return Parameter(weight)


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of `weight` (num_embeddings,
    embedding_dim), initialised N(0, 1); the padding_idx row starts at zero and gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        padding_idx = _padding_index(padding_idx, num_embeddings)
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = new_parameter((num_embeddings, embedding_dim), dtype, device)
            self.reset_parameters()
        else:
            self.weight = _given_weight("Embedding", _weight, num_embeddings, embedding_dim)
        if _freeze:
            self.weight.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (rows = vectors, e.g. GloVe's; shared, not
        copied), frozen unless freeze=False. As `torch.nn.Embedding.from_pretrained`."""
        weight = _pretrained_weight(embeddings)
        return cls(*weight.shape, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=weight, _freeze=freeze)

    def reset_parameters(self):
        """Draw the weights again from N(0, 1), with the padding_idx row set to zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.numpy()[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += _lookup_options(self)
        if self.sparse:
            s += ", sparse=True"
        return s


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (a 2-D input's rows, or a 1-D input cut at
    `offsets`), without building the (total, dim) lookups a user would then reduce: the text
    classification tutorial's layer. Weight initialised N(0, 1). As `torch.nn.EmbeddingBag`."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        padding_idx = _padding_index(padding_idx, num_embeddings)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if _weight is None:
            self.weight = new_parameter((num_embeddings, embedding_dim), dtype, device)
            self.reset_parameters()
        else:
            self.weight = _given_weight("EmbeddingBag", _weight, num_embeddings, embedding_dim)

    def reset_parameters(self):
        """Draw the weights again from N(0, 1), with the padding_idx row set to zero."""
        Embedding.reset_parameters(self)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is `embeddings` (shared, not copied), frozen unless freeze=False.
        As `torch.nn.EmbeddingBag.from_pretrained`."""
        weight = _pretrained_weight(embeddings)
        bag = cls(*weight.shape, max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                  mode=mode, sparse=sparse, _weight=weight, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}{_lookup_options(self)}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
