"""Sudoku text and files: one-line grids, readable boards, .txt/.csv/.npz datasets."""
from __future__ import annotations

import numpy as np

from puzzles.io import ParseError
from puzzles.sudoku.grid import ALPHABET, BOXES, DEFAULT_BOX, Box


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


def read_file(path: str, box: Box | None = None) -> tuple[np.ndarray, np.ndarray | None, Box]:
    """Read puzzles (and answers when present) from ``.txt``, ``.csv`` or ``.npz``.

    ``.txt``: one grid per line, blank lines and ``#`` comments skipped; or, detected
    from the first line, reasoning-gym's grid text (n lines of n space-separated
    symbols, ``_`` for a blank, grids separated by blank lines). ``.csv``: a
    header with ``question`` and optionally ``answer`` (the HRM layout
    ``source,question,answer,rating`` loads). ``.npz``: arrays ``puzzles`` and
    optionally ``answers``. The box shape is inferred from the first grid's length
    unless given. Raises ParseError naming the file and line.
    """
    from puzzles.io import read_csv, read_text
    if str(path).endswith(".npz"):
        return _read_npz(path, box)
    if str(path).endswith(".csv"):
        rows = read_csv(path, ("question",))
        box = box or _infer_box(path, rows[0][0], rows[0][1]["question"])
        qs = [parse_line(r["question"], box, where=path, line=ln) for ln, r in rows]
        ans = None
        if rows[0][1].get("answer") not in (None, ""):
            ans = np.stack([parse_line(r["answer"], box, where=path, line=ln) for ln, r in rows])
        return np.stack(qs), ans, box
    text = read_text(path)
    lines = text.splitlines()
    items = [(i + 1, ln.strip()) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not items:
        if any(set(ln.strip()) <= set("# SGoEX") and ln.strip().startswith("##") for ln in lines):
            raise ParseError(path, 1, "no Sudoku puzzles: this looks like a maze file (lines of '#' walls); "
                                      "use python -m solvers.maze")
        raise ParseError(path, None, "empty file (no puzzles)")
    if len(items[0][1].split()) > 1:
        return _read_grid_text(path, items, box)
    box = box or _infer_box(path, items[0][0], items[0][1])
    return np.stack([parse_line(s, box, where=path, line=ln) for ln, s in items]), None, box


def _read_grid_text(path: str, items: list[tuple[int, str]], box: Box | None):
    """reasoning-gym's layout: each grid is n consecutive lines of n space-separated symbols."""
    n = len(items[0][1].split())
    if n not in BOXES or (box and box[0] * box[1] != n):
        raise ParseError(path, items[0][0], f"a grid line of {n} symbols is not a 4x4, 6x6, 9x9 or 16x16 "
                                            "row (reasoning-gym layout: n symbols separated by spaces)")
    box = box or BOXES[n]
    if len(items) % n:
        raise ParseError(path, items[-1][0], f"{len(items)} grid lines do not make whole {n}x{n} grids")
    grids = []
    for k in range(0, len(items), n):
        rows = items[k:k + n]
        cells = []
        for ln, text in rows:
            toks = text.split()
            if len(toks) != n:
                raise ParseError(path, ln, f"grid row has {len(toks)} symbols, expected {n}")
            cells += ["." if t in ("_", ".", "0") else (ALPHABET[int(t) - 1] if t.isdigit() and 0 < int(t) <= n
                                                       else t) for t in toks]
        grids.append(parse_line("".join(c if len(c) == 1 else "?" for c in cells), box, where=path, line=rows[0][0]))
    return np.stack(grids), None, box


def format_grid_text(grid: np.ndarray, box: Box = DEFAULT_BOX, blank: str = "_") -> str:
    """reasoning-gym's layout: n lines of n space-separated numbers, ``_`` for a blank."""
    n = box[0] * box[1]
    g = np.asarray(grid).reshape(n, n).tolist()
    return "\n".join(" ".join(blank if v == 0 else str(v) for v in row) for row in g)


def _read_npz(path: str, box: Box | None) -> tuple[np.ndarray, np.ndarray | None, Box]:
    """Arrays ``puzzles`` [N, n*n] and optional ``answers`` of the same shape, integers in 0..n."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("puzzles", "answers") if k in z.files}
    except (OSError, ValueError, EOFError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ParseError(path, None, f"cannot read .npz ({msg})") from None
    if "puzzles" not in arrays:
        raise ParseError(path, None, "npz has no 'puzzles' array")
    out = []
    for name in ("puzzles", "answers"):
        a = arrays.get(name)
        if a is None:
            out.append(None)
            continue
        if a.dtype.kind not in "iub":
            raise ParseError(path, None, f"'{name}' holds {a.dtype} values, expected integers")
        if a.ndim != 2 or len(a) == 0:
            raise ParseError(path, None, f"'{name}' has shape {a.shape}, expected [N, cells] with N >= 1")
        n = round(a.shape[1] ** 0.5)
        b = box or BOXES.get(n)
        if b is None or n * n != a.shape[1] or b[0] * b[1] != n:
            raise ParseError(path, None, f"'{name}' rows have {a.shape[1]} cells, not a 4x4, 6x6, 9x9 or "
                                         f"16x16 grid{'' if box is None else f' (expected {(box[0] * box[1]) ** 2})'}")
        bad = np.argwhere((a < 0) | (a > n))
        if len(bad):
            r, c = bad[0]
            raise ParseError(path, None, f"'{name}' row {r + 1}, cell {c + 1} holds {a[r, c]}, "
                                         f"expected 0 (blank) to {n}")
        box = b
        out.append(a.astype(np.int8))
    if out[1] is not None and out[1].shape != out[0].shape:
        raise ParseError(path, None, f"'answers' has shape {out[1].shape}, 'puzzles' {out[0].shape}")
    return out[0], out[1], box


def _infer_box(path: str, line: int, s: str) -> Box:
    n = round(len(s.strip()) ** 0.5)
    if n * n != len(s.strip()) or n not in BOXES:
        raise ParseError(path, line, f"a line of {len(s.strip())} cells is not a 4x4, 6x6, 9x9 "
                                     "or 16x16 grid")
    return BOXES[n]


def write_file(path: str, puzzles: np.ndarray, box: Box = DEFAULT_BOX,
               answers: np.ndarray | None = None, extra: dict[str, list] | None = None,
               style: str = "line") -> None:
    """Write atomically, format by extension; ``extra`` adds CSV metadata columns.
    ``style='grid'`` writes ``.txt`` in reasoning-gym's grid layout (blank line between grids)."""
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
    elif style == "grid":
        atomic_write_text(path, "\n\n".join(format_grid_text(p, box) for p in puzzles) + "\n")
    else:
        atomic_write_text(path, "".join(format_line(p, box) + "\n" for p in puzzles))
