"""Draw one traced puzzle's decoding as a static strip of steps (PNG), for papers.

    python -m solvers.sudoku --limit 5 --trace t.json
    python -m scripts.trace_strip t.json strip.png --puzzle 1 --steps 6

Reads a ``--trace FILE.json`` of ``solvers.sudoku`` / ``solvers.maze``. Each panel is the
board one forward pass read: masked cells shaded by entropy (darker red = less certain),
the cells that pass committed outlined in orange with their values, and the answer last.
``--steps K`` draws at most K passes, evenly spaced, the first and last included. Needs
matplotlib (``pip install -e '.[plot]'``).
"""
from __future__ import annotations

import json
import math
import sys

from puzzles.cli import Parser, UsageError, check_output, fail
from puzzles.io import ParseError, atomic_write_figure, pyplot, read_text


def load(path: str, puzzle: int) -> dict:
    """The traced puzzle numbered ``puzzle`` (1-based, as in the viewer). ParseError."""
    try:
        data = json.loads(read_text(path))
        puzzles = data["puzzles"]
    except (ValueError, KeyError, TypeError):
        raise ParseError(path, None, "not a --trace JSON file (no 'puzzles' list)") from None
    if not 1 <= puzzle <= len(puzzles):
        raise ParseError(path, None, f"--puzzle {puzzle}: the trace holds puzzles 1-{len(puzzles)}")
    p = puzzles[puzzle - 1]
    need = {"kind", "index", "start", "steps", "final", "verdict", "nfe"} | (
        {"n", "box"} if p.get("kind") == "sudoku" else {"rows", "cols", "open", "s_cell", "g_cell"})
    if not isinstance(p, dict) or need - set(p):
        raise ParseError(path, None, f"puzzle {puzzle} lacks {', '.join(sorted(need - set(p)))}: not a trace "
                                     "this version wrote (write it again with --trace)")
    return p


def panel(ax, p: dict, k: int) -> None:
    """Draw pass ``k`` of puzzle ``p`` (k == number of passes: the answer)."""
    n_steps = len(p["steps"])
    last = k >= n_steps
    st = None if last else p["steps"][k]
    board = p["final"] if last else st["board"]
    rows, cols = (p["n"], p["n"]) if p["kind"] == "sudoku" else (p["rows"], p["cols"])
    hmax = math.log(p["n"]) if p["kind"] == "sudoku" else math.log(2)
    commit = {} if last else dict(zip(st["commit"], st["values"]))
    hs = iter([] if last else st["h"])
    for i, ch in enumerate(board):
        r, c = divmod(i, cols)
        y = rows - 1 - r
        h = next(hs) if ch == "." else None
        color = "white" if h is None else (1.0, 1 - 0.65 * min(1, h / hmax), 1 - 0.8 * min(1, h / hmax))
        if p["kind"] == "maze" and ch != ".":
            color = "#6cc070" if ch == "1" else "#f4f4f4"
        ax.add_patch(pyplot().Rectangle((c, y), 1, 1, facecolor=color, edgecolor="#ccc" if p["kind"] == "sudoku"
                                        else "none", lw=0.5))
        if i in commit:
            ax.add_patch(pyplot().Rectangle((c + 0.06, y + 0.06), 0.88, 0.88, fill=False, edgecolor="#e0a000", lw=1.6))
        text = (commit.get(i, ch if ch != "." else "") if p["kind"] == "sudoku"
                else {"1": "\u25cf", "0": "\u00b7"}.get(commit.get(i, ""), ""))   # a maze commit: on / off
        if text:
            ax.text(c + 0.5, y + 0.5, text, ha="center", va="center", fontsize=7,
                    color="#c00000" if i in commit else ("#222" if p["start"][i] != "." else "#1f5fbf"))
    _lines(ax, p, rows, cols)
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("answer: " + p["verdict"] if last else f"pass {k + 1}: {len(st['commit'])} committed", fontsize=8)


def _lines(ax, p: dict, rows: int, cols: int) -> None:
    """Sudoku box lines, or maze walls."""
    if p["kind"] == "sudoku":
        br, bc = p["box"]
        for r in range(0, rows + 1, br):
            ax.plot([0, cols], [r, r], color="#222", lw=1.2)
        for c in range(0, cols + 1, bc):
            ax.plot([c, c], [0, rows], color="#222", lw=1.2)
        return
    for i, o in enumerate(p["open"]):
        r, c = divmod(i, cols)
        y = rows - 1 - r
        for bit, seg in ((1, ([c, c + 1], [y + 1, y + 1])), (2, ([c + 1, c + 1], [y, y + 1])),
                         (4, ([c, c + 1], [y, y])), (8, ([c, c], [y, y + 1]))):
            if not o & bit:
                ax.plot(*seg, color="#222", lw=1.0)
    for cell, name in ((p["s_cell"], "S"), (p["g_cell"], "G")):
        r, c = divmod(cell, cols)
        ax.text(c + 0.5, rows - 1 - r + 0.5, name, ha="center", va="center", fontsize=6, weight="bold")


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.trace_strip", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("trace", help="a --trace FILE.json written by solvers.sudoku or solvers.maze")
    ap.add_argument("out", help="output PNG")
    ap.add_argument("--puzzle", type=int, default=1, help="which traced puzzle, 1-based (default 1)")
    ap.add_argument("--steps", type=int, default=6, help="most passes drawn, evenly spaced (default 6)")
    a = ap.parse_args(argv)
    try:
        if a.steps < 1:
            raise UsageError(f"--steps: must be >= 1, got {a.steps}")
        if not a.out.endswith(".png"):
            raise UsageError(f"{a.out}: the output must be a .png file")
        check_output(a.out, "out")
        p = load(a.trace, a.puzzle)
        plt = pyplot()
        if plt is None:
            raise UsageError("matplotlib is not installed: pip install -e '.[plot]'")
    except (UsageError, ParseError) as e:
        return fail(str(e))
    n = len(p["steps"])
    picks = sorted({round(j * (n - 1) / max(1, a.steps - 1)) for j in range(min(a.steps, n))}) if n else []
    fig, axes = plt.subplots(1, len(picks) + 1, figsize=(2.1 * (len(picks) + 1), 2.4))
    for ax, k in zip(axes, picks + [n]):
        panel(ax, p, k)
    fig.suptitle(f"puzzle #{p['index']}: NFE {p['nfe']}, {p['verdict']}", fontsize=9)
    fig.tight_layout()
    atomic_write_figure(fig, a.out, dpi=160)
    print(f"wrote {a.out} ({len(picks)} passes of {n}, and the answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
