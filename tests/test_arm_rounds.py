"""The ARMs' training loss (issue 9): the cell-naming loss masks filled cells as decoding
does, the solver order's rounds are sets of singles, and the grouped loss takes any fill
left in a round."""
import numpy as np
import pytest
import torch
from hypothesis import given

from puzzles import sudoku as sd
from puzzles.strategies import sudoku_puzzles
from puzzles.tasks import MazeTask, SudokuTask
from tests.test_arm_orders import pick_arm, solver_batch


@pytest.mark.parametrize("task,order", [(SudokuTask(), "solver"), (MazeTask(rows=6, cols=6), "path")])
def test_arm_loss_masks_filled_cells_like_decoding(task, order):
    from models.losses import arm_loss
    m = pick_arm(task, order)
    if order == "solver":
        pool = task.make_pool(4, 3, kind="puzzles")
        pool["orders"] = task.pool_orders(pool)
    else:
        pool = task.make_pool(4, 3, kind="mixed")
    b = task.pick_batch(pool, np.random.default_rng(0), 4)
    p, a, f = (torch.from_numpy(v) for v in (b.prompt, b.answer, b.filled))
    seen = {}

    def spy(x):
        seen["logits"] = m(x)
        return seen["logits"]
    masked = arm_loss(spy, p, a, f, m.cfg.pick_values)
    plain = arm_loss(m, p, a)
    assert torch.isfinite(masked) and masked < plain               # mass on filled cells is taken away
    masked.backward()
    assert all(torch.isfinite(q.grad).all() for q in m.parameters() if q.grad is not None)
    # the targets themselves are never masked, and the loss is the CE over the tokens of
    # the cells still empty at each step: recomputed here one step at a time
    L, V = p.shape[1], m.cfg.pick_values
    logits = seen["logits"][:, L - 1:].detach().float()
    nll = []
    for r in range(len(a)):
        done = set(np.flatnonzero(b.filled[r]).tolist())
        for k, tok in enumerate(a[r].tolist()):
            if tok < 0:
                break
            assert tok // V not in done
            free = torch.tensor([c not in done for c in range(b.filled.shape[1])]).repeat_interleave(V)
            nll.append(-torch.log_softmax(logits[r, k][free], 0)[int(free[:tok].sum())])
            done.add(tok // V)
    assert torch.allclose(masked.detach(), torch.stack(nll).mean(), atol=1e-4)


# ----------------------------------------------------------------------------- rounds as sets
@given(sudoku_puzzles(box=(2, 2)))
def test_solver_rounds_are_the_order_with_the_singles_of_each_rounds_start(pair):
    q, a = pair
    r = sd.solver_rounds(q, a, (2, 2))
    assert np.array_equal(r[:, :2], sd.solver_order(q, a, (2, 2)))
    assert (np.diff(r[:, 2]) >= 0).all() and (len(r) == 0 or r[0, 2] == 0)
    g = q.astype(np.int64).copy()
    for k in np.unique(r[:, 2]):
        fills = r[r[:, 2] == k]
        singles = sd.round_singles(g, (2, 2))
        if singles:                                   # a round is every single of the grid at its start
            assert {int(c): int(v) for c, v, _ in fills} == singles
        else:                                         # or one guess, from the solution
            assert len(fills) == 1 and fills[0, 1] == a[fills[0, 0]]
        g[fills[:, 0]] = fills[:, 1]


def test_grouped_arm_loss_takes_any_fill_left_in_the_round():
    """groups of one token give plain CE; within a group, probability on any token left in
    it counts, and tokens already emitted or of a later round do not."""
    from models.losses import arm_loss
    L, V = 3, 6
    prompt = torch.zeros(1, L, dtype=torch.long)
    answer = torch.tensor([[0, 3, 5]])
    logits = torch.randn(1, L + 2, V)
    def model(x):
        return logits[:, :x.shape[1]]
    lp = torch.log_softmax(logits[0, L - 1:], -1)
    ce = -(lp[0, 0] + lp[1, 3] + lp[2, 5]) / 3
    assert torch.allclose(arm_loss(model, prompt, answer), ce)
    assert torch.allclose(arm_loss(model, prompt, answer, groups=torch.tensor([[0, 1, 2]])), ce)
    # tokens 0 and 3 form one round: step 0 may emit either, step 1 only 3; 5 is a later round
    want = -(torch.logsumexp(lp[0, [0, 3]], 0) + lp[1, 3] + lp[2, 5]) / 3
    assert torch.allclose(arm_loss(model, prompt, answer, groups=torch.tensor([[0, 0, 1]])), want)
    # padding (-1) is ignored in both
    pad = torch.tensor([[0, 3, -1]])
    want = -(torch.logsumexp(lp[0, [0, 3]], 0) + lp[1, 3]) / 2
    assert torch.allclose(arm_loss(model, prompt, pad, groups=torch.tensor([[0, 0, -1]])), want)


def test_pick_batch_groups_are_the_rounds_of_the_augmented_order():
    _, b, q = solver_batch()
    for r in range(len(q)):
        n = int((b.answer[r] >= 0).sum())
        assert (b.groups[r, :n] >= 0).all() and (b.groups[r, n:] == -1).all()
        g = q[r].astype(np.int64).copy()
        for k in np.unique(b.groups[r, :n]):      # each group: the singles (or one guess) of its start
            toks = b.answer[r, :n][b.groups[r, :n] == k]
            fills = {int(t) // 9: int(t) % 9 + 1 for t in toks}
            singles = sd.round_singles(g)
            assert fills == singles or (not singles and len(fills) == 1)
            for c, v in fills.items():
                g[c] = v
