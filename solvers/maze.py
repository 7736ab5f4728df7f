"""Solve lattice mazes (4x4 to 20x20 cells, any shape) with a masked diffusion model and verify every answer.

    python -m solvers.maze --sampler eb
    python -m solvers.maze --sampler topk --k 1 --limit 100 --json
    python -m solvers.maze --sampler ar
    python -m solvers.maze --input my_mazes.txt --output answers.txt
    python -m solvers.maze --input datasets/maze/test-20.csv --sampler eb

Defaults: models/pretrained/maze-mdm.pt and datasets/maze/test.csv. The MDM reads
every size up to 20x20 cells in one file (decoded one shape at a time); the ARMs read
10x10 only. A maze is solved
when its 'o' cells form one simple S-G path of shortest length. --puzzle takes one
maze with its rows separated by '|' (or newlines). Answers are written as text
blocks with 'o' on the path.
"""
from __future__ import annotations

import sys

from puzzles import maze as mz
from puzzles.tasks import MazeTask
from solvers.cli import run


def main(argv=None) -> int:
    task = MazeTask()

    def parse_one(s):
        q = mz.parse_block(s.replace("|", "\n").strip("\n").split("\n"), where="--puzzle")
        mz.check_lattice(q, where="--puzzle")
        return [q]

    def write(path, answers, style):
        mz.write_file(path, answers, answers, style=style)

    def show(grid):
        print(mz.format_block(grid))

    return run(task, argv, doc=__doc__, depth_name="dead-end depth", parse_one=parse_one,
               write_answers=write, show_one=show)


if __name__ == "__main__":
    sys.exit(main())
