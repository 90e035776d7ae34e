"""The CIFAR-size CNN and the small GPT, written once for PyTorch and ndgrad.

ndgrad keeps PyTorch's names, so one source serves both: each builder takes the library's modules,
`(torch, torch.nn)` or `(autograd, nn)`, and the weights of `workloads.py` as NumPy arrays.
The GPT is nanoGPT's model (its CausalSelfAttention written by hand from Linear, matmul,
masked_fill and softmax, as nanoGPT does without flash attention), minus dropout and weight
tying; it returns the logits flattened to (batch * context, vocabulary), as nanoGPT flattens them
before its loss.
"""
import math

import numpy as np

from . import workloads


def cifar_cnn(lib, nn, params):
    """conv3x3 (no bias) - BatchNorm - ReLU blocks, max-pools after CIFAR_POOL_AFTER, linear head."""
    def load(module, state, strict=True):
        module.load_state_dict({name: lib.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()},
                               strict=strict)
        return module

    layers, c_in = [], workloads.CIFAR_IMAGE[0]
    for i, c_out in enumerate(workloads.CIFAR_CHANNELS):
        layers += [load(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), {"weight": params[f"conv{i}_w"]}),
                   # strict=False: the running statistics keep their defaults
                   load(nn.BatchNorm2d(c_out), {"weight": params[f"bn{i}_w"], "bias": params[f"bn{i}_b"]},
                        strict=False),
                   nn.ReLU()]
        if i in workloads.CIFAR_POOL_AFTER:
            layers.append(nn.MaxPool2d(2))
        c_in = c_out
    head = nn.Linear(params["fc_w"].shape[1], params["fc_w"].shape[0])
    return nn.Sequential(*layers, nn.Flatten(), load(head, {"weight": params["fc_w"], "bias": params["fc_b"]}))


def gpt(lib, nn, params, vocab=workloads.GPT_VOCAB, context=workloads.GPT_CONTEXT, width=workloads.GPT_WIDTH,
        heads=workloads.GPT_HEADS, layers=workloads.GPT_LAYERS):
    F = nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(width, 3 * width)
            self.c_proj = nn.Linear(width, width)
            self.register_buffer("future", lib.from_numpy(np.triu(np.ones((context, context), bool), k=1)),
                                 persistent=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            att = lib.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(C // heads))
            att = F.softmax(att.masked_fill(self.future[:T, :T], float("-inf")), dim=-1)
            out = lib.matmul(att, v).transpose(1, 2).reshape(B, T, C)
            return self.c_proj(out)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential()
            self.mlp.c_fc = nn.Linear(width, 4 * width)
            self.mlp.gelu = nn.GELU()
            self.mlp.c_proj = nn.Linear(4 * width, width)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, width)
            self.wpe = nn.Embedding(context, width)
            self.h = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(width)
            self.lm_head = nn.Linear(width, vocab, bias=False)

        def forward(self, tokens):
            x = self.wte(tokens) + self.wpe(lib.arange(tokens.shape[1]))
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return logits.view(-1, logits.shape[-1])

    model = GPT()
    model.load_state_dict({name: lib.from_numpy(np.ascontiguousarray(value)) for name, value in params.items()})
    return model
