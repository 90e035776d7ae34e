"""PyTorch CPU eager versions of the benchmark models, written the way a PyTorch user would.

Importing this module raises ImportError when torch is missing; the harness then skips it.
"""
import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

from . import models, workloads

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
    model = models.cifar_cnn(torch, tnn, params)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=workloads.CIFAR_MOMENTUM)
    return _training_step(model, x, y, optimizer)


def gpt_step(params, tokens, targets, lr=workloads.GPT_LR):
    model = models.gpt(torch, tnn, params)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=workloads.GPT_WEIGHT_DECAY)
    return _training_step(model, tokens, np.reshape(targets, -1), optimizer)
