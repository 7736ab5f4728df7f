"""Learning curves from checkpoints: validation solve rate against step and examples seen.

    python -m scripts.curve models/pretrained/maze-mdm.pt
    python -m scripts.curve models/pretrained/maze-mdm.pt runs/other.pt --plot docs/curve-maze.png --json

Every checkpoint records its validation history (``meta.history``: step, loss, top-1 /
greedy solve rate on held-out puzzles drawn like its training data). This prints one
table per checkpoint and, with ``--plot``, draws the curves against training examples
seen (matplotlib, the ``plot`` extra).
"""
from __future__ import annotations

import json
import sys

from models.checkpoint import CheckpointError, learning_curve, load_checkpoint
from puzzles.cli import Parser, UsageError, check_output, fail


def plot(curves: dict[str, list[dict]], path: str) -> bool:
    from puzzles.io import atomic_write_figure, pyplot
    plt = pyplot()
    if plt is None:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, rows in curves.items():
        axes[0].plot([r["step"] for r in rows], [100 * r["solve_rate"] for r in rows], marker="o", label=name)
        axes[1].plot([r["examples"] / 1e3 for r in rows], [100 * r["solve_rate"] for r in rows], marker="o", label=name)
    for ax, xl in zip(axes, ("optimizer step", "training examples seen (thousands)")):
        ax.set_xlabel(xl)
        ax.set_ylabel("validation solve rate (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_figure(fig, path)
    return True


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.curve", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("checkpoints", nargs="+", help="checkpoint files (.pt) written by scripts.train")
    ap.add_argument("--plot", help="write the curves to this PNG")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line of stdout")
    a = ap.parse_args(argv)
    try:
        if a.plot:
            check_output(a.plot, "--plot")
        cks = {p: load_checkpoint(p) for p in a.checkpoints}
    except (UsageError, CheckpointError) as e:
        return fail(str(e))
    curves = {}
    for p, ck in cks.items():
        rows = learning_curve(ck["meta"])     # every stage, examples counted from the first
        curves[p] = rows
        tc = ck["meta"].get("train_config", {})
        print(f"== {p}: {ck['task']} {ck['kind']}, {ck['meta'].get('params', '?')} parameters, "
              f"batch {tc.get('batch_size', '?')}, {ck['meta'].get('wall_seconds', 0) / 60:.0f} min, "
              f"{ck['meta'].get('precision', 'fp32')}")
        hard = any("hard_solve_rate" in r for r in rows)     # --eval-hard: minimal validation puzzles too
        print(f"{'step':>7} {'examples':>10} {'loss':>8} {'val solve':>10}" + (f" {'val hard':>9}" if hard else ""))
        for r in rows:
            h = r.get("hard_solve_rate")
            print(f"{r['step']:>7} {r['examples']:>10} {r.get('loss', float('nan')):>8.4f} {100 * r['solve_rate']:>9.1f}%"
                  + ("" if not hard else f" {100 * h:>8.1f}%" if h is not None else f" {'':>9}"))
    if a.plot and plot(curves, a.plot):
        print(f"wrote {a.plot}", file=sys.stderr)
    if a.json:
        print(json.dumps({"curves": curves}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
