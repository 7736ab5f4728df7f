"""Checkpoint I/O: one file with config, weights, task, vocab and training metadata.

Loaded with ``torch.load(weights_only=True)``; every mismatch is a ``CheckpointError``
with a clear message instead of a crash deep inside torch.
"""
from __future__ import annotations

import io
import warnings
from importlib.resources import files
from pathlib import Path

import torch
from pydantic import ValidationError

from models.transformer import ModelConfig, PuzzleTransformer

FORMAT = "mdm-puzzles/1"


def safe_load(path) -> object:
    """``torch.load(weights_only=True)`` on the CPU, without torch's pickle-protocol warning: a
    damaged file gets the caller's one-line error, not a warning about pickle internals too."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Detected pickle protocol")
        return torch.load(path, map_location="cpu", weights_only=True)


def pretrained(name: str) -> Path:
    """A shipped checkpoint (package data of ``models``), e.g. ``pretrained('sudoku-mdm.pt')``."""
    return Path(str(files("models") / "pretrained" / name))


def shipped_config(name: str) -> Path:
    """The training config that reproduces a shipped checkpoint: ``shipped_config('maze-mdm')``.
    ``models/configs`` links to the repository's ``configs/`` folder and ships in the wheel."""
    return Path(str(files("models") / "configs" / f"{name}.json"))


class CheckpointError(ValueError):
    pass


def atomic_save(obj, path: str | Path) -> None:
    """torch.save through a durable atomic write, so a kill never leaves half a file."""
    from puzzles.io import atomic_write_bytes
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def save_model(path: str | Path, model: PuzzleTransformer, *, vocab: list[str],
               meta: dict | None = None) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_save({"format": FORMAT, "task": model.cfg.task, "kind": model.cfg.kind,
                 "vocab": list(vocab), "config": model.cfg.model_dump(mode="json"),
                 "state_dict": state, "meta": meta or {}}, path)


_KEYS = {"task": str, "kind": str, "vocab": list, "config": dict, "state_dict": dict, "meta": dict}


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint's dict, with its keys and their types checked; CheckpointError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, expected a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ck = safe_load(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input error
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint")
    for key, typ in _KEYS.items():
        if not isinstance(ck.get(key), typ):
            raise CheckpointError(f"{path}: damaged checkpoint: {key!r} is "
                                  f"{'missing' if key not in ck else type(ck[key]).__name__}, expected {typ.__name__}")
    return ck


def load_model(path: str | Path, *, task: str | None = None, kind: str | None = None,
               vocab: list[str] | None = None, device: str = "cpu") -> tuple[PuzzleTransformer, dict]:
    """Rebuild the model; checks task, kind and vocabulary against what the caller expects."""
    ck = load_checkpoint(path)
    if task is not None and ck["task"] != task:
        raise CheckpointError(f"{path}: checkpoint is for task {ck['task']!r}, not {task!r}")
    if kind is not None and ck["kind"] != kind:
        raise CheckpointError(f"{path}: checkpoint holds an {str(ck['kind']).upper()} model, "
                              f"this needs an {kind.upper()}")
    if vocab is not None and list(ck["vocab"]) != list(vocab):
        raise CheckpointError(f"{path}: vocabulary mismatch: checkpoint has {len(ck['vocab'])} "
                              f"tokens {ck['vocab'][:4]}..., the task uses {len(vocab)} {vocab[:4]}...")
    try:
        cfg = ModelConfig(**ck["config"])
        model = PuzzleTransformer(cfg)
    except (ValidationError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint: its model config is invalid "
                              f"({_first_error(e)})") from None
    try:
        model.load_state_dict(ck["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: weights do not fit the stored config: "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    return model.to(device).eval(), ck


def eb_gamma_for(meta: dict, shape: tuple[int, int] | None = None, search: bool = False) -> float | None:
    """The EB gamma chosen on validation for a grid of ``shape`` (rows, cols): with ``search``,
    ``meta['search_gamma']`` where the checkpoint records one (the gamma chosen for best-first
    search, which spends its budget on backing up); else the band of
    ``meta['eb_gamma_from_side']`` ({smallest larger-side of the band: gamma}) with the
    largest start at or under the grid's larger side, else ``meta['eb_gamma']`` (None when
    the checkpoint records neither)."""
    if search and meta.get("search_gamma") is not None:
        return float(meta["search_gamma"])
    bands = meta.get("eb_gamma_from_side") or {}
    if shape is not None:
        starts = [int(k) for k in bands if int(k) <= max(shape)]
        if starts:
            return float(bands[str(max(starts))])
    g = meta.get("eb_gamma")
    return None if g is None else float(g)


def search_views_for(meta: dict, budget: int, task_views: int) -> tuple[int, int] | None:
    """(views, restart) chosen on validation for ``--search`` (``meta['search_views']``,
    ``meta['search_restart']``, chosen at budget 400), or None where the checkpoint records
    none or the task has fewer views. A ``budget`` too small for the recorded restart in
    every view but the last is split evenly instead; under one NFE a view: None."""
    k, c = meta.get("search_views"), meta.get("search_restart")
    if k is None or c is None or int(k) < 2 or int(k) > task_views:
        return None
    k, c = int(k), int(c)
    if c * (k - 1) >= budget:
        c = budget // k
    return (k, c) if c >= 1 else None


def _first_error(e: Exception) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        return f"{'.'.join(str(x) for x in err['loc']) or 'config'}: {err['msg']}"
    return str(e).splitlines()[0] if str(e) else type(e).__name__


# --- training provenance: examples seen and the learning curve, across fine-tuning stages

def examples_seen(meta: dict) -> int:
    """Training examples behind a checkpoint: its own steps x batch x processes, plus those
    of the checkpoint it started from (``meta['init']``, written by ``scripts.train --init``)."""
    tc = meta.get("train_config", {})
    if "examples" in meta:          # batches of varying rows (multi-size mazes) count as they ran
        return int(meta["examples"]) + int((meta.get("init") or {}).get("examples", 0))
    own = int(meta.get("step", 0)) * int(tc.get("batch_size", 0)) * int(meta.get("world", 1))
    return own + int((meta.get("init") or {}).get("examples", 0))


def learning_curve(meta: dict) -> list[dict]:
    """Validation history with ``examples`` counted from the first stage: the history of
    the checkpoint it started from, then its own (steps restart in each stage)."""
    init = meta.get("init") or {}
    base = int(init.get("examples", 0))
    per_step = int(meta.get("train_config", {}).get("batch_size", 0)) * int(meta.get("world", 1))
    own = [dict(h, examples=base + h.get("examples", h["step"] * per_step)) for h in meta.get("history", [])]
    return [dict(h) for h in init.get("history", [])] + own


def init_record(path: str | Path, meta: dict) -> dict:
    """What a fine-tuned checkpoint records of the one it started from (``meta['init']``)."""
    return {"checkpoint": Path(path).name, "examples": examples_seen(meta), "history": learning_curve(meta),
            "train_config": meta.get("train_config", {})}


def grown_state(parent: dict, own: dict) -> dict:
    """The parent's weights for this model. A row or column embedding that grew (a
    multi-size maze model from a fixed-size one) keeps the parent's first rows and its own
    fresh initialisation for the rest; any other mismatch is left to load_state_dict."""
    out = dict(parent)
    for key in ("row.weight", "col.weight"):
        a, b = parent.get(key), own.get(key)
        if a is not None and b is not None and a.shape[0] < b.shape[0] and a.shape[1:] == b.shape[1:]:
            out[key] = torch.cat([a.to(b.dtype), b[a.shape[0]:]])
    return out
