"""The tables of docs/results.md and the README's headline: each table's title, its CSV in
docs/, the command that wrote the CSV, and the columns shown (``scripts.results`` renders them;
tests/test_results.py checks that every current table's command decodes the shipped checkpoints,
or is pinned to the commit whose checkpoint it measured).
"""
from __future__ import annotations

EVAL_COLS = ["model", "label", "n", "solve_rate", "ci", "nfe_mean", "nfe_per_depth", "tokens_per_nfe",
             "rate_depth_defined", "rate_depth_undefined", "rate_unique", "rate_tied", "train_examples"]
RIVAL_COLS = ["label", "n", "solve_rate", "ci", "nfe_mean", "nfe_per_depth", "eb_ratio"]

_EVAL = "python -m scripts.evaluate"
_PREV = "git checkout 2e73e3d && "  #: the maze-mdm.pt before stage 4
_S15 = "git checkout 6fa14f3 && "   #: maze stage 15
#: EB gamma of the maze tables by side: the shipped maze-mdm.pt's (rules 8 and 9; tests/test_shipped.py checks)
MAZE_GAMMA = {6: "0.03", 10: "0.03", 15: "0.003", 20: "0.03"}
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
    ((f"Mazes by generator and size, at the shipped gammas ({MAZE_GAMMA[10]} under 15x15, {MAZE_GAMMA[15]} to 19x19: "
      f"rule 8; {MAZE_GAMMA[20]} from 20x20: rule 9): fresh sets made and decoded by `scripts.maze_kinds`, seeds in its source; 15x15 and 20x20: the first 50 of 100"),
     "maze-kinds-shipped.csv", "python -m scripts.maze_kinds --out docs/maze-kinds-shipped.csv", ["set"] + EVAL_COLS[1:]),
    (("Mazes by generator and size, stage 15: the same fresh sets, top-1 and EB at 0.001 (rule 7's gamma, shipped "
      "until stop 45; 15x15 and 20x20: the first 50 of 100)"), "maze-kinds.csv", (f"{_S15}python -m scripts.maze_kinds "
     "--gamma 0.001 --out docs/maze-kinds.csv"), ["set"] + EVAL_COLS[1:]),
] + [
    ((f"Maze gamma, chosen here (rule 8, pooled; {who}): validation sets of the by-generator kinds (`--split val2`; "
     "15x15 and 20x20: the first 25; the rule in docs/models.md)"), f"maze-gamma-val2{suffix}.csv",
     (f"{pin}python -m scripts.maze_kinds --split val2 --gamma 0.003 0.01 0.03 --large-limit 25 "
      f"--out docs/maze-gamma-val2{suffix}.csv --choose"), ["set"] + EVAL_COLS[1:8])
    for who, suffix, pin in (("stage 16, the shipped file, stop 47: it keeps 0.03 and 0.003", "", ""),
                             ("stage 15, stop 45, the sets' first decoding", "-stage15", _S15))
] + [
    (("Maze gamma from 20x20, chosen here (rule 9, stop 47: the large band split at 20x20, decided on fresh "
      "`--split val3` sets of the two 20x20 kinds, the first 25 of each; the rule in docs/models.md)"),
     "maze-gamma-val3.csv", ("python -m scripts.maze_kinds --split val3 --sets dfs-20 loops-20 --gamma 0.003 0.01 "
                             "0.03 --large-limit 25 --bands 15 20 --out docs/maze-gamma-val3.csv --choose"),
     ["set"] + EVAL_COLS[1:8]),
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
                         "eb:gamma=0.3,rules=propagate,search=1,search_budget=400 "
                         "eb:gamma=0.1,search=1,search_budget=400,search_views=3,search_restart=100 "
                         "eb:gamma=0.1,rules=propagate,search=1,search_budget=400,search_views=3,search_restart=100 "
                         "--csv runs/public/S.csv; then "
                         "python -m scripts.results --gather docs/public-hard.csv runs/public/*.csv"),
     ["set"] + EVAL_COLS[1:8]),
    (("Search views: one view against the checkpoints' views (`--search`'s default since stop 50; "
      "docs/search.md), the shipped test sets"),
     "search-views.csv", ("for s in hard sparse: python -m scripts.evaluate --input datasets/sudoku/$s.csv --points "
                          "eb:gamma=0.1,search=1,search_budget=400 "
                          "eb:gamma=0.1,search=1,search_budget=400,search_views=3,search_restart=100 "
                          "--csv runs/sv/sudoku-$s.csv; for S N in test.csv 200 mixed.csv 200 test-15.csv 100 "
                          "test-20.csv 50: python -m scripts.evaluate --task maze --input datasets/maze/$S --limit $N "
                          "--points eb:gamma=0.03,search=1,search_budget=400 "
                          "eb:gamma=0.03,search=1,search_budget=400,search_views=4,search_restart=100 "
                          "--csv runs/sv/maze-${S%.csv}.csv; then python -m scripts.results --gather "
                          "docs/search-views.csv runs/sv/sudoku-hard.csv runs/sv/sudoku-sparse.csv "
                          "runs/sv/maze-test.csv runs/sv/maze-mixed.csv runs/sv/maze-test-15.csv "
                          "runs/sv/maze-test-20.csv"),
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
