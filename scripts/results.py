"""Write docs/results.md and the README's headline table from the CSVs in docs/.

    python -m scripts.results            # rewrite both from docs/*.csv
    python -m scripts.results --check    # exit 1 if either differs from what the CSVs give
    python -m scripts.results --gather OUT.csv A.csv B.csv   # one CSV of many sets

Every table in docs/results.md, and the headline table between the README's
``<!-- headline -->`` markers, is rendered here from a CSV that ``scripts.evaluate``
wrote, so text and data cannot drift (tests/test_results.py runs ``--check``). Each
section names the command that wrote its CSV.
"""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from puzzles.cli import Parser
from puzzles.io import atomic_write_text, csv_text

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RATES = {"solve_rate", "ci_lo", "ci_hi", "rate_depth_defined", "rate_depth_undefined", "rate_unique", "rate_tied"}
EVAL_COLS = ["model", "label", "n", "solve_rate", "ci", "nfe_mean", "nfe_per_depth", "tokens_per_nfe",
             "rate_depth_defined", "rate_depth_undefined", "rate_unique", "rate_tied", "train_examples"]
HEADERS = {"model": "model", "label": "decoding", "n": "n", "solve_rate": "solved", "ci": "95% CI",
           "nfe_mean": "mean NFE", "nfe_per_depth": "NFE / depth", "tokens_per_nfe": "tokens/NFE",
           "rate_depth_defined": "solved (depth defined)", "rate_depth_undefined": "solved (rest)",
           "budget": "NFE budget", "set": "set", "train_examples": "training examples",
           "rate_unique": "solved (unique path)", "rate_tied": "solved (tied paths)",
           "eb_ratio": "NFE / EB's NFE at this rate"}
RIVAL_COLS = ["label", "n", "solve_rate", "ci", "nfe_mean", "nfe_per_depth", "eb_ratio"]

_EVAL = "python -m scripts.evaluate"
_PREV, _S15 = "git checkout 2e73e3d && ", "git checkout 6fa14f3 && "  #: maze-mdm.pt before stage 4; stage 15
#: EB gamma of the maze tables by side: the shipped maze-mdm.pt's (rule 8; tests/test_shipped.py checks they agree)
MAZE_GAMMA = {6: "0.03", 10: "0.03", 15: "0.003", 20: "0.003"}
MAZE_EB_ALSO = ("0.01",)  #: another EB point in the maze tables (the sampler's default), smallest gamma first
MAZE_BUDGET = 400        #: the maze tables' search budget: the CLI default, above plain EB's cost at 20x20
#: EB gamma inside the maze tables' best-first search: the shipped maze-mdm.pt's search gamma, chosen on
#: validation mazes for the search (runs/RULE-search-gamma15.txt; docs/search.md; tests/test_shipped.py)
MAZE_SEARCH_GAMMA = "0.03"


#: (title, csv, command that wrote it, columns)
TABLES = [
    ("Sudoku: solve rate against NFE (first 300 of `datasets/sudoku/test.csv`)", "eval-sudoku.csv",
     (f"{_EVAL} --task sudoku --limit 300 --csv docs/eval-sudoku.csv --plot docs/eval-sudoku.png --points "
     "eb:gamma=0.001 eb:gamma=0.01 eb:gamma=0.1 eb:gamma=1 topk:k=1 topk:k=4 threshold:tau=0.9 random:steps=16 "
     "eb:gamma=0.01,search=1,search_budget=100"), EVAL_COLS),
    ("Sudoku: the MDM against same-size ARMs (`datasets/sudoku/test.csv`)", "compare-sudoku.csv",
     (f"{_EVAL} --task sudoku --compare --arm-beam 2 4 8 16 --csv docs/compare-sudoku.csv "
     "--plot docs/compare-sudoku.png"), EVAL_COLS),
    ("Hard Sudoku: search and rules (`datasets/sudoku/hard.csv`)", "eval-hard.csv",
     (f"{_EVAL} --input datasets/sudoku/hard.csv --csv docs/eval-hard.csv --plot docs/eval-hard.png --points "
      "eb:gamma=0.01 topk:k=1 " + " ".join(f"eb:gamma=0.01,search=1,search_budget={b}" for b in (100, 200, 400))
      + " eb:gamma=0.01,rules=mask,search=1,search_budget=200 "
      + " ".join(f"eb:gamma=0.01,rules=propagate,search=1,search_budget={b}" for b in (25, 100))), EVAL_COLS),
] + [
    (f"Mazes {title}: top-1, EB, the ARMs and best-first search (`datasets/maze/{name}`)", f"compare-maze{suffix}.csv",
     (f"{_EVAL} --task maze --input datasets/maze/{name}{limit} --points topk:k=1 "
     f"{''.join(f'eb:gamma={g} ' for g in sorted({MAZE_GAMMA[side], *MAZE_EB_ALSO}, key=float))}ar "
     f"eb:gamma={MAZE_SEARCH_GAMMA},search=1,search_budget={MAZE_BUDGET} --csv docs/compare-maze{suffix}.csv "
     f"--plot docs/compare-maze{suffix}.png"), EVAL_COLS)
    for title, name, suffix, limit, side in (
        ("6x6", "test-6.csv", "-6", "", 6),
        ("10x10, Wilson, far ends (first 200)", "test.csv", "", " --limit 200", 10),
        ("10x10, mixed (first 200)", "mixed.csv", "-mixed", " --limit 200", 10),
        ("15x15 (first 100)", "test-15.csv", "-15", " --limit 100", 15),
        ("20x20 (first 50)", "test-20.csv", "-20", " --limit 50", 20))
] + [
    (("Mazes by generator and size, at the shipped gammas (rule 8: 0.03 under 15x15, 0.003 from it): fresh "
      "sets made and decoded by `scripts.maze_kinds`, seeds in its source; 15x15 and 20x20: the first 50 of 100"),
     "maze-kinds-shipped.csv", "python -m scripts.maze_kinds --out docs/maze-kinds-shipped.csv", ["set"] + EVAL_COLS[1:]),
    (("Mazes by generator and size, stage 15: the same fresh sets, top-1 and EB at 0.001 (rule 7's gamma, shipped "
      "until stop 45; 15x15 and 20x20: the first 50 of 100)"), "maze-kinds.csv", (f"{_S15}python -m scripts.maze_kinds "
     "--gamma 0.001 --out docs/maze-kinds.csv"), ["set"] + EVAL_COLS[1:]),
    (("Maze gamma, chosen here (rule 8, pooled, from stop 45; stage 15, whose gammas stage 16 kept): fresh "
      "validation sets of the same kinds (`--split val2`; 15x15 and 20x20: the first 25; the rule in docs/models.md)"),
     "maze-gamma-val2.csv", (f"{_S15}python -m scripts.maze_kinds --split val2 --gamma 0.003 0.01 0.03 --large-limit 25 "
                            "--out docs/maze-gamma-val2.csv --choose"), ["set"] + EVAL_COLS[1:8]),
    ("Maze gamma, stages 6-15 (rule 7, every set): the same kinds at other seeds (`--split val`)", "maze-gamma-val.csv",
     (f"{_S15}python -m scripts.maze_kinds --split val --sets mixed-6 dfs-10 wilson-10 loops-10 md-dfs-10 "
      "md-dfs_percolation-10 --gamma 0.0003 0.001 0.003 0.01 --out docs/maze-gamma-val.csv --choose --rule every-set"),
     ["set"] + EVAL_COLS[1:8]),
]

TABLES += [
    (f"Samplers after EB: {title} (`datasets/{path}`{note})", f"rivals-{key}.csv",
     (f"{_PREV if task == 'maze' else ''}{_EVAL} --task {task} --input datasets/{path}{limit} --rivals --csv docs/rivals-{key}.csv "
      f"--plot docs/rivals-{key}.png"), RIVAL_COLS)
    for title, task, path, key, limit, note in (
        ("Sudoku test set", "sudoku", "sudoku/test.csv", "sudoku", "", ""),
        ("hard Sudoku, pure model", "sudoku", "sudoku/hard.csv", "hard", "", ""),
        ("6x6 mazes (the maze-mdm.pt before stage 4)", "maze", "maze/test-6.csv", "maze-6", "", ""),
        ("10x10 mixed mazes (the maze-mdm.pt before stage 4)", "maze", "maze/mixed.csv", "maze-mixed", " --limit 100",
         ", first 100"))
]

_OLD = "git checkout fc78566 && "      #: the engines' comparison ran before the dominated engines were removed
_BRANCH = "repair=0,search=1,search_budget=800,stall_entropy=0.1,branch_k=3,complete=1"
_ENGINES = " ".join(f"eb:gamma=0.01{r},search=1,strategy=best,search_budget=800 eb:gamma=0.01{r},{_BRANCH}"
                    for r in ("", ",rules=mask", ",rules=propagate"))
_MAZE_ENGINES = "eb:gamma=0.01 " + " ".join(
    f"eb:gamma=0.01,search=1,strategy=best,search_budget={b} eb:gamma=0.01,repair=20,search=1,search_budget={b},"
    f"stall_entropy=0.001 eb:gamma=0.01,repair=20,search=1,search_budget={b},stall_entropy=0.001,complete=1"
    for b in (100, 300))
_SCALING = " ".join(f"eb:gamma=0.01{r},search=1,search_budget=800" for r in ("", ",rules=mask", ",rules=propagate"))
TABLES += [
    ((f"Search engines, `datasets/sudoku/{s}.csv`: solved within the NFE budget (best first against the branch "
      "search with its depth-first fallback; before the removal)"), f"engines-{s}.csv",
     f"{_OLD}{_EVAL} --input datasets/sudoku/{s}.csv --scaling --csv docs/engines-{s}.csv --points {_ENGINES}", [])
    for s in ("hard", "sparse")
] + [
    (f"Search engines, mazes `datasets/maze/{s}.csv` (first 200; before the removal)", f"engines-maze-{s}.csv",
     (f"{_OLD}{_EVAL} --task maze --input datasets/maze/{s}.csv --limit 200 --csv docs/engines-maze-{s}.csv "
      f"--points {_MAZE_ENGINES}"), EVAL_COLS)
    for s in ("test", "mixed")
] + [
    ((f"Search: solved within the NFE budget, `datasets/sudoku/{s}.csv` (the classical solver's search nodes "
      "for reference)"), f"scaling-{s}.csv",
     (f"{_EVAL} --input datasets/sudoku/{s}.csv --scaling --csv docs/scaling-{s}.csv --plot docs/scaling-{s}.png "
      f"--points eb:gamma=0.01 {_SCALING}"), [])
    for s in ("hard", "sparse")
] + [
    ("Public hard lists, not shipped: the first 50 of top95 and 50 of Royle's 17-clue list (docs/search.md)",
     "public-hard.csv", ("for S in top95-50 s17-50: python -m scripts.evaluate --input S.txt --points "
                         "eb:gamma=0.01,search=1,search_budget=400 eb:gamma=0.1,search=1,search_budget=400 "
                         "eb:gamma=0.01,rules=propagate,search=1,search_budget=400 "
                         "eb:gamma=0.3,rules=propagate,search=1,search_budget=400 --csv runs/public/S.csv; then "
                         "python -m scripts.results --gather docs/public-hard.csv runs/public/*.csv"),
     ["set"] + EVAL_COLS[1:8]),
]
SHOW_BUDGETS = (10, 25, 50, 100, 200, 400, 800)

#: headline rows: (set, csv, label of the row)
HEADLINE = [
    ("Sudoku `test.csv` (1,000)", "compare-sudoku.csv", "eb gamma=0.01"),
    ("Sudoku `test.csv` (1,000)", "compare-sudoku.csv", "ARM solver order"),
    ("Sudoku `hard.csv` (200, need a guess)", "eval-hard.csv", "eb gamma=0.01 +best-first 400"),
    ("Maze 6x6 `test-6.csv` (200)", "compare-maze-6.csv", f"eb gamma={MAZE_GAMMA[6]}"),
    ("Maze 10x10 `test.csv` (first 200)", "compare-maze.csv", f"eb gamma={MAZE_GAMMA[10]}"),
    ("Maze 10x10 `test.csv` (first 200)", "compare-maze.csv", "ARM path order"),
    ("Maze 10x10 `mixed.csv` (first 200)", "compare-maze-mixed.csv", f"eb gamma={MAZE_GAMMA[10]}"),
    ("Maze 15x15 `test-15.csv` (first 100)", "compare-maze-15.csv", f"eb gamma={MAZE_GAMMA[15]}"),
    ("Maze 20x20 `test-20.csv` (first 50)", "compare-maze-20.csv", f"eb gamma={MAZE_GAMMA[20]}"),
    ("Maze 20x20 `test-20.csv` (first 50)", "compare-maze-20.csv", "ARM path order, any size"),
]


def read_csv(name: str) -> list[dict]:
    path = DOCS / name
    if not path.is_file():
        raise SystemExit(f"error: {path}: missing; run the command that writes it (see scripts/results.py)")
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
