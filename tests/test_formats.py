"""Neighbours' formats: reasoning-gym's Sudoku grid text, maze-dataset's ASCII and objects."""
import os

import numpy as np
import pytest
from hypothesis import given

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.interop import connections, grid_from, path_cells
from puzzles.io import ParseError
from puzzles.strategies import mazes, sudoku_puzzles
from solvers import maze as solve_maze
from solvers import sudoku as solve_sudoku


@given(pair=sudoku_puzzles((3, 3)))
def test_reasoning_gym_grid_text_round_trips(tmp_path_factory, pair):
    puzzle, solution = pair
    d = tmp_path_factory.mktemp("rg")
    sd.write_file(d / "p.txt", np.stack([puzzle, solution]), style="grid")
    text = (d / "p.txt").read_text()
    assert "_" in text.split("\n\n")[0] and len(text.split("\n\n")[0].splitlines()) == 9
    q, _, box = sd.read_file(str(d / "p.txt"))
    assert box == (3, 3) and (q[0] == puzzle).all() and (q[1] == solution).all()


def test_reasoning_gym_file_is_solved_and_verified(tmp_path, capsys):
    p, _s = sd.generate_one(5, 0)
    f = tmp_path / "rg.txt"
    f.write_text(sd.format_grid_text(p) + "\n\n" + sd.format_grid_text(sd.generate_one(5, 1)[0]) + "\n")
    out = tmp_path / "ans.txt"
    assert solve_sudoku.main(["--input", str(f), "--output", str(out), "--output-format", "reasoning-gym",
                              "--quiet", "--limit", "2"]) == 0
    text = out.read_text()
    assert len(text.strip().split("\n\n")) == 2 and "_" not in text
    ans, _, _ = sd.read_file(str(out))
    assert ans.shape == (2, 81) and ((p == 0) | (ans[0] == p)).all()


def test_reasoning_gym_grid_errors_name_the_line(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("\n".join(["1 2 3 4 5 6 7 8 9"] * 4 + ["1 2 3"] + ["1 2 3 4 5 6 7 8 9"] * 4) + "\n")
    with pytest.raises(ParseError, match="bad.txt:5: grid row has 3 symbols"):
        sd.read_file(str(f))


@given(mazes(rows=4, cols=5, loops=True))
def test_maze_dataset_ascii_round_trips(pair):
    q, a = pair
    text = mz.format_block(a, style="maze-dataset")
    assert "E" in text and "G" not in text and "o" not in text
    assert (mz.parse_block(text.split("\n"), answer=True) == a).all()
    qt = mz.format_block(q, style="maze-dataset")
    assert (mz.parse_block(qt.split("\n")) == q).all()


def test_cells_only_path_marks_get_their_passages(tmp_path):
    q = mz.generate_one(3, 0, 4, 4)
    a = mz.solve(q)
    cells_only = a.copy()
    passage = np.ones_like(a, bool)
    passage[1::2, 1::2] = False
    cells_only[passage & (a == mz.PATH)] = mz.OPEN
    text = mz.format_block(cells_only, style="maze-dataset")
    assert (mz.parse_block(text.split("\n"), answer=True) == a).all()


def test_maze_dataset_file_is_solved_and_verified(tmp_path, capsys):
    qs = [mz.generate_one(9, i) for i in range(3)]
    f = tmp_path / "md.txt"
    f.write_text("\n\n".join(mz.format_block(q, style="maze-dataset") for q in qs) + "\n")
    out = tmp_path / "ans.txt"
    assert solve_maze.main(["--input", str(f), "--output", str(out), "--output-format", "maze-dataset",
                            "--quiet"]) == 0
    assert "E" in out.read_text() and "G" not in out.read_text()
    assert len(mz.read_file(str(out), answers=True)) == 3


@given(mazes(rows=5, cols=4, loops=True))
def test_connection_list_round_trips(pair):
    q, a = pair
    conn = connections(q)
    s = np.argwhere(q == mz.START)[0] // 2
    g = np.argwhere(q == mz.GOAL)[0] // 2
    q2, a2 = grid_from(conn, s, g, path_cells(a))
    assert (q2 == q).all() and (a2 == a).all()


def test_maze_dataset_objects_when_installed():
    # .ci/run installs the interop extra and sets RUN_INTEROP_TEST, so there it runs, never skips
    md = __import__("maze_dataset") if os.environ.get("RUN_INTEROP_TEST") else pytest.importorskip("maze_dataset")
    from maze_dataset.generation import LatticeMazeGenerators

    from puzzles.interop import from_maze_dataset, to_maze_dataset
    for k in range(5):
        np.random.seed(k)       # maze-dataset draws from numpy's global generator
        m = LatticeMazeGenerators.gen_dfs(np.array([6, 7]))
        sm = md.SolvedMaze.from_lattice_maze(m, m.find_shortest_path((0, 0), (5, 6)))
        q, a = from_maze_dataset(sm)
        assert mz.verify(q, a).solved
        ours = mz.parse_block(sm.as_ascii().split("\n"), answer=True)
        assert (ours == a).all()
        back = to_maze_dataset(q, a)
        assert (np.asarray(back.connection_list) == np.asarray(sm.connection_list)).all()
        assert (np.asarray(back.solution) == np.asarray(sm.solution)).all()


def test_maze_dataset_sets_write_verified_mazes(tmp_path):
    if not os.environ.get("RUN_INTEROP_TEST"):
        pytest.importorskip("maze_dataset")
    from scripts.maze_dataset_sets import main
    out = tmp_path / "md.csv"
    assert main(["--generator", "dfs_percolation", "--rows", "5", "--cols", "7", "--count", "6", "--seed", "1",
                 "--out", str(out)]) == 0
    qs, ans = mz.read_file(str(out)), mz.read_file(str(out), answers=True)
    assert len(qs) == 6 and all(q.shape == (11, 15) and mz.verify(q, a).solved for q, a in zip(qs, ans))
    assert main(["--p", "2", "--out", str(tmp_path / "x.csv")]) == 2
