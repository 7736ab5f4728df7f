"""Where EB goes wrong where top-1 does not: the first wrong commit of each such maze.

    python -m puzzles.generate maze --algorithm dfs --count 100 --seed 4301 --out dfs.csv
    python -m scripts.eb_errors --input dfs.csv --gamma 0.01

Decodes a set of mazes with one shortest path each (DFS, Wilson or Kruskal mazes without
loops: a commit is wrong iff it differs from that path) with top-1 and with EB, and for
every maze top-1 solves and EB does not, finds EB's first wrong commit: its entropy (a
confident wrong commit has a low one), how many cells its step committed, and whether it
was the step's most uncertain cell (the one EB's "minus the largest" term admits).

Then top-1's own failures: its first wrong commit (a path cell committed OFF, or an OFF
cell committed ON), its entropy, and whether a cell that dead-end filling decides from
the cells already OFF (``puzzles.maze.decided_off``) was still masked at that pass, with
the least entropy the model gave such a cell: a model that had learnt filling would have
committed that cell first.
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from models.checkpoint import CheckpointError, load_model, pretrained
from puzzles import maze as mz
from puzzles.cli import Parser, UsageError, fail
from puzzles.io import ParseError
from puzzles.tasks import get_task, read_questions
from sampling.trace import Trace
from solvers.decode import check_fits, decode


def first_wrong(task, steps, truth: str):
    """(step index, cells in that step, the wrong cell's entropy, its rank from the most
    certain, the step's entropies) of the first pass that committed a cell off the path."""
    shift = len(steps[0].state) - len(task.cells(steps[0].state))
    for k, st in enumerate(steps):
        placed = st.state.copy()
        placed[st.commit] = st.values
        board, cells = task.cells(placed), (st.commit - shift).tolist()
        wrong = [c for c in cells if board[c] != truth[c]]
        if wrong:
            h = dict(zip((st.masked - shift).tolist(), st.h.tolist()))
            hs = sorted(h[c] for c in cells)
            return k, len(cells), h[wrong[0]], hs.index(h[wrong[0]]), hs
    return None


def top1_wrong(task, steps, truth: str):
    """(pass index, committed value '0'/'1', its entropy, decided-off cells masked then,
    the least entropy among them) at top-1's first wrong commit, or None."""
    L = len(steps[0].state) // 2
    r, c = task.rows, task.cols
    for k, st in enumerate(steps):
        cell, v = int(st.commit[0]) - L, "1" if int(st.values[0]) == mz.ON else "0"
        if v != truth[cell]:
            h = dict(zip((st.masked - L).tolist(), st.h.tolist()))
            decided = np.flatnonzero(mz.decided_off(st.state[None].astype(np.int64), r, c)[0])
            return k, v, h[cell], len(decided), min((h[d] for d in decided), default=float("nan"))
    return None


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.eb_errors", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--input", required=True, help="mazes with answers (our CSV), one shortest path each")
    ap.add_argument("--gamma", type=float, default=0.01, help="EB gamma (default 0.01)")
    ap.add_argument("--checkpoint", default=None, help="MDM checkpoint (default: the shipped maze-mdm.pt)")
    a = ap.parse_args(argv)
    task = get_task("maze")
    try:
        if not a.gamma >= 0:
            raise UsageError(f"--gamma: must be >= 0, got {a.gamma}")
        qs, sols = read_questions(task, a.input)
        if sols is None:
            raise UsageError(f"--input {a.input}: the mazes need their answers (an 'answer' column)")
        ckpt = a.checkpoint or pretrained("maze-mdm.pt")
        model, _ = load_model(ckpt, task="maze", kind="mdm", vocab=task.vocab())
        check_fits(model, task, qs, a.input, a.checkpoint or "maze-mdm.pt")
    except (UsageError, ParseError, CheckpointError) as e:
        return fail(str(e))
    runs = {}
    for name, sampler, opts in (("top-1", "topk", {"k": 1}), (f"EB {a.gamma:g}", "eb", {"gamma": a.gamma})):
        trace = Trace(len(qs))
        with torch.inference_mode():
            ans, st = decode(model, task, qs, sampler=sampler, options=opts, batch_size=100, device="cpu",
                             progress=False, precision="bf16", trace=trace)
        runs[name] = (np.asarray(task.verify(qs, ans)[0]), trace)
        print(f"{name}: solved {int(runs[name][0].sum())} of {len(qs)}, mean NFE {float(np.mean(st['nfe'])):.2f}")
    (top, _), (eb, trace) = runs.values()
    lost = np.flatnonzero(top & ~eb)
    print(f"top-1 solves and EB does not: {len(lost)}; EB solves and top-1 does not: {int((eb & ~top).sum())}")
    found = [f for i in lost if (f := first_wrong(task, trace.steps[i], task.answer_cells(sols[i])))]
    if found:
        report_eb(found)
    top_trace = runs["top-1"][1]
    fails = [f for i in np.flatnonzero(~top) if (f := top1_wrong(task.sized(*task.grid_of(qs[i])),
                                                                 top_trace.steps[i], task.answer_cells(sols[i])))]
    if fails:
        hs = np.array([f[2] for f in fails])
        alt = [f for f in fails if f[3]]
        print(f"top-1's first wrong commit in its {len(fails)} failures: {sum(f[1] == '0' for f in fails)} path "
              f"cells committed OFF, {sum(f[1] == '1' for f in fails)} OFF cells committed ON; entropy median "
              f"{np.median(hs):.4f} nats; a cell decided by dead-end filling was still masked in {len(alt)}"
              + (f" (its least entropy: median {np.median([f[4] for f in alt]):.4f})" if alt else ""))
    return 0


def report_eb(found) -> None:
    hs = np.array([f[2] for f in found])
    most = sum(f[1] > 1 and f[3] == f[1] - 1 for f in found)
    print(f"EB's first wrong commit: entropy median {np.median(hs):.4f} nats (max {hs.max():.4f}); "
          f"{sum(f[1] == 1 for f in found)} in one-cell steps, {most} the most uncertain cell of a "
          f"multi-cell step, {len(found) - most - sum(f[1] == 1 for f in found)} another cell of one")
    for k, n, h, _, step_h in found:
        print(f"  pass {k + 1}: {n} cells, wrong cell H {h:.4f}, the step's H {[round(x, 4) for x in step_h]}")


if __name__ == "__main__":
    sys.exit(main())
