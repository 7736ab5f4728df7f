"""The maze models' token layout: one structure token and one state token per cell."""
from __future__ import annotations

import numpy as np

from puzzles.maze.grid import _DIRS, GOAL, OPEN, PATH, START, WALL

# One token per cell carries its four passage bits and its S/G flag (48 structure ids);
# a second token per cell carries the decoded state. The sequence is
# [structure(r*c), state(r*c)]: the givens are the structure half and the S/G states.
N_STRUCT = 48
OFF, ON, MASK = 48, 49, 50
VOCAB_SIZE = 51


def vocab() -> list[str]:
    return [f"cell{k}" for k in range(N_STRUCT)] + ["off", "on", "<mask>"]


def encode(maze: np.ndarray, answer: np.ndarray | None = None) -> np.ndarray:
    """Lattice maze [H, W] -> tokens [2*r*c]; states are MASK except S/G (ON), or the
    answer's path when ``answer`` is given."""
    m = np.asarray(maze)
    cells = m[1::2, 1::2]
    r, c = cells.shape
    bits = np.zeros((r, c), dtype=np.int64)
    for k, (di, dj) in enumerate(_DIRS):
        bits |= (m[1 + di:2 * r + 1 + di:2, 1 + dj:2 * c + 1 + dj:2] != WALL).astype(np.int64) << k
    flag = np.where(cells == START, 1, np.where(cells == GOAL, 2, 0))
    struct = (flag * 16 + bits).reshape(-1)
    ends = (flag > 0).reshape(-1)
    if answer is None:
        state = np.where(ends, ON, MASK)
    else:
        a = np.asarray(answer)[1::2, 1::2].reshape(-1)
        state = np.where(ends | (a == PATH), ON, OFF)
    return np.concatenate([struct, state])


def decode(tokens: np.ndarray, maze: np.ndarray) -> np.ndarray:
    """Tokens -> answer grid: ON cells marked ``o``, and the open passage between two
    adjacent ON cells. MASK and OFF cells stay as in the question."""
    m = np.asarray(maze)
    r, c = m.shape[0] // 2, m.shape[1] // 2
    on = (np.asarray(tokens)[r * c:] == ON).reshape(r, c)
    out = m.copy()
    cells = out[1::2, 1::2]
    cells[on & (cells == OPEN)] = PATH
    v = on[:-1] & on[1:] & (m[2:-1:2, 1::2] == OPEN)
    out[2:-1:2, 1::2][v] = PATH
    hz = on[:, :-1] & on[:, 1:] & (m[1::2, 2:-1:2] == OPEN)
    out[1::2, 2:-1:2][hz] = PATH
    return out


def _open_count(bits: np.ndarray, a: np.ndarray) -> np.ndarray:
    """For passage bits [N, r, c] and a bool map a [N, r, c]: each cell's count of open
    neighbours where a holds."""
    a = a.astype(np.int16)
    s = np.zeros(a.shape, np.int16)
    s[:, 1:] += ((bits[:, 1:] >> 0) & 1) * a[:, :-1]                    # N
    s[:, :, :-1] += ((bits[:, :, :-1] >> 1) & 1) * a[:, :, 1:]          # E
    s[:, :-1] += ((bits[:, :-1] >> 2) & 1) * a[:, 1:]                   # S
    s[:, :, 1:] += ((bits[:, :, 1:] >> 3) & 1) * a[:, :, :-1]           # W
    return s


def conflicts(tokens: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Batched check of partial cell-state tokens [N, 2*r*c]: True where a path cell has
    three path neighbours (S/G: two), or a path cell (S/G included) can no longer reach
    two (S/G: one) neighbours that are on the path or undecided: a dead end."""
    t = np.asarray(tokens)
    L = rows * cols
    struct = t[:, :L].reshape(-1, rows, cols)
    state = t[:, L:].reshape(-1, rows, cols)
    bits, end = struct % 16, struct >= 16
    on, live = state == ON, state != OFF
    n_on, n_live = _open_count(bits, on), _open_count(bits, live)
    branch = (on & ~end & (n_on > 2)) | (end & (n_on > 1))
    stuck = (on & ~end & (n_live < 2)) | (end & (n_live < 1))
    return (branch | stuck).any((1, 2))


def decided_off(tokens: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Batched: the masked cells of partial token rows [N, 2*r*c] that dead-end filling
    decides from what is already off: at most one open neighbour that is not OFF (S and
    G are never masked). [N, r*c] bool."""
    t = np.asarray(tokens)
    L = rows * cols
    struct = t[:, :L].reshape(-1, rows, cols)
    state = t[:, L:].reshape(-1, rows, cols)
    deg = _open_count(struct % 16, state != OFF)
    return ((state == MASK) & (deg <= 1)).reshape(len(t), L)


def _filling(bits: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Parallel dead-end filling on passage bits [N, r, c] with S/G flags ``end``: the
    round (0, 1, ...) in which each cell is removed, -1 for cells never removed. Each
    round removes, at once, every live cell other than S and G with at most one live
    open neighbour."""
    alive = np.ones(bits.shape, bool)
    out = np.full(bits.shape, -1, np.int32)
    k = 0
    while True:
        kill = alive & ~end & (_open_count(bits, alive) <= 1)
        if not kill.any():
            return out
        out[kill] = k
        alive &= ~kill
        k += 1


def fill_rounds(tokens: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Batched dead-end filling of solved token rows [N, 2*r*c]: the round (0, 1, ...)
    in which parallel dead-end filling (``_filling``) removes each OFF cell, -1 for cells
    it never removes (the path, S and G, and OFF cells on loops). [N, r*c]. These are the
    states a one-round-per-pass decoder (and top-1, one cell at a time) walks through on
    the way to the path."""
    t = np.asarray(tokens)
    L = rows * cols
    struct = t[:, :L].reshape(-1, rows, cols)
    off = t[:, L:].reshape(-1, rows, cols) == OFF
    return np.where(off, _filling(struct % 16, struct >= 16), -1).reshape(len(t), L)


_STEPS = ((0, -1, 0), (1, 0, 1), (2, 1, 0), (3, 0, -1))   # passage bit k: N, E, S, W as (k, dr, dc)


def path_cells(tokens: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The ON cells of a solved token row [2*r*c] in walking order from S (excluded) to G
    (included): the maze ARM's ``path`` order. The path must be simple and shortest, so
    from each cell exactly one unvisited ON neighbour is reachable through a passage."""
    t = np.asarray(tokens)
    L = rows * cols
    struct, on = t[:L], t[L:] == ON
    cur = int(np.nonzero(struct // 16 == 1)[0][0])
    goal = int(np.nonzero(struct // 16 == 2)[0][0])
    seen, out = {cur}, []
    while cur != goal:
        r, c = divmod(cur, cols)
        nxt = [(r + dr) * cols + c + dc for k, dr, dc in _STEPS
               if (struct[cur] >> k) & 1 and 0 <= r + dr < rows and 0 <= c + dc < cols
               and on[(r + dr) * cols + c + dc] and (r + dr) * cols + c + dc not in seen]
        if len(nxt) != 1:
            raise ValueError(f"not a simple S-G path: {len(nxt)} ways on from cell {cur}")
        cur = nxt[0]
        seen.add(cur)
        out.append(cur)
    return np.array(out, dtype=np.int64)


# Passage bit k of a cell points N, E, S, W (k = 0..3). Under a grid symmetry the bits
# move with the directions: rotating the grid a quarter turn clockwise sends N to E.
def dihedral(tokens: np.ndarray, rows: int, cols: int, k: int) -> np.ndarray:
    """A token row [structure(r*c), state(r*c)] under symmetry k of the grid: k % 4
    quarter turns clockwise, then (k >= 4) a left-right mirror (k < 4 only when r != c)."""
    L = rows * cols
    struct = tokens[:L].reshape(rows, cols)
    state = tokens[L:].reshape(rows, cols)
    flag, bits = struct // 16, struct % 16
    dirs = [(bits >> d) & 1 for d in range(4)]                       # N, E, S, W

    def rot(a):   # quarter turn clockwise of an array
        return np.rot90(a, -1)
    for _ in range(k % 4):
        flag, state = rot(flag), rot(state)
        n_, e_, s_, w_ = (rot(d) for d in dirs)
        dirs = [w_, n_, e_, s_]                                      # new N was W, etc.
    if k >= 4:                                                       # mirror left-right
        flag, state = flag[:, ::-1], state[:, ::-1]
        n_, e_, s_, w_ = (d[:, ::-1] for d in dirs)
        dirs = [n_, w_, s_, e_]
    bits = dirs[0] | dirs[1] << 1 | dirs[2] << 2 | dirs[3] << 3
    return np.concatenate([(flag * 16 + bits).reshape(-1), state.reshape(-1)])
