"""Batched Sudoku rules for decoding: candidates from filled peers, and singles propagation.

Both work on many partial grids at once ([N, n*n], 0 = blank) and cost no forward pass.
``candidates`` is the ``mask`` rule: a value a filled peer holds gets no probability.
``propagate`` is the ``propagate`` rule: naked and hidden singles are filled, round after
round, to a fixed point, exactly the deductions of ``singles_depth`` (and of the
classical solver's propagation before it guesses).
"""
from __future__ import annotations

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box


def _units(box: Box) -> np.ndarray:
    """Cell indices of every row, column and box: [3n, n]."""
    br, bc = box
    n = br * bc
    idx = np.arange(n * n).reshape(n, n)
    boxes = idx.reshape(n // br, br, n // bc, bc).transpose(0, 2, 1, 3).reshape(n, n)
    return np.concatenate([idx, idx.T, boxes])


def candidates(grids: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """bool [N, n*n, n]: digit d+1 is possible in a cell (a filled cell: only its digit)."""
    br, bc = box
    n = br * bc
    g = np.asarray(grids).reshape(-1, n * n)
    units = _units(box)                                               # (3n, n)
    oh = g[..., None] == np.arange(1, n + 1)                          # (N, cells, n)
    used_unit = oh[:, units].any(2)                                   # (N, 3n, n)
    member = np.zeros((3 * n, n * n), bool)
    member[np.repeat(np.arange(3 * n), n), units.reshape(-1)] = True
    used = (member.T[None, :, :, None] & used_unit[:, None]).any(2)  # (N, cells, n)
    return np.where((g > 0)[..., None], oh, ~used)


def singles_round(grids: np.ndarray, box: Box = DEFAULT_BOX) -> tuple[np.ndarray, np.ndarray]:
    """One synchronous round of singles on partial grids [N, n*n] (0 = blank): every naked
    and hidden single of each grid as it stands, from filled peers only (no carried
    eliminations). The one singles rule of the package: ``propagate``, ``singles_depth``
    and the ARM's solver order (``order.round_singles``) are rounds of it.

    Returns (fills [N, n*n]: the digit a blank gets this round, else 0; contradiction [N]:
    a repeated digit in a unit, a blank with no candidate, or a digit with no place left in
    a unit that lacks it). A contradictory grid gets no fills."""
    n = box[0] * box[1]
    g = np.asarray(grids, dtype=np.int64).reshape(-1, n * n)
    units = _units(box)
    cand = candidates(g, box)
    oh = g[..., None] == np.arange(1, n + 1)
    per_unit = oh[:, units].sum(2)                                    # (N, 3n, n) placed count
    blank = g == 0
    places = (cand & blank[..., None])[:, units].sum(2)               # (N, 3n, n)
    bad = ((per_unit > 1).any((1, 2)) | (blank & ~cand.any(2)).any(1)
           | ((places == 0) & (per_unit == 0)).any((1, 2)))
    fill = np.zeros_like(g)
    naked = blank & (cand.sum(2) == 1)
    fill[naked] = cand[naked].argmax(1) + 1
    hidden = (places == 1) & (per_unit == 0)                           # (N, 3n, n)
    for b, u, d in zip(*np.nonzero(hidden & ~bad[:, None, None])):
        cells = units[u]
        c = cells[(cand[b, cells, d] & blank[b, cells]).argmax()]
        fill[b, c] = d + 1
    fill[bad] = 0
    return fill, bad


def propagate(grids: np.ndarray, box: Box = DEFAULT_BOX) -> tuple[np.ndarray, np.ndarray]:
    """Rounds of ``singles_round`` to a fixed point.

    Returns (filled grids [N, n*n], contradiction bool [N]): a blank with no candidate,
    a digit with no place left in a unit, or a repeated digit in a unit."""
    n = box[0] * box[1]
    g = np.array(grids, dtype=np.int64).reshape(-1, n * n)
    bad = np.zeros(len(g), bool)
    while True:
        fill, now = singles_round(g, box)
        bad |= now
        fill[bad] = 0
        if not fill.any():
            return g, bad
        g = np.where((g == 0) & (fill > 0), fill, g)
