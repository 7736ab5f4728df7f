"""The cell-naming ARMs' layout (order solver / path), mixed into ``PuzzleTransformer``:
positions carry the cells their tokens name, attention biases follow those cells, and the
pointer head reads a per-cell view of the board written so far.

``shape`` (r, c) is the grid read: the config's, or (``any_size`` path ARM) any grid up
to it. Cells are numbered in raster order of that grid, so a pick names one of its r * c
cells, and a model read at r x c computes what a fixed r x c model with the same weights
(its first r row and c column embeddings) computes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.config import cell_relation


class PickLayout:
    """``PuzzleTransformer``'s methods for cell-naming ARMs (a mixin; it uses the model's
    embeddings, blocks and heads)."""

    def _causal(self, L: int) -> torch.Tensor:
        """The [2L, 2L] attention mask of an L-cell grid (the buffer at the config's size)."""
        if L == self.cfg.cells:
            return self.causal
        cache = self.__dict__.setdefault("_causal_by_cells", {})     # built once per (size, device)
        key = (L, self.causal.device)
        if key not in cache:
            m = torch.ones(2 * L, 2 * L, dtype=torch.bool, device=self.causal.device).tril()
            if self.cfg.prefix:
                m[:L, :L] = True
            cache[key] = m
        return cache[key]

    def _pick_cells(self, x: torch.Tensor, start: int, L: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(cell [B, T], segment [T]) of tokens x fed at positions start.. (picks: id // values)."""
        p = torch.arange(start, start + x.shape[1], device=x.device)
        seg = (p >= L).long()
        cell = torch.where(seg.bool(), x.clamp_min(0) // self.cfg.pick_values, p % L)
        return cell, seg

    def _pick_embed(self, x: torch.Tensor, cell: torch.Tensor, seg: torch.Tensor, cols: int) -> torch.Tensor:
        v = self.val(x.clamp_min(0) % self.cfg.pick_values)
        t = self.tok(torch.where(seg.bool(), 0, x).clamp(0, self.cfg.vocab_size - 1))
        return torch.where(seg.bool()[:, None], v, t) + self._cell_emb(cell, seg.expand_as(cell), cols)

    def _pick_bias(self, cq, sq, ck, sk, q0: int, shape: tuple[int, int]) -> torch.Tensor:
        """Bias (B, h, T, S) from the cells of queries (cq [B, T], sq [T]) and keys (ck [B, S], sk [S])."""
        rel, n = cell_relation(self.cfg, cq[:, :, None], ck[:, None, :], cols=shape[1])
        rel = rel + n * (2 * sq[:, None] + sk[None])
        # F.embedding, not rel_bias[rel]: the same values, but on CUDA its backward sums
        # the per-example gradients by sorting, where indexing's backward serialises
        # millions of atomic adds onto a few dozen entries.
        b = F.embedding(rel, self.rel_bias).permute(0, 3, 1, 2)
        S = ck.shape[1]
        T = cq.shape[1]
        return b.masked_fill(~self._causal(shape[0] * shape[1])[q0:q0 + T, :S], float("-inf"))

    def _pick_forward(self, x: torch.Tensor, shape: tuple[int, int] | None = None) -> torch.Tensor:
        shape = self.checked_shape(shape)
        L = shape[0] * shape[1]
        cell, seg = self._pick_cells(x, 0, L)
        h = self._pick_embed(x, cell, seg, shape[1])
        bias = self._pick_bias(cell, seg, cell, seg, 0, shape)
        for blk in self.stack():
            h = blk(h, bias)
        if not self.pointer:
            return self._head(h)
        # position L-1+t predicts pick t and has read picks 0..t-1 (fed at L..L+t-1)
        g = self._board(h[:, L:], cell[:, L:], shape)                            # (B, K-1, L, dp)
        B, K1 = g.shape[:2]
        # board_t = sum of the picks before t: a strictly lower-triangular matmul over the
        # picks (measured 2.6x faster than cat + cumsum + transpose on the CPU, same sums)
        tri = torch.ones(K1 + 1, K1, device=g.device, dtype=g.dtype).tril(-1)
        board = (tri @ g.reshape(B, K1, -1)).reshape(B, K1 + 1, *g.shape[2:])   # (B, K, L, dp)
        out = self._head(h[:, L - 1:], h[:, :L], board)
        # prompt positions other than the last predict nothing in a cell-naming ARM
        return torch.cat([out.new_zeros(out.shape[0], L - 1, out.shape[2]), out], 1)

    def _board(self, hp: torch.Tensor, cp: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        """What picks (states hp [B, K, d], cells cp [B, K]) tell each cell c: a vector per
        (c, pick), gated by the relation between c and the picked cell (same row, column,
        box; grid offset) -> [B, K, L, dp]. Summed over the picks read so far, it is each
        cell's view of the board the ARM has written."""
        cells = torch.arange(shape[0] * shape[1], device=cp.device)
        rel, n = cell_relation(self.cfg, cells[None, None, :], cp[:, :, None], cols=shape[1])   # (B, K, L)
        p = self.ptr_pick(self.ln_f(hp))[:, :, None]
        if n <= 16:   # few relations (Sudoku's 8): the gate lookup as a one-hot matmul, whose
            # backward is a matmul too (the embedding's scatter-add backward was the slowest op)
            ids = torch.arange(n, device=rel.device)
            gate = (rel[..., None] == ids).to(p.dtype) @ self.ptr_rel.weight.to(p.dtype)
        else:
            gate = self.ptr_rel(rel)
        return gate * p
