"""Trace files: their size and the time Chromium takes to open and draw them.

    python -m scripts.bench_trace                      # 100 Sudoku puzzles (EB and top-1), 20 mazes 20x20 (EB)
    python -m scripts.bench_trace --mazes 0            # Sudoku only

Writes each trace with the solver's ``--trace`` into a temporary folder, opens it in
headless Chromium and reads the page's own clock (``performance.now()`` when the first
puzzle is drawn: navigation start to a usable page, parsing the inline data included).
Prints one row per trace: puzzles, passes recorded, MB, ms to ready, and the ratio to
the targets (5 MB, 2,000 ms). Needs ``chromium`` on PATH for the timing column.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from puzzles.cli import Parser, UsageError, fail

TARGET_MB, TARGET_MS = 5.0, 2000.0


def ready_ms(browser: str, page: Path) -> float | None:
    """Milliseconds from navigation start to the drawn page, by the page's own clock."""
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=300, check=False)
    m = re.search(r'data-ready-ms="([0-9.]+)"', run.stdout)
    return float(m.group(1)) if m else None


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.bench_trace", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--sudoku", type=int, default=100, help="Sudoku puzzles traced (default 100; 0: none)")
    ap.add_argument("--mazes", type=int, default=20, help="20x20 mazes traced (default 20; 0: none)")
    a = ap.parse_args(argv)
    try:
        if a.sudoku < 0 or a.mazes < 0 or not (a.sudoku or a.mazes):
            raise UsageError("--sudoku and --mazes: counts >= 0, not both 0")
    except UsageError as e:
        return fail(str(e))
    from solvers import maze, sudoku
    from solvers.trace import find_chromium
    browser = find_chromium()
    runs = [("sudoku test.csv, eb", sudoku.main, ["--sampler", "eb"], a.sudoku),
            ("sudoku test.csv, top-1", sudoku.main, ["--sampler", "topk", "--k", "1"], a.sudoku),
            ("maze test-20.csv, eb", maze.main, ["--sampler", "eb", "--input", "datasets/maze/test-20.csv"], a.mazes)]
    print("| trace | puzzles | passes | MB | MB / 5 MB | ms to ready | ms / 2,000 ms |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, main_, flags, n in runs:
            if not n:
                continue
            page = Path(tmp) / "t.html"
            with contextlib.redirect_stdout(io.StringIO()):         # the solver's own table: not ours
                code = main_(flags + ["--limit", str(n), "--trace-limit", str(n), "--quiet", "--trace", str(page)])
            if code:
                return code
            raw = page.read_text()
            data = json.loads(raw.split('<script id="data" type="application/json">', 1)[1]
                              .split("</script>", 1)[0].replace("<\\/", "</"))
            passes = sum(len(p["steps"]) for p in data["puzzles"])
            mb = page.stat().st_size / 1e6
            ms = ready_ms(browser, page) if browser else None
            t = "n/a (no chromium)" if ms is None else f"{ms:.0f} | {ms / TARGET_MS:.2f}"
            print(f"| {name} | {n} | {passes} | {mb:.2f} | {mb / TARGET_MB:.2f} | {t} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
