"""Maze generation: DFS, Wilson and Kruskal spanning trees, loops, endpoints; the mixed dataset."""
from __future__ import annotations

import numpy as np

from puzzles.maze.grid import GENERATORS, GOAL, OPEN, START, WALL, _neighbours, cell_distances
from puzzles.maze.solve import count_shortest_paths


def _carve(passages: list[tuple[int, int, int, int]], rows: int, cols: int) -> np.ndarray:
    g = np.zeros((2 * rows + 1, 2 * cols + 1), dtype=np.uint8)
    g[1::2, 1::2] = OPEN
    for (a, b, c, d) in passages:
        g[a + c + 1, b + d + 1] = OPEN
    return g


def _edges(rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    out = [(i, j, i, j + 1) for i in range(rows) for j in range(cols - 1)]
    return out + [(i, j, i + 1, j) for i in range(rows - 1) for j in range(cols)]


# The generators work on flat cell indices and Python lists (the training stream makes a
# fresh maze per example); they draw from ``rng`` exactly as the (row, col) versions did,
# so every seed gives the maze it always gave (tests/test_maze.py pins some).
def _dfs(rows, cols, rng):
    nbrs_of = _neighbours(rows, cols)
    seen = [False] * (rows * cols)
    i, j = int(rng.integers(rows)), int(rng.integers(cols))
    stack = [i * cols + j]
    seen[stack[0]] = True
    out = []
    while stack:
        k = stack[-1]
        nbrs = [n for n in nbrs_of[k] if not seen[n]]
        if not nbrs:
            stack.pop()
            continue
        n = nbrs[int(rng.integers(len(nbrs)))]
        seen[n] = True
        out.append((k // cols, k % cols, n // cols, n % cols))
        stack.append(n)
    return out


def _wilson(rows, cols, rng):
    """Uniform spanning tree by loop-erased random walks (Wilson, 1996)."""
    nbrs_of = _neighbours(rows, cols)
    in_tree = [False] * (rows * cols)
    i, j = int(rng.integers(rows)), int(rng.integers(cols))
    in_tree[i * cols + j] = True
    out = []
    for cell in rng.permutation(rows * cols).tolist():
        if in_tree[cell]:
            continue
        nxt = {}
        cur = cell
        while not in_tree[cur]:
            nbrs = nbrs_of[cur]
            nxt[cur] = nbrs[int(rng.integers(len(nbrs)))]
            cur = nxt[cur]
        cur = cell
        while not in_tree[cur]:
            in_tree[cur] = True
            n = nxt[cur]
            out.append((cur // cols, cur % cols, n // cols, n % cols))
            cur = n
    return out


def _kruskal(rows, cols, rng):
    parent = list(range(rows * cols))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a
    edges = _edges(rows, cols)
    out = []
    for k in rng.permutation(len(edges)):
        a, b, c, d = edges[k]
        ra, rb = find(a * cols + b), find(c * cols + d)
        if ra != rb:
            parent[ra] = rb
            out.append(edges[k])
    return out


_GEN = {"dfs": _dfs, "wilson": _wilson, "kruskal": _kruskal}


def generate_one(seed: int, index: int, rows: int = 10, cols: int = 10, *, algorithm: str = "wilson",
                 extra_open: float = 0.0, min_path: int = 0, far_quantile: float = 0.75) -> np.ndarray:
    """Maze ``index`` of the dataset with ``seed`` (depends only on (seed, index)).

    ``extra_open`` knocks out that fraction of the remaining interior walls (loops).
    S is a random cell; G a random cell whose distance from S is at least
    ``max(min_path, far_quantile * farthest)`` characters.
    """
    rng = np.random.default_rng([seed, index])
    g = random_maze(rng, rows, cols, algorithm=algorithm, extra_open=extra_open, min_path=min_path,
                    far_quantile=far_quantile)
    if g is None:
        raise RuntimeError(f"no maze with a path of length >= {min_path} (seed={seed}, index={index})")
    return g


def random_maze(rng, rows: int, cols: int, *, algorithm: str = "wilson", extra_open: float = 0.0,
                min_path: int = 0, far_quantile: float = 0.75, tries: int = 100) -> np.ndarray | None:
    """One maze from ``rng`` (anything with numpy's ``integers(n)`` and ``permutation(n)``);
    None when ``tries`` mazes all lack an S-G distance of ``min_path``."""
    if algorithm not in _GEN:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {GENERATORS}")
    for _ in range(tries):
        g = _carve(_GEN[algorithm](rows, cols, rng), rows, cols)
        if extra_open > 0:
            closed = [e for e in _edges(rows, cols) if g[e[0] + e[2] + 1, e[1] + e[3] + 1] == WALL]
            k = round(extra_open * len(closed))
            for idx in rng.permutation(len(closed))[:k]:
                a, b, c, d = closed[idx]
                g[a + c + 1, b + d + 1] = OPEN
        s = (2 * int(rng.integers(rows)) + 1, 2 * int(rng.integers(cols)) + 1)
        dist = cell_distances(g, s)
        cells = dist[1::2, 1::2]
        need = max(min_path, int(far_quantile * cells.max()), 1)
        ok = np.argwhere(cells >= need)
        if len(ok):
            i, j = ok[int(rng.integers(len(ok)))]
            g[s] = START
            g[2 * i + 1, 2 * j + 1] = GOAL
            return g
    return None


MIXED_LOOPS = (0.05, 0.1, 0.2)     # extra_open values drawn by generate_mixed


def generate_mixed(seed: int, index: int, rows: int = 10, cols: int = 10, *,
                   unique_path: bool = False) -> np.ndarray:
    """Maze ``index`` of a mixed dataset: every kind of lattice maze the generators make.

    Item (seed, index) draws uniformly an algorithm (DFS, Wilson, Kruskal), loops or
    none (half of the items; ``extra_open`` from ``MIXED_LOOPS``) and an endpoint rule
    (S and G far apart, or anywhere, half each). With ``unique_path`` the maze is redrawn
    until its shortest S-G path is unique, so that a training target is never one
    arbitrary choice among tied paths.
    """
    rng = np.random.default_rng([seed, index, 17])
    for attempt in range(1000):
        algorithm = GENERATORS[int(rng.integers(len(GENERATORS)))]
        extra = float(MIXED_LOOPS[int(rng.integers(len(MIXED_LOOPS)))]) if rng.random() < 0.5 else 0.0
        far = 0.75 if rng.random() < 0.5 else 0.0
        q = generate_one(int(rng.integers(2**31)), attempt, rows, cols, algorithm=algorithm,
                         extra_open=extra, far_quantile=far)
        if not unique_path or count_shortest_paths(q, cap=2) == 1:
            return q
    raise RuntimeError(f"no maze with a unique shortest path (seed={seed}, index={index})")
