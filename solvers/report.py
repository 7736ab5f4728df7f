"""Reporting decoded puzzles: solve rate with a Wilson interval, NFE, depth, the table."""
from __future__ import annotations

import math

import numpy as np

from puzzles.io import atomic_write_figure, atomic_write_text, csv_text, plain_log_axis, pyplot
from puzzles.verify import failure_counts


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def summarize(task, questions, answers, stats, status, depths) -> dict:
    """The summary row: solve rate with its Wilson interval, NFE, depth, throughput."""
    valid = np.array([s == "ok" for s in status])
    solved, reasons = task.verify(questions, answers) if len(questions) else (np.zeros(0, bool), [])
    solved = np.asarray(solved) & valid
    n = int(valid.sum())
    k = int(solved.sum())
    nfe = stats["nfe"][valid]
    d = np.array([np.nan if x is None else x for x in depths], dtype=float)[valid]
    has_d = ~np.isnan(d)
    toks = sum(sum(t) for t, v in zip(stats["tokens_per_step"], valid) if v)
    lo, hi = wilson(k, n)
    out = {
        "n": n, "solved": k, "solve_rate": k / n if n else 0.0, "ci95": [lo, hi],
        "invalid_puzzles": int((~valid).sum()),
        "nfe_mean": float(nfe.mean()) if n else 0.0,
        "nfe_median": float(np.median(nfe)) if n else 0.0,
        "depth_mean": float(d[has_d].mean()) if has_d.any() else None,
        "nfe_per_depth": float(nfe[has_d].mean() / d[has_d].mean()) if has_d.any() else None,
        "depth_defined": int(has_d.sum()),
        "tokens_per_nfe": float(toks / nfe.sum()) if n and nfe.sum() else 0.0,
        "seconds": stats["seconds"],
        "puzzles_per_s": len(questions) / stats["seconds"] if stats["seconds"] else 0.0,
        "model_seconds": stats["model_seconds"], "overhead_seconds": stats["overhead_seconds"],
        "overhead_frac": stats["overhead_seconds"] / stats["model_seconds"] if stats["model_seconds"] else 0.0,
        "solved_by_depth_class": {
            "defined": _rate(solved[valid][has_d]), "undefined": _rate(solved[valid][~has_d])},
    }
    for k in ("backtracks", "branches"):
        if k in stats:
            out[f"{k}_mean"] = float(np.asarray(stats[k])[valid].mean()) if n else 0.0
    out["failures"] = failure_counts(solved | ~valid, reasons)
    out["_solved"] = solved
    out["_reasons"] = reasons
    return out


def _rate(a: np.ndarray):
    return {"n": int(a.size), "solve_rate": float(a.mean()) if a.size else None}


def print_table(s: dict, label: str, depth_name: str) -> None:
    lo, hi = s["ci95"]
    rows = [
        ("puzzles", f"{s['n']}" + (f" (+{s['invalid_puzzles']} unsolvable, not counted)" if s["invalid_puzzles"] else "")),
        ("solved", f"{s['solved']}"),
        ("solve rate", f"{100 * s['solve_rate']:.1f}%  (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"),
        ("NFE mean / median", f"{s['nfe_mean']:.2f} / {s['nfe_median']:.1f}"),
        (f"{depth_name} mean", "n/a" if s["depth_mean"] is None else f"{s['depth_mean']:.2f} (defined for {s['depth_defined']})"),
        ("NFE / depth", "n/a" if s["nfe_per_depth"] is None else f"{s['nfe_per_depth']:.2f}"),
        ("tokens per NFE", f"{s['tokens_per_nfe']:.2f}"),
        ("puzzles/s", f"{s['puzzles_per_s']:.1f}  ({s['seconds']:.2f} s)"),
        ("sampler overhead", f"{100 * s['overhead_frac']:.1f}% of model time"),
    ]
    if "backtracks_mean" in s:
        rows.append(("dead ends / jumps back", f"{s['backtracks_mean']:.2f} / {s['branches_mean']:.2f} per puzzle"))
    print(f"== {label}")
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    if s["failures"]:
        print("failures: " + ", ".join(f"{k}: {v}" for k, v in sorted(s["failures"].items())))


def public(s: dict) -> dict:
    return {k: v for k, v in s.items() if not k.startswith("_")}


def write_report(path: str, s: dict, status: list[str], nfe, depths) -> None:
    """Per-puzzle CSV: index (1-based), solved, reason (the verifier's, or why the puzzle
    itself has no answer), NFE and depth (empty when undefined)."""
    rows = []
    for i, (ok, reason, st) in enumerate(zip(s["_solved"], s["_reasons"], status)):
        rows.append([i + 1, int(bool(ok)), "solved" if ok else (st if st != "ok" else reason),
                     int(nfe[i]), "" if depths[i] is None else depths[i]])
    atomic_write_text(path, csv_text(["index", "solved", "reason", "nfe", "depth"], rows))


def plot(rows: list[dict], depth: float | None, path: str, task: str, title: str | None = None) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, style in (("eb", "o-"), ("topk", "s-"), ("threshold", "^-"), ("random", "x--"),
                        ("eb+guided", "D-"), ("topk+guided", "P-"), ("klass", "v-"), ("dilated", "<--"),
                        ("remask", ">-")):
        pts = sorted((r["nfe_mean"], 100 * r["solve_rate"]) for r in rows if r["sampler"] == name)
        if pts:
            ax.plot(*zip(*pts), style, label=name)
    arms: dict[str, list] = {}      # one ARM: its greedy point, then its beam widths as a curve
    for r in rows:
        if r["sampler"] == "ar":
            arms.setdefault(r["label"].split(", beam")[0], []).append((r["nfe_mean"], 100 * r["solve_rate"]))
    for (name, pts), marker in zip(arms.items(), ("k*", "rP", "bX", "gD")):
        ax.plot(*zip(*sorted(pts)), marker + ("-" if len(pts) > 1 else ""), markersize=12 if len(pts) == 1 else 8,
                label=f"{name} (same size)" + (", beam widths" if len(pts) > 1 else ""))
    if depth:
        ax.axvline(depth, color="gray", ls=":", label=f"mean {'singles' if task == 'sudoku' else 'dead-end'} depth")
    plain_log_axis(ax)
    ax.set_xlabel("mean NFE per puzzle (log)")
    ax.set_ylabel("solve rate (%)")
    ax.set_title(title or f"{task}: solve rate against NFE")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_figure(fig, path)
    return True
