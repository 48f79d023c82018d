"""A team's own database ("bring your own"): how each engine loads the team's files and
computes the source truth (per-table digests and the catalogue of schema objects, in SQL).

``byo_of(engine)`` returns the engine's part; engines without one cannot drill a team's
database (validation says so).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.errors import InputError
from harness.truth import CatalogueEntry, TableTruth

if TYPE_CHECKING:
    from harness.engines.base import Engine

# Where the team's files are put in the server container (removed after loading).
LOAD_DIR = "/tmp/drill-load"


class FileKind(StrEnum):
    SCRIPT = "sql script"
    ARCHIVE = "pg_dump archive"
    DIRECTORY = "pg_dump directory"


@dataclass(frozen=True)
class DatasetFile:
    """A team's file: where it is, what it is, whether it is gzip-compressed."""

    path: Path
    kind: FileKind
    gzipped: bool


def inspect_file(path: Path) -> DatasetFile:
    """What kind of file ``path`` is, from its first bytes (InputError if unreadable)."""
    if path.is_dir():
        if not (path / "toc.dat").is_file():
            raise InputError(f"{path}: a directory but not a pg_dump directory (no toc.dat)")
        return DatasetFile(path, FileKind.DIRECTORY, gzipped=False)
    try:
        with path.open("rb") as raw:
            head = raw.read(5)
        gzipped = head[:2] == b"\x1f\x8b"
        if gzipped:
            with gzip.open(path, "rb") as unzipped:
                head = unzipped.read(5)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the dataset file: {exc}") from exc
    kind = FileKind.ARCHIVE if head == b"PGDMP" else FileKind.SCRIPT
    return DatasetFile(path, kind, gzipped)


class ByoSupport(Protocol):
    """What an engine does for a team's database."""

    def load_command(self, engine: Any, file: DatasetFile, *, path: str, database: str) -> str:
        """Shell (in the server container) loading the file at ``path``; prints
        ``DRILL_DATABASE=<name>`` last. ``database``: the scenario's choice, or empty."""

    def load_env(self, engine: Any) -> dict[str, str]:
        """The environment of the load command (credentials, never in argv)."""

    def digests(self, conn: Any, tables: list[str] | None = None) -> dict[str, TableTruth]:
        """Row count and content digest of every user table (or of ``tables``)."""

    def digest_table(self, conn: Any, table: str, *, where: str | None = None) -> TableTruth:
        """One table's digest, optionally of the rows matching ``where`` only."""

    def catalogue(self, conn: Any) -> list[CatalogueEntry]:
        """Every schema object of the connection's database."""

    def database_bytes(self, conn: Any) -> int:
        """On-disk size of the user tables (the yardstick of backup size plausibility)."""


class _Postgres:
    def load_command(self, engine: Any, file: DatasetFile, *, path: str, database: str) -> str:
        from harness.engines.postgres import load

        start = engine.credentials.database
        if file.kind is FileKind.SCRIPT:
            return load.script_command(
                path=path, gzipped=file.gzipped, database=database, start_database=start
            )
        return load.archive_command(
            path=path,
            gzipped=file.gzipped,
            directory=file.kind is FileKind.DIRECTORY,
            database=database,
            start_database=start,
        )

    def load_env(self, engine: Any) -> dict[str, str]:
        return dict(engine.tool_env())

    def digests(self, conn: Any, tables: list[str] | None = None) -> dict[str, TableTruth]:
        from harness.engines.postgres import catalogue

        return catalogue.digests(conn, tables)

    def digest_table(self, conn: Any, table: str, *, where: str | None = None) -> TableTruth:
        from harness.engines.postgres import catalogue

        return catalogue.digest_table(conn, table, where=where)

    def catalogue(self, conn: Any) -> list[CatalogueEntry]:
        from harness.engines.postgres import catalogue

        return catalogue.catalogue(conn)

    def database_bytes(self, conn: Any) -> int:
        from harness.engines.postgres import catalogue

        return catalogue.database_bytes(conn)


class _MariaDB:
    def load_command(self, engine: Any, file: DatasetFile, *, path: str, database: str) -> str:
        from harness.engines.mariadb import load

        if file.kind is not FileKind.SCRIPT:
            raise InputError(f"{file.path}: a {file.kind} cannot be loaded into {engine.name}")
        return load.script_command(
            client=engine.root_client(), path=path, gzipped=file.gzipped, database=database
        )

    def load_env(self, engine: Any) -> dict[str, str]:
        return {}  # the root client reads the image's own password variable

    def digests(self, conn: Any, tables: list[str] | None = None) -> dict[str, TableTruth]:
        from harness.engines.mariadb import catalogue

        return catalogue.digests(conn, tables)

    def digest_table(self, conn: Any, table: str, *, where: str | None = None) -> TableTruth:
        from harness.engines.mariadb import catalogue

        return catalogue.digest_table(conn, table, where=where)

    def catalogue(self, conn: Any) -> list[CatalogueEntry]:
        from harness.engines.mariadb import catalogue

        return catalogue.catalogue(conn)

    def database_bytes(self, conn: Any) -> int:
        from harness.engines.mariadb import catalogue

        return catalogue.database_bytes(conn)


_SUPPORT: dict[str, ByoSupport] = {"postgres": _Postgres(), "mariadb": _MariaDB(),
                                   "mysql": _MariaDB()}  # fmt: skip


def byo_engines() -> list[str]:
    """The engines that can drill a team's own database."""
    return sorted(_SUPPORT)


def byo_of(engine: Engine) -> ByoSupport:
    """The engine's part in drilling a team's database (InputError if it has none)."""
    try:
        return _SUPPORT[engine.name]
    except KeyError:
        raise InputError(f"engine {engine.name} cannot load a team's own dataset yet") from None
