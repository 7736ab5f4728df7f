"""Train a masked diffusion model (MDM) or an autoregressive baseline (ARM).

    python -m scripts.train --config configs/sudoku-mdm.json --out models/pretrained/sudoku-mdm.pt
    python -m scripts.train --task maze --model mdm --steps 200 --out runs/maze.pt
    torchrun --nproc_per_node 2 -m scripts.train --config configs/sudoku-mdm.json --out runs/ddp.pt

Every TrainConfig field is a flag (``--batch-size 64``) and overrides the JSON config.
Training state (optimizer, step) goes to ``OUT.state`` next to the checkpoint every
``--save-every`` steps; ``--resume`` continues from it and ends exactly where an
uninterrupted run would (batches are a function of (seed, rank, step)).
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import deque
from functools import partial
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError

from models.checkpoint import atomic_save, grown_state, save_model
from models.losses import arm_loss, mdm_loss
from models.runtime import RuntimeChoiceError, autocast, pick_device, resolve_precision, set_threads
from models.transformer import ModelConfig, PuzzleTransformer, param_count
from puzzles.cli import Parser, UsageError, check_output, fail, strict_bool
from puzzles.io import ParseError
from puzzles.tasks import get_task
from scripts.train_config import _RUNTIME, TrainConfig, config_error, load_resume_state, read_config, resolve_config
from scripts.train_data import (
    BatchStream,
    eval_keys,
    file_pool,
    make_eval_set,
    make_hard_eval_set,
    make_pool,
    shipped_test_keys,
)


def lr_at(cfg: TrainConfig, step: int, total: int | None = None) -> float:
    """Linear warm-up, then cosine down to min_lr_frac * lr at ``total`` (default cfg.steps)."""
    total = cfg.steps if total is None else total
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, total - cfg.warmup)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def build_model(cfg: TrainConfig, task) -> PuzzleTransformer:
    fields = task.model_fields(cfg.model)
    if cfg.maze_max:        # one model for every size up to maze_max (see ModelConfig.any_size)
        fields.update(rows=cfg.maze_max, cols=cfg.maze_max, any_size=True)
    mc = ModelConfig(kind=cfg.model, **cfg.architecture(), **fields)
    return PuzzleTransformer(mc)


@torch.no_grad()
def evaluate(model, task, questions, device, precision: str = "fp32") -> dict:
    """Decode held-out puzzles (MDM: top-1 confidence; ARM: greedy) and verify. A
    multi-size maze model decodes each size apart with EB (gamma 0.01: top-1 on a 20x20
    maze costs ~400 calls) and reports the rate over all and per size."""
    from sampling import run_sampler
    from solvers.decode import arm_decode
    model.eval()
    if model.cfg.any_size:
        from solvers.decode import decode
        answers, st = decode(model, task, questions, sampler="eb", options={"gamma": 0.01}, batch_size=500,
                             device=device, progress=False, precision=precision)
        solved, _ = task.verify(questions, answers)
        model.train()
        sizes = [q.shape[0] // 2 for q in questions]
        per = {f"solve_{s}": float(np.mean([ok for ok, z in zip(solved, sizes) if z == s])) for s in sorted(set(sizes))}
        return {"solve_rate": float(np.mean(solved)), "nfe_mean": float(st["nfe"].mean()), **per}
    with autocast(device, precision):
        if model.cfg.kind == "mdm":
            x = torch.from_numpy(task.encode(questions)).to(device)
            out, st = run_sampler("topk", model, x, mask_id=task.mask_id, options={"k": 1})
            answers = task.decode(out.cpu().numpy(), questions)
        else:
            answers, st = arm_decode(model, task, questions, device)
    solved, _ = task.verify(questions, answers)
    model.train()
    return {"solve_rate": float(np.mean(solved)), "nfe_mean": float(st["nfe"].float().mean())}


def parse_args(argv):
    ap = Parser(prog="python -m scripts.train", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--config", help="JSON object of TrainConfig fields, or the name of a shipped config "
                                     "(sudoku-mdm, maze-mdm, ...); flags override it.")
    ap.add_argument("--out", required=True, help="Checkpoint path (resume state goes to OUT.state).")
    ap.add_argument("--resume", action="store_true", help="Continue from OUT.state if it exists.")
    for name, f in TrainConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if f.annotation is bool:
            ap.add_argument(flag, type=strict_bool, metavar="BOOL", default=None, help=f.description)
        else:
            ap.add_argument(flag, default=None, help=f"{f.description} (default: {f.default})")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        raw = read_config(resolve_config(args.config)) if args.config else {}
        for name in TrainConfig.model_fields:
            v = getattr(args, name)
            if v is not None:
                raw[name] = v
        try:
            cfg = TrainConfig(**raw)
        except ValidationError as e:
            raise UsageError(config_error(e, args.config or "flags")) from None
        check_output(args.out, "--out")
        check_output(str(args.out) + ".state", "--out")
        pick_device(cfg.device)
        return train(cfg, args.out, resume=args.resume)
    except (UsageError, RuntimeChoiceError, ParseError) as e:
        return fail(str(e))


class StepPlan:
    """The step count a run ends at: ``cfg.steps``, or with ``time_budget`` the steps that
    fit the budget at the step rate of the last ``window`` seconds (re-planned at every
    step; never fewer than the steps already run, never more than ``cfg.steps``)."""

    def __init__(self, cfg: TrainConfig, t_start: float, window: float = 60.0):
        self.cfg, self.t_start, self.window = cfg, t_start, window
        self.total = cfg.steps
        self.marks: deque[tuple[float, int]] = deque()

    def update(self, step: int, now: float) -> int:
        if not self.cfg.time_budget:
            return self.total
        self.marks.append((now, step))
        while len(self.marks) > 2 and now - self.marks[1][0] >= self.window:
            self.marks.popleft()
        left = 60 * self.cfg.time_budget - (now - self.t_start)
        if left <= 0:
            self.total = step
        elif len(self.marks) >= 2:
            (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
            fit = step + int(left * (s1 - s0) / max(t1 - t0, 1e-9))
            self.total = max(step, min(self.cfg.steps, fit))
        return self.total


def train(cfg: TrainConfig, out: str, *, resume: bool = False) -> int:
    t_start = time.time()
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(cfg.device)
    if ddp:
        import torch.distributed as dist
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
        if device == "cuda":
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if ddp and cfg.time_budget:
        raise UsageError("--time-budget: each process would plan its own step count; not with torchrun")
    set_threads(cfg.threads)
    precision = resolve_precision(cfg.precision, device)
    task = get_task(cfg.task)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, task).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    if cfg.init:
        from models.checkpoint import CheckpointError, load_checkpoint
        try:
            parent = load_checkpoint(cfg.init)
            model.load_state_dict(grown_state(parent["state_dict"], model.state_dict()))
        except (CheckpointError, RuntimeError) as e:
            raise UsageError(f"--init: {cfg.init}: cannot start from it ({str(e).splitlines()[0]})") from None
    state_path = Path(str(out) + ".state")
    step, history, wall = 0, [], 0.0
    examples = 0
    if resume and state_path.exists():
        st = load_resume_state(state_path)
        old = TrainConfig(**st["train_config"])
        diff = [k for k in TrainConfig.model_fields if k not in _RUNTIME and getattr(old, k) != getattr(cfg, k)]
        if diff:
            raise UsageError(f"{state_path}: config differs from the saved run in {diff}")
        try:
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{state_path}: cannot resume: the saved weights or optimizer state do not fit "
                             f"this model ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        step, history, wall = st["step"], list(st["history"]), st["wall"]
        examples = int(st.get("examples", step * cfg.batch_size * world))
    net = model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model)
    if cfg.compile:
        net = torch.compile(net)
    evalset, hardset = make_eval_set(task, cfg), make_hard_eval_set(task, cfg)
    held_out = eval_keys(task, evalset) | eval_keys(task, hardset)
    if cfg.maze_max:        # fresh mazes every step: the pool holds only what they must avoid
        pool = {"cfg": cfg, "held_out": shipped_test_keys(task) | held_out}
    else:
        pool = file_pool(task, cfg.data) if cfg.data else make_pool(task, cfg, held_out)
    if rank != 0:
        evalset = hardset = None
    meta_base = {"params": param_count(model), "train_config": cfg.model_dump(mode="json"),
                 "data": cfg.data or f"on-the-fly pool of {cfg.pool_size} (seed {cfg.pool_seed}) + symmetries",
                 "pool_dropped": pool.get("dropped", 0), "world": world, "precision": precision, "threads": torch.get_num_threads()}
    if cfg.init:
        from models.checkpoint import init_record
        meta_base["init"] = init_record(cfg.init, parent.get("meta", {}))

    last_saved = step
    plan = StepPlan(cfg, t_start)

    def save():
        nonlocal last_saved
        if rank != 0:
            return
        last_saved = step
        ran = cfg.model_copy(update={"steps": plan.total}).model_dump(mode="json")   # the schedule it ran
        meta = dict(meta_base, train_config=ran, step=step, history=history, wall_seconds=wall, examples=examples)
        save_model(out, model, vocab=task.vocab(), meta=meta)
        atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                     "history": history, "wall": wall, "examples": examples, "train_config": cfg.model_dump(mode="json")}, state_path)

    from tqdm import tqdm
    bar = tqdm(total=cfg.steps, initial=step, disable=rank != 0, desc=f"{cfg.task}-{cfg.model}", file=sys.stderr)
    t_run, first_step = time.time(), step
    model.train()
    batches = BatchStream(task, pool, cfg, rank, step, prefetch=torch.device(device).type != "cpu")
    try:
        while step < plan.total:
            t0 = time.time()
            gen_seed, b = batches.get(step)
            gen = torch.Generator().manual_seed(gen_seed)
            for g in opt.param_groups:
                g["lr"] = lr_at(cfg, step, plan.total)
            with autocast(device, precision):
                if cfg.model == "mdm":
                    fn = net if b.shape is None else partial(net, shape=b.shape)
                    loss = mdm_loss(fn, torch.from_numpy(b.tokens).to(device),
                                    torch.from_numpy(b.maskable).to(device), mask_id=task.mask_id,
                                    generator=gen, elbo_weight=cfg.elbo_weight,
                                    focal_gamma=cfg.focal_gamma, focal_alpha=cfg.focal_alpha)
                else:
                    filled = None if b.filled is None else torch.from_numpy(b.filled).to(device)
                    groups = None if b.groups is None else torch.from_numpy(b.groups).to(device)
                    loss = arm_loss(net, torch.from_numpy(b.prompt).to(device), torch.from_numpy(b.answer).to(device),
                                    filled, model.cfg.pick_values, groups)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            lv = loss.item()        # the one wait for the device per step, so dt (and wall) include GPU time
            if not math.isfinite(lv):   # the bad update is never saved: the last checkpoint stays as it was
                kept = f"the last good checkpoint ({out}, step {last_saved}) is kept" if last_saved else "nothing was saved"
                raise UsageError(f"training diverged: the loss is {lv} at step {step + 1}; {kept}. "
                                 "Lower --lr or raise --warmup.")
            step += 1
            examples += len(b.tokens) * world
            dt = time.time() - t0
            wall += dt
            bar.update(1)
            bar.set_postfix(loss=f"{lv:.4f}", lr=f"{lr_at(cfg, step - 1, plan.total):.2e}",
                            ex_s=f"{len(b.tokens) / max(dt, 1e-9):.0f}")
            if plan.update(step, time.time()) != bar.total:
                bar.total = plan.total
                bar.refresh()
            entry = None
            if rank == 0 and evalset is not None and ((cfg.eval_every and step % cfg.eval_every == 0) or step == plan.total):
                entry = {"step": step, "examples": examples, "wall_seconds": round(wall, 1),
                         "loss": round(lv, 5), **evaluate(model, task, evalset, device, precision)}
                if hardset is not None:
                    entry["hard_solve_rate"] = evaluate(model, task, hardset, device, precision)["solve_rate"]
                history.append(entry)
                tqdm.write(json.dumps(entry), file=sys.stderr)
            if step % cfg.save_every == 0 or step == plan.total or entry is not None:
                save()
            if (cfg.minutes and time.time() - t_run > 60 * cfg.minutes) or \
                    (cfg.stop_after and step - first_step >= cfg.stop_after):
                save()
                tqdm.write(f"stopping at step {step}; rerun with --resume to continue", file=sys.stderr)
                break
    finally:                # the progress bar and the prefetch thread end however the loop does
        bar.close()
        batches.close()
    if ddp:
        import torch.distributed as dist
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
