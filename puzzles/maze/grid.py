"""Lattice-maze grid basics: character codes, directions, endpoints and BFS distances.

A maze of r x c cells is a (2r+1) x (2c+1) uint8 array: cells at odd (row, col), the
character between two cells is their passage.
"""
from __future__ import annotations

from collections import deque

import numpy as np

WALL, OPEN, START, GOAL, PATH = 0, 1, 2, 3, 4
CHARS = "# SGo"
GENERATORS = ("dfs", "wilson", "kruskal")
_DIRS = ((-1, 0), (0, 1), (1, 0), (0, -1))   # N, E, S, W


def _find(maze: np.ndarray, code: int) -> tuple[int, int]:
    i, j = np.argwhere(maze == code)[0]
    return int(i), int(j)



def cell_distances(maze: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """BFS distance in characters from ``start`` to every open character (-1 if unreachable)."""
    h, w = maze.shape
    dist = np.full((h, w), -1, dtype=np.int32)
    dist[start] = 0
    q = deque([start])
    while q:
        i, j = q.popleft()
        for di, dj in _DIRS:
            a, b = i + di, j + dj
            if 0 <= a < h and 0 <= b < w and maze[a, b] != WALL and dist[a, b] < 0:
                dist[a, b] = dist[i, j] + 1
                q.append((a, b))
    return dist
