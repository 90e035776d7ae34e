"""SGD with momentum, dampening, Nesterov momentum and (coupled) weight decay, as torch.optim.SGD.

    g = grad (negated if maximize) + weight_decay * p
    buf = g                                          on the first step (no dampening applied)
    buf = momentum * buf + (1 - dampening) * g       afterwards
    g = g + momentum * buf  if nesterov else  buf
    p = p - lr * g
"""
import numpy as np

import autograd as ag

from .optimizer import Optimizer, check_number


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum: `torch.optim.SGD`.

    Arguments:
        params: `model.parameters()`, or a list of dicts (parameter groups with their own options).
        lr: the learning rate.
        momentum: the momentum factor (0: plain SGD).
        dampening: damps the gradient's share of the momentum buffer.
        weight_decay: L2 penalty, added to the gradient as `weight_decay * p`.
        nesterov: Nesterov momentum (needs momentum > 0 and no dampening).
        maximize: ascend instead of descend.

    `foreach`, `fused` are accepted so PyTorch code runs (NumPy has one code path).
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        # foreach / fused / differentiable are accepted so PyTorch code runs; NumPy has one code path.
        if differentiable:
            raise ValueError("SGD: differentiable=True is not supported (updates are done in NumPy)")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("SGD", "learning rate (lr)", group["lr"])
        check_number("SGD", "momentum", group["momentum"])
        check_number("SGD", "weight_decay", group["weight_decay"])
        check_number("SGD", "dampening", group["dampening"], low=-np.inf)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def step(self, closure=None):
        """Update every parameter that has a `.grad` by one step of the rule in this module's docstring.
        `closure`, if given, re-evaluates the model and returns the loss, which `step` returns.
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            for p, data, g in self._with_grads(group):
                if weight_decay != 0:
                    g = g + weight_decay * data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, dtype=data.dtype, copy=True)
                    else:
                        buf *= momentum
                        if dampening == 0:
                            buf += g
                        else:
                            ag.add_scaled_(buf, 1 - dampening, g)
                    g = g + momentum * buf if nesterov else buf
                # One pass, on NumPy's own BLAS (scipy's axpy would be a second OpenBLAS, whose worker
                # threads spin against NumPy's after each call: 2-thread steps 5-10x slower).
                ag.add_scaled_(data, -lr, g)
        return loss
