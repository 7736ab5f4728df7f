"""The training loop: the model a config describes, AdamW with warm-up and cosine decay,
in-run validation, checkpoints and resume state (``OUT.state``, every ``save_every``
steps; a resumed run ends exactly where an uninterrupted one would: batches are a
function of (seed, rank, step)). ``python -m scripts.train`` is the command line."""
from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import atomic_save, grown_state, save_model
from models.losses import arm_loss, mdm_loss
from models.runtime import autocast, pick_device, resolve_precision, set_threads
from models.transformer import ModelConfig, PuzzleTransformer, param_count
from puzzles.cli import UsageError
from puzzles.tasks import get_task
from solvers.training.config import _RUNTIME, TrainConfig, load_resume_state
from solvers.training.data import (
    BatchStream,
    eval_keys,
    file_pool,
    make_eval_set,
    make_hard_eval_set,
    make_pool,
    shipped_test_keys,
)
from solvers.training.schedule import Ema, StepPlan, lr_at


def build_model(cfg: TrainConfig, task) -> PuzzleTransformer:
    fields = task.model_fields(cfg.model)
    if cfg.maze_max:        # one model for every size up to maze_max (see ModelConfig.any_size)
        fields.update(rows=cfg.maze_max, cols=cfg.maze_max, any_size=True)
    mc = ModelConfig(kind=cfg.model, **cfg.architecture(), **fields)
    return PuzzleTransformer(mc)


@torch.no_grad()
def evaluate(model, task, questions, device, precision: str = "fp32") -> dict:
    """Decode held-out puzzles (MDM: top-1 confidence; ARM: greedy) and verify. A
    multi-size maze model decodes each size apart, the MDM with EB (gamma 0.01: top-1 on
    a 20x20 maze costs ~400 calls), the path ARM greedily, and reports the rate over all
    and per size."""
    from sampling import run_sampler
    from solvers.decode import arm_decode
    model.eval()
    if model.cfg.any_size:
        from solvers.decode import decode
        sampler, options = ("eb", {"gamma": 0.01}) if model.cfg.kind == "mdm" else ("ar", {})
        answers, st = decode(model, task, questions, sampler=sampler, options=options, batch_size=500,
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


def train(cfg: TrainConfig, out: str, *, resume: bool = False) -> int:
    """Train by ``cfg`` and write ``out`` (and ``out.state``); 0 when done. UsageError for a
    setting or a state that cannot run."""
    run = Run(cfg, out, time.time())
    run.setup(resume)
    from tqdm import tqdm
    bar = tqdm(total=cfg.steps, initial=run.step, disable=run.rank != 0, desc=f"{cfg.task}-{cfg.model}",
               file=sys.stderr)
    t_run, first_step = time.time(), run.step
    run.model.train()
    batches = BatchStream(run.task, run.pool, cfg, run.rank, run.step, prefetch=torch.device(run.device).type != "cpu")
    try:
        while run.step < run.plan.total:
            t0 = time.time()
            n, lv = run.one_step(*batches.get(run.step))
            dt = time.time() - t0
            run.wall += dt
            bar.update(1)
            bar.set_postfix(loss=f"{lv:.4f}", lr=f"{lr_at(cfg, run.step - 1, run.plan.total):.2e}",
                            ex_s=f"{n / max(dt, 1e-9):.0f}")
            if run.plan.update(run.step, time.time()) != bar.total:
                bar.total = run.plan.total
                bar.refresh()
            t1 = time.time()
            entry = run.validate(lv)
            if entry is not None:
                tqdm.write(json.dumps(entry), file=sys.stderr)
            if run.step % cfg.save_every == 0 or run.step == run.plan.total or entry is not None:
                run.save()
            run.plan.pause(time.time() - t1)        # an evaluation's minutes would halve the planned steps
            if (cfg.minutes and time.time() - t_run > 60 * cfg.minutes) or \
                    (cfg.stop_after and run.step - first_step >= cfg.stop_after):
                run.save()
                tqdm.write(f"stopping at step {run.step}; rerun with --resume to continue", file=sys.stderr)
                break
    finally:                # the progress bar and the prefetch thread end however the loop does
        bar.close()
        batches.close()
    if run.ddp:
        import torch.distributed as dist
        dist.destroy_process_group()
    return 0


class Run:
    """One training run's state: the model, the optimiser, the data, the counters."""

    def __init__(self, cfg: TrainConfig, out: str, t_start: float):
        self.cfg, self.out, self.state_path = cfg, out, Path(str(out) + ".state")
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank, self.ddp = int(os.environ.get("RANK", "0")), self.world > 1
        self.step, self.history, self.wall, self.examples, self.last_saved = 0, [], 0.0, 0, 0
        self.plan = StepPlan(cfg, t_start)

    def setup(self, resume: bool) -> None:
        """Device, model, optimiser (from ``--init`` or the resume state), data, metadata."""
        cfg = self.cfg
        self.device = pick_device(cfg.device)
        if self.ddp:
            import torch.distributed as dist
            dist.init_process_group(backend="nccl" if self.device == "cuda" else "gloo")
            if self.device == "cuda":
                self.device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        if self.ddp and cfg.time_budget:
            raise UsageError("--time-budget: each process would plan its own step count; not with torchrun")
        set_threads(cfg.threads)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.task = get_task(cfg.task)
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg, self.task).to(self.device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                     betas=(0.9, 0.98))
        parent = self._init_from(cfg.init) if cfg.init else None
        self.ema = Ema(self.model, cfg.ema) if cfg.ema else None
        if resume and self.state_path.exists():
            self._resume()
        self.net = self.model
        if self.ddp:
            from torch.nn.parallel import DistributedDataParallel
            self.net = DistributedDataParallel(self.model)
        if cfg.compile:
            self.net = torch.compile(self.net)
        self._data()
        self.meta = {"params": param_count(self.model), "train_config": cfg.model_dump(mode="json"),
                     "data": (f"{cfg.data} + {cfg.pool_size} generated grids (seed {cfg.pool_seed})" if cfg.mixes_file()
                              else cfg.data) or f"on-the-fly pool of {cfg.pool_size} (seed {cfg.pool_seed}) + symmetries",
                     "pool_dropped": self.pool.get("dropped", 0), "world": self.world, "precision": self.precision,
                     "threads": torch.get_num_threads()}
        if parent is not None:
            from models.checkpoint import init_record
            self.meta["init"] = init_record(cfg.init, parent.get("meta", {}))

    def _init_from(self, path: str) -> dict:
        from models.checkpoint import CheckpointError, load_checkpoint
        try:
            parent = load_checkpoint(path)
            self.model.load_state_dict(grown_state(parent["state_dict"], self.model.state_dict()))
        except (CheckpointError, RuntimeError) as e:
            raise UsageError(f"--init: {path}: cannot start from it ({str(e).splitlines()[0]})") from None
        return parent

    def _resume(self) -> None:
        st = load_resume_state(self.state_path)
        old = TrainConfig(**st["train_config"])
        diff = [k for k in TrainConfig.model_fields if k not in _RUNTIME and getattr(old, k) != getattr(self.cfg, k)]
        if diff:
            raise UsageError(f"{self.state_path}: config differs from the saved run in {diff}")
        try:
            self.model.load_state_dict(st["model"])
            self.opt.load_state_dict(st["optimizer"])
            if self.ema is not None:
                self.ema.load_state_dict(st["ema"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{self.state_path}: cannot resume: the saved weights or optimizer state do not fit "
                             f"this model ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        self.step, self.history, self.wall = st["step"], list(st["history"]), st["wall"]
        self.examples = int(st.get("examples", self.step * self.cfg.batch_size * self.world))
        self.last_saved = self.step

    def _data(self) -> None:
        cfg, task = self.cfg, self.task
        self.evalset, self.hardset = make_eval_set(task, cfg), make_hard_eval_set(task, cfg)
        held_out = eval_keys(task, self.evalset) | eval_keys(task, self.hardset)
        if cfg.maze_max:        # fresh mazes every step: the pool holds only what they must avoid
            self.pool = {"cfg": cfg, "held_out": shipped_test_keys(task) | held_out}
        else:
            self.pool = file_pool(task, cfg.data) if cfg.data and not cfg.mixes_file() else make_pool(task, cfg, held_out)
        if self.rank != 0:
            self.evalset = self.hardset = None

    def one_step(self, gen_seed: int, b) -> tuple[int, float]:
        """One optimiser step on batch ``b``; returns (its examples, the loss)."""
        cfg, device = self.cfg, self.device
        gen = torch.Generator().manual_seed(gen_seed)
        for g in self.opt.param_groups:
            g["lr"] = lr_at(cfg, self.step, self.plan.total)
        with autocast(device, self.precision):
            fn = self.net if b.shape is None else partial(self.net, shape=b.shape)
            if cfg.model == "mdm":
                loss = mdm_loss(fn, torch.from_numpy(b.tokens).to(device), torch.from_numpy(b.maskable).to(device),
                                mask_id=self.task.mask_id, generator=gen, elbo_weight=cfg.elbo_weight,
                                focal_gamma=cfg.focal_gamma, focal_alpha=cfg.focal_alpha,
                                fixed=None if b.fixed is None else (torch.from_numpy(b.fixed).to(device),
                                                                    torch.from_numpy(b.mask).to(device)))
            else:
                filled = None if b.filled is None else torch.from_numpy(b.filled).to(device)
                groups = None if b.groups is None else torch.from_numpy(b.groups).to(device)
                loss = arm_loss(fn, torch.from_numpy(b.prompt).to(device), torch.from_numpy(b.answer).to(device),
                                filled, self.model.cfg.pick_values, groups)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.opt.step()
        if self.ema is not None:
            self.ema.update(self.model)
        lv = loss.item()        # the one wait for the device per step, so dt (and wall) include GPU time
        if not math.isfinite(lv):   # the bad update is never saved: the last checkpoint stays as it was
            kept = (f"the last good checkpoint ({self.out}, step {self.last_saved}) is kept" if self.last_saved
                    else "nothing was saved")
            raise UsageError(f"training diverged: the loss is {lv} at step {self.step + 1}; {kept}. "
                             "Lower --lr or raise --warmup.")
        self.step += 1
        self.examples += len(b.tokens) * self.world
        return len(b.tokens), lv

    def validate(self, lv: float) -> dict | None:
        """The in-run validation entry when one is due at this step (rank 0), else None."""
        cfg = self.cfg
        if self.rank != 0 or self.evalset is None or not (
                (cfg.eval_every and self.step % cfg.eval_every == 0) or self.step == self.plan.total):
            return None
        with self.shipped() as model:
            entry = {"step": self.step, "examples": self.examples, "wall_seconds": round(self.wall, 1),
                     "loss": round(lv, 5), **evaluate(model, self.task, self.evalset, self.device, self.precision)}
            if self.hardset is not None:
                entry["hard_solve_rate"] = evaluate(model, self.task, self.hardset, self.device,
                                                    self.precision)["solve_rate"]
        self.history.append(entry)
        return entry

    def shipped(self):
        """A context that holds the weights the checkpoint ships: the average with ``ema``."""
        return self.ema.applied(self.model) if self.ema is not None else nullcontext(self.model)

    def save(self) -> None:
        """The checkpoint (the schedule it ran; with ``ema`` the averaged weights, and the
        step's own in OUT.raw) and the resume state (rank 0)."""
        if self.rank != 0:
            return
        self.last_saved = self.step
        ran = self.cfg.model_copy(update={"steps": self.plan.total}).model_dump(mode="json")
        meta = dict(self.meta, train_config=ran, step=self.step, history=self.history, wall_seconds=self.wall,
                    examples=self.examples)
        if self.ema is not None:
            save_model(str(self.out) + ".raw", self.model, vocab=self.task.vocab(), meta=dict(meta, weights="raw"))
        with self.shipped() as model:
            save_model(self.out, model, vocab=self.task.vocab(), meta=meta)
        atomic_save({"model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "step": self.step,
                     "history": self.history, "wall": self.wall, "examples": self.examples,
                     "ema": None if self.ema is None else self.ema.state_dict(),
                     "train_config": self.cfg.model_dump(mode="json")}, self.state_path)
