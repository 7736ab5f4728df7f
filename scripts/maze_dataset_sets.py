"""Write a maze set drawn by maze-dataset's own generators, in this toolkit's CSV format.

    pip install '.[interop]'
    python -m scripts.maze_dataset_sets --generator dfs_percolation --p 0.1 --rows 10 --cols 10 \
        --count 100 --seed 5000 --out runs/md-dfs-perc-10.csv

Item i seeds numpy's global generator with seed + i (maze-dataset draws from it), builds
the lattice maze with ``LatticeMazeGenerators.gen_<generator>``, puts S and G on two
distinct cells drawn uniformly among those connected to each other, takes
maze-dataset's shortest path as the answer and converts the result with
``puzzles.interop.from_maze_dataset``. These sets come from another library's code, so
a model that does well on them has not merely learnt our generators' habits.
"""
from __future__ import annotations

import sys

import numpy as np

from puzzles.cli import Parser, UsageError, check_output, fail

GENERATORS = ("dfs", "wilson", "kruskal", "prim", "dfs_percolation", "percolation")


def one(generator: str, rows: int, cols: int, seed: int, p: float):
    """(question, answer) of one maze-dataset maze, or None when no two cells connect."""
    from maze_dataset import SolvedMaze
    from maze_dataset.generation import LatticeMazeGenerators

    from puzzles.interop import from_maze_dataset
    np.random.seed(seed)
    gen = getattr(LatticeMazeGenerators, f"gen_{generator}")
    kw = {"p": p} if "percolation" in generator else {}
    m = gen(np.array([rows, cols]), **kw)
    for _ in range(50):
        s = (int(np.random.randint(rows)), int(np.random.randint(cols)))
        g = (int(np.random.randint(rows)), int(np.random.randint(cols)))
        if s == g:
            continue
        path = m.find_shortest_path(s, g)
        if path is not None and len(path) > 1:
            return from_maze_dataset(SolvedMaze.from_lattice_maze(m, path))
    return None


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.maze_dataset_sets", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--generator", choices=GENERATORS, default="dfs", help="maze-dataset generator (default dfs)")
    ap.add_argument("--p", type=float, default=0.1, help="percolation generators: probability that a wall is "
                                                          "open (default 0.1)")
    ap.add_argument("--rows", type=int, default=10, help="cell rows (default 10)")
    ap.add_argument("--cols", type=int, default=10, help="cell columns (default 10)")
    ap.add_argument("--count", type=int, default=100, help="mazes (default 100)")
    ap.add_argument("--seed", type=int, default=5000, help="item i uses seed + i (default 5000)")
    ap.add_argument("--out", required=True, help="output .csv or .txt")
    a = ap.parse_args(argv)
    try:
        for flag, v in (("--rows", a.rows), ("--cols", a.cols), ("--count", a.count)):
            if v < 2 - (flag == "--count"):
                raise UsageError(f"{flag}: too small ({v})")
        if not 0 <= a.p <= 1:
            raise UsageError(f"--p: a probability in [0, 1], got {a.p}")
        check_output(a.out, "--out")
        try:
            import maze_dataset  # noqa: F401
        except ImportError:
            raise UsageError("maze-dataset is not installed: pip install '.[interop]'") from None
    except UsageError as e:
        return fail(str(e))
    from tqdm import tqdm

    from puzzles import maze as mz
    qs, ans = [], []
    for i in tqdm(range(a.count), desc=f"maze-dataset {a.generator}", file=sys.stderr):
        got = one(a.generator, a.rows, a.cols, a.seed + i, a.p)
        if got is not None:
            qs.append(got[0])
            ans.append(got[1])
    mz.write_file(a.out, qs, ans)
    print(f"wrote {a.out}: {len(qs)} mazes from maze-dataset's gen_{a.generator}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
