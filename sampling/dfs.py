"""A complete, model-guided depth-first search: any commit can be undone.

``sampling.search.guided_decode`` branches only where the model is unsure, and a commit
made in passing is undone only by backtracking past a later branch point; when its
branch points run out, it gives up. This search is the complete fallback. Every decoding
step is a node of a search tree. A puzzle supplies ``check_fn(x[b, S]) -> bool[b]``
(a cheap, batched consistency test) and optionally ``rules_fn(x) -> (x', allowed[b, S, V],
contradiction[b])``: sound deductions that cost no forward pass.

Each row keeps a stack of frames, one per accepted step: the state before it, the bans
in force, and what it committed. Per step:

1. Rules (if any) fill what they deduce and forbid what they exclude; a contradiction
   is a *failure*. One forward pass gives log-probabilities over the allowed, unbanned
   values; a masked cell with none left is a failure.
2. The selection rule (EB, top-k, ...) picks cells; a *careful* row of width w commits
   only its w most certain cells (the cheapest to decide), with their most likely values.
   If ``check_fn`` rejects the result, the step is undone at once: a single commit
   (cell, value) is banned at this node (it contradicts the rules, so the ban is sound),
   n > 1 commits make the row careful with width n // 2 (halving toward the culprit).
3. Otherwise a frame is pushed and the row descends.
4. On a failure the row pops its last frame (a *backtrack*): a single commit is banned
   at the restored node, n > 1 make that node careful with width n // 2.

Completeness: a node returned to gains a ban or halves its careful width, and width 1
commits one cell, whose value the next return bans; so every 1 + log2(cells) returns to
a node add at least one ban, and a ban is only placed on a (cell, value) whose
whole subtree failed. Bans are finite, so with enough budget the search finds a solution
of every puzzle that has one; values are tried in the model's order. Every forward pass
counts in the row's NFE; a row stops at its budget (its last masks take the last argmax).
Each row keeps the logits of every state it has evaluated, so a node returned to (a step
undone, a backtrack) is decided again without a forward pass, and so is a state the
branch search evaluated before handing the row over (``memos``; ``sampling.core.
memo_forward``): NFE counts the distinct states evaluated, and the search visits exactly
the nodes it would without it.
Rows of different puzzles share each batch and never influence one another.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

from sampling.core import Memo, _propose, entropy, memo_forward, search_select, take_prefix

RulesFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class _Row:
    """Search state of one batch row: its node (state, bans, careful) and its frames."""

    def __init__(self, x: torch.Tensor, memo: Memo):
        self.cur = x.clone()
        self.banned: torch.Tensor | None = None        # (S, V), made at the first forward pass
        self.careful = 0                                # cells a careful step commits (0: the rule's)
        self.stack: list[tuple] = []
        self.bans = 0
        self.memo = memo                                # every state evaluated, with its logits

    def push(self, commits: list[tuple[int, int]], new: torch.Tensor) -> None:
        """Descend; a careful row stays careful until it has banned a culprit."""
        self.stack.append((self.cur, self.banned.clone(), self.careful, commits))
        self.cur = new

    def undo(self, commits: list[tuple[int, int]]) -> None:
        """The step ``commits`` failed from the current node: ban it (and leave careful
        mode, the culprit is found), or, for several commits, go careful."""
        if len(commits) == 1:
            self.banned[commits[0]] = True
            self.bans += 1
            self.careful = 0
        else:
            self.careful = max(1, len(commits) // 2)

    def backtrack(self) -> bool:
        """Pop the last frame and rule out what it committed; False at the root."""
        if not self.stack:
            return False
        self.cur, self.banned, self.careful, commits = self.stack.pop()
        self.undo(commits)
        return True


@torch.no_grad()
def dfs_decode(model_fn, x: torch.Tensor, *, mask_id: int, select, check_fn, rules_fn: RulesFn | None = None,
               budget: int | torch.Tensor = 400, temperature: float = 0.0, stall_entropy: float | None = None,
               generator: torch.Generator | None = None,
               memos: list[Memo] | None = None) -> tuple[torch.Tensor, dict]:
    """Complete search from ``x``; ``budget`` is the most NFE per row (an int or a [B] tensor).
    ``stall_entropy``: a step commits only cells at or below this entropy, or else just the
    most certain cell, whose value is then a branch point of its own (None: the rule's cells).
    ``memos``: per row, states already evaluated for this puzzle and their logits (the
    branch search's), reused without a forward pass; extended in place."""
    B = x.shape[0]
    limit = torch.as_tensor(budget).expand(B).clone()          # an int or a [B] tensor
    memos = [{} for _ in range(B)] if memos is None else memos
    rows = [_Row(x[r], memos[r]) for r in range(B)]
    nfe = torch.zeros(B, dtype=torch.long)
    counts = {"backtracks": [0] * B, "undos": [0] * B}
    per_step: list[list[int]] = [[] for _ in range(B)]
    active = [r for r in range(B) if (x[r] == mask_id).any() and int(limit[r]) > 0]
    t_start, model_s, step = time.perf_counter(), 0.0, 0
    while active:
        cur = torch.stack([rows[r].cur for r in active])
        allowed = None
        if rules_fn is not None:            # deductions cost no forward pass
            filled, allowed, failed = rules_fn(cur)
            changed, still = False, []
            for i, r in enumerate(active):
                rows[r].cur = filled[i]
                if bool(failed[i]):
                    counts["backtracks"][r] += 1
                    changed = True
                    if rows[r].backtrack():     # the restored node gets its rules again first
                        still.append(r)
                elif (filled[i] == mask_id).any():
                    still.append(r)
                else:
                    changed = True              # the rules finished this row
            if changed:
                active = still
                continue
            cur = filled
        t0 = time.perf_counter()
        logits, ran = memo_forward(model_fn, cur, [rows[r].memo for r in active])   # a pass counts in NFE
        model_s += time.perf_counter() - t0
        nfe[torch.tensor([active[i] for i in ran], dtype=torch.long)] += 1
        for r in active:
            if rows[r].banned is None:
                rows[r].banned = torch.zeros(logits.shape[1:], dtype=torch.bool, device=x.device)
        banned = torch.stack([rows[r].banned for r in active])
        if allowed is not None:
            banned = banned | ~allowed.to(banned.device)
        mask = cur == mask_id
        banned[..., mask_id] = True         # structure, not a rule: MASK is never written
        logits = logits.masked_fill(banned, float("-inf"))
        dead = (torch.isinf(logits).all(-1) & mask).any(1).cpu()    # a masked cell with no value left
        logp = torch.log_softmax(logits.masked_fill(torch.isinf(logits).all(-1, keepdim=True), 0.0), -1)
        proposal = _propose(logp, temperature, generator)
        sel = select(logp, mask, step, generator) & mask
        h = entropy(logp).masked_fill(~mask, float("inf"))
        order = h.argsort(1)
        careful = torch.tensor([rows[r].careful for r in active], device=x.device)
        first = take_prefix(order[:, :1], torch.ones_like(careful), mask)
        sel = search_select(sel, h, order, mask, careful, first, stall_entropy)   # uncertain cells one at a time
        new = torch.where(sel, proposal, cur)
        bad = check_fn(new).cpu()
        still = []
        for i, r in enumerate(active):
            row = rows[r]
            commits = [(int(c), int(proposal[i, c])) for c in sel[i].nonzero()[:, 0]]
            if bool(dead[i]):
                counts["backtracks"][r] += 1
                per_step[r].append(0)
                if not row.backtrack():             # the root is contradictory: no solution below
                    row.cur = torch.where(mask[i], proposal[i], row.cur)
                    continue
            elif bool(bad[i]):
                counts["undos"][r] += 1
                row.undo(commits)
                per_step[r].append(0)
            else:
                row.push(commits, new[i])
                per_step[r].append(len(commits))
            if (row.cur == mask_id).any():
                if int(nfe[r]) >= int(limit[r]):     # out of budget: last argmax, no extra NFE
                    row.cur = torch.where(row.cur == mask_id, proposal[i], row.cur)
                else:
                    still.append(r)
        active = still
        step += 1
    total = time.perf_counter() - t_start
    return torch.stack([row.cur for row in rows]), {
        "nfe": nfe, "tokens_per_step": per_step, "model_seconds": model_s, "total_seconds": total,
        "overhead_seconds": total - model_s, "bans": [row.bans for row in rows], **counts}
