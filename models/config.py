"""Architecture and token layout of a ``PuzzleTransformer`` (saved in every checkpoint as a
dict), and the cell relations its attention biases are indexed by."""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Architecture(BaseModel):
    """The architecture a training run chooses: defined once, here. ``ModelConfig`` (saved in
    every checkpoint) and the training config (``solvers.training.config.TrainConfig``, flat
    flags such as ``--d-model``) both inherit these fields and their checks."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    d_model: int = Field(128, gt=0, description="Transformer width (the residual stream).")
    n_layers: int = Field(6, gt=0, description="Transformer blocks.")
    n_heads: int = Field(4, gt=0, description="Attention heads; must divide d_model.")
    loops: int = Field(1, ge=1, description="Run the block stack this many times with shared weights "
                                            "(recurrent depth, as in TRM/HRM; loops x the compute, same "
                                            "parameters); 1 = a plain transformer.")
    order: Literal["raster", "solver", "path"] = Field(
        "raster", description="ARM answer order: raster (one token per cell) or cell-naming picks: "
                              "solver ((cell, value) pairs in the propagation solver's order, Sudoku), "
                              "path (path cells from S to G, mazes).")
    pick_head: Literal["linear", "pointer"] = Field(
        "linear", description="Cell-naming ARMs: score (cell, value) with one linear map of the last position "
                              "(linear), or per cell, from the last position and that cell's prompt position "
                              "(pointer: an additive attention score per value, as in pointer networks).")
    prefix: bool = Field(False, description="ARM: the prompt attends to itself both ways (a prefix LM, as "
                                            "an encoder reads its input); the answer stays causal.")

    def architecture(self) -> dict:
        """These fields' values, to build a ``ModelConfig`` from a training config."""
        return {k: getattr(self, k) for k in Architecture.model_fields}

    def reads_every_maze_size(self, kind: str) -> bool:
        """Whether a maze model of this architecture can read every size up to its largest
        (``any_size``): the MDM, and the path ARM with the pointer head."""
        return kind == "mdm" or (self.order == "path" and self.pick_head == "pointer")

    def _check_architecture(self, kind: str) -> None:
        """The checks across these fields; ``kind`` is 'mdm' or 'arm'. ValueError."""
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})")
        if self.pick_head == "pointer" and self.order == "raster":
            raise ValueError("pick_head 'pointer' is for the cell-naming ARMs (order solver or path)")
        if self.prefix and kind != "arm":
            raise ValueError("prefix is for ARMs (an MDM reads everything both ways)")


class ModelConfig(Architecture):
    """Architecture and token layout of one model; saved in every checkpoint."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["mdm", "arm"] = Field(description="Bidirectional masked diffusion model or causal ARM.")
    task: Literal["sudoku", "maze"] = Field(description="Which puzzle task the vocabulary belongs to.")
    vocab_size: int = Field(gt=1, description="Number of token ids, MASK included.")
    mask_id: int = Field(ge=0, description="Id of the MASK token.")
    out_tokens: tuple[int, ...] = Field(description="Ids the head may emit; all others get -inf logits.")
    rows: int = Field(gt=0, description="Cell rows of the grid.")
    cols: int = Field(gt=0, description="Cell columns of the grid.")
    box_rows: int = Field(0, ge=0, description="Sudoku box height (0: no box embedding).")
    box_cols: int = Field(0, ge=0, description="Sudoku box width (0: no box embedding).")
    paired: bool = Field(False, description="Input is [structure(L), state(L)] folded into L positions.")
    mlp_ratio: int = Field(4, gt=0, description="MLP hidden width as a multiple of d_model.")
    rel_bias: Literal["none", "sudoku", "grid"] = Field(
        "none", description="Per-head attention bias by cell relation: Sudoku units or grid offset.")
    grid_radius: int = Field(3, ge=1, description="Offsets beyond this radius share one bias (rel_bias='grid').")
    any_size: bool = Field(False, description="Maze MDM or path ARM (pointer head): rows and cols are the "
                                              "largest grid it reads; any r x c grid up to them is read with "
                                              "the first r row and c column embeddings and the same "
                                              "clipped-offset biases.")

    @model_validator(mode="after")
    def _consistent(self):
        self._check_architecture(self.kind)
        if not 0 <= self.mask_id < self.vocab_size or any(not 0 <= t < self.vocab_size for t in self.out_tokens):
            raise ValueError("mask_id and out_tokens must be ids below vocab_size")
        grid = self.rel_bias == "grid" and (self.paired or self.kind == "arm")
        if self.any_size and not (grid and self.reads_every_maze_size(self.kind)):
            raise ValueError("any_size is for the paired grid MDM or the path ARM with the pointer head (mazes)")
        if self.order != "raster" and (self.kind != "arm" or (self.order == "solver") != (self.task == "sudoku")):
            raise ValueError(f"order {self.order!r} needs an ARM for "
                             f"{'sudoku' if self.order == 'solver' else 'maze'}")
        return self

    def reads_grid(self, rows: int, cols: int) -> bool:
        """Whether the model reads an r x c grid: its own shape, or (any_size) any shape up to it."""
        if (rows, cols) == (self.rows, self.cols):
            return True
        return self.any_size and 1 <= rows <= self.rows and 1 <= cols <= self.cols

    @property
    def grid_limit(self) -> str:
        """The grids it reads, in words: 'up to 20x20' (any_size) or '10x10'."""
        return f"up to {self.rows}x{self.cols}" if self.any_size else f"{self.rows}x{self.cols}"

    @property
    def pick_values(self) -> int:
        """Values a pick token carries per cell: n digits (solver), 1 (path), 0 (raster)."""
        return {"raster": 0, "solver": len(self.out_tokens), "path": 1}[self.order]

    @property
    def n_picks(self) -> int:
        """Size of the pick head: cells * values (0 for raster)."""
        return self.cells * self.pick_values

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    @property
    def seq_len(self) -> int:
        """Length of the token sequence the model reads (before folding)."""
        return 2 * self.cells if (self.paired or self.kind == "arm") else self.cells


def cell_relation(cfg: ModelConfig, cq: torch.Tensor, ck: torch.Tensor,
                  cols: int | None = None) -> tuple[torch.Tensor, int]:
    """Relation ids between query cells ``cq[..., T, 1]`` and key cells ``ck[..., 1, S]``
    (broadcast), and the number of ids; cells are numbered in raster order of a grid
    ``cols`` wide (default the config's)."""
    cols = cfg.cols if cols is None else cols
    rq, cq_ = cq // cols, cq % cols
    rk, ck_ = ck // cols, ck % cols
    if cfg.rel_bias == "sudoku":
        def box(r, c):
            return (r // cfg.box_rows) * (cfg.cols // cfg.box_cols) + c // cfg.box_cols
        rel = (rq == rk).long() + 2 * (cq_ == ck_).long() + 4 * (box(rq, cq_) == box(rk, ck_)).long()
        return rel, 8
    if cfg.rel_bias == "grid":
        k = cfg.grid_radius
        dr = (rq - rk).clamp(-k, k) + k
        dc = (cq_ - ck_).clamp(-k, k) + k
        return dr * (2 * k + 1) + dc, (2 * k + 1) ** 2
    return torch.zeros(torch.broadcast_shapes(cq.shape, ck.shape), dtype=torch.long, device=cq.device), 1


def position_relations(cfg: ModelConfig, n_pos: int) -> tuple[torch.Tensor, int]:
    """Relation id [n_pos, n_pos] between sequence positions, and the number of ids."""
    pos = torch.arange(n_pos)
    cell, seg = pos % cfg.cells, pos // cfg.cells
    rel, n = cell_relation(cfg, cell[:, None], cell[None])
    if cfg.kind == "arm":   # prompt->prompt, prompt->answer, ... get their own biases
        rel = rel + n * (2 * seg[:, None] + seg[None])
        n *= 4
    return rel, n
