"""Weight averaging, as torch.optim.swa_utils: `AveragedModel` (stochastic weight averaging, or an
exponential moving average of the weights with `get_ema_multi_avg_fn`), the `SWALR` schedule and
`update_bn`, which recomputes batch-norm statistics for the averaged weights."""
import itertools
import math
from copy import deepcopy

import autograd as ag

from ..module import Module
from ..modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """An update of every averaged parameter towards the model's: avg += (1 - decay) (p - avg), in place."""
    _check_decay(decay)

    def ema_update(averaged, current, num_averaged):
        for p_averaged, p_model in zip(averaged, current):
            if p_averaged.is_floating_point():
                p_averaged.lerp_(p_model, 1 - decay)
            else:   # an integer buffer (with use_buffers): torch's formula, truncated
                p_averaged.copy_(p_averaged * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """An update keeping each averaged parameter the running mean of the models it was given."""
    def swa_update(averaged, current, num_averaged):
        for p_averaged, p_model in zip(averaged, current):
            if p_averaged.is_floating_point():
                p_averaged.lerp_(p_model, 1 / (int(num_averaged) + 1))
            else:   # an integer buffer (with use_buffers): the running mean, rounded down
                p_averaged.copy_(p_averaged + (p_model - p_averaged) // (int(num_averaged) + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """avg_fn(averaged, current, n) -> decay * averaged + (1 - decay) * current (one parameter)."""
    _check_decay(decay)

    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current
    return ema_update


def get_swa_avg_fn():
    """avg_fn(averaged, current, n) -> the running mean after n + 1 models (one parameter)."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters are averaged over the models passed to
    `update_parameters`: equally by default (SWA), or by `avg_fn(averaged, current, n)` per parameter
    or `multi_avg_fn(averaged_list, current_list, n)` in place (e.g. `get_ema_multi_avg_fn(0.999)`).
    Buffers are copied from the model, or averaged too with `use_buffers=True`."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ag.tensor(0, dtype=ag.int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model) -> None:
        """Average `model`'s parameters (and buffers with use_buffers) into this model's."""
        def tensors(of):
            return itertools.chain(of.parameters(), of.buffers()) if self.use_buffers else of.parameters()

        mine = [p.detach() for p in (tensors(self.module) if self.use_buffers else self.parameters())]
        theirs = [p.detach() for p in tensors(model)]
        count = int(self.n_averaged.item())
        with ag.no_grad():
            if count == 0:
                for p_averaged, p_model in zip(mine, theirs):
                    p_averaged.copy_(p_model)
            elif self.avg_fn is not None:
                for p_averaged, p_model in zip(mine, theirs):
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, self.n_averaged))
            else:
                (self.multi_avg_fn or get_swa_multi_avg_fn())(mine, theirs, self.n_averaged)
            if not self.use_buffers:
                for b_averaged, b_model in zip(self.module.buffers(), model.buffers()):
                    b_averaged.copy_(b_model.detach())
            self.n_averaged += 1


def update_bn(loader, model, device=None) -> None:
    """Recompute the running statistics of every batch norm of `model` over one pass of `loader`
    (batches, or tuples whose first element is the input), as a cumulative average."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with ag.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to `swa_lr` over `anneal_epochs` epochs ('cos' or 'linear'), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_per_group("SWALR", "swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in self.optimizer.param_groups]
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

