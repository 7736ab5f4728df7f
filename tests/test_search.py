"""Repair and search with stub models of known behaviour."""
import numpy as np
import pytest
import torch

from puzzles import sudoku as sd
from puzzles.tasks import SudokuTask
from sampling.rules import eb_select, topk_select
from sampling.search import guided_decode

TASK = SudokuTask()
MASK = TASK.mask_id


def check(x):
    return torch.from_numpy(TASK.conflicts(x.numpy()))


class CandidateModel:
    """Uniform over the digits its filled peers allow: a propagation-only 'model' that
    stalls exactly where a guess is needed."""

    def __call__(self, x):
        g = sd.decode(x.numpy())
        out = np.full((len(g), 81, 10), -30.0, dtype=np.float32)
        geo = sd.geometry()
        for r, grid in enumerate(g):
            for c in range(81):
                used = {grid[p] for p in geo.peers[c]}
                for d in range(1, 10):
                    if d not in used:
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


@pytest.fixture(scope="module")
def hard():
    return sd.generate_one(11, 0, difficulty="guess", clues=(24, 30))


def test_planted_error_is_detected_and_repaired():
    p, s = sd.generate_one(2, 0)
    cell = int(np.flatnonzero(p == 0)[0])
    peer = next(q for q in sd.geometry().peers[cell] if p[q] != 0)
    m = PlantedErrorModel(s, cell, int(p[peer]))
    x = torch.from_numpy(TASK.encode(p[None]))
    plain, _ = guided_decode(m, x, mask_id=MASK, select=topk_select(1), check_fn=check)
    assert not sd.verify(p[None], sd.decode(plain.numpy())).solved[0]
    fixed, st = guided_decode(m, x, mask_id=MASK, select=topk_select(1), check_fn=check, repair=2)
    assert sd.verify(p[None], sd.decode(fixed.numpy())).solved[0]
    assert st["repairs"][0] == 1
    # the repair undid the step: the row's state was the one it had, so its logits were reused
    assert int(st["nfe"][0]) == int((p == 0).sum())
    # With EB (many commits per step) the culprit is isolated by careful retries that halve
    # the step: log2(48 blanks) undos, a handful of forward passes, not one per blank.
    fixed, st = guided_decode(m, x, mask_id=MASK, select=eb_select(gamma=100.0), check_fn=check, repair=8)
    assert sd.verify(p[None], sd.decode(fixed.numpy())).solved[0]
    assert st["repairs"][0] <= 7 and int(st["nfe"][0]) <= 8


class Spy:
    """Records every row state the model is run on."""

    def __init__(self, model):
        self.model, self.states = model, []

    def __call__(self, x):
        self.states.extend(r.tobytes() for r in x.numpy())
        return self.model(x)


def test_memo_forward_runs_only_rows_at_a_state_they_have_not_evaluated():
    from sampling.core import memo_forward
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


@pytest.mark.parametrize("searcher", ["guided", "dfs"])
def test_search_never_runs_the_model_twice_on_a_row_state_it_holds(searcher):
    # Undone steps and backtracks return to states already evaluated: no forward pass, no NFE.
    from sampling.dfs import dfs_decode
    p = sd.generate_one(5, 0, clues=(30, 34))[0]
    x = torch.from_numpy(TASK.encode(p[None]))
    spy = Spy(RandomRankModel(81, 9, 2))
    if searcher == "guided":
        _, st = guided_decode(spy, x, mask_id=MASK, select=eb_select(0.1), check_fn=check, repair=50,
                              search=True, search_budget=300, stall_entropy=0.1, branch_k=3)
        undone = st["repairs"][0] + st["backtracks"][0]
    else:
        _, st = dfs_decode(spy, x, mask_id=MASK, select=eb_select(0.1), check_fn=check, budget=300)
        undone = st["undos"][0] + st["backtracks"][0]
    assert undone > 0 and int(st["nfe"][0]) == len(spy.states)
    assert all(a != b for a, b in zip(spy.states, spy.states[1:]))   # never the same state twice in a row


def test_search_solves_a_guess_puzzle_with_a_propagation_stub(hard):
    p, _s = hard
    x = torch.from_numpy(TASK.encode(p[None]))
    plain, _ = guided_decode(CandidateModel(), x, mask_id=MASK, select=eb_select(0.0), check_fn=check)
    assert not sd.verify(p[None], sd.decode(plain.numpy())).solved[0]     # the stub alone cannot guess
    out, st = guided_decode(CandidateModel(), x, mask_id=MASK, select=eb_select(0.0), check_fn=check,
                            search=True, search_budget=2000, stall_entropy=0.1, branch_k=9)
    assert sd.verify(p[None], sd.decode(out.numpy())).solved[0]
    assert st["branches"][0] >= 1


@pytest.mark.parametrize("budget", [5, 20])
def test_search_never_exceeds_its_budget_and_keeps_givens(hard, budget):
    p, _ = hard
    x = torch.from_numpy(TASK.encode(np.stack([p, p])))
    out, st = guided_decode(CandidateModel(), x, mask_id=MASK, select=topk_select(1), check_fn=check,
                            search=True, search_budget=budget, stall_entropy=0.1, repair=3)
    assert (st["nfe"] <= budget).all()
    g = sd.decode(out.numpy())
    assert ((p == 0) | (g == p)).all()
    assert (out != MASK).all()


def test_batched_search_equals_per_puzzle_search(hard):
    easy, _ = sd.generate_one(2, 1)
    ps = np.stack([hard[0], easy, hard[0]])
    x = torch.from_numpy(TASK.encode(ps))
    kw = {"mask_id": MASK, "select": eb_select(0.5), "check_fn": check, "search": True, "search_budget": 300,
          "stall_entropy": 0.1, "repair": 2}
    batch, st = guided_decode(CandidateModel(), x, **kw)
    for r in range(3):
        alone, st1 = guided_decode(CandidateModel(), x[r:r + 1], **kw)
        assert torch.equal(alone[0], batch[r]) and st1["nfe"][0] == st["nfe"][r]


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


def test_propagate_and_search_solve_a_guess_puzzle(hard):
    p, _ = hard
    x = torch.from_numpy(TASK.encode(p[None]))
    rules = lambda t: tuple(torch.from_numpy(a) for a in TASK.rules("propagate", t.numpy()))
    out, _st = guided_decode(CandidateModel(), x, mask_id=MASK, select=eb_select(0.1), check_fn=check,
                            rules_fn=rules, search=True, search_budget=400, stall_entropy=0.1, branch_k=9)
    assert sd.verify(p[None], sd.decode(out.numpy())).solved[0]


class RandomRankModel:
    """Ranks the values of every cell at random, the same ranking whatever the input:
    a model that knows nothing, so only a complete search can solve with it."""

    def __init__(self, cells, values, seed):
        g = torch.Generator().manual_seed(seed)
        self.t = torch.randn(cells, values + 1, generator=g) * 3
        self.t[:, values] = float("-inf")             # MASK is never predicted
        self.calls = 0

    def __call__(self, x):
        self.calls += x.shape[0]
        return self.t.unsqueeze(0).expand(x.shape[0], -1, -1).clone()


def _complete_searches():
    from sampling.bestfirst import best_first_decode
    from sampling.dfs import dfs_decode
    return {"dfs": dfs_decode, "best": best_first_decode}


@pytest.mark.parametrize("searcher", ["dfs", "best"])
@pytest.mark.parametrize("box,clues,n_puzzles", [((2, 2), (4, 6), 12), ((3, 3), (58, 62), 3)])
def test_complete_search_solves_with_a_model_that_knows_nothing(box, clues, n_puzzles, searcher):
    # A fixed random ranking and no rules: only backtracking over every commit can solve
    # these. (A 9x9 with 30 clues takes this blind search longer than a test may run.)
    task = SudokuTask(box=box)
    ps = np.stack([sd.generate_one(5, i, box, clues=clues)[0] for i in range(n_puzzles)])
    x = torch.from_numpy(task.encode(ps))
    n = box[0] * box[1]
    model = Spy(RandomRankModel(n * n, n, 0))
    out, st = _complete_searches()[searcher](model, x, mask_id=task.mask_id, select=eb_select(0.1),
                                             check_fn=lambda t: torch.from_numpy(task.conflicts(t.numpy())),
                                             budget=100_000)
    assert sd.verify(ps, sd.decode(out.numpy(), box), box).solved.all()
    assert sum(st["backtracks"]) + sum(st.get("undos", [])) > 0       # it did have to undo commits
    # every forward pass counted, and no state evaluated twice (distinct puzzles share none)
    assert int(st["nfe"].sum()) == len(model.states) == len(set(model.states))


def test_complete_search_with_a_stall_threshold_decides_uncertain_cells_one_at_a_time():
    from sampling.dfs import dfs_decode
    task = SudokuTask(box=(2, 2))
    ps = np.stack([sd.generate_one(5, i, (2, 2), clues=(4, 6))[0] for i in range(12)])
    x = torch.from_numpy(task.encode(ps))
    out, st = dfs_decode(RandomRankModel(16, 4, 0), x, mask_id=task.mask_id, select=eb_select(0.5),
                         check_fn=lambda t: torch.from_numpy(task.conflicts(t.numpy())), budget=100_000,
                         stall_entropy=0.0)
    assert sd.verify(ps, sd.decode(out.numpy(), (2, 2)), (2, 2)).solved.all()     # still complete
    assert all(k <= 1 for row in st["tokens_per_step"] for k in row)   # no cell is certain here


@pytest.mark.parametrize("searcher", ["dfs", "best"])
@pytest.mark.parametrize("budget", [1, 7, 40])
def test_complete_search_never_exceeds_its_budget_and_keeps_givens(budget, searcher):
    ps = np.stack([sd.generate_one(5, i, clues=(30, 34))[0] for i in range(3)])
    x = torch.from_numpy(TASK.encode(ps))
    limits = torch.tensor([budget, budget + 3, 2 * budget])
    out, st = _complete_searches()[searcher](RandomRankModel(81, 9, 2), x, mask_id=MASK, select=eb_select(0.1),
                                             check_fn=check, budget=limits)
    assert (st["nfe"] <= limits).all()
    g = sd.decode(out.numpy())
    assert ((ps == 0) | (g == ps)).all() and (g > 0).all()


def test_branch_search_hands_unsolved_rows_to_the_complete_search():
    from solvers.decode import complete_search
    task = SudokuTask(box=(2, 2))
    ps, sols = zip(*(sd.generate_one(5, i, (2, 2), clues=(4, 6)) for i in range(8)))
    ps, sols = np.stack(ps), np.stack(sols)
    x = torch.from_numpy(task.encode(ps))
    model = Spy(RandomRankModel(16, 4, 3))
    chk = lambda t: torch.from_numpy(task.conflicts(t.numpy()))
    kw = {"mask_id": task.mask_id, "select": eb_select(0.1), "check_fn": chk}
    memos = [{} for _ in range(len(x))]
    out, st = guided_decode(model, x, search=True, search_budget=5000, memos=memos, **kw)
    out[:3] = torch.from_numpy(task.encode(sols[:3]))    # as if the branch search had solved three
    plain = sd.verify(ps, sd.decode(out.numpy(), (2, 2)), (2, 2)).solved
    assert plain.sum() == 3                              # this blind model leaves the rest unsolved
    first = st["nfe"].clone()
    out2, st2 = complete_search(model, x, out, st, 5000, memos=memos, **kw)
    assert sd.verify(ps, sd.decode(out2.numpy(), (2, 2)), (2, 2)).solved.all()
    assert (st2["dfs"].numpy() == ~plain).all()                         # only the unsolved rows restart
    assert (st2["nfe"][torch.from_numpy(plain)] == first[torch.from_numpy(plain)]).all()
    assert (st2["nfe"] <= 5000).all()
    # the complete search reuses what the branch search evaluated: no state runs twice,
    # and every forward pass is counted in some row's NFE
    # (without the shared memo each restarted row would evaluate its puzzle's root again)
    assert len(set(model.states)) == len(model.states) == int(st2["nfe"].sum())


class FlatModel:
    """The same distribution for every cell: every masked cell ties in entropy, so the
    selection rule's tie-break and the searches' own ranking may name different cells."""

    def __call__(self, x):
        t = torch.full((x.shape[0], 81, 10), -1e9)
        t[..., :9] = torch.linspace(0.0, 1.0, 9)
        return t


@pytest.mark.parametrize("searcher", ["guided", "dfs"])
def test_a_step_always_commits_even_when_entropies_tie(searcher):
    # A step that committed nothing left the state as it was; with its logits reused that
    # repeated forever at no NFE (the budget never came). Guarded by an alarm.
    import signal

    from sampling.dfs import dfs_decode
    p = sd.generate_one(5, 0, clues=(30, 34))[0]
    x = torch.from_numpy(TASK.encode(p[None]))
    signal.alarm(60)
    try:
        if searcher == "guided":
            out, st = guided_decode(FlatModel(), x, mask_id=MASK, select=eb_select(0.01), check_fn=check, repair=3,
                                    search=True, search_budget=50, stall_entropy=0.1)
        else:
            out, st = dfs_decode(FlatModel(), x, mask_id=MASK, select=eb_select(0.01), check_fn=check, budget=50,
                                 stall_entropy=0.1)
    finally:
        signal.alarm(0)
    assert int(st["nfe"][0]) <= 50 and (out != MASK).all()
