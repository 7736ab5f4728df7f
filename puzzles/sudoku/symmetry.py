"""Sudoku symmetries that keep a grid valid: band/row/stack/column permutations, relabelling, transpose."""
from __future__ import annotations

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box


def random_symmetry(rng: np.random.Generator, box: Box = DEFAULT_BOX) -> tuple[np.ndarray, np.ndarray]:
    """A random validity-preserving symmetry: (cell permutation [n*n], digit map [n+1]).

    Rows are permuted within bands and bands among themselves, the same for columns
    and stacks, digits relabelled, and (square boxes only) the grid transposed.
    Apply as ``digit_map[grid[cell_perm]]``.
    """
    br, bc = box
    n = br * bc
    rows = np.concatenate([b * br + rng.permutation(br) for b in rng.permutation(n // br)])
    cols = np.concatenate([s * bc + rng.permutation(bc) for s in rng.permutation(n // bc)])
    perm = (rows[:, None] * n + cols[None, :])
    if br == bc and rng.random() < 0.5:
        perm = perm.T
    dmap = np.concatenate([[0], rng.permutation(n) + 1]).astype(np.int8)
    return perm.reshape(-1), dmap


def augment(grids: np.ndarray, rng: np.random.Generator, box: Box = DEFAULT_BOX,
            *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Apply one random symmetry per row to ``grids`` and, identically, to ``others``."""
    grids = np.asarray(grids)
    perms, maps = zip(*(random_symmetry(rng, box) for _ in range(len(grids))))
    perms, maps = np.stack(perms), np.stack(maps)
    rows = np.arange(len(grids))[:, None]
    out = [maps[rows, np.take_along_axis(a, perms, axis=1)] for a in (grids, *others)]
    return tuple(out)
