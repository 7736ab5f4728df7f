"""Property tests over the samplers, the search and the models (see test_properties.py)."""
import itertools

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from models.losses import mdm_loss
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles import maze as mz
from puzzles.strategies import sudoku_puzzles
from puzzles.tasks import MazeTask, SudokuTask
from sampling import SAMPLERS, run_sampler
from sampling.rules import make_select
from sampling.search import best_first_decode
from tests.helpers import TableModel

# ----------------------------------------------------------------------------- samplers
MASK, V = 5, 6


def table(seed, S):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(S, V, generator=g) * 3
    t[:, MASK] = float("-inf")
    return t


def masked(seed, B, S, p):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, MASK, (B, S), generator=g)
    return torch.where(torch.rand(B, S, generator=g) < p, torch.full_like(x, MASK), x)


@given(st.integers(0, 10**6), st.lists(st.floats(0, 5), min_size=2, max_size=6))
def test_eb_nfe_never_increases_as_gamma_grows(seed, gammas):
    x = masked(seed, 3, 16, 0.8)
    m = TableModel(table(seed, 16))
    nfe = [SAMPLERS["eb"](m, x, mask_id=MASK, gamma=g)[1]["nfe"] for g in sorted(gammas)]
    for a, b in itertools.pairwise(nfe):
        assert (b <= a).all()


@given(st.integers(0, 10**6), st.sampled_from([("eb", {"gamma": 0.5}), ("topk", {"k": 3}),
                                               ("threshold", {"tau": 0.7}), ("random", {"steps": 5})]),
       st.floats(0.0, 2.0))
def test_no_sampler_writes_a_given_and_nfe_counts_rows(seed, point, temperature):
    name, opts = point
    x = masked(seed, 5, 14, 0.5)
    m = TableModel(table(seed, 14))
    out, stt = run_sampler(name, m, x, mask_id=MASK, options=dict(opts, temperature=temperature),
                           generator=torch.Generator().manual_seed(seed))
    given_ = x != MASK
    assert (out[given_] == x[given_]).all() and (out != MASK).all()
    assert int(stt["nfe"].sum()) == m.rows_seen                   # a row counts once per pass it is in
    assert stt["nfe"].tolist() == [len(s) for s in stt["tokens_per_step"]]


@given(sudoku_puzzles((2, 2)), st.integers(0, 10**6), st.integers(1, 40))
def test_search_never_exceeds_budget_nor_writes_givens(pair, seed, budget):
    puzzle, _ = pair
    task = SudokuTask(box=(2, 2))
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(16, 5, generator=g)
    t[:, task.mask_id] = float("-inf")
    x = torch.from_numpy(task.encode(puzzle[None].repeat(3, 0)))
    out, stt = best_first_decode(TableModel(t), x, mask_id=task.mask_id, select=make_select("eb", {"gamma": 0.1}),
                                 check_fn=lambda y: torch.from_numpy(task.conflicts(y.numpy())), budget=budget)
    assert (stt["nfe"] <= budget).all()
    assert (out[x != task.mask_id] == x[x != task.mask_id]).all()


# ----------------------------------------------------------------------------- models
def tiny(kind, task):
    torch.manual_seed(0)
    return PuzzleTransformer(ModelConfig(kind=kind, d_model=16, n_layers=1, n_heads=2,
                                         **task.model_fields(kind))).eval()


ARM = tiny("arm", SudokuTask(box=(2, 2)))


@given(st.integers(1, 31), st.integers(0, 10**6))
def test_arm_causal_mask_holds(pos, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 4, (1, 32), generator=g)
    y = x.clone()
    y[0, pos:] = (y[0, pos:] + 1) % 4
    with torch.no_grad():
        a, b = ARM(x), ARM(y)
    assert torch.allclose(a[0, :pos], b[0, :pos], atol=1e-5)


MDM = tiny("mdm", SudokuTask(box=(2, 2)))


@given(st.integers(0, 10**6), st.integers(1, 15))
def test_mdm_loss_never_masks_or_scores_givens(seed, n_given):
    task = SudokuTask(box=(2, 2))
    x0 = torch.from_numpy(task.encode(np.array([[1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]])))
    maskable = torch.arange(16)[None] >= n_given
    seen = []

    def spy(xt):
        seen.append(xt)
        return MDM(xt)
    mdm_loss(spy, x0, maskable, mask_id=task.mask_id, generator=torch.Generator().manual_seed(seed))
    assert (seen[0][:, :n_given] == x0[:, :n_given]).all()


@given(st.integers(0, 10**6))
def test_maze_model_echoes_structure(seed):
    task = MazeTask(rows=4, cols=4)
    m = tiny("mdm", task)
    q = mz.generate_one(seed, 0, 4, 4)
    t = torch.from_numpy(task.encode([q]))
    with torch.no_grad():
        out = m(t)
    assert (out[0, :16].argmax(-1) == t[0, :16]).all()
