"""Verify answers against their puzzles.

    python -m puzzles.verify sudoku --questions datasets/sudoku/test.csv --answers answers.txt
    python -m puzzles.verify maze --questions datasets/maze/test.csv --answers answers.txt --json

Prints one verdict line per item ("3  FAILED  repeats in row 2") and a summary; --json
adds one JSON object (n, solved, solve_rate, failures by reason) as the last line.
Answers: Sudoku one grid per line (or a CSV's answer column); mazes text blocks with
'o' on the path (or a CSV's answer column).
"""
from __future__ import annotations

import json
import sys

import numpy as np

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.cli import Parser, fail
from puzzles.io import ParseError, read_csv


def failure_counts(solved, reasons: list[str]) -> dict[str, int]:
    """Failures by class: a verdict's first reason without its details
    ('repeats in row 3, col 1' -> 'repeats'; 'gap' -> 'gap')."""
    out: dict[str, int] = {}
    for ok, r in zip(solved, reasons):
        if not ok:
            key = r.split(";")[0].split(" in ")[0]
            out[key] = out.get(key, 0) + 1
    return out


def _sudoku(qpath: str, apath: str):
    q, _, box = sd.read_file(qpath)
    if apath.endswith(".csv"):
        rows = read_csv(apath, ())
        col = "answer" if "answer" in rows[0][1] else "question"
        a = np.stack([sd.parse_line(r.get(col) or "", box, where=apath, line=ln) for ln, r in rows])
    else:
        a, _, _ = sd.read_file(apath, box)
    if len(a) != len(q):
        raise ParseError(apath, None, f"{len(a)} answers for {len(q)} questions")
    v = sd.verify(q, a, box)
    return v.solved, [v.reason(i, box) for i in range(len(q))]


def _maze(qpath: str, apath: str):
    q = mz.read_file(qpath)
    a = mz.read_file(apath, answers=True, endpoints=False)   # a lost S or G fails that answer only
    if len(a) != len(q):
        raise ParseError(apath, None, f"{len(a)} answers for {len(q)} questions")
    vs = [mz.verify(x, y) for x, y in zip(q, a)]
    return np.array([v.solved for v in vs]), [v.reason for v in vs]


def main(argv=None) -> int:
    ap = Parser(prog="python -m puzzles.verify", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("task", choices=["sudoku", "maze"])
    ap.add_argument("--questions", required=True, help="puzzle file (.txt, .csv, .npz)")
    ap.add_argument("--answers", required=True, help="answer file, one per question, same order")
    ap.add_argument("--json", action="store_true", help="print one JSON summary as the last line")
    ap.add_argument("--quiet", action="store_true", help="only the summary, no per-item lines")
    a = ap.parse_args(argv)
    try:
        solved, reasons = (_sudoku if a.task == "sudoku" else _maze)(a.questions, a.answers)
    except ParseError as e:
        return fail(str(e))
    if not a.quiet:
        for i, (ok, r) in enumerate(zip(solved, reasons)):
            print(f"{i + 1}\t{'solved' if ok else 'FAILED'}\t{'' if ok else r}")
    fails = failure_counts(solved, reasons)
    n, k = len(solved), int(np.sum(solved))
    print(f"{k}/{n} solved ({100 * k / n:.1f}%)" + (f"; failures: {fails}" if fails else ""))
    if a.json:
        print(json.dumps({"n": n, "solved": k, "solve_rate": k / n, "failures": fails}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
