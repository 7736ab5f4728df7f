"""Sudoku grid geometry (units, peers, box shapes) and the model's token mapping.

A grid of side n = box_rows * box_cols is a flat int row of n*n cells, 0 for blank;
model tokens are digit-1, with MASK = n.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

Box = tuple[int, int]
DEFAULT_BOX: Box = (3, 3)
BOXES: dict[int, Box] = {4: (2, 2), 6: (2, 3), 9: (3, 3), 16: (4, 4)}
ALPHABET = "123456789ABCDEFG"


@dataclass(frozen=True)
class Geometry:
    n: int
    box: Box
    units: tuple[tuple[int, ...], ...]          # rows, then cols, then boxes
    peers: tuple[tuple[int, ...], ...]
    units_of: tuple[tuple[int, ...], ...]       # unit indices that hold each cell
    row: np.ndarray
    col: np.ndarray
    boxid: np.ndarray
    row_l: tuple[int, ...]          # the same as plain tuples, for the pure-Python solver
    col_l: tuple[int, ...]
    box_l: tuple[int, ...]


@cache
def geometry(box: Box = DEFAULT_BOX) -> Geometry:
    br, bc = box
    n = br * bc
    cells = np.arange(n * n)
    row, col = cells // n, cells % n
    boxid = (row // br) * (n // bc) + col // bc
    units = [tuple(int(c) for c in cells[row == r]) for r in range(n)]
    units += [tuple(int(c) for c in cells[col == k]) for k in range(n)]
    units += [tuple(int(c) for c in cells[boxid == b]) for b in range(n)]
    units_of = tuple(tuple(u for u, cs in enumerate(units) if c in cs) for c in range(n * n))
    peers = tuple(tuple(sorted({p for u in units_of[c] for p in units[u]} - {c}))
                  for c in range(n * n))
    return Geometry(n, box, tuple(units), peers, units_of, row, col, boxid,
                    tuple(row.tolist()), tuple(col.tolist()), tuple(boxid.tolist()))


def box_for_size(n: int) -> Box:
    if n not in BOXES:
        raise ValueError(f"no standard box shape for a {n}x{n} grid (known: {sorted(BOXES)})")
    return BOXES[n]


def unit_name(u: int, n: int) -> str:
    kind = ("row", "col", "box")[u // n]
    return f"{kind} {u % n + 1}"


def vocab(box: Box = DEFAULT_BOX) -> list[str]:
    """Token strings: digits 1..n, then the MASK token (id n)."""
    n = box[0] * box[1]
    return list(ALPHABET[:n]) + ["<mask>"]


def mask_id(box: Box = DEFAULT_BOX) -> int:
    return box[0] * box[1]


def encode(grids: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """Grids [N, n*n] (0 = blank) -> tokens [N, n*n] (digit-1, blank -> MASK)."""
    g = np.asarray(grids).astype(np.int64)
    return np.where(g == 0, mask_id(box), g - 1)


def decode(tokens: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray:
    """Tokens -> grids; MASK (or any out-of-range id) becomes a blank."""
    t = np.asarray(tokens).astype(np.int64)
    n = box[0] * box[1]
    return np.where((t >= 0) & (t < n), t + 1, 0).astype(np.int8)
