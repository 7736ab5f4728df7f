"""Checkpoint I/O: one file with config, weights, task, vocab and training metadata.

Loaded with ``torch.load(weights_only=True)``; every mismatch is a ``CheckpointError``
with a clear message instead of a crash deep inside torch.
"""
from __future__ import annotations

import io
from pathlib import Path

import torch

from models.transformer import ModelConfig, PuzzleTransformer

FORMAT = "mdm-puzzles/1"


class CheckpointError(ValueError):
    pass


def atomic_save(obj, path: str | Path) -> None:
    """torch.save to a temporary file, then rename, so a kill never leaves half a file."""
    import os
    import tempfile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(obj, buf)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(path: str | Path, model: PuzzleTransformer, *, vocab: list[str],
               meta: dict | None = None) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_save({"format": FORMAT, "task": model.cfg.task, "kind": model.cfg.kind,
                 "vocab": list(vocab), "config": model.cfg.model_dump(mode="json"),
                 "state_dict": state, "meta": meta or {}}, path)


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input error
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint")
    return ck


def load_model(path: str | Path, *, task: str | None = None, kind: str | None = None,
               vocab: list[str] | None = None, device: str = "cpu") -> tuple[PuzzleTransformer, dict]:
    """Rebuild the model; checks task, kind and vocabulary against what the caller expects."""
    ck = load_checkpoint(path)
    if task is not None and ck["task"] != task:
        raise CheckpointError(f"{path}: checkpoint is for task {ck['task']!r}, not {task!r}")
    if kind is not None and ck["kind"] != kind:
        raise CheckpointError(f"{path}: checkpoint holds an {ck['kind'].upper()} model, "
                              f"this needs an {kind.upper()}")
    if vocab is not None and list(ck["vocab"]) != list(vocab):
        raise CheckpointError(f"{path}: vocabulary mismatch: checkpoint has {len(ck['vocab'])} "
                              f"tokens {ck['vocab'][:4]}..., the task uses {len(vocab)} {vocab[:4]}...")
    cfg = ModelConfig(**ck["config"])
    model = PuzzleTransformer(cfg)
    try:
        model.load_state_dict(ck["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the stored config: {e}") from None
    return model.to(device).eval(), ck


def _umask() -> int:
    import os
    m = os.umask(0)
    os.umask(m)
    return m
