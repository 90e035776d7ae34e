"""Adam and AdamW, as torch.optim.Adam / AdamW (the single-tensor CPU path, op for op).

    g = grad (negated if maximize)
    AdamW (decoupled):  p = p * (1 - lr * weight_decay)      Adam:  g = g + weight_decay * p
    m = lerp(m, g, 1 - beta1) = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    amsgrad:  v_max = max(v_max, v), used below in place of v
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
"""
import numpy as np

import autograd as ag

from .optimizer import Optimizer, check_number


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter step sizes from running moments of the gradient:
    `torch.optim.Adam`.

    Arguments:
        params: `model.parameters()`, or a list of dicts (parameter groups).
        lr: the learning rate.
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient (decoupled in `AdamW`).
        amsgrad: use the maximum of past second moments (AMSGrad).
        maximize: ascend instead of descend.
        decoupled_weight_decay: weight decay as AdamW's.
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if differentiable:
            raise ValueError(f"{type(self).__name__}: differentiable=True is not supported (updates are done in NumPy)")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        check_number(name, "learning rate (lr)", group["lr"])
        check_number(name, "epsilon value (eps)", group["eps"])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_number(name, "beta parameter at index 0 (betas[0])", betas[0], high=1.0)
        check_number(name, "beta parameter at index 1 (betas[1])", betas[1], high=1.0)
        check_number(name, "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        """Update every parameter that has a `.grad` by one step of the rule in this module's docstring.
        `closure`, if given, re-evaluates the model and returns the loss, which `step` returns.
        """
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(data)
                    state["exp_avg_sq"] = np.zeros_like(data)
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(data)
                state["step"] += 1
                step = state["step"]
                if weight_decay != 0:
                    if decoupled:
                        data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * data
                exp_avg, exp_avg_sq, work = _adam_moments(state, data, g, beta1, beta2)

                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                if amsgrad:
                    max_exp_avg_sq = state["max_exp_avg_sq"]
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    np.sqrt(max_exp_avg_sq, out=work)
                else:
                    np.sqrt(exp_avg_sq, out=work)
                work /= bias_correction2_sqrt
                work += eps                          # work is now the denominator
                np.divide(exp_avg, work, out=work)
                ag.add_scaled_(data, -step_size, work)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay shrinks the parameters
    directly instead of entering the moment estimates."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW is always decoupled, whatever the file says
            group["decoupled_weight_decay"] = True


def _adam_moments(state, data, g, beta1, beta2):
    """Advance the first and second moments in place, as Adam does; returns them and the scratch array
    that made them (the one per parameter, free for the caller)."""
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    work = np.subtract(g, exp_avg, dtype=data.dtype)
    ag.add_scaled_(exp_avg, 1 - beta1, work)
    np.multiply(g, g, out=work)
    exp_avg_sq *= beta2
    ag.add_scaled_(exp_avg_sq, 1 - beta2, work)
    return exp_avg, exp_avg_sq, work


class _AdamVariant(Adam):
    """What Adamax, NAdam and RAdam share: construction, and the loop that gives each parameter with a
    gradient its state (made by `_new_state`, the step counted) and its gradient after weight decay
    (Adam's, or AdamW's where the group says decoupled_weight_decay)."""

    def __init__(self, params, defaults, differentiable):
        if differentiable:
            raise ValueError(f"{type(self).__name__}: differentiable=True is not supported (updates are done in NumPy)")
        self._check_group(defaults)
        Optimizer.__init__(self, params, defaults)

    @staticmethod
    def _new_state(data):
        return dict(step=0, exp_avg=np.zeros_like(data), exp_avg_sq=np.zeros_like(data))

    def _parameters(self):
        """(group, lr, eps, beta1, beta2, array, gradient after weight decay, state) per parameter that
        has a gradient."""
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p, data, g in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state.update(self._new_state(data))
                state["step"] += 1
                if weight_decay != 0 and group.get("decoupled_weight_decay", False):
                    data *= 1 - lr * weight_decay
                elif weight_decay != 0:
                    g = g + weight_decay * data
                yield group, lr, eps, beta1, beta2, data, g, state


class Adamax(_AdamVariant):
    """Adamax (Kingma & Ba, 2015, section 7): Adam with the infinity norm in place of the second moment:
    `torch.optim.Adamax`.

        g = grad (negated if maximize) + weight_decay * p
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), differentiable)

    @staticmethod
    def _new_state(data):
        return dict(step=0, exp_avg=np.zeros_like(data), exp_inf=np.zeros_like(data))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for _, lr, eps, beta1, beta2, data, g, state in self._parameters():
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg += (1 - beta1) * np.subtract(g, exp_avg, dtype=data.dtype)
            exp_inf *= beta2
            np.maximum(exp_inf, np.abs(g).astype(data.dtype, copy=False) + data.dtype.type(eps), out=exp_inf)
            data += data.dtype.type(-lr / (1 - beta1 ** state["step"])) * exp_avg / exp_inf
        return loss


class NAdam(_AdamVariant):
    """Adam with Nesterov momentum (Dozat, 2016), with a momentum schedule: `torch.optim.NAdam`.

        g = grad (negated if maximize), weight decay as Adam's (or AdamW's if decoupled_weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  mu_product = prod(mu_1 .. mu_t)
        m, v as Adam's;  denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom
    """
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_number("NAdam", "momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), differentiable)

    @staticmethod
    def _new_state(data):
        return dict(step=0, mu_product=1.0, exp_avg=np.zeros_like(data), exp_avg_sq=np.zeros_like(data))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group, lr, eps, beta1, beta2, data, g, state in self._parameters():
            step, momentum_decay = state["step"], float(group["momentum_decay"])
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            # torch keeps the running product in a float32 (scalar-dtype) tensor
            state["mu_product"] = float(np.float32(state["mu_product"]) * np.float32(mu))
            mu_product = state["mu_product"]
            exp_avg, exp_avg_sq, _ = _adam_moments(state, data, g, beta1, beta2)
            denom = np.sqrt(exp_avg_sq / data.dtype.type(1 - beta2 ** step))
            denom += eps
            data += data.dtype.type(-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
            data += data.dtype.type(-lr * mu_next / (1.0 - mu_product * mu_next)) * exp_avg / denom
        return loss


class RAdam(_AdamVariant):
    """Rectified Adam (Liu et al., 2019): plain momentum SGD while the variance estimate is unreliable
    (rho_t <= 5), then Adam scaled by the rectification term: `torch.optim.RAdam`.

        m, v as Adam's (weight decay as Adam's, or AdamW's if decoupled_weight_decay)
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        rho_t > 5:  p = p - lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t
                    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  p = p - lr * m / (1 - beta1**t)
    """
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize),
                         differentiable)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for _, lr, eps, beta1, beta2, data, g, state in self._parameters():
            step = state["step"]
            exp_avg, exp_avg_sq, _ = _adam_moments(state, data, g, beta1, beta2)
            bias_correction2 = 1 - beta2 ** step
            update = exp_avg / data.dtype.type(1 - beta1 ** step) * data.dtype.type(lr)
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive_lr = data.dtype.type(bias_correction2 ** 0.5) / (np.sqrt(exp_avg_sq) + eps)
                update = update * adaptive_lr * data.dtype.type(rect)
            data -= update
        return loss
