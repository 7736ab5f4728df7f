"""The training config (``TrainConfig``) and what reads it: JSON files, shipped configs
by name, one-line validation messages, and the resume state ``OUT.state``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from models.checkpoint import safe_load, shipped_config
from models.config import Architecture
from puzzles.cli import UsageError


class TrainConfig(Architecture):
    """Everything that determines a training run; stored in the checkpoint. The architecture
    fields (d_model, n_layers, n_heads, loops, order, pick_head, prefix) and their checks are
    ``models.config.Architecture``'s, shared with ``ModelConfig``."""
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    task: Literal["sudoku", "maze"] = Field("sudoku", description="Puzzle task.")
    model: Literal["mdm", "arm"] = Field("mdm", description="Masked diffusion model or autoregressive baseline.")
    steps: int = Field(3000, ge=1, description="Optimizer steps (the cosine schedule ends here).")
    batch_size: int = Field(128, ge=1, description="Examples per step and per process.")
    lr: float = Field(1e-3, gt=0, description="Peak AdamW learning rate.")
    min_lr_frac: float = Field(0.1, ge=0, le=1, description="Final learning rate as a fraction of lr.")
    warmup: int = Field(100, ge=0, description="Linear warm-up steps.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient-norm clipping threshold.")
    seed: int = Field(0, description="Seed of the batches, masks and initial weights.")
    elbo_weight: bool = Field(False, description="MDM: weight each example by 1/t (ELBO) instead of uniformly.")
    focal_gamma: float = Field(0.0, ge=0, description="MDM: Ye et al.'s token reweighting toward hard tokens, "
                                                       "weight alpha*(1-exp(-CE))^gamma (0: off).")
    focal_alpha: float = Field(1.0, gt=0, description="MDM: scale alpha of the token reweighting.")
    pool_size: int = Field(2000, ge=1, description="On-the-fly data: complete grids / mazes generated at start.")
    pool_seed: int = Field(1000, description="Seed of the training pool (test sets use other seeds).")
    maze_pool: Literal["wilson", "mixed"] = Field(
        "wilson", description="Mazes: Wilson mazes with distant ends, or every generator, loops and endpoint "
                              "rule (puzzles.maze.generate_mixed); validation draws from the same kind.")
    maze_max: int = Field(0, ge=0, le=64, description="Mazes, MDM or path ARM: train one model for every size from maze_min "
                                                      "to maze_max cells a side (0: the fixed 10x10 pool). Each "
                                                      "step draws one shape (sides weighted by size_power, half "
                                                      "square) and batch_cells cells of fresh mixed mazes of it, "
                                                      "tied shortest paths included, one drawn uniformly.")
    maze_min: int = Field(4, ge=2, description="Smallest side with maze_max.")
    fill_frac: float = Field(0.0, ge=0, le=1, description="Maze MDM with maze_max: share of rows masked as the "
                                                          "states decoding walks through (dead-end filling "
                                                          "stopped part way) instead of uniformly (0: off).")
    size_power: float = Field(1.0, ge=0, description="maze_max: a side's weight is its length to this power "
                                                     "(1: by length; 2: by area, more steps on large mazes; "
                                                     "0: every side alike).")
    batch_cells: int = Field(6400, ge=16, description="maze_max: cells per batch (rows = batch_cells // cells, "
                                                      "so every shape costs about the same per step).")
    sudoku_pool: Literal["grids", "puzzles", "mixed"] = Field(
        "grids", description="Sudoku: complete grids under random masks; puzzles with a unique solution drawn "
                             "like the test sets (givens never masked; what the ARMs train on); or mixed: "
                             "grids plus minimal puzzles (as few clues as the generator reaches, most need a "
                             "guess; with --data, the file's puzzles instead), puzzle_frac of each batch from "
                             "the puzzles.")
    puzzle_frac: float = Field(0.5, ge=0, le=1, description="sudoku_pool mixed: share of each batch drawn "
                                                             "from the minimal puzzles.")
    init: str | None = Field(None, description="Start from this checkpoint's weights (fine-tuning); the model "
                                               "fields must match it.")
    data: str | None = Field(None, description="Train from this dataset file (question+answer) instead of a pool "
                                               "(Sudoku with sudoku_pool mixed: instead of the pool's puzzles).")
    ema: float = Field(0.0, ge=0, lt=1, description="Decay of an exponential moving average of the weights, "
                       "updated every step (0: off). The checkpoint holds the average, OUT.raw the step's own weights; "
                       "in-run validation decodes the average.")
    eval_every: int = Field(500, ge=0, description="Validate every N steps (0: only at the end).")
    eval_size: int = Field(100, ge=0, description="Held-out puzzles decoded at each validation.")
    eval_seed: int = Field(2000, description="Seed of the validation puzzles.")
    eval_hard: int = Field(0, ge=0, description="Sudoku: also decode this many minimal validation puzzles (as few "
                                                "clues as the generator reaches, like hard.csv) at each validation.")
    save_every: int = Field(100, ge=1, description="Write the checkpoint and resume state every N steps.")
    minutes: float = Field(0, ge=0, description="Stop (resumably) after this many wall-clock minutes (0: no limit).")
    time_budget: float = Field(0, ge=0, description="Fit the run to this many wall-clock minutes from its start "
                                                    "(pool generation included): the step rate is measured as it "
                                                    "goes and the cosine schedule ends at the steps that fit, never "
                                                    "more than --steps (0: off). The checkpoint records the steps run.")
    workers: int = Field(0, ge=0, description="Processes that generate the training pool (0: every core); the pool "
                                              "is the same for any count.")
    stop_after: int = Field(0, ge=0, description="Stop (resumably) after this many steps in this invocation (0: no limit).")
    threads: int = Field(0, ge=0, description="torch CPU threads (0: every core of the machine).")
    device: str = Field("auto", description="cuda, mps, cpu or auto (CUDA, then MPS, then CPU).")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="Autocast precision: bf16 where the device runs it natively (auto), or forced.")
    compile: bool = Field(False, description="Wrap the model in torch.compile (measured slower on CPU: "
                                             "see scripts.bench_train).")


    def mixes_file(self) -> bool:
        """Sudoku with sudoku_pool mixed and --data: generated grids plus the file's puzzles."""
        return bool(self.data) and self.task == "sudoku" and self.sudoku_pool == "mixed"

    @model_validator(mode="after")
    def _consistent(self):
        self._check_architecture(self.model)
        if self.eval_hard and self.task != "sudoku":
            raise ValueError("eval_hard is for Sudoku (minimal puzzles)")
        if self.maze_max and (self.task != "maze" or self.data or not self.reads_every_maze_size(self.model)):
            raise ValueError("maze_max is for the maze MDM or the path ARM with --pick-head pointer, "
                             "on generated mazes (no --data)")
        if self.fill_frac and not (self.maze_max and self.model == "mdm"):
            raise ValueError("fill_frac is for the maze MDM with maze_max")
        if self.maze_max and self.maze_min > self.maze_max:
            raise ValueError(f"maze_min ({self.maze_min}) must be <= maze_max ({self.maze_max})")
        if self.order != "raster":
            need = {"solver": "sudoku", "path": "maze"}[self.order]
            if self.model != "arm" or self.task != need:
                raise ValueError(f"order {self.order!r} is for the {need} ARM (got {self.task} {self.model})")
            if self.data:
                raise ValueError(f"order {self.order!r} trains on the generated pool, not --data")
            if self.order == "solver" and self.sudoku_pool != "puzzles":
                raise ValueError("order 'solver' needs sudoku_pool 'puzzles' (puzzles with a unique solution)")
        return self


_RUNTIME = {"eval_every", "eval_size", "save_every", "minutes", "stop_after", "threads", "device", "compile",
            "steps", "precision", "time_budget", "workers"}


def resolve_config(name: str) -> str:
    """A path as given, or for a bare name (``maze-mdm``) the shipped config of that name."""
    if Path(name).exists() or "/" in name or name.endswith(".json"):
        return name
    path = shipped_config(name)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json"))
        raise UsageError(f"--config: {name!r} is neither a file nor a shipped config ({', '.join(known)})")
    return str(path)


def read_config(path: str) -> dict:
    """The JSON object in ``path``; UsageError naming the file and the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a JSON file") from None
    except FileNotFoundError:
        raise UsageError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (cannot decode as UTF-8)") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read config ({e.strerror or e})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: a config is a JSON object of TrainConfig fields, got {type(raw).__name__}")
    return raw


def config_error(e: ValidationError, source: str) -> str:
    """One line naming the flag (or config field) and the problem."""
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    where = f"--{loc.replace('_', '-')}" if loc else source
    return f"{where}: {err['msg']} (got {err.get('input')!r})" if loc else f"{where}: {err['msg']}"


_STATE_KEYS = {"model": dict, "optimizer": dict, "step": int, "history": list, "wall": float, "train_config": dict}


def load_resume_state(path: Path) -> dict:
    """OUT.state, checked: readable by ``torch.load(weights_only=True)`` and holding every key."""
    try:
        st = safe_load(path)
    except Exception as e:  # noqa: BLE001 - a damaged or hostile file is the user's input error
        raise UsageError(f"{path}: cannot resume: not a readable training state "
                         f"({type(e).__name__}); delete it or drop --resume") from None
    if not isinstance(st, dict):
        raise UsageError(f"{path}: cannot resume: not a training state (a {type(st).__name__})")
    for key, typ in _STATE_KEYS.items():
        if not isinstance(st.get(key), typ):
            raise UsageError(f"{path}: cannot resume: {key!r} is missing or not a {typ.__name__}")
    try:
        TrainConfig(**st["train_config"])
    except ValidationError as e:
        raise UsageError(f"{path}: cannot resume: its config is invalid ({config_error(e, str(path))})") from None
    return st
