"""ndgrad versions of the benchmark models, written as a PyTorch user would after swapping imports
(`torch` -> `autograd`, `torch.nn` -> `nn`, `torch.optim` -> `nn.optim`).

Importing this module raises ImportError when autograd or nn is missing; the harness then skips it.
"""
import math

import numpy as np

import autograd as ag
import nn
import nn.functional as F

from . import workloads

NAME = "ndgrad"
DESCRIPTION = "ndgrad (autograd + nn)"


def version():
    try:
        from importlib.metadata import version as dist_version
        return f"ndgrad {dist_version('ndgrad')}"
    except Exception:
        return "ndgrad (working tree)"


def _load(module, weight, bias):
    module.load_state_dict({"weight": np.ascontiguousarray(weight), "bias": np.ascontiguousarray(bias)})
    return module


def _training_step(model, x, y, optimizer):
    inputs = ag.tensor(np.array(x))  # float32 images or int64 tokens
    targets = ag.tensor(np.array(y, dtype=np.int64))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _mlp_model(params):
    n_layers = len(params) // 2
    layers = []
    for i in range(1, n_layers + 1):
        w, b = params[f"w{i}"], params[f"b{i}"]
        layers.append(_load(nn.Linear(w.shape[1], w.shape[0]), w, b))
        if i < n_layers:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_step(params, x, y, lr=workloads.LEARNING_RATE):
    model = _mlp_model(params)
    return _training_step(model, x, y, nn.optim.SGD(model.parameters(), lr=lr))


def cnn_step(params, x, y, lr=workloads.LEARNING_RATE):
    c0, c1, c2 = workloads.CNN_CHANNELS
    k = workloads.CNN_KERNEL
    model = nn.Sequential(
        _load(nn.Conv2d(c0, c1, k, padding=1), params["conv1_w"], params["conv1_b"]),
        nn.ReLU(),
        nn.MaxPool2d(2),
        _load(nn.Conv2d(c1, c2, k, padding=1), params["conv2_w"], params["conv2_b"]),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        _load(nn.Linear(params["fc_w"].shape[1], params["fc_w"].shape[0]), params["fc_w"], params["fc_b"]),
    )
    return _training_step(model, x, y, nn.optim.SGD(model.parameters(), lr=lr))


def chain(n, x0):
    """`forward()` runs n tiny ops and returns `backward()`, which returns d sum / d x."""
    x = ag.tensor(np.asarray(x0, dtype=np.float32), requires_grad=True)
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
                y = ag.tanh(y)

        def backward():
            x.grad = None
            y.sum().backward()
            return x.grad.numpy()

        return backward

    return forward


def cifar_cnn_step(params, x, y, lr=workloads.CIFAR_LR):
    layers, c_in = [], workloads.CIFAR_IMAGE[0]
    for i, c_out in enumerate(workloads.CIFAR_CHANNELS):
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        conv.load_state_dict({"weight": params[f"conv{i}_w"]})
        norm = nn.BatchNorm2d(c_out)
        norm.load_state_dict({"weight": params[f"bn{i}_w"], "bias": params[f"bn{i}_b"]}, strict=False)
        layers += [conv, norm, nn.ReLU()]
        if i in workloads.CIFAR_POOL_AFTER:
            layers.append(nn.MaxPool2d(2))
        c_in = c_out
    head = _load(nn.Linear(params["fc_w"].shape[1], params["fc_w"].shape[0]), params["fc_w"], params["fc_b"])
    model = nn.Sequential(*layers, nn.Flatten(), head)
    optimizer = nn.optim.SGD(model.parameters(), lr=lr, momentum=workloads.CIFAR_MOMENTUM)
    return _training_step(model, x, y, optimizer)


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention, by hand: one Linear to q, k, v, a masked softmax, one Linear out."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.future = np.triu(np.ones((context, context), bool), k=1)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = ag.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))
        att = F.softmax(att.masked_fill(self.future[:T, :T], float("-inf")), dim=-1)
        out = ag.matmul(att, v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(out)


class Block(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, context)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.c_fc = nn.Linear(width, 4 * width)
        self.mlp.gelu = nn.GELU()
        self.mlp.c_proj = nn.Linear(4 * width, width)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, width, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList([Block(width, heads, context) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe(ag.arange(tokens.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return logits.view(-1, logits.shape[-1])     # (B*T, vocab), as nanoGPT flattens before its loss


def gpt_step(params, tokens, targets, lr=workloads.GPT_LR):
    model = GPT(workloads.GPT_VOCAB, workloads.GPT_CONTEXT, workloads.GPT_WIDTH, workloads.GPT_HEADS,
                workloads.GPT_LAYERS)
    state = {name: np.ascontiguousarray(value) for name, value in params.items()}
    model.load_state_dict(state)
    optimizer = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=workloads.GPT_WEIGHT_DECAY)
    return _training_step(model, tokens, np.reshape(targets, -1), optimizer)
