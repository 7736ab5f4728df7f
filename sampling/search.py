"""Verifier-guided repair and model-guided search on top of any selection rule.

Plain parallel unmasking commits every token for good. Here a puzzle-supplied
``check_fn(x[b, S]) -> bool[b]`` (a cheap, batched consistency test) runs after each
step, and a row whose new state is inconsistent is handled in this order:

1. **Repair** (``repair`` per puzzle). The step's commits are undone. If the step
   committed one cell, that (cell, value) pair is *banned* in this branch: placing it
   leads straight to a contradiction, so banning it is sound. If it committed n > 1,
   the row goes *careful*: its steps commit only its n // 2 most certain cells, halving
   again at each failure, so the culprit is found in about log2(n) undos (one cell per
   step would spend a forward pass per cell). Each undo counts as one repair; a
   careful row returns to its rule after its ban.
2. **Backtrack** (``search``). Restore the state at the latest branch point and try its
   next candidate.
3. Otherwise the step is accepted, as plain decoding would.

**Branching** (``search``): when a row is *stalled*, i.e. even its most certain masked
cell has entropy above ``stall_entropy``, the row branches on that cell over its
``branch_k`` most likely values, depth first. Every forward pass counts in the row's
NFE; a row stops at ``search_budget`` NFE and its remaining masks take the last argmax.
A row back at a state it has evaluated (a step undone leaves the state as it was)
reuses its logits (``sampling.core.memo_forward``): no forward pass, no NFE.
Rows of different puzzles share each batch and never influence one another.

**Rules** (``rules_fn``, from the puzzle): ``mask`` gives no probability to values a
filled peer holds; ``propagate`` also makes every naked and hidden single certain, so
the step commits it; a contradiction the rules find is handled like a dead cell. They
cost no forward pass. This search is not complete: commits made in passing are undone
only through repairs or by backtracking past a later branch point. ``complete`` (run by
``solvers.decode``) hands a row it could not solve to ``sampling.dfs.dfs_decode``, from the
puzzle, with the NFE it has left and the states this search evaluated (the same ``memos``).
``strategy='best'`` (run by ``solvers.decode``) replaces this search with
``sampling.bestfirst``, which is complete by itself and undoes the least likely commit first.
"""
from __future__ import annotations

import time
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sampling.core import Memo, _propose, entropy, memo_forward, search_select, take_prefix


class SearchOptions(BaseModel):
    """Repair and search knobs (all rows share them)."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    repair: int = Field(0, ge=0, description="Repairs allowed per puzzle (0: none).")
    search: bool = Field(False, description="Branch when stalled and backtrack on conflicts.")
    search_budget: int = Field(400, ge=1, description="Most NFE one puzzle may use.")
    stall_entropy: float = Field(0.01, ge=0, description="Branch when every masked cell's entropy exceeds this (nats).")
    branch_k: int = Field(2, ge=2, description="Candidates tried at a branch point.")
    rules: Literal["none", "mask", "propagate"] = Field(
        "none", description="Puzzle rules, no forward passes: none, mask (a filled peer's value gets no "
                            "probability) or propagate (mask, and naked and hidden singles become certain).")
    complete: bool = Field(False, description="When the branch search gives up, restart from the puzzle with "
                                              "the complete depth-first search (sampling.dfs) for the rest of "
                                              "the budget.")
    strategy: Literal["branch", "best"] = Field(
        "branch", description="With search: branch (this module: depth first, branching where the model is "
                              "unsure; --complete adds the depth-first fallback) or best (sampling.bestfirst: "
                              "complete by itself, the most probable open node first; it uses no repairs, "
                              "stall_entropy or branch_k).")

    @model_validator(mode="after")
    def _strategy_fits(self):
        if self.strategy == "best":
            if not self.search:
                raise ValueError("strategy best (--strategy best): applies with search on (--search)")
            if self.repair or self.complete:
                raise ValueError("strategy best (--strategy best) is complete by itself and undoes any "
                                 "commit: repair and complete (--repair, --complete) do not apply to it")
            if self.stall_entropy != 0.01 or self.branch_k != 2:
                raise ValueError("strategy best (--strategy best) expands the most probable open node and never "
                                 "branches on a stall: stall_entropy and branch_k (--stall-entropy, --branch-k) "
                                 "do not apply to it")
        return self


def check_decoding(options: dict, guided: dict | None, sampler: str = "eb") -> None:
    """Constraints across the sampler's options and the search's, checked before any model
    loads (the CLIs and ``scripts.evaluate`` call this one function). ValueError."""
    from sampling.rules import SEARCHABLE
    if guided and sampler not in SEARCHABLE:
        raise ValueError(f"repair, search and rules drive the rules {', '.join(SEARCHABLE)}; "
                         f"sampler {sampler} keeps its own state across passes and decodes only plainly")
    if guided and guided.get("strategy") == "best" and options.get("temperature", 0.0) > 0:
        raise ValueError("strategy best (--strategy best) decodes greedily: use it with temperature 0 "
                         f"(got {options['temperature']})")


@torch.no_grad()
def guided_decode(model_fn, x: torch.Tensor, *, mask_id: int, select, check_fn, repair: int = 0,
                  search: bool = False, search_budget: int = 400, stall_entropy: float = 0.01,
                  branch_k: int = 2, temperature: float = 0.0, rules_fn=None,
                  generator: torch.Generator | None = None,
                  memos: list[Memo] | None = None) -> tuple[torch.Tensor, dict]:
    """Decode with repairs and branch search. ``memos``: per row, the states evaluated and
    their logits (``sampling.core.memo_forward``), extended in place, so that a complete
    search given the same list reuses them."""
    B, S = x.shape
    cur = x.clone()
    banned: torch.Tensor | None = None                 # (B, S, V): values ruled out per branch
    stacks: list[list] = [[] for _ in range(B)]        # (state, banned, cell, untried values)
    careful = [0] * B                                  # careful rows commit this many cells a step (0: their rule)
    memos = [{} for _ in range(B)] if memos is None else memos   # each row's evaluated states
    nfe = torch.zeros(B, dtype=torch.long)
    counts = {"repairs": [0] * B, "backtracks": [0] * B, "branches": [0] * B}
    per_step: list[list[int]] = [[] for _ in range(B)]
    active = [r for r in range(B) if (cur[r] == mask_id).any()]
    t_start, model_s, step = time.perf_counter(), 0.0, 0
    while active:
        idx = torch.tensor(active, device=x.device)
        xa = cur[idx]
        t0 = time.perf_counter()
        logits, ran = memo_forward(model_fn, xa, [memos[r] for r in active])
        model_s += time.perf_counter() - t0
        nfe[idx[ran].cpu()] += 1
        if banned is None:
            banned = torch.zeros(B, S, logits.shape[-1], dtype=torch.bool, device=x.device)
        logits = logits.masked_fill(banned[idx], float("-inf"))
        if rules_fn is not None:    # sound deductions, no forward pass: applied to this step's choices
            filled, allowed, broken = rules_fn(xa)
            logits = logits.masked_fill(~allowed.to(logits.device), float("-inf"))
            logits = torch.where((filled != xa)[..., None], torch.full_like(logits, float("-inf")).scatter(
                2, filled[..., None], 0.0), logits)          # a deduced single is certain
        dead = torch.isinf(logits).all(-1) & (xa == mask_id)     # a masked cell with no value left
        if rules_fn is not None:    # a contradiction the rules found counts as a dead cell
            first = (xa == mask_id).float().argmax(1)
            rows_ = torch.arange(len(xa), device=dead.device)
            dead[rows_, first] |= broken.to(dead.device) & (xa == mask_id).any(1)
        logp = torch.log_softmax(logits.masked_fill(dead[..., None], 0.0), -1)
        mask = xa == mask_id
        proposal = _propose(logp, temperature, generator)
        sel = select(logp, mask, step, generator) & mask
        h = entropy(logp).masked_fill(~mask, float("inf"))
        best = h.argmin(1)
        one = take_prefix(best[:, None], torch.ones(len(active), dtype=torch.long, device=x.device), mask)
        # careful rows commit only their `careful` most certain cells; with search, uncertain
        # cells are left to branching instead of being committed in passing
        cf = torch.tensor(careful, device=x.device)[idx]
        sel = search_select(sel, h, h.argsort(1), mask, cf, one, stall_entropy if search else None)
        new = torch.where(sel, proposal, xa)
        bad = check_fn(new).to(x.device) | dead.any(1)
        still = []
        for i, r in enumerate(active):
            stalled = search and not careful[r] and bool(h[i, best[i]] > stall_entropy)
            if stalled and not bool(dead[i].any()):
                cell = int(best[i])
                order = logp[i, cell].argsort(descending=True)
                cands = [int(v) for v in order[:branch_k] if torch.isfinite(logp[i, cell, v])]
                trial = cur[r].repeat(len(cands), 1)
                trial[:, cell] = torch.tensor(cands, device=x.device)
                ok = ~check_fn(trial).to(x.device)         # never branch into a contradiction
                cands = [v for v, good in zip(cands, ok.tolist()) if good]
                if not cands:
                    dead[i, cell] = True
                    stalled = False
            if stalled and not bool(dead[i].any()):
                stacks[r].append((cur[r].clone(), banned[r].clone(), cell, cands[1:]))
                counts["branches"][r] += 1
                cur[r, cell] = cands[0]
                per_step[r].append(1)
            elif bool(bad[i]) or bool(dead[i].any()):
                n_sel = int(sel[i].sum())
                if counts["repairs"][r] < repair and not bool(dead[i].any()):
                    counts["repairs"][r] += 1
                    if n_sel == 1:
                        c = int(sel[i].nonzero()[0, 0])
                        banned[r, c, int(proposal[i, c])] = True
                        careful[r] = 0
                    else:
                        careful[r] = max(1, n_sel // 2)
                    per_step[r].append(0)
                elif search and _backtrack(r, cur, banned, stacks):
                    counts["backtracks"][r] += 1
                    careful[r] = 0
                    per_step[r].append(0)
                else:
                    cur[r] = new[i]
                    per_step[r].append(n_sel)
            else:
                cur[r] = new[i]          # consistent; a careful row stays careful until its culprit is banned
                per_step[r].append(int(sel[i].sum()))
            if (cur[r] == mask_id).any():
                if int(nfe[r]) >= search_budget:      # out of budget: last argmax, no extra NFE
                    cur[r] = torch.where(cur[r] == mask_id, proposal[i], cur[r])
                else:
                    still.append(r)
        active = still
        step += 1
    total = time.perf_counter() - t_start
    return cur, {"nfe": nfe, "tokens_per_step": per_step, "model_seconds": model_s,
                 "total_seconds": total, "overhead_seconds": total - model_s, **counts}


def _backtrack(r: int, cur, banned, stacks) -> bool:
    """Restore row r to its latest branch point with an untried value; False if none."""
    while stacks[r]:
        state, ban, cell, untried = stacks[r][-1]
        if untried:
            v = untried.pop(0)
            cur[r] = state
            cur[r, cell] = v
            banned[r] = ban
            return True
        stacks[r].pop()
    return False
