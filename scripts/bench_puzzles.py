"""Benchmark the puzzle code: verifier, classical solver, generator, and a reference solver.

    python -m scripts.bench_puzzles
    python -m scripts.bench_puzzles --grids 1000000 --solve 300 --generate 600 --json

Prints grids/s for the batched verifier, puzzles/s for our propagation + MRV solver
and for py-sudoku's solver on the same puzzles (the ratio is measured side by side in
this run; install it with pip install '.[bench]'), and generated 9x9 puzzles/s with
1 and 2 worker processes. Absolute rates depend on the machine and its load.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from puzzles import sudoku as sd
from puzzles.cli import Parser
from puzzles.data import dataset
from puzzles.generate import _sudoku_item, produce


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.bench_puzzles", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--grids", type=int, default=1_000_000, help="grids for the verifier (default 1e6)")
    ap.add_argument("--solve", type=int, default=300, help="test puzzles for the solvers (default 300)")
    ap.add_argument("--generate", type=int, default=600, help="puzzles per setting; the 2-worker time includes starting the pool (default 600)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    q, ans, _ = sd.read_file(str(dataset("sudoku")))
    res: dict = {}
    reps = -(-a.grids // len(ans))
    grids = np.tile(ans, (reps, 1))[:a.grids]
    puz = np.tile(q, (reps, 1))[:a.grids]
    sd.verify(puz[:1000], grids[:1000])                       # warm-up
    v, dt = timed(lambda: sd.verify(puz, grids))
    assert v.solved.all()
    res["verifier_grids_per_s"] = a.grids / dt
    qs = q[:a.solve]
    sols, dt = timed(lambda: [sd.solve(p) for p in qs])
    assert all(s is not None for s in sols)
    res["solver_puzzles_per_s"] = len(qs) / dt
    try:
        from sudoku import Sudoku  # py-sudoku
        boards = [p.reshape(9, 9).tolist() for p in qs]
        _, dt_ref = timed(lambda: [Sudoku(3, 3, board=b).solve() for b in boards])
        res["pysudoku_puzzles_per_s"] = len(qs) / dt_ref
        res["solver_speedup_vs_pysudoku"] = res["solver_puzzles_per_s"] / res["pysudoku_puzzles_per_s"]
    except ImportError:
        print("note: py-sudoku not installed (pip install '.[bench]'); reference ratio skipped", file=sys.stderr)
    from functools import partial
    fn = partial(_sudoku_item, seed=123, box=(3, 3), clues=(28, 34), difficulty="any", depth=None, minimal=False)
    for w in (1, 2):
        _, dt = timed(partial(produce, fn, a.generate, w, set(), f"generate ({w} worker)"))
        res[f"generator_puzzles_per_s_{w}w"] = a.generate / dt
    print(f"verifier        {res['verifier_grids_per_s']:>12,.0f} grids/s  ({a.grids:,} 9x9 grids)")
    print(f"solver (ours)   {res['solver_puzzles_per_s']:>12,.1f} puzzles/s ({len(qs)} test puzzles)")
    if "pysudoku_puzzles_per_s" in res:
        print(f"solver (py-sudoku) {res['pysudoku_puzzles_per_s']:>9,.1f} puzzles/s -> ours is "
              f"{res['solver_speedup_vs_pysudoku']:.1f}x")
    for w in (1, 2):
        print(f"generator {w} worker{'s' if w > 1 else ' '} {res[f'generator_puzzles_per_s_{w}w']:>8,.1f} puzzles/s (28-34 clues)")
    if a.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
