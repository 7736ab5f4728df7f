"""One maze MDM for every size: uniform tied paths, shape-aware positions, bucketed decoding,
grown embeddings, the multi-size training stream and the size limit at the command line."""
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import torch

from models.checkpoint import save_model
from models.config import ModelConfig
from models.transformer import PuzzleTransformer
from puzzles import maze as mz
from puzzles.maze.solve import random_shortest_path
from puzzles.tasks import MazeTask
from solvers.decode import decode
from solvers.training.config import TrainConfig
from solvers.training.data import maze_stream_batch
from solvers.training.loop import grown_state


def tiny(any_size=True, side=6, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(kind="mdm", task="maze", vocab_size=mz.VOCAB_SIZE, mask_id=mz.MASK, out_tokens=(mz.OFF, mz.ON),
                      rows=side, cols=side, paired=True, rel_bias="grid", any_size=any_size, d_model=32,
                      n_layers=1, n_heads=2)
    return PuzzleTransformer(cfg).eval()


def all_shortest_paths(q):
    """Independent oracle: every shortest S-G path as a frozenset of characters (networkx)."""
    g = nx.grid_2d_graph(*q.shape)
    g.remove_nodes_from([tuple(p) for p in np.argwhere(q == mz.WALL)])
    s, t = tuple(np.argwhere(q == mz.START)[0]), tuple(np.argwhere(q == mz.GOAL)[0])
    return [frozenset(p) for p in nx.all_shortest_paths(g, s, t)]


def test_random_shortest_path_is_uniform_over_tied_paths():
    q = mz.generate_one(1, 3, 6, 6, extra_open=0.5)
    paths = all_shortest_paths(q)
    assert len(paths) == 8                     # ties, and of unequal structure (some share more cells)
    rng = np.random.default_rng(0)
    n = 4000
    seen = Counter()
    for _ in range(n):
        a = random_shortest_path(q, rng)
        assert mz.verify(q, a).solved
        marked = frozenset(map(tuple, np.argwhere((a == mz.PATH) | (a == mz.START) | (a == mz.GOAL))))
        seen[marked] += 1
    assert set(seen) == set(paths)
    # each count ~ Binomial(4000, 1/8): mean 500, sd 20.9; +-110 is 5.3 sd, so a false
    # failure has probability < 1e-6 over the 8 paths. Picking neighbours uniformly
    # instead of by path counts gives counts far outside it on this maze.
    assert all(abs(c - n / 8) < 110 for c in seen.values()), seen


def test_random_shortest_path_on_a_tree_is_the_path():
    q = mz.generate_one(2, 0, 7, 5)
    assert np.array_equal(random_shortest_path(q, np.random.default_rng(1)), mz.solve(q))


def test_grid_bias_at_full_size_equals_the_fixed_layout():
    m = tiny(side=5)
    pos, bias = m._grid_bias(5, 5, "cpu")
    assert torch.equal(pos, m._pos(0, 25, "cpu"))
    assert torch.equal(bias, m._bias(0, 25, 25))


def test_rectangular_grid_relations_follow_rows_and_columns():
    m = tiny(side=8)
    with torch.no_grad():
        m.rel_bias.copy_(torch.arange(m.rel_bias.numel(), dtype=torch.float).view_as(m.rel_bias))
    r, c = 3, 7
    _, bias = m._grid_bias(r, c, "cpu")
    k = m.cfg.grid_radius
    for a in range(r * c):
        for b in (0, 5, r * c - 1):
            dr = max(-k, min(k, a // c - b // c)) + k
            dc = max(-k, min(k, a % c - b % c)) + k
            assert bias[0, 1, a, b] == m.rel_bias[dr * (2 * k + 1) + dc, 1]


def test_shapes_a_model_reads():
    m = tiny(side=6)
    x = torch.from_numpy(mz.encode(mz.generate_one(0, 0, 4, 6)))[None]
    assert m(x, shape=(4, 6)).shape == (1, 48, mz.VOCAB_SIZE)
    with pytest.raises(ValueError, match="pass shape"):
        m(x)                                    # 24 cells: not square, shape needed
    with pytest.raises(ValueError, match="up to 6x6"):
        m.at_shape(7, 3)
    fixed = tiny(any_size=False, side=6)
    with pytest.raises(ValueError, match="6x6"):
        fixed(x, shape=(4, 6))


def test_mixed_shapes_decode_in_input_order_like_each_shape_alone():
    m = tiny(side=8)
    qs = [mz.generate_one(5, i, *shape) for i, shape in enumerate([(4, 4), (6, 8), (4, 4), (8, 8), (6, 8)])]
    kw = {"sampler": "topk", "options": {"k": 1}, "batch_size": 10, "device": "cpu", "progress": False}
    answers, st = decode(m, MazeTask(), qs, **kw)
    for shape in {q.shape for q in qs}:
        idx = [i for i, q in enumerate(qs) if q.shape == shape]
        sub = MazeTask(rows=shape[0] // 2, cols=shape[1] // 2)
        alone, st1 = decode(m, sub, [qs[i] for i in idx], **kw)
        for j, i in enumerate(idx):
            assert np.array_equal(answers[i], alone[j])
            assert st["nfe"][i] == st1["nfe"][j] == (shape[0] // 2) * (shape[1] // 2) - 2   # top-1: one per cell


def test_grown_embeddings_keep_the_parent_rows():
    small, big = tiny(side=4).state_dict(), tiny(side=6, seed=1).state_dict()
    out = grown_state(small, big)
    for key in ("row.weight", "col.weight"):
        assert torch.equal(out[key][:4], small[key]) and torch.equal(out[key][4:], big[key][4:])
    assert torch.equal(out["tok.weight"], small["tok.weight"])


def test_stream_batches_hold_one_shape_of_valid_targets_and_skip_held_out():
    cfg = TrainConfig(task="maze", model="mdm", maze_max=9, maze_min=4, batch_cells=300, pool_seed=7)
    first = maze_stream_batch({"cfg": cfg, "held_out": set()}, np.random.default_rng([0, 0, 3]), 3)
    held = {first.tokens[0][:first.shape[0] * first.shape[1]].tobytes()}
    shapes = set()
    for step in range(12):
        b = maze_stream_batch({"cfg": cfg, "held_out": held}, np.random.default_rng([0, 0, step]), step)
        r, c = b.shape
        shapes.add(b.shape)
        assert 4 <= r <= 9 and 4 <= c <= 9 and b.tokens.shape == (max(1, 300 // (r * c)), 2 * r * c)
        for t in b.tokens:
            assert t[:r * c].tobytes() not in held
            q = np.full((2 * r + 1, 2 * c + 1), mz.WALL, np.uint8)   # rebuild the maze from its tokens
            st = t[:r * c].reshape(r, c)
            q[1::2, 1::2] = np.where(st // 16 == 1, mz.START, np.where(st // 16 == 2, mz.GOAL, mz.OPEN))
            q[1::2, 2:-1:2][(st[:, :-1] >> 1) & 1 == 1] = mz.OPEN
            q[2:-1:2, 1::2][(st[:-1] >> 2) & 1 == 1] = mz.OPEN
            assert mz.verify(q, mz.decode(t, q)).solved
        assert not b.maskable[:, :r * c].any() and (b.maskable[:, r * c:] == (b.tokens[:, :r * c] < 16)).all()
    assert len(shapes) > 3


def test_cli_names_the_largest_size(tmp_path, capsys):
    from solvers.maze import main
    ck = tmp_path / "m.pt"
    save_model(ck, tiny(side=6), vocab=mz.vocab(), meta={})
    big = mz.format_block(mz.generate_one(0, 0, 7, 7)).replace("\n", "|")
    assert main(["--puzzle", big, "--checkpoint", str(ck), "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "maze 1 is 7x7 cells" in err and "up to 6x6" in err and "Traceback" not in err
    small = mz.format_block(mz.generate_one(0, 0, 3, 5)).replace("\n", "|")
    assert main(["--puzzle", small, "--checkpoint", str(ck), "--threads", "1", "--sampler", "topk"]) == 0


def test_the_checkpoints_validated_gamma_is_the_default(tmp_path, capsys):
    import json

    from scripts.compact import main as compact_main
    from solvers.maze import main
    raw, ck = tmp_path / "raw.pt", tmp_path / "m.pt"
    save_model(raw, tiny(side=6), vocab=mz.vocab(), meta={})
    assert compact_main([str(raw), str(ck), "--eb-gamma", "0.37"]) == 0
    one = mz.format_block(mz.generate_one(0, 0, 4, 4)).replace("\n", "|")
    for extra, gamma in (([], 0.37), (["--gamma", "0.05"], 0.05)):
        capsys.readouterr()
        assert main(["--puzzle", one, "--checkpoint", str(ck), "--threads", "1", "--json", *extra]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["options"]["gamma"] == gamma
    assert compact_main([str(raw), str(tmp_path / "x.pt"), "--eb-gamma", "-1"]) == 2


def test_the_checkpoints_search_gamma_is_the_default_of_search_alone(tmp_path, capsys):
    import json

    from scripts.compact import main as compact_main
    from solvers.maze import main
    raw, ck = tmp_path / "raw.pt", tmp_path / "m.pt"
    save_model(raw, tiny(side=6), vocab=mz.vocab(), meta={})
    assert compact_main([str(raw), str(ck), "--eb-gamma", "0.37", "--eb-gamma-from-side", "4=0.2",
                         "--search-gamma", "0.05"]) == 0
    one = mz.format_block(mz.generate_one(0, 0, 4, 4)).replace("\n", "|")
    for extra, gamma in (([], 0.2), (["--search"], 0.05), (["--search", "--gamma", "0.1"], 0.1)):
        capsys.readouterr()
        assert main(["--puzzle", one, "--checkpoint", str(ck), "--threads", "1", "--json", *extra]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["options"]["gamma"] == gamma
    assert compact_main([str(raw), str(tmp_path / "x.pt"), "--search-gamma", "-1"]) == 2
    assert "--search-gamma: must be >= 0" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()


def test_gamma_bands_go_by_the_larger_side():
    from models.checkpoint import eb_gamma_for
    meta = {"eb_gamma": 0.01, "eb_gamma_from_side": {"11": 0.005, "16": 0.001}}
    assert [eb_gamma_for(meta, s) for s in ((4, 4), (10, 10), (11, 3), (15, 15), (10, 16), (20, 20), (30, 30))] \
        == [0.01, 0.01, 0.005, 0.005, 0.001, 0.001, 0.001]
    assert eb_gamma_for(meta) == 0.01 and eb_gamma_for({"eb_gamma": 0.2}, (20, 20)) == 0.2
    assert eb_gamma_for({}, (6, 6)) is None
    assert eb_gamma_for(dict(meta, search_gamma=0.03), (20, 20), search=True) == 0.03
    assert eb_gamma_for(dict(meta, search_gamma=0.03), (20, 20)) == 0.001
    assert eb_gamma_for(meta, (20, 20), search=True) == 0.001      # no search gamma: the plain one


def test_decode_takes_each_shapes_own_options():
    qs = [mz.generate_one(0, i, *shape) for i, shape in enumerate(((4, 4), (6, 6), (4, 4)))]
    m, task = tiny(side=6), MazeTask(rows=6, cols=6)
    gamma = {(4, 4): 1e9, (6, 6): 0.0}         # 4x4: every cell in one pass; 6x6: one cell per pass
    _, st = decode(m, task, qs, sampler="eb", options={"gamma": 0.5}, batch_size=8, device="cpu", progress=False,
                   shape_options=lambda shape: {"gamma": gamma[shape]})
    masked = [int((task.sized(*task.grid_of(q)).encode([q]) == mz.MASK).sum()) for q in qs]
    assert list(st["nfe"]) == [1, masked[1], 1] and masked[1] > 1


def test_the_checkpoints_gamma_bands_reach_the_cli(tmp_path, capsys):
    import json

    from scripts.compact import main as compact_main
    from solvers.maze import main
    raw, ck, src = tmp_path / "raw.pt", tmp_path / "m.pt", tmp_path / "two.txt"
    save_model(raw, tiny(side=6), vocab=mz.vocab(), meta={})
    # 4x4: a gamma that commits every cell in one pass; from side 5 on: one cell per pass
    assert compact_main([str(raw), str(ck), "--eb-gamma", "1e9", "--eb-gamma-from-side", "5=0"]) == 0
    qs = [mz.generate_one(0, i, s, s) for i, s in enumerate((4, 6))]
    src.write_text("\n\n".join(mz.format_block(q) for q in qs) + "\n")
    capsys.readouterr()
    assert main(["--input", str(src), "--checkpoint", str(ck), "--threads", "1", "--json", "--quiet",
                 "--report", str(tmp_path / "r.csv")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["options"]["gamma"] \
        == {"4x4": 1e9, "6x6": 0.0}
    nfe = [int(r.split(",")[3]) for r in (tmp_path / "r.csv").read_text().splitlines()[1:]]
    assert nfe == [1, int((MazeTask(rows=6, cols=6).encode([qs[1]]) == mz.MASK).sum())] and nfe[1] > 1
    for bad, says in ((["5"], "not SIDE=GAMMA"), (["5=-1"], "GAMMA >= 0"), (["5=0.1", "5=0.2"], "given twice")):
        assert compact_main([str(raw), str(tmp_path / "x.pt"), "--eb-gamma", "0.1",
                             "--eb-gamma-from-side", *bad]) == 2
        assert says in capsys.readouterr().err
    assert compact_main([str(raw), str(tmp_path / "x.pt"), "--eb-gamma-from-side", "5=0.1"]) == 2
    assert "give --eb-gamma too" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()
