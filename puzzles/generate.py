"""Generate Sudoku or maze datasets.

    python -m puzzles.generate sudoku --count 1000 --seed 1 --out datasets/sudoku/test.csv
    python -m puzzles.generate sudoku --count 200 --difficulty guess --clues 22-30 --out hard.csv
    python -m puzzles.generate sudoku --count 200 --sparse 20 --sparse-steps 8000 --workers 2 --out sparse.csv
    python -m puzzles.generate sudoku --count 3000 --difficulty guess --minimal --clues 17-24 --hardest 100 --out hardest.csv
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
from puzzles.cli import Parser, UsageError, check_output, fail
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


def _sudoku_item(i, *, seed, box, clues, difficulty, depth, minimal, sparse=0, sparse_steps=0, nodes=False):
    if sparse:
        from puzzles.sudoku.generate import generate_sparse
        p, s = generate_sparse(seed, i, box, target=sparse, steps=sparse_steps)
    else:
        p, s = sd.generate_one(seed, i, box, clues=clues, difficulty=difficulty, depth=depth, minimal=minimal)
    extra = (sd.search_nodes(p, box),) if nodes else ()
    return sd.format_line(p, box), (p, s, int((p > 0).sum()), sd.singles_depth(p, box), *extra)


def hardest(items: list, k: int) -> list:
    """The ``k`` items the classical solver needs the most search nodes for (their last
    field), in index order; among equal counts the earlier index wins."""
    keep = sorted(sorted(range(len(items)), key=lambda i: -items[i][-1])[:k])
    return [items[i] for i in keep]


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
        raise UsageError(f"--count: only {len(out)} distinct items could be made, {count} asked "
                         "(the puzzle space under these constraints is too small)")
    return out


def _hist(values) -> str:
    c = Counter("stall" if v is None else v for v in values)
    return " ".join(f"{k}:{c[k]}" for k in sorted(c, key=lambda k: (isinstance(k, str), k)))


MIN_CLUES = {4: 4, 6: 8, 9: 17, 16: 55}    # fewest clues of any uniquely solvable puzzle


def parse_split(text: str, count: int) -> list[tuple[str, int]]:
    """'train=800,test=200' -> [('train', 800), ('test', 200)]; UsageError when malformed."""
    out = []
    for part in text.split(","):
        name, eq, num = part.partition("=")
        name = name.strip()
        if not eq or not name or not num.strip().lstrip("-").isdigit():
            raise UsageError(f"--split: expected NAME=COUNT,..., got {part!r} in {text!r}")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f"--split: split names are letters, digits, '-' and '_', got {name!r}")
        if int(num) < 1:
            raise UsageError(f"--split: {name}={num}: each split needs at least 1 item")
        if name in (n for n, _ in out):
            raise UsageError(f"--split: {name!r} appears twice (its files would overwrite each other)")
        out.append((name, int(num)))
    if sum(c for _, c in out) != count:
        raise UsageError(f"--split: counts add up to {sum(c for _, c in out)}, not --count {count}")
    return out


def check_args(a) -> dict:
    """Every flag and output path, before any work; UsageError names the flag."""
    for flag, v, lo in (("--count", a.count, 1), ("--workers", a.workers, 1), ("--seed", a.seed, 0)):
        if v < lo:
            raise UsageError(f"{flag}: must be >= {lo}, got {v}")
    splits = parse_split(a.split, a.count) if a.split else [("", a.count)]
    suffix = Path(a.out).suffix
    if suffix not in (".txt", ".csv", ".npz") or (suffix == ".npz" and a.task == "maze"):
        raise UsageError(f"--out: unsupported extension {suffix!r} "
                         f"(use .txt, .csv{', .npz' if a.task == 'sudoku' else ''})")
    outs = [str(Path(a.out).with_suffix(f".{name}{suffix}")) if name else a.out for name, _ in splits]
    for out in outs:
        check_output(out, "--out")
    if a.hardest < 0 or (a.hardest and (a.task != "sudoku" or a.split or a.hardest > a.count)):
        raise UsageError(f"--hardest: keeps K of the --count Sudoku puzzles (1 <= K <= {a.count}), without "
                         f"--split; got {a.hardest}")
    plan = {"splits": [("", a.hardest)] if a.hardest else splits, "outs": outs, "suffix": suffix}
    if a.task == "sudoku":
        box = sd.box_for_size(a.size)
        n2 = a.size * a.size
        clues = a.clues or {4: (4, 8), 6: (10, 16), 9: (28, 34), 16: (100, 130)}[a.size]
        if not 0 <= clues[0] <= clues[1] <= n2:
            raise UsageError(f"--clues: must lie within 0-{n2} for a {a.size}x{a.size} grid, got {clues[0]}-{clues[1]}")
        if clues[1] < MIN_CLUES[a.size]:
            raise UsageError(f"--clues: no {a.size}x{a.size} puzzle with a unique solution has fewer than "
                             f"{MIN_CLUES[a.size]} clues, got {clues[0]}-{clues[1]}")
        if a.depth and a.difficulty != "singles":
            raise UsageError("--depth: applies with --difficulty singles only")
        if a.depth and a.depth[0] > n2 - clues[0]:
            raise UsageError(f"--depth: {a.depth[0]}-{a.depth[1]} rounds need more than the "
                             f"{n2 - clues[0]} blanks that --clues leaves")
        if a.sparse and (a.clues or a.minimal or a.depth or a.difficulty != "any"):
            raise UsageError("--sparse: makes minimal puzzles with as few clues as it reaches; "
                             "drop --clues/--minimal/--depth/--difficulty")
        if a.sparse and not MIN_CLUES[a.size] <= a.sparse <= n2:
            raise UsageError(f"--sparse: target must lie within {MIN_CLUES[a.size]}-{n2} clues, got {a.sparse}")
        if a.sparse_steps < 0:
            raise UsageError(f"--sparse-steps: must be >= 0, got {a.sparse_steps}")
        plan["box"] = box
        plan["fn"] = partial(_sudoku_item, seed=a.seed, box=box, clues=clues, difficulty=a.difficulty,
                             depth=a.depth, minimal=a.minimal, sparse=a.sparse, sparse_steps=a.sparse_steps,
                             nodes=bool(a.hardest))
    else:
        if a.algorithm == "mixed" and (a.extra_open or a.min_path):
            raise UsageError("--algorithm mixed draws its own loops and endpoints: drop --extra-open and --min-path")
        if a.rows < 2 or a.cols < 2:
            raise UsageError(f"--rows/--cols: must be >= 2, got {a.rows}x{a.cols}")
        if not 0 <= a.extra_open <= 1:
            raise UsageError(f"--extra-open: must lie within [0, 1], got {a.extra_open}")
        longest = 2 * (a.rows * a.cols - 1)
        if not 0 <= a.min_path <= longest:
            raise UsageError(f"--min-path: must lie within 0-{longest} (a path through every cell of a "
                             f"{a.rows}x{a.cols} maze), got {a.min_path}")
        plan["fn"] = partial(_maze_item, seed=a.seed, rows=a.rows, cols=a.cols, algorithm=a.algorithm,
                             extra_open=a.extra_open, min_path=a.min_path)
    return plan


def _write(a, plan: dict, items: list) -> None:
    """Each split's items to its file (format by extension), with a one-line summary."""
    suffix, box = plan["suffix"], plan.get("box")
    pos = 0
    for (_, cnt), out in zip(plan["splits"], plan["outs"], strict=True):
        part = items[pos:pos + cnt]
        pos += cnt
        if a.task == "sudoku":
            p, s, c, d, *nodes = zip(*part)
            extra = {"clues": list(c), "depth": ["" if x is None else x for x in d],
                     "difficulty": ["singles" if x is not None else "guess" for x in d]}
            if nodes:
                extra["search_nodes"] = list(nodes[0])
            sd.write_file(out, np.stack(p), box, np.stack(s), extra)
            hist = f"clues {_hist(c)} | singles depth {_hist(d)}"
            if nodes:
                hist += f" | search nodes min {min(nodes[0])}, median {int(np.median(nodes[0]))}, max {max(nodes[0])}"
        else:
            q, s, length, d = zip(*part)
            mz.write_file(out, list(q), list(s) if suffix == ".csv" else None, {"path_len": list(length), "dead_end_depth": list(d)})
            hist = f"path length mean {np.mean(length):.1f} | dead-end depth {_hist(d)}"
        print(f"wrote {out}: {len(part)} items | {hist}", file=sys.stderr)


def main(argv=None) -> int:
    ap = Parser(prog="python -m puzzles.generate", description=__doc__.split("\n")[0], epilog=__doc__)
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
    g.add_argument("--sparse", type=int, default=0, metavar="CLUES",
                   help="local search toward this many clues: minimal puzzles, a clue swapped for a blank "
                        "while the solution stays unique, then made minimal again (0: off)")
    g.add_argument("--hardest", type=int, default=0, metavar="K",
                   help="keep the K of the --count puzzles that the classical solver needs the most search "
                        "nodes for (puzzles.sudoku.search_nodes), in index order; adds a search_nodes column")
    g.add_argument("--sparse-steps", type=int, default=3000, help="swaps tried per puzzle with --sparse (default 3000)")
    g = ap.add_argument_group("maze")
    g.add_argument("--rows", type=int, default=10, help="cell rows (default 10)")
    g.add_argument("--cols", type=int, default=10, help="cell columns (default 10)")
    g.add_argument("--algorithm", choices=[*mz.GENERATORS, "mixed"], default="wilson",
                   help="default wilson; 'mixed' draws per item a generator, loops or none and an endpoint "
                        "rule (puzzles.maze.generate_mixed; ignores --extra-open and --min-path)")
    g.add_argument("--extra-open", type=float, default=0.0, help="fraction of extra walls removed (loops)")
    g.add_argument("--min-path", type=int, default=0, help="minimum S-G distance in characters")
    a = ap.parse_args(argv)
    try:
        plan = check_args(a)
        exclude = set().union(*(_keys_of(a.task, p) for p in a.exclude)) if a.exclude else set()
        t0 = time.time()
        items = produce(plan["fn"], a.count, a.workers, exclude, f"generate {a.task}")
        if a.hardest:
            items = hardest(items, a.hardest)
    except (UsageError, ParseError) as e:
        return fail(str(e))
    except RuntimeError as e:          # the generator gave up on one item
        return fail(f"cannot meet the constraints: {e}; widen --clues/--depth/--min-path or change --difficulty")
    _write(a, plan, items)
    print(f"{a.count} items in {time.time() - t0:.1f} s ({a.count / (time.time() - t0):.1f}/s, "
          f"{a.workers} worker{'s' if a.workers > 1 else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
