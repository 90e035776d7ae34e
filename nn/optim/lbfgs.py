"""L-BFGS (Nocedal, 1980) with an optional strong-Wolfe line search, as torch.optim.LBFGS.

`step(closure)` runs up to `max_iter` iterations, re-evaluating the loss through `closure` (which
zeroes the gradients, computes the loss, calls backward and returns the loss). Each iteration:

    d = -H g         H: the inverse Hessian estimate from the last `history_size` pairs
                     (s = t d, y = g_new - g_old, kept only when y.s > 1e-10), by the two-loop
                     recursion, scaled by y.s / y.y of the newest pair
    t = lr           (min(1, 1 / sum|g|) * lr on the very first iteration)
    p = p + t d      or, with line_search_fn='strong_wolfe', p + t d for a t found by the
                     bracketing and zoom search of Nocedal & Wright (Algorithms 3.5 and 3.6)

and stops early when max|g| <= tolerance_grad, the directional derivative g.d > -tolerance_change,
the step max|t d| or the change in loss falls below tolerance_change, or after `max_eval`
evaluations. The work is on one flat vector holding every parameter.

The scalars follow PyTorch's dtypes: values derived from the flat vectors are NumPy scalars of the
parameters' dtype and the losses are Python floats, so with NumPy's promotion rules (NEP 50) a
float32 problem computes its step sizes in float32, as PyTorch does with 0-d tensors.

All of the state is global; as in PyTorch it is kept as the state of the first parameter:
func_evals, n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, al.
"""
from copy import deepcopy

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, check_number, param_data

LINE_SEARCHES = (None, "strong_wolfe")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
    `bounds` (by default [min(x1, x2), max(x1, x2)]); their midpoint when the cubic has none."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, low), high)


class _Bracket:
    """The search interval of the line search: step sizes with their loss, gradient and slope."""

    def __init__(self, points):
        self.t, self.f, self.g, self.gtd = (list(values) for values in zip(*points))

    def low_high(self):
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)

    def set(self, i, t, f, g, gtd):
        self.t[i], self.f[i], self.g[i], self.gtd[i] = t, f, g, gtd


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step t along d meeting the strong Wolfe conditions: sufficient decrease
    f(t) <= f + c1 t gtd and |f'(t)| <= c2 |gtd|. Returns (loss, flat gradient, t, evaluations)."""
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evaluations = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    # Bracketing: grow t until an interval is known to hold an acceptable step.
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = _Bracket([(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)])
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = _Bracket([(t, f_new, g_new, None)])
            done = True
            break
        if gtd_new >= 0:
            bracket = _Bracket([(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)])
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = _Bracket([(0, f, g, None), (t, f_new, g_new, None)])

    # Zoom: shrink the interval until its low end meets the conditions.
    insufficient_progress = False
    low, high = bracket.low_high()
    while not done and ls_iter < max_ls:
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket.t[0], bracket.f[0], bracket.gtd[0], bracket.t[1], bracket.f[1],
                               bracket.gtd[1])
        # A trial point close to an end makes little progress: then move it a tenth of the interval in.
        top, bottom = max(bracket.t), min(bracket.t)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket.f[low]:
            bracket.set(high, t, f_new, g_new, gtd_new)
            low, high = bracket.low_high()
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket.t[high] - bracket.t[low]) >= 0:
                bracket.set(high, bracket.t[low], bracket.f[low], bracket.g[low], bracket.gtd[low])
            bracket.set(low, t, f_new, g_new, gtd_new)
    return bracket.f[low], bracket.g[low], bracket.t[low], evaluations


class LBFGS(Optimizer):
    """L-BFGS, a quasi-Newton method; `step(closure)` needs a closure that re-evaluates the loss
    (see the module docstring): `torch.optim.LBFGS`.

    Arguments:
        params: `model.parameters()` (one parameter group, as PyTorch).
        lr: the step length (or the line search's first trial step).
        max_iter: iterations per `step` call.
        max_eval: loss evaluations per `step` call (default max_iter * 5 // 4).
        tolerance_grad: stop when the largest gradient entry is at most this.
        tolerance_change: stop when the step or the change in loss is below this.
        history_size: how many update pairs the inverse Hessian estimate keeps.
        line_search_fn: None (fixed step lr) or 'strong_wolfe'.
    """
    _arrays_in_state = True
    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("LBFGS", "learning rate (lr)", group["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"LBFGS: {name} must be a positive int, got {value!r}")
        check_number("LBFGS", "tolerance_grad", group["tolerance_grad"])
        check_number("LBFGS", "tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in LINE_SEARCHES:
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe' (the only line search "
                             f"supported), got {group['line_search_fn']!r}")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- the parameters as one flat vector --------------------------------------------------------
    @property
    def _params(self):
        return self.param_groups[0]["params"]  # the one group (load_state_dict replaces it)

    def _gather_flat_grad(self):
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None
                               else p.grad.numpy().reshape(-1).astype(p.dtype, copy=False) for p in self._params])

    def _add_grad(self, step_size, update):
        """p += step_size * (p's slice of `update`), for every parameter."""
        offset = 0
        for p in self._params:
            data = param_data(p)
            piece = update[offset:offset + data.size].reshape(data.shape)
            data += data.dtype.type(step_size) * piece
            offset += data.size

    def _clone_params(self):
        return [np.array(p.numpy(), copy=True) for p in self._params]

    def _set_params(self, saved):
        for p, data in zip(self._params, saved):
            np.copyto(param_data(p), data)

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are left at x."""
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    def step(self, closure=None):
        """Up to max_iter L-BFGS iterations; returns the loss the first call of `closure` gave."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step needs a closure: a function that clears the gradients, computes the "
                            "loss, calls loss.backward() and returns the loss")
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep only pairs that keep the estimate positive definite
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                # Two-loop recursion: d = -H g.
                al = state.setdefault("al", [None] * history_size)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += q.dtype.type(-al[i]) * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += r.dtype.type(al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            evaluations = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = self._clone_params()
                loss, flat_grad, t, evaluations = _strong_wolfe(
                    lambda step: self._directional_evaluate(closure, x_init, step, d), t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                optimal = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:  # no use evaluating after the last fixed step
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    optimal = np.abs(flat_grad).max() <= tolerance_grad
                    evaluations = 1
            current_evals += evaluations
            state["func_evals"] += evaluations

            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # no progress

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def load_state_dict(self, state_dict):
        """As Optimizer's, but the state (flat vectors, lists of them, scalars) is copied whole: its
        arrays have the length of all parameters together, not one parameter's shape."""
        state_dict = dict(state_dict)
        saved_state = state_dict["state"] if isinstance(state_dict.get("state"), dict) else {}
        state_dict["state"] = {}
        super().load_state_dict(state_dict)
        for key, values in saved_state.items():
            key = int(key) if isinstance(key, str) and key.isdigit() else key
            if key == 0:
                self.state[self._params[0]] = {name: _owned(value) for name, value in values.items()}
            else:
                self.state[key] = values



def _owned(value):
    """A deep copy of a loaded state value with Tensors turned back into NumPy arrays."""
    if isinstance(value, Tensor):
        return np.array(value.numpy(), copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_owned(v) for v in value)
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return deepcopy(value)
