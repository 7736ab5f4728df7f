"""Decoding many puzzles with a checkpoint: sampler options, batched decode, puzzle checks.

The engine under ``solvers.sudoku``, ``solvers.maze`` and the scripts: it runs a
registered sampler (or the ARM) over batches and returns answers plus per-puzzle NFE.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import pretrained
from models.runtime import autocast
from puzzles.io import ParseError
from sampling import OPTIONS, ar_decode, pick_beam_decode, pick_decode, run_sampler
from sampling.core import Memo, memo_cap
from sampling.rules import make_select
from sampling.search import SearchOptions, best_first_decode
from sampling.views import restart_decode

#: the ARM ``--sampler ar`` loads by default: for mazes the path ARM that reads every size the MDM reads
DEFAULT_ARM = {"sudoku": "sudoku-arm.pt", "maze": "maze-arm-path-sizes.pt"}


def default_checkpoint(task: str, sampler: str) -> Path:
    return pretrained(DEFAULT_ARM[task] if sampler == "ar" else f"{task}-mdm.pt")


#: every shipped ARM of a task: the MDM-against-ARM tables decode each one that reads the set
ARM_NAMES = {"sudoku": ("sudoku-arm.pt", "sudoku-arm-solver.pt"),
             "maze": ("maze-arm.pt", "maze-arm-path.pt", "maze-arm-path-sizes.pt")}


def default_arms(task: str) -> list[str]:
    """The shipped ARM checkpoints of a task that exist."""
    return [str(p) for p in (pretrained(n) for n in ARM_NAMES[task]) if p.is_file()]


_SAMPLER_FLAGS = ("gamma", "proxy", "k", "tau", "steps", "kl", "block", "remask_tau", "remask_per_step", "remask_budget")


def sampler_options(args) -> dict:
    """The typed options of ``args.sampler`` taken from the flags that name them."""
    fields = OPTIONS[args.sampler].model_fields if args.sampler != "ar" else {}
    for k in _SAMPLER_FLAGS:
        if getattr(args, k, None) is not None and k not in fields:
            raise ValueError(f"--{k} does not apply to --sampler {args.sampler}")
    if args.sampler == "ar":
        if not args.temperature >= 0:
            raise ValueError(f"--temperature: must be >= 0, got {args.temperature}")
        beam = getattr(args, "beam", 1)
        if beam < 1:
            raise ValueError(f"--beam: must be >= 1, got {beam}")
        if beam > 1 and args.temperature > 0:
            raise ValueError("--beam: beam search is deterministic; use it with --temperature 0")
        return {"temperature": args.temperature, "beam": beam}
    if getattr(args, "beam", 1) != 1:
        raise ValueError(f"--beam does not apply to --sampler {args.sampler} (ARM only)")
    given = {k: getattr(args, k) for k in fields if getattr(args, k, None) is not None}
    return OPTIONS[args.sampler](**given).model_dump()


def decode(model, task, questions, *, shape_options=None, **kw) -> tuple[list, dict]:
    """Decode all ``questions``; returns (answers in the task's form, stats). Mazes of
    several shapes are decoded one shape at a time (bucketed: no padding), each with its
    own task and ``model.at_shape``; answers and per-puzzle stats come back in input order.
    ``shape_options(shape)``, if given, replaces ``options`` for the puzzles of each shape
    (a gamma per maze size). Other keyword arguments as ``decode_shape``."""
    any_size = getattr(model.cfg, "any_size", False)
    shapes = [task.grid_of(q) for q in questions]

    def at(shape):
        return dict(kw, options=shape_options(shape)) if shape_options else kw
    if len(set(shapes)) <= 1:
        sub = task.sized(*shapes[0]) if shapes and shapes[0] else task
        fn = model.at_shape(*shapes[0]) if any_size and shapes and shapes[0] else model
        return decode_shape(model, fn, sub, questions, **at(shapes[0] if shapes else None))
    order = sorted(range(len(questions)), key=lambda i: shapes[i])
    answers: list = [None] * len(questions)
    out = {"nfe": np.zeros(len(questions), dtype=np.int64), "tokens_per_step": [None] * len(questions),
           "model_seconds": 0.0, "overhead_seconds": 0.0, "seconds": 0.0}
    extra: dict[str, np.ndarray] = {}
    for shape in sorted(set(shapes)):
        idx = [i for i in order if shapes[i] == shape]
        sub = task.sized(*shape)
        fn = model.at_shape(*shape) if any_size else model
        ans, st = decode_shape(model, fn, sub, [questions[i] for i in idx], ids=idx, **at(shape))
        for j, i in enumerate(idx):
            answers[i], out["tokens_per_step"][i] = ans[j], st["tokens_per_step"][j]
        out["nfe"][idx] = st["nfe"]
        for k in ("model_seconds", "overhead_seconds", "seconds"):
            out[k] += st[k]
        for k in ("backtracks", "branches"):
            if k in st:
                extra.setdefault(k, np.zeros(len(questions), dtype=np.asarray(st[k]).dtype))[idx] = st[k]
    out.update(extra)
    return answers, out


def decode_shape(model, model_fn, task, questions, *, sampler: str, options: dict, batch_size: int, device: str,
                 seed: int = 0, progress: bool = True, guided: dict | None = None,
                 precision: str = "fp32", trace=None, ids: list[int] | None = None) -> tuple[list, dict]:
    """Decode ``questions`` that all have the task's shape with ``model_fn`` (MDM samplers)
    or ``model`` (ARM); returns (answers in the task's form, stats).

    ``precision`` ('fp32' or 'bf16', resolved by ``models.runtime.resolve_precision``)
    sets autocast for the forward passes; the logits stay float32 either way.

    ``guided``: SearchOptions fields (search, search_budget, rules) to decode with the
    task's conflict check after every step (MDM samplers only).

    ``trace``: a ``sampling.trace.Trace`` recording each pass of the samplers and of the
    search; ``ids``: the questions' indices in the caller's list (default: their
    order here), the ids the trace keeps."""
    from tqdm import tqdm
    gen = torch.Generator().manual_seed(seed)
    n = len(questions)
    nfe = np.zeros(n, dtype=np.int64)
    tokens_per_step: list[list[int]] = []
    extra = {"backtracks": [], "branches": []}
    model_s = over_s = 0.0
    answers: list = []
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(device, precision):
        for s in tqdm(range(0, n, batch_size), desc=f"decode ({sampler})", file=sys.stderr,
                      disable=not progress, unit="batch"):
            qs = questions[s:s + batch_size]
            if trace is not None:
                trace.begin(ids[s:s + batch_size] if ids is not None else range(s, s + len(qs)))
            if sampler == "ar":
                ans, st = arm_decode(model, task, qs, device, temperature=options.get("temperature", 0.0),
                                     generator=gen, beam=options.get("beam", 1))
            elif guided:
                out, st = guided_batch(model_fn, task, torch.from_numpy(task.encode(qs)).to(device), sampler,
                                       options, guided, gen, trace, questions=qs)
                for k, acc in extra.items():
                    acc.extend(st[k])
            else:
                x = torch.from_numpy(task.encode(qs)).to(device)
                out, st = run_sampler(sampler, model_fn, x, mask_id=task.mask_id, options=options, generator=gen,
                                      trace=trace)
            answers.extend(ans if sampler == "ar" else task.decode(out.cpu().numpy(), qs))
            nfe[s:s + len(qs)] = st["nfe"].numpy()
            tokens_per_step.extend(st["tokens_per_step"])
            model_s += st["model_seconds"]
            over_s += st["overhead_seconds"]
    seconds = time.perf_counter() - t0
    answers = task.gather(answers)
    out = {"nfe": nfe, "tokens_per_step": tokens_per_step, "model_seconds": model_s,
           "overhead_seconds": over_s, "seconds": seconds}
    if guided:
        out.update({k: np.array(v) for k, v in extra.items()})
    return answers, out


def guided_batch(model_fn, task, x, sampler: str, options: dict, guided: dict, gen, trace=None, questions=None):
    """One batch decoded by ``sampling.search.best_first_decode``: the task's conflict check
    after every step, its rules if ``guided`` names them, and going back at dead ends with
    ``search`` (else one greedy descent); with several views (``sampling.views``) a row
    restarts until the task's verifier accepts its answer to ``questions`` (the batch's, in
    the task's form; None: until it is complete and conflict-free). Returns (tokens, stats)."""
    so = SearchOptions(**guided)

    def run(xs: torch.Tensor, budget: int, trace=None):
        # each row's evaluated states, bounded so that all rows' logits fit 2 GiB
        memos = [Memo(memo_cap(len(xs), xs.shape[1] * len(task.vocab()) * 4)) for _ in range(len(xs))]
        return best_first_decode(
            model_fn, xs, mask_id=task.mask_id, select=make_select(sampler, options), check_fn=check_fn,
            rules_fn=None if so.rules == "none" else torch_rules(task, so.rules),
            budget=budget, search=so.search, generator=gen, memos=memos, trace=trace)

    def check_fn(t: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(task.conflicts(t.cpu().numpy()))
    budget = so.search_budget if so.search else x.shape[1] + 1
    if so.search_views == 1:
        return run(x, budget, trace)
    views = [tuple(torch.as_tensor(a, dtype=torch.long, device=x.device) for a in task.view(k))
             for k in range(so.search_views)]

    def solved_fn(t: torch.Tensor, rows: list[int]):
        if questions is None:
            return ~((t == task.mask_id).any(1).cpu() | check_fn(t))
        qs = questions[rows] if isinstance(questions, np.ndarray) else [questions[i] for i in rows]
        return task.verify(qs, task.decode(t.cpu().numpy(), qs))[0]
    return restart_decode(run, x, views, restart=so.restart, budget=budget, solved_fn=solved_fn)


def arm_decode(model, task, questions, device: str, *, temperature: float = 0.0,
               generator: torch.Generator | None = None, beam: int = 1) -> tuple[list, dict]:
    """ARM answers in the task's form, decoded in the checkpoint's own order.

    raster: one call per cell, givens copied (they cost their call: NFE = cells).
    solver / path: each call names a cell (and value); filled cells are masked, so
    NFE = blanks (Sudoku) or path cells after S (mazes). ``beam`` > 1 (solver / path
    only): beam search, NFE = beam x calls (every row fed counts)."""
    if beam > 1 and model.cfg.order == "raster":
        raise ValueError("--beam: beam search applies to ARMs in solver or path order, not raster")
    if model.cfg.order == "raster":
        prompt, forced = (torch.from_numpy(a).to(device) for a in task.arm_prompt(questions))
        out, st = ar_decode(model.step, prompt, n_tokens=model.cfg.cells, forced=forced,
                            temperature=temperature, generator=generator)
        return list(task.decode(out.cpu().numpy(), questions)), st
    prompt, filled, stop = task.arm_picks(questions)
    step = model.step_at(task.rows, task.cols) if model.cfg.any_size else model.step
    if beam > 1:
        out, st = pick_beam_decode(step, model.reorder_cache, torch.from_numpy(prompt).to(device),
                                   filled=torch.from_numpy(filled).to(device), n_values=model.cfg.pick_values,
                                   beam=beam, stop=None if stop is None else torch.from_numpy(stop).to(device))
        return list(task.pick_answers(out.cpu().numpy(), questions)), st
    out, st = pick_decode(step, torch.from_numpy(prompt).to(device),
                          filled=torch.from_numpy(filled).to(device), n_values=model.cfg.pick_values,
                          stop=None if stop is None else torch.from_numpy(stop).to(device),
                          temperature=temperature, generator=generator)
    return list(task.pick_answers(out.cpu().numpy(), questions)), st


def torch_rules(task, name: str):
    """The task's numpy rules (``task.rules``) as a ``rules_fn`` on token tensors."""
    def rules_fn(x: torch.Tensor):
        t, allowed, failed = task.rules(name, x.cpu().numpy())
        return (torch.from_numpy(t).to(x.device), torch.from_numpy(allowed).to(x.device),
                torch.from_numpy(failed))
    return rules_fn


def check_fits(model, task, questions, where: str, name: str = "the model") -> None:
    """ParseError naming the first maze that ``model`` cannot read: a multi-size model
    (``any_size``) reads any shape up to its rows x cols, any other model only its own."""
    cfg = model.cfg
    for i, q in enumerate(questions):
        shape = task.grid_of(q)
        if shape is None:
            return                      # one grid size per task: the checkpoint's task check covers it
        r, c = shape
        if not cfg.reads_grid(r, c):
            reads = f"mazes {cfg.grid_limit} cells" if cfg.any_size else f"{cfg.grid_limit} mazes only"
            raise ParseError(where, None, f"maze {i + 1} is {r}x{c} cells; {name} reads {reads}")


def puzzle_status(task, questions) -> list[str]:
    """'ok' or why a puzzle cannot be solved at all (not counted as a model failure)."""
    return task.status(questions)
