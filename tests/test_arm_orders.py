"""ARM answer orders (issue 9): the solver order, the path order, their augmentation, the
cell-naming ARM's causal mask and KV cache, decoding that never re-emits a cell, NFE."""
import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from models.checkpoint import shipped_config
from models.transformer import ModelConfig, PuzzleTransformer, param_count
from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.strategies import mazes, sudoku_puzzles
from puzzles.tasks import MazeTask, SudokuTask
from sampling import pick_decode
from solvers.decode import arm_decode


def pick_arm(task, order, seed=0, prefix=False, head="linear"):
    torch.manual_seed(seed)
    m = PuzzleTransformer(ModelConfig(kind="arm", d_model=16, n_layers=2, n_heads=2, order=order, prefix=prefix,
                                      pick_head=head, **task.model_fields("arm")))
    for p in m.parameters():            # large weights, so that logits differ visibly
        torch.nn.init.normal_(p, std=0.3)
    return m.eval()


# ----------------------------------------------------------------------------- solver order
def check_solver_order(q, a, box):
    o = sd.solver_order(q, a, box)
    assert sorted(o[:, 0].tolist()) == np.flatnonzero(q == 0).tolist()      # a permutation of the blanks
    assert (o[:, 1] == a[o[:, 0]]).all()                                     # agrees with the solution
    return o


@given(sudoku_puzzles(box=(2, 2)))
def test_solver_order_4x4_is_the_blanks_and_each_fill_is_a_single(pair):
    q, a = pair
    o = check_solver_order(q, a, (2, 2))
    if sd.singles_depth(q, (2, 2)) is not None:
        g = q.astype(np.int64).copy()
        for c, v in o:
            assert sd.round_singles(g, (2, 2)).get(int(c)) == v
            g[c] = v


@pytest.mark.parametrize("difficulty", ["singles", "guess"])
def test_solver_order_9x9(difficulty):
    for i in range(4):
        q, a = sd.generate_one(77, i, difficulty=difficulty, clues=(22, 34))
        o = check_solver_order(q, a, (3, 3))
        g = q.astype(np.int64).copy()
        guesses = 0
        for c, v in o:
            guesses += int(c) not in sd.round_singles(g)
            g[c] = v
        assert (guesses == 0) == (difficulty == "singles")


def test_solver_order_goes_round_by_round_in_cell_order():
    q, a = sd.generate_one(5, 0, difficulty="singles")
    o = sd.solver_order(q, a)
    first = sd.round_singles(q)
    assert o[:len(first), 0].tolist() == sorted(first)                      # round 1, ascending cells


@given(sudoku_puzzles(box=(2, 2)), st.integers(0, 2**32 - 1))
def test_augmentation_maps_the_solver_order(pair, seed):
    q, a = pair
    rng = np.random.default_rng(seed)
    perm, dmap = sd.random_symmetry(rng, (2, 2))
    q2, a2 = dmap[q[perm]], dmap[a[perm]]
    o2 = sd.map_order(sd.solver_order(q, a, (2, 2)), perm, dmap)
    check_solver_order(q2, a2, (2, 2))
    if sd.singles_depth(q, (2, 2)) is not None:     # still singles of the transformed grid, in turn
        g = q2.astype(np.int64).copy()
        for c, v in o2:
            assert sd.round_singles(g, (2, 2)).get(int(c)) == v
            g[c] = v


def solver_batch():
    """(task, a solver-order ARM batch of 8 drawn from a small pool, its puzzles)."""
    task = SudokuTask()
    pool = task.make_pool(6, 3, kind="puzzles")
    pool["orders"] = task.pool_orders(pool)
    b = task.pick_batch(pool, np.random.default_rng(0), 8)
    return task, b, sd.decode(b.prompt)


def test_pick_batch_answers_rebuild_the_solution():
    task, b, q = solver_batch()
    g = task.pick_answers(b.answer, q)
    assert sd.verify(q, g).solved.all()
    assert ((b.answer >= 0).sum(1) == (q == 0).sum(1)).all()


# ----------------------------------------------------------------------------- path order
def check_path(tokens, rows, cols, maze):
    cells = mz.path_cells(tokens, rows, cols)
    struct = tokens[:rows * cols]
    s, g = int(np.argmax(struct // 16 == 1)), int(np.argmax(struct // 16 == 2))
    assert cells[-1] == g and s not in cells and len(set(cells.tolist())) == len(cells)
    assert len(cells) == mz.shortest_length(maze) // 2                      # a BFS shortest path
    prev = s
    for c in cells:                                                          # each step through a passage
        (r0, c0), (r1, c1) = divmod(prev, cols), divmod(int(c), cols)
        assert abs(r0 - r1) + abs(c0 - c1) == 1
        assert maze[r0 + r1 + 1, c0 + c1 + 1] != mz.WALL
        prev = int(c)
    return cells


@given(mazes(rows=6, cols=6))
def test_path_order_is_the_bfs_path_from_s_to_g(pair):
    q, a = pair
    t = mz.encode(q, a)
    cells = check_path(t, 6, 6, q)
    on = set(np.flatnonzero(t[36:] == mz.ON).tolist())
    assert on == set(cells.tolist()) | {int(np.argmax(t[:36] // 16 == 1))}


def test_maze_pick_batch_follows_the_augmented_maze():
    task = MazeTask(rows=6, cols=6)
    pool = task.make_pool(5, 1, kind="mixed")
    b = task.pick_batch(pool, np.random.default_rng(1), 16)
    for t, ans in zip(b.tokens, b.answer):
        assert (ans[ans >= 0] == mz.path_cells(t, 6, 6)).all()


# ----------------------------------------------------------------------------- model
@pytest.mark.parametrize("task,order", [(SudokuTask(box=(2, 2)), "solver"), (MazeTask(rows=4, cols=4), "path")])
@pytest.mark.parametrize("prefix,head", [(False, "linear"), (True, "linear"), (True, "pointer"), (False, "pointer")])
@given(seed=st.integers(0, 10**6), data=st.data())
def test_pick_arm_causal_mask_and_kv_cache(task, order, prefix, head, seed, data):
    m = pick_arm(task, order, prefix=prefix, head=head)
    L = m.cfg.cells
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, 4 if order == "solver" else 16, (2, L), generator=g)
    picks = torch.randint(0, m.cfg.n_picks, (2, 6), generator=g)
    x = torch.cat([prompt, picks], 1)
    pos = data.draw(st.integers(1, x.shape[1] - 1))
    y = x.clone()
    y[:, pos:] = (y[:, pos:] + 1) % (m.cfg.n_picks if pos >= L else 4)
    with torch.no_grad():
        a, b = m(x), m(y)
        if pos >= L or not prefix:      # later tokens never move earlier logits
            assert torch.allclose(a[:, :pos], b[:, :pos], atol=1e-5)
        elif head == "linear":          # a prefix LM reads the whole prompt at once, both ways
            assert not torch.allclose(a[:, :pos], b[:, :pos], atol=1e-5)
        if head == "pointer":           # its prompt positions (but the last) predict nothing
            assert (a[:, :L - 1] == 0).all()
        logits, cache = m.step(x[:, :L], None)
        steps = [logits] + [m.step(x[:, k:k + 1], cache)[0] for k in range(L, x.shape[1])]
    assert torch.allclose(torch.stack(steps, 1), a[:, L - 1:], atol=1e-4)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_pick_decode_never_emits_a_filled_cell_and_counts_blanks(temperature):
    task = SudokuTask()
    qs = np.stack([sd.generate_one(9, i)[0] for i in range(5)])
    prompt, filled, _ = task.arm_picks(qs)

    def greedy_for_givens(x, cache):         # a stub that ranks the givens' tokens first
        B = x.shape[0]
        logits = torch.randn(B, 81 * 9)
        logits.view(B, 81, 9)[torch.from_numpy(filled)] += 100.0
        return logits, cache
    out, st_ = pick_decode(greedy_for_givens, torch.from_numpy(prompt), filled=torch.from_numpy(filled), n_values=9,
                           temperature=temperature, generator=torch.Generator().manual_seed(0))
    for row, q in zip(out.numpy(), qs):
        cells = row[row >= 0] // 9
        assert len(set(cells.tolist())) == len(cells) and (q[cells] == 0).all()
        assert sorted(cells.tolist()) == np.flatnonzero(q == 0).tolist()
    assert (st_["nfe"].numpy() == (qs == 0).sum(1)).all()                  # NFE = blanks


def test_path_decode_stops_at_g_and_counts_path_cells():
    task = MazeTask(rows=6, cols=6)
    qs = [mz.generate_mixed(4, i, 6, 6, unique_path=True) for i in range(6)]
    paths = [mz.path_cells(mz.encode(q, mz.solve(q)), 6, 6) for q in qs]
    prompt, filled, stop = task.arm_picks(qs)

    def oracle(x, cache):                      # names the true path, cell by cell
        k = 0 if cache is None else cache + 1
        logits = torch.zeros(len(qs), 36)
        for r, p in enumerate(paths):
            logits[r, p[min(k, len(p) - 1)]] = 10.0
        return logits, k
    out, st_ = pick_decode(oracle, torch.from_numpy(prompt), filled=torch.from_numpy(filled), n_values=1,
                           stop=torch.from_numpy(stop))
    assert st_["nfe"].tolist() == [len(p) for p in paths]                   # NFE = path cells after S
    answers = task.pick_answers(out.numpy(), qs)
    assert all(mz.verify(q, a).solved for q, a in zip(qs, answers))


@pytest.mark.parametrize("task,order,head", [(SudokuTask(), "raster", "linear"), (SudokuTask(), "solver", "linear"),
                                             (SudokuTask(), "solver", "pointer"), (MazeTask(), "raster", "linear"),
                                             (MazeTask(), "path", "linear"), (MazeTask(), "path", "pointer")])
def test_arm_decode_nfe_follows_the_documented_formula(task, order, head):
    m = pick_arm(task, order, prefix=head == "pointer", head=head)
    if task.name == "sudoku":
        qs = np.stack([sd.generate_one(3, i)[0] for i in range(3)])
        expect = (qs == 0).sum(1) if order == "solver" else np.full(3, 81)
    else:
        qs = [mz.generate_mixed(3, i, 10, 10) for i in range(3)]
        expect = None if order == "path" else np.full(3, 100)
    with torch.no_grad():
        answers, st_ = arm_decode(m, task, qs, "cpu")
    nfe = st_["nfe"].numpy()
    if expect is not None:
        assert (nfe == expect).all()
    else:   # path order: one call per named cell, filled cells barred, until G is named (it is
        # the last cell left at worst): NFE = the cells marked on the path + 1 for G
        marked = np.array([(a[1::2, 1::2] == mz.PATH).sum() for a in answers])
        assert (nfe == marked + 1).all() and (nfe >= 1).all()


@pytest.mark.parametrize("task_name,order", [("sudoku", "raster"), ("sudoku", "solver"),
                                             ("maze", "raster"), ("maze", "path")])
def test_shipped_arm_configs_match_the_mdm_size(task_name, order):
    from puzzles.tasks import get_task
    from solvers.training.loop import TrainConfig, build_model
    name = f"{task_name}-arm" + ("" if order == "raster" else f"-{order}")
    arm_cfg = TrainConfig(**json.loads(shipped_config(name).read_text()))
    mdm_cfg = TrainConfig(**json.loads(shipped_config(f"{task_name}-mdm").read_text()))
    assert arm_cfg.order == order
    task = get_task(task_name)
    ratio = param_count(build_model(arm_cfg, task)) / param_count(build_model(mdm_cfg, task))
    assert 0.9 <= ratio <= 1.1


def test_orders_are_checked_against_the_task():
    from pydantic import ValidationError

    from solvers.training.config import TrainConfig
    with pytest.raises(ValidationError, match="sudoku ARM"):
        TrainConfig(task="maze", model="arm", order="solver")
    with pytest.raises(ValidationError, match="maze ARM"):
        TrainConfig(task="sudoku", model="arm", order="path")
    with pytest.raises(ValidationError, match="sudoku_pool"):
        TrainConfig(task="sudoku", model="arm", order="solver")
    with pytest.raises(ValidationError, match="needs an ARM"):
        ModelConfig(kind="mdm", order="path", **MazeTask().model_fields("mdm"))
