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

# CIFAR-size CNN: five 3x3 conv (no bias) - BatchNorm - ReLU blocks, a 2x2 max-pool after the
# blocks listed in CIFAR_POOL_AFTER, then a linear head; SGD with momentum.
CIFAR_IMAGE = (3, 32, 32)
CIFAR_CHANNELS = (32, 32, 64, 64, 128)
CIFAR_POOL_AFTER = (1, 3, 4)          # 0-based block indices: 32x32 -> 16 -> 8 -> 4
CIFAR_BATCH = 32
CIFAR_LR = 0.01
CIFAR_MOMENTUM = 0.9

# Small GPT in nanoGPT's shape: token + position embeddings, pre-LayerNorm blocks of causal
# self-attention (one Linear to q, k, v) and an MLP with exact GELU, a final LayerNorm and an
# untied head; AdamW, no dropout.
GPT_VOCAB = 65
GPT_CONTEXT = 64
GPT_WIDTH = 128
GPT_HEADS = 4
GPT_LAYERS = 2
GPT_BATCH = 8
GPT_LR = 1e-3
GPT_WEIGHT_DECAY = 0.1

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


def cifar_feature_size():
    """Length of the flattened output of the last block (128 * 4 * 4 = 2048)."""
    side = CIFAR_IMAGE[1] // 2 ** len(CIFAR_POOL_AFTER)
    return CIFAR_CHANNELS[-1] * side * side


def cifar_cnn_params(seed=0):
    """{'conv{i}_w' (out, in, 3, 3), 'bn{i}_w', 'bn{i}_b' (out,) for each block, 'fc_w', 'fc_b'}.

    The BatchNorm affine parameters start at PyTorch's defaults (weight 1, bias 0).
    """
    rng = np.random.default_rng(seed)
    params = {}
    c_in = CIFAR_IMAGE[0]
    for i, c_out in enumerate(CIFAR_CHANNELS):
        params[f"conv{i}_w"] = _uniform(rng, (c_out, c_in, 3, 3), c_in * 9)
        params[f"bn{i}_w"] = np.ones(c_out, np.float32)
        params[f"bn{i}_b"] = np.zeros(c_out, np.float32)
        c_in = c_out
    features = cifar_feature_size()
    params["fc_w"] = _uniform(rng, (NUM_CLASSES, features), features)
    params["fc_b"] = _uniform(rng, (NUM_CLASSES,), features)
    return params


def cifar_cnn_batch(batch, seed=4):
    """(x, y): x float32 (batch, 3, 32, 32) roughly standardised pixels, y int64 class indices."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + CIFAR_IMAGE, dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=batch, dtype=np.int64)
    return x, y


def gpt_params(seed=0, vocab=GPT_VOCAB, context=GPT_CONTEXT, width=GPT_WIDTH, layers=GPT_LAYERS):
    """nanoGPT's initialisation in PyTorch's layout: weights N(0, 0.02) (the residual projections
    N(0, 0.02 / sqrt(2 * layers))), biases 0, LayerNorms weight 1 and bias 0.

    Names as in nanoGPT (without its `transformer.` prefix): 'wte.weight' (vocab, C), 'wpe.weight' (context, C); per block i 'h.{i}.ln_1.weight' ...,
    'h.{i}.attn.c_attn.weight' (3C, C), 'h.{i}.attn.c_proj.weight' (C, C), 'h.{i}.mlp.c_fc.weight'
    (4C, C), 'h.{i}.mlp.c_proj.weight' (C, 4C) with their biases; 'ln_f.*'; 'lm_head.weight' (vocab, C).
    """
    rng = np.random.default_rng(seed)

    def normal(shape, std=0.02):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def layer_norm(name):
        params[f"{name}.weight"] = np.ones(width, np.float32)
        params[f"{name}.bias"] = np.zeros(width, np.float32)

    def linear(name, fan_out, fan_in, std=0.02):
        params[f"{name}.weight"] = normal((fan_out, fan_in), std)
        params[f"{name}.bias"] = np.zeros(fan_out, np.float32)

    params = {"wte.weight": normal((vocab, width)), "wpe.weight": normal((context, width))}
    residual_std = 0.02 / np.sqrt(2 * layers)
    for i in range(layers):
        layer_norm(f"h.{i}.ln_1")
        linear(f"h.{i}.attn.c_attn", 3 * width, width)
        linear(f"h.{i}.attn.c_proj", width, width, residual_std)
        layer_norm(f"h.{i}.ln_2")
        linear(f"h.{i}.mlp.c_fc", 4 * width, width)
        linear(f"h.{i}.mlp.c_proj", width, 4 * width, residual_std)
    layer_norm("ln_f")
    params["lm_head.weight"] = normal((vocab, width))
    return params


def gpt_batch(batch, context=GPT_CONTEXT, vocab=GPT_VOCAB, seed=5):
    """(tokens, targets): int64 (batch, context) each, the targets being the next tokens."""
    rng = np.random.default_rng(seed)
    text = rng.integers(0, vocab, size=(batch, context + 1), dtype=np.int64)
    return text[:, :-1].copy(), text[:, 1:].copy()


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
