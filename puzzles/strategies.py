"""Hypothesis strategies for Sudoku and mazes, for your tests and ours.

Needs ``hypothesis`` (the ``dev`` extra). Every strategy draws all of its randomness
from hypothesis (``st.randoms`` and ``st.permutations``), so failing examples replay
and shrink, and there is no hidden seed. Example::

    from hypothesis import given
    from puzzles import sudoku as sd
    from puzzles.strategies import sudoku_puzzles

    @given(sudoku_puzzles(box=(2, 2)))
    def test_my_solver(pair):
        puzzle, solution = pair
        assert (my_solve(puzzle) == solution).all()     # unique, so the answer is known

Strategies:
    sudoku_solutions(box)                    complete valid grids [n*n]
    sudoku_puzzles(box, clues, unique)       (puzzle, solution) pairs
    sudoku_corruptions(puzzle, solution)     (grid, kind): an invalid answer and why
    mazes(rows, cols, algorithm, loops)      (maze, answer) pairs, answer a shortest path
    maze_corruptions(maze, answer)           (answer, kind): an invalid answer and why

The corruption kinds and the verifier reason each must produce are in
``SUDOKU_CORRUPTIONS`` and ``MAZE_CORRUPTIONS``.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.maze.generate import random_maze
from puzzles.sudoku.grid import geometry
from puzzles.sudoku.solve import _has_other_solution, _init, _search

# kind -> the start of the verifier's reason for it
SUDOKU_CORRUPTIONS = {"changed cell": "repeats", "swap in unit": "repeats", "blanked cell": "1 blank cells",
                      "changed given": "given changed", "digits swapped everywhere": "given changed"}
MAZE_CORRUPTIONS = {"through a wall": "through a wall", "gap": "gap", "branch": "branch",
                    "detour": "not shortest", "detached loop": "detached loop"}
_DEFAULT_CLUES = {4: (4, 8), 6: (10, 16), 9: (28, 34), 16: (100, 130)}


class _NumpyLike:
    """numpy-Generator methods that the generators call, backed by a hypothesis Random."""

    def __init__(self, r):
        self.r = r

    def integers(self, n: int) -> int:
        return self.r.randrange(n)

    def permutation(self, n: int) -> np.ndarray:
        return np.array(self.r.sample(range(n), n))

    def shuffle(self, xs: list) -> None:
        self.r.shuffle(xs)

    def random(self) -> float:
        return self.r.random()


@st.composite
def sudoku_solutions(draw, box: sd.Box = (3, 3)) -> np.ndarray:
    """A complete valid grid: a random first row, then a randomised MRV search."""
    geo = geometry(box)
    r = draw(st.randoms(use_true_random=False))
    first = np.zeros(geo.n * geo.n, dtype=np.int8)
    first[:geo.n] = np.array(r.sample(range(1, geo.n + 1), geo.n))
    grid, cand = _init(first, geo)
    out: list = []
    _search(grid, cand, geo, 1, out, rng=r)
    return np.array(out[0], dtype=np.int8)


@st.composite
def sudoku_puzzles(draw, box: sd.Box = (3, 3), clues: int | tuple[int, int] | None = None,
                   unique: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(puzzle, solution). Clues are removed in a drawn order down to a drawn count within
    ``clues`` (default: the generator's range for the size); with ``unique`` a clue is kept
    whenever removing it would admit a second solution, so the puzzle may keep more clues
    than asked, never fewer."""
    geo = geometry(box)
    n2 = geo.n * geo.n
    lo, hi = (clues, clues) if isinstance(clues, int) else (clues or _DEFAULT_CLUES[geo.n])
    sol = draw(sudoku_solutions(box))
    target = draw(st.integers(lo, hi))
    order = draw(st.permutations(range(n2)))
    puz = sol.copy()
    filled = n2
    for c in order:
        if filled <= target:
            break
        v = puz[c]
        puz[c] = 0
        if unique and _has_other_solution(puz, int(c), int(v), geo):
            puz[c] = v
        else:
            filled -= 1
    return puz, sol


@st.composite
def sudoku_corruptions(draw, puzzle: np.ndarray, solution: np.ndarray,
                       box: sd.Box = (3, 3)) -> tuple[np.ndarray, str]:
    """(grid, kind): the solution with one corruption, every one of them invalid.

    'changed cell' sets a blank's answer to another digit; 'swap in unit' swaps two
    different answers of one row (their columns then repeat); 'blanked cell' empties an
    answer; 'changed given' alters a given; 'digits swapped everywhere' exchanges two
    digits in every cell, so the grid is still a valid Sudoku and only the givens
    betray it (a validator that ignores the givens passes every other kind). Kinds that
    the puzzle cannot host (no blanks, no givens, no row with two blanks) are not drawn."""
    geo = geometry(box)
    n = geo.n
    blanks = [int(c) for c in np.flatnonzero(puzzle == 0)]
    givens = [int(c) for c in np.flatnonzero(puzzle != 0)]
    rows = [u for u in geo.units[:n] if sum(puzzle[c] == 0 for c in u) >= 2]
    kinds = [k for k, ok in (("changed cell", blanks), ("swap in unit", rows), ("blanked cell", blanks),
                             ("changed given", givens), ("digits swapped everywhere", givens)) if ok]
    kind = draw(st.sampled_from(kinds))
    g = np.array(solution, dtype=np.int8)
    if kind in ("changed cell", "changed given"):
        c = draw(st.sampled_from(blanks if kind == "changed cell" else givens))
        g[c] = draw(st.sampled_from([v for v in range(1, n + 1) if v != solution[c]]))
    elif kind == "digits swapped everywhere":
        a = int(solution[draw(st.sampled_from(givens))])          # a given's digit, so a given changes
        b = draw(st.sampled_from([v for v in range(1, n + 1) if v != a]))
        g = np.where(g == a, b, np.where(g == b, a, g)).astype(np.int8)
    elif kind == "blanked cell":
        g[draw(st.sampled_from(blanks))] = 0
    else:
        unit = draw(st.sampled_from(rows))
        a, b = draw(st.lists(st.sampled_from([c for c in unit if puzzle[c] == 0]), min_size=2, max_size=2,
                             unique=True))
        g[a], g[b] = g[b], g[a]
    return g, kind


@st.composite
def mazes(draw, rows: int = 10, cols: int = 10, algorithm: str | None = None,
          loops: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(maze, answer): a lattice maze from one of our generators, and a shortest path.

    ``algorithm`` None draws one of ``mz.GENERATORS``; ``loops`` knocks out a drawn
    fraction (0.05-0.3) of the remaining walls. Endpoints are drawn anywhere."""
    alg = algorithm or draw(st.sampled_from(mz.GENERATORS))
    extra = draw(st.sampled_from([0.05, 0.1, 0.2, 0.3])) if loops else 0.0
    rng = _NumpyLike(draw(st.randoms(use_true_random=False)))
    q = random_maze(rng, rows, cols, algorithm=alg, extra_open=extra, far_quantile=0.0)
    return q, mz.solve(q)


def _path_cells(answer: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in p) for p in np.argwhere(answer == mz.PATH)]


@st.composite
def maze_corruptions(draw, maze: np.ndarray, answer: np.ndarray) -> tuple[np.ndarray, str]:
    """(answer, kind): the answer with one corruption, every one of them invalid.

    'through a wall' marks an interior wall; 'gap' unmarks a path character; 'branch'
    marks an open character next to the path (a spur or a second route); 'detour' swaps
    the path for a longer simple one; 'detached loop' adds a marked cycle that does not
    touch the path. Kinds the maze cannot host are not drawn (a detour needs a loop,
    a detached loop a 2x2-cell open block away from the path)."""
    h, w = maze.shape
    path = _path_cells(answer)
    on = (answer == mz.PATH) | (answer == mz.START) | (answer == mz.GOAL)
    walls = [tuple(int(v) for v in p) for p in np.argwhere(maze == mz.WALL)
             if 0 < p[0] < h - 1 and 0 < p[1] < w - 1]
    spurs = [(i, j) for i, j in np.argwhere(answer == mz.OPEN).tolist()
             if any(on[i + di, j + dj] for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)))]
    options = {"through a wall": walls, "gap": path, "branch": spurs,
               "detour": _detours(maze, answer), "detached loop": _free_rings(maze, on)}
    kind = draw(st.sampled_from([k for k, v in options.items() if v]))
    a = np.array(answer)
    if kind == "through a wall":
        a[draw(st.sampled_from(walls))] = mz.PATH
    elif kind == "gap":
        a[draw(st.sampled_from(path))] = mz.OPEN
    elif kind == "branch":
        a[draw(st.sampled_from(spurs))] = mz.PATH
    elif kind == "detour":
        a = draw(st.sampled_from(options["detour"]))
    else:
        for p in draw(st.sampled_from(options["detached loop"])):
            a[p] = mz.PATH
    return a, kind


def _free_rings(maze: np.ndarray, on: np.ndarray) -> list[list[tuple[int, int]]]:
    """Open 3x3-character rings (2x2 cells, all four passages open) not touching the path."""
    h, w = maze.shape
    out = []
    for i in range(1, h - 3, 2):
        for j in range(1, w - 3, 2):
            ring = [(i + di, j + dj) for di in range(3) for dj in range(3) if (di, dj) != (1, 1)]
            near = on[max(i - 1, 0):i + 4, max(j - 1, 0):j + 4]
            if all(maze[p] == mz.OPEN for p in ring) and not near.any():
                out.append(ring)
    return out


def _detours(maze: np.ndarray, answer: np.ndarray, limit: int = 8) -> list[np.ndarray]:
    """Answers marking a simple S-G path longer than the shortest (up to ``limit`` of them)."""
    import networkx as nx
    g = nx.grid_2d_graph(*maze.shape)
    g.remove_nodes_from([tuple(p) for p in np.argwhere(maze == mz.WALL).tolist()])
    s = tuple(np.argwhere(maze == mz.START)[0].tolist())
    t = tuple(np.argwhere(maze == mz.GOAL)[0].tolist())
    best = mz.shortest_length(maze)
    out = []
    for k, p in enumerate(nx.shortest_simple_paths(g, s, t)):
        if len(p) - 1 > best:
            a = np.array(maze)
            for c in p[1:-1]:
                a[c] = mz.PATH
            out.append(a)
        if len(out) >= limit or k >= 4 * limit:
            break
    return out
