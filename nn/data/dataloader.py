"""DataLoader: a dataset's samples in (optionally shuffled) batches of Tensors, one epoch per loop."""
import numbers

import numpy as np

import autograd as ag

from .dataset import IterableDataset, default_collate, default_convert, fetch_batch
from .sampler import BatchSampler, Sampler


class DataLoader:
    """Iterate over `dataset` in batches, as `torch.utils.data.DataLoader` does.

    Each `for batch in loader` is one epoch. A TensorDataset of (x, y) gives batches `[xb, yb]`
    (Tensors whose first dimension is the batch); `len(loader)` is the number of batches.

    Shuffling: with `seed` given, epoch k's order is a fixed function of (seed, k), so a run is
    reproducible and every epoch still sees a new order; `loader.epoch` is the number of the next
    epoch (set it to resume). Without `seed`, each epoch's order is drawn from `generator` (an
    `autograd.Generator`), else from the global generator that `autograd.manual_seed` seeds.

    `sampler` (any iterable of indices, e.g. a `WeightedRandomSampler`) replaces the order, and
    `batch_sampler` (an iterable of lists of indices) the batches, as in PyTorch. An
    `IterableDataset` is batched in the order it yields its samples.

    Batches come from `dataset.get_batch(indices)` where the dataset offers it (one NumPy
    fancy-index per array; see nn.data.dataset), else from `dataset[i]` per sample, stacked by
    `collate_fn` (default: `default_collate`). ndgrad loads batches in the calling process:
    `num_workers`, `pin_memory` and the other worker options are accepted so PyTorch code runs, and
    change nothing.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, generator=None, collate_fn=None, num_workers: int = 0,
                 pin_memory: bool = False, *, sampler=None, batch_sampler=None, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True):
        # The worker options after batch_sampler are accepted so PyTorch code runs: batches are loaded
        # in the calling process.
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value!r}")
        elif not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__; got a {type(dataset).__name__}")
        if batch_size is not None and (not _is_int(batch_size) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive integer (or None: no batching), got "
                             f"{batch_size!r}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
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
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler, and drop_last")
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if sampler is not None and not isinstance(sampler, Sampler) and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be an iterable of indices, got {sampler!r}")
        if sampler is not None and batch_size is not None:
            self.batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.epoch = 0

    def __len__(self):
        if self.batch_size is None:   # one sample per step
            return len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if self.batch_size is None:
            return self._samples()
        if isinstance(self.dataset, IterableDataset):
            return self._stream_batches()
        if self.batch_sampler is not None:
            return (self._batch(indices) for indices in self.batch_sampler)
        order = self._order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _batch(self, indices):
        """The batch of the samples at `indices` (a list from a batch sampler)."""
        if self.collate_fn is None and all(isinstance(i, numbers.Integral) for i in indices):
            return fetch_batch(self.dataset, np.asarray(indices, dtype=np.int64))
        return (self.collate_fn or default_collate)([self.dataset[i] for i in indices])

    def _samples(self):
        """Without batching (batch_size=None): each sample, its arrays made Tensors (or collate_fn's)."""
        convert = self.collate_fn or default_convert
        if isinstance(self.dataset, IterableDataset):
            samples = iter(self.dataset)
        else:
            indices = self.sampler if self.sampler is not None else self._order(self.epoch).tolist()
            self.epoch += self.sampler is None
            samples = (self.dataset[i] for i in indices)
        for sample in samples:
            yield convert(sample)

    def _stream_batches(self):
        collate = self.collate_fn or default_collate
        samples = []
        for sample in self.dataset:
            samples.append(sample)
            if len(samples) == self.batch_size:
                yield collate(samples)
                samples = []
        if samples and not self.drop_last:
            yield collate(samples)

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


def get_worker_info():
    """None: batches are loaded in the calling process, never in a worker (so an IterableDataset that
    shards its stream by worker reads all of it). As `torch.utils.data.get_worker_info` in the main
    process."""
    return None


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
