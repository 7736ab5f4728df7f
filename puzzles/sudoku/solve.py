"""Sudoku solving and grading: propagation + MRV search, solution counting, singles depth."""
from __future__ import annotations

import numpy as np

from puzzles.sudoku.grid import DEFAULT_BOX, Box, Geometry, geometry
from puzzles.sudoku.rules import singles_round


def _init(puzzle: np.ndarray, geo: Geometry):
    """Candidate bitmasks (bit v-1 for digit v); (None, None) if two givens clash.

    One pass collects the digits used per row, column and box; a blank's candidates are
    what none of its three units uses."""
    n = geo.n
    full = (1 << n) - 1
    grid = puzzle.tolist() if isinstance(puzzle, np.ndarray) else list(puzzle)
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    rid, cid, bid = geo.row_l, geo.col_l, geo.box_l
    for c, v in enumerate(grid):
        if v:
            b = 1 << (v - 1)
            r, k, x = rid[c], cid[c], bid[c]
            if (rows[r] | cols[k] | boxes[x]) & b:
                return None, None
            rows[r] |= b
            cols[k] |= b
            boxes[x] |= b
    cand = [(1 << (v - 1)) if v else full & ~(rows[rid[c]] | cols[cid[c]] | boxes[bid[c]])
            for c, v in enumerate(grid)]
    return grid, cand


def _assign(grid: list, cand: list, peers: tuple, c: int, bit: int) -> bool:
    """Place the digit ``bit`` in cell c and remove it from its peers; False if a peer empties."""
    grid[c] = bit.bit_length()
    cand[c] = bit
    for p in peers:
        if cand[p] & bit:
            cand[p] &= ~bit
            if cand[p] == 0:
                return False
    return True


def _propagate(grid: list, cand: list, geo: Geometry) -> bool:
    """Naked and hidden singles to a fixed point, in place; False on a contradiction."""
    n, full, peers, units = geo.n, (1 << geo.n) - 1, geo.peers, geo.units
    while True:
        progress = False
        for c in range(n * n):
            if grid[c]:
                continue
            m = cand[c]
            if m == 0:
                return False
            if m & (m - 1) == 0:
                if not _assign(grid, cand, peers[c], c, m):
                    return False
                progress = True
        for unit in units:
            once = twice = placed = 0
            for c in unit:
                m = cand[c]
                if grid[c]:
                    placed |= m
                else:
                    twice |= once & m
                    once |= m
            if (once | placed) != full:
                return False
            hidden = once & ~twice & ~placed
            while hidden:
                b = hidden & -hidden
                hidden ^= b
                for c in unit:
                    if not grid[c] and cand[c] & b:
                        if not _assign(grid, cand, peers[c], c, b):
                            return False
                        progress = True
                        break
        if not progress:
            return True


def _search(grid, cand, geo, limit, out, rng=None, nodes=None):
    if nodes is not None:
        nodes[0] += 1
    if not _propagate(grid, cand, geo):
        return
    best, bestc = None, geo.n + 1
    for c in range(geo.n * geo.n):
        if not grid[c]:
            k = cand[c].bit_count()
            if k < bestc:
                best, bestc = c, k
                if k == 2:
                    break
    if best is None:
        out.append(list(grid))
        return
    m = cand[best]
    bits = []
    while m:
        b = m & -m
        bits.append(b)
        m ^= b
    if rng is not None:
        rng.shuffle(bits)
    for b in bits:
        g2, c2 = list(grid), list(cand)
        c2[best] = b
        _search(g2, c2, geo, limit, out, rng, nodes)
        if len(out) >= limit:
            return


def _has_other_solution(puzzle: np.ndarray, cell: int, value: int, geo: Geometry) -> bool:
    """For a puzzle whose solution has ``value`` at ``cell``: is there one without it?

    Removing a clue from a unique puzzle keeps it unique iff this is False; it is about
    half the work of counting to two, since no solution has to be found first.
    """
    grid, cand = _init(puzzle, geo)
    if grid is None:
        return False
    cand[cell] &= ~(1 << (value - 1))
    out: list = []
    _search(grid, cand, geo, 1, out)
    return bool(out)


def count_solutions(puzzle: np.ndarray, box: Box = DEFAULT_BOX, limit: int = 2) -> int:
    """Number of solutions, counting stops at ``limit``; 0 for contradictory givens."""
    geo = geometry(box)
    grid, cand = _init(puzzle, geo)
    if grid is None:
        return 0
    out: list = []
    _search(grid, cand, geo, limit, out)
    return len(out)


def solve(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> np.ndarray | None:
    """First solution found by propagation + minimum-remaining-values search, or None."""
    geo = geometry(box)
    grid, cand = _init(puzzle, geo)
    if grid is None:
        return None
    out: list = []
    _search(grid, cand, geo, 1, out)
    return np.array(out[0], dtype=np.int8) if out else None


def search_nodes(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> int:
    """Nodes the classical solver (propagation + MRV search) visits until its first
    solution: 1 when propagation alone solves the puzzle. The reference for the model's
    search budget (each node is one propagation, as a model's step is one forward pass)."""
    geo = geometry(box)
    grid, cand = _init(puzzle, geo)
    if grid is None:
        return 0
    out: list = []
    nodes = [0]
    _search(grid, cand, geo, 1, out, nodes=nodes)
    return nodes[0]


def check_puzzle(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> str:
    """'ok', 'contradictory givens', 'no solution' or 'several solutions'."""
    geo = geometry(box)
    grid, _ = _init(puzzle, geo)
    if grid is None:
        return "contradictory givens"
    k = count_solutions(puzzle, box, 2)
    return {0: "no solution", 1: "ok"}.get(k, "several solutions")


def singles_depth(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> int | None:
    """Synchronous rounds of 'fill every naked and hidden single at once' until solved
    (``rules.singles_round``, the package's one singles rule).

    Candidates come from filled peers only (no carried eliminations), so each round is
    what one forward pass of a perfect single-step deducer could commit. None when a
    round finds nothing while blanks remain, or the grid is contradictory.
    """
    g = np.asarray(puzzle, dtype=np.int64).reshape(1, -1)
    rounds = 0
    while (g == 0).any():
        fill, bad = singles_round(g, box)
        if bad[0] or not fill.any():
            return None
        g = np.where(fill > 0, fill, g)
        rounds += 1
    return rounds
