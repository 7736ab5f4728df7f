"""Best-first search (sampling.bestfirst) with stub models of known behaviour. Completeness
and the budget are tested beside the depth-first search's, in tests/test_search.py."""
import numpy as np
import pytest
import torch

from puzzles import sudoku as sd
from puzzles.tasks import SudokuTask
from sampling.bestfirst import best_first_decode
from sampling.dfs import dfs_decode
from sampling.rules import eb_select
from sampling.search import SearchOptions
from tests.test_search import MASK, TASK, RandomRankModel, check


class EarlyMistake:
    """A toy search tree: six binary cells (token 2 is MASK). The model decides cell 0
    first and is 95% sure of value 0, which is wrong: the check rejects any complete
    state with cell 0 = 0, so the mistake shows only at the leaves. Cells 1-5 are 90%
    sure of value 1, and any values complete a solution. Depth first undoes commits last
    in, first out, so all 32 leaves below the mistake come first. Best first weighs each
    open choice by its probability: after the single deviations below the mistake (each
    0.95 x 0.1 x 0.9^k > 0.05) it undoes the 95% commit, before any double deviation."""
    CELLS, MASK = 6, 2

    def __call__(self, x):
        t = torch.zeros(x.shape[0], self.CELLS, 3)
        t[:, 0, 0], t[:, 0, 1] = float(np.log(0.95)), float(np.log(0.05))
        t[:, 1:, 0], t[:, 1:, 1] = float(np.log(0.1)), float(np.log(0.9))
        t[:, 1:, 1] += 0.001 * torch.arange(self.CELLS - 1, 0, -1)     # cell 1 is decided next, then 2...
        t[..., 2] = float("-inf")
        return t

    @staticmethod
    def check(x):
        return (x[:, 0] == 0) & (x != EarlyMistake.MASK).all(1)


@pytest.mark.parametrize("dive", [True, False])
def test_a_confident_early_mistake_is_undone_before_the_uncertain_choices_below_it(dive):
    x = torch.full((1, EarlyMistake.CELLS), EarlyMistake.MASK)
    kw = {"mask_id": EarlyMistake.MASK, "select": eb_select(0.01), "check_fn": EarlyMistake.check,
          "budget": 10_000}
    best, st_best = best_first_decode(EarlyMistake(), x, **kw, dive=dive)
    deep, st_deep = dfs_decode(EarlyMistake(), x, **kw)
    for out in (best, deep):       # both are complete
        assert not EarlyMistake.check(out)[0] and (out != EarlyMistake.MASK).all() and out[0, 0] == 1
    assert int(st_deep["nfe"][0]) >= 32                 # every leaf below the mistake
    assert int(st_best["nfe"][0]) <= 20                 # measured 16 (depth first: 36)


class GradedOracle:
    """Right about every cell, more or less sure (cell by cell), so EB takes several steps."""

    def __init__(self, s):
        self.t = torch.zeros(81, 10)
        sure = torch.linspace(1.0, 9.0, 81)[torch.randperm(81, generator=torch.Generator().manual_seed(0))]
        self.t[torch.arange(81), torch.from_numpy(s.astype(np.int64) - 1)] = sure
        self.t[:, 9] = float("-inf")

    def __call__(self, x):
        return self.t.unsqueeze(0).expand(x.shape[0], -1, -1).clone()


def test_a_dive_costs_what_greedy_decoding_costs_when_the_model_is_right():
    from sampling.core import unmask_loop
    p, s = sd.generate_one(3, 0, clues=(28, 30))
    x = torch.from_numpy(TASK.encode(p[None]))
    plain, st_plain = unmask_loop(GradedOracle(s), x, mask_id=MASK, select=eb_select(0.5))
    out, st = best_first_decode(GradedOracle(s), x, mask_id=MASK, select=eb_select(0.5), check_fn=check)
    assert torch.equal(out, plain) and sd.verify(p[None], sd.decode(out.numpy())).solved[0]
    assert int(st["nfe"][0]) == int(st_plain["nfe"][0]) > 1 and st["tokens_per_step"] == st_plain["tokens_per_step"]


def test_batched_best_first_equals_per_puzzle_best_first():
    ps = np.stack([sd.generate_one(5, i, (2, 2), clues=(4, 6))[0] for i in range(6)])
    task = SudokuTask(box=(2, 2))
    x = torch.from_numpy(task.encode(ps))
    kw = {"mask_id": task.mask_id, "select": eb_select(0.5), "budget": 300,
          "check_fn": lambda t: torch.from_numpy(task.conflicts(t.numpy()))}
    batch, st = best_first_decode(RandomRankModel(16, 4, 1), x, **kw)
    for r in range(len(x)):
        alone, st1 = best_first_decode(RandomRankModel(16, 4, 1), x[r:r + 1], **kw)
        assert torch.equal(alone[0], batch[r]) and int(st1["nfe"][0]) == int(st["nfe"][r])


def test_best_first_with_propagate_fills_singles_without_forward_passes():
    from solvers.decode import torch_rules
    p, _s = sd.generate_one(11, 0, difficulty="guess", clues=(24, 30))
    x = torch.from_numpy(TASK.encode(p[None]))
    out, st = best_first_decode(RandomRankModel(81, 9, 4), x, mask_id=MASK, select=eb_select(0.1),
                                check_fn=check, rules_fn=torch_rules(TASK, "propagate"), budget=5000)
    assert sd.verify(p[None], sd.decode(out.numpy())).solved[0]
    assert int(st["nfe"][0]) < int((p == 0).sum())        # the rules did most of the filling


def test_best_first_options_are_checked():
    assert SearchOptions(search=True, strategy="best").strategy == "best"
    for bad in ({"strategy": "best"}, {"search": True, "strategy": "best", "repair": 2},
                {"search": True, "strategy": "best", "complete": True}):
        with pytest.raises(ValueError):
            SearchOptions(**bad)
    with pytest.raises(ValueError, match="temperature"):
        best_first_decode(RandomRankModel(81, 9, 0), torch.full((1, 81), MASK), mask_id=MASK,
                          select=eb_select(0.1), check_fn=check, temperature=0.5)
