"""The order in which the propagation solver fills a puzzle's blanks: the ARM's `solver` order.

Singles round by round, as ``singles_depth`` counts them: each round takes every naked and
hidden single of the grid as it stood at the round's start, in increasing cell index.
When a round finds none, the solver guesses: the blank with the fewest candidates
(lowest index on ties) gets its value from the solution, the solver's correct branch.
Each fill is one ARM token naming (cell, value): ``pair = cell * n + value - 1``.

``solver_rounds`` also gives each fill its round (a guess is a round of its own). Within a
round the fills do not depend on each other, so the ARM's loss takes every fill left in
the current round as a correct next token (``models.losses.arm_loss``, ``groups``): the
increasing-index tie-break is how the data is written down, and the symmetry augmentation
moves cells, so no model could see it anyway.
"""
from __future__ import annotations

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box
from puzzles.sudoku.rules import candidates, singles_round


def round_singles(grid: np.ndarray, box: Box = DEFAULT_BOX) -> dict[int, int]:
    """Naked and hidden singles of one grid [n*n] (0 = blank): {cell: value}, by cell
    (one ``rules.singles_round``)."""
    fill = singles_round(np.asarray(grid, dtype=np.int64).reshape(1, -1), box)[0][0]
    return {int(c): int(fill[c]) for c in np.nonzero(fill)[0]}


def solver_order(puzzle: np.ndarray, solution: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """The blanks of ``puzzle`` as (cell, value) rows [blanks, 2] in the solver's order."""
    return solver_rounds(puzzle, solution, box)[:, :2]


def solver_rounds(puzzle: np.ndarray, solution: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """The solver order with each fill's round: rows (cell, value, round) [blanks, 3]."""
    g = np.asarray(puzzle, dtype=np.int64).reshape(-1).copy()
    sol = np.asarray(solution, dtype=np.int64).reshape(-1)
    out: list[tuple[int, int, int]] = []
    r = 0
    while (g == 0).any():
        fills = round_singles(g, box)
        if not fills:                                                  # singles stall: guess
            cand = candidates(g[None], box)[0].sum(1)
            c = int(np.argmin(np.where(g == 0, cand, cand.max() + 1)))
            fills = {c: int(sol[c])}
        for c in fills:
            g[c] = sol[c]
            out.append((c, int(sol[c]), r))
        r += 1
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def to_pairs(order: np.ndarray, n: int) -> np.ndarray:
    """(cell, value) rows -> pair token ids."""
    return order[:, 0] * n + order[:, 1] - 1


def map_order(order: np.ndarray, perm: np.ndarray, dmap: np.ndarray) -> np.ndarray:
    """The order of a puzzle after the symmetry ``dmap[grid[perm]]``: cells move to where
    ``perm`` sends them, values are relabelled."""
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    return np.stack([inv[order[:, 0]], dmap[order[:, 1]].astype(np.int64)], 1)
