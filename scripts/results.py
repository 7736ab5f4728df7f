"""Write docs/results.md and the README's headline table from the CSVs in docs/.

    python -m scripts.results            # rewrite both from docs/*.csv
    python -m scripts.results --check    # exit 1 if either differs from what the CSVs give
    python -m scripts.results --gather OUT.csv A.csv B.csv   # one CSV of many sets

Every table in docs/results.md, and the headline table between the README's
``<!-- headline -->`` markers, is rendered here from a CSV that ``scripts.evaluate``
wrote, so text and data cannot drift (tests/test_results.py runs ``--check``). Each
section names the command that wrote its CSV (the list: scripts/tables.py).
"""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from puzzles.cli import Parser
from puzzles.io import atomic_write_text, csv_text
from scripts.tables import HEADLINE, SHOW_BUDGETS, TABLES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RATES = {"solve_rate", "ci_lo", "ci_hi", "rate_depth_defined", "rate_depth_undefined", "rate_unique", "rate_tied"}
HEADERS = {"model": "model", "label": "decoding", "n": "n", "solve_rate": "solved", "ci": "95% CI",
           "nfe_mean": "mean NFE", "nfe_per_depth": "NFE / depth", "tokens_per_nfe": "tokens/NFE",
           "rate_depth_defined": "solved (depth defined)", "rate_depth_undefined": "solved (rest)",
           "budget": "NFE budget", "set": "set", "train_examples": "training examples",
           "rate_unique": "solved (unique path)", "rate_tied": "solved (tied paths)",
           "eb_ratio": "NFE / EB's NFE at this rate"}


def read_csv(name: str) -> list[dict]:
    path = DOCS / name
    if not path.is_file():
        raise SystemExit(f"error: {path}: missing; run the command that writes it (see scripts/tables.py)")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def cell(row: dict, col: str) -> str:
    if col == "ci":
        return f"{100 * float(row['ci_lo']):.1f}-{100 * float(row['ci_hi']):.1f}"
    v = row.get(col, "")
    if v in ("", None):
        return ""
    if col in RATES:
        return f"{100 * float(v):.1f}%"
    if col in ("n", "budget", "train_examples"):
        return f"{int(float(v)):,}"
    try:
        return f"{float(v):.2f}"
    except ValueError:
        return v.replace("|", "\\|")


def eb_ratio(rows: list[dict]) -> list[dict]:
    """Each non-EB row's mean NFE over the NFE EB needs for the same solve rate: EB's curve
    (its rows, the best rate reached at each NFE or below) interpolated in log NFE. Empty
    for EB's own rows; 'above EB' where the row beats every EB point."""
    eb = sorted((float(r["nfe_mean"]), float(r["solve_rate"])) for r in rows if r["label"].startswith("eb "))
    env: list[tuple[float, float]] = []
    for nfe, rate in eb:
        if not env or rate > env[-1][1]:
            env.append((nfe, rate))
    out = []
    for r in rows:
        rate, nfe, v = float(r["solve_rate"]), float(r["nfe_mean"]), ""
        if env and not r["label"].startswith("eb "):
            if rate > env[-1][1]:
                v = "above EB"
            else:
                j = next(i for i, (_, q) in enumerate(env) if q >= rate)
                if j == 0:
                    need = env[0][0]
                else:
                    (n0, q0), (n1, q1) = env[j - 1], env[j]
                    f = (rate - q0) / (q1 - q0)
                    need = math.exp(math.log(n0) + f * (math.log(n1) - math.log(n0)))
                v = f"{nfe / need:.2f}"
        out.append(dict(r, eb_ratio=v))
    return out


def budget_table(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """A ``--scaling`` CSV (label, budget, solve_rate) as one row per label, one column per
    budget of SHOW_BUDGETS: the rate at the largest budget written at or below it (a run's
    rate stays put past its largest NFE, where the CSV stops)."""
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["label"], {})[int(r["budget"])] = r["solve_rate"]
    cols = [str(b) for b in SHOW_BUDGETS]
    table_rows = [dict({"label": label}, **{str(b): by[max(k for k in by if k <= b)] for b in SHOW_BUDGETS})
                  for label, by in out.items()]
    RATES.update(cols)
    return table_rows, ["label"] + cols


def table(rows: list[dict], cols: list[str]) -> str:
    cols = [c for c in cols if c == "ci" or any(c in r for r in rows)]
    out = ["| " + " | ".join(HEADERS.get(c, c) for c in cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(cell(r, c) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def results_md() -> str:
    parts = ["# Results", "",
             ("Written by `python -m scripts.results` from the CSVs beside this file; each CSV was written by "
             "the command above its table. Solved: the verifier accepts the answer. NFE: forward passes per "
             "puzzle (definitions in the README). 95% CI: Wilson interval. Model cards: "
             "[models.md](models.md); search: [search.md](search.md); speed: [speed.md](speed.md)."), ""]
    for title, name, cmd, cols in TABLES:
        rows = read_csv(name)
        if not cols:
            rows, cols = budget_table(rows)
        if "eb_ratio" in cols:
            rows = eb_ratio(rows)
        parts += [f"## {title}", "", "```bash", cmd, "```", "", table(rows, cols), ""]
    return "\n".join(parts)


def headline_md() -> str:
    rows = []
    for set_name, name, label in HEADLINE:
        hit = [r for r in read_csv(name) if r["label"] == label]
        if len(hit) != 1:
            raise SystemExit(f"error: docs/{name}: {len(hit)} rows labelled {label!r}, expected 1")
        rows.append(dict(hit[0], set=set_name))
    return table(rows, ["set", "model", "label", "solve_rate", "ci", "nfe_mean", "nfe_per_depth"])


def readme_with_headline(text: str) -> str:
    a, b = "<!-- headline -->", "<!-- /headline -->"
    if a not in text or b not in text:
        raise SystemExit("error: README.md: the <!-- headline --> markers are missing")
    head, rest = text.split(a, 1)
    return head + a + "\n" + headline_md() + "\n" + b + rest.split(b, 1)[1]


def gather(out: str, paths: list[str]) -> None:
    """One CSV of several ``scripts.evaluate`` CSVs, a ``set`` column (each file's stem) first."""
    rows, cols = [], ["set"]
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                rows.append(dict(r, set=Path(p).stem))
                cols += [c for c in r if c not in cols]
    atomic_write_text(out, csv_text(cols, [[r.get(c, "") for c in cols] for r in rows]))
    print(f"wrote {out}: {len(rows)} rows from {len(paths)} files")


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.results", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 where a file differs")
    ap.add_argument("--gather", nargs="+", metavar=("OUT", "CSV"),
                    help="write OUT: the rows of the evaluate CSVs given, with their file names as a 'set' "
                         "column (one table over many sets), then stop")
    a = ap.parse_args(argv)
    if a.gather:
        if len(a.gather) < 2:
            ap.error("--gather: OUT and at least one CSV")
        gather(a.gather[0], a.gather[1:])
        return 0
    want = {DOCS / "results.md": results_md(),
            ROOT / "README.md": readme_with_headline((ROOT / "README.md").read_text(encoding="utf-8"))}
    stale = [p for p, text in want.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if a.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)}: differs from what docs/*.csv give; run python -m scripts.results",
                  file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        atomic_write_text(p, want[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
