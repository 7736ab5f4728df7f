"""Dead-end filling rounds and the masks that train the maze MDM on decoding's states."""
import networkx as nx
import numpy as np
import pytest
import torch

from models.losses import mdm_loss
from puzzles import maze as mz
from puzzles.maze.solve import random_shortest_path
from solvers.training.config import TrainConfig
from solvers.training.data import fill_masks


def solved_rows(n, r, c, seed):
    rng = np.random.default_rng(seed)
    qs = [mz.generate_mixed(seed, i, r, c) for i in range(n)]
    return qs, np.stack([mz.encode(q, random_shortest_path(q, rng)) for q in qs])


def filling_by_graph(t, r, c):
    """Leaf removal on a networkx cell graph, one round at a time: {cell: round}."""
    L = r * c
    g = nx.Graph()
    g.add_nodes_from(range(L))
    for i in range(L):
        if t[i] & 2:
            g.add_edge(i, i + 1)
        if t[i] & 4:
            g.add_edge(i, i + c)
    ends = {i for i in range(L) if t[i] >= 16}
    out, k = {}, 0
    while True:
        kill = [v for v in g if v not in ends and g.degree(v) <= 1]
        if not kill:
            return out
        out.update((v, k) for v in kill)
        g.remove_nodes_from(kill)
        k += 1


@pytest.mark.parametrize("shape", [(6, 6), (7, 11), (12, 12)])
def test_fill_rounds_match_leaf_removal_on_the_cell_graph(shape):
    r, c = shape
    qs, t = solved_rows(12, r, c, seed=5)
    rounds = mz.fill_rounds(t, r, c)
    for q, row, got in zip(qs, t, rounds):
        want = filling_by_graph(row, r, c)
        off = row[r * c:] == mz.OFF
        expect = np.array([want.get(i, -1) if off[i] else -1 for i in range(r * c)])
        assert (got == expect).all()
        assert (got[~off] == -1).all()            # the path, S and G are never filled
        if mz.count_shortest_paths(q, cap=2) == 1 and (got >= 0).sum() == off.sum():
            assert got.max() + 2 == mz.dead_end_depth(q)


def test_fill_masks_reveal_filled_cells_and_hide_the_path():
    r, c = 10, 10
    L = r * c
    _, t = solved_rows(300, r, c, seed=9)
    rng = np.random.default_rng(0)
    assert fill_masks(t, r, c, rng, 0.0) == (None, None)
    assert rng.random() == np.random.default_rng(0).random()    # frac 0 draws nothing
    fixed, mask = fill_masks(t, r, c, np.random.default_rng(0), 1.0)
    assert fixed.all() and mask.shape == t.shape
    assert not mask[:, :L].any()                  # the structure half is never masked
    state, hidden = t[:, L:], mask[:, L:]
    rounds = mz.fill_rounds(t, r, c)
    on = (state == mz.ON) & (t[:, :L] < 16)
    seen_on = (~hidden & on).sum() / on.sum()
    seen_filled = (~hidden & (rounds >= 0)).sum() / (rounds >= 0).sum()
    assert 0 < seen_on < 0.08                     # path cells only by the stray-cell noise
    assert seen_filled > 0.4
    for k in range(len(t)):                       # whole rounds first: below the lowest round
        lo = rounds[k][hidden[k] & (rounds[k] >= 0)]   # with a hidden cell, none is hidden
        if len(lo):
            assert not (hidden[k] & (rounds[k] >= 0) & (rounds[k] < lo.min())).any()
            later = (rounds[k] > lo.min())
            assert (~hidden[k] & later).sum() <= max(3, 0.25 * later.sum())


def test_mdm_loss_takes_the_fixed_rows_masks():
    x0 = torch.tensor([[0, 1, 2, 0, 1, 2], [1, 1, 0, 2, 2, 0]])
    maskable = torch.tensor([[False, True, True, True, True, True]] * 2)
    given = torch.tensor([[True, False, True, False, True, False]] * 2)
    seen = {}

    def model(xt):
        seen["xt"] = xt
        return torch.zeros(2, 6, 4)
    mdm_loss(model, x0, maskable, mask_id=3, generator=torch.Generator().manual_seed(1),
             fixed=(torch.tensor([True, False]), given))
    assert ((seen["xt"][0] == 3) == (given[0] & maskable[0])).all()
    x1 = seen["xt"][1].clone()
    mdm_loss(model, x0, maskable, mask_id=3, generator=torch.Generator().manual_seed(1))
    assert (seen["xt"][1] == x1).all()            # the other row draws its mask as before


def test_fill_frac_is_for_the_multi_size_maze_mdm():
    with pytest.raises(ValueError, match="fill_frac"):
        TrainConfig(task="maze", model="mdm", fill_frac=0.5)
    TrainConfig(task="maze", model="mdm", maze_max=12, fill_frac=0.5)


def test_decided_off_is_a_masked_cell_with_one_live_neighbour_at_most():
    r, c = 7, 9
    L = r * c
    _, t = solved_rows(20, r, c, seed=3)
    rng = np.random.default_rng(4)
    part = t.copy()
    part[:, L:] = np.where((rng.random((20, L)) < 0.6) & (t[:, :L] < 16), mz.MASK, t[:, L:])
    got = mz.decided_off(part, r, c)
    steps = ((1, -1, 0), (2, 0, 1), (4, 1, 0), (8, 0, -1))
    for row, g in zip(part, got):
        for i in range(L):
            a, b = divmod(i, c)
            live = sum(1 for bit, da, db in steps if row[i] & bit and row[L + (a + da) * c + b + db] != mz.OFF)
            assert g[i] == (row[L + i] == mz.MASK and row[i] < 16 and live <= 1)
    assert got.any() and not got.all()
