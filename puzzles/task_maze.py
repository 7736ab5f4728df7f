"""The maze task: vocabulary, tokens, verification, depth, display and training batches."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np

from puzzles import maze as mz
from puzzles.pmap import pmap
from puzzles.task_base import Batch, padded


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
        return Batch(b.tokens, b.maskable, b.prompt, padded(paths), b.prompt // 16 == 1)

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

    RULES: ClassVar[tuple[str, ...]] = ()   # no rules for mazes: the conflict check is all there is
    VIEWS: ClassVar[int] = 4                # the symmetries that keep any shape (``view``)

    def view(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k-th symmetry that keeps the grid's shape as a token map (cell permutation
        [2 r c], token map [V]): 0 the identity, 1 a half turn, 2 a left-right mirror, 3 an
        up-down mirror (``mz.dihedral`` 0, 2, 4, 6). Passage bits turn with the grid; the
        S/G flags and the states keep their values. A view of tokens t is ``vmap[t[perm]]``."""
        d = (0, 2, 4, 6)[k]
        L = self.rows * self.cols
        at = np.arange(L).reshape(self.rows, self.cols)
        at = at[::-1, ::-1] if d in (2, 6) else at
        at = (at[:, ::-1] if d >= 4 else at).reshape(-1)
        vmap = np.arange(mz.VOCAB_SIZE)
        vmap[:mz.N_STRUCT] = [mz.dihedral(np.array([v, mz.MASK]), 1, 1, d)[0] for v in range(mz.N_STRUCT)]
        return np.concatenate([at, at + L]), vmap
    depth_name: ClassVar[str] = "dead-end depth"
    may_tie: ClassVar[bool] = True          # loops can make shortest paths tie (``ties``)

    def status(self, questions) -> list[str]:
        return ["ok" if mz.shortest_length(q) >= 0 else "no solution" for q in questions]

    def grid_of(self, question) -> tuple[int, int]:
        return question.shape[0] // 2, question.shape[1] // 2

    def sized(self, rows: int, cols: int) -> MazeTask:
        return self if (rows, cols) == (self.rows, self.cols) else dataclasses.replace(self, rows=rows, cols=cols)

    def gather(self, answers: list) -> list:
        return list(answers)

    def ties(self, questions, status) -> np.ndarray:
        """Several shortest S-G paths tie (any is accepted)."""
        return np.array([st == "ok" and mz.count_shortest_paths(q, cap=2) > 1 for q, st in zip(questions, status)],
                        dtype=bool)

    def display(self, question) -> dict:
        """Rows, cols, each cell's open sides (bits 1 N, 2 E, 4 S, 8 W, as in
        ``puzzles.maze.tokens``) and the S and G cells."""
        r, c = self.grid_of(question)
        struct = mz.encode(question)[:r * c]
        return {"kind": "maze", "rows": r, "cols": c, "open": (struct % 16).tolist(),
                "s_cell": int(np.argmax(struct // 16 == 1)), "g_cell": int(np.argmax(struct // 16 == 2))}

    def cells(self, tokens: np.ndarray) -> str:
        """The decoded half: '.' masked, '1' on the path, '0' off it."""
        half = np.asarray(tokens)[len(tokens) // 2:]
        return "".join(np.where(half == mz.MASK, ".", np.where(half == mz.ON, "1", "0")))

    def answer_cells(self, answer) -> str:
        cells = np.asarray(answer)[1::2, 1::2].reshape(-1)
        return "".join(np.where(np.isin(cells, (mz.PATH, mz.START, mz.GOAL)), "1", "0"))

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
        """Pool mazes under a random symmetry of the grid (8 when rows == cols, else the 4 that
        keep the shape)."""
        t = pool["tokens"][rng.integers(len(pool["tokens"]), size=size)]
        L = self.rows * self.cols
        t = np.stack([mz.dihedral(row, self.rows, self.cols, int(rng.integers(8)) if self.rows == self.cols
                                  else 2 * int(rng.integers(4))) for row in t])    # odd k would swap r and c
        struct, state = t[:, :L], t[:, L:]
        maskable = np.concatenate([np.zeros_like(struct, bool), struct < 16], 1)  # S/G flags >= 16
        return Batch(t, maskable, struct, state)
