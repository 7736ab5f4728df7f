"""Task adapters: everything a model-facing entry point needs to know about a puzzle.

Each task declares, in one place, its vocabulary, its MASK id, the ids a model may emit,
its grid shape, how questions become token rows and back, how answers are verified and
graded (singles / dead-end depth), how a board is displayed and how training batches are
drawn (``puzzles.task_sudoku``, ``puzzles.task_maze``; the protocol is
``puzzles.task_base.Task``). Pure numpy: torch-side code converts with ``torch.from_numpy``.
"""
from __future__ import annotations

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.io import ParseError
from puzzles.task_base import Batch, Task
from puzzles.task_maze import MazeTask
from puzzles.task_sudoku import SudokuTask

__all__ = ["TASKS", "Batch", "MazeTask", "SudokuTask", "Task", "get_task", "read_questions"]

TASKS = {"sudoku": SudokuTask, "maze": MazeTask}


def get_task(name: str):
    return TASKS[name]()


def read_questions(task, path: str):
    """(questions, answers or None) in the task's native form; raises ParseError."""
    if task.name == "sudoku":
        q, a, box = sd.read_file(path)
        if box != task.box:
            raise ParseError(path, 1, f"{box[0] * box[1]}x{box[0] * box[1]} grids, but the model "
                                      f"is for {task.n}x{task.n}")
        return q, a
    qs = mz.read_file(path)          # any size: the model's limits are checked where it is loaded
    ans = None
    if str(path).endswith(".csv"):
        try:
            ans = mz.read_file(path, answers=True)
        except ParseError:          # the answer column is optional
            ans = None
    return qs, ans
