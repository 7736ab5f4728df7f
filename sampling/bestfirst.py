"""A complete, model-guided best-first search: nodes are expanded in the order of the
model's own probability of the path that leads to them.

Depth-first search (``sampling.dfs``) undoes commits last-in, first-out. When the model
makes a confident mistake early, every uncertain choice below it is tried before the
mistake is, and the budget runs out in a subtree without a solution. Here every commit
can be undone in any order: each node carries the log-probability, under the model, of
the choices that lead to it. A row dives as depth-first search does, expanding each
node's child next, so a puzzle the model solves greedily costs what greedy decoding
costs; at a dead end it resumes at its most probable open node anywhere in the tree, not
at the latest (``dive=False``: every node waits its turn, a pure best-first order).

A node is a state and its bans (the (cell, value) pairs ruled out below it). Expanding a
node: rules (if any, no forward pass) fill what they deduce, forbid what they exclude, and
discard the node on a contradiction; so does ``check_fn`` (a cheap, batched consistency
test). One forward pass gives log-probabilities over the allowed, unbanned values (a
masked cell with none left discards the node). The selection rule (EB, top-k, ...) picks
cells, which get their most likely values: commits c_1..c_n, the most certain first.
The node's solutions split into n + 1 disjoint parts, each a new open node:

* the child, with every commit: score + sum(log p_j);
* for each i, the commits before i and c_i's value banned: score + sum_{j<i} log p_j +
  log(1 - p_i).

Completeness: the parts cover the node's solutions, a discarded node has none, and each
new node has more filled cells or the same cells and one more ban, so the tree is finite
and, with enough budget, every puzzle that has a solution is solved. Values are tried in
the model's order (a ban moves a cell to its next value). Every forward pass counts in the
row's NFE; a node whose state was evaluated before reuses its logits
(``sampling.core.memo_forward``), so a ban costs no forward pass of its own. A row stops at
its budget; its last expanded node's masks take their argmax. Rows of different puzzles
share each batch and never influence one another. Greedy decoding only (temperature 0).
"""
from __future__ import annotations

import heapq
import itertools
import time

import torch

from sampling.core import Memo, memo_forward


class _Open:
    """One row's open nodes: a heap of (-score, -filled, tie, state, bans)."""

    def __init__(self, x: torch.Tensor, memo: Memo, mask_id: int):
        self.mask_id, self.memo, self.tie = mask_id, memo, itertools.count()
        self.heap: list = []
        self.push(0.0, x, ())
        self.node = None            # the node being expanded: (score, state, bans)
        self.next = None            # diving: the child to expand next, before the heap
        self.last = x               # the latest state expanded (a row out of budget fills it)

    def push(self, score: float, state: torch.Tensor, bans: tuple) -> None:
        filled = int((state != self.mask_id).sum())
        heapq.heappush(self.heap, (-score, -filled, next(self.tie), state, bans))

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
                      budget: int | torch.Tensor = 400, temperature: float = 0.0,
                      generator: torch.Generator | None = None,
                      memos: list[Memo] | None = None, dive: bool = True, trace=None) -> tuple[torch.Tensor, dict]:
    """Best-first search from ``x`` [B, S]; ``budget`` is the most NFE per row (an int or a
    [B] tensor). ``memos``: per row, states already evaluated and their logits, extended in
    place. ``dive``: expand each node's child next, and go to the heap only at a dead end
    (or a solution); False: every node, children too, waits its turn in the heap.
    ``trace``: a ``sampling.trace.Trace`` recording each expansion (a pass on a state that
    does not extend the previous one's child is where the search went back).
    Returns (x_out, stats) with the keys of ``sampling.search.guided_decode``:
    ``backtracks`` counts discarded nodes, ``branches`` the expansions that did not
    continue the previous one's child."""
    if temperature > 0:
        raise ValueError("best-first search decodes greedily: use it with temperature 0")
    B = x.shape[0]
    limit = torch.as_tensor(budget).expand(B).clone()
    memos = [{} for _ in range(B)] if memos is None else memos
    rows = [_Open(x[r].clone(), memos[r], mask_id) for r in range(B)]
    out = x.clone()
    nfe = torch.zeros(B, dtype=torch.long)
    counts = {"repairs": [0] * B, "backtracks": [0] * B, "branches": [0] * B}
    per_step: list[list[int]] = [[] for _ in range(B)]
    expect: list = [None] * B                          # the child each row pushed last
    active = [r for r in range(B) if (x[r] == mask_id).any() and int(limit[r]) > 0]
    t_start, model_s, step = time.perf_counter(), 0.0, 0
    while active:
        # each row pops its best open node; rules and the consistency check discard nodes
        # (no forward pass) until every row holds a live node, has solved, or has none left
        need, ready, allowed = list(active), [], {}
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
                    counts["backtracks"][r] += 1
                    again.append(r)
                elif not bool((cur[i] == mask_id).any()):
                    out[r] = cur[i]                    # solved (consistent and complete)
                else:
                    ready.append(r)
            need = again
        active = [r for r in ready if int(nfe[r]) < int(limit[r])]
        for r in ready:
            if int(nfe[r]) >= int(limit[r]):        # out of budget: the last expansion's argmax
                out[r] = rows[r].last
        if not active:
            break
        cur = torch.stack([rows[r].node[1] for r in active])
        t0 = time.perf_counter()
        logits, ran = memo_forward(model_fn, cur, [rows[r].memo for r in active])
        model_s += time.perf_counter() - t0
        nfe[torch.tensor([active[i] for i in ran], dtype=torch.long)] += 1
        banned = torch.zeros(logits.shape, dtype=torch.bool, device=logits.device)
        for i, r in enumerate(active):
            for c, v in rows[r].node[2]:
                banned[i, c, v] = True
        if rules_fn is not None:
            banned |= ~torch.stack([allowed[r] for r in active]).to(banned.device)
        banned[..., mask_id] = True                    # structure, not a rule: MASK is never written
        mask = cur == mask_id
        logits = logits.masked_fill(banned, float("-inf"))
        dead = (torch.isinf(logits).all(-1) & mask).any(1).cpu()
        logp = torch.log_softmax(logits.masked_fill(torch.isinf(logits).all(-1, keepdim=True), 0.0), -1)
        proposal = logp.argmax(-1)
        sel = select(logp, mask, step, generator) & mask
        best = logp.max(-1).values
        rest = torch.logsumexp(logp.scatter(-1, proposal[..., None], float("-inf")), -1)  # log(1 - p)
        ran_set = set(ran)
        for i, r in enumerate(active):
            row = rows[r]
            score, state, bans = row.node
            counts["branches"][r] += int(expect[r] is not None and not torch.equal(state, expect[r]))
            row.last = torch.where(mask[i], proposal[i], state)
            if bool(dead[i]):
                counts["backtracks"][r] += 1
                per_step[r].append(0)
                expect[r] = None
                if trace is not None and trace.wants(r):
                    trace(r, state, logp[i], mask[i], torch.zeros_like(mask[i]), proposal[i], i not in ran_set)
                continue
            cells = sel[i].nonzero()[:, 0]
            if not len(cells):                          # a step always commits: the most certain cell
                cells = best[i].masked_fill(~mask[i], float("-inf")).argmax()[None]
            cells = cells[best[i, cells].argsort(descending=True)]     # the most certain first
            if trace is not None and trace.wants(r):
                trace(r, state, logp[i], mask[i], torch.zeros_like(mask[i]).index_fill(0, cells, True), proposal[i],
                      i not in ran_set)
            child, acc = state.clone(), score
            for c, v, lp, lq in zip(cells.tolist(), proposal[i, cells].tolist(), best[i, cells].tolist(),
                                    rest[i, cells].tolist()):
                if lq > float("-inf"):                  # another value is left: the part without v
                    row.push(acc + lq, child.clone(), bans + ((c, v),))
                child[c] = v
                acc += lp
            filled = set(cells.tolist())
            kept = tuple(b for b in bans if b[0] not in filled)
            if dive:
                row.next = (acc, child, kept)
            else:
                row.push(acc, child, kept)
            expect[r] = child
            per_step[r].append(len(cells))
        step += 1
    total = time.perf_counter() - t_start
    return out, {"nfe": nfe, "tokens_per_step": per_step, "model_seconds": model_s,
                 "total_seconds": total, "overhead_seconds": total - model_s, **counts}


def _exhausted(row: _Open, out: torch.Tensor, r: int) -> bool:
    """A row with no open node left: the puzzle has no solution below its start; it keeps
    the argmax fill of its last expansion. Always False (the row leaves the search)."""
    out[r] = row.last
    return False
