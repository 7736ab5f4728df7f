"""Greedy (or tempered) autoregressive decoding with a key/value cache.

NFE is counted as forward calls: the first call reads the whole prompt and yields the
first answer token, and each later call feeds one token, so an answer of n tokens costs
exactly n calls per row. Forced tokens (givens) are copied, not chosen, but still
cost their call.
"""
from __future__ import annotations

import time
from typing import Callable

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
