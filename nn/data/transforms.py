"""Transforms for datasets' `transform=` / `target_transform=`, and `one_hot`.

A transform maps one sample to a Tensor. The ones here are `batchable`: they broadcast, so the
same call maps a whole batch (samples stacked on a new first axis) to the batch of the mapped
samples. Array-backed datasets such as MNIST use that to transform a batch at once; a transform
without `batchable = True` (any plain function) is applied sample by sample, which gives the same
batches, only slower.

Statistics are fitted on training data and then applied unchanged to every split:

    train, test = nn.data.MNIST(train=True), nn.data.MNIST(train=False)
    standardize = Standardize().fit(train)      # before setting it: the images as a transform sees them
    train.transform = test.transform = standardize
"""
import numpy as np

import autograd as ag

from .dataset import fetch_batch


class Transform:
    """Base class: `__call__(sample) -> Tensor`, and `batchable` says it maps batches too."""

    batchable = True

    def __call__(self, x):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


def is_batchable(transform):
    """Whether `transform` (None meaning none) can be applied to a whole batch at once."""
    return transform is None or getattr(transform, "batchable", False)


class Compose(Transform):
    """Apply `transforms` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    @property
    def batchable(self):
        return all(is_batchable(t) for t in self.transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


class ToTensor(Transform):
    """A Tensor from an array or number; uint8 arrays are scaled to float32 in [0, 1].

    Tensors pass through unchanged: ndgrad's datasets already hand transforms ToTensor-style images
    (MNIST's are float32 (1, 28, 28) in [0, 1]), so a torchvision pipeline that begins with
    `ToTensor()` runs as it is. Unlike torchvision's, no axes are moved.
    """

    def __call__(self, x):
        if isinstance(x, ag.Tensor):
            return x
        array = np.asarray(x)
        if array.dtype == np.uint8:
            return ag.from_numpy(array.astype(np.float32) / np.float32(255))
        return ag.tensor(array)


class Standardize(Transform):
    """(x - mean) / std with statistics fitted on training data: `Standardize().fit(X)`.

    `fit(X)` averages over `axis` of X (the samples on axis 0; by default only those, so every
    feature, e.g. every pixel, gets its own mean and std; `axis=(0, 2, 3)` on images gives one per
    channel). Features with zero spread (MNIST's always-black border) are only centred, not divided
    by zero. The statistics broadcast against one sample or a batch alike. Give `mean` and `std` to
    skip fitting. The result is float32 unless the input is float64.
    """

    def __init__(self, mean=None, std=None, axis=0, with_std=True):
        axis = tuple(np.atleast_1d(axis).tolist())
        if 0 not in axis:
            raise ValueError(f"{type(self).__name__}: axis must include 0, the sample axis; got {axis}")
        self.axis = axis
        self.with_std = with_std
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = None if std is None else np.asarray(std, dtype=np.float64)

    def fit(self, data):
        """Fit on `data`: an array or Tensor of samples stacked on axis 0, or a dataset (whose samples'
        first fields are used, as its DataLoader would batch them). Returns self."""
        X = _samples_array(data)
        if X.ndim <= max(self.axis):
            raise ValueError(f"{type(self).__name__}.fit: data of shape {X.shape} has no axis {max(self.axis)}")
        if X.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.fit: no samples to fit on")
        self.mean = X.mean(axis=self.axis, dtype=np.float64, keepdims=True)[0]
        if self.with_std:
            std = X.std(axis=self.axis, dtype=np.float64, keepdims=True)[0]
            self.std = np.where(std > 0, std, 1.0)
        return self

    def __call__(self, x):
        if self.mean is None or (self.with_std and self.std is None):
            raise RuntimeError(f"{type(self).__name__} has no statistics yet: call fit(training_data) first")
        x = np.asarray(x)
        dtype = x.dtype if x.dtype == np.float64 else np.float32
        out = x.astype(dtype) - self.mean.astype(dtype)
        if self.with_std:
            out /= self.std.astype(dtype)
        return ag.from_numpy(out)

    def __repr__(self):
        fitted = "fitted" if self.mean is not None else "not fitted"
        return f"{type(self).__name__}(axis={self.axis}, {fitted})"


class MeanImageSubtraction(Standardize):
    """x - mean image of the training data: Standardize without the division by std."""

    def __init__(self, mean=None, axis=0):
        super().__init__(mean=mean, axis=axis, with_std=False)


class Normalize(Standardize):
    """(x - mean[c]) / std[c] per channel of (C, H, W) images with given statistics, as torchvision's."""

    def __init__(self, mean, std):
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if mean.ndim != 1 or mean.shape != std.shape or np.any(std <= 0):
            raise ValueError(f"Normalize: mean and std must be 1-D sequences of the same length (one per "
                             f"channel) with std > 0; got mean {mean.tolist()}, std {std.tolist()}")
        super().__init__(mean=mean[:, None, None], std=std[:, None, None])


class OneHot(Transform):
    """A target transform: class index -> one-hot int64 vector (see `one_hot`)."""

    def __init__(self, num_classes):
        self.num_classes = num_classes

    def __call__(self, labels):
        return one_hot(labels, self.num_classes)

    def __repr__(self):
        return f"OneHot(num_classes={self.num_classes})"


def one_hot(labels, num_classes=-1):
    """int64 Tensor of shape `labels.shape + (num_classes,)`, 1 at each label's index, as
    `torch.nn.functional.one_hot`. With `num_classes=-1`, it is one more than the largest label."""
    labels = np.asarray(labels.numpy() if isinstance(labels, ag.Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise ag.DTypeError(f"one_hot: labels must be integers (class indices), got dtype {labels.dtype}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer or -1, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values from "
                         f"{labels.min()} to {labels.max()}")
    return ag.from_numpy(np.eye(num_classes, dtype=np.int64)[labels])


def _samples_array(data):
    if isinstance(data, ag.Tensor):
        return data.numpy()
    if isinstance(data, np.ndarray):
        return data
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        batch = fetch_batch(data, np.arange(len(data)))
        first = batch[0] if isinstance(batch, (list, tuple)) else batch
        return np.asarray(first.numpy() if isinstance(first, ag.Tensor) else first)
    raise TypeError(f"expected an array, a Tensor or a dataset, got a {type(data).__name__}")
