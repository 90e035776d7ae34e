"""`ndgrad train --data names`'s five character models trained with PyTorch CPU, for comparison.

    python benchmarks/train_names_torch.py                         # all five, ndgrad's defaults
    python benchmarks/train_names_torch.py --models gru --epochs 3

Same names and split (nn.data.Names with the seed), the same architectures with the same state dict
keys and the same initial weights (ndgrad's model after `autograd.manual_seed(seed)`, copied in), the
same batches in the same order (nn.data.DataLoader's order for (seed, epoch)), the same optimizer,
learning rate and cosine schedule (nn.train.learning_rate), batch size and epochs. Prints the
validation loss (cross-entropy per character) after each epoch and the seconds of training per epoch.
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn as tnn
import torch.nn.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from nn.char_models import CHAR_MODELS  # noqa: E402
from nn.data.names import IGNORE_INDEX, VOCABULARY  # noqa: E402
from nn.train import TrainConfig, learning_rate  # noqa: E402
from nn.train_names import build_model, load_splits, resolved  # noqa: E402

V = len(VOCABULARY)


class Bigram(tnn.Module):
    def __init__(self):
        super().__init__()
        self.logits = tnn.Embedding(V, V)

    def forward(self, tokens):
        return self.logits(tokens)


class CharMLP(tnn.Module):
    def __init__(self, context=3, embedding_dim=16, hidden_size=128):
        super().__init__()
        self.context = context
        self.embedding = tnn.Embedding(V, embedding_dim)
        self.hidden = tnn.Linear(context * embedding_dim, hidden_size)
        self.output = tnn.Linear(hidden_size, V)

    def forward(self, tokens):
        length = tokens.shape[1]
        padded = self.embedding(TF.pad(tokens, (self.context - 1, 0)))
        windows = torch.cat([padded[:, i:i + length] for i in range(self.context)], dim=-1)
        return self.output(torch.tanh(self.hidden(windows)))


class CharRNN(tnn.Module):
    def __init__(self, cell, embedding_dim=32, hidden_size=128):
        super().__init__()
        self.embedding = tnn.Embedding(V, embedding_dim)
        self.recurrent = {"rnn": tnn.RNN, "gru": tnn.GRU}[cell](embedding_dim, hidden_size, batch_first=True)
        self.output = tnn.Linear(hidden_size, V)

    def forward(self, tokens):
        return self.output(self.recurrent(self.embedding(tokens))[0])


class CharTransformer(tnn.Module):
    def __init__(self, block_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=256, dropout=0.0):
        super().__init__()
        self.token_embedding = tnn.Embedding(V, d_model)
        self.position_embedding = tnn.Embedding(block_size, d_model)
        self.layers = tnn.ModuleList([
            tnn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                        batch_first=True, norm_first=True) for _ in range(num_layers)])
        self.norm = tnn.LayerNorm(d_model)
        self.output = tnn.Linear(d_model, V)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(length))
        mask = tnn.Transformer.generate_square_subsequent_mask(length)
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=True)
        return self.output(self.norm(x))


def torch_model(name, block_size):
    if name == "bigram":
        return Bigram()
    if name == "mlp":
        return CharMLP()
    if name in ("rnn", "gru"):
        return CharRNN(name)
    return CharTransformer(block_size)


def loss_of(model, inputs, targets):
    logits = model(inputs)
    return TF.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def validation_loss(model, dataset):
    model.eval()
    with torch.no_grad():
        inputs, targets = torch.from_numpy(dataset.data), torch.from_numpy(dataset.targets)
        loss = loss_of(model, inputs, targets).item()
    model.train()
    return loss


def train_torch(config, data):
    """(per-epoch validation losses, per-epoch training seconds) of the torch twin of config.model."""
    train_set, validation_set = data
    ag.manual_seed(config.seed)
    reference = build_model(config, train_set.block_size)
    model = torch_model(config.model, train_set.block_size)
    model.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in reference.state_dict().items()})
    optimizer = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[config.optimizer](model.parameters(),
                                                                                         lr=config.lr)
    loader = nn.data.DataLoader(train_set, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    losses, seconds = [], []
    for epoch in range(config.epochs):
        loader.epoch = epoch
        start = time.perf_counter()
        for batch, (inputs, targets) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, epoch * len(loader) + batch, config.epochs * len(loader))
            loss = loss_of(model, torch.from_numpy(inputs.numpy()), torch.from_numpy(targets.numpy()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        losses.append(validation_loss(model, validation_set))
        print(f"  {config.model} epoch {epoch + 1}/{config.epochs}: val loss {losses[-1]:.4f} "
              f"({seconds[-1]:.2f} s)", flush=True)
    return losses, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=CHAR_MODELS, default=list(CHAR_MODELS))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = {}
    for name in args.models:
        config = resolved(TrainConfig(model=name, epochs=args.epochs, seed=args.seed))
        losses, seconds = train_torch(config, load_splits(config))
        results[name] = (losses[-1], sum(seconds) / len(seconds))
    print(f"{'model':12} {'val loss':>9} {'s/epoch':>8}")
    for name, (loss, seconds) in results.items():
        print(f"{name:12} {loss:9.4f} {seconds:8.2f}")
    return results


if __name__ == "__main__":
    main()
