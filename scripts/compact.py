"""Halve a checkpoint for shipping: its float weights stored as bfloat16.

    python -m scripts.compact runs/maze-arm-path.pt models/pretrained/maze-arm-path.pt
    python -m scripts.compact runs/maze-sizes.pt models/pretrained/maze-mdm.pt --eb-gamma 0.01 --eb-gamma-from-side 16=0.003

Loading upcasts them to float32 (``load_state_dict`` copies into the float32 model), so
the file works everywhere a full one does. bf16 autocast decoding, the default on CPUs
with native bf16, rounds the matrix weights to bf16 anyway; fp32 decoding sees weights
rounded to 8 significant bits. ``meta.stored_dtype`` records it. Evaluate the compacted
file, not the original: the shipped figures are measured on what ships. ``--eb-gamma``
records the EB gamma chosen on validation puzzles (``meta.eb_gamma``): the solvers use it
when ``--gamma`` is not given. ``--eb-gamma-from-side SIDE=GAMMA`` records a band: mazes
whose larger side is SIDE or more (up to the next band) take GAMMA instead
(``meta.eb_gamma_from_side``; ``models.checkpoint.eb_gamma_for``). ``--search-gamma``
records the gamma chosen on validation for best-first search (``meta.search_gamma``):
``--search`` uses it, at every size, when ``--gamma`` is not given. ``--search-views K
--search-restart C`` record the symmetric views and restart chosen on validation for
``--search`` (``meta.search_views``, ``meta.search_restart``; ``models.checkpoint.search_views_for``).
"""
from __future__ import annotations

import sys

import torch

from models.checkpoint import CheckpointError, atomic_save, load_checkpoint
from puzzles.cli import Parser, UsageError, check_output, fail


def compact(src: str, dst: str, eb_gamma: float | None = None,
            from_side: dict[int, float] | None = None, search_gamma: float | None = None,
            views: tuple[int, int] | None = None) -> tuple[int, int]:
    """Write ``src`` to ``dst`` with bf16 weights; returns (float tensors, bytes saved)."""
    ck = load_checkpoint(src)
    n, saved = 0, 0
    sd = {}
    for k, v in ck["state_dict"].items():
        if v.is_floating_point() and v.dtype != torch.bfloat16:
            saved += v.numel() * (v.element_size() - 2)
            v, n = v.to(torch.bfloat16), n + 1
        sd[k] = v
    meta = dict(ck["meta"], stored_dtype="bfloat16")
    if eb_gamma is not None:
        meta["eb_gamma"] = eb_gamma
    if from_side is not None:
        meta["eb_gamma_from_side"] = {str(k): float(v) for k, v in sorted(from_side.items())}
    if search_gamma is not None:
        meta["search_gamma"] = search_gamma
    if views is not None:
        meta["search_views"], meta["search_restart"] = views
    atomic_save(dict(ck, state_dict=sd, meta=meta), dst)
    return n, saved


def parse_bands(items: list[str] | None, eb_gamma: float | None) -> dict[int, float] | None:
    """``--eb-gamma-from-side`` items SIDE=GAMMA as {side: gamma}; UsageError on a bad one."""
    if items is None:
        return None
    if eb_gamma is None:
        raise UsageError("--eb-gamma-from-side: give --eb-gamma too (the gamma below the first band)")
    bands: dict[int, float] = {}
    for item in items:
        side, _, g = item.partition("=")
        try:
            side_n, g_f = int(side), float(g)
        except ValueError:
            raise UsageError(f"--eb-gamma-from-side: {item!r} is not SIDE=GAMMA (for example 16=0.003)") from None
        if side_n < 2 or not g_f >= 0:
            raise UsageError(f"--eb-gamma-from-side: {item!r}: SIDE must be >= 2 and GAMMA >= 0")
        if side_n in bands:
            raise UsageError(f"--eb-gamma-from-side: side {side_n} given twice")
        bands[side_n] = g_f
    return bands


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.compact", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("src", help="checkpoint written by scripts.train")
    ap.add_argument("dst", help="where to write the compacted checkpoint")
    ap.add_argument("--eb-gamma", type=float, help="record this EB gamma, chosen on validation puzzles, as the "
                                                   "checkpoint's default (meta.eb_gamma)")
    ap.add_argument("--eb-gamma-from-side", nargs="+", metavar="SIDE=GAMMA", default=None,
                    help="record a gamma per size band, each chosen on validation mazes of that size: mazes "
                         "whose larger side is SIDE or more take GAMMA (needs --eb-gamma for the smaller ones)")
    ap.add_argument("--search-gamma", type=float, help="record this EB gamma, chosen on validation for best-first "
                                                       "search, as --search's default (meta.search_gamma)")
    ap.add_argument("--search-views", type=int, metavar="K", help="record K symmetric views for --search, chosen "
                                                                   "on validation (meta.search_views; with "
                                                                   "--search-restart)")
    ap.add_argument("--search-restart", type=int, metavar="C", help="record C NFE per view but the last "
                                                                    "(meta.search_restart; with --search-views)")
    a = ap.parse_args(argv)
    try:
        views = None
        if (a.search_views is None) != (a.search_restart is None):
            raise UsageError("--search-views and --search-restart: give both or neither")
        if a.search_views is not None:
            if a.search_views < 2 or a.search_restart < 1:
                raise UsageError(f"--search-views must be >= 2 and --search-restart >= 1, got "
                                 f"{a.search_views} and {a.search_restart}")
            views = (a.search_views, a.search_restart)
        for flag, g in (("--eb-gamma", a.eb_gamma), ("--search-gamma", a.search_gamma)):
            if g is not None and not g >= 0:
                raise UsageError(f"{flag}: must be >= 0, got {g}")
        bands = parse_bands(a.eb_gamma_from_side, a.eb_gamma)
        check_output(a.dst, "dst")
        n, saved = compact(a.src, a.dst, a.eb_gamma, bands, a.search_gamma, views)
    except (UsageError, CheckpointError) as e:
        return fail(str(e))
    print(f"wrote {a.dst}: {n} float tensors as bfloat16, {saved / 1e6:.1f} MB smaller")
    return 0


if __name__ == "__main__":
    sys.exit(main())
