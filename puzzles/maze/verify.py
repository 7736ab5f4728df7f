"""Maze verdicts: is an answer one simple shortest S-G path over open cells?"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles.maze.grid import GOAL, OPEN, PATH, START, WALL, _find, cell_distances
from puzzles.maze.solve import shortest_length


@dataclass
class MazeVerdict:
    solved: bool
    reason: str          # 'solved' or one of REASONS


REASONS = ("shape mismatch", "changed cell", "through a wall", "branch", "gap",
           "detached loop", "not shortest")


def verify(question: np.ndarray, answer: np.ndarray) -> MazeVerdict:
    """Solved iff the ``o`` cells plus S and G form one simple 4-connected S-G path over
    open cells, nothing else changed, and its length equals the BFS distance."""
    q, a = np.asarray(question), np.asarray(answer)
    if q.shape != a.shape:
        return MazeVerdict(False, "shape mismatch")
    diff = q != a
    if (diff & (q == WALL) & (a == PATH)).any():
        return MazeVerdict(False, "through a wall")
    if (diff & ~((q == OPEN) & (a == PATH))).any():
        return MazeVerdict(False, "changed cell")
    on = (a == PATH) | (a == START) | (a == GOAL)
    p = np.pad(on, 1)
    deg = (p[:-2, 1:-1].astype(int) + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) * on
    ends = (a == START) | (a == GOAL)
    if (deg[on & ~ends] > 2).any() or (deg[ends] > 1).any():
        return MazeVerdict(False, "branch")
    s, g = _find(a, START), _find(a, GOAL)
    dist = cell_distances(np.where(on, OPEN, WALL).astype(np.uint8), s)
    if dist[g] < 0:
        return MazeVerdict(False, "gap")
    if (dist[on] < 0).any():
        return MazeVerdict(False, "detached loop")
    if int(on.sum()) - 1 != shortest_length(q):
        return MazeVerdict(False, "not shortest")
    return MazeVerdict(True, "solved")
