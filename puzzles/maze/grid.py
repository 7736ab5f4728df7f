"""Lattice-maze grid basics: character codes, directions, endpoints and BFS distances.

A maze of r x c cells is a (2r+1) x (2c+1) uint8 array: cells at odd (row, col), the
character between two cells is their passage.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

WALL, OPEN, START, GOAL, PATH = 0, 1, 2, 3, 4
CHARS = "# SGo"
GENERATORS = ("dfs", "wilson", "kruskal")
_DIRS = ((-1, 0), (0, 1), (1, 0), (0, -1))   # N, E, S, W


def _find(maze: np.ndarray, code: int) -> tuple[int, int]:
    i, j = np.argwhere(maze == code)[0]
    return int(i), int(j)



@lru_cache(maxsize=64)
def _neighbours(rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    """Per flat index of a rows x cols grid, its neighbours' flat indices in ``_DIRS`` order
    (N, E, S, W). Cached per shape: the generators, the BFS and the shortest-path walk share it."""
    return tuple(tuple((i + di) * cols + j + dj for di, dj in _DIRS if 0 <= i + di < rows and 0 <= j + dj < cols)
                 for i in range(rows) for j in range(cols))


def cell_distances(maze: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """BFS distance in characters from ``start`` to every open character (-1 if unreachable).

    On flat Python lists, not numpy scalars: the training stream calls this three times
    per fresh maze, where element-wise numpy indexing cost most of the BFS's time."""
    h, w = maze.shape
    open_ = (np.asarray(maze) != WALL).ravel().tolist()
    dist = [-1] * (h * w)
    s = start[0] * w + start[1]
    dist[s] = 0
    queue = [s]
    nbrs = _neighbours(h, w)
    for k in queue:                       # the list grows as the BFS goes: a FIFO queue
        d = dist[k] + 1
        for nb in nbrs[k]:
            if open_[nb] and dist[nb] < 0:
                dist[nb] = d
                queue.append(nb)
    return np.array(dist, dtype=np.int32).reshape(h, w)
