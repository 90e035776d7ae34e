"""RMSprop (Hinton's lecture 6e, with PyTorch's centered and momentum variants), as torch.optim.RMSprop.

    g = grad (negated if maximize) + weight_decay * p
    v = alpha * v + (1 - alpha) * g * g
    centered:  m = lerp(m, g, 1 - alpha);  avg = sqrt(v - m * m) + eps      else  avg = sqrt(v) + eps
    momentum > 0:  buf = momentum * buf + g / avg;  p = p - lr * buf        else  p = p - lr * g / avg
"""
import numpy as np

from .optimizer import Optimizer, check_number


class RMSprop(Optimizer):
    """RMSprop: the step divided by a running root mean square of the gradient: `torch.optim.RMSprop`.

    Arguments:
        params: `model.parameters()`, or a list of dicts (parameter groups).
        lr: the learning rate.
        alpha: the smoothing constant of the running mean square.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        momentum: momentum factor.
        centered: normalise by an estimate of the gradient's variance instead.
        maximize: ascend instead of descend.
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if differentiable:
            raise ValueError("RMSprop: differentiable=True is not supported (updates are done in NumPy)")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("RMSprop", "learning rate (lr)", group["lr"])
        check_number("RMSprop", "epsilon value (eps)", group["eps"])
        check_number("RMSprop", "momentum value", group["momentum"])
        check_number("RMSprop", "weight_decay value", group["weight_decay"])
        check_number("RMSprop", "alpha value", group["alpha"])

    def step(self, closure=None):
        """Update every parameter that has a `.grad` by one step of the rule in this module's docstring.
        `closure`, if given, re-evaluates the model and returns the loss, which `step` returns.
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            centered = group["centered"]
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(data)
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = np.zeros_like(data)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = np.zeros_like(data)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * data

                square_avg = state["square_avg"]
                avg = np.multiply(g, g, dtype=data.dtype)  # the one scratch array per parameter
                avg *= 1 - alpha
                square_avg *= alpha
                square_avg += avg
                if centered:
                    grad_avg = state["grad_avg"]
                    np.subtract(g, grad_avg, out=avg)
                    avg *= 1 - alpha
                    grad_avg += avg
                    np.multiply(grad_avg, grad_avg, out=avg)
                    np.subtract(square_avg, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(square_avg, out=avg)
                avg += eps
                np.divide(g, avg, out=avg)           # avg is now g / avg
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += avg
                    np.multiply(buf, lr, out=avg)
                else:
                    avg *= lr
                data -= avg
        return loss
