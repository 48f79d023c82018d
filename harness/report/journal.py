"""The journal: one drill record as a JSON document, written atomically as the run progresses.

This module alone turns a ``DrillRecord`` into JSON and back. Its status moves STARTED -> DONE,
FAILED or INTERRUPTED (``error`` saying "failed while <action>: <first line>"), so a crash
leaves a journal that says how far the run got; the reaper turns a dead run's STARTED into
KILLED. Version 2 added ``action``; older journals read with the defaults of the keys they lack.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import types
from collections.abc import Mapping
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from harness.errors import InputError
from harness.record import DrillRecord

JOURNAL_VERSION = 2


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


def write_journal(path: Path, record: DrillRecord) -> None:
    """Save ``record`` as pretty JSON."""
    write_atomic(path, json.dumps(record_to_dict(record), indent=2, default=str) + "\n")


def read_journal(path: Path) -> DrillRecord:
    """Load a journal written by write_journal (any version up to this one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable journal ({exc})") from exc
    return record_from_dict(data)


def record_to_dict(record: DrillRecord) -> dict[str, Any]:
    """The journal as plain JSON values (lists, dicts, strings, numbers), version first."""
    body = _plain(record)
    assert isinstance(body, dict)
    return {"journal_version": JOURNAL_VERSION, **body}


def record_from_dict(data: Mapping[str, Any]) -> DrillRecord:
    """The record of a journal's JSON; a key this version does not know is an error."""
    version = data.get("journal_version", 1)
    if not isinstance(version, int) or version > JOURNAL_VERSION:
        raise InputError(
            f"journal version {version!r}: this recovery-drill reads up to {JOURNAL_VERSION}"
        )
    body = {k: v for k, v in data.items() if k != "journal_version"}
    record = _build(DrillRecord, body, "journal")
    assert isinstance(record, DrillRecord)
    return record


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("omit_empty") and not getattr(value, f.name))
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise InputError(f"{where}.{unknown[0]}: not a journal key this version knows")
    try:
        return cls(**{k: _convert(hints[k], v, f"{where}.{k}") for k, v in data.items()})
    except TypeError as exc:  # a required key is missing
        raise InputError(f"{where}: {exc}") from exc


def _convert(tp: Any, value: Any, where: str) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        (inner,) = (a for a in get_args(tp) if a is not type(None))
        return _convert(inner, value, where)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from exc
    if origin is tuple:
        args = get_args(tp)
        kinds = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        if not isinstance(value, list | tuple) or len(kinds) != len(value):
            raise InputError(f"{where}: expected a list of {len(kinds)}, got {value!r}")
        return tuple(
            _convert(kind, item, f"{where}[{i}]")
            for i, (kind, item) in enumerate(zip(kinds, value, strict=True))
        )
    if origin is Mapping:
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: expected an object, got {type(value).__name__}")
        _, inner = get_args(tp)
        return {k: _convert(inner, v, f"{where}.{k}") for k, v in value.items()}
    return value
