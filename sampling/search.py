"""Model-guided search: a complete best-first search, the one engine behind ``--search``.

Nodes are expanded in the order of the model's own probability of the choices that lead
to them. A row *dives*: it expands each node's child next, so a puzzle the model solves
greedily costs what greedy decoding costs; at a dead end it resumes at its most probable
open node anywhere in the tree, not at the latest as a depth-first search would. A
confident mistake made early is therefore undone as soon as the choices below it are
less probable than the mistake's alternative, not after every one of them
(``dive=False``: every node waits its turn, a pure best-first order).

A node is a state and its bans (the (cell, value) pairs ruled out below it). Expanding a
node: rules (if any, no forward pass) fill what they deduce, forbid what they exclude, and
discard the node on a contradiction; so does ``check_fn`` (a cheap, batched consistency
test). One forward pass gives log-probabilities over the allowed, unbanned values
(``sampling.core.node_logp``; a masked cell with none left discards the node). The
selection rule (EB, top-k, ...) picks cells, which get their most likely values: commits
c_1..c_n, the most certain first. The node's solutions split into n + 1 disjoint parts,
each a new open node:

* the child, with every commit: score + sum(log p_j);
* for each i, the commits before i and c_i's value banned: score + sum_{j<i} log p_j +
  log(1 - p_i).

Completeness: the parts cover the node's solutions, a discarded node has none, and each
new node has more filled cells or the same cells and one more ban, so the tree is finite
and, with enough budget, every puzzle that has a solution is solved. Every forward pass
counts in the row's NFE; a node whose state was evaluated before reuses its logits
(``sampling.core.memo_forward``), so a ban costs no forward pass of its own. A row stops
at its budget; its last expanded node's masks take their argmax. Rows of different
puzzles share each batch and never influence one another. Greedy decoding only.

``search=False`` keeps the dive and drops the going back: one greedy descent with the
rules and the check, which stops at its first dead end (``--rules`` without ``--search``).
Why one engine: docs/search.md (best first solved as many or more than the branch search
and the depth-first search at lower NFE on every set measured, so those were removed).
"""
from __future__ import annotations

import heapq
import itertools
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sampling.core import Clock, Memo, memo_forward, node_logp


class SearchOptions(BaseModel):
    """The search and the rules (all rows share them)."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    search: bool = Field(False, description="Best-first search: undo the least probable commit at a dead end.")
    search_budget: int = Field(400, ge=1, description="Most NFE one puzzle may use with search.")
    rules: Literal["none", "mask", "propagate"] = Field(
        "none", description="Puzzle rules, no forward passes: none, mask (a filled peer's value gets no "
                            "probability) or propagate (mask, and naked and hidden singles become certain).")
    search_views: int = Field(1, ge=1, le=8, description="Symmetric views of the puzzle the search may use: "
                                                          "a puzzle unsolved after --search-restart NFE starts "
                                                          "again in the next view (the task's ``view``).")
    search_restart: int | None = Field(None, ge=1, description="NFE each view but the last may use "
                                                               "(default: the budget split evenly).")

    @model_validator(mode="after")
    def _views(self):
        if (self.search_views > 1 or self.search_restart is not None) and not self.search:
            raise ValueError("search views and restarts (--search-views, --search-restart) apply with --search")
        if self.search_restart is not None and self.search_views == 1:
            raise ValueError("--search-restart: applies with --search-views 2 or more")
        if self.search_views > 1 and self.restart * (self.search_views - 1) >= self.search_budget:
            raise ValueError(f"--search-restart {self.restart} x {self.search_views - 1} views leaves the last "
                             f"view nothing of --search-budget {self.search_budget}")
        return self

    @property
    def restart(self) -> int:
        """NFE each view but the last may use."""
        return self.search_restart or max(1, self.search_budget // self.search_views)

    def dump(self) -> dict:
        """The options as a dict, with the restart in effect written out when there are views."""
        return self.model_dump() | ({"search_restart": self.restart} if self.search_views > 1 else {})


def check_decoding(options: dict, guided: dict | None, sampler: str = "eb") -> None:
    """Constraints across the sampler's options and the search's, checked before any model
    loads (the CLIs and ``scripts.evaluate`` call this one function). ValueError."""
    from sampling.rules import SEARCHABLE
    if not guided or not (guided.get("search") or guided.get("rules", "none") != "none"):
        return
    if sampler == "ar":
        raise ValueError("search and rules (--search, --rules) apply to the MDM samplers, not the ARM (ar)")
    if sampler not in SEARCHABLE:
        raise ValueError(f"search and rules drive the rules {', '.join(SEARCHABLE)}; "
                         f"sampler {sampler} keeps its own state across passes and decodes only plainly")
    if options.get("temperature", 0.0) > 0:
        raise ValueError("search and rules (--search, --rules) decode greedily: use them with temperature 0 "
                         f"(got {options['temperature']})")


def check_rules(rules: str, task_rules: tuple[str, ...]) -> None:
    """``rules`` must be 'none' or one the task has (``Task.RULES``). ValueError."""
    if rules != "none" and rules not in task_rules:
        raise ValueError(f"rules {rules!r}: this task has no such rules (available: none"
                         f"{''.join(', ' + r for r in task_rules)})")


class _Open:
    """One row's open nodes: a heap of (-score, -filled, tie, state, bans)."""

    def __init__(self, x: torch.Tensor, memo: Memo, mask_id: int, keep: bool):
        self.mask_id, self.memo, self.keep, self.tie = mask_id, memo, keep, itertools.count()
        self.heap: list = []
        self.push(0.0, x, ())
        self.node = None            # the node being expanded: (score, state, bans)
        self.next = None            # diving: the child to expand next, before the heap
        self.last = x               # the latest state expanded (a row out of budget fills it)

    def push(self, score: float, state: torch.Tensor, bans: tuple) -> None:
        filled = int((state != self.mask_id).sum())
        heapq.heappush(self.heap, (-score, -filled, next(self.tie), state, bans))

    def part(self, score: float, state: torch.Tensor, bans: tuple) -> None:
        """An alternative to the choice being made: kept only when the row may go back."""
        if self.keep:
            self.push(score, state, bans)

    def pop(self) -> bool:
        if self.next is not None:
            self.node, self.next = self.next, None
            return True
        if not self.heap:
            return False
        neg, _, _, state, bans = heapq.heappop(self.heap)
        self.node = (-neg, state, bans)
        return True


@torch.no_grad()
def best_first_decode(model_fn, x: torch.Tensor, *, mask_id: int, select, check_fn, rules_fn=None,
                      budget: int | torch.Tensor = 400, search: bool = True,
                      generator: torch.Generator | None = None, memos: list[Memo] | None = None,
                      dive: bool = True, trace=None) -> tuple[torch.Tensor, dict]:
    """Best-first search from ``x`` [B, S]; ``budget`` is the most NFE per row (an int or a
    [B] tensor). ``memos``: per row, states already evaluated and their logits, extended in
    place. ``dive``: expand each node's child next, and go to the heap only at a dead end;
    False: every node, children too, waits its turn. ``search``: False stops a row at its
    first dead end. ``trace``: a ``sampling.trace.Trace`` recording each expansion.
    Returns (x_out, stats): ``backtracks`` counts discarded nodes, ``branches`` the
    expansions that did not continue the previous one's child."""
    B = x.shape[0]
    limit = torch.as_tensor(budget).expand(B).clone()
    memos = [{} for _ in range(B)] if memos is None else memos
    rows = [_Open(x[r].clone(), memos[r], mask_id, search) for r in range(B)]
    out, nfe, clock = x.clone(), torch.zeros(B, dtype=torch.long), Clock()
    counts = {"backtracks": [0] * B, "branches": [0] * B}
    per_step: list[list[int]] = [[] for _ in range(B)]
    expect: list = [None] * B                          # the child each row pushed last
    active = [r for r in range(B) if (x[r] == mask_id).any() and int(limit[r]) > 0]
    step = 0
    while active:
        ready, allowed = _settle(rows, active, out, rules_fn, check_fn, counts["backtracks"])
        active = [r for r in ready if int(nfe[r]) < int(limit[r])]
        for r in set(ready) - set(active):             # out of budget: the last expansion's argmax
            out[r] = rows[r].last
        if not active:
            break
        cur = torch.stack([rows[r].node[1] for r in active])
        logits, ran = clock.run(memo_forward, model_fn, cur, [rows[r].memo for r in active])
        nfe[torch.tensor([active[i] for i in ran], dtype=torch.long)] += 1
        logp, dead = node_logp(logits, mask_id, _banned(rows, active, allowed, logits))
        mask = cur == mask_id
        sel = select(logp, mask, step, generator) & mask
        dead = (dead & mask).any(1).cpu()
        proposal = logp.argmax(-1)
        for i, r in enumerate(active):
            counts["branches"][r] += int(expect[r] is not None and not torch.equal(cur[i], expect[r]))
            rows[r].last = torch.where(mask[i], proposal[i], cur[i])
            expect[r] = None if dead[i] else _expand(rows[r], logp[i], proposal[i], mask[i], sel[i], dive)
            moved = torch.zeros_like(mask[i]) if expect[r] is None else expect[r] != cur[i]
            if trace is not None and trace.wants(r):
                trace(r, cur[i], logp[i], mask[i], moved, proposal[i], i not in ran)
            counts["backtracks"][r] += int(dead[i])
            per_step[r].append(int(moved.sum()))
        step += 1
    return out, clock.stats(nfe, per_step, **counts)


def _settle(rows: list[_Open], need: list[int], out, rules_fn, check_fn, backtracks: list[int]):
    """Each row of ``need`` pops open nodes until it holds a live one, is solved (``out``
    takes the solution) or has none left (``out`` takes its last fill). Rules and the
    consistency check discard nodes without a forward pass. Returns (the rows holding a
    live node, the rules' allowed values of each)."""
    ready, allowed = [], {}
    while need:
        need = [r for r in need if rows[r].pop() or _exhausted(rows[r], out, r)]
        if not need:
            break
        cur = torch.stack([rows[r].node[1] for r in need])
        failed = torch.zeros(len(need), dtype=torch.bool)
        if rules_fn is not None:          # its allowed values are the filled state's, kept for the step
            cur, ok, failed = rules_fn(cur)
            failed = failed.cpu()
            allowed.update(zip(need, ok))
        failed |= check_fn(cur).cpu()
        again = []
        for i, r in enumerate(need):
            score, _, bans = rows[r].node
            rows[r].node = (score, cur[i], bans)
            if bool(failed[i]):
                backtracks[r] += 1
                again.append(r)
            elif not bool((cur[i] == rows[r].mask_id).any()):
                out[r] = cur[i]                    # solved (consistent and complete)
            else:
                ready.append(r)
        need = again
    return ready, allowed


def _banned(rows: list[_Open], active: list[int], allowed: dict, logits: torch.Tensor) -> torch.Tensor:
    """[b, S, V]: the values each node's bans and the rules rule out."""
    banned = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
    for i, r in enumerate(active):
        for c, v in rows[r].node[2]:
            banned[i, c, v] = True
    if allowed:
        banned |= ~torch.stack([allowed[r] for r in active]).to(banned.device)
    return banned


def _expand(row: _Open, logp: torch.Tensor, proposal: torch.Tensor, mask: torch.Tensor, sel: torch.Tensor,
            dive: bool) -> torch.Tensor:
    """Split the row's node by its step's commits (module docstring; ``proposal``: the
    argmax of ``logp``): the child and, for each commit, the part with that commit's value
    banned. Returns the child's state."""
    score, state, bans = row.node
    best = logp.max(-1).values
    rest = torch.logsumexp(logp.scatter(-1, proposal[..., None], float("-inf")), -1)   # log(1 - p)
    cells = sel.nonzero()[:, 0]
    if not len(cells):                          # a step always commits: the most certain cell
        cells = best.masked_fill(~mask, float("-inf")).argmax()[None]
    cells = cells[best[cells].argsort(descending=True)]     # the most certain first
    child, acc = state.clone(), score
    for c, v, lp, lq in zip(cells.tolist(), proposal[cells].tolist(), best[cells].tolist(), rest[cells].tolist()):
        if lq > float("-inf"):                  # another value is left: the part without v
            row.part(acc + lq, child.clone(), bans + ((c, v),))
        child[c] = v
        acc += lp
    filled = set(cells.tolist())
    kept = tuple(b for b in bans if b[0] not in filled)
    if dive:
        row.next = (acc, child, kept)
    else:
        row.push(acc, child, kept)
    return child


def _exhausted(row: _Open, out: torch.Tensor, r: int) -> bool:
    """A row with no open node left: the puzzle has no solution below its start (or, without
    search, the descent met a dead end); it keeps the argmax fill of its last expansion.
    Always False (the row leaves the search)."""
    out[r] = row.last
    return False
