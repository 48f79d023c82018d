"""The journal: one JSON document per drill run, written atomically as the run progresses.

Its status moves STARTED -> DONE or FAILED (with ``failed_while`` naming the action that was
under way), so a crash leaves a journal that says how far the run got.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

JOURNAL_VERSION = 1


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write via a temporary file and rename, then fsync the directory.

    The file is private to its owner (0600) unless ``mode`` says otherwise (reports meant to
    be published as CI artifacts are written 0644).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_journal(path: Path, journal: dict[str, Any]) -> None:
    """Save ``journal`` as pretty JSON."""
    write_atomic(path, json.dumps(journal, indent=2, sort_keys=False, default=str) + "\n")


def read_journal(path: Path) -> dict[str, Any]:
    """Load a journal written by write_journal."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
