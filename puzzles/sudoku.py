"""Sudoku of any box shape: parse, format, verify, solve, grade, generate, augment.

A grid of side n = box_rows * box_cols is stored as a flat numpy row of n*n ints,
0 for a blank. A batch is an array ``[N, n*n]``. The 4x4 example below (boxes 2x2)
walks through every function::

    >>> from puzzles import sudoku as sd
    >>> box = (2, 2)
    >>> p = sd.parse_line("1...|..2.|.3..|...4".replace("|", ""), box)   # 4 givens
    >>> sd.count_solutions(p, box, limit=2)      # 1: the puzzle is well posed
    1
    >>> q = sd.parse_line("12....2..3....4.".replace(".", "0"), box)
    >>> sol = sd.solve(q, box)                   # propagation + MRV search
    >>> sd.format_line(sol, box)
    '1234342143122143'
    >>> bool(sd.verify(q[None], sol[None], box).solved[0])
    True
    >>> sd.singles_depth(q, box)                 # rounds of "fill every single at once"
    2

Digits are written 1-9 for n <= 9 and ``123456789ABCDEFG`` for 16x16 (A=10 ... G=16);
``.`` or ``0`` is a blank. Model tokens (``encode``) are digit-1, with ``MASK = n``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from puzzles.io import ParseError

Box = tuple[int, int]
DEFAULT_BOX: Box = (3, 3)
BOXES: dict[int, Box] = {4: (2, 2), 6: (2, 3), 9: (3, 3), 16: (4, 4)}
ALPHABET = "123456789ABCDEFG"


# ----------------------------------------------------------------------------- geometry
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


@lru_cache(maxsize=None)
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


# ----------------------------------------------------------------------------- text I/O
def parse_line(text: str, box: Box = DEFAULT_BOX, *, where: str = "<string>",
               line: int | None = None) -> np.ndarray:
    """One puzzle or grid written on one line -> int array [n*n]; ParseError if malformed."""
    n = box[0] * box[1]
    s = text.strip()
    if len(s) != n * n:
        raise ParseError(where, line, f"expected {n * n} cells for a {n}x{n} grid, got {len(s)}")
    out = np.zeros(n * n, dtype=np.int8)
    for i, ch in enumerate(s):
        if ch in ".0":
            continue
        v = ALPHABET.find(ch.upper()) + 1
        if v <= 0 or v > n:
            raise ParseError(where, line, f"bad character {ch!r} at column {i + 1} "
                             f"(a {n}x{n} grid uses {ALPHABET[:n]!r} and '.' or '0' for blanks)")
        out[i] = v
    return out


def format_line(grid: np.ndarray, box: Box = DEFAULT_BOX, blank: str = ".") -> str:
    return "".join(blank if v == 0 else ALPHABET[v - 1] for v in np.asarray(grid).tolist())


def format_board(grid: np.ndarray, box: Box = DEFAULT_BOX) -> str:
    """Readable board with box separators (for the single-puzzle CLI)."""
    br, bc = box
    n = br * bc
    g = np.asarray(grid).reshape(n, n)
    lines = []
    for r in range(n):
        if r and r % br == 0:
            lines.append("+".join(["-" * (2 * bc + 1)] * (n // bc)))
        cells = [("." if v == 0 else ALPHABET[v - 1]) for v in g[r].tolist()]
        parts = [" " + " ".join(cells[k:k + bc]) + " " for k in range(0, n, bc)]
        lines.append("|".join(parts))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- verifier
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


# ----------------------------------------------------------------------------- solver
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


def _search(grid, cand, geo, limit, out, rng=None):
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
        _search(g2, c2, geo, limit, out, rng)
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


def check_puzzle(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> str:
    """'ok', 'contradictory givens', 'no solution' or 'several solutions'."""
    geo = geometry(box)
    grid, _ = _init(puzzle, geo)
    if grid is None:
        return "contradictory givens"
    k = count_solutions(puzzle, box, 2)
    return {0: "no solution", 1: "ok"}.get(k, "several solutions")


def singles_depth(puzzle: np.ndarray, box: Box = DEFAULT_BOX) -> int | None:
    """Synchronous rounds of 'fill every naked and hidden single at once' until solved.

    Candidates come from filled peers only (no carried eliminations), so each round is
    what one forward pass of a perfect single-step deducer could commit. None when a
    round finds nothing while blanks remain, or the givens clash.
    """
    geo = geometry(box)
    n, full = geo.n, (1 << geo.n) - 1
    grid = [int(v) for v in puzzle]
    rounds = 0
    while 0 in grid:
        cand = [0] * (n * n)
        for c in range(n * n):
            if not grid[c]:
                used = 0
                for p in geo.peers[c]:
                    if grid[p]:
                        used |= 1 << (grid[p] - 1)
                cand[c] = full & ~used
                if cand[c] == 0:
                    return None
        fills: dict[int, int] = {}
        for c in range(n * n):
            m = cand[c]
            if m and m & (m - 1) == 0:
                fills[c] = m.bit_length()
        for unit in geo.units:
            once = twice = placed = 0
            for c in unit:
                if grid[c]:
                    placed |= 1 << (grid[c] - 1)
                else:
                    twice |= once & cand[c]
                    once |= cand[c]
            hidden = once & ~twice & ~placed
            while hidden:
                b = hidden & -hidden
                hidden ^= b
                for c in unit:
                    if not grid[c] and cand[c] & b:
                        fills[c] = b.bit_length()
        if not fills:
            return None
        for c, v in fills.items():
            grid[c] = v
        rounds += 1
    return rounds


# ----------------------------------------------------------------------------- generator
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


# ----------------------------------------------------------------------------- symmetry
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


# ----------------------------------------------------------------------------- model tokens
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


# ----------------------------------------------------------------------------- files
def read_file(path: str, box: Box | None = None) -> tuple[np.ndarray, np.ndarray | None, Box]:
    """Read puzzles (and answers when present) from ``.txt``, ``.csv`` or ``.npz``.

    ``.txt``: one grid per line, blank lines and ``#`` comments skipped. ``.csv``: a
    header with ``question`` and optionally ``answer`` (the HRM layout
    ``source,question,answer,rating`` loads). ``.npz``: arrays ``puzzles`` and
    optionally ``answers``. The box shape is inferred from the first grid's length
    unless given. Raises ParseError naming the file and line.
    """
    from puzzles.io import read_csv, read_text
    if str(path).endswith(".npz"):
        try:
            z = np.load(path)
        except Exception as e:  # noqa: BLE001 - any unreadable npz is a user error
            raise ParseError(path, None, f"cannot read .npz: {e}") from None
        if "puzzles" not in z:
            raise ParseError(path, None, "npz has no 'puzzles' array")
        p = z["puzzles"].astype(np.int8)
        box = box or box_for_size(int(round(np.sqrt(p.shape[1]))))
        a = z["answers"].astype(np.int8) if "answers" in z else None
        return p, a, box
    if str(path).endswith(".csv"):
        rows = read_csv(path, ("question",))
        box = box or _infer_box(path, rows[0][0], rows[0][1]["question"])
        qs = [parse_line(r["question"], box, where=path, line=ln) for ln, r in rows]
        ans = None
        if rows[0][1].get("answer") not in (None, ""):
            ans = np.stack([parse_line(r["answer"], box, where=path, line=ln) for ln, r in rows])
        return np.stack(qs), ans, box
    text = read_text(path)
    items = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not items:
        raise ParseError(path, None, "empty file (no puzzles)")
    box = box or _infer_box(path, items[0][0], items[0][1])
    return np.stack([parse_line(s, box, where=path, line=ln) for ln, s in items]), None, box


def _infer_box(path: str, line: int, s: str) -> Box:
    n = int(round(len(s.strip()) ** 0.5))
    if n * n != len(s.strip()) or n not in BOXES:
        raise ParseError(path, line, f"a line of {len(s.strip())} cells is not a 4x4, 6x6, 9x9 "
                                     "or 16x16 grid")
    return BOXES[n]


def write_file(path: str, puzzles: np.ndarray, box: Box = DEFAULT_BOX,
               answers: np.ndarray | None = None, extra: dict[str, list] | None = None) -> None:
    """Write atomically, format by extension; ``extra`` adds CSV metadata columns."""
    from puzzles.io import atomic_write_bytes, atomic_write_text, csv_text
    if str(path).endswith(".npz"):
        import io
        buf = io.BytesIO()
        arrays = {"puzzles": np.asarray(puzzles, dtype=np.int8)}
        if answers is not None:
            arrays["answers"] = np.asarray(answers, dtype=np.int8)
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
    elif str(path).endswith(".csv"):
        extra = extra or {}
        header = ["question"] + (["answer"] if answers is not None else []) + list(extra)
        rows = []
        for i, p in enumerate(puzzles):
            row = [format_line(p, box)]
            if answers is not None:
                row.append(format_line(answers[i], box))
            rows.append(row + [extra[k][i] for k in extra])
        atomic_write_text(path, csv_text(header, rows))
    else:
        atomic_write_text(path, "".join(format_line(p, box) + "\n" for p in puzzles))


# ----------------------------------------------------------------------------- conflicts
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
