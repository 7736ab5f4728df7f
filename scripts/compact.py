"""Halve a checkpoint for shipping: its float weights stored as bfloat16.

    python -m scripts.compact runs/maze-arm-path.pt models/pretrained/maze-arm-path.pt
    python -m scripts.compact runs/maze-sizes.pt models/pretrained/maze-mdm.pt --eb-gamma 0.01

Loading upcasts them to float32 (``load_state_dict`` copies into the float32 model), so
the file works everywhere a full one does. bf16 autocast decoding, the default on CPUs
with native bf16, rounds the matrix weights to bf16 anyway; fp32 decoding sees weights
rounded to 8 significant bits. ``meta.stored_dtype`` records it. Evaluate the compacted
file, not the original: the shipped figures are measured on what ships. ``--eb-gamma``
records the EB gamma chosen on validation puzzles (``meta.eb_gamma``): the solvers use it
when ``--gamma`` is not given.
"""
from __future__ import annotations

import sys

import torch

from models.checkpoint import CheckpointError, atomic_save, load_checkpoint
from puzzles.cli import Parser, UsageError, check_output, fail


def compact(src: str, dst: str, eb_gamma: float | None = None) -> tuple[int, int]:
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
    atomic_save(dict(ck, state_dict=sd, meta=meta), dst)
    return n, saved


def main(argv=None) -> int:
    ap = Parser(prog="python -m scripts.compact", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("src", help="checkpoint written by scripts.train")
    ap.add_argument("dst", help="where to write the compacted checkpoint")
    ap.add_argument("--eb-gamma", type=float, help="record this EB gamma, chosen on validation puzzles, as the "
                                                   "checkpoint's default (meta.eb_gamma)")
    a = ap.parse_args(argv)
    try:
        if a.eb_gamma is not None and not a.eb_gamma >= 0:
            raise UsageError(f"--eb-gamma: must be >= 0, got {a.eb_gamma}")
        check_output(a.dst, "dst")
        n, saved = compact(a.src, a.dst, a.eb_gamma)
    except (UsageError, CheckpointError) as e:
        return fail(str(e))
    print(f"wrote {a.dst}: {n} float tensors as bfloat16, {saved / 1e6:.1f} MB smaller")
    return 0


if __name__ == "__main__":
    sys.exit(main())
