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

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.checkpoint import atomic_save, save_model
from models.runtime import autocast, pick_device, resolve_precision, set_threads
from models.losses import arm_loss, mdm_loss
from models.transformer import ModelConfig, PuzzleTransformer, param_count
from puzzles.tasks import get_task


class TrainConfig(BaseModel):
    """Everything that determines a training run; stored in the checkpoint."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Literal["sudoku", "maze"] = Field("sudoku", description="Puzzle task.")
    model: Literal["mdm", "arm"] = Field("mdm", description="Masked diffusion model or autoregressive baseline.")
    steps: int = Field(3000, ge=1, description="Optimizer steps (the cosine schedule ends here).")
    batch_size: int = Field(128, ge=1, description="Examples per step and per process.")
    lr: float = Field(1e-3, gt=0, description="Peak AdamW learning rate.")
    min_lr_frac: float = Field(0.1, ge=0, le=1, description="Final learning rate as a fraction of lr.")
    warmup: int = Field(100, ge=0, description="Linear warm-up steps.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient-norm clipping threshold.")
    seed: int = Field(0, description="Seed of the batches, masks and initial weights.")
    d_model: int = Field(128, gt=0, description="Transformer width.")
    n_layers: int = Field(6, gt=0, description="Transformer blocks.")
    n_heads: int = Field(4, gt=0, description="Attention heads.")
    elbo_weight: bool = Field(False, description="MDM: weight each example by 1/t (ELBO) instead of uniformly.")
    pool_size: int = Field(2000, ge=1, description="On-the-fly data: complete grids / mazes generated at start.")
    pool_seed: int = Field(1000, description="Seed of the training pool (test sets use other seeds).")
    maze_pool: Literal["wilson", "mixed"] = Field(
        "wilson", description="Mazes: Wilson mazes with distant ends, or every generator, loops and endpoint "
                              "rule (puzzles.maze.generate_mixed); validation draws from the same kind.")
    data: str | None = Field(None, description="Train from this dataset file (question+answer) instead of a pool.")
    eval_every: int = Field(500, ge=0, description="Validate every N steps (0: only at the end).")
    eval_size: int = Field(100, ge=0, description="Held-out puzzles decoded at each validation.")
    eval_seed: int = Field(2000, description="Seed of the validation puzzles.")
    save_every: int = Field(100, ge=1, description="Write the checkpoint and resume state every N steps.")
    minutes: float = Field(0, ge=0, description="Stop (resumably) after this many wall-clock minutes (0: no limit).")
    stop_after: int = Field(0, ge=0, description="Stop (resumably) after this many steps in this invocation (0: no limit).")
    threads: int = Field(0, ge=0, description="torch CPU threads (0: every core of the machine).")
    device: str = Field("auto", description="cuda, mps, cpu or auto (CUDA, then MPS, then CPU).")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="Autocast precision: bf16 where the device runs it natively (auto), or forced.")
    compile: bool = Field(False, description="Wrap the model in torch.compile (measured slower on CPU: "
                                             "see scripts.bench_train).")


_RUNTIME = {"eval_every", "eval_size", "save_every", "minutes", "stop_after", "threads", "device", "compile",
            "steps", "precision"}


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def build_model(cfg: TrainConfig, task) -> PuzzleTransformer:
    mc = ModelConfig(kind=cfg.model, d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                     **task.model_fields(cfg.model))
    return PuzzleTransformer(mc)


def file_pool(task, path: str) -> dict:
    """A training pool from a dataset file with answers (givens never masked)."""
    from puzzles.tasks import read_questions
    qs, ans = read_questions(task, path)
    if ans is None:
        from puzzles.io import ParseError
        raise ParseError(path, None, "training needs answers (an 'answer' column)")
    if task.name == "sudoku":
        return {"questions": np.asarray(qs), "answers": np.asarray(ans)}
    from puzzles import maze as mz
    return {"tokens": np.stack([mz.encode(q, a) for q, a in zip(qs, ans)])}


def make_pool(task, cfg: TrainConfig) -> dict:
    """The on-the-fly training pool, minus any item that a shipped test set holds."""
    if task.name == "maze":
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed, kind=cfg.maze_pool)
        key, arr = "tokens", "tokens"
    else:
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed)
        key, arr = "grids", "grids"
    test = shipped_test_keys(task)
    keep = np.array([_item_key(task, row) not in test for row in pool[arr]])
    if not keep.all():
        print(f"training pool: dropped {int((~keep).sum())} items that a shipped test set holds",
              file=sys.stderr)
    return {key: pool[arr][keep]}


def _item_key(task, row: np.ndarray) -> bytes:
    """Identity of a pool item: a Sudoku grid, or a maze's structure half (its question)."""
    if task.name == "maze":
        row = row[:task.rows * task.cols]
    return np.asarray(row, dtype=np.int64).tobytes()


def shipped_test_keys(task) -> set[bytes]:
    """Keys of every item of the shipped evaluation sets (Sudoku: solution grids)."""
    from puzzles.tasks import read_questions
    keys: set[bytes] = set()
    for path in sorted((Path(__file__).resolve().parent.parent / "datasets" / task.name).glob("*.csv")):
        qs, ans = read_questions(task, str(path))
        if task.name == "maze":
            keys.update(_item_key(task, t) for t in task.encode(qs))
        elif ans is not None:
            keys.update(_item_key(task, a) for a in np.asarray(ans))
    return keys


def draw_batch(task, pool, rng, size):
    if "questions" in pool:     # Sudoku file data: augment question and answer alike
        from puzzles import sudoku as sd
        from puzzles.tasks import Batch
        idx = rng.integers(len(pool["answers"]), size=size)
        a, q = sd.augment(pool["answers"][idx], rng, task.box, pool["questions"][idx])
        toks = sd.encode(a, task.box)
        return Batch(toks, q == 0, sd.encode(q, task.box), toks)
    return task.batch(pool, rng, size)


def make_eval_set(task, cfg: TrainConfig):
    if cfg.eval_size == 0:
        return None
    if task.name == "sudoku":
        from puzzles import sudoku as sd
        return np.stack([sd.generate_one(cfg.eval_seed, i)[0] for i in range(cfg.eval_size)])
    from puzzles import maze as mz
    if cfg.maze_pool == "mixed":
        return [mz.generate_mixed(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]
    return [mz.generate_one(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]


@torch.no_grad()
def evaluate(model, task, questions, device, precision: str = "fp32") -> dict:
    """Decode held-out puzzles (MDM: top-1 confidence; ARM: greedy) and verify."""
    from sampling import ar_decode, run_sampler
    model.eval()
    with autocast(device, precision):
        if model.cfg.kind == "mdm":
            x = torch.from_numpy(task.encode(questions)).to(device)
            out, st = run_sampler("topk", model, x, mask_id=task.mask_id, options={"k": 1})
        else:
            prompt, forced = (torch.from_numpy(a).to(device) for a in task.arm_prompt(questions))
            out, st = ar_decode(model.step, prompt, n_tokens=model.cfg.cells, forced=forced)
    answers = task.decode(out.cpu().numpy(), questions)
    solved, _ = task.verify(questions, answers)
    model.train()
    return {"solve_rate": float(np.mean(solved)), "nfe_mean": float(st["nfe"].float().mean())}


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m scripts.train", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--config", help="JSON file with TrainConfig fields; flags override it.")
    ap.add_argument("--out", required=True, help="Checkpoint path (resume state goes to OUT.state).")
    ap.add_argument("--resume", action="store_true", help="Continue from OUT.state if it exists.")
    for name, f in TrainConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if f.annotation is bool:
            ap.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), metavar="BOOL",
                            default=None, help=f.description)
        else:
            ap.add_argument(flag, default=None, help=f"{f.description} (default: {f.default})")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    raw: dict = {}
    if args.config:
        try:
            raw = json.loads(Path(args.config).read_text())
        except (OSError, json.JSONDecodeError) as e:
            print(f"error: {args.config}: cannot read config: {e}", file=sys.stderr)
            return 2
    for name in TrainConfig.model_fields:
        v = getattr(args, name)
        if v is not None:
            raw[name] = v
    try:
        cfg = TrainConfig(**raw)
    except ValidationError as e:
        print(f"error: bad training config ({args.config or 'flags'}):\n{e}", file=sys.stderr)
        return 2
    from puzzles.io import ParseError
    try:
        return train(cfg, args.out, resume=args.resume)
    except ParseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def train(cfg: TrainConfig, out: str, *, resume: bool = False) -> int:
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(cfg.device)
    if ddp:
        import torch.distributed as dist
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
        if device == "cuda":
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    set_threads(cfg.threads)
    precision = resolve_precision(cfg.precision, device)
    task = get_task(cfg.task)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, task).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    state_path = Path(str(out) + ".state")
    step, history, wall = 0, [], 0.0
    if resume and state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        old = TrainConfig(**st["train_config"])
        diff = [k for k in TrainConfig.model_fields if k not in _RUNTIME and getattr(old, k) != getattr(cfg, k)]
        if diff:
            print(f"error: {state_path}: config differs from the saved run in {diff}", file=sys.stderr)
            return 2
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        step, history, wall = int(st["step"]), list(st["history"]), float(st["wall"])
    net = model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model)
    if cfg.compile:
        net = torch.compile(net)
    pool = file_pool(task, cfg.data) if cfg.data else make_pool(task, cfg)
    evalset = make_eval_set(task, cfg) if rank == 0 else None
    meta_base = {"params": param_count(model), "train_config": cfg.model_dump(mode="json"),
                 "data": cfg.data or f"on-the-fly pool of {cfg.pool_size} (seed {cfg.pool_seed}) + symmetries",
                 "precision": precision, "threads": torch.get_num_threads()}

    def save():
        if rank != 0:
            return
        meta = dict(meta_base, step=step, history=history, wall_seconds=wall)
        save_model(out, model, vocab=task.vocab(), meta=meta)
        atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                     "history": history, "wall": wall, "train_config": cfg.model_dump(mode="json")}, state_path)

    from tqdm import tqdm
    bar = tqdm(total=cfg.steps, initial=step, disable=rank != 0, desc=f"{cfg.task}-{cfg.model}", file=sys.stderr)
    t_run, first_step = time.time(), step
    model.train()
    while step < cfg.steps:
        t0 = time.time()
        rng = np.random.default_rng([cfg.seed, rank, step])
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        b = draw_batch(task, pool, rng, cfg.batch_size)
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        with autocast(device, precision):
            if cfg.model == "mdm":
                loss = mdm_loss(net, torch.from_numpy(b.tokens).to(device),
                                torch.from_numpy(b.maskable).to(device), mask_id=task.mask_id,
                                generator=gen, elbo_weight=cfg.elbo_weight)
            else:
                loss = arm_loss(net, torch.from_numpy(b.prompt).to(device), torch.from_numpy(b.answer).to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        dt = time.time() - t0
        wall += dt
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{lr_at(cfg, step - 1):.2e}",
                        ex_s=f"{cfg.batch_size / max(dt, 1e-9):.0f}")
        entry = None
        if rank == 0 and evalset is not None and ((cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.steps):
            entry = {"step": step, "loss": round(loss.item(), 5), **evaluate(model, task, evalset, device, precision)}
            history.append(entry)
            tqdm.write(json.dumps(entry), file=sys.stderr)
        if step % cfg.save_every == 0 or step == cfg.steps or entry is not None:
            save()
        if (cfg.minutes and time.time() - t_run > 60 * cfg.minutes) or \
                (cfg.stop_after and step - first_step >= cfg.stop_after):
            save()
            tqdm.write(f"stopping at step {step}; rerun with --resume to continue", file=sys.stderr)
            break
    bar.close()
    if ddp:
        import torch.distributed as dist
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
