"""The history database connection: SQLite (the embedded default) or PostgreSQL, one SQL dialect.

SQL in the history package is written once, with ``?`` placeholders and portable types (TEXT,
INTEGER, BIGINT, DOUBLE PRECISION, BOOLEAN), and runs unchanged on both. This module is the
only place that knows which one it talks to: placeholders, the migration lock, and the
translation of driver errors (``sqlite3.Error``, ``psycopg.Error``) into harness errors.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from harness.errors import InfrastructureError, InputError
from harness.secrets import redact, redact_url, url_secrets

log = logging.getLogger(__name__)

Row = tuple[Any, ...]
Params = Sequence[Any]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Database(Protocol):
    """A connection to the history database."""

    kind: str
    where: str

    def transaction(self) -> Any:
        """A context manager: one transaction, holding the schema lock for migrations."""

    def execute(self, sql: str, params: Params = ()) -> None: ...
    def query(self, sql: str, params: Params = ()) -> list[Row]: ...
    def table_exists(self, name: str) -> bool: ...
    def close(self) -> None: ...


class SqliteDatabase:
    """The embedded default: one file, created on first use."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below), so a
            # migration and the records it guards commit together or not at all.
            self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open history database {path}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front: two CI jobs migrating one file serialize.
        with _translated(self.where):
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        with _translated(self.where):
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> None:
        with _translated(self.where):
            self.conn.execute(sql, tuple(params))

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with _translated(self.where):
            return [tuple(r) for r in self.conn.execute(sql, tuple(params)).fetchall()]

    def table_exists(self, name: str) -> bool:
        return bool(
            self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        )

    def close(self) -> None:
        self.conn.close()


class PostgresDatabase:
    """A team's shared history on PostgreSQL (psycopg 3)."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        self.where = redact_url(url)
        self._secrets = url_secrets(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise InfrastructureError(
                f"cannot connect to history database {self.where}: "
                f"{redact(str(exc).strip(), self._secrets)}"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._translated(), self.conn.transaction():
            # One migrator at a time across every client of this database.
            self.conn.execute("SELECT pg_advisory_xact_lock(4242001)")
            yield

    def execute(self, sql: str, params: Params = ()) -> None:
        with self._translated():
            self.conn.execute(_pg(sql), tuple(params))

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._translated():
            cur = self.conn.execute(_pg(sql), tuple(params))
            return [tuple(r) for r in cur.fetchall()]

    def table_exists(self, name: str) -> bool:
        return bool(
            self.query(
                "SELECT 1 FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = ?",
                (name,),
            )
        )

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            message = redact(str(exc).strip(), self._secrets)
            raise InfrastructureError(f"history database {self.where}: {message}") from exc


def _pg(sql: str) -> str:
    # The history SQL never contains a literal '%' or '?', so this swap is exact.
    return sql.replace("?", "%s")


@contextmanager
def _translated(where: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise InfrastructureError(f"history database {where}: {exc}") from exc


def connect(location: str | Path) -> Database:
    """Open the history at ``location``: a PostgreSQL URL, ``sqlite:///PATH`` or a file path."""
    text = str(location)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresDatabase(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite:///")
    elif "://" in text:
        raise InputError(
            f"history {redact_url(text)!r}: expected a file path, sqlite:///PATH or a "
            "postgresql:// URL"
        )
    if not text:
        raise InputError("history: empty path")
    return SqliteDatabase(Path(text))
