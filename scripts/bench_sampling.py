"""Benchmark batched decoding: EB against top-1, fp32 against bf16, on the same puzzles.

    python -m scripts.bench_sampling
    python -m scripts.bench_sampling --gamma 0.01 --limit 500 --batch-size 500 --json
    python -m scripts.bench_sampling --task maze --input datasets/maze/test-20.csv --limit 100 --precision bf16

Decodes the shipped test set (or ``--input``) with the shipped MDM four times in one run (EB and top-1,
each in fp32 and under bf16 autocast; ``--compile`` adds EB bf16 under torch.compile) and prints for each: solve rate, mean NFE,
puzzles/s, model time and sampler overhead as a fraction of model time; then the
ratios EB/top-1 (wall time, NFE) and bf16/fp32 (puzzles/s, solve-rate difference).
bf16 is measured even where ``auto`` would pick fp32, so that the ratio is visible.
"""
from __future__ import annotations

import json
import sys

import torch

from models.checkpoint import CheckpointError, load_model
from models.runtime import RuntimeChoiceError, cpu_has_fast_bf16, set_threads
from puzzles.cli import Parser, UsageError, fail
from puzzles.data import dataset
from puzzles.io import ParseError
from puzzles.tasks import get_task, read_questions
from solvers.decode import check_fits, decode, default_checkpoint
from solvers.report import summarize


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    precs = ("fp32", "bf16") if a.precision == "both" else (a.precision,)
    task = get_task(a.task)
    try:
        set_threads(a.threads)
        if a.limit is not None and a.limit < 1:
            raise UsageError(f"--limit: must be >= 1, got {a.limit}")
        qs, _ = read_questions(task, a.input or str(dataset(a.task)))
        model, _ = load_model(default_checkpoint(a.task, "eb"), task=a.task, kind="mdm", vocab=task.vocab())
        qs = qs[:a.limit] if a.limit else qs
        check_fits(model, task, qs, a.input or "test set", "maze-mdm.pt")
    except (RuntimeChoiceError, UsageError, ParseError, CheckpointError) as e:
        return fail(str(e))
    res = measure(a, model, task, qs, precs)
    print_results(a, res, precs, len(qs))
    if a.json:
        print(json.dumps(res))
    return 0


def build_parser() -> Parser:
    ap = Parser(prog="python -m scripts.bench_sampling", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--task", choices=["sudoku", "maze"], default="sudoku")
    ap.add_argument("--gamma", type=float, default=0.01, help="EB gamma (default 0.01)")
    ap.add_argument("--input", help="puzzle file (default: the task's shipped test.csv), e.g. "
                                    "datasets/maze/test-20.csv for 20x20 mazes/s")
    ap.add_argument("--limit", type=int, help="first N puzzles (default: all)")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: every core)")
    ap.add_argument("--precision", choices=["both", "fp32", "bf16"], default="both",
                    help="precisions to time (default both, side by side, with their ratio)")
    ap.add_argument("--compile", action="store_true",
                    help="also time EB bf16 with torch.compile(dynamic=True), compile time excluded")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line of stdout")
    return ap


def measure(a, model, task, qs, precs) -> dict:
    """Each (sampler, precision) decoded side by side, and their ratios."""
    status = ["ok"] * len(qs)
    depths = [None] * len(qs)
    decode(model, task, qs[:50], sampler="eb", options={"gamma": a.gamma}, batch_size=a.batch_size,
           device="cpu", progress=False, precision="bf16")   # warm-up
    res = {}
    for name, sampler, opts in (("eb", "eb", {"gamma": a.gamma}), ("top1", "topk", {"k": 1})):
        for prec in precs:
            ans, st = decode(model, task, qs, sampler=sampler, options=opts, batch_size=a.batch_size,
                             device="cpu", precision=prec)
            s = summarize(task, qs, ans, st, status, depths)
            res[f"{name}_{prec}"] = {k: s[k] for k in ("n", "solved", "solve_rate", "nfe_mean", "puzzles_per_s",
                                                       "seconds", "model_seconds", "overhead_seconds",
                                                       "overhead_frac")}
    if a.compile and "bf16" in precs:
        compiled = torch.compile(model, dynamic=True)
        decode(compiled, task, qs[:50], sampler="eb", options={"gamma": a.gamma}, batch_size=a.batch_size,
               device="cpu", progress=False, precision="bf16")   # compiles here, untimed
        ans, st = decode(compiled, task, qs, sampler="eb", options={"gamma": a.gamma}, batch_size=a.batch_size,
                         device="cpu", precision="bf16")
        s = summarize(task, qs, ans, st, status, depths)
        res["eb_bf16_compile"] = {k: s[k] for k in res["eb_bf16"]}
        res["eb_compile_speedup"] = s["puzzles_per_s"] / res["eb_bf16"]["puzzles_per_s"]
    if len(precs) == 2:
        for name in ("eb", "top1"):
            f, b = res[f"{name}_fp32"], res[f"{name}_bf16"]
            res[f"{name}_bf16_speedup"] = b["puzzles_per_s"] / f["puzzles_per_s"]
            res[f"{name}_bf16_rate_diff_points"] = 100 * (b["solve_rate"] - f["solve_rate"])
    for prec in precs:
        res[f"eb_speedup_wall_{prec}"] = res[f"top1_{prec}"]["seconds"] / res[f"eb_{prec}"]["seconds"]
        res[f"eb_nfe_ratio_{prec}"] = res[f"eb_{prec}"]["nfe_mean"] / res[f"top1_{prec}"]["nfe_mean"]
    return res


def print_results(a, res: dict, precs, n: int) -> None:
    both = len(precs) == 2
    print(f"{a.task} ({a.input or 'shipped test.csv'}), {n} puzzles, batch {a.batch_size}, {torch.get_num_threads()} threads, "
          f"native bf16: {cpu_has_fast_bf16()}")
    keys = [f"{n}_{p}" for n in ("eb", "top1") for p in precs] + (["eb_bf16_compile"] if "eb_bf16_compile" in res else [])
    for key in keys:
        r = res[key]
        print(f"{key:<16} solved {100 * r['solve_rate']:5.1f}%  NFE {r['nfe_mean']:6.2f}  "
              f"{r['puzzles_per_s']:7.1f} puzzles/s  model {r['model_seconds']:.2f} s  "
              f"overhead {100 * r['overhead_frac']:.1f}% of model time")
    for name in ("eb", "top1") if both else ():
        print(f"{name}: bf16 / fp32 puzzles/s {res[f'{name}_bf16_speedup']:.2f}x, "
              f"solve rate {res[f'{name}_bf16_rate_diff_points']:+.1f} points")
    if "eb_bf16_compile" in res:
        print(f"eb bf16: torch.compile / eager puzzles/s {res['eb_compile_speedup']:.2f}x")
    for prec in precs:
        print(f"EB / top-1 ({prec}): wall-time speed-up {res[f'eb_speedup_wall_{prec}']:.2f}x, "
              f"NFE ratio {res[f'eb_nfe_ratio_{prec}']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
