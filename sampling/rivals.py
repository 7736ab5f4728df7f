"""MDM samplers published after EB, measured beside it under the same NFE accounting.

* ``klass``: KL-adaptive stability (Kim et al. 2025, KLASS). A masked position is committed
  once its prediction is confident (top probability > ``tau``) and stable: the KL
  divergence between this pass's distribution and the previous pass's is below ``kl``.
  Where no position qualifies, the most confident one is committed (the fallback that
  keeps every pass useful). The first pass has no previous one, so it commits one position.
* ``dilated``: dilated unmasking (Luxembourg et al. 2025, DUS). A fixed, model-free
  schedule: the masked positions, in reading order, are cut into blocks of ``block``
  (0: one block of all of them), decoded block after block; within a block, pass s
  commits the positions whose bit-reversed index lies in [2^(s-1), 2^s): each pass takes
  positions spread as far from one another as the block allows, and a block of B
  positions takes ceil(log2 B) + 1 passes.
* ``remask``: remasking (P2, Peng et al. 2025; ReMDM, Wang et al. 2025). EB chooses what to
  commit, as ``eb``; before that, at each pass, a position decoded earlier whose value the
  model now gives probability below ``remask_tau`` is masked again (the
  ``remask_per_step`` least likely per pass, at most ``remask_budget`` per puzzle, never a
  given) and competes with the masked positions in this pass's EB choice. The budget bounds
  the passes: a puzzle with m masks ends within m + ``remask_budget`` of them.

Each is a selection rule (or, for ``remask``, a rule plus a remasking hook) of
``sampling.core.unmask_loop``: every forward pass counts one NFE per row, as for EB.
"""
from __future__ import annotations

import math

import torch
from pydantic import Field

from sampling.core import rank_masked, take_prefix, unmask_loop
from sampling.rules import EBOptions, _Opts, eb_select


class KLASSOptions(_Opts):
    """KL-adaptive stability (KLASS): confident and stable positions, at least the most confident."""
    tau: float = Field(0.9, gt=0, le=1, description="Confidence a position needs (top probability).")
    kl: float = Field(0.01, ge=0, description="Largest KL (nats) between this pass's and the previous "
                                              "pass's prediction for a position to count as stable.")


class DilatedOptions(_Opts):
    """Dilated unmasking (DUS): a fixed schedule of spread-out groups, ceil(log2 B) + 1 passes a block."""
    block: int = Field(0, ge=0, description="Positions per block, decoded block after block (0: one block).")


class RemaskOptions(EBOptions):
    """EB with remasking: decoded positions the model now doubts are masked again."""
    remask_tau: float = Field(0.5, gt=0, le=1, description="A decoded value with probability below this "
                                                           "is masked again.")
    remask_per_step: int = Field(1, ge=1, description="Most positions masked again per pass.")
    remask_budget: int = Field(8, ge=0, description="Most positions masked again per puzzle.")


def klass_select(tau=0.9, kl=0.01):
    """A stateful rule: it keeps each row's previous log-probabilities (rows by id)."""
    prev: dict[int, torch.Tensor] = {}

    def select(logp, mask, step, gen, rows):
        conf = logp.max(-1).values.exp()
        order, _ = rank_masked(-conf, mask)
        chosen = take_prefix(order, torch.ones(mask.shape[0], dtype=torch.long, device=mask.device), mask)
        for i, r in enumerate(rows):
            if r in prev:
                p = logp[i].exp()
                d = (p * (logp[i] - prev[r])).nan_to_num(0.0).sum(-1)     # KL(now || before); 0 log 0 = 0
                chosen[i] |= mask[i] & (conf[i] > tau) & (d < kl)
            prev[r] = logp[i]
        return chosen
    select.uses_rows = True
    return select


def bit_reversed_ranks(n: int) -> torch.Tensor:
    """rank[i] of position i in the order 0, n/2, n/4, 3n/4, ... (bit-reversed indices of the
    next power of two, positions past n skipped): the dilated order of one block."""
    bits = max(1, math.ceil(math.log2(max(n, 2))))
    rev = [int(f"{i:0{bits}b}"[::-1], 2) for i in range(1 << bits)]
    order = sorted(range(n), key=lambda i: rev[i])
    rank = torch.empty(n, dtype=torch.long)
    rank[torch.tensor(order)] = torch.arange(n)
    return rank


def dilated_pass(n: int, block: int) -> torch.Tensor:
    """The pass (0-based) at which each of n masked positions, in reading order, is committed."""
    size = n if block <= 0 else block
    out, start, offset = torch.empty(n, dtype=torch.long), 0, 0
    while start < n:
        m = min(size, n - start)
        rank = bit_reversed_ranks(m)
        group = torch.where(rank == 0, 0, torch.floor(torch.log2(rank.clamp_min(1).double())).long() + 1)
        out[start:start + m] = offset + group
        offset += int(group.max()) + 1
        start += m
    return out


def dilated_select(block=0):
    """A fixed schedule, made at each row's first pass from its masked positions."""
    plan: dict[int, torch.Tensor] = {}

    def select(logp, mask, step, gen, rows):
        chosen = torch.zeros_like(mask)
        for i, r in enumerate(rows):
            if r not in plan:
                pos = mask[i].nonzero()[:, 0]
                plan[r] = torch.full(mask.shape[1:], -1, dtype=torch.long, device=mask.device)
                plan[r][pos] = dilated_pass(len(pos), block).to(mask.device)
            chosen[i] = mask[i] & (plan[r] <= step)     # <=: a position is never left behind
        return chosen
    select.uses_rows = True
    return select


def remask_hook(x0: torch.Tensor, mask_id: int, remask_tau=0.5, per_step=1, budget=8):
    """remask(logp [b, S, V], xa [b, S], rows) -> bool [b, S]: the decoded positions of each
    row (masked in ``x0``, filled now) to mask again this pass."""
    left = torch.full((x0.shape[0],), budget, dtype=torch.long)
    free = x0 == mask_id

    def remask(logp, xa, rows):
        decoded = free[rows].to(xa.device) & (xa != mask_id)
        p = logp.gather(-1, xa.clamp_max(logp.shape[-1] - 1)[..., None])[..., 0].exp()
        doubt = decoded & (p < remask_tau)
        k = torch.minimum(doubt.sum(1).cpu(), torch.minimum(left[rows], torch.tensor(per_step)))
        order, _ = rank_masked(p, doubt)               # the least likely first
        out = take_prefix(order, k.to(xa.device), doubt) & doubt & (k.to(xa.device) > 0)[:, None]
        left[rows] -= k
        return out
    return remask


def klass_sample(model_fn, x, *, mask_id, tau=0.9, kl=0.01, temperature=0.0, generator=None, trace=None):
    """KLASS: commit confident positions whose prediction has stopped moving."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=klass_select(tau, kl), temperature=temperature,
                       generator=generator, trace=trace)


def dilated_sample(model_fn, x, *, mask_id, block=0, temperature=0.0, generator=None, trace=None):
    """DUS: spread-out groups on a fixed schedule."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=dilated_select(block), temperature=temperature,
                       generator=generator, trace=trace)


def remask_sample(model_fn, x, *, mask_id, gamma=0.01, proxy="entropy", remask_tau=0.5, remask_per_step=1,
                  remask_budget=8, temperature=0.0, generator=None, trace=None):
    """EB with remasking of decoded positions the model has come to doubt."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=eb_select(gamma, proxy), temperature=temperature,
                       generator=generator, trace=trace,
                       remask=remask_hook(x, mask_id, remask_tau, remask_per_step, remask_budget))

