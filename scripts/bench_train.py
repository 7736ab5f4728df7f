"""Training speed, side by side in one run: old recipe, every core, bf16, compile.

    python -m scripts.bench_train --task sudoku --model mdm
    python -m scripts.bench_train --task maze --model arm --steps 5 --json
    python -m scripts.bench_train --config sudoku-arm-solver --no-compile

Each configuration builds the shipped model shape (``configs/TASK-MODEL.json``, or the
shipped config ``--config`` names, e.g. the cell-naming ARMs ``sudoku-arm-solver`` and
``maze-arm-path``), runs

``--warmup`` training steps (loss, backward, AdamW), then times ``--steps`` more and
reports the median step. Achieved GFLOP/s counts the model's FLOPs from its config
(``train_flops``: matrix products forward and backward, attention included), so it is
comparable across precisions; for the cell-naming ARMs it counts the transformer at the
batches' mean length, not the pointer head. The configurations, in order:

    old recipe      fp32, 1 thread (what the first release trained with)
    fp32            fp32, every core
    bf16            bf16 autocast, every core
    bf16+compile    bf16 autocast, every core, torch.compile

``--json`` prints ``{"configs": [...], "speedup": best / old}`` as the last line.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np
import torch

from models.checkpoint import shipped_config
from models.losses import arm_loss, mdm_loss
from models.runtime import autocast, machine_cores
from models.transformer import ModelConfig
from puzzles.cli import Parser
from puzzles.tasks import get_task


def train_flops(cfg: ModelConfig, batch: int, T: float | None = None) -> float:
    """FLOPs of one training step (forward + backward = 3x forward) for ``batch`` examples.

    Per layer and token: 2 * 12 d^2 (qkv, proj, MLP at ratio 4: 2 * (3 + 1 + 2r) d^2) plus
    4 T d for attention scores and their weighted sum over T keys; plus the output head.
    The MDM reads L positions (paired mazes fold two tokens into one cell); the ARM reads
    2L - 1 (prompt and answer, full score matrix under a causal mask, as SDPA computes it);
    ``T`` overrides the length read (a cell-naming ARM reads L + the picks).
    """
    d, L = cfg.d_model, cfg.cells
    if T is None:
        T = L if cfg.kind == "mdm" else 2 * L - 1
    per_tok_layer = 2 * (4 + 2 * cfg.mlp_ratio) * d * d + 4 * T * d
    fwd = T * (cfg.n_layers * cfg.loops * per_tok_layer + 2 * d * cfg.vocab_size)
    return 3.0 * fwd * batch


def load_config(name: str) -> dict:
    return json.loads(shipped_config(name).read_text())


def bench_one(task, raw: dict, *, threads: int, precision: str, compile_: bool,
              steps: int, warmup: int) -> dict:
    from solvers.training.data import draw_batch, make_pool
    from solvers.training.loop import TrainConfig, build_model
    cfg = TrainConfig(**{**raw, "threads": threads, "precision": precision, "compile": compile_})
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(cfg, task)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    net = torch.compile(model) if compile_ else model
    pool = make_pool(task, cfg.model_copy(update={"pool_size": 64, "pool_seed": 0, "workers": 1}))
    rng = np.random.default_rng(0)
    times, lengths = [], []
    for i in range(warmup + steps):
        b = draw_batch(task, pool, rng, cfg.batch_size, cfg.order)
        t0 = time.perf_counter()
        with autocast("cpu", precision):
            if cfg.model == "mdm":
                loss = mdm_loss(net, torch.from_numpy(b.tokens), torch.from_numpy(b.maskable),
                                mask_id=task.mask_id, generator=torch.Generator().manual_seed(i))
            else:
                filled = None if b.filled is None else torch.from_numpy(b.filled)
                groups = None if b.groups is None else torch.from_numpy(b.groups)
                loss = arm_loss(net, torch.from_numpy(b.prompt), torch.from_numpy(b.answer), filled,
                                model.cfg.pick_values, groups)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            lengths.append(b.prompt.shape[1] + b.answer.shape[1] - 1)
    dt = statistics.median(times)
    T = None if cfg.model == "mdm" or cfg.order == "raster" else statistics.mean(lengths)
    return {"examples_per_s": cfg.batch_size / dt,
            "gflops": train_flops(model.cfg, cfg.batch_size, T) / dt / 1e9,
            "step_ms": 1000 * dt}


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.bench_train", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--task", choices=["sudoku", "maze"], default="sudoku", help="default sudoku")
    ap.add_argument("--model", choices=["mdm", "arm"], default="mdm", help="default mdm")
    ap.add_argument("--config", help="a shipped config by name (e.g. sudoku-arm-solver, maze-arm-path); "
                                     "overrides --task and --model")
    ap.add_argument("--steps", type=int, default=8, help="timed steps per configuration (default 8)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3; compile runs here)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile configuration")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line of stdout")
    a = ap.parse_args(argv)
    if a.steps < 1 or a.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    config = a.config or f"{a.task}-{a.model}"
    try:
        raw = load_config(config)
    except FileNotFoundError:
        ap.error(f"--config: no shipped config {config!r} (configs/*.json names them)")
    task = get_task(raw.get("task", a.task))
    cores = machine_cores()
    plan = [("old recipe", "fp32", 1, False), ("fp32", "fp32", cores, False), ("bf16", "bf16", cores, False)]
    if not a.no_compile:
        plan.append(("bf16+compile", "bf16", cores, True))
    from tqdm import tqdm
    rows = []
    for name, prec, th, comp in tqdm(plan, desc="bench_train", file=sys.stderr):
        r = bench_one(task, raw, threads=th, precision=prec, compile_=comp, steps=a.steps, warmup=a.warmup)
        rows.append({"name": name, "precision": prec, "threads": th, "compile": comp,
                     "examples_per_s": round(r["examples_per_s"], 1), "gflops": round(r["gflops"], 2),
                     "step_ms": round(r["step_ms"], 1)})
    base = rows[0]["examples_per_s"]
    best = max(rows, key=lambda r: r["examples_per_s"])
    print(f"{config}, batch {raw.get('batch_size', 128)}, d={raw.get('d_model', 128)}, "
          f"{raw.get('n_layers', 6)} layers; median of {a.steps} steps after {a.warmup} warm-up")
    print(f"{'configuration':<14} {'precision':>9} {'threads':>7} {'compile':>7} {'ex/s':>8} {'GFLOP/s':>8} {'x old':>6}")
    for r in rows:
        print(f"{r['name']:<14} {r['precision']:>9} {r['threads']:>7} {r['compile']!s:>7} "
              f"{r['examples_per_s']:>8.1f} {r['gflops']:>8.2f} {r['examples_per_s'] / base:>6.2f}")
    speedup = best["examples_per_s"] / base
    print(f"best: {best['name']}, {speedup:.2f}x the old recipe")
    if a.json:
        print(json.dumps({"configs": [{k: r[k] for k in ("name", "precision", "threads", "compile",
                                                          "examples_per_s", "gflops")} for r in rows],
                          "speedup": round(speedup, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
