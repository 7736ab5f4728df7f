"""One transformer for both heads: a bidirectional MDM and a causal ARM.

The two differ only in the attention mask (and in their losses, see ``losses.py``).
Positions are grid-aware: a token's embedding is the sum of its symbol, row, column and
(Sudoku) box embeddings. Each attention head also adds a learned bias per *relation*
between two cells: for Sudoku whether they share a row, a column, a box (8 kinds); for
grids the clipped offset (dr, dc). This is what lets a 1M-parameter model learn the
rules within minutes on a CPU.

Sequence layouts (L = rows * cols cells):
    mdm, paired=False: [cells(L)]                       e.g. Sudoku digits or MASK
    mdm, paired=True : [structure(L), state(L)], folded to L positions by summing the two
                       embeddings of each cell (mazes: 100 positions, not 200 or 441)
    arm, raster      : [prompt(L), answer(L)], causal; the answer half is emitted in
                       raster order, one token per forward call (KV cache). With
                       ``prefix`` the prompt attends to itself both ways (a prefix LM);
                       every answer position still sees only what came before it.
    arm, solver/path : [prompt(L), picks(K)], causal; each answer token *names a cell*
                       (Sudoku: a (cell, value) pair, id cell*n + value-1; mazes: a path
                       cell), so the model picks where to write as well as what. A pick is
                       embedded as value + its cell's position; attention biases follow
                       the named cells, computed per example. ``pick_head='pointer'``
                       scores each (cell, value) from the last position's state and that
                       cell's prompt state instead of one linear map of the last state.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.block import Block
from models.config import ModelConfig, cell_relation, position_relations
from models.picks import PickLayout

__all__ = ["ModelConfig", "PuzzleTransformer", "param_count"]


class PuzzleTransformer(PickLayout, nn.Module):
    """``forward(x[B, S]) -> logits[B, S, V]``; ARM decoding uses ``step`` with a cache."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.d_model % cfg.n_heads:
            raise ValueError("n_heads must divide d_model")
        self.cfg = cfg
        d = cfg.d_model
        self.tok = nn.Embedding(cfg.vocab_size, d)
        self.row = nn.Embedding(cfg.rows, d)
        self.col = nn.Embedding(cfg.cols, d)
        self.box = nn.Embedding(cfg.rows, d) if cfg.box_rows else None
        self.seg = nn.Embedding(2, d) if cfg.kind == "arm" else None
        n_pos = 2 * cfg.cells if cfg.kind == "arm" else cfg.cells
        rel, n_rel = position_relations(cfg, n_pos)
        self.register_buffer("rel", rel, persistent=False)
        self.rel_bias = nn.Parameter(torch.zeros(n_rel, cfg.n_heads))
        causal = torch.ones(n_pos, n_pos, dtype=torch.bool).tril() if cfg.kind == "arm" else None
        if cfg.prefix:      # prefix LM: the prompt (first L positions) is read both ways
            causal[:cfg.cells, :cfg.cells] = True
        self.register_buffer("causal", causal, persistent=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.picks = cfg.n_picks > 0
        if self.picks:     # a pick's value embedding; its cell comes from the position embeddings
            self.val = nn.Embedding(cfg.pick_values, d)
        self.pointer = cfg.pick_head == "pointer"
        if self.pointer:   # score(t, c, v) = out(gelu(state(h_t) + cell(z_c) + board_t(c)))[v]
            dp = d // 2
            self.ptr_state = nn.Linear(d, dp, bias=False)
            self.ptr_cell = nn.Linear(d, dp)
            self.ptr_pick = nn.Linear(d, dp, bias=False)
            n_cell_rel = cell_relation(cfg, torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long))[1]
            self.ptr_rel = nn.Embedding(n_cell_rel, dp)
            self.head = nn.Linear(dp, cfg.pick_values)
        else:
            self.head = nn.Linear(d, cfg.n_picks if self.picks else cfg.vocab_size)
        allowed = torch.zeros(cfg.n_picks if self.picks else cfg.vocab_size, dtype=torch.bool)
        allowed[list(range(cfg.n_picks)) if self.picks else list(cfg.out_tokens)] = True
        self.register_buffer("blocked", ~allowed, persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def _pos(self, start: int, T: int, device) -> torch.Tensor:
        p = torch.arange(start, start + T, device=device)
        return self._cell_emb(p % self.cfg.cells, p // self.cfg.cells)  # (T, d)

    def _cell_emb(self, cell: torch.Tensor, seg: torch.Tensor | None, cols: int | None = None) -> torch.Tensor:
        cfg = self.cfg
        cols = cfg.cols if cols is None else cols
        r, c = cell // cols, cell % cols
        e = self.row(r) + self.col(c)
        if self.box is not None:
            e = e + self.box((r // cfg.box_rows) * (cfg.cols // cfg.box_cols) + c // cfg.box_cols)
        if self.seg is not None:
            e = e + self.seg(seg)
        return e

    def _bias(self, q0: int, T: int, S: int) -> torch.Tensor:
        """Additive attention bias (1, h, T, S) for queries q0..q0+T-1 over keys 0..S-1."""
        b = self.rel_bias[self.rel[q0:q0 + T, :S]].permute(2, 0, 1)    # (h, T, S)
        if self.causal is not None:
            b = b.masked_fill(~self.causal[q0:q0 + T, :S], float("-inf"))
        return b.unsqueeze(0)

    def stack(self) -> list:
        """The blocks in the order they run: the stack ``loops`` times, weights shared."""
        return list(self.blocks) * self.cfg.loops

    def _head(self, h: torch.Tensor, z: torch.Tensor | None = None, board: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, T, V] of hidden states h [B, T, d]; the pointer head also reads the
        prompt's last-layer states z [B, L, d], one per cell, and each cell's board vector
        [B, T, L, dp] (``_board``, summed over the picks read before each position)."""
        if self.pointer:
            B, T, _ = h.shape
            a = self.ptr_state(self.ln_f(h))[:, :, None] + self.ptr_cell(self.ln_f(z))[:, None] + board
            logits = self.head(F.gelu(a)).reshape(B, T, -1).float()
        else:
            logits = self.head(self.ln_f(h)).float()
        return logits.masked_fill(self.blocked[:logits.shape[-1]], float("-inf"))   # fewer cells: any_size

    def grid_shape(self, n_cells: int, shape: tuple[int, int] | None = None) -> tuple[int, int]:
        """The (rows, cols) of a paired input of ``n_cells`` cells: ``shape`` when given, else
        the config's grid, or (any_size) the square of that many cells. ValueError otherwise."""
        cfg = self.cfg
        if shape is None:
            side = round(n_cells ** 0.5)
            shape = (cfg.rows, cfg.cols) if n_cells == cfg.cells else (side, side)
        r, c = shape
        if r * c != n_cells:
            raise ValueError(f"{n_cells} cells do not form a {r}x{c} grid; pass shape=(rows, cols)")
        return self.checked_shape(shape)

    def checked_shape(self, shape: tuple[int, int] | None) -> tuple[int, int]:
        """``shape`` (default the config's grid) when the model reads it; ValueError otherwise."""
        cfg = self.cfg
        r, c = (cfg.rows, cfg.cols) if shape is None else shape
        if not cfg.reads_grid(r, c):
            raise ValueError(f"the model reads grids {cfg.grid_limit}, got {r}x{c}")
        return r, c

    def _grid_bias(self, r: int, c: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(position embeddings [r*c, d], attention bias [1, h, r*c, r*c]) of an r x c grid:
        the first r row and c column embeddings, and the clipped-offset bias per head."""
        cells = torch.arange(r * c, device=device)
        rel, _ = cell_relation(self.cfg, cells[:, None], cells[None], cols=c)
        pos = self.row(cells // c) + self.col(cells % c)
        return pos, self.rel_bias[rel].permute(2, 0, 1).unsqueeze(0)

    def at_shape(self, rows: int, cols: int):
        """``model_fn(x) -> logits`` for r x c grids (the samplers' contract; any_size models)."""
        shape = self.checked_shape((rows, cols))
        return lambda x: self(x, shape=shape)

    def step_at(self, rows: int, cols: int):
        """``step_fn(x, cache)`` for r x c grids (ARM decoding; any_size path ARMs)."""
        shape = self.checked_shape((rows, cols))
        return lambda x, cache: self.step(x, cache, shape=shape)

    def forward(self, x: torch.Tensor, shape: tuple[int, int] | None = None) -> torch.Tensor:
        cfg = self.cfg
        if self.cfg.paired:
            L = x.shape[1] // 2
            r, c = self.grid_shape(L, shape)
            struct, state = x[:, :L], x[:, L:]
            if (r, c) == (cfg.rows, cfg.cols):
                pos, bias = self._pos(0, L, x.device), self._bias(0, L, L)
            else:
                pos, bias = self._grid_bias(r, c, x.device)
            h = self.tok(struct) + self.tok(state) + pos
            for blk in self.stack():
                h = blk(h, bias)
            out = self._head(h)                                         # (B, L, V) for states
            # The structure half is given and never masked: echo it with certainty.
            given = torch.full_like(out, float("-inf")).scatter_(2, struct.unsqueeze(2), 0.0)
            return torch.cat([given, out], 1)                          # (B, 2L, V)
        if self.picks:
            return self._pick_forward(x, shape)
        T = x.shape[1]
        h = self.tok(x) + self._pos(0, T, x.device)
        bias = self._bias(0, T, T)
        for blk in self.stack():
            h = blk(h, bias)
        return self._head(h)

    def step(self, x: torch.Tensor, cache: list | None, shape: tuple[int, int] | None = None):
        """ARM incremental decoding: feed the next tokens, reuse keys/values.

        ``cache`` is None for the first call (the prompt), which fixes the grid ``shape``
        (cell-naming ARMs; default the config's). Returns (logits of the last fed position
        [B, V], cache).
        """
        if cache is None:
            cache = {"kv": [[None, None] for _ in self.stack()], "pos": 0, "cells": None, "segs": None,
                     "shape": self.checked_shape(shape) if self.picks else None}
        start = cache["pos"]
        T = x.shape[1]
        if self.picks:
            shape = cache["shape"]
            L = shape[0] * shape[1]
            cell, seg = self._pick_cells(x, start, L)
            h = self._pick_embed(x, cell, seg, shape[1])
            if cache["cells"] is not None:
                cache["cells"] = torch.cat([cache["cells"], cell], 1)
                cache["segs"] = torch.cat([cache["segs"], seg])
            else:
                cache["cells"], cache["segs"] = cell, seg
            bias = self._pick_bias(cell, seg, cache["cells"], cache["segs"], start, shape)
        else:
            h = self.tok(x) + self._pos(start, T, x.device)
            bias = self._bias(start, T, start + T)
        for blk, kv in zip(self.stack(), cache["kv"]):
            h = blk(h, bias, kv)
        cache["pos"] = start + T
        if self.pointer:
            if start == 0:      # the prompt's last-layer states, read by every later call
                cache["z"] = h[:, :L]
                cache["board"] = h.new_zeros(h.shape[0], L, self.ptr_rel.embedding_dim, dtype=torch.float32)
            k0 = max(L - start, 0)  # the picks among the fed tokens join the board
            if k0 < T:
                cache["board"] = cache["board"] + self._board(h[:, k0:], cell[:, k0:], shape).sum(1)
            return self._head(h[:, -1:], cache["z"], cache["board"][:, None])[:, 0], cache
        return self._head(h[:, -1]), cache

    @staticmethod
    def reorder_cache(cache: dict, rows: torch.Tensor) -> dict:
        """The ``step`` cache of the given batch rows (a row may repeat): beam search."""
        out = dict(cache, kv=[[k[rows], v[rows]] for k, v in cache["kv"]])
        for key in ("cells", "z", "board"):     # per-row; "segs" and "pos" are shared
            if out.get(key) is not None:
                out[key] = out[key][rows]
        return out


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
