"""The adaptive unmasking loop shared by every MDM sampler.

Each step runs the model on the rows that still hold masks, turns logits into
float32 log-probabilities, proposes a value per position (argmax, or a draw at a
temperature) and lets a *selection rule* choose which masked positions to commit.
Rows leave the batch as soon as they have no mask left, so NFE is counted per row.
Only masked positions are ever written (``torch.where(sel, proposal, x)``).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

ModelFn = Callable[[torch.Tensor], torch.Tensor]
# select(logp [b, S, V], mask [b, S] bool, step, generator) -> bool [b, S]
SelectFn = Callable[[torch.Tensor, torch.Tensor, int, torch.Generator | None], torch.Tensor]


class Memo(dict):
    """One row's evaluated states (bytes of the token row) -> logits, least recently used
    first, holding at most ``cap`` states (None: no bound). A state evicted and met again
    costs a forward pass, counted in NFE like any other: the cap trades NFE for memory
    (a 20x20 maze state's logits are ~160 KB), never correctness."""

    def __init__(self, cap: int | None = None):
        super().__init__()
        if cap is not None and cap < 1:
            raise ValueError(f"memo cap must be >= 1, got {cap}")
        self.cap = cap


def memo_cap(rows: int, state_bytes: int, budget_bytes: int = 2 << 30) -> int:
    """States each of ``rows`` memos may hold so that all of them fit ``budget_bytes``
    (at least 8: a search needs its recent states to undo a step without a pass)."""
    return max(8, budget_bytes // max(1, rows * state_bytes))


def memo_forward(model_fn: ModelFn, x: torch.Tensor, memos: list[Memo]) -> tuple[torch.Tensor, list[int]]:
    """Logits (float32) of the rows x [b, S] for the searches, with ``memos[i]`` every state
    row i has been evaluated at and its logits. The model is a fixed function of its input,
    so a row back at a state it has already evaluated (a step undone, a node returned to,
    the complete search retracing the branch search's steps) reuses those logits: no
    forward pass, so no NFE. Logits are kept in the dtype the model returned them in, at
    most one entry per NFE of the row and at most ``memos[i].cap`` (``Memo``: least
    recently used out first; a plain dict is unbounded).
    Updates ``memos`` in place and returns (logits [b, S, V], the rows that ran a pass)."""
    keys = [r.tobytes() for r in x.cpu().numpy()]
    need = []
    for i, k in enumerate(keys):
        if k in memos[i]:
            memos[i][k] = memos[i].pop(k)   # a hit becomes the most recently used
        else:
            need.append(i)
    if need:
        out = model_fn(x[torch.tensor(need, device=x.device)])
        for j, i in enumerate(need):
            m = memos[i]
            m[keys[i]] = out[j]
            cap = getattr(m, "cap", None)
            while cap is not None and len(m) > cap:
                del m[next(iter(m))]        # the least recently used state
    return torch.stack([memos[i][k] for i, k in enumerate(keys)]).float(), need


def entropy(logp: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats over the last axis; exact zeros for -inf entries (no NaN)."""
    return torch.special.entr(logp.exp()).sum(-1)


def error_proxy(logp: torch.Tensor, proxy: str) -> torch.Tensor:
    """Per-position error score, lower is better: entropy, -confidence or -margin."""
    if proxy == "entropy":
        return entropy(logp)
    top = logp.topk(2, dim=-1).values.exp()                     # (b, S, 2)
    if proxy == "confidence":
        return -top[..., 0]
    if proxy == "margin":
        return -(top[..., 0] - top[..., 1])
    raise ValueError(f"unknown proxy {proxy!r}")


def rank_masked(err: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Order of positions, best first, masked positions before all others.

    Returns (order [b, S], masked_sorted [b, S] bool)."""
    err = err.masked_fill(~mask, float("inf"))
    order = err.argsort(dim=1, stable=True)
    return order, mask.gather(1, order)


def take_prefix(order: torch.Tensor, k: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Select the first k[b] positions of ``order`` in each row (k clipped to [1, #masked])."""
    S = order.shape[1]
    k = torch.minimum(k.clamp_min(1), mask.sum(1))
    chosen = torch.arange(S, device=order.device)[None] < k[:, None]
    return torch.zeros_like(mask).scatter(1, order, chosen)


def propose(logp: torch.Tensor, temperature: float, generator) -> torch.Tensor:
    """The value proposed at each position: the argmax, or at ``temperature`` > 0 a draw
    from softmax(logp / T) (every decoder, MDM and ARM, draws here)."""
    if temperature <= 0:
        return logp.argmax(-1)
    # Gumbel-max draw from softmax(logp / T); noise made on the CPU so a CPU generator
    # reproduces runs on any device.
    u = torch.rand(logp.shape, generator=generator).clamp_(1e-10, 1.0).to(logp.device)
    return (logp / temperature - torch.log(-torch.log(u))).argmax(-1)


def node_logp(logits: torch.Tensor, mask_id: int, banned: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass's evaluation, shared by the samplers and the search: float32
    log-probabilities [b, S, V] over the values a position may take. MASK is never one of
    them (structure, not a rule: a decoder writes values), nor a value ``banned`` [b, S, V]
    marks. Returns (logp, dead [b, S]): dead positions have no value left; their row of
    logp is uniform over the vocabulary, so it stays finite."""
    logits = logits.float()
    if mask_id < logits.shape[-1]:
        logits = logits.clone()
        logits[..., mask_id] = float("-inf")
    if banned is not None:
        logits = logits.masked_fill(banned, float("-inf"))
    dead = torch.isinf(logits).all(-1)
    return torch.log_softmax(logits.masked_fill(dead[..., None], 0.0), -1), dead


class Clock:
    """Model time against the whole decode's, and the stats dict every decoder returns."""

    def __init__(self):
        self.start, self.model_s = time.perf_counter(), 0.0

    def run(self, fn, *args):
        """``fn(*args)``, its time counted as the model's (CUDA synchronised)."""
        t0 = time.perf_counter()
        out = fn(*args)
        first = out[0] if isinstance(out, tuple) else out
        if first.is_cuda:
            torch.cuda.synchronize()
        self.model_s += time.perf_counter() - t0
        return out

    def stats(self, nfe: torch.Tensor, per_step: list[list[int]], **extra) -> dict:
        total = time.perf_counter() - self.start
        return {"nfe": nfe, "tokens_per_step": per_step, "model_seconds": self.model_s,
                "total_seconds": total, "overhead_seconds": total - self.model_s, **extra}


@torch.no_grad()
def unmask_loop(model_fn: ModelFn, x: torch.Tensor, *, mask_id: int, select: SelectFn,
                temperature: float = 0.0, generator: torch.Generator | None = None,
                max_steps: int | None = None, trace=None, remask=None) -> tuple[torch.Tensor, dict]:
    """Decode every MASK in ``x`` [B, S]; returns (x_out, stats). ``trace``: a
    ``sampling.trace.Trace`` that records each pass (None: nothing is recorded).
    A rule with ``uses_rows`` gets the rows' ids (their rows in ``x``) as a fifth argument,
    to keep state across passes. ``remask(logp, xa, rows) -> bool [b, S]``: filled
    positions to mask again before the rule chooses (``sampling.rivals``); None: none.

    stats: ``nfe`` LongTensor [B] (forward passes that included the row),
    ``tokens_per_step`` list of per-row lists, ``model_seconds``, ``total_seconds``,
    ``overhead_seconds`` (sampler time outside the model).
    """
    x = x.clone()
    B = x.shape[0]
    nfe = torch.zeros(B, dtype=torch.long)
    per_step: list[list[int]] = [[] for _ in range(B)]
    active = (x == mask_id).any(1).nonzero().squeeze(1)
    clock, step = Clock(), 0
    while active.numel() and (max_steps is None or step < max_steps):
        xa = x[active]
        logp, _ = node_logp(clock.run(model_fn, xa), mask_id)             # (b, S, V)
        act = active.cpu()
        ids = act.tolist()
        if remask is not None:
            xa = xa.masked_fill(remask(logp, xa, act), mask_id)
        mask = xa == mask_id
        proposal = propose(logp, temperature, generator)
        rows = (ids,) if getattr(select, "uses_rows", False) else ()
        sel = select(logp, mask, step, generator, *rows) & mask
        x[active] = torch.where(sel, proposal, xa)
        if trace is not None:
            trace.record_batch(ids, xa, logp, mask, sel, proposal)
        nfe[act] += 1
        for r, c in zip(ids, sel.sum(1).tolist()):
            per_step[r].append(c)
        active = active[(x[active] == mask_id).any(1)]
        step += 1
    return x, clock.stats(nfe, per_step)
