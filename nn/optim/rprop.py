"""Rprop (Riedmiller & Braun, 1993), as torch.optim.Rprop: each parameter entry has its own step size,
grown while its gradient keeps its sign and shrunk when it flips; only the gradient's sign is used.

    s = sign(g * g_prev):  s > 0: step *= etaplus;  s < 0: step *= etaminus (and g = 0 this step)
    step = clamp(step, step_size_min, step_size_max);  p = p - sign(g) * step;  g_prev = g
"""
import numpy as np

from .optimizer import Optimizer, check_number


class Rprop(Optimizer):
    """Resilient backpropagation: `torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))`.
    Meant for full-batch training (the sign of a mini-batch gradient is noisy)."""
    _arrays_in_state = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        if differentiable:
            raise ValueError("Rprop: differentiable=True is not supported (updates are done in NumPy)")
        check_number("Rprop", "learning rate (lr)", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: invalid eta values: {etas[0]}, {etas[1]} (need 0 < etaminus < 1 < etaplus)")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state.update(step=0, prev=np.zeros_like(data), step_size=np.full_like(data, group["lr"]))
                state["step"] += 1
                sign = np.sign(g * state["prev"]).astype(data.dtype)
                factor = np.where(sign > 0, data.dtype.type(etaplus), np.where(sign < 0, data.dtype.type(etaminus),
                                                                                 data.dtype.type(1)))
                step_size = state["step_size"]
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = np.where(sign < 0, 0, g).astype(data.dtype)
                data -= np.sign(g) * step_size
                state["prev"][...] = g
        return loss
