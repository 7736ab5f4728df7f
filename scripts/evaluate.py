"""Sweep samplers over a test set: solve rate against NFE, the MDM beside the ARM.

    python -m scripts.evaluate --task sudoku
    python -m scripts.evaluate --task maze --limit 200
    python -m scripts.evaluate --task sudoku --points eb:gamma=0.01 topk:k=1 ar --json
    python -m scripts.evaluate --input datasets/sudoku/hard.csv --csv docs/eval-hard.csv \
        --plot docs/eval-hard.png --points eb:gamma=0.01 eb:gamma=0.01,search=1,search_budget=200

Default points: EB gamma in {0, 0.001, 0.01, 0.1, 0.3, 1, 3}; top-k k in {1, 2, 4, 8};
threshold tau in {0.99, 0.9, 0.7}; random with 8/16/32/64 steps; the ARM. Writes a CSV
(default ./eval-TASK.csv) and, with matplotlib, a PNG of solve rate against mean NFE
(log x, the ARM as a point, the mean depth as a vertical line). Prints the table; --json
adds one JSON object as the last line. A point may hold the search options (search,
search_budget, rules) of ``solvers.sudoku``.

The MDM against the ARMs (the comparison table: model, decoding, solve rate with its 95%
interval, NFE, NFE / depth, parameters, training examples)::

    python -m scripts.evaluate --task sudoku --compare
    python -m scripts.evaluate --task maze --compare --arm-checkpoint runs/a.pt runs/b.pt

EB against the samplers published after it (KLASS, dilated unmasking, remasking; three
settings each, sampling/rivals.py)::

    python -m scripts.evaluate --input datasets/sudoku/hard.csv --rivals --csv R.csv --plot R.png

Test-time scaling (solve rate against the NFE budget; Sudoku)::

    python -m scripts.evaluate --input datasets/sudoku/hard.csv --scaling --points \
        eb:gamma=0.01 eb:gamma=0.01,search=1,search_budget=800 \
        eb:gamma=0.01,search=1,search_budget=800,rules=propagate

``--scaling`` reads each point's per-puzzle NFE: the solve rate at budget B is the share
of puzzles solved within B forward passes in the run at the point's own budget (a run
capped at B takes the same steps up to B; only its last argmax fill can differ). The
classical solver's search-node count per puzzle (``sd.search_nodes``: one node = one
round of propagation) is drawn as the reference. The CSV gets one row per (point, budget).

``--compare`` decodes the MDM with top-1 and EB (``--gamma``, default 0.01, the value chosen
on validation puzzles) and every ARM checkpoint in its own order (default: each shipped
ARM of the task: raster, and solver / path order). An ARM's NFE counts its forward calls:
raster = every cell (givens are copied and cost their call), solver = the blanks,
path = the path cells after S. ``--arm-beam 4 16`` adds beam search of those widths for the
solver / path order ARMs (``ar:beam=K`` as a point): each puzzle keeps the K most likely
sequences and answers with the best; NFE counts every row fed, K x calls.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from models.checkpoint import CheckpointError, load_model
from models.runtime import RuntimeChoiceError
from puzzles.cli import Parser, UsageError, check_output, fail
from puzzles.data import dataset
from puzzles.io import ParseError, atomic_write_text, csv_text
from puzzles.tasks import TASKS, get_task, read_questions
from sampling.search import check_rules
from sampling.trace import Trace
from sampling.views import check_views
from scripts.points import DEFAULT_POINTS, RIVAL_POINTS, arm_label, label, parse_point
from scripts.scaling import scaling_report
from solvers.cli import add_runtime_flags, apply_runtime_flags, check_counts, check_trace
from solvers.decode import check_fits, decode, default_arms, default_checkpoint, puzzle_status
from solvers.report import plot, summarize
from solvers.trace import trace_data, write_trace


def model_facts(model, ck: dict) -> dict:
    """Parameters and training examples (steps x batch, every fine-tuning stage counted)
    from a checkpoint's metadata."""
    from models.checkpoint import examples_seen
    from models.transformer import param_count
    meta = ck.get("meta", {})
    examples = examples_seen(meta)
    return {"params": param_count(model), "train_examples": examples or None,
            "train_minutes": round(meta["wall_seconds"] / 60, 1) if meta.get("wall_seconds") else None}


def build_parser() -> Parser:
    ap = Parser(prog="python -m scripts.evaluate", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--task", choices=["sudoku", "maze"], default="sudoku", help="default sudoku")
    ap.add_argument("--input", help="test set (default datasets/TASK/test.csv)")
    ap.add_argument("--checkpoint", help="MDM checkpoint (default: the shipped one)")
    ap.add_argument("--arm-checkpoint", nargs="+", metavar="PT",
                    help="ARM checkpoints, each decoded in its own order at the 'ar' point "
                         "(default: every shipped ARM of the task)")
    ap.add_argument("--points", nargs="+", default=None,
                    help="sampler points as NAME:KEY=VAL,... or 'ar' (default: the full sweep)")
    ap.add_argument("--rivals", action="store_true",
                    help="EB beside KLASS, dilated unmasking and remasking, three settings each (and top-1)")
    ap.add_argument("--compare", action="store_true",
                    help="the MDM-against-ARM table: points topk:k=1, eb:gamma=GAMMA and ar")
    ap.add_argument("--gamma", type=float, default=0.01, help="EB gamma of --compare (default 0.01)")
    ap.add_argument("--arm-beam", type=int, nargs="+", default=[], metavar="K",
                    help="--compare: also decode the solver / path order ARMs with beam search of these widths "
                         "(NFE = width x calls)")
    ap.add_argument("--scaling", action="store_true",
                    help="solve rate against the NFE budget (CSV rows and plot per budget), with the classical "
                         "solver's search nodes as the reference (Sudoku)")
    ap.add_argument("--limit", type=int, help="only the first N puzzles")
    ap.add_argument("--batch-size", type=int, default=500, help="puzzles decoded together (default 500)")
    ap.add_argument("--seed", type=int, default=0, help="seed of random positions / drawn values")
    add_runtime_flags(ap)
    ap.add_argument("--csv", help="output CSV (default ./eval-TASK.csv)")
    ap.add_argument("--plot", help="output PNG (default ./eval-TASK.png)")
    ap.add_argument("--json", action="store_true", help="one JSON object with every row as the last line")
    ap.add_argument("--trace", help="with exactly one MDM point: every pass of the first --trace-limit puzzles, "
                                    "FILE.html (the viewer) or FILE.json, as the solvers' --trace")
    ap.add_argument("--trace-limit", type=int, default=100, help="puzzles --trace records (default 100)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap


def check_flags(a) -> list:
    """Every flag, before any model loads: the points to run (and --csv, --plot defaults). UsageError."""
    a.csv = a.csv or f"eval-{a.task}.csv"
    a.plot = a.plot or f"eval-{a.task}.png"
    if (a.compare or a.rivals) and a.points or a.compare and a.rivals:
        raise UsageError("--compare and --rivals choose their own points: one of them, without --points")
    if a.scaling and (a.task != "sudoku" or a.compare):
        raise UsageError("--scaling: Sudoku only, and not with --compare")
    if a.arm_beam and not a.compare:
        raise UsageError("--arm-beam: applies with --compare (else give points ar:beam=K)")
    if any(k < 2 for k in a.arm_beam):
        raise UsageError(f"--arm-beam: widths must be >= 2 (1 is the greedy 'ar' row), got {a.arm_beam}")
    specs = a.points or (["topk:k=1", f"eb:gamma={a.gamma}", "ar"] + [f"ar:beam={k}" for k in a.arm_beam]
                         if a.compare else RIVAL_POINTS if a.rivals else DEFAULT_POINTS)
    try:
        points = [parse_point(p) for p in specs]
    except ValueError as e:
        raise UsageError(f"--points: {str(e).splitlines()[0]}") from None
    for spec, (_, _, guided) in zip(specs, points):
        try:
            check_rules((guided or {}).get("rules", "none"), TASKS[a.task].RULES)
            check_views((guided or {}).get("search_views", 1), TASKS[a.task].VIEWS)
        except ValueError as e:
            raise UsageError(f"--points: bad point {spec!r}: {e}") from None
    check_counts(a)
    if a.trace:
        if len(points) != 1:
            raise UsageError(f"--trace: traces one point; {len(points)} given (pick one with --points)")
        check_trace(a.trace, a.trace_limit, points[0][0], points[0][2])
        check_output(a.trace, "--trace")
    check_output(a.csv, "--csv")
    check_output(a.plot, "--plot")
    return points


def load_models(a, task, points, device) -> dict:
    """name -> (model, facts): 'mdm' for the MDM points, each ARM checkpoint's path for 'ar'."""
    models = {}
    if any(n != "ar" for n, _, _ in points):
        m, ck = load_model(a.checkpoint or default_checkpoint(a.task, "eb"), task=a.task, kind="mdm",
                           vocab=task.vocab(), device=device)
        models["mdm"] = (m, model_facts(m, ck))
    if any(n == "ar" for n, _, _ in points):
        arms = a.arm_checkpoint or default_arms(a.task) or [str(default_checkpoint(a.task, "ar"))]
        for path in arms:
            m, ck = load_model(path, task=a.task, kind="arm", vocab=task.vocab(), device=device)
            models[path] = (m, model_facts(m, ck))
    return models


def fit_models(a, task, questions, models: dict, points: list) -> list:
    """The MDM must read every puzzle (ParseError); an ARM that cannot sits out, and with no
    ARM left the 'ar' points go (UsageError when nothing is left). Returns the points."""
    where = a.input or "test set"
    if "mdm" in models:
        check_fits(models["mdm"][0], task, questions, where, "the MDM")
    for key in [k for k in models if k != "mdm"]:
        try:
            check_fits(models[key][0], task, questions, where, Path(key).name)
        except ParseError as e:
            print(f"note: skipping {Path(key).name}: {e}", file=sys.stderr)
            del models[key]
    if any(n == "ar" for n, _, _ in points) and len(models) == ("mdm" in models):
        if "mdm" not in models:
            raise UsageError(f"{where}: no ARM checkpoint reads these mazes; give MDM points too")
        print("note: no ARM reads these mazes: the 'ar' points are left out", file=sys.stderr)
        points = [p for p in points if p[0] != "ar"]
    return points


def run_points(a, task, questions, status, models, points, device, precision) -> list[dict]:
    """Decode the set at every point (each ARM at the 'ar' points); one row per run. With
    ``a.trace`` (one MDM point, checked), the run's passes go to that file."""
    depths = [task.depth(q) for q in questions]
    rows = []
    runs = [(n, o, g, k) for n, o, g in points
            for k in ([k for k in models if k != "mdm"] if n == "ar" else ["mdm"])
            if not (n == "ar" and o["beam"] > 1 and models[k][0].cfg.order == "raster")]   # no beam in raster
    for name, opts, guided, key in runs:
        model, facts = models[key]
        trace = Trace(a.trace_limit) if a.trace else None
        answers, st = decode(model, task, questions, sampler=name, options=opts, batch_size=a.batch_size,
                             device=device, seed=a.seed, progress=not a.quiet, guided=guided,
                             precision=precision, trace=trace)
        s = summarize(task, questions, answers, st, status, depths)
        if trace is not None:
            write_trace(a.trace, trace_data(task, questions, answers, trace, s["_solved"], s["_reasons"], status,
                                           st["nfe"], f"{task.name} | {label(name, opts, guided)}"))
        ck_name = Path(key if key != "mdm" else a.checkpoint or default_checkpoint(a.task, "eb")).name
        rows.append({"sampler": name + ("+guided" if guided else ""), "checkpoint": ck_name,
                     "model": "ARM" if name == "ar" else "MDM", **facts,
                     "label": (arm_label(model.cfg.order, opts, model.cfg.any_size) if name == "ar"
                               else label(name, opts, guided)),
                     "options": json.dumps(dict(opts, **(guided or {}))),
                     "n": s["n"], "solved": s["solved"], "solve_rate": s["solve_rate"],
                     "ci_lo": s["ci95"][0], "ci_hi": s["ci95"][1], "nfe_mean": s["nfe_mean"],
                     "nfe_median": s["nfe_median"], "nfe_per_depth": s["nfe_per_depth"],
                     "tokens_per_nfe": s["tokens_per_nfe"], "puzzles_per_s": s["puzzles_per_s"],
                     "rate_depth_defined": s["solved_by_depth_class"]["defined"]["solve_rate"],
                     "rate_depth_undefined": s["solved_by_depth_class"]["undefined"]["solve_rate"],
                     "depth_mean": s["depth_mean"], "_nfe": st["nfe"], "_solved": s["_solved"]})
        print(f"{rows[-1]['label']:<22} solved {100 * s['solve_rate']:5.1f}%  NFE {s['nfe_mean']:6.2f}",
              file=sys.stderr)
    return rows


def write_csv(a, task, questions, status, rows: list[dict]) -> np.ndarray:
    """Split each row's rate by tied / unique answers (tasks that may tie), write the CSV;
    returns the tied mask."""
    tied = task.ties(questions, status)
    for r in rows:
        r.pop("_nfe")
        ok = np.asarray(r.pop("_solved"), bool)
        for key, sel in (("rate_unique", ~tied), ("rate_tied", tied)):
            r[key] = float(ok[sel].mean()) if task.may_tie and sel.any() else None
    cols = ["model", "label", "params", "train_examples", "n", "solve_rate", "ci_lo", "ci_hi", "nfe_mean",
            "nfe_median", "nfe_per_depth", "tokens_per_nfe", "rate_depth_defined", "rate_depth_undefined",
            "puzzles_per_s", "options"]
    if task.may_tie:
        cols[-2:-2] = ["rate_unique", "rate_tied"]

    def fmt(v):
        return f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v)
    atomic_write_text(a.csv, csv_text(cols, [[fmt(r[c]) for c in cols] for r in rows]))
    return tied


def print_rows(task, rows: list[dict], tied: np.ndarray, depth: float | None) -> None:
    """The markdown table of the run."""
    dname = task.depth_name.removesuffix(" depth")
    print(f"{task.name}: {rows[0]['n']} puzzles, mean {dname} depth {depth:.2f}" if depth else task.name)
    maze = task.may_tie
    print(f"| model | decoding | solved | 95% CI | mean NFE | NFE / depth | tokens/NFE | params | "
          f"training examples | solved ({dname}-solvable) | solved (rest) |"
          + (f" solved (unique path, {int((~tied).sum())}) | solved (tied paths, {int(tied.sum())}) |" if maze else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if maze else ""))

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"
    for r in rows:
        ratio = "n/a" if r["nfe_per_depth"] is None else f"{r['nfe_per_depth']:.2f}"
        ex = "n/a" if not r["train_examples"] else f"{r['train_examples'] / 1e3:.0f}k"
        print(f"| {r['model']} | {r['label']} | {pct(r['solve_rate'])} | {100 * r['ci_lo']:.1f}-{100 * r['ci_hi']:.1f} | "
              f"{r['nfe_mean']:.2f} | {ratio} | {r['tokens_per_nfe']:.2f} | {r['params'] / 1e6:.2f}M | {ex} | "
              f"{pct(r['rate_depth_defined'])} | {pct(r['rate_depth_undefined'])} |"
              + (f" {pct(r['rate_unique'])} | {pct(r['rate_tied'])} |" if maze else ""))


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    task = get_task(a.task)
    try:
        points = check_flags(a)
        device, precision = apply_runtime_flags(a)
        questions, _ = read_questions(task, a.input or str(dataset(a.task)))
        models = load_models(a, task, points, device)
        questions = questions[:a.limit] if a.limit else questions
        points = fit_models(a, task, questions, models, points)
    except (UsageError, RuntimeChoiceError, ParseError, CheckpointError) as e:
        return fail(str(e))
    status = puzzle_status(task, questions)
    rows = run_points(a, task, questions, status, models, points, device, precision)
    if a.scaling:
        return scaling_report(rows, task, questions, a.csv, a.plot, a.json)
    tied = write_csv(a, task, questions, status, rows)
    depth = next((r["depth_mean"] for r in rows if r["depth_mean"]), None)
    names = ", ".join(sorted({r["checkpoint"] for r in rows}))
    plotted = plot(rows, depth, a.plot, a.task, f"{Path(a.input).name if a.input else a.task + ' test.csv'}: "
                                                f"solve rate against NFE ({names})")
    print_rows(task, rows, tied, depth)
    print(f"wrote {a.csv}" + (f" and {a.plot}" if plotted else ""))
    if a.json:
        print(json.dumps({"task": a.task, "depth_mean": depth, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
