"""Greedy (or tempered) autoregressive decoding with a key/value cache.

NFE is counted as forward calls: the first call reads the whole prompt and yields the
first answer token, and each later call feeds one token, so an answer of n tokens costs
exactly n calls per row. Forced tokens (givens) are copied, not chosen, but still
cost their call.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

# step_fn(tokens [B, T], cache or None) -> (logits of the last position [B, V], cache)
StepFn = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@torch.no_grad()
def ar_decode(step_fn: StepFn, prompt: torch.Tensor, *, n_tokens: int,
              forced: torch.Tensor | None = None, temperature: float = 0.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    B = prompt.shape[0]
    out = []
    inp, cache = prompt, None
    t_start, model_s = time.perf_counter(), 0.0
    for k in range(n_tokens):
        t0 = time.perf_counter()
        logits, cache = step_fn(inp, cache)
        if logits.is_cuda:
            torch.cuda.synchronize()
        model_s += time.perf_counter() - t0
        logp = torch.log_softmax(logits.float(), -1)
        if temperature > 0:
            u = torch.rand(logp.shape, generator=generator).clamp_(1e-10, 1.0).to(logp.device)
            tok = (logp / temperature - torch.log(-torch.log(u))).argmax(-1)
        else:
            tok = logp.argmax(-1)
        if forced is not None:
            tok = torch.where(forced[:, k] >= 0, forced[:, k], tok)
        out.append(tok)
        inp = tok[:, None]
    total = time.perf_counter() - t_start
    return torch.stack(out, 1), {"nfe": torch.full((B,), n_tokens, dtype=torch.long),
                                 "tokens_per_step": [[1] * n_tokens for _ in range(B)],
                                 "model_seconds": model_s, "total_seconds": total,
                                 "overhead_seconds": total - model_s}


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
    B, C = filled.shape
    filled = filled.clone()
    active = (~filled).any(1)
    nfe = torch.zeros(B, dtype=torch.long)
    rows = torch.arange(B, device=filled.device)
    out, inp, cache = [], prompt, None
    t_start, model_s = time.perf_counter(), 0.0
    while active.any():
        t0 = time.perf_counter()
        logits, cache = step_fn(inp, cache)
        if logits.is_cuda:
            torch.cuda.synchronize()
        model_s += time.perf_counter() - t0
        logits = logits.float().view(B, C, n_values).masked_fill(filled[:, :, None], float("-inf")).view(B, -1)
        if temperature > 0:
            u = torch.rand(logits.shape, generator=generator).clamp_(1e-10, 1.0).to(logits.device)
            logits = torch.log_softmax(logits, -1) / temperature - torch.log(-torch.log(u))
        tok = logits.argmax(-1)
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
    total = time.perf_counter() - t_start
    toks = torch.stack(out, 1) if out else torch.zeros(B, 0, dtype=torch.long, device=prompt.device)
    return toks, {"nfe": nfe, "tokens_per_step": [[1] * int(k) for k in nfe],
                  "model_seconds": model_s, "total_seconds": total, "overhead_seconds": total - model_s}
