"""Task adapters: everything a model-facing entry point needs to know about a puzzle.

Each task declares, in this one place, its vocabulary, its MASK id, the ids a model may
emit, its grid shape, how questions become token rows and back, how answers are
verified and graded (singles / dead-end depth), and how training batches are drawn.
Pure numpy: torch-side code converts with ``torch.from_numpy``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.io import ParseError
from puzzles.pmap import pmap
from puzzles.sudoku.generate import generate_minimal


@dataclass
class Batch:
    """Training batch. MDM: ``tokens`` with ``maskable``; ARM: ``prompt`` and ``answer``;
    cell-naming ARMs also ``filled``, the cells filled before the first pick [B, L], and
    optionally ``groups`` [B, K]: answer tokens of one group may come in any order (the
    solver's rounds; -1 padded)."""
    tokens: np.ndarray
    maskable: np.ndarray
    prompt: np.ndarray
    answer: np.ndarray
    filled: np.ndarray | None = None
    groups: np.ndarray | None = None
    shape: tuple[int, int] | None = None


def _solver_rounds(qa, box):
    return sd.solver_rounds(qa[0], qa[1], box)


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    """Answers of different lengths as one array [N, longest], padded with -1 (the ARM loss
    ignores it)."""
    out = np.full((len(rows), max(len(r) for r in rows)), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


@dataclass
class SudokuTask:
    box: sd.Box = sd.DEFAULT_BOX
    name: str = "sudoku"

    @property
    def n(self) -> int:
        return self.box[0] * self.box[1]

    def vocab(self) -> list[str]:
        return sd.vocab(self.box)

    @property
    def mask_id(self) -> int:
        return sd.mask_id(self.box)

    def model_fields(self, kind: str) -> dict:
        return {"task": "sudoku", "vocab_size": self.n + 1, "mask_id": self.mask_id,
                "out_tokens": tuple(range(self.n)), "rows": self.n, "cols": self.n,
                "box_rows": self.box[0], "box_cols": self.box[1], "paired": False, "rel_bias": "sudoku"}

    # --- questions <-> tokens
    def encode(self, questions: np.ndarray) -> np.ndarray:
        return sd.encode(questions, self.box)

    def arm_prompt(self, questions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prompt tokens [N, L], forced answer tokens [N, L], -1 where free): the ARM
        copies each given into its answer instead of choosing it."""
        q = np.asarray(questions)
        return sd.encode(q, self.box), np.where(q > 0, q.astype(np.int64) - 1, -1)

    def arm_picks(self, questions) -> tuple[np.ndarray, np.ndarray, None]:
        """Inputs of the solver-order ARM: (prompt [N, L], filled cells [N, L], no stop cell).
        A row ends when every cell is filled, so NFE = the number of blanks."""
        q = np.asarray(questions)
        return sd.encode(q, self.box), q > 0, None

    def pick_answers(self, picks: np.ndarray, questions) -> np.ndarray:
        """Grids from (cell, value) pick ids [N, K] (-1: none) written into the questions."""
        g = np.array(questions, dtype=np.int8)
        rows, ks = np.nonzero(picks >= 0)
        p = picks[rows, ks]
        g[rows, p // self.n] = p % self.n + 1
        return g

    def pick_batch(self, pool: dict, rng: np.random.Generator, size: int) -> Batch:
        """Solver-order ARM batch: puzzles, solutions and their orders under one random
        symmetry per row; answers are pair ids and groups the solver's rounds, both padded
        with -1 to the longest row."""
        idx = rng.integers(len(pool["questions"]), size=size)
        qs, ans, picks, rounds = [], [], [], []
        for i in idx:
            perm, dmap = sd.random_symmetry(rng, self.box)
            qs.append(dmap[pool["questions"][i][perm]])
            ans.append(dmap[pool["answers"][i][perm]])
            order = pool["orders"][i]
            order = order[order[:, 0] >= 0]
            picks.append(sd.to_pairs(sd.map_order(order[:, :2], perm, dmap), self.n))
            rounds.append(order[:, 2])
        q = np.stack(qs)
        return Batch(sd.encode(np.stack(ans), self.box), q == 0, sd.encode(q, self.box), _padded(picks), q > 0,
                     _padded(rounds))

    def pool_orders(self, pool: dict, workers: int = 1) -> np.ndarray:
        """The solver order of every pool puzzle: [N, L, 3] (cell, value, round), -1 padded."""
        L = self.n * self.n
        out = np.full((len(pool["questions"]), L, 3), -1, dtype=np.int64)
        orders = pmap(partial(_solver_rounds, box=self.box), list(zip(pool["questions"], pool["answers"])), workers)
        for i, o in enumerate(orders):
            out[i, :len(o)] = o
        return out

    def decode(self, tokens: np.ndarray, questions: np.ndarray) -> np.ndarray:
        return sd.decode(tokens, self.box)

    def verify(self, questions, answers) -> tuple[np.ndarray, list[str]]:
        v = sd.verify(np.asarray(questions), np.asarray(answers), self.box)
        return v.solved, [v.reason(i, self.box) for i in range(len(v.solved))]

    def depth(self, question) -> int | None:
        return sd.singles_depth(question, self.box)

    def conflicts(self, tokens: np.ndarray) -> np.ndarray:
        return sd.conflicts(sd.decode(tokens, self.box), self.box)

    RULES = ("mask", "propagate")

    def rules(self, name: str, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sound deductions on partial token rows [N, L], no model involved: (tokens with
        singles filled when ``name == 'propagate'``, allowed ids [N, L, V], contradiction [N])."""
        from puzzles.sudoku.rules import candidates, propagate
        g = sd.decode(tokens, self.box)
        if name == "propagate":
            g, failed = propagate(g, self.box)
        else:
            failed = np.zeros(len(g), bool)
        cand = candidates(g, self.box)                                  # (N, L, n)
        failed = failed | ((g == 0) & ~cand.any(2)).any(1)
        allowed = np.concatenate([cand, np.zeros(cand.shape[:2] + (1,), bool)], 2)   # MASK never allowed
        return sd.encode(g, self.box), allowed, failed

    # --- training data
    def make_pool(self, size: int, seed: int, kind: str = "grids", workers: int = 1) -> dict:
        """``kind``: 'grids' (complete grids; every cell maskable), 'puzzles' (puzzles with a
        unique solution drawn like the test sets, ``sd.generate_one(seed, i)``: questions and
        answers, givens never masked) or 'mixed' (``size`` grids and ``size`` minimal puzzles).
        Puzzles are made on ``workers`` processes (0: every core); the pool does not depend on it."""
        if kind == "puzzles":
            qs, ans = zip(*pmap(partial(sd.generate_one, seed, box=self.box), range(size), workers))
            return {"questions": np.stack(qs), "answers": np.stack(ans)}
        if kind == "mixed":             # grids, plus minimal puzzles from another stream of the seed
            qs, ans = zip(*pmap(partial(generate_minimal, seed, box=self.box), range(size, 2 * size), workers))
            return {**self.make_pool(size, seed), "questions": np.stack(qs), "answers": np.stack(ans)}
        rng = np.random.default_rng([seed, 7])
        return {"grids": np.stack([sd.random_grid(rng, self.box) for _ in range(size)])}

    def batch(self, pool: dict, rng: np.random.Generator, size: int,
              arm_mask: tuple[float, float] = (0.55, 0.72)) -> Batch:
        """Random complete grids under random symmetries. For the MDM every cell is
        maskable (the loss draws t); the ARM sees a random puzzle-like prompt with a
        fraction of ``arm_mask`` cells blanked."""
        g = pool["grids"][rng.integers(len(pool["grids"]), size=size)]
        (g,) = sd.augment(g, rng, self.box)
        tokens = sd.encode(g, self.box)
        frac = rng.uniform(*arm_mask, size=(size, 1))
        q = np.where(rng.random(g.shape) < frac, 0, g)
        return Batch(tokens, np.ones_like(tokens, dtype=bool), sd.encode(q, self.box), tokens)


@dataclass
class MazeTask:
    rows: int = 10
    cols: int = 10
    name: str = "maze"
    algorithm: str = "wilson"
    extra_open: float = 0.0

    def vocab(self) -> list[str]:
        return mz.vocab()

    @property
    def mask_id(self) -> int:
        return mz.MASK

    def model_fields(self, kind: str) -> dict:
        return {"task": "maze", "vocab_size": mz.VOCAB_SIZE, "mask_id": mz.MASK,
                "out_tokens": (mz.OFF, mz.ON), "rows": self.rows, "cols": self.cols,
                "paired": (kind == "mdm"), "rel_bias": "grid"}

    def encode(self, questions: list[np.ndarray]) -> np.ndarray:
        return np.stack([mz.encode(q) for q in questions])

    def arm_prompt(self, questions):
        t = self.encode(questions)
        L = self.rows * self.cols
        state = t[:, L:]
        return t[:, :L], np.where(state == mz.ON, mz.ON, -1)

    def arm_picks(self, questions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inputs of the path-order ARM: (prompt = structure half [N, L], filled = S [N, L],
        stop = G's cell [N]). A row ends when it names G: NFE = path cells after S."""
        L = self.rows * self.cols
        struct = self.encode(questions)[:, :L]
        return struct, struct // 16 == 1, np.argmax(struct // 16 == 2, axis=1)

    def pick_answers(self, picks: np.ndarray, questions) -> list[np.ndarray]:
        """Answer grids from path-cell picks [N, K] (-1: none): S, G and the picks marked."""
        L = self.rows * self.cols
        struct = self.encode(questions)[:, :L]
        state = np.where(struct >= 16, mz.ON, mz.OFF)
        rows, ks = np.nonzero(picks >= 0)
        state[rows, picks[rows, ks]] = mz.ON
        return self.decode(state, questions)

    def pick_batch(self, pool: dict, rng: np.random.Generator, size: int) -> Batch:
        """Path-order ARM batch: pool mazes under a random symmetry; answers are the path
        cells from S (excluded) to G, padded with -1."""
        b = self.batch(pool, rng, size)
        paths = [mz.path_cells(t, self.rows, self.cols) for t in b.tokens]
        return Batch(b.tokens, b.maskable, b.prompt, _padded(paths), b.prompt // 16 == 1)

    def decode(self, tokens: np.ndarray, questions) -> list[np.ndarray]:
        L = self.rows * self.cols
        if tokens.shape[1] == L:          # ARM output: the state half only
            tokens = np.concatenate([np.zeros_like(tokens), tokens], 1)
        return [mz.decode(t, q) for t, q in zip(tokens, questions)]

    def verify(self, questions, answers) -> tuple[np.ndarray, list[str]]:
        vs = [mz.verify(q, a) for q, a in zip(questions, answers)]
        return np.array([v.solved for v in vs]), [v.reason for v in vs]

    def depth(self, question) -> int | None:
        return mz.dead_end_depth(question)

    def conflicts(self, tokens: np.ndarray) -> np.ndarray:
        return mz.conflicts(tokens, self.rows, self.cols)

    RULES: tuple[str, ...] = ()         # no rules for mazes: the conflict check is all there is

    def make_pool(self, size: int, seed: int, kind: str = "wilson", workers: int = 1) -> dict:
        """``kind``: 'wilson' (S, G far apart, no loops) or 'mixed' (``mz.generate_mixed``,
        every generator, loops and endpoint rule, unique shortest paths); ``workers`` as for Sudoku."""
        if kind == "mixed":
            qs = pmap(partial(mz.generate_mixed, seed, rows=self.rows, cols=self.cols, unique_path=True),
                      range(size), workers)
        else:
            qs = [mz.generate_one(seed, i, self.rows, self.cols, algorithm=self.algorithm,
                                  extra_open=self.extra_open) for i in range(size)]
        toks = np.stack([mz.encode(q, mz.solve(q)) for q in qs])
        return {"tokens": toks}

    def batch(self, pool: dict, rng: np.random.Generator, size: int, **_) -> Batch:
        """Pool mazes under a random symmetry of the square (8 when rows == cols)."""
        t = pool["tokens"][rng.integers(len(pool["tokens"]), size=size)]
        L = self.rows * self.cols
        t = np.stack([mz.dihedral(row, self.rows, self.cols, int(rng.integers(8 if self.rows == self.cols else 4)))
                      for row in t])
        struct, state = t[:, :L], t[:, L:]
        maskable = np.concatenate([np.zeros_like(struct, bool), struct < 16], 1)  # S/G flags >= 16
        return Batch(t, maskable, struct, state)


TASKS = {"sudoku": SudokuTask, "maze": MazeTask}


def get_task(name: str):
    return TASKS[name]()


def read_questions(task, path: str):
    """(questions, answers or None) in the task's native form; raises ParseError."""
    if task.name == "sudoku":
        q, a, box = sd.read_file(path)
        if box != task.box:
            raise ParseError(path, 1, f"{box[0] * box[1]}x{box[0] * box[1]} grids, but the model "
                                      f"is for {task.n}x{task.n}")
        return q, a
    qs = mz.read_file(path)          # any size: the model's limits are checked where it is loaded
    ans = None
    if str(path).endswith(".csv"):
        try:
            ans = mz.read_file(path, answers=True)
        except ParseError:          # the answer column is optional
            ans = None
    return qs, ans
