"""Sudoku verdicts: the batched verifier of complete grids and the conflict check of partial ones."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box, unit_name


@dataclass
class Verdict:
    """Per-grid verdicts of ``verify``; arrays of length N."""
    solved: np.ndarray          # bool
    blanks: np.ndarray          # int, blank cells left
    given_changed: np.ndarray   # bool
    bad_units: np.ndarray       # bool [N, 3n]: unit holds a repeated symbol

    def reason(self, i: int, box: Box = DEFAULT_BOX) -> str:
        if self.solved[i]:
            return "solved"
        n = box[0] * box[1]
        out = []
        if self.given_changed[i]:
            out.append("given changed")
        if self.blanks[i]:
            out.append(f"{int(self.blanks[i])} blank cells")
        units = np.flatnonzero(self.bad_units[i])
        if units.size:
            out.append("repeats in " + ", ".join(unit_name(int(u), n) for u in units))
        return "; ".join(out)


_CHUNK = 4096


def verify(puzzles: np.ndarray, grids: np.ndarray, box: Box = DEFAULT_BOX) -> Verdict:
    """Batched check: every given kept, no blank, every row/col/box a permutation of 1..n.

    Vectorised with bitmasks: a unit of n cells is a permutation of 1..n iff the OR of
    ``1 << (v-1)`` over it has all n bits set (n cells cannot set n bits otherwise, and a
    blank sets none). Details (blanks, repeated units) are computed for failures only.
    """
    br, bc = box
    n = br * bc
    p = np.asarray(puzzles).reshape(-1, n * n)
    g = np.asarray(grids).reshape(-1, n * n)
    N = len(g)
    if N > _CHUNK:   # chunks that stay in cache are ~3x faster than one pass over 1M grids
        parts = [verify(p[s:s + _CHUNK], g[s:s + _CHUNK], box) for s in range(0, N, _CHUNK)]
        return Verdict(*(np.concatenate([getattr(v, f) for v in parts])
                         for f in ("solved", "blanks", "given_changed", "bad_units")))
    lut = np.array([0] + [1 << k for k in range(n)], dtype=np.uint16)
    # take(mode='clip') sends out-of-range values to a blank or to n; in_range rejects them.
    bits = np.take(lut, g, mode="clip").reshape(N, n, n)                    # (N, row, col)
    full = (1 << n) - 1
    rows = bits[:, :, 0].copy()
    cols = bits[:, 0, :].copy()
    for k in range(1, n):
        rows |= bits[:, :, k]
        cols |= bits[:, k, :]
    b5 = bits.reshape(N, n // br, br, n // bc, bc)                          # (N, band, r, stack, c)
    boxes = b5[:, :, 0, :, 0].copy()
    for i in range(br):
        for j in range(bc):
            if i or j:
                boxes |= b5[:, :, i, :, j]
    ok = (rows == full).all(1) & (cols == full).all(1) & (boxes == full).all((1, 2))
    changed = ((p != 0) & (p != g)).any(1)
    in_range = ((g >= 0) & (g <= n)).all(1)
    solved = ok & ~changed & in_range
    blanks = np.zeros(N, dtype=np.int64)
    bad = np.zeros((N, 3 * n), dtype=bool)
    fail = np.flatnonzero(~solved)
    if fail.size:
        gf = g[fail]
        blanks[fail] = ((gf == 0) | (gf > n) | (gf < 0)).sum(1)
        units = np.concatenate([rows[fail], cols[fail], boxes[fail].reshape(len(fail), n)], 1)
        filled = (gf > 0).reshape(-1, n, n)
        counts = np.concatenate([filled.sum(2), filled.sum(1),
                                 filled.reshape(-1, n // br, br, n // bc, bc).sum((2, 4)).reshape(-1, n)], 1)
        bad[fail] = _popcount(units) < counts
    return Verdict(solved, blanks, changed, bad)


def _popcount(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.uint32)
    c = np.zeros(a.shape, dtype=np.int32)
    while a.any():
        c += (a & 1).astype(np.int32)
        a = a >> 1
    return c


def conflicts(grids: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """Batched check of partial grids (0 = blank): True where a unit repeats a symbol or a
    blank cell has every symbol ruled out by its filled peers. Cheap enough to run after
    every decoding step."""
    br, bc = box
    n = br * bc
    g = np.asarray(grids).reshape(-1, n, n)
    N = len(g)
    oh = (g[..., None] == np.arange(1, n + 1)).astype(np.int16)           # (N, r, c, digit)
    rows, cols = oh.sum(2), oh.sum(1)                                       # (N, n, digit)
    boxes = oh.reshape(N, n // br, br, n // bc, bc, n).sum((2, 4))         # (N, band, stack, digit)
    dup = (rows > 1).any((1, 2)) | (cols > 1).any((1, 2)) | (boxes > 1).any((1, 2, 3))
    used = (rows[:, :, None, :] > 0) | (cols[:, None, :, :] > 0)           # (N, r, c, digit)
    used = used | np.repeat(np.repeat(boxes > 0, br, 1), bc, 2)
    dead = ((g == 0) & used.all(-1)).any((1, 2))
    return dup | dead
