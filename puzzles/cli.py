"""What every entry point shares on the command line: one-line errors and up-front checks.

Every CLI of the toolkit (puzzles.generate, puzzles.verify, the solvers and scripts)
reports a user's mistake as one line on stderr, ``error: --flag: problem`` or
``error: FILE[:LINE]: problem``, and exits with status 2, before any work starts.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


class UsageError(ValueError):
    """A bad flag or output path; the message already names the flag or the file."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line, ``error: ...``, with exit status 2."""

    def __init__(self, *args, **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        invoked = Path(sys.argv[0]).name
        if invoked.startswith("mdm-"):      # run as a console command (mdm-sudoku, ...): name it so
            kw["prog"] = invoked
        super().__init__(*args, **kw)

    def error(self, message: str):
        self.exit(2, f"error: {message} (see --help)\n")


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; return exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def strict_bool(s: str) -> bool:
    """argparse type for true/false flags: only the usual spellings, anything else is an error."""
    v = s.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {s!r}")


def check_output(path: str | Path, flag: str) -> None:
    """Raise UsageError unless ``path`` can be written as a file: not a directory, a
    name the file system accepts, and a folder (or its nearest existing ancestor) in
    which a file can really be created. Probes with a temporary file it removes."""
    p = Path(path)
    if str(path) == "" or p.name in ("", ".", ".."):
        raise UsageError(f"{flag}: {str(path)!r} is not a file name")
    for part in p.parts:                    # before any call that would fail on it
        if len(part.encode()) > 255:
            raise UsageError(f"{flag}: a name in {str(p)[:40]}... is {len(part.encode())} bytes long, "
                             "more than file systems allow (255)")
    try:
        if p.is_dir():
            raise UsageError(f"{flag}: {p} is a directory, expected a file path")
        anc = p.parent if str(p.parent) else Path(".")
        while not anc.exists() and anc != anc.parent:
            anc = anc.parent
    except OSError as e:
        raise UsageError(f"{flag}: {p}: {e.strerror or e}") from None
    if not anc.is_dir():
        raise UsageError(f"{flag}: {anc} is not a directory, so {p} cannot be created")
    try:
        fd, probe = tempfile.mkstemp(dir=anc, prefix=".probe-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"{flag}: cannot write in {anc} ({e.strerror or e})") from None
