"""Fresh maze sets by generator and size, decoded with top-1 and EB: one table.

    python -m scripts.maze_kinds --out k.csv      # docs/results.md: the commands behind its two tables

Makes each set below with a seed that no shipped set, training pool or validation set
uses (``puzzles.generate`` for ours, ``scripts.maze_dataset_sets`` for maze-dataset's own
generators, which needs the ``interop`` extra; without it those sets are skipped, and the
command says so), decodes it with ``scripts.evaluate`` (top-1 and EB at ``--gamma``; by default at the
checkpoint's gamma for the set's size, ``models.checkpoint.eb_gamma_for``) and
gathers the rows into one CSV with a ``set`` column. The sets are written under
``--work`` (default runs/kinds, git-ignored) and reused when already there. They are the
issue's target kinds: DFS (one long winding path), Wilson, loops whose shortest paths may
tie, 4x4 to 20x20. Nothing was trained or tuned on them.

``--split val`` (and ``val2``, ``val3``) makes the same kinds with other seeds (each seed
plus ``VAL_OFFSETS[split]``, work dir runs/kinds-SPLIT) for choosing a gamma;
several ``--gamma`` values give one EB row per value:

    python -m scripts.maze_kinds --split val2 --gamma 0.003 0.01 0.03 --large-limit 25 \
        --out runs/gamma-val2.csv --choose

``--choose`` then applies a rule (``solvers.gamma_rules``). ``--rule pooled`` (rule 8, the
default, runs/RULE-gamma8.txt): apart for the sets of sides up to 10 and of 15 and up, the
largest gamma whose EB, summed over the band's sets, solves at least top-1's sum minus
``--slack`` points (``--large-slack`` for the large band) of the band's mazes, with no set
more than 5 points under top-1; when none passes, the checkpoint's gamma for the band
stays; a band with no sets keeps the gamma it decodes at now. The last line of stdout is
the ``scripts.compact`` flags that record both bands. ``--bands 15 20`` splits the large
band in two (15 to 19, 20 up), each with its own gamma.
``--rule every-set`` (rule 7, stages 6-15): the largest gamma whose EB solves at least
top-1's count minus ``--slack`` on every set; last line, the gamma. ``--choose-from CSV``
applies the rule to a CSV this command wrote before, without decoding.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from models.checkpoint import CheckpointError, eb_gamma_for, load_checkpoint, pretrained
from puzzles.cli import Parser, UsageError, check_output, fail
from solvers.gamma_rules import choose_every_set, choose_pooled

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


#: added to every set's seed for each split; the sets' seeds are 4041-5100, and
#: maze-dataset's item i takes seed + i (i < count), so no two splits share a seed
VAL_OFFSETS = {"test": 0, "val": 10000, "val2": 20000, "val3": 30000}
#: sets of this side and up form the large band of ``--rule pooled`` and take ``--large-limit``
LARGE_SIDE = 15


def set_flags(name: str, split: str) -> list[str]:
    """The generator flags of set ``name`` in ``split`` ("test": the table's; "val", "val2": other seeds)."""
    flags = SETS[name][1].split()
    i = flags.index("--seed") + 1
    flags[i] = str(int(flags[i]) + VAL_OFFSETS[split])
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
    return ["--limit", str(large_limit)] if set_side(name) >= LARGE_SIDE else []


def report_every_set(rows: list[dict], slack: int) -> None:
    """Rule 7: print each gamma's worst deficit and, last, the gamma it picks."""
    g, worst, ok = choose_every_set(rows, slack)
    for k, d in worst.items():
        print(f"gamma {k:g}: worst deficit {d:+d} against top-1 over {len({r['set'] for r in rows})} sets")
    if not ok:
        print(f"no gamma keeps EB within {slack} of top-1 on every set; the closest:", file=sys.stderr)
    print(f"{g:g}")


def band_name(lo: int | None, hi: int | None) -> str:
    """How a band of sides [lo, hi) is printed (``None``: open on that end)."""
    if lo is None:
        return f"sides under {hi}"
    return f"sides {lo} and up" if hi is None else f"sides {lo} to {hi - 1}"


def report_pooled(rows: list[dict], slacks: tuple[float, float], meta: dict,
                  starts: tuple[int, ...] = (LARGE_SIDE,)) -> None:
    """Rule 8 per band (sides under ``starts[0]``, then from each start to the next): each
    gamma's pooled deficit and guard, the band's gamma, and last the ``scripts.compact``
    flags that record every band (a band with no rows keeps the gamma it decodes at now;
    all are named, as ``scripts.compact`` replaces the bands it is given). The first band
    takes ``slacks[0]``, the others ``slacks[1]``."""
    chosen = {}
    edges = (None, *starts)
    for lo, hi in zip(edges, (*starts, None)):
        band = [r for r in rows if (lo is None or set_side(r["set"]) >= lo) and (hi is None or set_side(r["set"]) < hi)]
        if not band:
            continue
        side, name, slack = hi - 1 if lo is None else lo, band_name(lo, hi), slacks[lo is not None]
        g, table = choose_pooled(band, slack, eb_gamma_for(meta, (side, side)))
        for k, t in table.items():
            trip = f", over the guard on {', '.join(t['tripped'])}" if t["tripped"] else ""
            print(f"{name}: gamma {k:g}: pooled {t['deficit']:+d} against top-1 (allowed -{t['allowed']}){trip}"
                  f" -> {'passes' if t['passes'] else 'fails'}")
        if g is None:
            raise ValueError(f"{name}: no gamma passes and the checkpoint records none to keep")
        print(f"{name}: {g:g}" + ("" if any(t["passes"] for t in table.values()) else " (none passes: kept)"))
        chosen[lo] = g
    small = chosen.get(None, band_gamma(meta, starts[0] - 1))
    bands = " ".join(f"{lo}={chosen.get(lo, band_gamma(meta, lo)):g}" for lo in starts)
    print(f"--eb-gamma {small:g} --eb-gamma-from-side {bands}")


def report_choice(rows: list[dict], a, meta: dict | None) -> None:
    """``--choose``: the rule ``a.rule`` over ``rows`` (``meta``: the checkpoint's, for rule 8's fallback)."""
    if a.rule == "every-set":
        report_every_set(rows, int(a.slack))
    else:
        report_pooled(rows, (a.slack, a.large_slack), meta or {}, tuple(a.bands))


def rule_meta(a) -> dict | None:
    """The checkpoint's meta when ``--rule pooled`` will choose (its gammas are the fallback)."""
    if a.rule == "pooled" and (a.choose or a.choose_from):
        return load_checkpoint(a.checkpoint or pretrained("maze-mdm.pt"))["meta"]
    return None


def set_gammas(given: list[float] | None, checkpoint: str | None, names: list[str]) -> dict[str, list[float]]:
    """Each set's EB gammas: ``given``, or the checkpoint's gamma for the set's side (the
    sampler's default when it records none). CheckpointError when it cannot be read."""
    if given:
        return {name: list(given) for name in names}
    meta = load_checkpoint(checkpoint or pretrained("maze-mdm.pt"))["meta"]
    return {name: [band_gamma(meta, set_side(name))] for name in names}


def band_gamma(meta: dict, side: int) -> float:
    """The EB gamma a side x side maze decodes at: the checkpoint's (``meta``) or the sampler's default."""
    from sampling import OPTIONS
    g = eb_gamma_for(meta, (side, side))
    return OPTIONS["eb"]().gamma if g is None else g


def _parser() -> Parser:
    ap = Parser(prog="python -m scripts.maze_kinds", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--out", help="the gathered CSV (one row per set and decoding)")
    ap.add_argument("--checkpoint", default=None, help="MDM checkpoint (default: the shipped maze-mdm.pt)")
    ap.add_argument("--gamma", type=float, nargs="+", default=None,
                    help="EB gamma, one EB row per value (default: the checkpoint's gamma chosen on validation "
                         "for each set's size)")
    ap.add_argument("--split", choices=tuple(VAL_OFFSETS), default="test",
                    help="test: the table's sets; val, val2, val3: the same kinds with other seeds, for "
                         "choosing gamma (default test)")
    ap.add_argument("--count", type=int, default=100, help="mazes per set (default 100)")
    ap.add_argument("--large-limit", type=int, default=50,
                    help="decode only the first N of each 15x15 and 20x20 set (default 50: top-1 there "
                         "takes one pass per path cell)")
    ap.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS), help="default: all")
    ap.add_argument("--work", default=None,
                    help="where the sets and per-set CSVs go (default runs/kinds, or runs/kinds-SPLIT)")
    ap.add_argument("--choose", action="store_true",
                    help="then print the gamma the --rule picks (give two or more --gamma)")
    ap.add_argument("--choose-from", metavar="CSV", default=None,
                    help="only apply the --choose rule to CSV (one this command wrote) and stop; no decoding")
    ap.add_argument("--rule", choices=("pooled", "every-set"), default="pooled",
                    help="pooled (rule 8, default): EB summed over each band's sets within --slack points of "
                         "top-1 (--large-slack for sides 15 and up), no set 5 points under; every-set (rule 7): "
                         "EB >= top-1 - SLACK mazes on every set")
    ap.add_argument("--slack", type=float, default=1,
                    help="pooled: points of the band's mazes; every-set: mazes per set (default 1)")
    ap.add_argument("--large-slack", type=float, default=2,
                    help="pooled: points for the bands of sides 15 and up (default 2, issue 25's 20x20 target)")
    ap.add_argument("--bands", type=int, nargs="+", default=[LARGE_SIDE], metavar="SIDE",
                    help="pooled: where the bands start above the first (default 15: under 15, and 15 up; "
                         "15 20: under 15, 15 to 19, 20 up); each band gets its own gamma")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap


def checked(a) -> tuple[dict[str, list[float]], dict | None]:
    """Every flag checked before decoding: (each set's gammas, the checkpoint's meta for the rule)."""
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
    return set_gammas(a.gamma, a.checkpoint, a.sets), rule_meta(a)


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    for flag, v in (("--slack", a.slack), ("--large-slack", a.large_slack)):
        if v < 0:
            return fail(f"{flag}: must be >= 0, got {v:g}")
    if a.bands != sorted(set(a.bands)) or a.bands[0] < 5:
        return fail(f"--bands: sides in increasing order, each >= 5 (the smallest mazes are 4x4), got "
                    f"{' '.join(map(str, a.bands))}")
    if a.rule == "every-set" and a.slack != int(a.slack):
        return fail(f"--slack: --rule every-set counts mazes, give a whole number, got {a.slack:g}")
    if a.choose_from:
        return _choose_from(a)
    try:
        gammas, meta = checked(a)
    except (UsageError, CheckpointError) as e:
        return fail(str(e))
    from scripts import evaluate
    from scripts.results import gather
    work = Path(a.work or ("runs/kinds" if a.split == "test" else f"runs/kinds-{a.split}"))
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
            try:
                report_choice(list(csv.DictReader(f)), a, meta)
            except ValueError as e:
                return fail(f"--choose: {e}")
    return 0


def _choose_from(a) -> int:
    """``--choose-from``: the rule over a CSV already written; bad files get one line, exit 2."""
    path = a.choose_from
    try:
        meta = rule_meta(a)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        need = {"set", "label", "solve_rate", "n"} - set(rows[0] if rows else ())
        if need:
            raise ValueError(f"not a maze_kinds CSV (no rows, or missing columns {', '.join(sorted(need))})")
        report_choice(rows, a, meta)
    except CheckpointError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"--choose-from {path}: {e.strerror or e}")
    except (ValueError, KeyError) as e:
        return fail(f"--choose-from {path}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
