"""The solver engine shared by ``solvers.sudoku``, ``solvers.maze`` and the scripts.

Loads a checkpoint, decodes puzzles in batches with a registered sampler (or the ARM),
verifies every answer, and summarises solve rate against NFE.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import CheckpointError, load_model
from models.runtime import PRECISIONS, RuntimeChoiceError, autocast, pick_device, resolve_precision, set_threads
from puzzles.io import ParseError
from puzzles.tasks import failure_counts, read_questions
from sampling import OPTIONS, ar_decode, run_sampler
from sampling.rules import make_select
from sampling.search import SearchOptions, guided_decode

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "models" / "pretrained"
DATASETS = ROOT / "datasets"


def default_checkpoint(task: str, sampler: str) -> Path:
    return PRETRAINED / f"{task}-{'arm' if sampler == 'ar' else 'mdm'}.pt"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


_SAMPLER_FLAGS = ("gamma", "proxy", "k", "tau", "steps")


def sampler_options(args) -> dict:
    """The typed options of ``args.sampler`` taken from the flags that name them."""
    fields = OPTIONS[args.sampler].model_fields if args.sampler != "ar" else {}
    for k in _SAMPLER_FLAGS:
        if getattr(args, k, None) is not None and k not in fields:
            raise ValueError(f"--{k} does not apply to --sampler {args.sampler}")
    if args.sampler == "ar":
        return {"temperature": args.temperature}
    given = {k: getattr(args, k) for k in fields if getattr(args, k, None) is not None}
    return OPTIONS[args.sampler](**given).model_dump()


def decode(model, task, questions, *, sampler: str, options: dict, batch_size: int, device: str,
           seed: int = 0, progress: bool = True, guided: dict | None = None,
           precision: str = "fp32") -> tuple[list, dict]:
    """Decode all ``questions``; returns (answers in the task's form, stats).

    ``precision`` ('fp32' or 'bf16', resolved by ``models.runtime.resolve_precision``)
    sets autocast for the forward passes; the logits stay float32 either way.

    ``guided``: SearchOptions fields (repair, search, ...) to decode with the task's
    conflict check after every step (MDM samplers only)."""
    from tqdm import tqdm
    gen = torch.Generator().manual_seed(seed)
    n = len(questions)
    nfe = np.zeros(n, dtype=np.int64)
    tokens_per_step: list[list[int]] = []
    extra = {"repairs": [], "backtracks": [], "branches": []}
    model_s = over_s = 0.0
    answers: list = []
    model_fn = model
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(device, precision):
        for s in tqdm(range(0, n, batch_size), desc=f"decode ({sampler})", file=sys.stderr,
                      disable=not progress, unit="batch"):
            qs = questions[s:s + batch_size]
            if sampler == "ar":
                prompt, forced = (torch.from_numpy(a).to(device) for a in task.arm_prompt(qs))
                out, st = ar_decode(model.step, prompt, n_tokens=model.cfg.cells, forced=forced,
                                    temperature=options.get("temperature", 0.0), generator=gen)
            elif guided:
                x = torch.from_numpy(task.encode(qs)).to(device)
                out, st = guided_decode(model_fn, x, mask_id=task.mask_id, select=make_select(sampler, options),
                                        check_fn=lambda t: torch.from_numpy(task.conflicts(t.cpu().numpy())),
                                        temperature=options.get("temperature", 0.0), generator=gen,
                                        **SearchOptions(**guided).model_dump())
                for k in extra:
                    extra[k].extend(st[k])
            else:
                x = torch.from_numpy(task.encode(qs)).to(device)
                out, st = run_sampler(sampler, model_fn, x, mask_id=task.mask_id, options=options, generator=gen)
            answers.extend(task.decode(out.cpu().numpy(), qs))
            nfe[s:s + len(qs)] = st["nfe"].numpy()
            tokens_per_step.extend(st["tokens_per_step"])
            model_s += st["model_seconds"]
            over_s += st["overhead_seconds"]
    seconds = time.perf_counter() - t0
    if task.name == "sudoku":
        answers = np.stack(answers) if answers else np.zeros((0, task.n * task.n), np.int8)
    out = {"nfe": nfe, "tokens_per_step": tokens_per_step, "model_seconds": model_s,
           "overhead_seconds": over_s, "seconds": seconds}
    if guided:
        out.update({k: np.array(v) for k, v in extra.items()})
    return answers, out


def puzzle_status(task, questions) -> list[str]:
    """'ok' or why a puzzle cannot be solved at all (not counted as a model failure)."""
    if task.name == "sudoku":
        from puzzles import sudoku as sd
        checks = (sd.check_puzzle(q, task.box) for q in questions)
        return ["ok" if c in ("ok", "several solutions") else c for c in checks]
    from puzzles import maze as mz
    return ["ok" if mz.shortest_length(q) >= 0 else "no solution" for q in questions]


def summarize(task, questions, answers, stats, status, depths) -> dict:
    """The summary row: solve rate with its Wilson interval, NFE, depth, throughput."""
    valid = np.array([s == "ok" for s in status])
    solved, reasons = task.verify(questions, answers) if len(questions) else (np.zeros(0, bool), [])
    solved = np.asarray(solved) & valid
    n = int(valid.sum())
    k = int(solved.sum())
    nfe = stats["nfe"][valid]
    d = np.array([np.nan if x is None else x for x in depths], dtype=float)[valid]
    has_d = ~np.isnan(d)
    toks = sum(sum(t) for t, v in zip(stats["tokens_per_step"], valid) if v)
    lo, hi = wilson(k, n)
    out = {
        "n": n, "solved": k, "solve_rate": k / n if n else 0.0, "ci95": [lo, hi],
        "invalid_puzzles": int((~valid).sum()),
        "nfe_mean": float(nfe.mean()) if n else 0.0,
        "nfe_median": float(np.median(nfe)) if n else 0.0,
        "depth_mean": float(d[has_d].mean()) if has_d.any() else None,
        "nfe_per_depth": float(nfe[has_d].mean() / d[has_d].mean()) if has_d.any() else None,
        "depth_defined": int(has_d.sum()),
        "tokens_per_nfe": float(toks / nfe.sum()) if n and nfe.sum() else 0.0,
        "seconds": stats["seconds"],
        "puzzles_per_s": len(questions) / stats["seconds"] if stats["seconds"] else 0.0,
        "model_seconds": stats["model_seconds"], "overhead_seconds": stats["overhead_seconds"],
        "overhead_frac": stats["overhead_seconds"] / stats["model_seconds"] if stats["model_seconds"] else 0.0,
        "solved_by_depth_class": {
            "defined": _rate(solved[valid][has_d]), "undefined": _rate(solved[valid][~has_d])},
    }
    for k in ("repairs", "backtracks", "branches"):
        if k in stats:
            out[f"{k}_mean"] = float(np.asarray(stats[k])[valid].mean()) if n else 0.0
    out["failures"] = failure_counts(solved | ~valid, reasons)
    out["_solved"] = solved
    out["_reasons"] = reasons
    return out


def _rate(a: np.ndarray):
    return {"n": int(a.size), "solve_rate": float(a.mean()) if a.size else None}


def print_table(s: dict, label: str, depth_name: str) -> None:
    lo, hi = s["ci95"]
    rows = [
        ("puzzles", f"{s['n']}" + (f" (+{s['invalid_puzzles']} unsolvable, not counted)" if s["invalid_puzzles"] else "")),
        ("solved", f"{s['solved']}"),
        ("solve rate", f"{100 * s['solve_rate']:.1f}%  (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"),
        ("NFE mean / median", f"{s['nfe_mean']:.2f} / {s['nfe_median']:.1f}"),
        (f"{depth_name} mean", "n/a" if s["depth_mean"] is None else f"{s['depth_mean']:.2f} (defined for {s['depth_defined']})"),
        ("NFE / depth", "n/a" if s["nfe_per_depth"] is None else f"{s['nfe_per_depth']:.2f}"),
        ("tokens per NFE", f"{s['tokens_per_nfe']:.2f}"),
        ("puzzles/s", f"{s['puzzles_per_s']:.1f}  ({s['seconds']:.2f} s)"),
        ("sampler overhead", f"{100 * s['overhead_frac']:.1f}% of model time"),
    ]
    if "repairs_mean" in s:
        rows.append(("repairs / backtracks / branches", f"{s['repairs_mean']:.2f} / {s['backtracks_mean']:.2f} / "
                                                        f"{s['branches_mean']:.2f} per puzzle"))
    print(f"== {label}")
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    if s["failures"]:
        print("failures: " + ", ".join(f"{k}: {v}" for k, v in sorted(s["failures"].items())))


def public(s: dict) -> dict:
    return {k: v for k, v in s.items() if not k.startswith("_")}


def add_runtime_flags(ap: argparse.ArgumentParser, device_default: str = "auto") -> None:
    """--device, --threads and --precision, alike in every decoding entry point."""
    ap.add_argument("--device", default=device_default,
                    help=f"cpu, cuda, mps or auto: CUDA, then MPS, then CPU (default {device_default})")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: every core)")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto",
                    help="autocast precision: auto = bf16 where the device runs it natively "
                         "(AVX512-BF16/AMX CPUs, bf16 CUDA), else fp32 (default auto)")


def apply_runtime_flags(args) -> tuple[str, str]:
    """Set the thread count; return (device, resolved precision). Raises RuntimeChoiceError."""
    set_threads(args.threads)
    device = pick_device(args.device)
    return device, resolve_precision(args.precision, device)


def build_parser(task_name: str, doc: str, depth_name: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"python -m solvers.{task_name}", description=doc.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    ap.add_argument("--sampler", choices=["eb", "topk", "threshold", "random", "ar"], default="eb",
                    help="eb: entropy bounded; topk: k per step; threshold: confidence > tau; "
                         "random: vanilla MDM on a step schedule; ar: the autoregressive baseline (default: eb)")
    ap.add_argument("--gamma", type=float, help="eb: bound on summed entropy minus the largest, in nats (default 0.01)")
    ap.add_argument("--proxy", choices=["entropy", "confidence", "margin"],
                    help="eb/topk: order of the positions (default: entropy for eb, confidence for topk)")
    ap.add_argument("--k", type=int, help="topk: positions per step (default 1)")
    ap.add_argument("--tau", type=float, help="threshold: confidence threshold (default 0.9)")
    ap.add_argument("--steps", type=int, help="random: decoding steps per puzzle (default 16)")
    ap.add_argument("--temperature", type=float, default=0.0, help="0: argmax values (default); >0 draws values")
    ap.add_argument("--seed", type=int, default=0, help="seed for random positions and drawn values (default 0)")
    g = ap.add_argument_group("repair and search (MDM samplers)")
    g.add_argument("--repair", type=int, default=0, help="repairs allowed per puzzle: undo a step that breaks "
                                                          "a rule and ban the offending value (default 0)")
    g.add_argument("--search", action="store_true", help="branch on the most certain cell when every masked "
                                                         "cell is uncertain; backtrack on contradictions")
    g.add_argument("--search-budget", type=int, default=400, help="most NFE per puzzle with --search (default 400)")
    g.add_argument("--stall-entropy", type=float, default=0.01, help="branch when the lowest entropy of a masked "
                                                                    "cell exceeds this, in nats (default 0.01)")
    g.add_argument("--branch-k", type=int, default=2, help="candidates tried per branch point (default 2)")
    ap.add_argument("--checkpoint", help=f"model file (default: models/pretrained/{task_name}-mdm.pt, "
                                         f"or {task_name}-arm.pt for --sampler ar)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--input", help=f"puzzle file, any format the puzzles package reads "
                                     f"(default: datasets/{task_name}/test.csv)")
    src.add_argument("--puzzle", help="one puzzle as a string; prints the solved board")
    ap.add_argument("--limit", type=int, help="only the first N puzzles")
    ap.add_argument("--batch-size", type=int, default=500, help="puzzles decoded together (default 500)")
    add_runtime_flags(ap)
    ap.add_argument("--output", help="write one answer per input, in input order")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def run(task, argv, *, doc: str, depth_name: str, parse_one, write_answers, show_one) -> int:
    ap = build_parser(task.name, doc, depth_name)
    args = ap.parse_args(argv)
    try:
        opts = sampler_options(args)
    except ValueError as e:  # pydantic's ValidationError names the bad option
        ap.error(f"bad sampler option: {e}")
    guided = None
    if args.repair or args.search:
        if args.sampler == "ar":
            ap.error("--repair and --search apply to the MDM samplers, not --sampler ar")
        try:
            guided = SearchOptions(repair=args.repair, search=args.search, search_budget=args.search_budget,
                                   stall_entropy=args.stall_entropy, branch_k=args.branch_k).model_dump()
        except ValueError as e:
            ap.error(f"bad repair/search option: {e}")
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be >= 1")
    if args.batch_size < 1:
        ap.error("--batch-size must be >= 1")
    try:
        device, precision = apply_runtime_flags(args)
    except RuntimeChoiceError as e:
        ap.error(str(e))
    ckpt = args.checkpoint or default_checkpoint(task.name, args.sampler)
    try:
        model, ck = load_model(ckpt, task=task.name, kind="arm" if args.sampler == "ar" else "mdm",
                               vocab=task.vocab(), device=device)
        if args.puzzle is not None:
            questions = parse_one(args.puzzle)
        else:
            path = args.input or str(DATASETS / task.name / "test.csv")
            questions, _ = read_questions(task, path)
        if args.limit:
            questions = questions[:args.limit]
    except (CheckpointError, ParseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    status = puzzle_status(task, questions)
    answers, stats = decode(model, task, questions, sampler=args.sampler, options=opts,
                            batch_size=args.batch_size, device=device, seed=args.seed,
                            progress=not args.quiet and args.puzzle is None, guided=guided,
                            precision=precision)
    depths = [task.depth(q) for q in questions]
    s = summarize(task, questions, answers, stats, status, depths)
    label = f"{task.name} | {args.sampler} {json.dumps(opts)}" + (f" + {json.dumps(guided)}" if guided else "") \
        + f" | {Path(ckpt).name} | {precision}, {torch.get_num_threads()} threads"
    if args.puzzle is not None:
        show_one(answers[0])
        verdict = "solved" if s["_solved"][0] else f"NOT solved ({status[0] if status[0] != 'ok' else s['_reasons'][0]})"
        print(f"verdict: {verdict}; NFE {int(stats['nfe'][0])}; {depth_name} {depths[0]}")
    else:
        print_table(s, label, depth_name)
    if args.output:
        write_answers(args.output, answers)
    if args.json:
        print(json.dumps(dict(public(s), sampler=args.sampler, options=opts, guided=guided, checkpoint=str(ckpt),
                              precision=precision, threads=torch.get_num_threads())))
    return 0
