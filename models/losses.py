"""Training losses as pure functions of (model, batch, generator)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def mdm_loss(model, x0: torch.Tensor, maskable: torch.Tensor, *, mask_id: int,
             generator: torch.Generator | None = None, elbo_weight: bool = False,
             focal_gamma: float = 0.0, focal_alpha: float = 1.0,
             fixed: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Absorbing-state masked diffusion loss (Sahoo et al. 2024; Shi et al. 2024).

    x0 [B, S] clean tokens; maskable [B, S] marks the cells that are not givens. Each row
    draws t ~ U(0, 1) and masks every maskable cell with probability t; cross-entropy is
    taken on the masked cells only, so givens are never masked nor predicted.
    ``elbo_weight`` multiplies each row by 1/t (the continuous-time ELBO, eq. 10 of MDLM);
    by default every masked cell weighs the same, which trained faster here.

    ``focal_gamma > 0`` reweights each masked token toward the hard ones, as Ye et al.
    (ICLR 2025, "Beyond Autoregression", their token-level reweighting) do: a token with
    cross-entropy u weighs ``focal_alpha * (1 - exp(-u)) ** focal_gamma``, so tokens the
    model already predicts (u -> 0) fade and uncertain ones keep their weight. The
    weight is part of the loss (not detached), as in a focal loss.

    ``fixed`` = (rows [B] bool, masks [B, S] bool): those rows take the given mask (within
    ``maskable``) instead of drawing one; the loss treats their cells like any other.
    """
    B, S = x0.shape
    dev = x0.device
    t = torch.rand(B, 1, generator=generator, device="cpu").to(dev).clamp_min(1e-3)
    u = torch.rand(B, S, generator=generator, device="cpu").to(dev)
    mask = maskable & (u < t)
    if fixed is not None:
        mask = torch.where(fixed[0][:, None], fixed[1] & maskable, mask)
    xt = torch.where(mask, torch.full_like(x0, mask_id), x0)
    logits = model(xt)                                              # (B, S, V)
    ce = F.cross_entropy(logits.transpose(1, 2), x0, reduction="none")  # (B, S)
    if focal_gamma > 0:
        ce = focal_alpha * (1 - torch.exp(-ce)).pow(focal_gamma) * ce
    ce = ce * mask
    if elbo_weight:
        n = maskable.sum(1).clamp_min(1)
        return ((ce.sum(1) / t.squeeze(1)) / n).mean()
    return ce.sum() / mask.sum().clamp_min(1)


def arm_loss(model, prompt: torch.Tensor, answer: torch.Tensor, filled: torch.Tensor | None = None,
             pick_values: int = 0, groups: torch.Tensor | None = None) -> torch.Tensor:
    """Teacher-forced next-token loss on the answer of [prompt(L), answer(K)].

    Position L-1+k predicts answer[k], so the input is the sequence minus its last token.
    Answers of different lengths (solver and path orders) are padded with -1, which the
    loss ignores (and the causal mask keeps from every earlier position).

    Cell-naming ARMs (``filled`` [B, C]: the cells filled before the first pick, and
    ``pick_values`` values per cell): a token naming a cell that is already filled (a
    given, S, or an earlier pick) gets no probability, as in decoding
    (``sampling.pick_decode``), so the model never spends capacity on that structure.

    ``groups`` [B, K] (-1 padded): answer tokens with the same group id may come in any
    order (the solver's rounds: the fills of one round do not depend on each other). The
    target at step k is then the *set* of tokens left in k's group, answer[j] for j >= k
    with groups[j] == groups[k], and the loss is -log of the probability the model puts on
    that set. Groups of one token give the plain cross-entropy.
    """
    L = prompt.shape[1]
    seq = torch.cat([prompt, answer], 1)[:, :-1]
    logits = model(seq)[:, L - 1:]                                  # (B, K, V)
    if filled is not None:
        B, K = answer.shape
        C = filled.shape[1]
        picked = F.one_hot(answer.clamp_min(0) // pick_values, C).bool() & (answer >= 0)[..., None]
        before = torch.cumsum(picked.int(), 1) - picked.int()        # picks strictly before k
        taken = (filled[:, None, :] | (before > 0)) & (answer >= 0)[..., None]   # padding: nothing masked
        logits = logits.view(B, K, C, pick_values).masked_fill(taken[..., None], float("-inf")).view(B, K, -1)
    if groups is None:
        return F.cross_entropy(logits.transpose(1, 2), answer, ignore_index=-1)
    K = answer.shape[1]
    valid = answer >= 0
    logp = torch.log_softmax(logits.float(), -1)                               # (B, K, V)
    at = logp.gather(2, answer.clamp_min(0)[:, None, :].expand(-1, K, -1))    # [b, k, j] = logp[b, k, answer[j]]
    later = torch.ones(K, K, dtype=torch.bool, device=answer.device).triu()   # j >= k
    same = (groups[:, :, None] == groups[:, None, :]) & later & valid[:, None, :]
    nll = -torch.logsumexp(at.masked_fill(~same, float("-inf")), 2)           # (B, K)
    return nll[valid].mean()
