"""Loading a team's own files into a server of the run, and taking its source truth.

The files are streamed into the server container as a tar (``put_archive`` of a generator:
nothing reads a whole dump into the harness's memory), then the engine's own client loads
them there (harness.engines.byo). A file that fails to load is the team's input: InputError
(exit 2) with the client's own message and line.
"""

from __future__ import annotations

import logging
import re
import shlex
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
import requests

from harness.engines.base import Engine
from harness.engines.byo import LOAD_DIR, DatasetFile, byo_of, inspect_file
from harness.errors import InfrastructureError, InputError
from harness.lab.lab import Lab
from harness.server.node import Node
from harness.truth import Truth

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
_MARKER = re.compile(r"^DRILL_DATABASE=(.*)$", re.MULTILINE)


class DatasetLoadError(InputError):
    """The team's file did not load: the client's own message and line (exit 2)."""


@dataclass(frozen=True)
class Loaded:
    """What was loaded: the file, its kind, the drill's database and how long it took."""

    file: str
    kind: str
    gzipped: bool
    bytes: int
    database: str
    took_s: float


def _members(root: Path) -> Iterator[tuple[Path, str]]:
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            yield path, f"{root.name}/{path.relative_to(root)}"
    else:
        yield root, root.name


def tar_stream(root: Path) -> Iterator[bytes]:
    """A tar of ``root`` (a file or a directory), chunk by chunk, read from disk as it goes."""
    for path, name in _members(root):
        info = tarfile.TarInfo(name)
        if path.is_dir():
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        info.size, info.mode, info.mtime = path.stat().st_size, 0o644, int(path.stat().st_mtime)
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
        if info.size % tarfile.BLOCKSIZE:
            yield b"\0" * (tarfile.BLOCKSIZE - info.size % tarfile.BLOCKSIZE)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p, _ in _members(root) if p.is_file())


def load_dataset(
    lab: Lab,
    engine: Engine,
    node: Node,
    *,
    path: Path,
    database: str | None,
    timeout_s: float = 1800,
) -> Loaded:
    """Load the team's file at ``path`` into ``node``; the drill's database is ``database``
    or, if None, the one the script ends in (the one a pg_dump archive was dumped from)."""
    byo = byo_of(engine)
    file: DatasetFile = inspect_file(path)
    started = time.monotonic()
    lab.exec(node.container_id, ["mkdir", "-p", LOAD_DIR], timeout_s=30, action="load into")
    container = lab.guard(node.container_id, action="copy the dataset into")
    try:
        container.put_archive(LOAD_DIR, tar_stream(path))
    except (docker.errors.APIError, requests.RequestException) as exc:
        raise InfrastructureError(f"could not copy {path} into {node.name}: {exc}") from exc
    inside = f"{LOAD_DIR}/{path.name}"
    command = byo.load_command(engine, file, path=inside, database=database or "")
    try:
        result = lab.exec(
            node.container_id,
            ["bash", "-c", command],
            timeout_s=timeout_s,
            env=byo.load_env(engine),
            action="load the dataset into",
        )
    finally:
        lab.exec(
            node.container_id,
            ["rm", "-rf", shlex.quote(inside)],
            timeout_s=60,
            action="clean up in",
        )
    took = round(time.monotonic() - started, 3)
    if not result.ok:
        message = "\n".join(
            line.replace("<stdin>", path.name) for line in result.stderr.strip().splitlines()[-6:]
        )
        raise DatasetLoadError(
            f"{path}: the {file.kind} did not load (exit {result.exit_code}): "
            f"{message or result.tail()}"
        )
    found = _MARKER.findall(result.stdout)
    chosen = database or (found[-1].strip() if found else "")
    if not chosen:
        raise DatasetLoadError(
            f"{path}: the script did not end in a database (no USE / \\c): name one with "
            "dataset.database"
        )
    log.info("loaded %s (%s) into %s in %.1f s", path, file.kind, chosen, took)
    return Loaded(str(path), str(file.kind), file.gzipped, _size(path), chosen, took)


def take_truth(engine: Engine, conn: Any, database: str) -> Truth:
    """The source truth of the database ``conn`` is connected to: every user table's row
    count and digest, and the catalogue of schema objects, computed on the server."""
    byo = byo_of(engine)
    started = time.monotonic()
    tables = byo.digests(conn)
    objects = byo.catalogue(conn)
    return Truth(database, tables, objects, took_s=round(time.monotonic() - started, 3))
