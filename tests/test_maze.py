from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from puzzles import maze as mz
from puzzles.io import ParseError


def open_graph(m):
    """Independent oracle: networkx graph over non-wall characters."""
    g = nx.grid_2d_graph(*m.shape)
    g.remove_nodes_from([tuple(p) for p in np.argwhere(m == mz.WALL)])
    return g


def cell_graph(m):
    r, c = m.shape[0] // 2, m.shape[1] // 2
    g = nx.Graph()
    g.add_nodes_from((i, j) for i in range(r) for j in range(c))
    for i in range(r):
        for j in range(c):
            if j + 1 < c and m[2 * i + 1, 2 * j + 2] != mz.WALL:
                g.add_edge((i, j), (i, j + 1))
            if i + 1 < r and m[2 * i + 2, 2 * j + 1] != mz.WALL:
                g.add_edge((i, j), (i + 1, j))
    return g


@pytest.mark.parametrize("alg", mz.GENERATORS)
def test_generators_make_perfect_mazes_solved_by_bfs(alg):
    for i in range(5):
        q = mz.generate_one(0, i, 6, 7, algorithm=alg)
        assert nx.is_tree(cell_graph(q))
        mz.check_lattice(q)
        s = tuple(np.argwhere(q == mz.START)[0])
        g = tuple(np.argwhere(q == mz.GOAL)[0])
        assert mz.shortest_length(q) == nx.shortest_path_length(open_graph(q), s, g)
        a = mz.solve(q)
        assert mz.verify(q, a).solved


def test_loops_and_verifier_accepts_any_shortest_path():
    q = mz.parse_block(["#####", "#S  #", "# # #", "#  G#", "#####"])
    a1 = mz.parse_block(["#####", "#Soo#", "# #o#", "#  G#", "#####"], answer=True)
    a2 = mz.parse_block(["#####", "#S  #", "#o# #", "#ooG#", "#####"], answer=True)
    assert mz.verify(q, a1).solved and mz.verify(q, a2).solved
    m = mz.generate_one(0, 0, 8, 8, extra_open=0.3)
    assert not nx.is_tree(cell_graph(m))
    assert mz.verify(m, mz.solve(m)).solved


def test_verifier_reasons():
    q = mz.parse_block(["#########", "#S     G#", "#       #", "#       #", "#       #", "#########"])
    ok = mz.parse_block(["#########", "#SoooooG#", "#       #", "#       #", "#       #", "#########"], answer=True)
    assert mz.verify(q, ok).solved
    wall = ok.copy()
    wall[0, 3] = mz.PATH
    assert mz.verify(q, wall).reason == "through a wall"
    gap = ok.copy()
    gap[1, 4] = mz.OPEN
    assert mz.verify(q, gap).reason == "gap"
    branch = ok.copy()
    branch[2, 4] = mz.PATH
    assert mz.verify(q, branch).reason == "branch"
    loop = ok.copy()
    loop[3:5, 3:5] = mz.PATH
    assert mz.verify(q, loop).reason == "detached loop"
    changed = ok.copy()
    changed[2, 2] = mz.WALL
    assert mz.verify(q, changed).reason == "changed cell"


def test_detour_is_not_shortest_and_ties_are_accepted():
    q = mz.parse_block(["#######", "#S    #", "# # # #", "#    G#", "#######"])
    for rows in (["#######", "#Soo  #", "# #o# #", "#  ooG#", "#######"],
                 ["#######", "#Soooo#", "# # #o#", "#    G#", "#######"],
                 ["#######", "#S    #", "#o# # #", "#ooooG#", "#######"]):
        assert mz.verify(q, mz.parse_block(rows, answer=True)).solved
    q3 = mz.parse_block(["#########", "#S      #", "# ##### #", "#     G #", "#########"])
    long3 = mz.parse_block(["#########", "#Soooooo#", "# #####o#", "#     Go#", "#########"], answer=True)
    assert mz.verify(q3, long3).reason == "not shortest"


def test_dead_end_depth_on_a_corridor_with_a_spur():
    # S - a - G on top; a spur a-b-c below, and an isolated cell: 2 rounds, plus one.
    q = mz.parse_block(["#######", "#S   G#", "### ###", "#   # #", "#######"])
    assert mz.dead_end_depth(q) == 3
    assert mz.dead_end_depth(mz.parse_block(["#####", "#S G#", "#####"])) == 1


def test_io_roundtrip_and_errors(tmp_path):
    qs = [mz.generate_one(1, i, 4, 5) for i in range(3)]
    mz.write_file(str(tmp_path / "m.txt"), qs)
    back = mz.read_file(str(tmp_path / "m.txt"))
    assert all((a == b).all() for a, b in zip(qs, back))
    mz.write_file(str(tmp_path / "m.csv"), qs, [mz.solve(q) for q in qs])
    assert all((a == b).all() for a, b in zip(qs, mz.read_file(str(tmp_path / "m.csv"))))
    (tmp_path / "bad.txt").write_text("#####\n#S G#\n####\n")
    with pytest.raises(ParseError, match="ragged"):
        mz.read_file(str(tmp_path / "bad.txt"))
    (tmp_path / "bad.txt").write_text("#####\n#S  #\n#####\n")
    with pytest.raises(ParseError, match="exactly one G"):
        mz.read_file(str(tmp_path / "bad.txt"))
    (tmp_path / "bad.txt").write_text("#####\n#SGG#\n#####\n")
    with pytest.raises(ParseError, match="exactly one G"):
        mz.read_file(str(tmp_path / "bad.txt"))
    (tmp_path / "bad.txt").write_text("#####\n#SxG#\n#####\n")
    with pytest.raises(ParseError, match=r"bad.txt:2: maze 1: bad character 'x'"):
        mz.read_file(str(tmp_path / "bad.txt"))


@given(st.integers(0, 10_000))
def test_encode_decode_roundtrip(i):
    q = mz.generate_one(7, i, 5, 5)
    a = mz.solve(q)
    t = mz.encode(q, a)
    assert (mz.decode(t, q) == a).all()
    assert ((mz.encode(q)[25:] == mz.MASK) | (mz.encode(q)[25:] == mz.ON)).all()


@pytest.mark.parametrize("name,flags", [
    ("test.csv", ["--seed", "1"]),
    ("test-6.csv", ["--algorithm", "mixed", "--rows", "6", "--cols", "6", "--seed", "6"]),
    ("test-20.csv", ["--algorithm", "mixed", "--rows", "20", "--cols", "20", "--seed", "20"]),
])
def test_the_documented_commands_remake_the_shipped_sets(tmp_path, name, flags):
    """The generators draw exactly what they drew when the sets were made (datasets/README.md
    gives the commands): a faster generator that changed a single maze fails here."""
    from puzzles import generate
    out = tmp_path / name
    assert generate.main(["maze", *flags, "--count", "15", "--out", str(out)]) == 0
    shipped = (Path(__file__).resolve().parents[1] / "datasets" / "maze" / name).read_text().splitlines()
    assert out.read_text().splitlines() == shipped[:16]


@pytest.mark.parametrize("shape", [(4, 7), (5, 5)])
def test_training_batches_of_any_shape_hold_whole_paths(shape):
    # every row of a batch is a pool maze under a symmetry that keeps the grid: its path is a
    # simple S-G path (a quarter turn of a 4x7 grid read back as 4x7 would scramble it)
    from puzzles.tasks import MazeTask
    task = MazeTask(*shape)
    b = task.batch(task.make_pool(6, seed=1), np.random.default_rng(0), 40)
    for t in b.tokens:
        assert not mz.conflicts(t[None], *shape)[0]
        assert len(mz.path_cells(t, *shape)) + 1 == int((t[len(t) // 2:] == mz.ON).sum())   # S excluded
