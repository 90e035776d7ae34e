"""Adagrad (Duchi et al., 2011), as torch.optim.Adagrad.

    g = grad (negated if maximize) + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)
    sum = sum + g * g                         (sum starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(sum) + eps)

As in PyTorch, every parameter's state exists from construction on, and the accumulator of a
parameter that first meets the optimizer later starts from the optimizer's default
initial_accumulator_value (not its group's).
"""
import numpy as np

from .optimizer import Optimizer, check_number


class Adagrad(Optimizer):
    """Adagrad: each parameter's step is lr divided by the root of its summed squared gradients:
    `torch.optim.Adagrad`.

    Arguments:
        params: `model.parameters()`, or a list of dicts (parameter groups with their own options).
        lr: the learning rate.
        lr_decay: the learning rate at step t is lr / (1 + (t - 1) * lr_decay).
        weight_decay: L2 penalty, added to the gradient as `weight_decay * p`.
        initial_accumulator_value: where the sums of squared gradients start.
        eps: added to the root in the denominator.
        maximize: ascend instead of descend.

    `foreach`, `fused` are accepted so PyTorch code runs (NumPy has one code path).
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if differentiable:
            raise ValueError("Adagrad: differentiable=True is not supported (updates are done in NumPy)")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _check_group(self, group):
        check_number("Adagrad", "learning rate (lr)", group["lr"])
        check_number("Adagrad", "lr_decay value", group["lr_decay"])
        check_number("Adagrad", "weight_decay value", group["weight_decay"])
        check_number("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"])
        check_number("Adagrad", "epsilon value (eps)", group["eps"])

    def _init_state(self, p):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = np.full(p.shape, self.defaults["initial_accumulator_value"], dtype=p.dtype)
        return state

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._with_grads(group):
                state = self._init_state(p)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * data
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                accumulated = state["sum"]
                update = np.multiply(g, g, dtype=data.dtype)
                accumulated += update
                std = np.sqrt(accumulated)
                std += eps
                np.multiply(g, data.dtype.type(-clr), out=update)  # PyTorch's addcdiv: p + (value * g) / std
                update /= std
                data += update
        return loss
