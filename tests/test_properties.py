"""Property tests over the puzzles: Sudoku and mazes (samplers, search, models: test_properties_decoding.py).

They draw from ``puzzles.strategies``; the oracles (networkx graphs, a sequential
singles solver) are written here, independently of the code under test. The ``ci``
hypothesis profile (tests/conftest.py) keeps the suite fast; run
``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties*.py`` for more.
"""
import networkx as nx
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.strategies import (
    MAZE_CORRUPTIONS,
    SUDOKU_CORRUPTIONS,
    maze_corruptions,
    mazes,
    sudoku_corruptions,
    sudoku_puzzles,
    sudoku_solutions,
)

BOXES = st.sampled_from([(2, 2), (2, 3), (3, 3)])
SMALL = st.sampled_from([(2, 2), (2, 3)])


# ----------------------------------------------------------------------------- oracles
def singles_solve(puzzle, box):
    """Sequential naked + hidden singles to a fixed point (independent of puzzles.sudoku)."""
    n = box[0] * box[1]
    g = np.array(puzzle, dtype=int).reshape(n, n)

    def units():
        for r in range(n):
            yield [(r, c) for c in range(n)]
        for c in range(n):
            yield [(r, c) for r in range(n)]
        for br in range(0, n, box[0]):
            for bc in range(0, n, box[1]):
                yield [(br + i, bc + j) for i in range(box[0]) for j in range(box[1])]
    us = list(units())

    def cands(r, c):
        seen = {g[p] for u in us if (r, c) in u for p in u}
        return set(range(1, n + 1)) - seen
    progress = True
    while progress:
        progress = False
        for r in range(n):
            for c in range(n):
                if g[r, c] == 0 and len(cands(r, c)) == 1:
                    g[r, c] = cands(r, c).pop()
                    progress = True
        for u in us:
            for v in range(1, n + 1):
                if any(g[p] == v for p in u):
                    continue
                spots = [p for p in u if g[p] == 0 and v in cands(*p)]
                if len(spots) == 1:
                    g[spots[0]] = v
                    progress = True
    return g.reshape(-1)


def char_graph(m):
    g = nx.grid_2d_graph(*m.shape)
    g.remove_nodes_from([tuple(p) for p in np.argwhere(m == mz.WALL).tolist()])
    return g


def maze_from_tokens(tokens, rows, cols):
    """Rebuild the character grid from structure tokens (passage bits E=1<<1, S=1<<2; S/G flags)."""
    L = rows * cols
    struct = tokens[:L].reshape(rows, cols)
    state = tokens[L:].reshape(rows, cols)
    m = np.zeros((2 * rows + 1, 2 * cols + 1), np.uint8)
    ans = None
    for i in range(rows):
        for j in range(cols):
            flag, bits = divmod(int(struct[i, j]), 16)
            m[2 * i + 1, 2 * j + 1] = (mz.OPEN, mz.START, mz.GOAL)[flag]
            if bits & 2:
                m[2 * i + 1, 2 * j + 2] = mz.OPEN
            if bits & 4:
                m[2 * i + 2, 2 * j + 1] = mz.OPEN
    ans = mz.decode(np.concatenate([tokens[:L], state.reshape(-1)]), m)
    return m, ans


# ----------------------------------------------------------------------------- Sudoku
@given(BOXES.flatmap(lambda b: st.tuples(st.just(b), sudoku_solutions(b))))
def test_verifier_accepts_every_solution(arg):
    box, sol = arg
    v = sd.verify(np.zeros_like(sol)[None], sol[None], box)
    assert v.solved.all()
    assert v.reason(0, box) == "solved"


@given(SMALL.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b)))
       .flatmap(lambda a: st.tuples(st.just(a), sudoku_corruptions(*a[1], box=a[0]))))
def test_verifier_rejects_every_corruption_with_its_reason(arg):
    (box, (puzzle, _solution)), (grid, kind) = arg
    v = sd.verify(puzzle[None], grid[None], box)
    assert not v.solved[0]
    assert v.reason(0, box).startswith(SUDOKU_CORRUPTIONS[kind])


@given(SMALL.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b)))
       .flatmap(lambda a: st.tuples(st.just(a), sudoku_corruptions(*a[1], box=a[0])))
       .filter(lambda a: a[1][1] == "digits swapped everywhere"))
def test_swapped_digits_are_a_valid_grid_that_only_the_givens_reject(arg):
    (box, (puzzle, _solution)), (grid, _) = arg
    assert sd.verify(np.zeros_like(puzzle)[None], grid[None], box).solved[0]   # every unit a permutation
    assert not sd.verify(puzzle[None], grid[None], box).solved[0]


@given(SMALL.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b, clues=(0, 8), unique=False))))
def test_solver_agrees_with_count_solutions(arg):
    box, (puzzle, _) = arg
    count = sd.count_solutions(puzzle, box, limit=2)
    sol = sd.solve(puzzle, box)
    assert count >= 1 and sol is not None          # blanks of a solution always admit it
    assert sd.verify(puzzle[None], sol[None], box).solved[0]
    assert sd.check_puzzle(puzzle, box) == ("ok" if count == 1 else "several solutions")


@given(BOXES.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b))))
def test_unique_puzzles_have_their_solution(arg):
    box, (puzzle, solution) = arg
    assert sd.count_solutions(puzzle, box, limit=2) == 1
    assert (sd.solve(puzzle, box) == solution).all()
    assert ((puzzle == 0) | (puzzle == solution)).all()


@given(st.integers(0, 10**6), SMALL)
def test_generator_minimal_puzzles_are_unique_and_minimal(seed, box):
    n2 = (box[0] * box[1]) ** 2
    p, s = sd.generate_one(seed, 0, box, clues=(0, n2), minimal=True)
    assert sd.count_solutions(p, box) == 1 and (sd.solve(p, box) == s).all()
    for c in np.flatnonzero(p):
        q = p.copy()
        q[c] = 0
        assert sd.count_solutions(q, box) == 2, "a clue could go"


@given(BOXES.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b))))
def test_singles_depth_is_none_exactly_when_singles_stall(arg):
    box, (puzzle, solution) = arg
    d = sd.singles_depth(puzzle, box)
    filled = singles_solve(puzzle, box)
    assert (d is None) == bool((filled == 0).any())
    if d is not None:
        assert (filled == solution).all()
        assert 1 <= d <= int((puzzle == 0).sum()) or (d == 0 and (puzzle != 0).all())


@given(SMALL.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b))), st.integers(0, 2**32 - 1))
def test_augmentation_preserves_validity_and_uniqueness(arg, seed):
    box, (puzzle, solution) = arg
    s2, p2 = sd.augment(solution[None], np.random.default_rng(seed), box, puzzle[None])
    assert sd.verify(p2, s2, box).solved[0]
    assert sd.count_solutions(p2[0], box) == 1
    assert (p2[0] != 0).sum() == (puzzle != 0).sum()


@given(BOXES.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b, unique=False))))
def test_sudoku_text_and_tokens_round_trip(arg):
    box, (puzzle, _) = arg
    assert (sd.parse_line(sd.format_line(puzzle, box), box) == puzzle).all()
    assert (sd.decode(sd.encode(puzzle[None], box), box)[0] == puzzle).all()
    assert (sd.encode(puzzle[None], box)[0][puzzle == 0] == sd.mask_id(box)).all()


@given(SMALL.flatmap(lambda b: st.tuples(st.just(b), sudoku_puzzles(b, unique=False))), st.data())
def test_conflicts_flag_planted_repeats_only(arg, data):
    box, (puzzle, solution) = arg
    n = box[0] * box[1]
    assert not sd.conflicts(puzzle[None], box)[0]            # part of a valid grid
    blanks = np.flatnonzero(puzzle == 0)
    if blanks.size:
        c = data.draw(st.sampled_from(blanks.tolist()))
        row = c // n
        other = data.draw(st.sampled_from([k for k in range(row * n, row * n + n) if k != c]))
        bad = puzzle.copy()
        bad[c] = solution[other]                            # repeats the value at `other`
        bad[other] = solution[other]
        assert sd.conflicts(bad[None], box)[0]


# ----------------------------------------------------------------------------- mazes
@given(mazes(rows=6, cols=7, loops=True))
def test_maze_verifier_accepts_bfs_answer(pair):
    q, a = pair
    mz.check_lattice(q)
    assert mz.verify(q, a).solved
    s = tuple(np.argwhere(q == mz.START)[0].tolist())
    g = tuple(np.argwhere(q == mz.GOAL)[0].tolist())
    assert mz.shortest_length(q) == nx.shortest_path_length(char_graph(q), s, g)


@given(st.booleans().flatmap(lambda loops: mazes(rows=5, cols=6, loops=loops))
       .flatmap(lambda p: st.tuples(st.just(p), maze_corruptions(*p))))
def test_maze_verifier_rejects_every_corruption_with_its_reason(arg):
    (q, _), (bad, kind) = arg
    assert mz.verify(q, bad).reason == MAZE_CORRUPTIONS[kind]


@given(mazes(rows=5, cols=5, loops=True))
def test_count_shortest_paths_matches_networkx(pair):
    q, _ = pair
    s = tuple(np.argwhere(q == mz.START)[0].tolist())
    g = tuple(np.argwhere(q == mz.GOAL)[0].tolist())
    n = sum(1 for _ in nx.all_shortest_paths(char_graph(q), s, g))
    assert mz.count_shortest_paths(q, cap=1000) == n


@given(mazes(rows=6, cols=6))
def test_dead_end_depth_is_one_plus_farthest_cell_from_the_path(pair):
    # In a perfect maze each round of dead-end filling removes the current leaves, so the
    # rounds needed are the largest cell distance from the S-G path (networkx oracle).
    q, a = pair
    g = nx.Graph()
    g.add_nodes_from((i, j) for i in range(6) for j in range(6))
    g.add_edges_from(((i, j), (i, j + 1)) for i in range(6) for j in range(5) if q[2 * i + 1, 2 * j + 2] != mz.WALL)
    g.add_edges_from(((i, j), (i + 1, j)) for i in range(5) for j in range(6) if q[2 * i + 2, 2 * j + 1] != mz.WALL)
    assert nx.is_tree(g)
    on_path = [(i, j) for i in range(6) for j in range(6) if a[2 * i + 1, 2 * j + 1] != mz.OPEN]
    dist = nx.multi_source_dijkstra_path_length(g, on_path)
    assert mz.dead_end_depth(q) == 1 + max(dist.values())
    assert len(on_path) == mz.shortest_length(q) // 2 + 1


@given(mazes(rows=5, cols=7, loops=True))
def test_maze_text_and_tokens_round_trip(pair):
    q, a = pair
    assert (mz.parse_block(mz.format_block(a).split("\n"), answer=True) == a).all()
    t = mz.encode(q, a)
    assert (mz.decode(t, q) == a).all()
    assert (mz.encode(q)[:35] == t[:35]).all()


@given(mazes(rows=6, cols=6, loops=True), st.integers(0, 7))
def test_maze_symmetries_preserve_validity(pair, k):
    q, a = pair
    t = mz.dihedral(mz.encode(q, a), 6, 6, k)
    q2, a2 = maze_from_tokens(t, 6, 6)
    mz.check_lattice(q2)
    assert mz.verify(q2, a2).solved
    assert mz.shortest_length(q2) == mz.shortest_length(q)
