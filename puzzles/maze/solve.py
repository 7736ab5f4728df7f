"""Maze solving and grading: BFS shortest path, counting shortest paths, dead-end depth."""
from __future__ import annotations

import numpy as np

from puzzles.maze.grid import _DIRS, GOAL, PATH, START, _find, _neighbours, cell_distances
from puzzles.maze.tokens import _filling, encode


def shortest_length(maze: np.ndarray) -> int:
    """BFS distance from S to G in characters (-1 if G is unreachable)."""
    return int(cell_distances(maze, _find(maze, START))[_find(maze, GOAL)])


def count_shortest_paths(maze: np.ndarray, cap: int = 2) -> int:
    """Number of distinct shortest S-G paths, counted up to ``cap`` (0 if unreachable)."""
    start, goal = _find(maze, START), _find(maze, GOAL)
    dist = cell_distances(maze, start)
    if dist[goal] < 0:
        return 0
    ways = np.zeros(maze.shape, dtype=np.int64)
    ways[start] = 1
    h, w = maze.shape
    for d in range(1, int(dist[goal]) + 1):
        for i, j in np.argwhere(dist == d):
            total = 0
            for di, dj in _DIRS:
                a, b = i + di, j + dj
                if 0 <= a < h and 0 <= b < w and dist[a, b] == d - 1:
                    total += ways[a, b]
            ways[i, j] = min(total, cap)
    return int(ways[goal])


def solve(maze: np.ndarray) -> np.ndarray | None:
    """The question with one shortest S-G path marked ``o``; None if G is unreachable."""
    dist = cell_distances(maze, _find(maze, START))
    cur = _find(maze, GOAL)
    if dist[cur] < 0:
        return None
    out = maze.copy()
    h, w = maze.shape
    while dist[cur] > 1:
        for di, dj in _DIRS:
            a, b = cur[0] + di, cur[1] + dj
            if 0 <= a < h and 0 <= b < w and dist[a, b] == dist[cur] - 1:
                cur = (a, b)
                break
        out[cur] = PATH
    return out


def dead_end_depth(maze: np.ndarray) -> int:
    """Rounds of parallel dead-end filling on the cell graph, plus one.

    Each round removes, all at once, every cell other than S and G with at most one
    remaining open neighbour cell. On a perfect maze this stops when only the S-G
    path is left; the count is the NFE a perfect one-round-per-call deducer needs
    over cell tokens (the unit the maze models decode).
    """
    r, c = maze.shape[0] // 2, maze.shape[1] // 2
    struct = encode(maze)[:r * c].reshape(1, r, c)
    return int(_filling(struct % 16, struct >= 16).max()) + 2


def random_shortest_path(maze: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The question with one shortest S-G path marked ``o``, drawn uniformly at random among
    all shortest paths (None if G is unreachable). Where paths tie, every one is equally
    likely, so a model trained on these answers learns that tied cells are uncertain.

    Walks from S, stepping to a neighbour one character closer to G along some shortest
    path, with probability proportional to the number of shortest paths from it to G.
    (Flat indices and Python lists: the training stream calls this once per fresh maze.)"""
    start, goal = _find(maze, START), _find(maze, GOAL)
    h, w = maze.shape
    ds = cell_distances(maze, start).ravel().tolist()
    dg = cell_distances(maze, goal).ravel().tolist()
    s, g = start[0] * w + start[1], goal[0] * w + goal[1]
    total = ds[g]
    if total < 0:
        return None
    on = [a >= 0 and a + b == total for a, b in zip(ds, dg)]      # on some shortest path

    nbrs = _neighbours(h, w)

    def steps(k: int) -> list[int]:      # k's neighbours on a shortest path, N, E, S, W
        return [n for n in nbrs[k] if on[n]]
    ways = [0.0] * (h * w)               # shortest paths from a character to G
    ways[g] = 1.0
    for k in sorted((k for k in range(h * w) if on[k]), key=dg.__getitem__)[1:]:
        ways[k] = sum(ways[n] for n in steps(k) if dg[n] == dg[k] - 1)
    out = maze.copy()
    flat = out.reshape(-1)
    cur = s
    while cur != g:
        nxt = [n for n in steps(cur) if ds[n] == ds[cur] + 1]
        p = np.array([ways[n] for n in nxt])
        cur = nxt[int(rng.choice(len(nxt), p=p / p.sum()))] if len(nxt) > 1 else nxt[0]
        if cur != g:
            flat[cur] = PATH
    return out
