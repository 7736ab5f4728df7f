"""The shipped evaluation sets, found through ``importlib.resources``.

The files live in the repository's ``datasets/`` folder (data, not a Python package:
a top-level package of that name would shadow the well-known ``datasets`` library).
``puzzles/datasets`` is a symbolic link to that folder, declared as package data, so a
built wheel carries a copy inside the ``puzzles`` package and an editable install reads
the folder itself; either way the same call finds it, from any working directory.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def dataset_dir(task: str) -> Path:
    """Folder of the shipped sets of ``task`` ('sudoku' or 'maze')."""
    return Path(str(files("puzzles") / "datasets" / task))


def dataset(task: str, name: str = "test.csv") -> Path:
    """A shipped set, e.g. ``dataset('sudoku', 'hard.csv')``."""
    return dataset_dir(task) / name


def shipped_sets(task: str) -> list[Path]:
    """Every shipped set of ``task``, sorted by name."""
    return sorted(dataset_dir(task).glob("*.csv"))
