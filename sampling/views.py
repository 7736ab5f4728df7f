"""Symmetric views for the search (``--search-views``): a puzzle the search has not solved
within its restart starts again in the next view of the task (``Task.view``), a fixed
symmetry that takes valid boards to valid boards. The model is not equivariant, so a
view gets other confidences, and a confident mistake made in one view may not be made
in the next. Chosen on validation: docs/search.md."""
from __future__ import annotations

import torch


def check_views(views: int, task_views: int) -> None:
    """``views`` must not exceed the task's (``Task.VIEWS``). ValueError."""
    if views > task_views:
        raise ValueError(f"--search-views {views}: this task has {task_views} view"
                         f"{'s' if task_views > 1 else ' (no symmetries to restart in)'}")


def restart_decode(run, x: torch.Tensor, views: list[tuple[torch.Tensor, torch.Tensor]], *, restart: int,
                   budget: int, solved_fn) -> tuple[torch.Tensor, dict]:
    """The search in symmetric views of each puzzle, one after another: ``run(x_view,
    budget)`` (``best_first_decode`` with fresh memos) decodes the rows still unsolved in
    view k = (perm [S], token map [V]), view tokens ``vmap[x[:, perm]]``, with ``restart``
    NFE, the last view with what is left of ``budget``. ``solved_fn(tokens, rows)`` says
    which answers, mapped back, solve their puzzles (rows: their indices in ``x``); the
    others go on to the next view, whether their search ran out of budget or ended at an
    answer the verifier rejects (a maze path that is not the shortest). NFE add up across
    views, so a row costs at most ``budget``. Returns (x_out, stats) as ``best_first_decode``."""
    B = x.shape[0]
    out, nfe = x.clone(), torch.zeros(B, dtype=torch.long)
    per_step: list[list[int]] = [[] for _ in range(B)]
    stats = {"backtracks": [0] * B, "branches": [0] * B, "model_seconds": 0.0, "total_seconds": 0.0}
    todo = torch.arange(B)
    for k, (perm, vmap) in enumerate(views):
        o, st = run(vmap[x[todo][:, perm]], restart if k < len(views) - 1 else budget - restart * k)
        inv = torch.empty_like(vmap)
        inv[vmap] = torch.arange(len(vmap), device=vmap.device)
        back = torch.empty_like(o)
        back[:, perm] = inv[o]
        out[todo] = back
        nfe[todo] += st["nfe"]
        for i, r in enumerate(todo.tolist()):
            per_step[r] += st["tokens_per_step"][i]
            for key in ("backtracks", "branches"):
                stats[key][r] += st[key][i]
        for key in ("model_seconds", "total_seconds"):
            stats[key] += st[key]
        todo = todo[~torch.as_tensor(solved_fn(back, todo.tolist()), dtype=torch.bool).cpu()]
        if not len(todo):
            break
    overhead = stats["total_seconds"] - stats["model_seconds"]
    return out, {"nfe": nfe, "tokens_per_step": per_step, "overhead_seconds": overhead, **stats}
