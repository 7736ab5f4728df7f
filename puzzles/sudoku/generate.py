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


def generate_minimal(seed: int, index: int, box: Box = DEFAULT_BOX) -> tuple[np.ndarray, np.ndarray]:
    """Puzzle ``index`` of ``seed`` with clues removed until none can go (any difficulty):
    what the ``mixed`` training pool and ``--eval-hard`` validation draw."""
    n = geometry(box).n
    return generate_one(seed, index, box, clues=(0, n * n), minimal=True)


def _minimize(puzzle: np.ndarray, rng: np.random.Generator, geo) -> np.ndarray:
    """Drop clues in random order while the solution stays unique. One pass is enough:
    a clue that cannot go now cannot go after others went (fewer clues, more solutions)."""
    puz = puzzle.copy()
    for c in rng.permutation(np.flatnonzero(puz)):
        v = puz[c]
        puz[c] = 0
        if _has_other_solution(puz, int(c), int(v), geo):
            puz[c] = v
    return puz


def is_minimal(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> bool:
    """Every clue is needed: removing any one admits a second solution."""
    geo = geometry(box)
    for c in np.flatnonzero(puzzle):
        p = puzzle.copy()
        p[c] = 0
        if not _has_other_solution(p, int(c), int(puzzle[c]), geo):
            return False
    return True


def sparsify(puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator, box: Box = DEFAULT_BOX, *,
             target: int = 20, steps: int = 300) -> tuple[np.ndarray, int]:
    """Local search over clue sets toward ``target`` clues; returns (puzzle, swaps tried).

    Start from the puzzle made minimal. Each step swaps a random clue for a random blank
    (given its solution value); when the solution stays unique the result is made minimal
    again and kept if it has no more clues than the current puzzle (equal counts let the
    search walk across plateaus). Stops at ``target`` clues or after ``steps`` swaps. The
    solution never changes and every kept puzzle is unique and minimal.
    """
    from puzzles.sudoku.solve import count_solutions
    geo = geometry(box)
    cur = _minimize(np.asarray(puzzle).copy(), rng, geo)
    tried = 0
    while tried < steps and np.count_nonzero(cur) > target:
        tried += 1
        c, c2 = rng.choice(np.flatnonzero(cur)), rng.choice(np.flatnonzero(cur == 0))
        cand = cur.copy()
        cand[c], cand[c2] = 0, solution[c2]
        if count_solutions(cand, box, 2) != 1:
            continue
        cand = _minimize(cand, rng, geo)
        if np.count_nonzero(cand) <= np.count_nonzero(cur):
            cur = cand
    return cur, tried


def generate_sparse(seed: int, index: int, box: Box = DEFAULT_BOX, *, target: int = 20,
                    steps: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """A minimal puzzle pushed toward ``target`` clues by ``sparsify``; depends on (seed, index)."""
    geo = geometry(box)
    puz, sol = generate_one(seed, index, box, clues=(0, geo.n * geo.n), minimal=True)
    rng = np.random.default_rng([seed, index, 1])
    return sparsify(puz, sol, rng, box, target=target, steps=steps)[0], sol
