"""The search's symmetric views (``--search-views``): the task's views and the restarts
(sampling.search.restart_decode through solvers.decode.guided_batch)."""
import numpy as np
import pytest
import torch

from puzzles import sudoku as sd
from puzzles.tasks import MazeTask, SudokuTask
from sampling import OPTIONS
from sampling.search import SearchOptions
from sampling.views import check_views
from solvers.decode import guided_batch

TASK = SudokuTask()


def in_view(tokens: np.ndarray, k: int) -> np.ndarray:
    perm, vmap = TASK.view(k)
    return vmap[np.asarray(tokens)[..., perm]]


@pytest.mark.parametrize("box", [(3, 3), (2, 3), (2, 2)])
def test_each_view_takes_a_puzzle_and_its_solution_to_a_puzzle_and_its_solution(box):
    task = SudokuTask(box)
    p, s = sd.generate_one(5, 0, box, clues=(task.n * 2, task.n * 3))
    seen = set()
    for k in range(task.VIEWS):
        perm, vmap = task.view(k)
        assert sorted(perm) == list(range(task.n ** 2)) and vmap[task.mask_id] == task.mask_id
        qv, sv = (sd.decode(vmap[task.encode(g[None])[0][perm]], box) for g in (p, s))
        assert sd.verify(qv[None], sv[None], box).solved[0]          # rules and givens hold in the view
        assert ((qv == 0) == (p[perm] == 0)).all()
        same = task.view(k)                                          # fixed: the same in every run
        assert (same[0] == perm).all() and (same[1] == vmap).all()
        seen.add(sv.tobytes())
    assert (task.view(0)[0] == np.arange(task.n ** 2)).all()
    assert len(seen) == task.VIEWS                                   # every view shows another grid


@pytest.mark.parametrize("shape", [(6, 6), (4, 7)])
def test_maze_views_are_the_grid_symmetries_that_keep_its_shape(shape):
    from puzzles import maze as mz
    task = MazeTask(*shape)
    rng = np.random.default_rng(0)
    for i in range(4):
        q = mz.generate_one(2, i, *shape, algorithm="kruskal", extra_open=0.2)
        t = mz.encode(q, mz.solve(q))
        part = np.where(rng.random(t.shape) < 0.3, mz.MASK, t)
        part[:task.rows * task.cols] = t[:task.rows * task.cols]          # the structure half is given
        part[rng.integers(task.rows * task.cols, len(t), 3)] = mz.ON      # and maybe a conflict
        seen = set()
        for k in range(task.VIEWS):
            perm, vmap = task.view(k)
            assert (vmap[t[perm]] == mz.dihedral(t, *shape, (0, 2, 4, 6)[k])).all()
            assert (vmap[mz.MASK], vmap[mz.ON], vmap[mz.OFF]) == (mz.MASK, mz.ON, mz.OFF)
            assert task.conflicts(vmap[part[perm]][None])[0] == task.conflicts(part[None])[0]
            seen.add(vmap[t[perm]].tobytes())
        assert len(seen) == task.VIEWS


class FrameOracle:
    """Sure of one known token row among ``known`` that agrees with every filled cell of
    the state; where none agrees, sure of ``known[0]`` (a wrong fill that the check
    rejects). So a puzzle is solved at once in the frame the oracle knows it in, and not
    at all in any other within a small budget."""

    def __init__(self, known: list[np.ndarray]):
        self.known = [torch.from_numpy(k.astype(np.int64)) for k in known]

    def __call__(self, x):
        out = torch.full((len(x), 81, 10), -20.0)
        for r, row in enumerate(x):
            filled = row != TASK.mask_id
            k = next((k for k in self.known if torch.equal(k[filled], row[filled])), self.known[0])
            out[r, torch.arange(81), k] = 10.0
        return out


def test_a_puzzle_unsolved_in_its_first_view_is_solved_in_the_next_and_mapped_back():
    (pa, sa), (pb, sb) = sd.generate_one(3, 0), sd.generate_one(3, 1)
    x = torch.from_numpy(TASK.encode(np.stack([pa, pb])))
    # the oracle knows puzzle A as given and puzzle B only in view 1
    model = FrameOracle([TASK.encode(sa[None])[0], in_view(TASK.encode(sb[None])[0], 1)])
    opts = OPTIONS["eb"](gamma=100.0).model_dump()
    run = lambda **g: guided_batch(model, TASK, x, "eb", opts, {"search": True, "search_budget": 12, **g},
                                   torch.Generator().manual_seed(0))
    one, st1 = run()
    assert torch.equal(one[0], x.new_tensor(TASK.encode(sa[None])[0])) and int(st1["nfe"][0]) == 1
    assert not sd.verify(pb[None], sd.decode(one[1:].numpy())).solved[0] and int(st1["nfe"][1]) == 12
    two, st2 = run(search_views=2, search_restart=5)
    assert sd.verify(np.stack([pa, pb]), sd.decode(two.numpy())).solved.all()
    assert torch.equal(two[1], x.new_tensor(TASK.encode(sb[None])[0]))     # B, mapped back from view 1
    assert st2["nfe"].tolist() == [1, 5 + 1]       # A is not decoded again; B: view 0's 5, then 1
    assert st2["tokens_per_step"][1][-1] == (pb == 0).sum() and st2["backtracks"][1] > 0   # view 0: dead ends
    three, st3 = run(search_views=3, search_restart=3)          # B's view 1 is the second of three
    assert torch.equal(three, two) and st3["nfe"].tolist() == [1, 3 + 1]


def test_the_last_view_gets_what_the_earlier_ones_left_of_the_budget():
    p, s = sd.generate_one(3, 1)
    x = torch.from_numpy(TASK.encode(p[None]))
    model = FrameOracle([in_view(TASK.encode(s[None])[0], 5)])   # known in no view of the first three
    opts = OPTIONS["eb"](gamma=100.0).model_dump()
    out, st = guided_batch(model, TASK, x, "eb", opts,
                           {"search": True, "search_budget": 17, "search_views": 3, "search_restart": 4},
                           torch.Generator().manual_seed(0))
    assert int(st["nfe"][0]) == 17 and (out != TASK.mask_id).all()   # 4 + 4 + 9: the whole budget, no more


def test_an_answer_the_verifier_rejects_goes_on_to_the_next_view():
    # a search may end at a complete, conflict-free answer that is still wrong (a maze path
    # longer than the shortest): the restart asks the verifier, not the conflict check
    from sampling.views import restart_decode
    ident = (torch.arange(3), torch.arange(4))
    calls = []

    def run(xv, budget):                  # view 0 ends at [1, 1, 1]; view 1 at [2, 2, 2]
        calls.append(budget)
        fill = 1 if len(calls) == 1 else 2
        return torch.full_like(xv, fill), {"nfe": torch.full((len(xv),), 2), "tokens_per_step": [[3]] * len(xv),
                                           "backtracks": [0] * len(xv), "branches": [0] * len(xv),
                                           "model_seconds": 0.0, "total_seconds": 0.0}
    out, st = restart_decode(run, torch.full((1, 3), 3), [ident, ident], restart=5, budget=9,
                             solved_fn=lambda t, rows: (t == 2).all(1))
    assert out.tolist() == [[2, 2, 2]] and st["nfe"].tolist() == [4] and calls == [5, 4]


def test_view_options_are_checked():
    assert SearchOptions(search=True, search_views=4).restart == 100
    assert SearchOptions(search=True, search_views=3, search_budget=100, search_restart=10).restart == 10
    for bad, match in (({"search_views": 2}, "apply with --search"),
                       ({"search": True, "search_restart": 5}, "--search-views 2 or more"),
                       ({"search": True, "search_views": 3, "search_restart": 200}, "leaves the last view"),
                       ({"search": True, "search_views": 0}, "greater than or equal"),
                       ({"search": True, "search_views": 9}, "less than or equal")):
        with pytest.raises(ValueError, match=match):
            SearchOptions(**bad)
    check_views(SudokuTask.VIEWS, SudokuTask.VIEWS)
    with pytest.raises(ValueError, match="this task has 4 views"):
        check_views(5, MazeTask.VIEWS)
    with pytest.raises(ValueError, match="no symmetries"):
        check_views(2, 1)


def test_recorded_views_fit_the_budget_and_the_task():
    from models.checkpoint import search_views_for
    meta = {"search_views": 4, "search_restart": 100}
    assert search_views_for(meta, 400, 8) == (4, 100)
    assert search_views_for(meta, 200, 8) == (4, 50)            # 3 x 100 leaves the last view nothing: split
    assert search_views_for(meta, 3, 8) is None                 # under one NFE a view
    assert search_views_for(meta, 400, 1) is None               # a task without views
    assert search_views_for({}, 400, 8) is None


def test_the_checkpoints_views_are_the_default_of_search_alone(tmp_path, capsys):
    import json

    from models.checkpoint import save_model
    from models.config import ModelConfig
    from models.transformer import PuzzleTransformer
    from scripts.compact import main as compact_main
    from solvers.sudoku import main
    torch.manual_seed(0)
    raw, ck = tmp_path / "raw.pt", tmp_path / "s.pt"
    model = PuzzleTransformer(ModelConfig(kind="mdm", d_model=32, n_layers=1, n_heads=2, **TASK.model_fields("mdm")))
    save_model(raw, model, vocab=TASK.vocab(), meta={})
    assert compact_main([str(raw), str(ck), "--search-views", "3", "--search-restart", "7"]) == 0
    p, _ = sd.generate_one(0, 0)
    one = sd.format_line(p)
    for extra, views in ((["--search"], (3, 7)), (["--search", "--search-budget", "12"], (3, 4)),
                         (["--search", "--search-views", "2"], (2, 200)), (["--search", "--trace", "t.json"], (1, None)),
                         ([], None)):
        capsys.readouterr()
        argv = ["--puzzle", one, "--checkpoint", str(ck), "--threads", "1", "--json", *extra]
        if "--trace" in extra:
            argv[argv.index("t.json")] = str(tmp_path / "t.json")
        assert main(argv) == 0
        guided = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["guided"]
        assert (guided and (guided["search_views"], guided["search_restart"])) == views
    for bad in (["--search-views", "3"], ["--search-views", "1", "--search-restart", "5"]):
        assert compact_main([str(raw), str(tmp_path / "x.pt"), *bad]) == 2
    assert not (tmp_path / "x.pt").exists()


def test_a_maze_search_that_ends_at_a_longer_path_goes_on_to_the_next_view():
    import networkx as nx

    from puzzles import maze as mz
    task = MazeTask(5, 5)
    L = task.rows * task.cols
    for i in range(200):                # a maze with a chordless S-G path longer than the shortest
        q = mz.generate_one(7, i, 5, 5, algorithm="wilson", extra_open=0.4)
        t = mz.encode(q)
        bits = t[:L] % 16
        g = nx.Graph((c, c + d) for c in range(L) for k, d in enumerate((-5, 1, 5, -1)) if bits[c] >> k & 1)
        s_cell, g_cell = int(np.argmax(t[:L] // 16 == 1)), int(np.argmax(t[:L] // 16 == 2))
        short = nx.shortest_path_length(g, s_cell, g_cell)
        longer = None
        for p in nx.all_simple_paths(g, s_cell, g_cell, cutoff=short + 6):
            cand = t.copy()
            cand[L:] = mz.OFF
            cand[L + np.array(p)] = mz.ON
            if len(p) - 1 > short and not task.conflicts(cand[None])[0]:
                longer = cand
                break
        if longer is not None:
            break
    right = mz.encode(q, mz.solve(q))
    model = MazeOracle([longer, in_maze_view(task, right, 1)], L)
    opts = OPTIONS["eb"](gamma=100.0).model_dump()
    guided = {"search": True, "search_budget": 10, "search_views": 2, "search_restart": 3}
    x = torch.from_numpy(t[None])
    plain, st = guided_batch(model, task, x, "eb", opts, guided, torch.Generator())
    assert torch.equal(plain[0], torch.from_numpy(longer)) and int(st["nfe"][0]) == 1   # conflict-free: stops
    out, st = guided_batch(model, task, x, "eb", opts, guided, torch.Generator(), questions=[q])
    assert task.verify([q], task.decode(out.numpy(), [q]))[0][0] and int(st["nfe"][0]) == 2


def in_maze_view(task, tokens, k):
    perm, vmap = task.view(k)
    return vmap[tokens[perm]]


class MazeOracle:
    """Sure of the known token row that agrees with every filled cell (else the first)."""

    def __init__(self, known, L):
        self.known, self.L = [torch.from_numpy(k.astype(np.int64)) for k in known], L

    def __call__(self, x):
        out = torch.full((len(x), x.shape[1], 51), -20.0)
        for r, row in enumerate(x):
            filled = row != 50
            k = next((k for k in self.known if torch.equal(k[filled], row[filled])), self.known[0])
            out[r, torch.arange(x.shape[1]), k] = 10.0
        return out
