"""ndgrad versions of the benchmark models, written as a PyTorch user would after swapping imports
(`torch` -> `autograd`, `torch.nn` -> `nn`, `torch.optim` -> `nn.optim`).

Importing this module raises ImportError when autograd or nn is missing; the harness then skips it.
"""
import numpy as np

import autograd as ag
import nn
import nn.functional as F

from . import models, workloads

NAME = "ndgrad"
DESCRIPTION = "ndgrad (autograd + nn)"


def version():
    try:
        from importlib.metadata import version as dist_version
        return f"ndgrad {dist_version('ndgrad')}"
    except Exception:
        return "ndgrad (working tree)"


def set_threads(n):
    ag.set_num_threads(n)


def get_threads():
    return ag.get_num_threads()


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
    model = models.cifar_cnn(ag, nn, params)
    optimizer = nn.optim.SGD(model.parameters(), lr=lr, momentum=workloads.CIFAR_MOMENTUM)
    return _training_step(model, x, y, optimizer)


def gpt_step(params, tokens, targets, lr=workloads.GPT_LR):
    model = models.gpt(ag, nn, params)
    optimizer = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=workloads.GPT_WEIGHT_DECAY)
    return _training_step(model, tokens, np.reshape(targets, -1), optimizer)
