"""What every implementation computes: model shapes, initial weights, data and the tiny-op chain.

Weights are drawn once here, with PyTorch's default initialisation (U(-1/sqrt(fan_in), 1/sqrt(fan_in))
for both weights and biases of Linear and Conv2d), and handed to each implementation as float32
NumPy arrays in PyTorch's layout (Linear: (out, in); Conv2d: (out, in, kh, kw)). Each
implementation copies them into its own storage, so all of them start from the same point.
"""
import numpy as np

MLP_SIZES = (784, 256, 128, 10)
MLP_BATCH = 128
SWEEP_BATCHES = (16, 32, 64, 128, 256, 512, 1024)
MEMORY_BATCH = 1024

# conv 3x3 1->8 pad 1, ReLU, max-pool 2, conv 3x3 8->16 pad 1, ReLU, max-pool 2, flatten, linear 784->10
CNN_CHANNELS = (1, 8, 16)
CNN_IMAGE = 28
CNN_KERNEL = 3
CNN_CLASSES = 10
CNN_BATCH = 64

LEARNING_RATE = 0.1
NUM_CLASSES = 10

# The tiny-op chain cycles through these three ops on a 4-element tensor.
CHAIN_OPS = ("mul", "add", "tanh")
CHAIN_MUL = 1.0001
CHAIN_ADD = 0.001
CHAIN_WIDTH = 4
OVERHEAD_CHAIN = 1_000
DEEP_CHAINS = (1_000, 10_000, 100_000)


def _uniform(rng, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def mlp_params(seed=0, sizes=MLP_SIZES):
    """{'w1', 'b1', 'w2', 'b2', ...}: Linear weights as (out, in), biases as (out,)."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"w{i}"] = _uniform(rng, (fan_out, fan_in), fan_in)
        params[f"b{i}"] = _uniform(rng, (fan_out,), fan_in)
    return params


def cnn_feature_size():
    """Length of the flattened output of the two conv/pool stages (16 * 7 * 7 = 784)."""
    side = CNN_IMAGE // 4
    return CNN_CHANNELS[-1] * side * side


def cnn_params(seed=0):
    """{'conv1_w', 'conv1_b', 'conv2_w', 'conv2_b', 'fc_w', 'fc_b'} in PyTorch's layout (NCHW flatten)."""
    rng = np.random.default_rng(seed)
    params = {}
    k = CNN_KERNEL
    for i, (c_in, c_out) in enumerate(zip(CNN_CHANNELS[:-1], CNN_CHANNELS[1:]), start=1):
        fan_in = c_in * k * k
        params[f"conv{i}_w"] = _uniform(rng, (c_out, c_in, k, k), fan_in)
        params[f"conv{i}_b"] = _uniform(rng, (c_out,), fan_in)
    features = cnn_feature_size()
    params["fc_w"] = _uniform(rng, (CNN_CLASSES, features), features)
    params["fc_b"] = _uniform(rng, (CNN_CLASSES,), features)
    return params


def mlp_batch(batch, seed=1):
    """(x, y): x float32 (batch, 784) in [0, 1) like scaled MNIST pixels, y int64 class indices."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, MLP_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=batch, dtype=np.int64)
    return x, y


def cnn_batch(batch, seed=2):
    """(x, y): x float32 (batch, 1, 28, 28) in [0, 1), y int64 class indices."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, CNN_CHANNELS[0], CNN_IMAGE, CNN_IMAGE), dtype=np.float32)
    y = rng.integers(0, CNN_CLASSES, size=batch, dtype=np.int64)
    return x, y


def chain_input(seed=3):
    """The 4-element float32 input of the tiny-op chain."""
    return np.random.default_rng(seed).uniform(-0.5, 0.5, size=CHAIN_WIDTH).astype(np.float32)


def chain_op(i):
    """Name of the i-th op of the chain."""
    return CHAIN_OPS[i % len(CHAIN_OPS)]
