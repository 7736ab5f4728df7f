"""Shared file helpers: the user-facing ParseError and atomic writes."""
from __future__ import annotations

import csv
import glob
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
    """Durable atomic write: a temporary file in the same folder, fsync, rename over
    ``path``, fsync the folder. A run killed inside this window can leave a hidden
    ``.NAME.*.tmp`` file; the next write of the same path removes such leftovers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
    except OSError:         # some platforms cannot open a folder; the rename is done
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a note on stderr) when the
    ``plot`` extra is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        import sys
        print("note: matplotlib is not installed (pip install '.[plot]'); no plot written", file=sys.stderr)
        return None
    return plt


def atomic_write_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """A matplotlib figure as a PNG, through the same durable atomic write."""
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParseError(path, None, "file not found") from None
    except IsADirectoryError:
        raise ParseError(path, None, "is a directory, expected a file") from None
    except UnicodeDecodeError as e:
        raise ParseError(path, None, f"not a UTF-8 text file (byte {e.start + 1} cannot be decoded)") from None
    except OSError as e:
        raise ParseError(path, None, f"cannot read: {e.strerror or e}") from None


def read_csv(path: str | Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header, as (line number, row dict); checks required columns,
    and that every row has as many fields as the header."""
    text = read_text(path)
    if not text.strip():
        raise ParseError(path, None, "empty file")
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.DictReader(text.splitlines())
    try:
        cols = reader.fieldnames or []
        for col in required:
            if col not in cols:
                raise ParseError(path, 1, f"CSV header has no {col!r} column (found: {', '.join(cols)})")
        rows = []
        for r in reader:
            ln = reader.line_num
            if None in r:
                raise ParseError(path, ln, f"row has {len(cols) + len(r[None])} fields, the header has {len(cols)}")
            missing = [c for c in cols if r[c] is None]
            if missing:
                raise ParseError(path, ln, f"row has {len(cols) - len(missing)} fields, the header has "
                                           f"{len(cols)} (no {missing[0]!r})")
            rows.append((ln, r))
    except csv.Error as e:
        raise ParseError(path, reader.line_num or None, f"malformed CSV: {e}") from None
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


def plain_log_axis(ax) -> None:
    """A log-scaled x axis whose ticks read as plain numbers (2, 5, 10, 20, ...), with no
    minor labels: matplotlib's defaults print overlapping ones such as '3x10^0 4x10^0'."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    fmt = ScalarFormatter()
    fmt.set_scientific(False)
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_minor_formatter(NullFormatter())
