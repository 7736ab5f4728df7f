"""Benchmark batched decoding: EB against top-1 on the same puzzles, in one run.

    python -m scripts.bench_sampling
    python -m scripts.bench_sampling --gamma 0.01 --limit 500 --batch-size 500 --json

Decodes the shipped Sudoku test set with the shipped MDM twice, EB then top-1
(confidence, one cell per step), and prints for each: puzzles/s, mean NFE, model time,
sampler overhead as a fraction of model time, and the EB/top-1 ratios of wall time and NFE.
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from models.checkpoint import load_model
from puzzles.tasks import get_task, read_questions
from solvers.common import DATASETS, decode, default_checkpoint, summarize


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bench_sampling", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--task", choices=["sudoku", "maze"], default="sudoku")
    ap.add_argument("--gamma", type=float, default=0.01, help="EB gamma (default 0.01)")
    ap.add_argument("--limit", type=int, help="first N puzzles (default: all)")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    task = get_task(a.task)
    model, _ = load_model(default_checkpoint(a.task, "eb"), task=a.task, kind="mdm", vocab=task.vocab())
    qs, _ = read_questions(task, str(DATASETS / a.task / "test.csv"))
    qs = qs[:a.limit] if a.limit else qs
    status = ["ok"] * len(qs)
    depths = [None] * len(qs)
    decode(model, task, qs[:50], sampler="eb", options={"gamma": a.gamma}, batch_size=a.batch_size,
           device="cpu", progress=False)                     # warm-up
    res = {}
    for name, sampler, opts in (("eb", "eb", {"gamma": a.gamma}), ("top1", "topk", {"k": 1})):
        ans, st = decode(model, task, qs, sampler=sampler, options=opts, batch_size=a.batch_size, device="cpu")
        s = summarize(task, qs, ans, st, status, depths)
        res[name] = {k: s[k] for k in ("n", "solve_rate", "nfe_mean", "puzzles_per_s", "seconds",
                                       "model_seconds", "overhead_seconds", "overhead_frac")}
    res["eb_speedup_wall"] = res["top1"]["seconds"] / res["eb"]["seconds"]
    res["eb_nfe_ratio"] = res["eb"]["nfe_mean"] / res["top1"]["nfe_mean"]
    print(f"{a.task}, {len(qs)} puzzles, batch {a.batch_size}, {torch.get_num_threads()} threads")
    for name in ("eb", "top1"):
        r = res[name]
        print(f"{name:<5} solved {100 * r['solve_rate']:5.1f}%  NFE {r['nfe_mean']:6.2f}  "
              f"{r['puzzles_per_s']:7.1f} puzzles/s  model {r['model_seconds']:.2f} s  "
              f"overhead {100 * r['overhead_frac']:.1f}% of model time")
    print(f"EB / top-1: wall-time speed-up {res['eb_speedup_wall']:.2f}x, NFE ratio {res['eb_nfe_ratio']:.3f}")
    if a.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
