"""PyTorch CPU eager versions of the benchmark models, written the way a PyTorch user would.

Importing this module raises ImportError when torch is missing; the harness then skips it.
"""
import math

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

from . import workloads

NAME = "torch"
DESCRIPTION = "PyTorch CPU eager"
TRACEMALLOC_SEES_ALLOCATIONS = False     # torch's CPU allocator does not report to tracemalloc


def version():
    return f"torch {torch.__version__}"


def set_threads(n):
    torch.set_num_threads(n)


def get_threads():
    return torch.get_num_threads()


def _load(module, weight, bias):
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
        module.bias.copy_(torch.from_numpy(np.ascontiguousarray(bias)))
    return module


def _training_step(model, x, y, optimizer):
    inputs = torch.from_numpy(np.array(x))  # float32 images or int64 tokens
    targets = torch.from_numpy(np.array(y, dtype=np.int64))

    def step():
        optimizer.zero_grad()
        loss = TF.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step


def mlp_step(params, x, y, lr=workloads.LEARNING_RATE):
    n_layers = len(params) // 2
    layers = []
    for i in range(1, n_layers + 1):
        w, b = params[f"w{i}"], params[f"b{i}"]
        layers.append(_load(tnn.Linear(w.shape[1], w.shape[0]), w, b))
        if i < n_layers:
            layers.append(tnn.ReLU())
    model = tnn.Sequential(*layers)
    return _training_step(model, x, y, torch.optim.SGD(model.parameters(), lr=lr))


def cnn_step(params, x, y, lr=workloads.LEARNING_RATE):
    c0, c1, c2 = workloads.CNN_CHANNELS
    k = workloads.CNN_KERNEL
    model = tnn.Sequential(
        _load(tnn.Conv2d(c0, c1, k, padding=1), params["conv1_w"], params["conv1_b"]),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        _load(tnn.Conv2d(c1, c2, k, padding=1), params["conv2_w"], params["conv2_b"]),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        _load(tnn.Linear(params["fc_w"].shape[1], params["fc_w"].shape[0]), params["fc_w"], params["fc_b"]),
    )
    return _training_step(model, x, y, torch.optim.SGD(model.parameters(), lr=lr))


def chain(n, x0):
    """`forward()` runs n tiny ops and returns `backward()`, which returns d sum / d x."""
    x = torch.tensor(np.asarray(x0, dtype=np.float32), requires_grad=True)
    ops = [workloads.chain_op(i) for i in range(n)]
    mul, add = workloads.CHAIN_MUL, workloads.CHAIN_ADD

    def forward():
        y = x
        for op in ops:
            if op == "mul":
                y = y * mul
            elif op == "add":
                y = y + add
            else:
                y = torch.tanh(y)

        def backward():
            x.grad = None
            y.sum().backward()
            return x.grad.numpy()

        return backward

    return forward


def cifar_cnn_step(params, x, y, lr=workloads.CIFAR_LR):
    layers, c_in = [], workloads.CIFAR_IMAGE[0]
    for i, c_out in enumerate(workloads.CIFAR_CHANNELS):
        conv = tnn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        norm = tnn.BatchNorm2d(c_out)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(params[f"conv{i}_w"]))
            norm.weight.copy_(torch.from_numpy(params[f"bn{i}_w"]))
            norm.bias.copy_(torch.from_numpy(params[f"bn{i}_b"]))
        layers += [conv, norm, tnn.ReLU()]
        if i in workloads.CIFAR_POOL_AFTER:
            layers.append(tnn.MaxPool2d(2))
        c_in = c_out
    head = _load(tnn.Linear(params["fc_w"].shape[1], params["fc_w"].shape[0]), params["fc_w"], params["fc_b"])
    model = tnn.Sequential(*layers, tnn.Flatten(), head)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=workloads.CIFAR_MOMENTUM)
    return _training_step(model, x, y, optimizer)


class CausalSelfAttention(tnn.Module):
    """nanoGPT's attention as its model.py writes it without flash attention."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.c_attn = tnn.Linear(width, 3 * width)
        self.c_proj = tnn.Linear(width, width)
        self.register_buffer("future", torch.ones(context, context, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))
        att = TF.softmax(att.masked_fill(self.future[:T, :T], float("-inf")), dim=-1)
        out = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(out)


class Block(tnn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, context)
        self.ln_2 = tnn.LayerNorm(width)
        self.mlp = tnn.Sequential()
        self.mlp.c_fc = tnn.Linear(width, 4 * width)
        self.mlp.gelu = tnn.GELU()
        self.mlp.c_proj = tnn.Linear(4 * width, width)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(tnn.Module):
    def __init__(self, vocab, context, width, heads, layers):
        super().__init__()
        self.wte = tnn.Embedding(vocab, width)
        self.wpe = tnn.Embedding(context, width)
        self.h = tnn.ModuleList([Block(width, heads, context) for _ in range(layers)])
        self.ln_f = tnn.LayerNorm(width)
        self.lm_head = tnn.Linear(width, vocab, bias=False)

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return logits.view(-1, logits.shape[-1])     # (B*T, vocab), as nanoGPT flattens before its loss


def gpt_step(params, tokens, targets, lr=workloads.GPT_LR):
    model = GPT(workloads.GPT_VOCAB, workloads.GPT_CONTEXT, workloads.GPT_WIDTH, workloads.GPT_HEADS,
                workloads.GPT_LAYERS)
    state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in params.items()}
    model.load_state_dict(state)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=workloads.GPT_WEIGHT_DECAY)
    return _training_step(model, tokens, np.reshape(targets, -1), optimizer)
