"""Adadelta (Zeiler, 2012), as torch.optim.Adadelta.

    g = grad (negated if maximize) + weight_decay * p
    v = rho * v + (1 - rho) * g * g
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta * delta
    p = p - lr * delta
"""
import numpy as np

from .optimizer import Optimizer, check_number


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): step sizes from running averages of squared gradients and updates:
    `torch.optim.Adadelta`.

    Arguments:
        params: `model.parameters()`, or a list of dicts (parameter groups).
        lr: scales the update (1.0 is the paper's rule).
        rho: the decay rate of the running averages.
        eps: added inside the square roots for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: ascend instead of descend.
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if differentiable:
            raise ValueError("Adadelta: differentiable=True is not supported (updates are done in NumPy)")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("Adadelta", "learning rate (lr)", group["lr"])
        check_number("Adadelta", "rho value", group["rho"], high=1.0, high_inclusive=True)
        check_number("Adadelta", "epsilon value (eps)", group["eps"])
        check_number("Adadelta", "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        """Update every parameter that has a `.grad` by one step of the rule in this module's docstring.
        `closure`, if given, re-evaluates the model and returns the loss, which `step` returns.
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(data)
                    state["acc_delta"] = np.zeros_like(data)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * data
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]

                delta = np.multiply(g, g, dtype=data.dtype)
                delta *= 1 - rho
                square_avg *= rho
                square_avg += delta
                std = np.add(square_avg, eps)
                np.sqrt(std, out=std)
                np.add(acc_delta, eps, out=delta)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                np.multiply(delta, delta, out=std)   # std is free again: reuse it for delta**2
                std *= 1 - rho
                acc_delta *= rho
                acc_delta += std
                delta *= lr
                data -= delta
        return loss
