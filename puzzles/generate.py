"""Generate Sudoku or maze datasets.

    python -m puzzles.generate sudoku --count 1000 --seed 1 --out datasets/sudoku/test.csv
    python -m puzzles.generate sudoku --count 200 --difficulty guess --clues 22-30 --out hard.csv
    python -m puzzles.generate sudoku --count 10000 --split train=8000,val=1000,test=1000 --out data/sd.csv
    python -m puzzles.generate maze --count 500 --seed 1 --rows 10 --cols 10 --out datasets/maze/test.csv

Item i depends only on (seed, i), so any --workers gives byte-identical files. The
format follows the extension: .txt (one grid per line / text blocks), .csv (question,
answer and metadata columns), .npz (Sudoku only). Duplicates are dropped and replaced,
and --exclude FILE drops items already in another file, so splits made by --split or by
separate invocations are disjoint. Files are written atomically; a summary goes to stderr.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.io import ParseError


def _range(s: str) -> tuple[int, int]:
    try:
        lo, _, hi = s.partition("-")
        lo_i, hi_i = int(lo), int(hi or lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO-HI (e.g. 28-34), got {s!r}") from None
    if lo_i > hi_i:
        raise argparse.ArgumentTypeError(f"empty range {s!r}")
    return lo_i, hi_i


def _sudoku_item(i, *, seed, box, clues, difficulty, depth, minimal):
    p, s = sd.generate_one(seed, i, box, clues=clues, difficulty=difficulty, depth=depth, minimal=minimal)
    return sd.format_line(p, box), (p, s, int((p > 0).sum()), sd.singles_depth(p, box))


def _maze_item(i, *, seed, rows, cols, algorithm, extra_open, min_path):
    if algorithm == "mixed":
        q = mz.generate_mixed(seed, i, rows, cols)
    else:
        q = mz.generate_one(seed, i, rows, cols, algorithm=algorithm, extra_open=extra_open, min_path=min_path)
    return mz.format_block(q), (q, mz.solve(q), mz.shortest_length(q), mz.dead_end_depth(q))


def _keys_of(task: str, path: str) -> set[str]:
    if task == "sudoku":
        q, _, box = sd.read_file(path)
        return {sd.format_line(p, box) for p in q}
    return {mz.format_block(q) for q in mz.read_file(path)}


def produce(fn, count: int, workers: int, exclude: set[str], desc: str) -> list:
    """Items from indices 0, 1, 2, ... skipping duplicates and excluded keys, in index order."""
    from tqdm import tqdm
    seen = set(exclude)
    out: list = []
    start = 0
    bar = tqdm(total=count, desc=desc, file=sys.stderr, unit="item")
    pool = None
    if workers > 1:
        import multiprocessing as mp
        pool = mp.get_context("spawn").Pool(workers)
    try:
        for _ in range(50):
            need = count - len(out)
            idx = range(start, start + need)
            it = pool.imap(fn, idx, chunksize=max(1, need // (8 * workers))) if pool else map(fn, idx)
            for key, item in it:
                if key not in seen:
                    seen.add(key)
                    out.append(item)
                    bar.update(1)
            start += need
            if len(out) >= count:
                break
    finally:
        bar.close()
        if pool:
            pool.close()
            pool.join()
    if len(out) < count:
        raise SystemExit(f"error: only {len(out)} distinct items could be made (the space is too small)")
    return out


def _hist(values) -> str:
    c = Counter("stall" if v is None else v for v in values)
    return " ".join(f"{k}:{c[k]}" for k in sorted(c, key=lambda k: (isinstance(k, str), k)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m puzzles.generate", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("task", choices=["sudoku", "maze"], help="what to generate")
    ap.add_argument("--count", type=int, required=True, help="number of items (in all, with --split)")
    ap.add_argument("--seed", type=int, default=0, help="dataset seed; item i depends on (seed, i) (default 0)")
    ap.add_argument("--out", required=True, help="output file: .txt, .csv or .npz (Sudoku)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--split", help="NAME=COUNT,... e.g. train=800,val=100,test=100: writes OUT with "
                                    ".NAME before the extension; the splits are disjoint")
    ap.add_argument("--exclude", action="append", default=[], help="drop items that occur in this file (repeatable)")
    g = ap.add_argument_group("sudoku")
    g.add_argument("--size", type=int, choices=[4, 6, 9, 16], default=9, help="grid side (default 9)")
    g.add_argument("--clues", type=_range, help="clue-count range LO-HI (default 28-34 for 9x9)")
    g.add_argument("--difficulty", choices=["any", "singles", "guess"], default="any",
                   help="singles: solvable by naked/hidden singles; guess: needs search (default any)")
    g.add_argument("--depth", type=_range, help="singles-depth range LO-HI (with --difficulty singles)")
    g.add_argument("--minimal", action="store_true", help="remove clues until none can go (minimal puzzles)")
    g = ap.add_argument_group("maze")
    g.add_argument("--rows", type=int, default=10, help="cell rows (default 10)")
    g.add_argument("--cols", type=int, default=10, help="cell columns (default 10)")
    g.add_argument("--algorithm", choices=[*mz.GENERATORS, "mixed"], default="wilson",
                   help="default wilson; 'mixed' draws per item a generator, loops or none and an endpoint "
                        "rule (puzzles.maze.generate_mixed; ignores --extra-open and --min-path)")
    g.add_argument("--extra-open", type=float, default=0.0, help="fraction of extra walls removed (loops)")
    g.add_argument("--min-path", type=int, default=0, help="minimum S-G distance in characters")
    a = ap.parse_args(argv)
    if a.count < 1 or a.workers < 1:
        ap.error("--count and --workers must be >= 1")
    splits = [("", a.count)]
    if a.split:
        try:
            splits = [(k, int(v)) for k, v in (p.split("=") for p in a.split.split(","))]
        except ValueError:
            ap.error(f"--split: expected NAME=COUNT,..., got {a.split!r}")
        if sum(c for _, c in splits) != a.count:
            ap.error(f"--split counts add up to {sum(c for _, c in splits)}, not --count {a.count}")
    suffix = Path(a.out).suffix
    if suffix not in (".txt", ".csv", ".npz") or (suffix == ".npz" and a.task == "maze"):
        ap.error(f"--out: unsupported extension {suffix!r} (use .txt, .csv{', .npz' if a.task == 'sudoku' else ''})")
    try:
        exclude = set().union(*(_keys_of(a.task, p) for p in a.exclude)) if a.exclude else set()
    except ParseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t0 = time.time()
    if a.task == "sudoku":
        box = sd.box_for_size(a.size)
        n2 = a.size * a.size
        clues = a.clues or {4: (4, 8), 6: (10, 16), 9: (28, 34), 16: (100, 130)}[a.size]
        if not 0 <= clues[0] <= clues[1] <= n2:
            ap.error(f"--clues must lie within 0-{n2}")
        fn = partial(_sudoku_item, seed=a.seed, box=box, clues=clues, difficulty=a.difficulty,
                     depth=a.depth, minimal=a.minimal)
    else:
        if a.algorithm == "mixed" and (a.extra_open or a.min_path):
            ap.error("--algorithm mixed draws its own loops and endpoints: drop --extra-open and --min-path")
        if a.rows < 2 or a.cols < 2 or not 0 <= a.extra_open <= 1:
            ap.error("--rows/--cols must be >= 2 and --extra-open within [0, 1]")
        fn = partial(_maze_item, seed=a.seed, rows=a.rows, cols=a.cols, algorithm=a.algorithm,
                     extra_open=a.extra_open, min_path=a.min_path)
    items = produce(fn, a.count, a.workers, exclude, f"generate {a.task}")
    pos = 0
    for name, cnt in splits:
        part = items[pos:pos + cnt]
        pos += cnt
        out = str(Path(a.out).with_suffix(f".{name}{suffix}")) if name else a.out
        if a.task == "sudoku":
            p, s, c, d = zip(*part)
            extra = {"clues": list(c), "depth": ["" if x is None else x for x in d],
                     "difficulty": ["singles" if x is not None else "guess" for x in d]}
            sd.write_file(out, np.stack(p), box, np.stack(s), extra)
            hist = f"clues {_hist(c)} | singles depth {_hist(d)}"
        else:
            q, s, length, d = zip(*part)
            mz.write_file(out, list(q), list(s) if suffix == ".csv" else None, {"path_len": list(length), "dead_end_depth": list(d)})
            hist = f"path length mean {np.mean(length):.1f} | dead-end depth {_hist(d)}"
        print(f"wrote {out}: {len(part)} items | {hist}", file=sys.stderr)
    print(f"{a.count} items in {time.time() - t0:.1f} s ({a.count / (time.time() - t0):.1f}/s, "
          f"{a.workers} worker{'s' if a.workers > 1 else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
