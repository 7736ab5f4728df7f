"""Maze text and files: character blocks, lattice checks, .txt/.csv datasets."""
from __future__ import annotations

from functools import partial

import numpy as np

from puzzles.io import ParseError
from puzzles.maze.grid import CHARS, GOAL, OPEN, PATH, START, WALL

# maze-dataset's ASCII (``SolvedMaze.as_ascii``) draws the same lattice with 'E' for the
# goal and 'X' for path marks; both are read as aliases and written with style="maze-dataset".
ALIASES = {"E": "G", "X": "o"}
STYLES = {"ours": CHARS, "maze-dataset": "# SEX"}


def parse_block(lines: list[str], *, where: str = "<string>", line: int | None = None,
                answer: bool = False, endpoints: bool = True) -> np.ndarray:
    """Lines of one maze -> uint8 array [H, W]; ParseError on ragged rows or bad marks.

    Accepts our characters (``# SGo``) and maze-dataset's (``E`` goal, ``X`` path). An
    answer in maze-dataset's style that marks only cells gets the passages between
    adjacent marked cells filled in, as our verifier expects a connected mark."""
    if not lines:
        raise ParseError(where, line, "empty maze")
    w = len(lines[0])
    for k, s in enumerate(lines):
        if len(s) != w:
            raise ParseError(where, None if line is None else line + k,
                             f"ragged rows: row {k + 1} has {len(s)} characters, row 1 has {w}")
    allowed = CHARS if answer else CHARS[:4]
    shown = allowed + ("EX" if answer else "E")
    out = np.zeros((len(lines), w), dtype=np.uint8)
    foreign = False
    for k, s in enumerate(lines):
        for j, ch in enumerate(s):
            v = allowed.find(ALIASES.get(ch, ch) if ch != "X" or answer else ch)
            if v < 0:
                raise ParseError(where, None if line is None else line + k,
                                 f"bad character {ch!r} at column {j + 1} (allowed: {shown!r})")
            foreign |= ch == "X"
            out[k, j] = v
    for code, name in ((START, "S"), (GOAL, "G (or E)")) if endpoints else ():
        cnt = int((out == code).sum())
        if cnt != 1:
            raise ParseError(where, line, f"a maze needs exactly one {name}, found {cnt}")
    if foreign and out.shape[0] % 2 and out.shape[1] % 2:
        _fill_passages(out)
    return out


def _fill_passages(a: np.ndarray) -> None:
    """Cells-only path marks: mark the open passage between two adjacent marked cells."""
    passages = a.copy()
    passages[1::2, 1::2] = WALL
    if (passages == PATH).any():
        return
    on = np.isin(a[1::2, 1::2], (PATH, START, GOAL))
    v = on[:-1] & on[1:] & (a[2:-1:2, 1::2] == OPEN)
    a[2:-1:2, 1::2][v] = PATH
    h = on[:, :-1] & on[:, 1:] & (a[1::2, 2:-1:2] == OPEN)
    a[1::2, 2:-1:2][h] = PATH


def format_block(maze: np.ndarray, style: str = "ours") -> str:
    """Character grid; ``style='maze-dataset'`` writes 'E' for the goal and 'X' for the path."""
    chars = STYLES[style]
    return "\n".join("".join(chars[v] for v in row) for row in np.asarray(maze).tolist())


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


def read_file(path: str, *, answers: bool = False, endpoints: bool = True) -> list[np.ndarray]:
    """Mazes from ``.txt`` (blocks separated by blank lines) or ``.csv``
    (``question`` column, or ``answer`` when ``answers``; with ``rows``, ``cols``).
    Each must be a lattice maze; a ParseError names the file, the maze's first line
    and the maze's number."""
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
            out.append(_checked(partial(parse_block, lines, where=path, line=ln, answer=answers,
                                                endpoints=endpoints), path, ln, len(out) + 1))
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
            out.append(_checked(partial(parse_block, block, where=path, line=start, answer=answers,
                                                endpoints=endpoints), path, start, len(out) + 1))
            block = []
    if not out:
        raise ParseError(path, None, "empty file (no mazes)")
    return out


def _checked(parse, path: str, line: int, k: int) -> np.ndarray:
    """Parse one maze of a file and check its lattice; errors name maze k and its line."""
    try:
        maze = parse()
        check_lattice(maze, where=path, line=line)
    except ParseError as e:
        raise ParseError(path, e.line if e.line is not None else line, f"maze {k}: {e.problem}") from None
    return maze


def write_file(path: str, mazes: list[np.ndarray], answers: list[np.ndarray] | None = None,
               extra: dict[str, list] | None = None, style: str = "ours") -> None:
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
        atomic_write_text(path, "\n\n".join(format_block(m, style) for m in src) + "\n")
