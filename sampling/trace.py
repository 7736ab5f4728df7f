"""Step-by-step records of decoding, for the trace viewer (``solvers.trace``).

A ``Trace`` is handed to a decoder (``unmask_loop``, ``best_first_decode``); after each
forward pass the decoder calls it once per row with the state the pass read, the
log-probabilities, the masked positions and the positions it committed (a search also
calls it for an expansion that reused memoized logits, marked ``cached``: no NFE). The trace keeps
the first ``limit`` puzzles of a run (global ids set by ``begin`` for each batch), stores
only what a viewer needs (the state, the commits, the masked cells' entropies in float32)
and costs nothing when no trace is given. Puzzle-agnostic: token ids in, token ids out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from sampling.core import entropy


@dataclass
class Step:
    """One forward pass of one puzzle: the state it read, what it committed, the entropy
    (nats) of each masked position, in position order."""
    state: np.ndarray           # [S] token ids at the pass
    commit: np.ndarray          # [k] positions committed by this pass
    values: np.ndarray          # [k] their token ids
    masked: np.ndarray          # [m] masked positions at the pass
    h: np.ndarray               # [m] their entropies (float32)
    cached: bool = False        # a search's expansion whose logits came from its memo: no NFE


@dataclass
class Trace:
    """Records of the first ``limit`` puzzles (global ids 0..limit-1)."""
    limit: int = 100
    steps: dict[int, list[Step]] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)

    def begin(self, ids) -> None:
        """The global ids of the next batch's rows, in row order."""
        self.ids = list(ids)

    def wants(self, row: int) -> bool:
        return row < len(self.ids) and self.ids[row] < self.limit

    def __call__(self, row: int, state: torch.Tensor, logp: torch.Tensor, mask: torch.Tensor,
                 commit: torch.Tensor, proposal: torch.Tensor, cached: bool = False) -> None:
        """Record one pass of batch row ``row``: ``state`` [S], ``logp`` [S, V], ``mask``
        [S] bool (masked at the pass), ``commit`` [S] bool, ``proposal`` [S] (the values);
        ``cached``: the logits were a search's memo of this state (no forward pass)."""
        if not self.wants(row):
            return
        masked = mask.nonzero()[:, 0]
        cells = commit.nonzero()[:, 0]
        self.steps.setdefault(self.ids[row], []).append(Step(
            state=state.cpu().numpy().astype(np.int16), commit=cells.cpu().numpy(),
            values=proposal[cells].cpu().numpy().astype(np.int16), masked=masked.cpu().numpy(),
            h=entropy(logp[masked].float()).cpu().numpy().astype(np.float32), cached=cached))

    def record_batch(self, rows, state, logp, mask, commit, proposal) -> None:
        """``__call__`` for each batch row in ``rows`` (row i of the tensors is rows[i])."""
        for i, r in enumerate(rows):
            if self.wants(r):
                self(r, state[i], logp[i], mask[i], commit[i], proposal[i])
