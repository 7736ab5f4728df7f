"""Training data for scripts.train: the on-the-fly pools, dataset files, batches and
the validation puzzles. Pools never hold an item of a shipped test set."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from puzzles import maze as mz
from puzzles.data import shipped_sets

if TYPE_CHECKING:
    from solvers.training.config import TrainConfig


def file_pool(task, path: str) -> dict:
    """A training pool from a dataset file with answers (givens never masked)."""
    from puzzles.tasks import read_questions
    qs, ans = read_questions(task, path)
    if ans is None:
        from puzzles.io import ParseError
        raise ParseError(path, None, "training needs answers (an 'answer' column)")
    if task.name == "sudoku":
        return {"questions": np.asarray(qs), "answers": np.asarray(ans)}
    return {"tokens": np.stack([mz.encode(q, a) for q, a in zip(qs, ans)])}


def make_pool(task, cfg, held_out: set[bytes] = frozenset()) -> dict:
    """The on-the-fly training pool (for Sudoku ``mixed`` with ``--data``: generated grids
    plus the file's puzzles), minus any item that a shipped test set or ``held_out``
    (the validation keys) holds; ``pool["dropped"]`` counts what was removed."""
    if task.name == "maze":
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed, kind=cfg.maze_pool, workers=cfg.workers)
    elif cfg.mixes_file():
        pool = {**task.make_pool(cfg.pool_size, cfg.pool_seed), **file_pool(task, cfg.data)}
    else:
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed, kind=cfg.sudoku_pool, workers=cfg.workers)
    test = shipped_test_keys(task) | set(held_out)
    out, dropped = {}, 0
    for key, parts in (("tokens", ("tokens",)), ("grids", ("grids",)), ("answers", ("questions", "answers"))):
        if key not in pool:
            continue
        keep = np.array([_item_key(task, row) not in test for row in pool[key]])
        out.update({k: pool[k][keep] for k in parts})
        dropped += int((~keep).sum())
    print(f"training pool: {sum(len(v) for k, v in out.items() if k != 'questions')} items; dropped {dropped} "
          f"that a shipped test set or the validation set holds", file=sys.stderr)
    out["dropped"] = dropped
    out["puzzle_frac"] = cfg.puzzle_frac
    if cfg.order == "solver":
        out["orders"] = task.pool_orders(out, workers=cfg.workers)
    return out


def _item_key(task, row: np.ndarray) -> bytes:
    """Identity of a pool item: a Sudoku grid, or a maze's structure half (its question)."""
    if task.name == "maze":
        row = row[:len(row) // 2]
    return np.asarray(row, dtype=np.int64).tobytes()


def shipped_test_keys(task) -> set[bytes]:
    """Keys of every item of the shipped evaluation sets (Sudoku: solution grids)."""
    from puzzles.tasks import read_questions
    keys: set[bytes] = set()
    for path in shipped_sets(task.name):
        qs, ans = read_questions(task, str(path))
        if task.name == "maze":
            keys.update(_item_key(task, mz.encode(q)) for q in qs)
        elif ans is not None:
            keys.update(_item_key(task, a) for a in np.asarray(ans))
    return keys


def eval_keys(task, evalset) -> set[bytes]:
    """Keys of the validation puzzles, in the same form as ``shipped_test_keys``."""
    if evalset is None:
        return set()
    if task.name == "maze":
        return {_item_key(task, mz.encode(q)) for q in evalset}
    from puzzles import sudoku as sd
    return {_item_key(task, sd.solve(q, task.box)) for q in evalset}


def maze_shape(rng: np.random.Generator, lo: int, hi: int, power: float = 1.0) -> tuple[int, int]:
    """A maze shape for one multi-size step: sides weighted by their length to ``power``
    (a large maze holds more to learn per example), square half of the time."""
    sides = np.arange(lo, hi + 1)
    p = sides.astype(float) ** power
    p /= p.sum()
    r = int(rng.choice(sides, p=p))
    return (r, r) if rng.random() < 0.5 else (r, int(rng.choice(sides, p=p)))


def maze_stream_batch(pool: dict, rng: np.random.Generator, step: int, order: str = "raster"):
    """One multi-size batch of fresh mazes (``generate_mixed``, ties allowed): one shape,
    ``batch_cells // cells`` rows, each with one shortest path drawn uniformly as its
    target and a random symmetry that keeps the shape. Items whose question, under any of
    the 8 symmetries, a shipped test set or the validation set holds are skipped.
    ``order`` 'path' (the path ARM): answers are that path's cells from S (excluded) to G."""
    from puzzles.maze.solve import random_shortest_path
    from puzzles.task_base import Batch, padded
    cfg = pool["cfg"]
    r, c = maze_shape(rng, cfg.maze_min, cfg.maze_max, cfg.size_power)
    n = max(1, cfg.batch_cells // (r * c))
    if "held_lengths" not in pool:  # a key of another length cannot match: most sizes skip the check
        pool["held_lengths"] = {len(k) for k in pool["held_out"]}
    rows, j = [], 0
    while len(rows) < n:
        q = mz.generate_mixed(cfg.pool_seed, step * 100_000 + j, r, c)
        j += 1
        t = mz.encode(q, random_shortest_path(q, rng))
        if t[:r * c].nbytes in pool["held_lengths"] and any(
                mz.dihedral(t, r, c, s)[:r * c].tobytes() in pool["held_out"] for s in range(8)):
            continue                # a held-out maze under any symmetry
        k = int(rng.integers(8)) if r == c else 2 * int(rng.integers(4))   # odd k would swap r and c
        rows.append(mz.dihedral(t, r, c, k))
    t = np.stack(rows)
    L = r * c
    maskable = np.concatenate([np.zeros((n, L), bool), t[:, :L] < 16], 1)      # S/G flags >= 16
    if order == "path":
        paths = padded([mz.path_cells(row, r, c) for row in t])
        return Batch(t, maskable, t[:, :L], paths, t[:, :L] // 16 == 1, shape=(r, c))
    fixed, mask = fill_masks(t, r, c, rng, cfg.fill_frac)
    return Batch(t, maskable, t[:, :L], t[:, L:], shape=(r, c), fixed=fixed, mask=mask)


def fill_masks(t: np.ndarray, r: int, c: int, rng: np.random.Generator, frac: float):
    """Masks for the ``frac`` share of rows that train on the states decoding walks
    through: dead-end filling stopped part way. A row draws a round d (uniform from 0 to
    one past its last) and reveals every OFF cell that filling removes before round d, each cell
    of round d with probability u ~ U(0, 1) (top-1 fills a round one cell at a time), and
    any other cell with probability p ~ U(0, 0.1), so a stray ON cell is seen too. The
    rest is masked, the path's cells among them: the loss teaches which cells the filled
    part decides and which it leaves open. ([B] rows, [B, 2*r*c] masks; none: no row.)
    ``frac`` 0 draws nothing from ``rng``, so older recipes' batches stay as they were."""
    n, L = len(t), r * c
    if frac <= 0:
        return None, None
    fixed = rng.random(n) < frac
    if not fixed.any():
        return None, None
    rounds = mz.fill_rounds(t, r, c)
    last = rounds.max(1)
    d = np.floor(rng.random(n) * (last + 2)).astype(np.int32)[:, None]     # 0 .. last + 1
    u, p = rng.random((n, 1)), rng.random((n, 1)) * 0.1
    seen = (rounds >= 0) & ((rounds < d) | ((rounds == d) & (rng.random((n, L)) < u)))
    seen |= rng.random((n, L)) < p
    mask = np.concatenate([np.zeros((n, L), bool), ~seen], 1)
    return fixed, mask


def draw_batch(task, pool, rng, size, order: str = "raster", step: int = 0):
    if "held_out" in pool:          # multi-size mazes, generated as they are drawn
        return maze_stream_batch(pool, rng, step, order)
    if order != "raster":
        return task.pick_batch(pool, rng, size)
    if "questions" in pool and "grids" in pool:     # mixed: complete grids and minimal puzzles
        from puzzles.tasks import Batch
        k = int(rng.binomial(size, pool["puzzle_frac"]))
        sources = [({"grids": pool["grids"]}, size - k),
                   ({"questions": pool["questions"], "answers": pool["answers"]}, k)]
        parts = [draw_batch(task, src, rng, n) for src, n in sources if n]    # a part may draw none
        return Batch(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("tokens", "maskable", "prompt",
                                                                                "answer")))
    if "questions" in pool:     # Sudoku puzzles: augment question and answer alike
        from puzzles import sudoku as sd
        from puzzles.tasks import Batch
        idx = rng.integers(len(pool["answers"]), size=size)
        a, q = sd.augment(pool["answers"][idx], rng, task.box, pool["questions"][idx])
        toks = sd.encode(a, task.box)
        return Batch(toks, q == 0, sd.encode(q, task.box), toks)
    return task.batch(pool, rng, size)


#: hard validation puzzles come from indices HARD_EVAL_START.. of the validation seed, so they
#: share no solution grid with the test-like validation puzzles (indices 0..eval_size-1)
HARD_EVAL_START = 1_000_000


def make_hard_eval_set(task, cfg):
    """``eval_hard`` minimal Sudoku puzzles (as few clues as the generator reaches, like
    hard.csv) from the validation seed, or None."""
    if not cfg.eval_hard:
        return None
    from puzzles.sudoku.generate import generate_minimal
    return np.stack([generate_minimal(cfg.eval_seed, HARD_EVAL_START + i, task.box)[0] for i in range(cfg.eval_hard)])


def make_eval_set(task, cfg):
    if cfg.eval_size == 0:
        return None
    if task.name == "sudoku":
        from puzzles import sudoku as sd
        return np.stack([sd.generate_one(cfg.eval_seed, i)[0] for i in range(cfg.eval_size)])
    if cfg.maze_max:        # the same number of mazes at each of four sizes across the range
        sides = sorted({cfg.maze_min, (cfg.maze_min + cfg.maze_max) // 2, (cfg.maze_min + 3 * cfg.maze_max) // 4,
                        cfg.maze_max})
        return [mz.generate_mixed(cfg.eval_seed, i, s, s) for s in sides
                for i in range(cfg.eval_size // len(sides))]
    if cfg.maze_pool == "mixed":
        return [mz.generate_mixed(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]
    return [mz.generate_one(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]


class BatchStream:
    """The batch of each step, a function of (seed, rank, step) alone. With ``prefetch``
    (GPU runs), a thread draws the next step's batch while the device runs this one; the
    batches are the same either way."""

    def __init__(self, task, pool, cfg: TrainConfig, rank: int, step: int, prefetch: bool):
        self.task, self.pool, self.cfg, self.rank = task, pool, cfg, rank
        self.executor = ThreadPoolExecutor(1) if prefetch else None
        self.pending = self.executor.submit(self.draw, step) if self.executor else None
        self.ahead = step               # the step the pending batch is for

    def draw(self, step: int):
        rng = np.random.default_rng([self.cfg.seed, self.rank, step])
        gen_seed = int(rng.integers(2**62))
        return gen_seed, draw_batch(self.task, self.pool, rng, self.cfg.batch_size, self.cfg.order, step)

    def get(self, step: int):
        if self.executor is None:
            return self.draw(step)
        out = self.pending.result()
        if self.ahead != step:          # asked out of sequence: that step's own batch
            out = self.draw(step)
        self.ahead = step + 1
        self.pending = self.executor.submit(self.draw, step + 1)
        return out

    def close(self):
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
