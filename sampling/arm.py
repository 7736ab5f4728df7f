"""Greedy (or tempered) autoregressive decoding with a key/value cache.

NFE is counted as forward calls: the first call reads the whole prompt and yields the
first answer token, and each later call feeds one token, so an answer of n tokens costs
exactly n calls per row. Forced tokens (givens) are copied, not chosen, but still
cost their call.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from sampling.core import Clock, propose

# step_fn(tokens [B, T], cache or None) -> (logits of the last position [B, V], cache)
StepFn = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@torch.no_grad()
def ar_decode(step_fn: StepFn, prompt: torch.Tensor, *, n_tokens: int,
              forced: torch.Tensor | None = None, temperature: float = 0.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    B = prompt.shape[0]
    out = []
    inp, cache, clock = prompt, None, Clock()
    for k in range(n_tokens):
        logits, cache = clock.run(step_fn, inp, cache)
        tok = propose(torch.log_softmax(logits.float(), -1), temperature, generator)
        if forced is not None:
            tok = torch.where(forced[:, k] >= 0, forced[:, k], tok)
        out.append(tok)
        inp = tok[:, None]
    return torch.stack(out, 1), clock.stats(torch.full((B,), n_tokens, dtype=torch.long),
                                            [[1] * n_tokens for _ in range(B)])


def mask_filled(logits: torch.Tensor, filled: torch.Tensor, n_values: int) -> torch.Tensor:
    """Float logits [B, C * n_values] with every token naming a filled cell at -inf."""
    B, C = filled.shape
    return logits.float().view(B, C, n_values).masked_fill(filled[:, :, None], float("-inf")).view(B, -1)


@torch.no_grad()
def pick_decode(step_fn: StepFn, prompt: torch.Tensor, *, filled: torch.Tensor, n_values: int,
                stop: torch.Tensor | None = None, temperature: float = 0.0,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    """Decoding for ARMs whose tokens *name a cell* (id = cell * n_values + value): greedy,
    or drawn at ``temperature`` > 0 (Gumbel-max over the allowed tokens).

    ``filled`` [B, C] marks cells already decided; a token naming a filled cell gets no
    probability, so no cell is emitted twice and no given is overwritten. That is the
    output's structure, not a rule of any puzzle. A row ends when no cell is left, or
    when it names its ``stop`` cell [B] (a maze's G). NFE counts the calls that emitted a
    token for that row, the prompt's prefill included: one call per emitted token.
    Returns (tokens [B, K], -1 after a row ended; stats).
    """
    B = filled.shape[0]
    filled = filled.clone()
    active = (~filled).any(1)
    nfe = torch.zeros(B, dtype=torch.long)
    rows = torch.arange(B, device=filled.device)
    out, inp, cache, clock = [], prompt, None, Clock()
    while active.any():
        logits, cache = clock.run(step_fn, inp, cache)
        tok = propose(torch.log_softmax(mask_filled(logits, filled, n_values), -1), temperature, generator)
        cell = tok // n_values
        nfe += active.cpu().long()
        tok = torch.where(active, tok, -1)
        out.append(tok)
        filled[rows[active], cell[active]] = True
        done = ~(~filled).any(1)
        if stop is not None:
            done |= cell == stop
        active &= ~done
        inp = tok.clamp_min(0)[:, None]
    toks = torch.stack(out, 1) if out else torch.zeros(B, 0, dtype=torch.long, device=prompt.device)
    return toks, clock.stats(nfe, [[1] * int(k) for k in nfe])


# reorder_fn(cache, rows [R]) -> the cache of those rows (a row may repeat)
ReorderFn = Callable[[object, torch.Tensor], object]


@torch.no_grad()
def pick_beam_decode(step_fn: StepFn, reorder_fn: ReorderFn, prompt: torch.Tensor, *, filled: torch.Tensor,
                     n_values: int, beam: int, stop: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """Beam search for ARMs whose tokens name a cell, as in ``pick_decode``: each puzzle
    keeps the ``beam`` token sequences of highest summed log-probability (the log-softmax
    over the tokens allowed after masking filled cells), and answers with the best one
    that finished. No puzzle rule and no verifier is consulted: the choice is the model's.

    All beams of all puzzles share one batch: each call feeds B x beam rows. NFE counts
    every row a puzzle feeds, so a puzzle costs ``beam`` x (its calls): the compute it
    used, comparable with the MDM's search NFE. ``beam`` = 1 is ``pick_decode`` (greedy).
    Returns (tokens [B, K], -1 after a row ended; stats), as ``pick_decode``.
    """
    B, C = filled.shape
    k, V = beam, C * n_values
    dev = filled.device
    clock = Clock()
    logits, cache = clock.run(step_fn, prompt, None)                 # the prompt once per puzzle, then k copies
    rep = torch.arange(B, device=dev).repeat_interleave(k)
    logits, cache = logits[rep], reorder_fn(cache, rep)
    filled = filled[rep].clone()
    active = (~filled).any(1)
    score = torch.full((B, k), float("-inf"), device=dev)
    score[:, 0] = 0.0                                   # one live beam to start: no duplicates
    calls = torch.zeros(B, dtype=torch.long)
    hist = torch.zeros(B * k, 0, dtype=torch.long, device=dev)
    base = (torch.arange(B, device=dev) * k)[:, None]
    while active.any():
        calls += active.view(B, k).any(1).cpu().long()
        logp = torch.log_softmax(mask_filled(logits, filled, n_values), -1)
        logp = torch.nan_to_num(logp, nan=float("-inf"))    # a row with no allowed token
        # a finished row continues with one dummy token at no cost, so it keeps its score
        logp = torch.where(active[:, None], logp, torch.full_like(logp, float("-inf")))
        logp[~active, 0] = 0.0
        cand = (score[:, :, None] + logp.view(B, k, V)).view(B, k * V)
        score, idx = cand.topk(k, dim=1)
        src = (base + idx // V).view(-1)
        tok = (idx % V).view(-1)
        was_active = active[src]
        tok = torch.where(was_active, tok, -1)
        hist = torch.cat([hist[src], tok[:, None]], 1)
        filled, cache = filled[src], reorder_fn(cache, src)
        cell = tok.clamp_min(0) // n_values
        rows = torch.nonzero(was_active)[:, 0]
        filled[rows, cell[rows]] = True
        done = ~(~filled).any(1)
        if stop is not None:
            done |= was_active & (cell == stop[src // k])
        active = was_active & ~done
        if active.any():
            logits, cache = clock.run(step_fn, tok.clamp_min(0)[:, None], cache)
    best = score.argmax(1)                              # topk keeps beams sorted; argmax to be plain
    toks = hist.view(B, k, -1)[torch.arange(B, device=dev), best]
    steps = (toks >= 0).sum(1).cpu()
    return toks, clock.stats(calls * k, [[1] * int(n) + [0] * int(c * k - n) for n, c in zip(steps, calls)])
