"""Training at a machine's full speed: parallel pool generation, runs fitted to a time
budget, and validation on hard (minimal) puzzles."""
import json
import os
import subprocess
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from puzzles import sudoku as sd
from puzzles.pmap import pmap
from puzzles.sudoku.generate import is_minimal
from puzzles.tasks import MazeTask, SudokuTask
from solvers.training.data import BatchStream, draw_batch, eval_keys, make_hard_eval_set, make_pool
from solvers.training.loop import StepPlan, TrainConfig, lr_at, train


def _square(x):
    return x * x


def test_pmap_equals_serial_in_order():
    items = list(range(300))
    assert pmap(_square, items, workers=2) == [x * x for x in items]
    assert pmap(_square, items[:5], workers=8) == [0, 1, 4, 9, 16]      # small: runs here


def test_parallel_pools_equal_serial_pools():
    task = SudokuTask()
    a, b = task.make_pool(130, 4, kind="puzzles", workers=1), task.make_pool(130, 4, kind="puzzles", workers=2)
    assert np.array_equal(a["questions"], b["questions"]) and np.array_equal(a["answers"], b["answers"])
    assert np.array_equal(task.pool_orders(a, workers=1), task.pool_orders(a, workers=2))
    maze = MazeTask()
    assert np.array_equal(maze.make_pool(130, 2, kind="mixed", workers=1)["tokens"],
                          maze.make_pool(130, 2, kind="mixed", workers=2)["tokens"])
    one = partial(sd.generate_one, 4, box=task.box)
    assert np.array_equal(one(7)[0], a["questions"][7])


def test_prefetched_batches_equal_drawn_ones():
    """GPU runs draw the next batch in a thread; the batches of each step must not change."""
    task = SudokuTask()
    cfg = TrainConfig(task="sudoku", model="arm", order="solver", sudoku_pool="puzzles", batch_size=8)
    pool = task.make_pool(40, 3, kind="puzzles", workers=1)
    pool["orders"] = task.pool_orders(pool, workers=1)
    plain, ahead = BatchStream(task, pool, cfg, 0, 5, prefetch=False), BatchStream(task, pool, cfg, 0, 5, prefetch=True)
    for step in range(5, 9):
        (s1, b1), (s2, b2) = plain.get(step), ahead.get(step)
        assert s1 == s2 and np.array_equal(b1.prompt, b2.prompt) and np.array_equal(b1.answer, b2.answer)
    assert not np.array_equal(plain.get(9)[1].answer, b1.answer)       # steps differ from each other
    for step in (12, 3):                                                # out of sequence: still that step's
        (s1, b1), (s2, b2) = plain.get(step), ahead.get(step)
        assert s1 == s2 and np.array_equal(b1.answer, b2.answer)
    ahead.close()


def test_mixed_batches_whose_draw_is_all_one_kind():
    """A small batch of the mixed pool may take every row from one part (binomial draw)."""
    task = SudokuTask()
    pool = task.make_pool(30, 3, kind="mixed", workers=1)
    for frac in (0.0, 1.0):
        b = draw_batch(task, dict(pool, puzzle_frac=frac), np.random.default_rng(0), 4)
        assert b.tokens.shape == (4, 81) and b.maskable.any()
        assert (~b.maskable).any() == (frac == 1.0)            # puzzles keep their givens unmaskable


def test_step_plan_fits_the_budget_and_never_exceeds_steps():
    cfg = TrainConfig(steps=10_000, time_budget=1.0, warmup=10)     # 60 s
    plan = StepPlan(cfg, t_start=0.0, window=5.0)
    for step in range(1, 101):                  # 10 steps per second
        total = plan.update(step, step / 10)
    assert total == 100 + ((60 - 10) * 10)   # 50 s left at 10 steps/s
    for step in range(101, 131):                # slows to 1 step per second
        total = plan.update(step, 10 + (step - 100))
    assert total == 130 + 20                    # 20 s left at the recent rate
    fast = StepPlan(cfg.model_copy(update={"steps": 200}), 0.0)
    for step in range(1, 50):
        total = fast.update(step, step / 10)
    assert total == 200                         # the config's steps cap the plan
    late = StepPlan(cfg, 0.0)
    assert late.update(1, 30.0) == 10_000 and late.update(2, 61.0) == 2    # past the budget: stop
    off = StepPlan(TrainConfig(steps=77), 0.0)
    assert off.update(50, 1e9) == 77            # no budget: the config's steps


def test_step_plan_leaves_pauses_out_of_the_rate():
    """An in-run evaluation between two steps costs budget, not step rate: without the
    pause the window would read 2 steps in 31 s and plan almost nothing more."""
    cfg = TrainConfig(steps=10_000, time_budget=10.0, warmup=10)    # 600 s
    plan = StepPlan(cfg, t_start=0.0, window=60.0)
    for step in range(1, 101):                  # 1 step per second
        plan.update(step, float(step))
    plan.pause(30.0)                            # evaluated from t=100 to t=130
    assert plan.update(101, 131.0) == 101 + (600 - 131)     # still 1 step/s over the 469 s left
    assert plan.update(102, 132.0) == 102 + (600 - 132)


def test_cosine_ends_at_the_planned_total():
    cfg = TrainConfig(steps=1000, warmup=0, lr=1.0, min_lr_frac=0.1)
    assert lr_at(cfg, 100, total=100) == pytest.approx(0.1)
    assert lr_at(cfg, 0, total=100) == pytest.approx(1.0)
    assert lr_at(cfg, 500) == pytest.approx(0.55)


def test_time_budget_run_records_the_steps_it_ran(tmp_path):
    cfg = TrainConfig(task="sudoku", steps=100_000, batch_size=4, d_model=16, n_layers=1, n_heads=2, pool_size=4,
                      eval_size=0, save_every=1000, warmup=2, threads=1, time_budget=0.05)   # 3 s
    assert train(cfg, str(tmp_path / "t.pt")) == 0
    meta = torch.load(tmp_path / "t.pt", weights_only=True)["meta"]
    assert 0 < meta["step"] < 100_000
    assert meta["train_config"]["steps"] == meta["step"]    # the schedule it ran, not the cap


def test_hard_validation_puzzles_are_minimal_held_out_and_logged(tmp_path):
    task = SudokuTask()
    cfg = TrainConfig(task="sudoku", sudoku_pool="mixed", eval_hard=3, eval_size=2, eval_seed=5)
    hard = make_hard_eval_set(task, cfg)
    assert hard.shape == (3, 81)
    assert all(is_minimal(q, task.box) and sd.count_solutions(q, task.box, limit=2) == 1 for q in hard)
    assert make_hard_eval_set(task, cfg.model_copy(update={"eval_hard": 0})) is None
    keys = eval_keys(task, hard)
    pool = make_pool(task, cfg.model_copy(update={"pool_size": 4}), keys)
    assert not keys & {np.asarray(a, np.int64).tobytes() for a in pool["answers"]}
    run = TrainConfig(task="sudoku", sudoku_pool="mixed", steps=2, batch_size=4, d_model=16, n_layers=1,
                      n_heads=2, pool_size=4, eval_size=2, eval_hard=2, save_every=10, warmup=1, threads=1)
    assert train(run, str(tmp_path / "h.pt")) == 0
    entry = torch.load(tmp_path / "h.pt", weights_only=True)["meta"]["history"][-1]
    assert 0 <= entry["hard_solve_rate"] <= 1 and "solve_rate" in entry


def test_eval_hard_is_for_sudoku():
    with pytest.raises(ValueError, match="eval_hard is for Sudoku"):
        TrainConfig(task="maze", eval_hard=5)


def test_fine_tuning_counts_both_stages(tmp_path):
    from models.checkpoint import examples_seen, learning_curve
    base = {"task": "sudoku", "batch_size": 4, "d_model": 16, "n_layers": 1, "n_heads": 2, "pool_size": 4,
            "eval_size": 2, "eval_every": 2, "save_every": 10, "warmup": 1, "threads": 1}
    assert train(TrainConfig(**base, steps=4), str(tmp_path / "a.pt")) == 0
    assert train(TrainConfig(**base, steps=2, init=str(tmp_path / "a.pt")), str(tmp_path / "b.pt")) == 0
    meta = torch.load(tmp_path / "b.pt", weights_only=True)["meta"]
    assert meta["init"]["examples"] == 16 and meta["init"]["checkpoint"] == "a.pt"
    assert examples_seen(meta) == 16 + 8
    assert [h["examples"] for h in learning_curve(meta)] == [8, 16, 24]     # stage 1 at 8, 16; stage 2 at 16 + 8


def test_a_looped_model_starts_from_a_plain_checkpoint(tmp_path):
    """The shipped sudoku-mdm's stage 4: `--loops 2 --init` a loops-1 checkpoint. The
    weights are shared across loops, so they load unchanged; only the depth differs."""
    base = {"task": "sudoku", "batch_size": 4, "d_model": 16, "n_layers": 1, "n_heads": 2, "pool_size": 4,
            "eval_size": 2, "eval_every": 0, "save_every": 10, "warmup": 1, "threads": 1}
    assert train(TrainConfig(**base, steps=2), str(tmp_path / "a.pt")) == 0
    assert train(TrainConfig(**base, steps=1, loops=2, lr=1e-12, init=str(tmp_path / "a.pt")),
                 str(tmp_path / "b.pt")) == 0
    a, b = (torch.load(tmp_path / n, weights_only=True) for n in ("a.pt", "b.pt"))
    assert b["meta"]["train_config"]["loops"] == 2 and b["config"]["loops"] == 2
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.allclose(a["state_dict"][k], b["state_dict"][k], atol=1e-6) for k in a["state_dict"])


def test_train_parallel_runs_configs_side_by_side(tmp_path):
    root = Path(__file__).resolve().parents[1]
    script = root / "scripts" / "train_parallel.sh"
    usage = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=root, check=False)
    assert usage.returncode == 2 and "MINUTES" in usage.stdout
    tiny = {"task": "sudoku", "steps": 100_000, "batch_size": 4, "d_model": 16, "n_layers": 1, "n_heads": 2,
            "pool_size": 4, "eval_size": 0, "save_every": 1000, "warmup": 2, "threads": 1}
    cfgs = []
    for name, extra in (("a", {}), ("b", {"seed": 1})):
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps({**tiny, **extra}))
        cfgs.append(str(p))
    out = tmp_path / "runs"
    r = subprocess.run(["bash", str(script), str(out), "0.05", *cfgs], capture_output=True, text=True, cwd=root,
                       env={**os.environ, "POLL": "1"}, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("a", "b"):
        meta = torch.load(out / f"{name}.pt", weights_only=True)["meta"]
        assert 0 < meta["step"] == meta["train_config"]["steps"] < 100_000
