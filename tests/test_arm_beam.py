"""Beam search for the cell-naming ARMs (solver / path order): width 1 is greedy, a wide
beam finds the most likely sequence, no cell is emitted twice, NFE = beam x calls, and the
KV cache of a reordered batch gives the logits of the rows it names."""
import itertools

import numpy as np
import pytest
import torch

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.tasks import MazeTask, SudokuTask
from sampling import pick_beam_decode, pick_decode
from solvers.decode import arm_decode
from tests.test_arm_orders import pick_arm


def history_stub(C, n_values, seed=0):
    """A stub ARM whose logits are a fixed random function of the tokens fed so far; its
    cache is that history, so the reorder function is plain row indexing."""
    table = {}

    def logits_of(hist):
        if hist not in table:
            g = torch.Generator().manual_seed(hash((seed,) + hist) % (2 ** 31))
            table[hist] = torch.randn(C * n_values, generator=g)
        return table[hist]

    def step(x, cache):
        hist = x if cache is None else torch.cat([cache, x], 1)
        return torch.stack([logits_of(tuple(r.tolist())) for r in hist]), hist

    return step, lambda cache, rows: cache[rows]


def seq_logprob(step, prompt_row, filled_row, toks, n_values):
    """Summed log-probability of ``toks`` under the stub, with filled cells masked."""
    filled = filled_row.clone()
    logits, cache = step(prompt_row[None], None)
    total = 0.0
    for t in toks:
        lp = torch.log_softmax(logits[0].view(-1, n_values).masked_fill(filled[:, None], float("-inf")).view(-1), -1)
        total += float(lp[t])
        filled[t // n_values] = True
        logits, cache = step(torch.tensor([[t]]), cache)
    return total


@pytest.mark.parametrize("seed", range(3))
def test_beam_of_width_1_is_greedy(seed):
    C, nv = 5, 3
    step, reorder = history_stub(C, nv, seed)
    prompt = torch.tensor([[1, 2], [3, 4], [5, 6]])
    filled = torch.tensor([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 0]], dtype=torch.bool)
    g, sg = pick_decode(step, prompt, filled=filled, n_values=nv)
    b, sb = pick_beam_decode(step, reorder, prompt, filled=filled, n_values=nv, beam=1)
    assert torch.equal(g, b) and torch.equal(sg["nfe"], sb["nfe"])


@pytest.mark.parametrize("seed", [2, 4])     # two stubs where greedy misses the best sequence
def test_a_beam_as_wide_as_the_tree_finds_the_most_likely_sequence(seed):
    C, nv = 3, 2                # 3! orders x 2^3 values = 48 sequences
    step, reorder = history_stub(C, nv, seed)
    prompt, filled = torch.tensor([[7]]), torch.zeros(1, C, dtype=torch.bool)
    best = max((tuple(c * nv + v for c, v in zip(cells, vals))
                for cells in itertools.permutations(range(C)) for vals in itertools.product(range(nv), repeat=C)),
               key=lambda s: seq_logprob(step, prompt[0], filled[0], s, nv))
    out, st_ = pick_beam_decode(step, reorder, prompt, filled=filled, n_values=nv, beam=48)
    assert tuple(out[0].tolist()) == best
    assert st_["nfe"].tolist() == [48 * C]                                  # NFE = beam x calls
    greedy, _ = pick_decode(step, prompt, filled=filled, n_values=nv)
    assert seq_logprob(step, prompt[0], filled[0], greedy[0].tolist(), nv) < \
        seq_logprob(step, prompt[0], filled[0], best, nv) - 1e-3


@pytest.mark.parametrize("beam", [2, 4])
def test_beam_names_each_blank_once_and_counts_beam_x_blanks(beam):
    task = SudokuTask()
    qs = np.stack([sd.generate_one(9, i)[0] for i in range(4)])
    m = pick_arm(task, "solver", prefix=True, head="pointer")
    with torch.no_grad():
        answers, st_ = arm_decode(m, task, qs, "cpu", beam=beam)
    for a, q in zip(answers, qs):
        assert (a[q > 0] == q[q > 0]).all() and (a > 0).all()              # givens kept, every blank filled
    assert (st_["nfe"].numpy() == beam * (qs == 0).sum(1)).all()
    assert [sum(t) for t in st_["tokens_per_step"]] == (qs == 0).sum(1).tolist()


def test_path_beam_stops_at_g():
    task = MazeTask(rows=6, cols=6)
    qs = [mz.generate_mixed(4, i, 6, 6, unique_path=True) for i in range(5)]
    paths = [mz.path_cells(mz.encode(q, mz.solve(q)), 6, 6) for q in qs]
    prompt, filled, stop = task.arm_picks(qs)

    def oracle(x, cache):                      # names the true path, cell by cell; beams agree
        k = 0 if cache is None else cache[0] + 1
        logits = torch.zeros(x.shape[0], 36)
        rows = cache[1] if cache is not None else torch.arange(x.shape[0])
        for r, p in enumerate(rows.tolist()):
            logits[r, paths[p][min(k, len(paths[p]) - 1)]] = 10.0
        return logits, (k, rows)
    out, st_ = pick_beam_decode(oracle, lambda c, rows: (c[0], c[1][rows]), torch.from_numpy(prompt),
                                filled=torch.from_numpy(filled), n_values=1, beam=3, stop=torch.from_numpy(stop))
    answers = task.pick_answers(out.numpy(), qs)
    assert all(mz.verify(q, a).solved for q, a in zip(qs, answers))
    assert st_["nfe"].tolist() == [3 * len(p) for p in paths]


@pytest.mark.parametrize("task,order", [(SudokuTask(), "solver"), (MazeTask(rows=6, cols=6), "path")])
def test_reordered_cache_gives_the_rows_it_names(task, order):
    m = pick_arm(task, order, prefix=True, head="pointer")
    if task.name == "sudoku":
        qs = np.stack([sd.generate_one(5, i)[0] for i in range(3)])
    else:
        qs = [mz.generate_mixed(5, i, 6, 6, unique_path=True) for i in range(3)]
    prompt, _, _ = task.arm_picks(qs)
    x = torch.from_numpy(prompt)
    rows = torch.tensor([2, 0, 0, 1])
    nxt = torch.tensor([[0], [1], [2], [3]])
    with torch.no_grad():
        _, cache = m.step(x, None)
        a, _ = m.step(nxt, m.reorder_cache(cache, rows))
        b, _ = m.step(nxt, m.step(x[rows], None)[1])
    assert torch.allclose(a, b, atol=1e-5)
