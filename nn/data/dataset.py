"""Datasets, and how a batch is gathered from one.

A dataset is anything with `__len__` and `__getitem__(i) -> sample`, as in PyTorch. Gathering a
batch one sample at a time costs a Python call per sample, so datasets that keep their samples in
arrays also offer the batch protocol:

    dataset.get_batch(indices) -> batch

where `indices` is a 1-D int64 array and the batch is exactly what collating the samples
`[dataset[i] for i in indices]` with `default_collate` would give, gathered with one NumPy
fancy-index per array. `fetch_batch` uses the protocol where a dataset offers it and falls back to
per-sample indexing and `default_collate` where it does not.
"""
import numbers

import numpy as np

import autograd as ag


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of iterable-style datasets (streams): subclasses define `__iter__`, which yields
    the samples; a DataLoader batches them in the order they come."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self):
        # a TypeError, as len() of an object without one: list(loader) then just does without the hint
        raise TypeError(f"{type(self).__name__} is a stream without a length (define __len__ to give it one)")

    def __add__(self, other):
        raise TypeError("IterableDataset: cannot concatenate iterable-style datasets with +")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: `TensorDataset(x, y)[i] == (x[i], y[i])`.

    Accepts Tensors or NumPy arrays, all with the same first (sample) dimension. Samples and
    batches are plain tensors viewing or copying the stored arrays, never part of a graph.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_as_tensor(t, f"TensorDataset: tensor {k}") for k, t in enumerate(tensors))
        for k, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-dimensional; every tensor needs a "
                                 "first dimension that indexes the samples")
        lengths = [t.shape[0] for t in self.tensors]
        if len(set(lengths)) > 1:
            raise ValueError("TensorDataset: tensors have different lengths (sizes of the first dimension): "
                             + ", ".join(map(str, lengths)))

    def __getitem__(self, index):
        return tuple(ag.from_numpy(np.asarray(t.numpy()[index])) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """The samples at `indices` (an int64 array) as one batch, gathered with one NumPy indexing per
        tensor; `DataLoader` calls it instead of `__getitem__` per sample (not in PyTorch)."""
        return [ag.from_numpy(t.numpy()[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        """The samples at `indices` as one batch, from the underlying dataset's own batch gathering."""
        return fetch_batch(self.dataset, self.indices[indices])


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other; `cumulative_sizes[k]` is the number of
    samples in the first k + 1."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for k, dataset in enumerate(self.datasets):
            if isinstance(dataset, IterableDataset):
                raise TypeError(f"ConcatDataset does not support IterableDataset (dataset {k})")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not exceed dataset "
                                 f"length {len(self)}")
            index += len(self)
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        if k == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} samples")
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


def random_split(dataset, lengths: "list[int] | list[float]", generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths, as PyTorch does.

    `lengths` are sample counts adding up to `len(dataset)`, or fractions adding up to 1 (the
    remainder of rounding down is handed out one sample at a time from the first subset on).
    The permutation comes from `generator` (an `autograd.Generator`), else the global one that
    `autograd.manual_seed` seeds.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: fractions must not be negative, got {lengths}")
        counts = [int(np.floor(n * x)) for x in lengths]
        for k in range(n - sum(counts)):
            counts[k % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative integers adding up to "
                         f"the dataset's length {n}, or fractions adding up to 1")
    order = ag.randperm(n, generator=generator).numpy()
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - length:end]) for length, end in zip(lengths, ends)]


def default_collate(samples: list):
    """Stack a list of samples into a batch, as PyTorch's default collate does.

    Tensors, arrays and numbers become one Tensor with a new first dimension (Python numbers follow
    ndgrad's dtype rules: ints -> int64, floats -> float32); tuples and lists of them become a list
    of such Tensors (a namedtuple, the same namedtuple of them), dicts a dict; strings are kept as a list.
    """
    if not samples:
        raise ValueError("collate: no samples to collate")
    first = samples[0]
    if isinstance(first, (ag.Tensor, np.ndarray, np.generic, numbers.Number)):
        arrays = [np.asarray(s.numpy() if isinstance(s, ag.Tensor) else s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"collate: samples have different shapes {sorted(shapes)}; they must match "
                             "to be stacked into a batch (pass a collate_fn to batch them otherwise)")
        if isinstance(first, (ag.Tensor, np.ndarray, np.generic)):
            return ag.from_numpy(np.stack(arrays))
        return ag.tensor(samples)
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("collate: samples are sequences of different lengths "
                             f"{sorted({len(s) for s in samples})}")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields  # a namedtuple stays one
    raise TypeError(f"collate: don't know how to batch samples of type {type(first).__name__}; "
                    "return Tensors, arrays, numbers, or tuples/lists/dicts of them, or pass a collate_fn")


def default_convert(sample):
    """A sample with its NumPy arrays (not of strings) made Tensors, through tuples, lists and dicts, and
    nothing stacked: what a DataLoader with batch_size=None yields. As torch's default_convert."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "USO":
        return ag.from_numpy(sample)
    if isinstance(sample, dict):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (tuple, list)):
        return [default_convert(value) for value in sample] if isinstance(sample, list) else tuple(
            default_convert(value) for value in sample)
    return sample


def fetch_batch(dataset, indices):
    """The batch of `dataset`'s samples at `indices`, by its `get_batch` if it has one."""
    get_batch = getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return get_batch(indices)
    return collate_samples(dataset, indices)


def collate_samples(dataset, indices):
    """The batch at `indices` the slow way: one `dataset[i]` per sample, then `default_collate`."""
    return default_collate([dataset[int(i)] for i in indices])


def _as_tensor(data, what):
    if isinstance(data, ag.Tensor):
        return data
    if isinstance(data, np.ndarray):
        try:
            return ag.from_numpy(data)
        except ag.DTypeError as error:  # strings, objects, dates: say which tensor, not just why
            raise ag.DTypeError(f"{what}: {error}") from None
    raise TypeError(f"{what} is a {type(data).__name__}; expected a Tensor or a numpy array")
