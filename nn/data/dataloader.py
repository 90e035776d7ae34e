"""DataLoader: a dataset's samples in (optionally shuffled) batches of Tensors, one epoch per loop."""
import numbers

import numpy as np

import autograd as ag

from .dataset import fetch_batch


class DataLoader:
    """Iterate over `dataset` in batches, as `torch.utils.data.DataLoader` does.

    Each `for batch in loader` is one epoch. A TensorDataset of (x, y) gives batches `[xb, yb]`
    (Tensors whose first dimension is the batch); `len(loader)` is the number of batches.

    Shuffling: with `seed` given, epoch k's order is a fixed function of (seed, k), so a run is
    reproducible and every epoch still sees a new order; `loader.epoch` is the number of the next
    epoch (set it to resume). Without `seed`, each epoch's order is drawn from `generator` (an
    `autograd.Generator`), else from the global generator that `autograd.manual_seed` seeds.

    Batches come from `dataset.get_batch(indices)` where the dataset offers it (one NumPy
    fancy-index per array; see nn.data.dataset), else from `dataset[i]` per sample, stacked by
    `collate_fn` (default: `default_collate`). ndgrad loads batches in the calling process:
    `num_workers` and `pin_memory` are accepted so PyTorch code runs, and change nothing.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, generator=None, collate_fn=None, num_workers: int = 0,
                 pin_memory: bool = False):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__; got a {type(dataset).__name__}")
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {flag!r}")
        if seed is not None and (not _is_int(seed) or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative integer or None, got {seed!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed or generator, not both")
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        order = self._order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _order(self, epoch):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is not None:
            return np.random.default_rng([self.seed, epoch]).permutation(n)
        return ag.randperm(n, generator=self.generator).data

    def _batches(self, order):
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.collate_fn is None:
                yield fetch_batch(self.dataset, indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
