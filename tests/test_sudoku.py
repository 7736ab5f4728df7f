import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from puzzles import sudoku as sd
from puzzles.io import ParseError


def oracle_solved(puzzle, grid, box):
    """Independent check: sets per row/col/box, givens kept, no blanks."""
    br, bc = box
    n = br * bc
    g = np.asarray(grid).reshape(n, n)
    p = np.asarray(puzzle).reshape(n, n)
    full = set(range(1, n + 1))
    if any(set(g[r]) != full for r in range(n)) or any(set(g[:, c]) != full for c in range(n)):
        return False
    for r0 in range(0, n, br):
        for c0 in range(0, n, bc):
            if set(g[r0:r0 + br, c0:c0 + bc].ravel()) != full:
                return False
    return bool(((p == 0) | (p == g)).all())


@pytest.fixture(scope="module")
def pairs():
    return [sd.generate_one(3, i) for i in range(12)]


def test_generated_puzzles_are_unique_and_in_range(pairs):
    for p, s in pairs:
        assert sd.count_solutions(p, limit=3) == 1
        assert 28 <= (p > 0).sum() <= 34
        assert oracle_solved(p, s, (3, 3))
        assert (sd.solve(p) == s).all()


def test_verifier_accepts_solution_and_rejects_every_single_cell_change(pairs):
    p, s = pairs[0]
    assert sd.verify(p[None], s[None]).solved[0]
    bad = []
    for c in range(81):
        for v in range(1, 10):
            if v != s[c]:
                g = s.copy()
                g[c] = v
                bad.append(g)
    bad = np.stack(bad)
    v = sd.verify(np.repeat(p[None], len(bad), 0), bad)
    assert not v.solved.any()
    assert all(not oracle_solved(p, g, (3, 3)) for g in bad[:50])
    assert v.bad_units.any(1).all()


@given(st.integers(0, 80), st.integers(0, 80))
def test_swaps_agree_with_oracle(a, b):
    p, s = sd.generate_one(3, 0)
    g = s.copy()
    g[a], g[b] = g[b], g[a]
    assert bool(sd.verify(p[None], g[None]).solved[0]) == oracle_solved(p, g, (3, 3))


def test_changed_given_and_blanks_are_reported(pairs):
    p, s = pairs[1]
    c = int(np.flatnonzero(p)[0])
    g = s.copy()
    g[c] = g[c] % 9 + 1
    v = sd.verify(p[None], g[None])
    assert v.given_changed[0] and not v.solved[0]
    g = s.copy()
    g[5] = 0
    v = sd.verify(p[None], g[None])
    assert v.blanks[0] == 1 and "1 blank" in v.reason(0)


@pytest.mark.parametrize("box", [(2, 2), (2, 3), (3, 3), (4, 4)])
def test_other_sizes_generate_solve_verify(box):
    n = box[0] * box[1]
    clues = {4: (5, 8), 6: (12, 18), 9: (30, 34), 16: (150, 180)}[n]
    p, s = sd.generate_one(1, 0, box, clues=clues)
    assert sd.count_solutions(p, box, 2) == 1
    assert oracle_solved(p, s, box)
    assert sd.verify(p[None], s[None], box).solved[0]
    line = sd.format_line(p, box)
    assert (sd.parse_line(line, box) == p).all()


@given(st.lists(st.integers(0, 16), min_size=256, max_size=256))
def test_parse_format_roundtrip_16(cells):
    g = np.array(cells, dtype=np.int8)
    assert (sd.parse_line(sd.format_line(g, (4, 4)), (4, 4)) == g).all()


def test_parse_errors_name_file_and_line(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("." * 81 + "\n" + "." * 80 + "\n")
    with pytest.raises(ParseError, match=r"p.txt:2: expected 81 cells"):
        sd.read_file(str(f))
    f.write_text("." * 80 + "A\n")
    with pytest.raises(ParseError, match="bad character 'A'"):
        sd.read_file(str(f))
    f.write_text("")
    with pytest.raises(ParseError, match="empty"):
        sd.read_file(str(f))
    c = tmp_path / "p.csv"
    c.write_text("quiz,answer\n" + "." * 81 + ",\n")
    with pytest.raises(ParseError, match="no 'question' column"):
        sd.read_file(str(c))


def test_hrm_csv_layout_loads(tmp_path, pairs):
    p, s = pairs[0]
    c = tmp_path / "hrm.csv"
    c.write_text("source,question,answer,rating\n"
                 f"x,{sd.format_line(p)},{sd.format_line(s)},12\n")
    q, a, box = sd.read_file(str(c))
    assert box == (3, 3) and (q[0] == p).all() and (a[0] == s).all()


def test_npz_roundtrip(tmp_path, pairs):
    p = np.stack([x for x, _ in pairs])
    s = np.stack([y for _, y in pairs])
    sd.write_file(str(tmp_path / "d.npz"), p, answers=s)
    q, a, _ = sd.read_file(str(tmp_path / "d.npz"))
    assert (q == p).all() and (a == s).all()


def test_puzzle_checks():
    p, _s = sd.generate_one(3, 1)
    assert sd.check_puzzle(p) == "ok"
    bad = p.copy()
    r0 = np.flatnonzero(p[:9])
    free = next(c for c in range(9) if p[c] == 0)
    bad[free] = p[r0[0]]                      # same digit twice in row 1
    assert sd.check_puzzle(bad) == "contradictory givens"
    assert sd.check_puzzle(np.zeros(81, np.int8)) == "several solutions"
    # Row 1 holds 1..8 and cell (2, 9) holds 9: consistent givens, no solution.
    nos = np.zeros(81, np.int8)
    nos[:8] = np.arange(1, 9)
    nos[17] = 9
    assert sd.check_puzzle(nos) == "no solution"


def test_singles_depth_matches_a_hand_count():
    # Grid with exactly one blank: one round.
    _p, s = sd.generate_one(3, 2)
    g = s.copy()
    g[10] = 0
    assert sd.singles_depth(g) == 1
    assert sd.singles_depth(s) == 0
    assert sd.singles_depth(np.zeros(81, np.int8)) is None


def test_symmetry_augmentation_keeps_validity_and_givens(pairs):
    rng = np.random.default_rng(0)
    p = np.stack([x for x, _ in pairs])
    s = np.stack([y for _, y in pairs])
    for _ in range(5):
        a, q = sd.augment(s, rng, (3, 3), p)
        assert sd.verify(q, a).solved.all()
        assert ((q == 0) == (sd.augment(s, np.random.default_rng(1), (3, 3), p)[1] == 0)).sum() > 0
        for qi, ai in zip(q, a):
            assert oracle_solved(qi, ai, (3, 3))
    a6, = sd.augment(np.stack([sd.generate_one(0, 0, (2, 3), clues=(14, 18))[1]]), rng, (2, 3))
    assert sd.verify(a6, a6, (2, 3)).solved.all()


def test_generation_is_deterministic_per_index():
    a = sd.generate_one(9, 4)
    b = sd.generate_one(9, 4)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


def test_difficulty_classes():
    p, _ = sd.generate_one(5, 0, difficulty="singles", depth=(3, 8))
    assert 3 <= sd.singles_depth(p) <= 8
    p, _ = sd.generate_one(5, 0, difficulty="guess", clues=(22, 30))
    assert sd.singles_depth(p) is None and sd.count_solutions(p) == 1


@pytest.mark.parametrize("box", [(2, 2), (2, 3), (3, 3)])
def test_a_swap_that_breaks_only_the_rows_or_only_the_columns_is_rejected(box):
    # two cells of one column and one box exchanged: that column and box keep their digits,
    # two rows get a repeat (and the same across, for columns); the verifier must see each
    n = box[0] * box[1]
    g = sd.random_grid(np.random.default_rng(4), box).reshape(n, n)
    for across in (False, True):
        bad = (g.T if across else g).copy()
        bad[[0, 1], 0] = bad[[1, 0], 0]          # rows 0 and 1 share a band, so a box
        bad = bad.T if across else bad
        v = sd.verify(np.zeros((1, n * n), np.int8), bad.reshape(1, -1), box)
        assert not v.solved[0] and v.bad_units[0].sum() == 2
        assert v.bad_units[0][n:3 * n].sum() == 0 if not across else v.bad_units[0][:n].sum() == 0


@pytest.mark.parametrize("box", [(2, 2), (2, 3), (3, 3)])
def test_a_latin_square_that_breaks_the_boxes_is_rejected(box):
    # every row and column a permutation, the boxes not: a Latin square is not a Sudoku
    n = box[0] * box[1]
    g = ((np.arange(n)[:, None] + np.arange(n)[None]) % n + 1).reshape(1, -1)
    v = sd.verify(np.zeros_like(g), g, box)
    assert not v.solved[0]
