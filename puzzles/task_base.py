"""What every task offers the models, samplers and entry points: the ``Task`` protocol and
the training ``Batch``. Entry points ask the task (``status``, ``grid_of``, ``display``...)
instead of branching on its name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


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
    fixed: np.ndarray | None = None     # MDM: [B] rows whose mask is ``mask``, not a uniform draw
    mask: np.ndarray | None = None      # MDM: [B, S] those rows' masks


def padded(rows: list[np.ndarray]) -> np.ndarray:
    """Answers of different lengths as one array [N, longest], padded with -1 (the ARM loss
    ignores it)."""
    out = np.full((len(rows), max(len(r) for r in rows)), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


class Task(Protocol):
    """The seam between puzzles and everything that decodes or trains on them."""
    name: str
    depth_name: str                    # "singles depth" / "dead-end depth"
    may_tie: bool                      # reports split solve rates by ``ties``
    RULES: tuple[str, ...]             # rules without forward passes (``rules``)
    VIEWS: int                         # symmetric views the search may use (``view``); 1: none

    def vocab(self) -> list[str]: ...
    @property
    def mask_id(self) -> int: ...
    def encode(self, questions) -> np.ndarray: ...
    def decode(self, tokens: np.ndarray, questions) -> list | np.ndarray: ...
    def verify(self, questions, answers) -> tuple[np.ndarray, list[str]]: ...
    def depth(self, question) -> int | None: ...
    def conflicts(self, tokens: np.ndarray) -> np.ndarray: ...
    def status(self, questions) -> list[str]:
        """'ok', or why a puzzle has no answer at all (not a model failure)."""
    def grid_of(self, question) -> tuple[int, int] | None:
        """The cells (rows, cols) of a question whose size may vary (mazes); None: one size."""
    def sized(self, rows: int, cols: int) -> Task:
        """This task at another grid size (``grid_of``)."""
    def gather(self, answers: list):
        """Answers of a decode, in the form ``verify`` and the writers take."""
    def ties(self, questions, status) -> np.ndarray:
        """True where several answers are correct (tied shortest paths); False elsewhere."""
    def display(self, question) -> dict:
        """The board layout a trace viewer draws (``solvers.trace``)."""
    def cells(self, tokens: np.ndarray) -> str:
        """A token row as one character per displayed cell: '.' masked."""
    def answer_cells(self, answer) -> str:
        """A verified answer in the characters of ``cells``."""
    def view(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Where ``VIEWS`` > 1: the k-th symmetry (k < VIEWS; 0 the identity) as (position
        permutation [L], token map [V]) taking any valid board to a valid board."""
