"""``--trace FILE.html`` / ``FILE.json``: every forward pass of the first puzzles of a run.

The JSON holds, for each traced puzzle, its board layout and one record per NFE: the board
the pass read (one character per cell, '.' masked), the cells it committed and their
values, each masked cell's entropy in nats (in the order of the board's '.' cells), and
whether the pass went back (its board does not extend the previous pass's board and
commits: a search returning to an earlier node) and whether it was ``cached`` (a search's
expansion that reused memoized logits: no forward pass, no NFE). Then the final board, the verifier's
verdict and the NFE. The HTML file is the same data in one self-contained page (inline
script and style, no network): a slider and the arrow keys step through the passes.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from puzzles.io import atomic_write_text
from sampling.trace import Step, Trace

PAGE = Path(__file__).with_name("trace_page.html")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on PATH that opens trace pages, or None."""
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def _steps(task, steps: list[Step]) -> list[dict]:
    shift = len(steps[0].state) - len(task.cells(steps[0].state))     # mazes: the decoded half
    out, prev = [], None
    for st in steps:
        board = task.cells(st.state)
        back = prev is not None and any(p != "." and p != b for p, b in zip(prev, board))
        vals = task.cells(_placed(st))
        commit = (st.commit - shift).tolist()
        out.append({"board": board, "commit": commit, "values": "".join(vals[i] for i in commit),
                    "h": [round(float(h), 4) for h in st.h], "back": bool(back), "cached": st.cached})
        prev = vals                     # the board this pass left: what it read, and its commits
    return out


def _placed(st: Step) -> np.ndarray:
    s = st.state.copy()
    s[st.commit] = st.values
    return s


def trace_data(task, questions, answers, trace: Trace, solved, reasons, status, nfe, label: str) -> dict:
    """The JSON object of a run's trace (the first ``trace.limit`` puzzles)."""
    puzzles = []
    for i in range(min(trace.limit, len(questions))):
        q = questions[i]
        steps = _steps(task, trace.steps[i]) if trace.steps.get(i) else []
        start = steps[0]["board"] if steps else task.answer_cells(answers[i])
        verdict = "solved" if solved[i] else (status[i] if status[i] != "ok" else reasons[i])
        puzzles.append(dict(task.display(q), index=i + 1, start=start, steps=steps, final=task.answer_cells(answers[i]),
                            verdict=verdict, nfe=int(nfe[i])))
    return {"title": label, "traced": len(puzzles), "of": len(questions), "puzzles": puzzles}


def write_trace(path: str, data: dict) -> None:
    """``path``: .json (the data) or .html (the viewer with the data inline). Atomic."""
    text = json.dumps(data, separators=(",", ":"))
    if path.endswith(".json"):
        atomic_write_text(path, text)
        return
    inline = text.replace("</", "<\\/")     # no '</script>' can end the data block early
    atomic_write_text(path, PAGE.read_text().replace("/*DATA*/null", inline))
