"""The command line shared by ``solvers.sudoku`` and ``solvers.maze``: flags, checks, the run."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from pydantic import ValidationError

from models.checkpoint import CheckpointError, eb_gamma_for, load_model, search_views_for
from models.runtime import PRECISIONS, RuntimeChoiceError, pick_device, resolve_precision, set_threads
from puzzles.cli import Parser, UsageError, check_output, fail
from puzzles.data import dataset
from puzzles.io import ParseError
from puzzles.tasks import read_questions
from sampling.search import SearchOptions, check_decoding, check_rules
from sampling.trace import Trace
from sampling.views import check_views
from solvers.decode import DEFAULT_ARM, check_fits, decode, default_checkpoint, puzzle_status, sampler_options
from solvers.report import print_table, public, summarize, write_report
from solvers.trace import trace_data, write_trace


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


OUTPUT_STYLES = {"sudoku": ("ours", "reasoning-gym"), "maze": ("ours", "maze-dataset")}


def add_search_flags(ap: argparse.ArgumentParser) -> None:
    """--search, --search-budget, --search-views, --search-restart, --rules."""
    g = ap.add_argument_group("search and rules (MDM samplers, greedy; see sampling/search.py and docs/search.md)")
    g.add_argument("--search", action="store_true",
                   help="best-first search: the sampler's steps, checked against the puzzle's rules; at a dead end, "
                        "resume at the most probable choice left open (complete: every commit can be undone)")
    g.add_argument("--search-budget", type=int, help="with --search: most NFE per puzzle (default 400)")
    g.add_argument("--search-views", type=int,
                   help="with --search: symmetric views of each puzzle (Sudoku, up to 8: fixed relabellings, "
                        "row, column and band permutations; mazes, up to 4: half turn and mirrors); a puzzle "
                        "still unsolved after --search-restart NFE starts again in the next view, all within "
                        "the budget (default: the views and restart the checkpoint records, chosen on "
                        "validation; 1 where it records none, or with --trace)")
    g.add_argument("--search-restart", type=int,
                   help="with --search-views: NFE each view but the last may use (default: the checkpoint's, "
                        "else the budget split evenly)")
    g.add_argument("--rules", choices=["none", "mask", "propagate"], default="none",
                   help="rules applied without forward passes (Sudoku): mask = a filled peer's value gets no "
                        "probability; propagate = mask, and fill naked and hidden singles (default none: "
                        "the pure model). Without --search: one greedy descent that stops at a dead end")


def build_parser(task_name: str, doc: str, depth_name: str) -> argparse.ArgumentParser:
    ap = Parser(prog=f"python -m solvers.{task_name}", description=doc.split("\n")[0], epilog=doc)
    ap.add_argument("--sampler", choices=["eb", "topk", "threshold", "random", "klass", "dilated", "remask", "ar"],
                    default="eb",
                    help="eb: entropy bounded; topk: k per step; threshold: confidence > tau; "
                         "random: vanilla MDM on a step schedule; klass: confident and stable (KL) positions; "
                         "dilated: spread-out groups on a fixed schedule; remask: eb that masks doubted "
                         "values again; ar: the autoregressive baseline (default: eb). See sampling/rivals.py")
    ap.add_argument("--gamma", type=float, help="eb, remask: bound on summed entropy minus the largest, in nats (default: "
                                                "the checkpoint's gamma chosen on validation for each maze size, with --search "
                                                "its search gamma where it records one, else 0.01)")
    ap.add_argument("--proxy", choices=["entropy", "confidence", "margin"],
                    help="eb/topk: order of the positions (default: entropy for eb, confidence for topk)")
    ap.add_argument("--k", type=int, help="topk: positions per step (default 1)")
    ap.add_argument("--tau", type=float, help="threshold, klass: confidence threshold (default 0.9)")
    ap.add_argument("--kl", type=float, help="klass: largest KL (nats) between two passes' predictions for a "
                                             "stable position (default 0.01)")
    ap.add_argument("--block", type=int, help="dilated: positions per block, blocks in turn (default 0: one block)")
    ap.add_argument("--remask-tau", type=float, help="remask: mask a decoded value again when its probability "
                                                     "falls below this (default 0.5)")
    ap.add_argument("--remask-per-step", type=int, help="remask: most values masked again per pass (default 1)")
    ap.add_argument("--remask-budget", type=int, help="remask: most values masked again per puzzle (default 8)")
    ap.add_argument("--steps", type=int, help="random: decoding steps per puzzle (default 16)")
    ap.add_argument("--temperature", type=float, default=0.0, help="0: argmax values (default); >0 draws values")
    ap.add_argument("--beam", type=int, default=1,
                    help="ar, solver/path order: keep this many sequences of highest log-probability and answer "
                         "with the best (beam search; NFE counts every row: beam x calls). Default 1: greedy")
    ap.add_argument("--seed", type=int, default=0, help="seed for random positions and drawn values (default 0)")
    add_search_flags(ap)
    ap.add_argument("--checkpoint", help=f"model file (default: models/pretrained/{task_name}-mdm.pt, "
                                         f"or {DEFAULT_ARM[task_name]} for --sampler ar)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--input", help=f"puzzle file, any format the puzzles package reads "
                                     f"(default: datasets/{task_name}/test.csv)")
    src.add_argument("--puzzle", help="one puzzle as a string; prints the solved board")
    ap.add_argument("--limit", type=int, help="only the first N puzzles")
    ap.add_argument("--batch-size", type=int, default=500, help="puzzles decoded together (default 500)")
    add_runtime_flags(ap)
    ap.add_argument("--output", help="write one answer per input, in input order; a puzzle with no "
                                     "solution is written unchanged (no marks) and flagged in --report")
    styles = OUTPUT_STYLES[task_name]
    ap.add_argument("--output-format", choices=styles, default=styles[0],
                    help=f"--output text style: {styles[0]} (default), or {styles[1]}'s layout "
                         + ("(n lines of n numbers, '_' blanks; .txt only)" if task_name == "sudoku"
                            else "('E' goal, 'X' path)"))
    ap.add_argument("--report", help="write a CSV with one row per puzzle: index, solved, reason, nfe, depth")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    ap.add_argument("--trace", help="write every forward pass of the first --trace-limit puzzles: FILE.html, a "
                                    "self-contained viewer (slider, arrow keys), or FILE.json, the same data. MDM "
                                    "samplers, plain or with --search / --rules")
    ap.add_argument("--trace-limit", type=int, default=100, help="puzzles --trace records (default 100)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def check_counts(args) -> None:
    """--limit, --batch-size >= 1 and --seed >= 0 (the solvers and scripts.evaluate). UsageError."""
    for flag, v, lo in (("--limit", args.limit, 1), ("--batch-size", args.batch_size, 1), ("--seed", args.seed, 0)):
        if v is not None and v < lo:
            raise UsageError(f"{flag}: must be >= {lo}, got {v}")


def check_args(args, task_name: str, rules_of: tuple[str, ...] = (), views_of: int = 1
               ) -> tuple[dict, dict | None]:
    """Every flag, before any work: (sampler options, guided-decoding options). UsageError."""
    try:
        opts = sampler_options(args)
    except ValidationError as e:
        raise UsageError(option_error(e)) from None
    except ValueError as e:
        raise UsageError(str(e)) from None
    guided = None
    given = {k: getattr(args, k) for k in ("search_budget", "search_views", "search_restart")
             if getattr(args, k, None) is not None}
    for k in given:
        if not args.search:
            raise UsageError(f"--{k.replace('_', '-')}: applies with --search")
    if args.search or args.rules != "none":
        try:
            check_rules(args.rules, rules_of)
        except ValueError as e:
            raise UsageError(f"--rules: {e}") from None
        try:
            so = SearchOptions(search=args.search, rules=args.rules, **given)
            check_views(so.search_views, views_of)
            guided = so.dump()
        except ValidationError as e:
            raise UsageError(option_error(e)) from None
        except ValueError as e:
            raise UsageError(str(e)) from None
    try:
        check_decoding(opts, guided, args.sampler)
    except ValueError as e:
        raise UsageError(str(e)) from None
    check_counts(args)
    if args.output_format != OUTPUT_STYLES[task_name][0] and (not args.output or not args.output.endswith(".txt")):
        raise UsageError(f"--output-format {args.output_format}: a .txt --output file is needed for that layout")
    check_trace(args.trace, args.trace_limit, args.sampler, guided)
    for flag in ("output", "report", "trace"):
        if getattr(args, flag):
            check_output(getattr(args, flag), f"--{flag}")
    return opts, guided


def check_trace(trace: str | None, trace_limit: int, sampler: str, guided: dict | None = None) -> None:
    """--trace: a .html or .json file, an MDM sampler and one view. UsageError."""
    if trace_limit < 1:
        raise UsageError(f"--trace-limit: must be >= 1, got {trace_limit}")
    if not trace:
        return
    if not trace.endswith((".html", ".json")):
        raise UsageError(f"--trace {trace}: the file must end in .html (the viewer) or .json (the data)")
    if sampler == "ar":
        raise UsageError("--trace: records the MDM samplers' passes; not --sampler ar")
    if (guided or {}).get("search_views", 1) > 1:
        raise UsageError("--trace: records the passes of one view; use it with --search-views 1")


def option_error(e: ValidationError) -> str:
    err = e.errors()[0]
    if not err["loc"]:                  # a check across fields names its flags itself
        return err["msg"].removeprefix("Value error, ")
    loc = "_".join(str(x) for x in err["loc"]).replace("_", "-")
    return f"--{loc}: {err['msg']} (got {err.get('input')!r})"


def validated_gamma(args, meta: dict, opts: dict, task, questions):
    """eb and remask without --gamma: the checkpoint's gamma chosen on validation
    (``models.checkpoint.eb_gamma_for``), per maze size where it records size bands, or its
    search gamma with --search where it records one.
    Returns (options, the options as printed, ``decode``'s ``shape_options`` or None);
    the printed gamma is one number, or {"RxC": gamma} when the sizes given differ in it."""
    search = args.search                # every solver parser has --search (add_search_flags)
    base = eb_gamma_for(meta, search=search)
    if args.sampler not in ("eb", "remask") or args.gamma is not None or base is None:
        return opts, opts, None
    opts = dict(opts, gamma=base)
    by = {sh: eb_gamma_for(meta, sh, search) for sh in sorted({task.grid_of(q) for q in questions},
                                                               key=lambda sh: sh or (0, 0))}
    gammas = set(by.values())
    if gammas <= {base}:                # one gamma for every size given (or no sizes)
        return opts, opts, None
    shown = dict(opts, gamma=next(iter(gammas)) if len(gammas) == 1
                 else {f"{r}x{c}": g for (r, c), g in by.items()})
    return opts, shown, lambda shape: dict(opts, gamma=eb_gamma_for(meta, shape, search))


def validated_views(args, meta: dict, guided: dict | None, task_views: int) -> dict | None:
    """--search without --search-views or --search-restart (or --trace, which records one
    view): the views and restart the checkpoint records (``models.checkpoint.search_views_for``)."""
    if not guided or not guided["search"] or args.search_views or args.search_restart or args.trace:
        return guided
    chosen = search_views_for(meta, guided["search_budget"], task_views)
    if chosen is None:
        return guided
    return SearchOptions(**dict(guided, search_views=chosen[0], search_restart=chosen[1])).dump()


def run(task, argv, *, doc: str, depth_name: str, parse_one, write_answers, show_one) -> int:
    ap = build_parser(task.name, doc, depth_name)
    args = ap.parse_args(argv)
    ckpt = args.checkpoint or default_checkpoint(task.name, args.sampler)
    try:
        opts, guided = check_args(args, task.name, task.RULES, task.VIEWS)
        device, precision = apply_runtime_flags(args)
        model, ck = load_model(ckpt, task=task.name, kind="arm" if args.sampler == "ar" else "mdm",
                               vocab=task.vocab(), device=device)
        if opts.get("beam", 1) > 1 and model.cfg.order == "raster":
            raise UsageError(f"--beam: {Path(ckpt).name} decodes in raster order; beam search applies to "
                             "ARMs in solver or path order")
        if args.puzzle is not None:
            questions = parse_one(args.puzzle)
        else:
            questions, _ = read_questions(task, args.input or str(dataset(task.name)))
        if args.limit:
            questions = questions[:args.limit]
        check_fits(model, task, questions, "--puzzle" if args.puzzle is not None else args.input or "test set",
                   Path(ckpt).name)
        opts, shown, shape_options = validated_gamma(args, ck["meta"], opts, task, questions)
        guided = validated_views(args, ck["meta"], guided, task.VIEWS)
    except (UsageError, RuntimeChoiceError, CheckpointError, ParseError) as e:
        return fail(str(e))
    status = puzzle_status(task, questions)
    trace = Trace(args.trace_limit) if args.trace else None
    answers, stats = decode(model, task, questions, sampler=args.sampler, options=opts,
                            batch_size=args.batch_size, device=device, seed=args.seed,
                            progress=not args.quiet and args.puzzle is None, guided=guided,
                            precision=precision, trace=trace, shape_options=shape_options)
    for i, st_ in enumerate(status):       # no answer exists: write the question back, unmarked
        if st_ != "ok":
            answers[i] = questions[i].copy()
    depths = [task.depth(q) for q in questions]
    s = summarize(task, questions, answers, stats, status, depths)
    label = f"{task.name} | {args.sampler} {json.dumps(shown)}" + (f" + {json.dumps(guided)}" if guided else "") \
        + f" | {Path(ckpt).name} | {precision}, {torch.get_num_threads()} threads"
    if args.puzzle is not None:
        show_one(answers[0])
        verdict = "solved" if s["_solved"][0] else f"NOT solved ({status[0] if status[0] != 'ok' else s['_reasons'][0]})"
        print(f"verdict: {verdict}; NFE {int(stats['nfe'][0])}; {depth_name} {depths[0]}")
    else:
        print_table(s, label, depth_name)
    if args.output:
        write_answers(args.output, answers, args.output_format)
        bad = sum(st_ != "ok" for st_ in status)
        if bad:
            print(f"note: {bad} puzzle(s) have no solution; their answers in {args.output} are the questions, "
                  "unmarked (see --report)", file=sys.stderr)
    if args.report:
        write_report(args.report, s, status, stats["nfe"], depths)
    if trace is not None:
        write_trace(args.trace, trace_data(task, questions, answers, trace, s["_solved"], s["_reasons"], status,
                                           stats["nfe"], label))
    if args.json:
        print(json.dumps(dict(public(s), sampler=args.sampler, options=shown, guided=guided, checkpoint=str(ckpt),
                              precision=precision, threads=torch.get_num_threads())))
    return 0
