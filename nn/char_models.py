"""The character-level language models that `ndgrad train --data names` trains: bigram, mlp, rnn,
gru and transformer, after Karpathy's makemore.

Every model maps a batch of token sequences (N, T) (int64 indices into the vocabulary) to logits
(N, T, vocabulary) for the next token at each position, and looks only at positions up to its own,
so one forward pass trains on every prefix of a name at once and sampling can feed a prefix back in.
benchmarks/train_names_torch.py builds the same five in PyTorch, layer for layer.
"""
import numpy as np

import autograd as ag

from . import (GRU, RNN, Embedding, LayerNorm, Linear, Module, ModuleList, Transformer,
               TransformerEncoderLayer)
from . import functional as F


class Bigram(Module):
    """A table of next-token logits indexed by the current token: the counting model, learned."""

    def __init__(self, vocabulary_size):
        super().__init__()
        self.logits = Embedding(vocabulary_size, vocabulary_size)

    def forward(self, tokens):
        return self.logits(tokens)


class CharMLP(Module):
    """Bengio et al. (2003): the embeddings of the last `context` tokens, concatenated, through one
    tanh hidden layer. Before the start of a sequence the context is padded with token 0 (the
    start token), so position t sees tokens t-context+1 .. t."""

    def __init__(self, vocabulary_size, context=3, embedding_dim=16, hidden_size=128):
        super().__init__()
        self.context = context
        self.embedding = Embedding(vocabulary_size, embedding_dim)
        self.hidden = Linear(context * embedding_dim, hidden_size)
        self.output = Linear(hidden_size, vocabulary_size)

    def forward(self, tokens):
        length = tokens.shape[1]
        padded = self.embedding(ag.pad(tokens, ((0, 0), (self.context - 1, 0))))           # (N, T + context - 1, E)
        windows = ag.cat([padded[:, i:i + length] for i in range(self.context)], dim=-1)
        return self.output(ag.tanh(self.hidden(windows)))


class CharRNN(Module):
    """Embeddings through a one-layer recurrent network (nn.RNN with tanh, or nn.GRU), then a
    linear read-out of each step's hidden state."""

    def __init__(self, vocabulary_size, cell="gru", embedding_dim=32, hidden_size=128):
        super().__init__()
        recurrent = {"rnn": RNN, "gru": GRU}[cell]
        self.embedding = Embedding(vocabulary_size, embedding_dim)
        self.recurrent = recurrent(embedding_dim, hidden_size, batch_first=True)
        self.output = Linear(hidden_size, vocabulary_size)

    def forward(self, tokens):
        states, _ = self.recurrent(self.embedding(tokens))
        return self.output(states)


class CharTransformer(Module):
    """A small GPT: token plus learned position embeddings, `num_layers` pre-norm
    TransformerEncoderLayers under a causal mask, a final LayerNorm and a linear read-out.
    Sequences may be at most `block_size` long."""

    def __init__(self, vocabulary_size, block_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.0):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = Embedding(vocabulary_size, d_model)
        self.position_embedding = Embedding(block_size, d_model)
        self.layers = ModuleList([
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu", batch_first=True,
                                    norm_first=True) for _ in range(num_layers)])
        self.norm = LayerNorm(d_model)
        self.output = Linear(d_model, vocabulary_size)

    def _embed(self, tokens):
        length = tokens.shape[1]
        if length > self.block_size:
            raise ag.ShapeError(f"CharTransformer(block_size={self.block_size}): got sequences of length {length}")
        positions = ag.from_numpy(np.arange(length))
        return self.token_embedding(tokens) + self.position_embedding(positions), \
            Transformer.generate_square_subsequent_mask(length)

    def forward(self, tokens):
        x, mask = self._embed(tokens)
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=True)
        return self.output(self.norm(x))

    def attention_weights(self, tokens):
        """Each layer's attention weights (N, nhead, T, T) on `tokens`: row t is how much position t
        draws on each position up to t."""
        weights = []
        with ag.no_grad():
            x, mask = self._embed(tokens)
            for layer in self.layers:
                h = layer.norm1(x)
                weights.append(layer.self_attn(h, h, h, attn_mask=mask, need_weights=True,
                                               average_attn_weights=False)[1].numpy())
                x = layer(x, src_mask=mask, is_causal=True)
        return weights


CHAR_MODELS = ("bigram", "mlp", "rnn", "gru", "transformer")


def build_char_model(name, vocabulary_size, block_size):
    """A freshly initialised model by name (from autograd's global generator)."""
    if name == "bigram":
        return Bigram(vocabulary_size)
    if name == "mlp":
        return CharMLP(vocabulary_size)
    if name in ("rnn", "gru"):
        return CharRNN(vocabulary_size, cell=name)
    if name == "transformer":
        return CharTransformer(vocabulary_size, block_size)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(CHAR_MODELS)}")


def sequence_loss(logits, targets):
    """Mean cross-entropy per predicted token over (N, T, V) logits, skipping padded targets."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def sample(model, count, max_length, seed=0):
    """`count` token sequences drawn from `model`, each following token 0 and ending before the first
    token 0 it draws (or after `max_length` tokens): a list of lists of token indices, a function of
    `seed` alone (NumPy's generator, not autograd's)."""
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    tokens = np.zeros((count, 1), dtype=np.int64)
    finished = np.zeros(count, dtype=bool)
    try:
        with ag.no_grad():
            while tokens.shape[1] <= max_length and not finished.all():
                logits = model(ag.from_numpy(tokens)).numpy()[:, -1].astype(np.float64)
                probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
                probabilities /= probabilities.sum(axis=1, keepdims=True)
                drawn = (probabilities.cumsum(axis=1) < rng.random((count, 1))).sum(axis=1)
                drawn = np.minimum(drawn, probabilities.shape[1] - 1)     # rounding at the top end
                drawn[finished] = 0
                finished |= drawn == 0
                tokens = np.concatenate([tokens, drawn[:, None]], axis=1)
    finally:
        model.train(was_training)
    return [[int(t) for t in row[1:]][:_end(row[1:])] for row in tokens]


def _end(tokens):
    """The position of the first end token in `tokens`, or its length if there is none."""
    ends = np.flatnonzero(tokens == 0)
    return int(ends[0]) if len(ends) else len(tokens)
