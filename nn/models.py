"""The two MNIST models that `ndgrad train` trains: `mlp` and `cnn`.

Both take a batch of normalised images of shape (N, 1, 28, 28) and return (N, 10) logits.
benchmarks/train_torch_reference.py builds the same two in PyTorch, layer for layer.
"""
from . import BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential

NUM_CLASSES = 10


def mlp():
    """784-256-128-10 with ReLU."""
    return Sequential(
        Flatten(),
        Linear(28 * 28, 256), ReLU(),
        Linear(256, 128), ReLU(),
        Linear(128, NUM_CLASSES),
    )


def cnn():
    """Two conv blocks (3x3 conv, batchnorm, ReLU, 2x2 max-pool), then dropout and a dense head.

    28x28 -> conv 1->32 -> pool -> 14x14 -> conv 32->64 -> pool -> 7x7 -> 3136 -> 128 -> 10.
    The convolutions feed batchnorm, so their bias would be cancelled by its mean: they have none.
    """
    return Sequential(
        Conv2d(1, 32, 3, padding=1, bias=False), BatchNorm2d(32), ReLU(), MaxPool2d(2),
        Conv2d(32, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU(), MaxPool2d(2),
        Flatten(),
        Dropout(0.25),
        Linear(64 * 7 * 7, 128), ReLU(),
        Dropout(0.25),
        Linear(128, NUM_CLASSES),
    )


MODELS = {"mlp": mlp, "cnn": cnn}


def build_model(name):
    """A freshly initialised model by name (initialised from autograd's global generator)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]()
