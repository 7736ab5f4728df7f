"""``scripts.evaluate --scaling``: solve rate against the NFE budget for each point, read
from per-puzzle NFE, with the classical solver's search-node count as the reference."""
from __future__ import annotations

import json

import numpy as np

from puzzles.io import atomic_write_figure, atomic_write_text, csv_text, plain_log_axis, pyplot

BUDGETS = (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200)


def solved_within(solved: np.ndarray, cost: np.ndarray, budgets: list[int]) -> list[float]:
    """Share of all rows solved at a cost of at most each budget (a row that needed exactly
    B passes counts at budget B)."""
    return [float(np.mean(solved & (cost <= b))) for b in budgets]


def scaling_report(rows: list[dict], task, questions, csv_path: str, png: str, as_json: bool) -> int:
    """Solve rate against the NFE budget for each point, and the classical solver's nodes."""
    from puzzles import sudoku as sd
    nodes = np.array([sd.search_nodes(q, task.box) for q in questions])
    top = max([int(r["_nfe"].max()) for r in rows] + [int(nodes.max())])
    budgets = [b for b in BUDGETS if b < top] + [top]
    curves = {r["label"]: solved_within(r["_solved"], r["_nfe"], budgets) for r in rows}
    curves["classical solver (search nodes)"] = solved_within(np.ones(len(nodes), bool), nodes, budgets)
    out = [[label, b, f"{v:.4f}"] for label, vs in curves.items() for b, v in zip(budgets, vs)]
    atomic_write_text(csv_path, csv_text(["label", "budget", "solve_rate"], out))
    print(f"| budget | {' | '.join(curves)} |")
    print("|---" * (len(curves) + 1) + "|")
    for i, b in enumerate(budgets):
        print(f"| {b} | " + " | ".join(f"{100 * vs[i]:.1f}%" for vs in curves.values()) + " |")
    print(f"classical solver: median {int(np.median(nodes))} nodes, max {int(nodes.max())}; "
          f"{int((nodes == 1).sum())} of {len(nodes)} puzzles need no guess")
    plotted = _scaling_plot(curves, budgets, png)
    print(f"wrote {csv_path}" + (f" and {png}" if plotted else ""))
    if as_json:
        print(json.dumps({"budgets": budgets, "curves": curves}))
    return 0


def _scaling_plot(curves: dict, budgets: list[int], path: str) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, vs in curves.items():
        ax.plot(budgets, [100 * v for v in vs], "k:" if label.startswith("classical") else "o-",
                label=label, markersize=3)
    plain_log_axis(ax)
    ax.set_xlabel("NFE budget per puzzle (classical solver: search nodes)")
    ax.set_ylabel("solved within the budget (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write_figure(fig, path)
    return True
