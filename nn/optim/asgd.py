"""Averaged SGD (Polyak & Juditsky, 1992), as torch.optim.ASGD: SGD with a decaying step size, and a
running average of the parameters (`state['ax']`) that starts after t0 steps.

    g = grad (negated if maximize) + weight_decay * p
    p = p * (1 - lambd * eta) - eta * g
    ax = p while mu == 1, else ax + mu * (p - ax)
    eta = lr / (1 + lambd * lr * t)**alpha;  mu = 1 / max(1, t - t0)
"""
import numpy as np

from .optimizer import Optimizer, check_number


class ASGD(Optimizer):
    """`torch.optim.ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0)`; the averaged
    parameters are `optimizer.state[p]['ax']`."""
    _arrays_in_state = True

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        if differentiable:
            raise ValueError("ASGD: differentiable=True is not supported (updates are done in NumPy)")
        check_number("ASGD", "learning rate (lr)", lr)
        check_number("ASGD", "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state.update(step=0, eta=float(np.float32(lr)), mu=1.0, ax=np.zeros_like(data))
                state["step"] += 1
                step = state["step"]
                if weight_decay != 0:
                    g = g + weight_decay * data
                eta = state["eta"]
                data *= 1 - lambd * eta
                data -= data.dtype.type(eta) * g
                if state["mu"] != 1:
                    state["ax"] += data.dtype.type(state["mu"]) * (data - state["ax"])
                else:
                    state["ax"][...] = data
                # torch keeps eta and mu in float32 (scalar-dtype) tensors
                state["eta"] = float(np.float32(lr / ((1 + lambd * lr * step) ** alpha)))
                state["mu"] = float(np.float32(1 / max(1, step - t0)))
        return loss
