"""Solve Sudoku with a masked diffusion model and verify every answer.

    python -m solvers.sudoku --sampler eb
    python -m solvers.sudoku --sampler topk --k 1 --limit 200 --json
    python -m solvers.sudoku --sampler ar
    python -m solvers.sudoku --puzzle 4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......

Defaults: the shipped checkpoint models/pretrained/sudoku-mdm.pt and the shipped test
set datasets/sudoku/test.csv. The table goes to stdout; --json adds one JSON object
as the last line. Unsolvable puzzles (contradictory givens, no solution) are reported
and not counted as model failures.
"""
from __future__ import annotations

import sys

import numpy as np

from puzzles import sudoku as sd
from puzzles.tasks import SudokuTask
from solvers.cli import run


def main(argv=None) -> int:
    task = SudokuTask()

    def parse_one(s):
        return sd.parse_line(s, task.box, where="--puzzle")[None]

    def write(path, answers, style):
        sd.write_file(path, np.asarray(answers), task.box, style="grid" if style == "reasoning-gym" else "line")

    def show(grid):
        print(sd.format_board(grid, task.box))

    return run(task, argv, doc=__doc__, depth_name="singles depth", parse_one=parse_one,
               write_answers=write, show_one=show)


if __name__ == "__main__":
    sys.exit(main())
