"""Fresh maze sets by generator and size, decoded with top-1 and EB: one table.

    python -m scripts.maze_kinds --out docs/maze-kinds.csv

Makes each set below with a seed that no shipped set, training pool or validation set
uses (``puzzles.generate`` for ours, ``scripts.maze_dataset_sets`` for maze-dataset's own
generators, which needs the ``interop`` extra; without it those sets are skipped, and the
command says so), decodes it with ``scripts.evaluate`` (top-1 and EB at ``--gamma``; by default at the
checkpoint's gamma for the set's size, ``models.checkpoint.eb_gamma_for``) and
gathers the rows into one CSV with a ``set`` column. The sets are written under
``--work`` (default runs/kinds, git-ignored) and reused when already there. They are the
issue's target kinds: DFS (one long winding path), Wilson, loops whose shortest paths may
tie, 4x4 to 20x20. Nothing was trained or tuned on them.

``--split val`` makes the same kinds with other seeds (each seed plus ``VAL_OFFSET``,
work dir runs/kinds-val) for choosing a gamma; several ``--gamma`` values give one EB row
per value:

    python -m scripts.maze_kinds --split val --gamma 0.001 0.003 0.01 --out runs/gamma-val.csv --choose

``--choose`` then applies the rule that chose the shipped checkpoint's gamma (written
before its first sweep; docs/models.md): the largest gamma whose EB solves at least
top-1's count minus ``--slack`` (default 1) on every set. It prints the gamma on the last
line of stdout, after each gamma's worst deficit; when none passes, the one with the
smallest worst deficit (the larger gamma on a tie), said so. ``--choose-from CSV``
applies it to a CSV this command wrote before, without decoding.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from models.checkpoint import CheckpointError, eb_gamma_for, load_checkpoint, pretrained
from puzzles.cli import Parser, UsageError, check_output, fail

#: name -> (source, flags); ours: puzzles.generate maze flags; md: scripts.maze_dataset_sets flags
SETS = {
    "mixed-4": ("ours", "--algorithm mixed --rows 4 --cols 4 --seed 4041"),
    "mixed-6": ("ours", "--algorithm mixed --rows 6 --cols 6 --seed 4061"),
    "dfs-10": ("ours", "--algorithm dfs --seed 4101"),
    "wilson-10": ("ours", "--algorithm wilson --seed 4102"),
    "loops-10": ("ours", "--algorithm kruskal --extra-open 0.2 --seed 4103"),
    "md-dfs-10": ("md", "--generator dfs --seed 5100"),
    "md-dfs_percolation-10": ("md", "--generator dfs_percolation --seed 5000"),
    "dfs-15": ("ours", "--algorithm dfs --rows 15 --cols 15 --seed 4151"),
    "dfs-20": ("ours", "--algorithm dfs --rows 20 --cols 20 --seed 4201"),
    "loops-20": ("ours", "--algorithm wilson --extra-open 0.1 --rows 20 --cols 20 --seed 4202"),
}


#: added to every set's seed for ``--split val``; the sets' seeds are 4041-5100, and
#: maze-dataset's item i takes seed + i (i < count), so the two splits share no seed
VAL_OFFSET = 10000


def set_flags(name: str, split: str) -> list[str]:
    """The generator flags of set ``name`` in ``split`` ("test": the table's, "val": other seeds)."""
    flags = SETS[name][1].split()
    if split == "val":
        i = flags.index("--seed") + 1
        flags[i] = str(int(flags[i]) + VAL_OFFSET)
    return flags


def make_set(name: str, path: Path, count: int, split: str = "test") -> bool:
    """Write set ``name`` to ``path`` unless it is there; False when its library is missing."""
    if path.is_file():
        return True
    source = SETS[name][0]
    argv = set_flags(name, split) + ["--count", str(count), "--out", str(path)]
    if source == "md":
        try:
            import maze_dataset  # noqa: F401
        except ImportError:
            return False
        from scripts import maze_dataset_sets
        rc = maze_dataset_sets.main(argv)
    else:
        from puzzles import generate
        rc = generate.main(["maze"] + argv)
    if rc != 0:
        raise RuntimeError(f"making {name} failed (exit {rc})")
    return True


def set_side(name: str) -> int:
    """The maze side of set ``name`` (its last field: ``dfs-15`` -> 15)."""
    return int(name.rsplit("-", 1)[1])


def limit_flags(name: str, large_limit: int) -> list[str]:
    """``--limit`` for a set of 15x15 mazes or larger (top-1 takes one pass per path cell), else none."""
    return ["--limit", str(large_limit)] if set_side(name) >= 15 else []


def choose_gamma(rows: list[dict], slack: int = 1) -> tuple[float, dict[float, int], bool]:
    """The rule of ``--choose`` over a gathered CSV's rows: (the chosen gamma, each gamma's
    worst deficit (EB's solved count minus top-1's, the minimum over the sets), whether the
    chosen one passes: worst deficit >= -slack). ValueError when a set lacks top-1 or EB."""
    top: dict[str, int] = {}
    eb: dict[str, dict[float, int]] = {}
    for r in rows:
        count = round(float(r["solve_rate"]) * int(r["n"]))
        eb.setdefault(r["set"], {})
        if r["label"] == "topk k=1":
            top[r["set"]] = count
        elif r["label"].startswith("eb gamma="):
            eb[r["set"]][float(r["label"].split("=", 1)[1])] = count
    gammas = sorted({g for by in eb.values() for g in by})
    if not gammas:
        raise ValueError("no EB rows (label 'eb gamma=...') to choose from")
    worst = {}
    for g in gammas:
        for name, by in eb.items():
            if name not in top or g not in by:
                raise ValueError(f"set {name}: needs a top-1 row and an EB row at gamma {g:g}")
        worst[g] = min(by[g] - top[name] for name, by in eb.items())
    passing = [g for g in gammas if worst[g] >= -slack]
    if passing:
        return passing[-1], worst, True
    return max(gammas, key=lambda g: (worst[g], g)), worst, False


def report_choice(rows: list[dict], slack: int) -> None:
    """Print each gamma's worst deficit and, last, the gamma ``choose_gamma`` picks."""
    g, worst, ok = choose_gamma(rows, slack)
    for k, d in worst.items():
        print(f"gamma {k:g}: worst deficit {d:+d} against top-1 over {len({r['set'] for r in rows})} sets")
    if not ok:
        print(f"no gamma keeps EB within {slack} of top-1 on every set; the closest:", file=sys.stderr)
    print(f"{g:g}")


def set_gammas(given: list[float] | None, checkpoint: str | None, names: list[str]) -> dict[str, list[float]]:
    """Each set's EB gammas: ``given``, or the checkpoint's gamma for the set's side (the
    sampler's default when it records none). CheckpointError when it cannot be read."""
    if given:
        return {name: list(given) for name in names}
    from sampling import OPTIONS
    meta = load_checkpoint(checkpoint or pretrained("maze-mdm.pt"))["meta"]
    out = {}
    for name in names:
        g = eb_gamma_for(meta, (set_side(name), set_side(name)))
        out[name] = [OPTIONS["eb"]().gamma if g is None else g]
    return out


def _parser() -> Parser:
    ap = Parser(prog="python -m scripts.maze_kinds", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--out", help="the gathered CSV (docs/maze-kinds.csv for the docs' table)")
    ap.add_argument("--checkpoint", default=None, help="MDM checkpoint (default: the shipped maze-mdm.pt)")
    ap.add_argument("--gamma", type=float, nargs="+", default=None,
                    help="EB gamma, one EB row per value (default: the checkpoint's gamma chosen on validation "
                         "for each set's size)")
    ap.add_argument("--split", choices=("test", "val"), default="test",
                    help="test: the table's sets; val: the same kinds with other seeds, for choosing "
                         "gamma (default test)")
    ap.add_argument("--count", type=int, default=100, help="mazes per set (default 100)")
    ap.add_argument("--large-limit", type=int, default=50,
                    help="decode only the first N of each 15x15 and 20x20 set (default 50: top-1 there "
                         "takes one pass per path cell)")
    ap.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS), help="default: all")
    ap.add_argument("--work", default=None,
                    help="where the sets and per-set CSVs go (default runs/kinds, or runs/kinds-val with --split val)")
    ap.add_argument("--choose", action="store_true",
                    help="then print the gamma the rule picks: the largest with EB >= top-1 - SLACK on every set")
    ap.add_argument("--choose-from", metavar="CSV", default=None,
                    help="only apply the --choose rule to CSV (one this command wrote) and stop; no decoding")
    ap.add_argument("--slack", type=int, default=1, help="points EB may fall under top-1 per set (default 1)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    if a.slack < 0:
        return fail(f"--slack: must be >= 0, got {a.slack}")
    if a.choose_from:
        return _choose_from(a.choose_from, a.slack)
    try:
        if a.out is None:
            raise UsageError("--out: required (unless --choose-from)")
        for flag, v in (("--count", a.count), ("--large-limit", a.large_limit)):
            if v < 1:
                raise UsageError(f"{flag}: must be >= 1, got {v}")
        if a.choose and len(set(a.gamma or ())) < 2:
            raise UsageError("--choose: give at least two --gamma values to choose from")
        if a.gamma and min(a.gamma) < 0:
            raise UsageError(f"--gamma: must be >= 0, got {min(a.gamma):g}")
        check_output(a.out, "--out")
        gammas = set_gammas(a.gamma, a.checkpoint, a.sets)
    except (UsageError, CheckpointError) as e:
        return fail(str(e))
    from scripts import evaluate
    from scripts.results import gather
    work = Path(a.work or ("runs/kinds-val" if a.split == "val" else "runs/kinds"))
    work.mkdir(parents=True, exist_ok=True)
    written = []
    for name in a.sets:
        src = work / f"{name}.csv"
        if not make_set(name, src, a.count, a.split):
            print(f"skipped {name}: maze-dataset is not installed (pip install '.[interop]')", file=sys.stderr)
            continue
        out = work / "eval" / f"{name}.csv"
        out.parent.mkdir(exist_ok=True)
        points = ["topk:k=1"] + [f"eb:gamma={g:g}" for g in gammas[name]]
        rc = evaluate.main(["--task", "maze", "--input", str(src), "--points", *points,
                            "--csv", str(out), "--plot", str(out.with_suffix(".png"))]
                           + (["--checkpoint", a.checkpoint] if a.checkpoint else [])
                           + limit_flags(name, a.large_limit) + (["--quiet"] if a.quiet else []))
        if rc != 0:
            return rc
        written.append(str(out))
    gather(a.out, written)
    if a.choose:
        with open(a.out, newline="", encoding="utf-8") as f:
            report_choice(list(csv.DictReader(f)), a.slack)
    return 0


def _choose_from(path: str, slack: int) -> int:
    """``--choose-from``: the rule over a CSV already written; bad files get one line, exit 2."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        need = {"set", "label", "solve_rate", "n"} - set(rows[0] if rows else ())
        if need:
            raise ValueError(f"not a maze_kinds CSV (no rows, or missing columns {', '.join(sorted(need))})")
        report_choice(rows, slack)
    except OSError as e:
        return fail(f"--choose-from {path}: {e.strerror or e}")
    except (ValueError, KeyError) as e:
        return fail(f"--choose-from {path}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
