"""Training data for scripts.train: the on-the-fly pools, dataset files, batches and
the validation puzzles. Pools never hold an item of a shipped test set."""
from __future__ import annotations

import sys

import numpy as np

from puzzles.data import shipped_sets


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


def make_pool(task, cfg, held_out: set[bytes] = frozenset()) -> dict:
    """The on-the-fly training pool, minus any item that a shipped test set or ``held_out``
    (the validation keys) holds; ``pool["dropped"]`` counts what was removed."""
    if task.name == "maze":
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed, kind=cfg.maze_pool)
        key = "tokens"
    else:
        pool = task.make_pool(cfg.pool_size, cfg.pool_seed, kind=cfg.sudoku_pool)
        key = "answers" if "answers" in pool else "grids"
    test = shipped_test_keys(task) | set(held_out)
    keep = np.array([_item_key(task, row) not in test for row in pool[key]])
    print(f"training pool: {len(keep)} items; dropped {int((~keep).sum())} that a shipped test set "
          f"or the validation set holds", file=sys.stderr)
    out = {k: v[keep] for k, v in pool.items()}
    out["dropped"] = int((~keep).sum())
    if cfg.order == "solver":
        out["orders"] = task.pool_orders(out)
    return out


def _item_key(task, row: np.ndarray) -> bytes:
    """Identity of a pool item: a Sudoku grid, or a maze's structure half (its question)."""
    if task.name == "maze":
        row = row[:task.rows * task.cols]
    return np.asarray(row, dtype=np.int64).tobytes()


def shipped_test_keys(task) -> set[bytes]:
    """Keys of every item of the shipped evaluation sets (Sudoku: solution grids)."""
    from puzzles.tasks import read_questions
    keys: set[bytes] = set()
    for path in shipped_sets(task.name):
        qs, ans = read_questions(task, str(path))
        if task.name == "maze":
            keys.update(_item_key(task, t) for t in task.encode(qs))
        elif ans is not None:
            keys.update(_item_key(task, a) for a in np.asarray(ans))
    return keys


def eval_keys(task, evalset) -> set[bytes]:
    """Keys of the validation puzzles, in the same form as ``shipped_test_keys``."""
    if evalset is None:
        return set()
    if task.name == "maze":
        return {_item_key(task, t) for t in task.encode(evalset)}
    from puzzles import sudoku as sd
    return {_item_key(task, sd.solve(q, task.box)) for q in evalset}


def draw_batch(task, pool, rng, size, order: str = "raster"):
    if order != "raster":
        return task.pick_batch(pool, rng, size)
    if "questions" in pool:     # Sudoku file data: augment question and answer alike
        from puzzles import sudoku as sd
        from puzzles.tasks import Batch
        idx = rng.integers(len(pool["answers"]), size=size)
        a, q = sd.augment(pool["answers"][idx], rng, task.box, pool["questions"][idx])
        toks = sd.encode(a, task.box)
        return Batch(toks, q == 0, sd.encode(q, task.box), toks)
    return task.batch(pool, rng, size)


def make_eval_set(task, cfg):
    if cfg.eval_size == 0:
        return None
    if task.name == "sudoku":
        from puzzles import sudoku as sd
        return np.stack([sd.generate_one(cfg.eval_seed, i)[0] for i in range(cfg.eval_size)])
    from puzzles import maze as mz
    if cfg.maze_pool == "mixed":
        return [mz.generate_mixed(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]
    return [mz.generate_one(cfg.eval_seed, i, task.rows, task.cols) for i in range(cfg.eval_size)]
