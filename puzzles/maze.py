"""Lattice mazes: generate, solve (BFS), verify, grade (dead-end depth), encode.

A maze of r x c cells is drawn on a (2r+1) x (2c+1) character grid (HRM charset):
``#`` wall, space open, ``S`` start, ``G`` goal, ``o`` path (answers only). Cells sit at
odd (row, col); the character between two cells is their passage. A 2x2 example::

    >>> from puzzles import maze as mz
    >>> q = mz.parse_block(["#####", "#S  #", "### #", "#G  #", "#####"])
    >>> a = mz.solve(q)                           # BFS over open characters
    >>> print(mz.format_block(a))
    #####
    #Soo#
    ###o#
    #Goo#
    #####
    >>> mz.verify(q, a).reason                    # one simple S-G path, shortest
    'solved'
    >>> mz.dead_end_depth(q)                      # a tree with no dead ends: 0 rounds + 1
    1

Arrays are uint8 codes (WALL=0, OPEN=1, START=2, GOAL=3, PATH=4) of shape [H, W].
With loops (``extra_open > 0``) several shortest paths may exist: the verifier accepts
any path whose length equals the BFS distance.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from puzzles.io import ParseError

WALL, OPEN, START, GOAL, PATH = 0, 1, 2, 3, 4
CHARS = "# SGo"
GENERATORS = ("dfs", "wilson", "kruskal")
_DIRS = ((-1, 0), (0, 1), (1, 0), (0, -1))   # N, E, S, W


# ----------------------------------------------------------------------------- text I/O
def parse_block(lines: list[str], *, where: str = "<string>", line: int | None = None,
                answer: bool = False) -> np.ndarray:
    """Lines of one maze -> uint8 array [H, W]; ParseError on ragged rows or bad marks."""
    if not lines:
        raise ParseError(where, line, "empty maze")
    w = len(lines[0])
    for k, s in enumerate(lines):
        if len(s) != w:
            raise ParseError(where, None if line is None else line + k,
                             f"ragged rows: row {k + 1} has {len(s)} characters, row 1 has {w}")
    allowed = CHARS if answer else CHARS[:4]
    out = np.zeros((len(lines), w), dtype=np.uint8)
    for k, s in enumerate(lines):
        for j, ch in enumerate(s):
            v = allowed.find(ch)
            if v < 0:
                raise ParseError(where, None if line is None else line + k,
                                 f"bad character {ch!r} at column {j + 1} (allowed: {allowed!r})")
            out[k, j] = v
    for code, name in ((START, "S"), (GOAL, "G")):
        cnt = int((out == code).sum())
        if cnt != 1:
            raise ParseError(where, line, f"a maze needs exactly one {name}, found {cnt}")
    return out


def format_block(maze: np.ndarray) -> str:
    return "\n".join("".join(CHARS[v] for v in row) for row in np.asarray(maze).tolist())


def check_lattice(maze: np.ndarray, *, where: str = "<string>", line: int | None = None) -> None:
    """Raise ParseError unless the grid is a lattice maze: odd sides, walled border,
    walls at even/even corners, cells (odd/odd) open with S and G on cells."""
    h, w = maze.shape
    if h % 2 == 0 or w % 2 == 0 or h < 3 or w < 3:
        raise ParseError(where, line, f"a lattice maze has odd sides >= 3, got {h}x{w}")
    border = np.concatenate([maze[0], maze[-1], maze[:, 0], maze[:, -1]])
    if (border != WALL).any():
        raise ParseError(where, line, "the border must be all walls '#'")
    if (maze[::2, ::2] != WALL).any():
        raise ParseError(where, line, "corner positions (even row, even column) must be walls")
    if (maze[1::2, 1::2] == WALL).any():
        raise ParseError(where, line, "cell positions (odd row, odd column) must be open")


# ----------------------------------------------------------------------------- generators
def _carve(passages: list[tuple[int, int, int, int]], rows: int, cols: int) -> np.ndarray:
    g = np.zeros((2 * rows + 1, 2 * cols + 1), dtype=np.uint8)
    g[1::2, 1::2] = OPEN
    for (a, b, c, d) in passages:
        g[a + c + 1, b + d + 1] = OPEN
    return g


def _edges(rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    out = [(i, j, i, j + 1) for i in range(rows) for j in range(cols - 1)]
    return out + [(i, j, i + 1, j) for i in range(rows - 1) for j in range(cols)]


def _dfs(rows, cols, rng):
    seen = np.zeros((rows, cols), bool)
    stack = [(int(rng.integers(rows)), int(rng.integers(cols)))]
    seen[stack[0]] = True
    out = []
    while stack:
        i, j = stack[-1]
        nbrs = [(i + di, j + dj) for di, dj in _DIRS
                if 0 <= i + di < rows and 0 <= j + dj < cols and not seen[i + di, j + dj]]
        if not nbrs:
            stack.pop()
            continue
        ni, nj = nbrs[int(rng.integers(len(nbrs)))]
        seen[ni, nj] = True
        out.append((i, j, ni, nj))
        stack.append((ni, nj))
    return out


def _wilson(rows, cols, rng):
    """Uniform spanning tree by loop-erased random walks (Wilson, 1996)."""
    in_tree = np.zeros((rows, cols), bool)
    in_tree[int(rng.integers(rows)), int(rng.integers(cols))] = True
    out = []
    order = rng.permutation(rows * cols)
    for s in order:
        cell = (int(s) // cols, int(s) % cols)
        if in_tree[cell]:
            continue
        nxt = {}
        cur = cell
        while not in_tree[cur]:
            i, j = cur
            nbrs = [(i + di, j + dj) for di, dj in _DIRS if 0 <= i + di < rows and 0 <= j + dj < cols]
            nxt[cur] = nbrs[int(rng.integers(len(nbrs)))]
            cur = nxt[cur]
        cur = cell
        while not in_tree[cur]:
            in_tree[cur] = True
            out.append((*cur, *nxt[cur]))
            cur = nxt[cur]
    return out


def _kruskal(rows, cols, rng):
    parent = list(range(rows * cols))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a
    edges = _edges(rows, cols)
    out = []
    for k in rng.permutation(len(edges)):
        a, b, c, d = edges[k]
        ra, rb = find(a * cols + b), find(c * cols + d)
        if ra != rb:
            parent[ra] = rb
            out.append(edges[k])
    return out


_GEN = {"dfs": _dfs, "wilson": _wilson, "kruskal": _kruskal}


def cell_distances(maze: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """BFS distance in characters from ``start`` to every open character (-1 if unreachable)."""
    h, w = maze.shape
    dist = np.full((h, w), -1, dtype=np.int32)
    dist[start] = 0
    q = deque([start])
    while q:
        i, j = q.popleft()
        for di, dj in _DIRS:
            a, b = i + di, j + dj
            if 0 <= a < h and 0 <= b < w and maze[a, b] != WALL and dist[a, b] < 0:
                dist[a, b] = dist[i, j] + 1
                q.append((a, b))
    return dist


def generate_one(seed: int, index: int, rows: int = 10, cols: int = 10, *, algorithm: str = "wilson",
                 extra_open: float = 0.0, min_path: int = 0, far_quantile: float = 0.75) -> np.ndarray:
    """Maze ``index`` of the dataset with ``seed`` (depends only on (seed, index)).

    ``extra_open`` knocks out that fraction of the remaining interior walls (loops).
    S is a random cell; G a random cell whose distance from S is at least
    ``max(min_path, far_quantile * farthest)`` characters.
    """
    if algorithm not in _GEN:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {GENERATORS}")
    rng = np.random.default_rng([seed, index])
    for _ in range(100):
        g = _carve(_GEN[algorithm](rows, cols, rng), rows, cols)
        if extra_open > 0:
            closed = [e for e in _edges(rows, cols) if g[e[0] + e[2] + 1, e[1] + e[3] + 1] == WALL]
            k = int(round(extra_open * len(closed)))
            for idx in rng.permutation(len(closed))[:k]:
                a, b, c, d = closed[idx]
                g[a + c + 1, b + d + 1] = OPEN
        s = (2 * int(rng.integers(rows)) + 1, 2 * int(rng.integers(cols)) + 1)
        dist = cell_distances(g, s)
        cells = dist[1::2, 1::2]
        need = max(min_path, int(far_quantile * cells.max()), 1)
        ok = np.argwhere(cells >= need)
        if len(ok):
            i, j = ok[int(rng.integers(len(ok)))]
            g[s] = START
            g[2 * i + 1, 2 * j + 1] = GOAL
            return g
    raise RuntimeError(f"no maze with a path of length >= {min_path} (seed={seed}, index={index})")


MIXED_LOOPS = (0.05, 0.1, 0.2)     # extra_open values drawn by generate_mixed


def generate_mixed(seed: int, index: int, rows: int = 10, cols: int = 10, *,
                   unique_path: bool = False) -> np.ndarray:
    """Maze ``index`` of a mixed dataset: every kind of lattice maze the generators make.

    Item (seed, index) draws uniformly an algorithm (DFS, Wilson, Kruskal), loops or
    none (half of the items; ``extra_open`` from ``MIXED_LOOPS``) and an endpoint rule
    (S and G far apart, or anywhere, half each). With ``unique_path`` the maze is redrawn
    until its shortest S-G path is unique, so that a training target is never one
    arbitrary choice among tied paths.
    """
    rng = np.random.default_rng([seed, index, 17])
    for attempt in range(1000):
        algorithm = GENERATORS[int(rng.integers(len(GENERATORS)))]
        extra = float(MIXED_LOOPS[int(rng.integers(len(MIXED_LOOPS)))]) if rng.random() < 0.5 else 0.0
        far = 0.75 if rng.random() < 0.5 else 0.0
        q = generate_one(int(rng.integers(2**31)), attempt, rows, cols, algorithm=algorithm,
                         extra_open=extra, far_quantile=far)
        if not unique_path or count_shortest_paths(q, cap=2) == 1:
            return q
    raise RuntimeError(f"no maze with a unique shortest path (seed={seed}, index={index})")


# ----------------------------------------------------------------------------- solver
def _find(maze: np.ndarray, code: int) -> tuple[int, int]:
    i, j = np.argwhere(maze == code)[0]
    return int(i), int(j)


def shortest_length(maze: np.ndarray) -> int:
    """BFS distance from S to G in characters (-1 if G is unreachable)."""
    return int(cell_distances(maze, _find(maze, START))[_find(maze, GOAL)])


def count_shortest_paths(maze: np.ndarray, cap: int = 2) -> int:
    """Number of distinct shortest S-G paths, counted up to ``cap`` (0 if unreachable)."""
    start, goal = _find(maze, START), _find(maze, GOAL)
    dist = cell_distances(maze, start)
    if dist[goal] < 0:
        return 0
    ways = np.zeros(maze.shape, dtype=np.int64)
    ways[start] = 1
    h, w = maze.shape
    for d in range(1, int(dist[goal]) + 1):
        for i, j in np.argwhere(dist == d):
            total = 0
            for di, dj in _DIRS:
                a, b = i + di, j + dj
                if 0 <= a < h and 0 <= b < w and dist[a, b] == d - 1:
                    total += ways[a, b]
            ways[i, j] = min(total, cap)
    return int(ways[goal])


def solve(maze: np.ndarray) -> np.ndarray | None:
    """The question with one shortest S-G path marked ``o``; None if G is unreachable."""
    dist = cell_distances(maze, _find(maze, START))
    cur = _find(maze, GOAL)
    if dist[cur] < 0:
        return None
    out = maze.copy()
    h, w = maze.shape
    while dist[cur] > 1:
        for di, dj in _DIRS:
            a, b = cur[0] + di, cur[1] + dj
            if 0 <= a < h and 0 <= b < w and dist[a, b] == dist[cur] - 1:
                cur = (a, b)
                break
        out[cur] = PATH
    return out


# ----------------------------------------------------------------------------- verifier
@dataclass
class MazeVerdict:
    solved: bool
    reason: str          # 'solved' or one of REASONS


REASONS = ("shape mismatch", "changed cell", "through a wall", "branch", "gap",
           "detached loop", "not shortest")


def verify(question: np.ndarray, answer: np.ndarray) -> MazeVerdict:
    """Solved iff the ``o`` cells plus S and G form one simple 4-connected S-G path over
    open cells, nothing else changed, and its length equals the BFS distance."""
    q, a = np.asarray(question), np.asarray(answer)
    if q.shape != a.shape:
        return MazeVerdict(False, "shape mismatch")
    diff = q != a
    if (diff & (q == WALL) & (a == PATH)).any():
        return MazeVerdict(False, "through a wall")
    if (diff & ~((q == OPEN) & (a == PATH))).any():
        return MazeVerdict(False, "changed cell")
    on = (a == PATH) | (a == START) | (a == GOAL)
    p = np.pad(on, 1)
    deg = (p[:-2, 1:-1].astype(int) + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) * on
    ends = (a == START) | (a == GOAL)
    if (deg[on & ~ends] > 2).any() or (deg[ends] > 1).any():
        return MazeVerdict(False, "branch")
    s, g = _find(a, START), _find(a, GOAL)
    dist = cell_distances(np.where(on, OPEN, WALL).astype(np.uint8), s)
    if dist[g] < 0:
        return MazeVerdict(False, "gap")
    if (dist[on] < 0).any():
        return MazeVerdict(False, "detached loop")
    if int(on.sum()) - 1 != shortest_length(q):
        return MazeVerdict(False, "not shortest")
    return MazeVerdict(True, "solved")


def dead_end_depth(maze: np.ndarray) -> int:
    """Rounds of parallel dead-end filling on the cell graph, plus one.

    Each round removes, all at once, every cell other than S and G with at most one
    remaining open neighbour cell. On a perfect maze this stops when only the S-G
    path is left; the count is the NFE a perfect one-round-per-call deducer needs
    over cell tokens (the unit the maze models decode).
    """
    h, w = maze.shape
    r, c = h // 2, w // 2
    alive = np.ones((r, c), bool)
    cells = maze[1::2, 1::2]
    keep = (cells == START) | (cells == GOAL)
    # open[k][i, j]: passage from cell (i, j) in direction k is open
    openv = maze[2:-1:2, 1::2] != WALL          # between (i, j) and (i+1, j): [r-1, c]
    openh = maze[1::2, 2:-1:2] != WALL          # between (i, j) and (i, j+1): [r, c-1]
    rounds = 0
    while True:
        a = alive.astype(int)
        deg = np.zeros((r, c), int)
        deg[:-1] += openv * a[1:]
        deg[1:] += openv * a[:-1]
        deg[:, :-1] += openh * a[:, 1:]
        deg[:, 1:] += openh * a[:, :-1]
        kill = alive & ~keep & (deg <= 1)
        if not kill.any():
            return rounds + 1
        alive &= ~kill
        rounds += 1


# ----------------------------------------------------------------------------- files
def read_file(path: str, *, answers: bool = False) -> list[np.ndarray]:
    """Mazes from ``.txt`` (blocks separated by blank lines) or ``.csv``
    (``question`` column, or ``answer`` when ``answers``; with ``rows``, ``cols``)."""
    from puzzles.io import read_csv, read_text
    out = []
    if str(path).endswith(".csv"):
        col = "answer" if answers else "question"
        for ln, row in read_csv(path, (col, "rows", "cols")):
            try:
                r, c = int(row["rows"]), int(row["cols"])
            except ValueError:
                raise ParseError(path, ln, "rows and cols must be integers") from None
            s = row[col]
            if len(s) != (2 * r + 1) * (2 * c + 1):
                raise ParseError(path, ln, f"{col} has {len(s)} characters, a {r}x{c} maze "
                                           f"needs {(2 * r + 1) * (2 * c + 1)}")
            lines = [s[k * (2 * c + 1):(k + 1) * (2 * c + 1)] for k in range(2 * r + 1)]
            out.append(parse_block(lines, where=path, line=ln, answer=answers))
        return out
    text = read_text(path)
    block: list[str] = []
    start = 0
    for i, ln in enumerate(text.splitlines() + [""]):
        if ln.strip():
            if not block:
                start = i + 1
            block.append(ln.rstrip("\n"))
        elif block:
            out.append(parse_block(block, where=path, line=start, answer=answers))
            block = []
    if not out:
        raise ParseError(path, None, "empty file (no mazes)")
    return out


def write_file(path: str, mazes: list[np.ndarray], answers: list[np.ndarray] | None = None,
               extra: dict[str, list] | None = None) -> None:
    """Atomic write: ``.txt`` text blocks (answers when given), or ``.csv`` with
    ``question,answer,rows,cols`` plus ``extra`` metadata columns."""
    from puzzles.io import atomic_write_text, csv_text
    if str(path).endswith(".csv"):
        extra = extra or {}
        header = ["question"] + (["answer"] if answers is not None else []) + ["rows", "cols"] + list(extra)
        rows = []
        for i, m in enumerate(mazes):
            row = ["".join(format_block(m).split("\n"))]
            if answers is not None:
                row.append("".join(format_block(answers[i]).split("\n")))
            rows.append(row + [m.shape[0] // 2, m.shape[1] // 2] + [extra[k][i] for k in extra])
        atomic_write_text(path, csv_text(header, rows))
    else:
        src = answers if answers is not None else mazes
        atomic_write_text(path, "\n\n".join(format_block(m) for m in src) + "\n")


# ----------------------------------------------------------------------------- model tokens
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

    def nbrs(a):   # count of neighbours with a, through open passages; shape (N, r, c)
        s = np.zeros(a.shape, np.int16)
        s[:, 1:] += ((bits[:, 1:] >> 0) & 1) * a[:, :-1]                    # N
        s[:, :, :-1] += ((bits[:, :, :-1] >> 1) & 1) * a[:, :, 1:]          # E
        s[:, :-1] += ((bits[:, :-1] >> 2) & 1) * a[:, 1:]                   # S
        s[:, :, 1:] += ((bits[:, :, 1:] >> 3) & 1) * a[:, :, :-1]           # W
        return s
    n_on, n_live = nbrs(on), nbrs(live)
    branch = (on & ~end & (n_on > 2)) | (end & (n_on > 1))
    stuck = (on & ~end & (n_live < 2)) | (end & (n_live < 1))
    return (branch | stuck).any((1, 2))
