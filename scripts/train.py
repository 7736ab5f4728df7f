"""Train a masked diffusion model (MDM) or an autoregressive baseline (ARM).

    python -m scripts.train --config configs/sudoku-mdm.json --out models/pretrained/sudoku-mdm.pt
    python -m scripts.train --task maze --model mdm --steps 200 --out runs/maze.pt
    torchrun --nproc_per_node 2 -m scripts.train --config configs/sudoku-mdm.json --out runs/ddp.pt

Every TrainConfig field is a flag (``--batch-size 64``) and overrides the JSON config.
Training state (optimizer, step) goes to ``OUT.state`` next to the checkpoint every
``--save-every`` steps; ``--resume`` continues from it and ends exactly where an
uninterrupted run would (batches are a function of (seed, rank, step)).
"""
from __future__ import annotations

import sys

from pydantic import ValidationError

from models.runtime import RuntimeChoiceError, pick_device
from puzzles.cli import Parser, UsageError, check_output, fail, strict_bool
from puzzles.io import ParseError
from solvers.training.config import TrainConfig, config_error, read_config, resolve_config
from solvers.training.loop import train


def parse_args(argv):
    ap = Parser(prog="python -m scripts.train", description=__doc__.split("\n")[0], epilog=__doc__)
    ap.add_argument("--config", help="JSON object of TrainConfig fields, or the name of a shipped config "
                                     "(sudoku-mdm, maze-mdm, ...); flags override it.")
    ap.add_argument("--out", required=True, help="Checkpoint path (resume state goes to OUT.state).")
    ap.add_argument("--resume", action="store_true", help="Continue from OUT.state if it exists.")
    for name, f in TrainConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if f.annotation is bool:
            ap.add_argument(flag, type=strict_bool, metavar="BOOL", default=None, help=f.description)
        else:
            ap.add_argument(flag, default=None, help=f"{f.description} (default: {f.default})")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        raw = read_config(resolve_config(args.config)) if args.config else {}
        for name in TrainConfig.model_fields:
            v = getattr(args, name)
            if v is not None:
                raw[name] = v
        try:
            cfg = TrainConfig(**raw)
        except ValidationError as e:
            raise UsageError(config_error(e, args.config or "flags")) from None
        check_output(args.out, "--out")
        check_output(str(args.out) + ".state", "--out")
        pick_device(cfg.device)
        return train(cfg, args.out, resume=args.resume)
    except (UsageError, RuntimeChoiceError, ParseError) as e:
        return fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
