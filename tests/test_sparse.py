"""The sparse Sudoku generator (issue 10): unique, minimal, and the clue counts it claims."""
import numpy as np
import pytest

from puzzles import generate
from puzzles import sudoku as sd
from puzzles.sudoku.generate import generate_sparse, is_minimal, sparsify
from tests.helpers import exit_code


@pytest.mark.parametrize("box,target", [((2, 2), 4), ((3, 3), 20)])
def test_sparse_puzzles_are_unique_minimal_and_keep_their_solution(box, target):
    for i in range(3):
        p, s = generate_sparse(11, i, box, target=target, steps=150)
        assert sd.count_solutions(p, box, 2) == 1
        assert sd.solve(p, box).tolist() == s.tolist()
        assert is_minimal(p, box)


def test_sparsify_never_adds_clues_and_stops_at_the_target():
    p, s = sd.generate_one(5, 0, clues=(0, 81), minimal=True)
    rng = np.random.default_rng(0)
    q, tried = sparsify(p, s, rng, target=81, steps=100)
    assert tried == 0 and np.count_nonzero(q) == np.count_nonzero(p)          # already at the target
    q, tried = sparsify(p, s, rng, target=17, steps=60)
    assert tried == 60 and np.count_nonzero(q) <= np.count_nonzero(p)
    assert ((q == 0) | (q == s)).all()


def test_is_minimal_sees_a_removable_clue():
    p, s = sd.generate_one(5, 1, clues=(0, 81), minimal=True)
    assert is_minimal(p)
    blank = int(np.flatnonzero(p == 0)[0])
    q = p.copy()
    q[blank] = s[blank]
    assert not is_minimal(q)


def test_generate_cli_sparse_writes_the_clue_counts_it_claims(tmp_path):
    out = tmp_path / "sp.csv"
    assert generate.main(["sudoku", "--count", "3", "--sparse", "21", "--sparse-steps", "50", "--seed", "2",
                          "--out", str(out)]) == 0
    q, _a, _ = sd.read_file(str(out))
    import csv
    rows = list(csv.DictReader(out.open()))
    assert [int(r["clues"]) for r in rows] == [int(np.count_nonzero(x)) for x in q]
    assert all(is_minimal(x) and sd.count_solutions(x) == 1 for x in q)
    assert exit_code(generate.main, ["sudoku", "--count", "3", "--sparse", "21", "--minimal",
                                     "--out", str(tmp_path / "x.csv")]) == 2
    assert exit_code(generate.main, ["sudoku", "--count", "3", "--sparse", "12",
                                     "--out", str(tmp_path / "x.csv")]) == 2
