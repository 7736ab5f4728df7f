"""Atomic writes: a write killed half-way leaves the old file whole and no temporary file."""
import os

import pytest

from puzzles.io import atomic_write_text


def test_a_killed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "answers.txt"
    atomic_write_text(path, "old\n")

    def killed(fd):                     # the process dies after the bytes went out, before the rename
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, "new, and much longer than the old text\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.txt"]
    monkeypatch.undo()
    before = path.stat().st_ino
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert path.stat().st_ino != before     # a new file renamed over the old one, never written in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.txt"]
