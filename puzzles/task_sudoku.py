"""The Sudoku task: vocabulary, tokens, verification, depth, rules, display and training batches."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from puzzles import sudoku as sd
from puzzles.pmap import pmap
from puzzles.sudoku.generate import generate_minimal
from puzzles.task_base import Batch, padded


def _solver_rounds(qa, box):
    return sd.solver_rounds(qa[0], qa[1], box)


@dataclass
class SudokuTask:
    box: sd.Box = sd.DEFAULT_BOX
    name: str = "sudoku"
    depth_name = "singles depth"
    may_tie = False                         # the shipped sets have one solution each

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
        return Batch(sd.encode(np.stack(ans), self.box), q == 0, sd.encode(q, self.box), padded(picks), q > 0,
                     padded(rounds))

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

    def status(self, questions) -> list[str]:
        """'ok' (one solution, or several: any is accepted) or why there is none."""
        checks = (sd.check_puzzle(q, self.box) for q in questions)
        return ["ok" if c in ("ok", "several solutions") else c for c in checks]

    def grid_of(self, question) -> None:
        return None                     # one grid size per task (its box)

    def sized(self, rows: int, cols: int) -> SudokuTask:
        return self

    def gather(self, answers: list) -> np.ndarray:
        return np.stack(answers) if len(answers) else np.zeros((0, self.n * self.n), np.int8)

    def ties(self, questions, status) -> np.ndarray:
        return np.zeros(len(questions), bool)

    def display(self, question) -> dict:
        return {"kind": "sudoku", "n": self.n, "box": list(self.box)}

    def cells(self, tokens: np.ndarray) -> str:
        chars = np.array(list(self.vocab()[:-1]) + ["."])
        return "".join(chars[np.clip(tokens, 0, self.mask_id)])

    def answer_cells(self, answer) -> str:
        return "".join(self.vocab()[int(v) - 1] if v else "." for v in np.asarray(answer).reshape(-1))

    RULES = ("mask", "propagate")
    VIEWS = 8                               # symmetric views the search may restart in (``view``)

    def view(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k-th fixed symmetry of the grid as a token map: (cell permutation [L], token
        map [V]); a view of tokens t is ``vmap[t[perm]]``. View 0 is the identity; view k > 0
        is ``sd.random_symmetry`` drawn from seed k (band, row, stack and column permutations,
        relabelling, transpose), so a puzzle's views are the same in every run."""
        L = self.n * self.n
        if k == 0:
            return np.arange(L), np.arange(self.n + 1)
        perm, dmap = sd.random_symmetry(np.random.default_rng(k), self.box)
        return perm, np.append(dmap[1:].astype(np.int64) - 1, self.mask_id)   # digit d is token d - 1

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
