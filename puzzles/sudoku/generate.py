"""Sudoku generation: random complete grids and puzzles with a unique solution, per (seed, index)."""
from __future__ import annotations

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box, geometry
from puzzles.sudoku.solve import _has_other_solution, _init, _search, singles_depth


def random_grid(rng: np.random.Generator, box: Box = DEFAULT_BOX) -> np.ndarray:
    """A uniformly-seeded random complete grid (randomised MRV search on the empty grid)."""
    geo = geometry(box)
    n = geo.n
    # Seed the first row with a random permutation so the search starts diverse.
    first = np.zeros(n * n, dtype=np.int8)
    first[:n] = rng.permutation(n) + 1
    grid, cand = _init(first, geo)
    out: list = []
    _search(grid, cand, geo, 1, out, rng=_PyRng(rng))
    return np.array(out[0], dtype=np.int8)


class _PyRng:
    """Adapter so the pure-Python search can shuffle small lists with a numpy Generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def shuffle(self, xs: list) -> None:
        perm = self.rng.permutation(len(xs))
        xs[:] = [xs[i] for i in perm]


def generate_one(seed: int, index: int, box: Box = DEFAULT_BOX, *, clues: tuple[int, int] = (28, 34),
                 difficulty: str = "any", depth: tuple[int, int] | None = None,
                 minimal: bool = False, max_tries: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Puzzle ``index`` of the dataset with ``seed``; depends only on (seed, index).

    A random complete grid, then clues removed in random order while the solution stays
    unique, down to a clue count drawn from ``clues`` (or as far as possible when
    ``minimal``). ``difficulty``: 'singles' (singles alone solve it, depth within
    ``depth``), 'guess' (singles stall) or 'any'.
    """
    geo = geometry(box)
    rng = np.random.default_rng([seed, index])
    for _ in range(max_tries):
        sol = random_grid(rng, box)
        target = int(rng.integers(clues[0], clues[1] + 1))
        puz = sol.copy()
        filled = geo.n * geo.n
        for c in rng.permutation(geo.n * geo.n):
            if not minimal and filled <= target:
                break
            v = puz[c]
            puz[c] = 0
            if _has_other_solution(puz, int(c), int(v), geo):
                puz[c] = v
            else:
                filled -= 1
        if not (clues[0] <= filled <= clues[1]):
            continue
        if difficulty != "any":
            d = singles_depth(puz, box)
            if difficulty == "singles" and (d is None or (depth and not depth[0] <= d <= depth[1])):
                continue
            if difficulty == "guess" and d is not None:
                continue
        return puz, sol
    raise RuntimeError(f"no puzzle met the constraints in {max_tries} tries (seed={seed}, index={index})")
