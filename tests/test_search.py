"""The search (sampling.search.best_first_decode) with stub models of known behaviour."""
import signal

import numpy as np
import pytest
import torch

from puzzles import sudoku as sd
from puzzles.tasks import SudokuTask
from sampling.core import memo_forward, unmask_loop
from sampling.rules import eb_select, topk_select
from sampling.search import SearchOptions, best_first_decode, check_decoding
from solvers.decode import torch_rules

TASK = SudokuTask()
MASK = TASK.mask_id


def check(x):
    return torch.from_numpy(TASK.conflicts(x.numpy()))


def solved(p, out, box=(3, 3)):
    return sd.verify(np.atleast_2d(p), sd.decode(out.numpy(), box), box).solved


class CandidateModel:
    """Uniform over the digits its filled peers allow: a propagation-only 'model' that
    stalls exactly where a guess is needed."""

    def __call__(self, x):
        g = sd.decode(x.numpy())
        out = np.full((len(g), 81, 10), -30.0, dtype=np.float32)
        geo = sd.geometry()
        for r, grid in enumerate(g):
            for c in range(81):
                for d in set(range(1, 10)) - {grid[p] for p in geo.peers[c]}:
                    out[r, c, d - 1] = 0.0
        return torch.from_numpy(out)


class PlantedErrorModel:
    """Sure of the solution everywhere except one cell, where it prefers a wrong digit
    (that cell is also the least confident, so it is decided last)."""

    def __init__(self, solution, cell, wrong):
        self.t = torch.full((81, 10), -20.0)
        self.t[torch.arange(81), torch.from_numpy(solution.astype(np.int64) - 1)] = 10.0
        self.t[cell] = -20.0
        self.t[cell, wrong - 1] = 2.0
        self.t[cell, solution[cell] - 1] = 1.5

    def __call__(self, x):
        return self.t.unsqueeze(0).expand(x.shape[0], -1, -1).clone()


class RandomRankModel:
    """Ranks the values of every cell at random, the same ranking whatever the input:
    a model that knows nothing, so only a complete search can solve with it."""

    def __init__(self, cells, values, seed):
        g = torch.Generator().manual_seed(seed)
        self.t = torch.randn(cells, values + 1, generator=g) * 3
        self.t[:, values] = float("-inf")             # MASK is never predicted

    def __call__(self, x):
        return self.t.unsqueeze(0).expand(x.shape[0], -1, -1).clone()


class Spy:
    """Records every row state the model is run on."""

    def __init__(self, model):
        self.model, self.states = model, []

    def __call__(self, x):
        self.states.extend(r.tobytes() for r in x.numpy())
        return self.model(x)


@pytest.fixture(scope="module")
def hard():
    return sd.generate_one(11, 0, difficulty="guess", clues=(24, 30))


def test_a_planted_error_is_undone_and_its_value_banned():
    p, s = sd.generate_one(2, 0)
    cell = int(np.flatnonzero(p == 0)[0])
    peer = next(q for q in sd.geometry().peers[cell] if p[q] != 0)
    m = Spy(PlantedErrorModel(s, cell, int(p[peer])))
    x = torch.from_numpy(TASK.encode(p[None]))
    kw = {"mask_id": MASK, "select": topk_select(1), "check_fn": check}
    plain, _ = best_first_decode(m, x, **kw, search=False)
    assert not solved(p, plain)[0]                     # without search the descent stops at the conflict
    fixed, st = best_first_decode(m, x, **kw)
    assert solved(p, fixed)[0] and st["backtracks"][0] >= 1
    assert int(st["nfe"][0]) == int((p == 0).sum())    # the ban reused its node's logits: no extra pass
    m.states.clear()                                   # EB commits many cells a step; the bad one is undone alone
    fixed, st = best_first_decode(m, x, mask_id=MASK, select=eb_select(100.0), check_fn=check)
    assert solved(p, fixed)[0] and int(st["nfe"][0]) <= 3 and len(m.states) == int(st["nfe"][0])


def test_memo_forward_runs_only_rows_at_a_state_they_have_not_evaluated():
    spy = Spy(RandomRankModel(81, 9, 0))
    x = torch.from_numpy(TASK.encode(np.stack([sd.generate_one(3, i)[0] for i in range(3)])))
    memos = [{} for _ in range(3)]
    first, ran = memo_forward(spy, x, memos)
    assert ran == [0, 1, 2] and len(spy.states) == 3
    y = x.clone()
    y[1, int((y[1] == MASK).nonzero()[0, 0])] = 0
    again, ran = memo_forward(spy, y, memos)
    assert ran == [1] and len(spy.states) == 4           # rows 0 and 2 reuse their logits
    assert torch.equal(again[[0, 2]], first[[0, 2]]) and torch.equal(again[1], spy.model(y[1:2])[0].float())
    back, ran = memo_forward(spy, x, memos)              # row 1 back at an earlier state, not its last
    assert ran == [] and len(spy.states) == 4 and torch.equal(back, first)
    swapped, ran = memo_forward(spy, x[[1, 0, 2]], memos)   # a row reuses only its own states
    assert ran == [0, 1] and torch.equal(swapped[2], first[2])


def test_search_solves_a_guess_puzzle_with_a_propagation_stub(hard):
    p, _s = hard
    x = torch.from_numpy(TASK.encode(p[None]))
    kw = {"mask_id": MASK, "select": eb_select(0.0), "check_fn": check, "budget": 2000}
    plain, _ = best_first_decode(CandidateModel(), x, **kw, search=False)
    assert not solved(p, plain)[0]                     # the stub alone cannot guess
    out, st = best_first_decode(CandidateModel(), x, **kw)
    assert solved(p, out)[0] and st["branches"][0] >= 1


@pytest.mark.parametrize("model", ["candidates", "random"])
@pytest.mark.parametrize("budget", [1, 7, 40])
def test_search_never_exceeds_its_budget_and_keeps_givens(budget, model):
    ps = np.stack([sd.generate_one(5, i, clues=(30, 34))[0] for i in range(3)])
    x = torch.from_numpy(TASK.encode(ps))
    limits = torch.tensor([budget, budget + 3, 2 * budget])
    m = Spy(CandidateModel() if model == "candidates" else RandomRankModel(81, 9, 2))
    out, st = best_first_decode(m, x, mask_id=MASK, select=eb_select(0.1), check_fn=check, budget=limits)
    assert (st["nfe"] <= limits).all() and int(st["nfe"].sum()) == len(m.states)
    g = sd.decode(out.numpy())
    assert ((ps == 0) | (g == ps)).all() and (g > 0).all()


@pytest.mark.parametrize("box,clues,n_puzzles", [((2, 2), (4, 6), 12), ((3, 3), (58, 62), 3)])
def test_search_is_complete_with_a_model_that_knows_nothing(box, clues, n_puzzles):
    # A fixed random ranking and no rules: only undoing commits can solve these.
    task = SudokuTask(box=box)
    ps = np.stack([sd.generate_one(5, i, box, clues=clues)[0] for i in range(n_puzzles)])
    n = box[0] * box[1]
    model = Spy(RandomRankModel(n * n, n, 0))
    out, st = best_first_decode(model, torch.from_numpy(task.encode(ps)), mask_id=task.mask_id,
                                select=eb_select(0.1), check_fn=lambda t: torch.from_numpy(task.conflicts(t.numpy())),
                                budget=100_000)
    assert solved(ps, out, box).all() and sum(st["backtracks"]) > 0
    # every forward pass counted, and no state evaluated twice (distinct puzzles share none)
    assert int(st["nfe"].sum()) == len(model.states) == len(set(model.states))


def test_batched_search_equals_per_puzzle_search(hard):
    task = SudokuTask(box=(2, 2))
    ps = np.stack([sd.generate_one(5, i, (2, 2), clues=(4, 6))[0] for i in range(6)])
    x = torch.from_numpy(task.encode(ps))
    kw = {"mask_id": task.mask_id, "select": eb_select(0.5), "budget": 300,
          "check_fn": lambda t: torch.from_numpy(task.conflicts(t.numpy()))}
    batch, st = best_first_decode(RandomRankModel(16, 4, 1), x, **kw)
    for r in range(len(x)):
        alone, st1 = best_first_decode(RandomRankModel(16, 4, 1), x[r:r + 1], **kw)
        assert torch.equal(alone[0], batch[r]) and int(st1["nfe"][0]) == int(st["nfe"][r])


def test_rules_mask_keeps_the_true_value_and_propagate_fills_the_singles():
    from puzzles.sudoku.rules import propagate
    ps, sols = zip(*(sd.generate_one(8, i) for i in range(20)))
    ps, sols = np.stack(ps), np.stack(sols)
    t = TASK.encode(ps)
    _, allowed, failed = TASK.rules("mask", t)
    assert not failed.any()
    assert allowed[np.arange(20)[:, None], np.arange(81)[None], sols - 1].all()   # truth never masked
    filled, _allowed_p, failed_p = TASK.rules("propagate", t)
    assert not failed_p.any()
    g = sd.decode(filled)
    assert ((g == 0) | (g == sols)).all()
    for p, row in zip(ps, g):                        # exactly the singles' fixed point
        assert ((row > 0).all()) == (sd.singles_depth(p) is not None)
    g2, _ = propagate(g)
    assert (g2 == g).all()                           # a fixed point


def test_propagate_fills_singles_without_forward_passes(hard):
    p, _ = hard
    x = torch.from_numpy(TASK.encode(p[None]))
    out, st = best_first_decode(RandomRankModel(81, 9, 4), x, mask_id=MASK, select=eb_select(0.1),
                                check_fn=check, rules_fn=torch_rules(TASK, "propagate"), budget=5000)
    assert solved(p, out)[0]
    assert int(st["nfe"][0]) < int((p == 0).sum())        # the rules did most of the filling


class FlatModel:
    """The same distribution for every cell: every masked cell ties in entropy."""

    def __call__(self, x):
        t = torch.full((x.shape[0], 81, 10), -1e9)
        t[..., :9] = torch.linspace(0.0, 1.0, 9)
        return t


def test_a_step_always_commits_even_when_entropies_tie():
    # A step that committed nothing would leave the state as it was and, with its logits
    # reused, repeat forever at no NFE. Guarded by an alarm.
    p = sd.generate_one(5, 0, clues=(30, 34))[0]
    x = torch.from_numpy(TASK.encode(p[None]))
    signal.alarm(60)
    try:
        out, st = best_first_decode(FlatModel(), x, mask_id=MASK, select=eb_select(0.01), check_fn=check, budget=50)
    finally:
        signal.alarm(0)
    assert int(st["nfe"][0]) <= 50 and (out != MASK).all()


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
    p, s = sd.generate_one(3, 0, clues=(28, 30))
    x = torch.from_numpy(TASK.encode(p[None]))
    plain, st_plain = unmask_loop(GradedOracle(s), x, mask_id=MASK, select=eb_select(0.5))
    out, st = best_first_decode(GradedOracle(s), x, mask_id=MASK, select=eb_select(0.5), check_fn=check)
    assert torch.equal(out, plain) and solved(p, out)[0]
    assert int(st["nfe"][0]) == int(st_plain["nfe"][0]) > 1 and st["tokens_per_step"] == st_plain["tokens_per_step"]


def test_option_constraints():
    assert SearchOptions(search=True, search_budget=5).search_budget == 5
    for bad in ({"search_budget": 0}, {"rules": "guess"}, {"repair": 2}, {"strategy": "best"}):
        with pytest.raises(ValueError):
            SearchOptions(**bad)
    check_decoding({"temperature": 0.5}, None)                        # plain decoding may sample
    for sampler, opts, guided, match in (
            ("eb", {"temperature": 0.5}, {"search": True, "rules": "none"}, "greedily"),
            ("eb", {"temperature": 0.5}, {"search": False, "rules": "mask"}, "greedily"),
            ("klass", {}, {"search": True, "rules": "none"}, "plainly"),
            ("ar", {}, {"search": False, "rules": "propagate"}, "MDM")):
        with pytest.raises(ValueError, match=match):
            check_decoding(opts, guided, sampler)


class EarlyMistake:
    """A toy search tree: six binary cells (token 2 is MASK). The model decides cell 0
    first and is 95% sure of value 0, which is wrong: the check rejects any complete
    state with cell 0 = 0, so the mistake shows only at the leaves. Cells 1-5 are 90%
    sure of value 1, and any values complete a solution. A depth-first order undoes
    commits last in, first out: all 32 leaves below the mistake first. Best first weighs
    each open choice by its probability: after the single deviations below the mistake
    (each 0.95 x 0.1 x 0.9^k > 0.05) it undoes the 95% commit, before any double one."""
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
    out, st = best_first_decode(EarlyMistake(), x, mask_id=EarlyMistake.MASK, select=eb_select(0.01),
                                check_fn=EarlyMistake.check, budget=10_000, dive=dive)
    assert not EarlyMistake.check(out)[0] and (out != EarlyMistake.MASK).all() and out[0, 0] == 1
    assert int(st["nfe"][0]) <= 20                 # measured 16; last in, first out needs 32 leaves and more
