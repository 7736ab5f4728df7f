"""Selection rules and the sampler registry.

Every sampler has the signature
``(model_fn, x, *, mask_id, <options>, generator) -> (x_out, stats)`` and is found by
name in ``SAMPLERS``; its options are the typed fields of ``OPTIONS[name]``.
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from sampling.core import entropy, error_proxy, rank_masked, take_prefix, unmask_loop

Proxy = Literal["entropy", "confidence", "margin"]


class _Opts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    temperature: float = Field(0.0, ge=0, description="0: argmax values; >0: draw values from p at this temperature.")


class EBOptions(_Opts):
    """Entropy-bounded unmasking (Ben-Hamu et al. 2025, Alg. 1)."""
    gamma: float = Field(0.01, ge=0, description="Bound on sum of entropies minus the largest (nats).")
    proxy: Proxy = Field("entropy", description="Error proxy that orders the positions.")


class TopKOptions(_Opts):
    """k positions per step, best first by the proxy (k=1, confidence: the top-1 baseline)."""
    k: int = Field(1, ge=1, description="Positions unmasked per step.")
    proxy: Proxy = Field("confidence", description="Error proxy that orders the positions.")


class ThresholdOptions(_Opts):
    """Fast-dLLM threshold: every position with confidence above tau, at least the best."""
    tau: float = Field(0.9, gt=0, le=1, description="Confidence threshold.")


class RandomOptions(_Opts):
    """Vanilla MDM: uniformly random positions, spread evenly over a fixed step count."""
    steps: int = Field(16, ge=1, description="Number of decoding steps (NFE) per puzzle.")


def eb_select(gamma=0.01, proxy="entropy"):
    """Unmask the longest best-first prefix U with sum_U H - max_U H <= gamma (eq. 8).

    Along the sorted order, cumsum(H) - cummax(H) never decreases, so the admissible
    set is a prefix and its length is a count; at least one position is always taken.
    """
    def select(logp, mask, step, gen):
        order, msorted = rank_masked(error_proxy(logp, proxy), mask)
        # float64: in float32, 0.69 + 1e-11 - 0.69 rounds to 0 and gamma = 0 would take two.
        h = entropy(logp).double().gather(1, order).masked_fill(~msorted, 0.0)
        ok = (h.cumsum(1) - h.cummax(1).values <= gamma) & msorted
        return take_prefix(order, ok.sum(1), mask)
    return select


def topk_select(k=1, proxy="confidence"):
    def select(logp, mask, step, gen):
        order, _ = rank_masked(error_proxy(logp, proxy), mask)
        return take_prefix(order, torch.full((mask.shape[0],), k, device=mask.device), mask)
    return select


def threshold_select(tau=0.9):
    def select(logp, mask, step, gen):
        conf = logp.max(-1).values.exp()
        order, _ = rank_masked(-conf, mask)
        best = take_prefix(order, torch.ones(mask.shape[0], dtype=torch.long, device=mask.device), mask)
        return best | (mask & (conf > tau))
    return select


def random_select(steps=16):
    """Uniformly random positions; ceil(left / steps left) per step finishes in ``steps``.

    The step index is per row here (rows that join late are not special: every row
    starts together), so a row ends after exactly min(steps, #masked) calls."""
    def select(logp, mask, step, gen):
        left = mask.sum(1)
        k = torch.ceil(left.float() / max(steps - step, 1)).long()
        noise = torch.rand(mask.shape, generator=gen).to(mask.device)
        order, _ = rank_masked(noise, mask)
        return take_prefix(order, k, mask)
    return select


SELECTS = {"eb": eb_select, "topk": topk_select, "threshold": threshold_select, "random": random_select}


def make_select(name: str, options: dict):
    """The selection rule of sampler ``name`` with its (validated) options, temperature aside."""
    opts = OPTIONS[name](**options).model_dump()
    opts.pop("temperature")
    return SELECTS[name](**opts)


def eb_sample(model_fn, x, *, mask_id, gamma=0.01, proxy="entropy", temperature=0.0, generator=None, trace=None):
    """Entropy-bounded sampler (Ben-Hamu et al. 2025)."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=eb_select(gamma, proxy),
                       temperature=temperature, generator=generator, trace=trace)


def topk_sample(model_fn, x, *, mask_id, k=1, proxy="confidence", temperature=0.0, generator=None, trace=None):
    """k positions per step, best first by the proxy."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=topk_select(k, proxy),
                       temperature=temperature, generator=generator, trace=trace)


def threshold_sample(model_fn, x, *, mask_id, tau=0.9, temperature=0.0, generator=None, trace=None):
    """Fast-dLLM confidence threshold."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=threshold_select(tau),
                       temperature=temperature, generator=generator, trace=trace)


def random_sample(model_fn, x, *, mask_id, steps=16, temperature=0.0, generator=None, trace=None):
    """Vanilla MDM: random positions on a fixed step schedule."""
    return unmask_loop(model_fn, x, mask_id=mask_id, select=random_select(steps),
                       temperature=temperature, generator=generator, trace=trace)


SAMPLERS = {"eb": eb_sample, "topk": topk_sample, "threshold": threshold_sample, "random": random_sample}
OPTIONS: dict[str, type[_Opts]] = {"eb": EBOptions, "topk": TopKOptions,
                                   "threshold": ThresholdOptions, "random": RandomOptions}
# The rules a search can drive (it calls them without row ids and writes only masks).
SEARCHABLE = ("eb", "topk", "threshold", "random")


def _register_rivals() -> None:
    from sampling import rivals
    SAMPLERS.update(klass=rivals.klass_sample, dilated=rivals.dilated_sample, remask=rivals.remask_sample)
    OPTIONS.update(klass=rivals.KLASSOptions, dilated=rivals.DilatedOptions, remask=rivals.RemaskOptions)


_register_rivals()


def run_sampler(name: str, model_fn, x, *, mask_id: int, options: BaseModel | dict | None = None,
                generator: torch.Generator | None = None, trace=None):
    """Look up ``name``, validate its options, and decode (``trace``: a
    ``sampling.trace.Trace`` recording every pass, or None)."""
    if name not in SAMPLERS:
        raise KeyError(f"unknown sampler {name!r}; choose from {sorted(SAMPLERS)}")
    opts = options if isinstance(options, BaseModel) else OPTIONS[name](**(options or {}))
    return SAMPLERS[name](model_fn, x, mask_id=mask_id, generator=generator, trace=trace, **opts.model_dump())


