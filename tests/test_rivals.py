"""The samplers published after EB (sampling/rivals.py): KLASS, dilated unmasking, remasking."""
from __future__ import annotations

import pytest
import torch
from helpers import TableModel

from sampling import SAMPLERS, run_sampler
from sampling.rivals import dilated_pass
from sampling.search import check_decoding

NEG = float("-inf")


def _table(conf: list[float], V: int = 3) -> torch.Tensor:
    """Logits [S, V]: value 0 has probability conf[i] at position i, value 1 the rest; V-1 is MASK."""
    p = torch.tensor(conf)
    t = torch.stack([p.log(), (1 - p).log(), torch.full_like(p, NEG)], 1)
    return t[:, :V]


def test_klass_waits_one_pass_for_stability_then_takes_every_confident_position():
    model = TableModel(_table([0.99, 0.98, 0.97, 0.6, 0.55]))     # the same logits at every pass: KL 0
    x = torch.full((1, 5), 2)
    out, st = run_sampler("klass", model, x, mask_id=2, options={"tau": 0.9, "kl": 0.01})
    # pass 1: no previous pass, the most confident only; pass 2: the two other confident ones;
    # then the unconfident ones, one a pass (the fallback)
    assert st["tokens_per_step"][0] == [1, 2, 1, 1]
    assert int(st["nfe"][0]) == 4 and not (out == 2).any()


class Drifting:
    """Logits that move at every call: confident, never stable."""

    def __init__(self, S):
        self.S, self.calls = S, 0

    def __call__(self, x):
        self.calls += 1
        a = 0.95 if self.calls % 2 else 0.99
        return _table([a] * self.S).unsqueeze(0).expand(x.shape[0], -1, -1).clone()


def test_klass_does_not_commit_confident_positions_whose_prediction_moves():
    _out, st = run_sampler("klass", Drifting(4), torch.full((1, 4), 2), mask_id=2,
                          options={"tau": 0.9, "kl": 1e-4})
    assert st["tokens_per_step"][0] == [1, 1, 1, 1]


def test_dilated_schedule_spreads_each_pass_and_counts_log_passes():
    assert dilated_pass(8, 0).tolist() == [0, 3, 2, 3, 1, 3, 2, 3]
    assert dilated_pass(10, 4).tolist() == [0, 2, 1, 2, 3, 5, 4, 5, 6, 7]
    for n in (1, 2, 5, 9, 50, 64):
        p = dilated_pass(n, 0)
        assert int(p.max()) + 1 == (1 if n == 1 else (n - 1).bit_length() + 1)
    model = TableModel(_table([0.9] * 10))
    x = torch.full((2, 10), 2)
    x[1, :5] = 0                                         # row 1: 5 masked positions
    out, st = run_sampler("dilated", model, x, mask_id=2, options={"block": 4})
    assert st["tokens_per_step"][0] == [1, 1, 2, 1, 1, 2, 1, 1]
    assert st["tokens_per_step"][1] == [1, 1, 2, 1]       # blocks of 4 and 1
    assert st["nfe"].tolist() == [8, 4] and not (out == 2).any()


class Regret:
    """Position 0 looks like value 0 (p 0.9) while position 1 is masked; once position 1
    holds any value, the model gives position 0's value 0 probability 0.1 only. Position 2
    is the least certain, decoded last."""

    def __call__(self, x):
        b = x.shape[0]
        t = _table([0.9, 0.3, 0.4]).unsqueeze(0).repeat(b, 1, 1)
        later = x[:, 1] != 2
        t[later, 0] = _table([0.1])[0]
        return t


@pytest.mark.parametrize("budget, first", [(0, 0), (8, 1)])
def test_remask_masks_a_doubted_value_again_and_its_budget_bounds_it(budget, first):
    x = torch.full((1, 3), 2)
    out, st = run_sampler("remask", Regret(), x, mask_id=2,
                          options={"gamma": 0.0, "remask_tau": 0.5, "remask_budget": budget})
    assert int(out[0, 0]) == first
    assert int(st["nfe"][0]) == (3 if budget == 0 else 4)   # one more pass re-decides position 0
    assert not (out == 2).any()


def test_rivals_are_registered_and_refused_under_search():
    assert {"klass", "dilated", "remask"} <= set(SAMPLERS)
    with pytest.raises(ValueError, match="decodes only plainly"):
        check_decoding({}, {"search": True, "rules": "none"}, "klass")


def test_remask_budget_counts_down_per_puzzle():
    from sampling.rivals import remask_hook
    x0 = torch.full((2, 3), 2)
    hook = remask_hook(x0, mask_id=2, remask_tau=0.5, per_step=2, budget=3)
    logp = _table([0.1, 0.2, 0.9]).log_softmax(-1).unsqueeze(0).repeat(2, 1, 1)
    xa = torch.tensor([[0, 0, 0], [0, 0, 2]])
    got = [hook(logp, xa, torch.tensor([0, 1])).sum(1).tolist() for _ in range(3)]
    assert got == [[2, 2], [1, 1], [0, 0]]          # 2 doubted values a pass, 3 in all, then none
