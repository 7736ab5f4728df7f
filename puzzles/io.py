"""Shared file helpers: the user-facing ParseError and atomic writes."""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path


class ParseError(ValueError):
    """Bad input: names the file, the line (1-based, when known) and the problem."""

    def __init__(self, where: str, line: int | None, problem: str):
        self.where, self.line, self.problem = str(where), line, problem
        loc = f"{where}:{line}" if line is not None else str(where)
        super().__init__(f"{loc}: {problem}")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise ParseError(path, None, "file not found") from None
    except IsADirectoryError:
        raise ParseError(path, None, "is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise ParseError(path, None, "not a text file (cannot decode as UTF-8)") from None


def read_csv(path: str | Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header, as (line number, row dict); checks required columns."""
    text = read_text(path)
    if not text.strip():
        raise ParseError(path, None, "empty file")
    reader = csv.DictReader(text.splitlines())
    cols = reader.fieldnames or []
    for col in required:
        if col not in cols:
            raise ParseError(path, 1, f"CSV header has no {col!r} column (found: {', '.join(cols)})")
    rows = [(i + 2, r) for i, r in enumerate(reader)]
    if not rows:
        raise ParseError(path, None, "CSV has a header but no rows")
    return rows


def csv_text(header: list[str], rows: list[list]) -> str:
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _umask() -> int:
    import os
    m = os.umask(0)
    os.umask(m)
    return m
