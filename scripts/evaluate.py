"""Sweep samplers over a test set: solve rate against NFE, the MDM beside the ARM.

    python -m scripts.evaluate --task sudoku
    python -m scripts.evaluate --task maze --limit 200
    python -m scripts.evaluate --task sudoku --points eb:gamma=0.01 topk:k=1 ar --json
    python -m scripts.evaluate --input datasets/sudoku/hard.csv --csv docs/eval-hard.csv \
        --plot docs/eval-hard.png --points eb:gamma=0.01 eb:gamma=0.01,repair=8,search=1,search_budget=200

Default points: EB gamma in {0, 0.001, 0.01, 0.1, 0.3, 1, 3}; top-k k in {1, 2, 4, 8};
threshold tau in {0.99, 0.9, 0.7}; random with 8/16/32/64 steps; the ARM. Writes a CSV
(default ./eval-TASK.csv) and, when matplotlib is installed, a PNG plot of solve
rate against mean NFE (log x, one curve per sampler, the ARM as a point, the mean
singles / dead-end depth as a vertical line). Prints the table; --json adds one JSON
object as the last line. A point's keys may include the repair/search options
(repair, search, search_budget, stall_entropy, branch_k, rules) of ``solvers.sudoku``.
"""
from __future__ import annotations

import json
import sys

from models.checkpoint import CheckpointError, load_model
from models.runtime import RuntimeChoiceError
from puzzles.cli import Parser, UsageError, check_output, fail
from puzzles.data import dataset
from puzzles.io import ParseError, atomic_write_figure, atomic_write_text, csv_text
from puzzles.tasks import get_task, read_questions
from sampling import OPTIONS
from sampling.search import SearchOptions
from solvers.cli import add_runtime_flags, apply_runtime_flags
from solvers.decode import decode, default_checkpoint, puzzle_status
from solvers.report import summarize

DEFAULT_POINTS = (["eb:gamma=" + g for g in ("0", "0.001", "0.01", "0.1", "0.3", "1", "3")]
                  + [f"topk:k={k}" for k in (1, 2, 4, 8)]
                  + [f"threshold:tau={t}" for t in (0.99, 0.9, 0.7)]
                  + [f"random:steps={s}" for s in (8, 16, 32, 64)] + ["ar"])


def parse_point(spec: str) -> tuple[str, dict, dict | None]:
    """'eb:gamma=0.1,repair=4,search=1' -> ('eb', sampler options, repair/search options or None)."""
    name, _, rest = spec.partition(":")
    if name == "ar":
        return "ar", {}, None
    if name not in OPTIONS:
        raise ValueError(f"unknown sampler {name!r} in {spec!r}")
    try:
        kv = dict(p.split("=", 1) for p in rest.split(",") if p)
    except ValueError:
        raise ValueError(f"bad point {spec!r}: expected NAME:KEY=VAL,...") from None
    g = {k: kv.pop(k) for k in list(kv) if k in SearchOptions.model_fields}
    return name, OPTIONS[name](**kv).model_dump(), (SearchOptions(**g).model_dump() if g else None)


def label(name: str, opts: dict, guided: dict | None = None) -> str:
    key = {"eb": "gamma", "topk": "k", "threshold": "tau", "random": "steps"}.get(name)
    out = name if key is None else f"{name} {key}={opts[key]}"
    if guided:
        out += f" +repair {guided['repair']}" if guided["repair"] else ""
        out += f" +rules {guided['rules']}" if guided.get("rules", "none") != "none" else ""
        out += (f" +search {guided['search_budget']} (H>{guided['stall_entropy']:g}, k={guided['branch_k']})"
                if guided["search"] else "")
    return out


def plot(rows: list[dict], depth: float | None, path: str, task: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib not installed (pip install '.[plot]'); no plot written", file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, style in (("eb", "o-"), ("topk", "s-"), ("threshold", "^-"), ("random", "x--"),
                        ("eb+guided", "D-"), ("topk+guided", "P-")):
        pts = sorted((r["nfe_mean"], 100 * r["solve_rate"]) for r in rows if r["sampler"] == name)
        if pts:
            ax.plot(*zip(*pts), style, label=name)
    for r in rows:
        if r["sampler"] == "ar":
            ax.plot(r["nfe_mean"], 100 * r["solve_rate"], "k*", markersize=14, label="ARM (same size)")
    if depth:
        ax.axvline(depth, color="gray", ls=":", label=f"mean {'singles' if task == 'sudoku' else 'dead-end'} depth")
    ax.set_xscale("log")
    ax.set_xlabel("mean NFE per puzzle (log)")
    ax.set_ylabel("solve rate (%)")
    ax.set_title(f"{task}: solve rate against NFE")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_figure(fig, path)
    return True


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.evaluate", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--task", choices=["sudoku", "maze"], default="sudoku", help="default sudoku")
    ap.add_argument("--input", help="test set (default datasets/TASK/test.csv)")
    ap.add_argument("--checkpoint", help="MDM checkpoint (default: the shipped one)")
    ap.add_argument("--arm-checkpoint", help="ARM checkpoint (default: the shipped one)")
    ap.add_argument("--points", nargs="+", default=DEFAULT_POINTS,
                    help="sampler points as NAME:KEY=VAL,... or 'ar' (default: the full sweep)")
    ap.add_argument("--limit", type=int, help="only the first N puzzles")
    ap.add_argument("--batch-size", type=int, default=500, help="puzzles decoded together (default 500)")
    ap.add_argument("--seed", type=int, default=0, help="seed of random positions / drawn values")
    add_runtime_flags(ap)
    ap.add_argument("--csv", help="output CSV (default ./eval-TASK.csv)")
    ap.add_argument("--plot", help="output PNG (default ./eval-TASK.png)")
    ap.add_argument("--json", action="store_true", help="one JSON object with every row as the last line")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    a = ap.parse_args(argv)
    task = get_task(a.task)
    csv_path = a.csv or f"eval-{a.task}.csv"
    png = a.plot or f"eval-{a.task}.png"
    try:
        try:
            points = [parse_point(p) for p in a.points]
        except ValueError as e:
            raise UsageError(f"--points: {str(e).splitlines()[0]}") from None
        for flag, v, lo in (("--limit", a.limit, 1), ("--batch-size", a.batch_size, 1), ("--seed", a.seed, 0)):
            if v is not None and v < lo:
                raise UsageError(f"{flag}: must be >= {lo}, got {v}")
        check_output(csv_path, "--csv")
        check_output(png, "--plot")
        device, precision = apply_runtime_flags(a)
        questions, _ = read_questions(task, a.input or str(dataset(a.task)))
        models = {}
        for kind in {"arm" if n == "ar" else "mdm" for n, _, _ in points}:
            path = (a.arm_checkpoint if kind == "arm" else a.checkpoint) or default_checkpoint(a.task, "ar" if kind == "arm" else "eb")
            models[kind] = load_model(path, task=a.task, kind=kind, vocab=task.vocab(), device=device)[0]
    except (UsageError, RuntimeChoiceError, ParseError, CheckpointError) as e:
        return fail(str(e))
    if a.limit:
        questions = questions[:a.limit]
    status = puzzle_status(task, questions)
    depths = [task.depth(q) for q in questions]
    rows = []
    for name, opts, guided in points:
        model = models["arm" if name == "ar" else "mdm"]
        answers, st = decode(model, task, questions, sampler=name, options=opts, batch_size=a.batch_size,
                             device=device, seed=a.seed, progress=not a.quiet, guided=guided,
                             precision=precision)
        s = summarize(task, questions, answers, st, status, depths)
        rows.append({"sampler": name + ("+guided" if guided else ""), "label": label(name, opts, guided),
                     "options": json.dumps(dict(opts, **(guided or {}))),
                     "n": s["n"], "solved": s["solved"], "solve_rate": s["solve_rate"],
                     "ci_lo": s["ci95"][0], "ci_hi": s["ci95"][1], "nfe_mean": s["nfe_mean"],
                     "nfe_median": s["nfe_median"], "nfe_per_depth": s["nfe_per_depth"],
                     "tokens_per_nfe": s["tokens_per_nfe"], "puzzles_per_s": s["puzzles_per_s"],
                     "rate_depth_defined": s["solved_by_depth_class"]["defined"]["solve_rate"],
                     "rate_depth_undefined": s["solved_by_depth_class"]["undefined"]["solve_rate"],
                     "depth_mean": s["depth_mean"]})
        print(f"{rows[-1]['label']:<22} solved {100 * s['solve_rate']:5.1f}%  NFE {s['nfe_mean']:6.2f}",
              file=sys.stderr)
    depth = next((r["depth_mean"] for r in rows if r["depth_mean"]), None)
    cols = ["label", "n", "solve_rate", "ci_lo", "ci_hi", "nfe_mean", "nfe_median", "nfe_per_depth",
            "tokens_per_nfe", "rate_depth_defined", "rate_depth_undefined", "puzzles_per_s", "options"]

    def fmt(v):
        return f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v)
    atomic_write_text(csv_path, csv_text(cols, [[fmt(r[c]) for c in cols] for r in rows]))
    plotted = plot(rows, depth, png, a.task)
    dname = "singles" if a.task == "sudoku" else "dead-end"
    print(f"{a.task}: {rows[0]['n']} puzzles, mean {dname} depth {depth:.2f}" if depth else a.task)
    print(f"| sampler | solved | 95% CI | mean NFE | NFE / depth | tokens/NFE | solved ({dname}-solvable) | solved (rest) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        def pct(v):
            return "n/a" if v is None else f"{100 * v:.1f}%"
        ratio = "n/a" if r["nfe_per_depth"] is None else f"{r['nfe_per_depth']:.2f}"
        print(f"| {r['label']} | {pct(r['solve_rate'])} | {100 * r['ci_lo']:.1f}-{100 * r['ci_hi']:.1f} | "
              f"{r['nfe_mean']:.2f} | {ratio} | "
              f"{r['tokens_per_nfe']:.2f} | {pct(r['rate_depth_defined'])} | {pct(r['rate_depth_undefined'])} |")
    print(f"wrote {csv_path}" + (f" and {png}" if plotted else ""))
    if a.json:
        print(json.dumps({"task": a.task, "depth_mean": depth, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
