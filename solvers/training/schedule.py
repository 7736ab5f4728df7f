"""What a run does over its steps besides the gradient: the learning rate (warm-up, then
cosine), the step count a time budget allows (``StepPlan``) and the running average of the
weights that a run with ``ema`` ships (``Ema``)."""
from __future__ import annotations

import math
from collections import deque
from contextlib import contextmanager

import torch

from solvers.training.config import TrainConfig


def lr_at(cfg: TrainConfig, step: int, total: int | None = None) -> float:
    """Linear warm-up, then cosine down to min_lr_frac * lr at ``total`` (default cfg.steps)."""
    total = cfg.steps if total is None else total
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, total - cfg.warmup)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


class StepPlan:
    """The step count a run ends at: ``cfg.steps``, or with ``time_budget`` the steps that
    fit the budget at the step rate of the last ``window`` seconds (re-planned at every
    step; never fewer than the steps already run, never more than ``cfg.steps``)."""

    def __init__(self, cfg: TrainConfig, t_start: float, window: float = 60.0):
        self.cfg, self.t_start, self.window = cfg, t_start, window
        self.total = cfg.steps
        self.marks: deque[tuple[float, int]] = deque()

    def pause(self, seconds: float) -> None:
        """Leave ``seconds`` of non-training work out of the step rate (not out of the budget)."""
        self.marks = deque((t + seconds, s) for t, s in self.marks)

    def update(self, step: int, now: float) -> int:
        if not self.cfg.time_budget:
            return self.total
        self.marks.append((now, step))
        while len(self.marks) > 2 and now - self.marks[1][0] >= self.window:
            self.marks.popleft()
        left = 60 * self.cfg.time_budget - (now - self.t_start)
        if left <= 0:
            self.total = step
        elif len(self.marks) >= 2:
            (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
            fit = step + int(left * (s1 - s0) / max(t1 - t0, 1e-9))
            self.total = max(step, min(self.cfg.steps, fit))
        return self.total


class Ema:
    """An exponential moving average of a model's floating-point weights and buffers: after
    each optimiser step, avg <- decay * avg + (1 - decay) * weights. It starts at the
    weights it is given (with ``--init``, the parent's), with no warm-up of the decay: a
    stage continues a trained model, so the parent is a fair first average."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.avg = {k: v.detach().clone() for k, v in model.state_dict().items() if v.dtype.is_floating_point}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        now = model.state_dict()
        torch._foreach_lerp_(list(self.avg.values()), [now[k].detach() for k in self.avg], 1.0 - self.decay)

    @contextmanager
    def applied(self, model: torch.nn.Module):
        """The model holds the average inside the block and its own weights again after it."""
        own = {k: v.detach().clone() for k, v in model.state_dict().items() if k in self.avg}
        model.load_state_dict(self.avg, strict=False)
        try:
            yield model
        finally:
            model.load_state_dict(own, strict=False)

    def state_dict(self) -> dict:
        return dict(self.avg)

    def load_state_dict(self, state: dict) -> None:
        if set(state) != set(self.avg):
            raise KeyError("the saved average holds other weights than this model's")
        self.avg = {k: v.detach().clone().to(self.avg[k].device) for k, v in state.items()}
