"""Convert mazes between this toolkit and maze-dataset (``pip install '.[interop]'``).

maze-dataset (Ivanitskiy et al.) stores a lattice maze as ``connection_list``, a bool
array ``[2, rows, cols]``: ``[0, i, j]`` joins cell (i, j) to (i+1, j) and ``[1, i, j]``
joins (i, j) to (i, j+1). Its ``TargetedLatticeMaze`` adds ``start_pos``/``end_pos`` and
``SolvedMaze`` a ``solution``, the cell coordinates from start to end. Ours is the
character grid of ``puzzles.maze`` (S start, G goal, 'o' path). Text needs no
conversion: our readers take maze-dataset's ``as_ascii()`` directly ('E' goal, 'X' path),
and ``format_block(..., style="maze-dataset")`` writes it.

The pinned versions are those that import together (maze-dataset 1.4.2 failed to
import beside muutils 0.9.1).
"""
from __future__ import annotations

import itertools

import numpy as np

from puzzles import maze as mz


def connections(question: np.ndarray) -> np.ndarray:
    """Our grid -> maze-dataset's ``connection_list`` [2, rows, cols] (bool)."""
    q = np.asarray(question)
    r, c = q.shape[0] // 2, q.shape[1] // 2
    conn = np.zeros((2, r, c), dtype=bool)
    conn[0, :-1, :] = q[2:-1:2, 1::2] != mz.WALL
    conn[1, :, :-1] = q[1::2, 2:-1:2] != mz.WALL
    return conn


def grid_from(conn: np.ndarray, start, end, solution=None) -> tuple[np.ndarray, np.ndarray | None]:
    """maze-dataset's parts -> (our question, our answer or None)."""
    conn = np.asarray(conn, dtype=bool)
    _, r, c = conn.shape
    q = np.full((2 * r + 1, 2 * c + 1), mz.WALL, dtype=np.uint8)
    q[1::2, 1::2] = mz.OPEN
    q[2:-1:2, 1::2][conn[0, :-1, :]] = mz.OPEN
    q[1::2, 2:-1:2][conn[1, :, :-1]] = mz.OPEN
    q[2 * int(start[0]) + 1, 2 * int(start[1]) + 1] = mz.START
    q[2 * int(end[0]) + 1, 2 * int(end[1]) + 1] = mz.GOAL
    if solution is None:
        return q, None
    a = q.copy()
    cells = [(int(i), int(j)) for i, j in np.asarray(solution)]
    for (i0, j0), (i1, j1) in itertools.pairwise(cells):
        a[i0 + i1 + 1, j0 + j1 + 1] = mz.PATH          # the passage between consecutive cells
    for i, j in cells[1:-1]:
        a[2 * i + 1, 2 * j + 1] = mz.PATH
    return q, a


def path_cells(answer: np.ndarray) -> list[tuple[int, int]]:
    """The marked path of our answer as cell coordinates from S to G."""
    a = np.asarray(answer)
    on = (a == mz.PATH) | (a == mz.START) | (a == mz.GOAL)
    cur = tuple(int(v) for v in np.argwhere(a == mz.START)[0])
    goal = tuple(int(v) for v in np.argwhere(a == mz.GOAL)[0])
    out, prev = [((cur[0] - 1) // 2, (cur[1] - 1) // 2)], None
    while cur != goal:
        nxt = [(cur[0] + di, cur[1] + dj) for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))
               if on[cur[0] + di, cur[1] + dj] and (cur[0] + di, cur[1] + dj) != prev]
        if len(nxt) != 1:
            raise ValueError("the answer's marks are not one simple S-G path")
        prev, cur = cur, nxt[0]
        if cur[0] % 2 and cur[1] % 2:
            out.append(((cur[0] - 1) // 2, (cur[1] - 1) // 2))
    return out


def to_maze_dataset(question: np.ndarray, answer: np.ndarray | None = None):
    """Our maze -> ``TargetedLatticeMaze`` (or ``SolvedMaze`` when ``answer`` is given)."""
    from maze_dataset import SolvedMaze, TargetedLatticeMaze
    q = np.asarray(question)
    conn = connections(q)
    if answer is not None:
        return SolvedMaze(connection_list=conn, solution=np.array(path_cells(answer)))
    s = np.argwhere(q == mz.START)[0] // 2
    g = np.argwhere(q == mz.GOAL)[0] // 2
    return TargetedLatticeMaze(connection_list=conn, start_pos=s, end_pos=g)


def from_maze_dataset(maze) -> tuple[np.ndarray, np.ndarray | None]:
    """A maze-dataset ``TargetedLatticeMaze`` or ``SolvedMaze`` -> (question, answer or None)."""
    solution = getattr(maze, "solution", None)
    return grid_from(maze.connection_list, maze.start_pos, maze.end_pos, solution)
