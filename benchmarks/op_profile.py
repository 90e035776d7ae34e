"""Where one ndgrad train step's time goes, by phase (forward, backward, optimizer) and by op.

While `OpTimer` is active it wraps, on the classes themselves, `Function.apply` (an op's forward
with its graph recording), the `backward` of every built-in op class, `Tensor.backward` and the
`step` / `zero_grad` of every optimizer class, and restores them on exit. Only the outermost call
is timed: a backward formula runs other ops' forwards, and their time belongs to that backward,
not to those ops' forwards. Ops the engine itself runs between backwards (adding the gradients
that meet at a node, `sum_to` un-broadcasting them) are counted as 'engine'. What a phase spends outside any op (Python glue in modules, the
engine's bookkeeping) is reported as "outside ops".

The wrappers cost about a microsecond per op, so phases add up to a little more than the
unprofiled step; the split, not the total, is the point.
"""
import collections
import time

import autograd as ag
import nn
from autograd.function import Function

PHASES = ("forward", "backward", "optimizer")


def _subclasses(cls):
    seen, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


class OpTimer:
    """Context manager accumulating seconds per (phase, op, 'forward' | 'backward' | 'engine') and
    per phase."""

    def __init__(self):
        self.op_seconds = collections.Counter()     # (phase, op name, direction) -> seconds
        self.op_calls = collections.Counter()
        self.phase_seconds = collections.Counter()
        self._phase = "forward"
        self._in_op = False
        self._patched = []

    # -- wrapping ----------------------------------------------------------------------------------
    def _patch(self, owner, name, replacement):
        self._patched.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def __enter__(self):
        timer = self
        original_apply = Function.__dict__["apply"].__func__

        def apply(cls, *args, **kwargs):
            return timer._timed_op(cls.__name__, "forward", original_apply, cls, *args, **kwargs)

        self._patch(Function, "apply", classmethod(apply))
        for cls in _subclasses(Function):
            if cls.tensor_backward and "backward" in cls.__dict__:
                self._patch(cls, "backward", staticmethod(self._wrap_backward(cls.__dict__["backward"].__func__)))
        self._patch(ag.Tensor, "backward", self._wrap_phase("backward", ag.Tensor.__dict__["backward"]))
        for cls in [nn.optim.Optimizer] + _subclasses(nn.optim.Optimizer):
            for name in ("step", "zero_grad"):
                if name in cls.__dict__:
                    self._patch(cls, name, self._wrap_phase("optimizer", cls.__dict__[name]))
        return self

    def __exit__(self, *exc):
        while self._patched:
            owner, name, original = self._patched.pop()
            setattr(owner, name, original)

    def _wrap_backward(self, backward):
        def timed_backward(ctx, *grads):
            return self._timed_op(type(ctx).__name__, "backward", backward, ctx, *grads)
        return timed_backward

    def _wrap_phase(self, phase, method):
        def timed(*args, **kwargs):
            if self._phase != "forward":       # a nested call (a subclass's step calling super)
                return method(*args, **kwargs)
            self._phase = phase
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.phase_seconds[phase] += time.perf_counter() - start
                self._phase = "forward"
        return timed

    def _timed_op(self, op, direction, function, *args, **kwargs):
        if self._in_op:
            return function(*args, **kwargs)
        self._in_op = True
        start = time.perf_counter()
        if direction == "forward" and self._phase == "backward":
            direction = "engine"
        try:
            return function(*args, **kwargs)
        finally:
            key = (self._phase, op, direction)
            self.op_seconds[key] += time.perf_counter() - start
            self.op_calls[key] += 1
            self._in_op = False

    # -- one step ----------------------------------------------------------------------------------
    def run(self, step):
        """Run `step()` once, adding the time outside the backward and optimizer calls to 'forward'."""
        before = self.phase_seconds["backward"] + self.phase_seconds["optimizer"]
        start = time.perf_counter()
        step()
        total = time.perf_counter() - start
        self.phase_seconds["forward"] += total - (self.phase_seconds["backward"] + self.phase_seconds["optimizer"] - before)
        self.phase_seconds["total"] += total


def profile_ops(step, steps, warmup=3):
    """An `OpTimer` that has timed `steps` calls of `step()` (after `warmup` untimed ones)."""
    for _ in range(warmup):
        step()
    with OpTimer() as timer:
        for _ in range(steps):
            timer.run(step)
    return timer


def report(title, timer, steps, top=15):
    """Markdown: ms per step per phase, then the `top` ops by forward + backward time."""
    total = timer.phase_seconds["total"]
    per_step = lambda seconds: f"{seconds / steps * 1e3:.3f}"       # noqa: E731
    share = lambda seconds: f"{100 * seconds / total:.1f}"           # noqa: E731
    lines = [f"## {title}", "", f"{per_step(total)} ms per step with the op timers on.", "",
             "| phase | ms per step | % of step | in ops | outside ops |", "|---|---|---|---|---|"]
    for phase in PHASES:
        in_ops = sum(s for (p, _, _), s in timer.op_seconds.items() if p == phase)
        spent = timer.phase_seconds[phase]
        lines.append(f"| {phase} | {per_step(spent)} | {share(spent)} | {per_step(in_ops)} | "
                     f"{per_step(spent - in_ops)} |")
    by_op = collections.defaultdict(lambda: {"forward": 0.0, "backward": 0.0, "engine": 0.0, "calls": 0})
    for (phase, op, direction), seconds in timer.op_seconds.items():
        if phase == "optimizer":
            continue
        by_op[op][direction] += seconds
        if direction == "forward":
            by_op[op]["calls"] += timer.op_calls[(phase, op, direction)]
    def spent_on(item):
        spent = item[1]
        return spent["forward"] + spent["backward"] + spent["engine"]

    ranked = sorted(by_op.items(), key=spent_on, reverse=True)
    lines += ["", f"Top {top} ops (a backward includes the ops its formula runs; 'engine' is the op run "
              "by the engine itself to add or un-broadcast gradients):", "",
              "| op | forward calls per step | forward ms | backward ms | engine ms | % of step |",
              "|---|---|---|---|---|---|"]
    for item in ranked[:top]:
        op, spent = item
        lines.append(f"| {op} | {spent['calls'] / steps:g} | {per_step(spent['forward'])} | "
                     f"{per_step(spent['backward'])} | {per_step(spent['engine'])} | {share(spent_on(item))} |")
    return "\n".join(lines)
