"""SQL Server's native backups: BACKUP DATABASE / LOG WITH CHECKSUM, RESTORE VERIFYONLY, and
RESTORE ... WITH MOVE, STOPAT (server-side paths). Not a physical-backup or log-archive
collaborator: nothing ships them into a store yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.engines.base import Credentials
from harness.engines.sqlserver.tsql import quote_literal, quote_name, run_batch

DATA_DIR = "/var/opt/mssql/data"


@dataclass(frozen=True)
class BackupFile:
    """One file of a native backup, as RESTORE FILELISTONLY lists it."""

    logical_name: str
    physical_name: str
    type: str  # D data, L log

    def moved_to(self, database: str, data_dir: str = DATA_DIR) -> str:
        """MOVE target on Linux: the data directory, one file per logical name."""
        suffix = "ldf" if self.type == "L" else "mdf"
        return f"{data_dir}/{database}_{self.logical_name}.{suffix}"


class NativeBackups:
    """The native BACKUP and RESTORE statements, run on the engine's own connections."""

    credentials: Credentials

    def backup_database(self, conn: Any, *, path: str, database: str | None = None) -> None:
        """BACKUP DATABASE ... WITH CHECKSUM to a file the server can write; raises on failure."""
        db = quote_name(database or self.credentials.database)
        run_batch(
            conn,
            f"BACKUP DATABASE {db} TO DISK = {quote_literal(path)} WITH CHECKSUM, INIT, FORMAT",
        )

    def backup_log(self, conn: Any, *, path: str, database: str | None = None) -> None:
        """BACKUP LOG ... WITH CHECKSUM (needs the FULL recovery model and a full backup)."""
        db = quote_name(database or self.credentials.database)
        run_batch(conn, f"BACKUP LOG {db} TO DISK = {quote_literal(path)} WITH CHECKSUM, INIT")

    def set_full_recovery(self, conn: Any, *, database: str | None = None) -> None:
        """Log backups (and STOPAT) need the FULL recovery model."""
        db = quote_name(database or self.credentials.database)
        run_batch(conn, f"ALTER DATABASE {db} SET RECOVERY FULL")

    def verify_backup(self, conn: Any, *, path: str) -> None:
        """RESTORE VERIFYONLY ... WITH CHECKSUM; raises if the backup is unreadable or corrupt."""
        run_batch(conn, f"RESTORE VERIFYONLY FROM DISK = {quote_literal(path)} WITH CHECKSUM")

    def backup_files(self, conn: Any, *, path: str) -> list[BackupFile]:
        """RESTORE FILELISTONLY: the logical and physical files a backup would recreate."""
        sets = run_batch(conn, f"RESTORE FILELISTONLY FROM DISK = {quote_literal(path)}")
        # Columns: LogicalName, PhysicalName, Type, ... (stable across versions).
        return [BackupFile(str(r[0]), str(r[1]), str(r[2])) for r in (sets[0] if sets else [])]

    def restore_statements(
        self,
        files: list[BackupFile],
        *,
        full: str,
        logs: Sequence[str] = (),
        database: str | None = None,
        stop_at: dt.datetime | None = None,
        data_dir: str = DATA_DIR,
    ) -> list[str]:
        """RESTORE DATABASE (MOVE to Linux paths) and RESTORE LOG ... STOPAT, in order."""
        name = database or self.credentials.database
        db = quote_name(name)
        moves = ", ".join(
            f"MOVE {quote_literal(f.logical_name)} TO {quote_literal(f.moved_to(name, data_dir))}"
            for f in files
        )
        last = "RECOVERY" if not logs else "NORECOVERY"
        statements = [
            f"RESTORE DATABASE {db} FROM DISK = {quote_literal(full)} "
            f"WITH {moves}, CHECKSUM, REPLACE, {last}"
        ]
        stop = (
            f", STOPAT = '{stop_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat()}'"
            if stop_at is not None
            else ""
        )
        for i, log_path in enumerate(logs):
            mode = "RECOVERY" if i == len(logs) - 1 else "NORECOVERY"
            statements.append(
                f"RESTORE LOG {db} FROM DISK = {quote_literal(log_path)} "
                f"WITH CHECKSUM{stop}, {mode}"
            )
        return statements

    def restore_database(
        self,
        conn: Any,
        *,
        full: str,
        logs: Sequence[str] = (),
        database: str | None = None,
        stop_at: dt.datetime | None = None,
    ) -> None:
        """Restore a full backup and its log backups, optionally stopping at ``stop_at``."""
        run_batch(conn, "USE [master]")
        files = self.backup_files(conn, path=full)
        for statement in self.restore_statements(
            files, full=full, logs=logs, database=database, stop_at=stop_at
        ):
            run_batch(conn, statement)
