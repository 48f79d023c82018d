"""PostgreSQL WAL archiving (archive_command into a mounted store) and point-in-time recovery
(restore_command and recovery_target_* settings: the server replays the archive itself)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from harness.engines.base import RecoveryTarget
from harness.errors import InputError

if TYPE_CHECKING:
    import psycopg

    from harness.engines.postgres import PostgresEngine

# A configuration parameter's name (settings are written by name into postgresql.auto.conf).
GUC_NAME = re.compile(r"[a-z_][a-z0-9_.]*")
# A WAL segment file name: timeline, log and segment numbers, 8 hex digits each.
SEGMENT_NAME_LENGTH = 24


class PostgresArchive:
    """WAL archiving and recovery to a time, an LSN (or the primary's position), a name."""

    mount = "/archive"
    subdir = "wal"
    target_kinds = frozenset({"time", "position", "lsn", "name"})
    # Recovery targets are honoured to the microsecond (commit timestamps).
    time_resolution_s = 1e-6

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine

    @property
    def wal_dir(self) -> str:
        """Where archived segments land, as the server sees it."""
        return f"{self.mount}/{self.subdir}"

    def server_args(self) -> list[str]:
        """Archive every segment, and at least every second (archive_timeout)."""
        wal = self.wal_dir
        return [
            "-c",
            "archive_mode=on",
            "-c",
            "archive_timeout=1",
            "-c",
            f"archive_command=test ! -f {wal}/%f && cp %p {wal}/%f.part "
            f"&& mv {wal}/%f.part {wal}/%f",
        ]

    def start_script(self) -> str:
        """Shell (as root, in the primary): the archive directory, owned by the server."""
        return f"mkdir -p {self.wal_dir} && chown postgres: {self.wal_dir}"

    def is_segment(self, name: str) -> bool:
        return len(name) == SEGMENT_NAME_LENGTH and name.isalnum()

    def replay_script(
        self,
        *,
        backup_path: str,
        archive_dir: str,
        target_host: str,
        recovery: RecoveryTarget | None,
    ) -> None:
        """Nothing: the server replays archived WAL through its restore_command."""
        return None

    def position(self, conn: psycopg.Connection[Any]) -> str:
        row = conn.execute(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END::text"
        ).fetchone()
        return str(row[0]) if row else ""

    def status(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        """Archiver progress: lag in bytes from the current WAL position to the last archived."""
        row = conn.execute(
            "SELECT a.last_archived_wal, a.failed_count, a.last_failed_wal, "
            "pg_current_wal_lsn()::text, "
            "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') "
            "FROM pg_stat_archiver a"
        ).fetchone()
        assert row is not None
        last, failed, last_failed, current, segsize = row
        lag = None
        if last and len(last) >= SEGMENT_NAME_LENGTH and not last.endswith(".backup"):
            log_no, seg_no = int(last[8:16], 16), int(last[16:24], 16)
            archived_end = (log_no << 32) + (seg_no + 1) * int(segsize)
            hi, lo = current.split("/")
            lag = max(0, (int(hi, 16) << 32) + int(lo, 16) - archived_end)
        return {
            "last_archived_wal": last,
            "failed_count": int(failed or 0),
            "last_failed_wal": last_failed,
            "current_lsn": current,
            "lag_bytes": lag,
        }

    def create_restore_point(self, conn: psycopg.Connection[Any], name: str) -> str:
        """A named restore point (a recovery target by name); its LSN."""
        row = conn.execute("SELECT pg_create_restore_point(%s)::text", (name,)).fetchone()
        return str(row[0]) if row else ""


def conf_value(value: str) -> str:
    """``value`` as a quoted string of postgresql.conf / postgresql.auto.conf.

    The file's lexer takes a quoted string without raw line breaks, and its de-escaping turns
    ``\\`` into a backslash, ``''`` into a quote and ``\\n`` / ``\\r`` into line breaks: so
    backslashes are doubled, quotes doubled and line breaks written as escapes. NUL has no
    spelling at all and is refused (InputError).
    """
    if "\0" in value:
        raise InputError(f"a configuration value cannot contain NUL: {value!r}")
    escaped = (
        value.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f"'{escaped}'"


def conf_lines(settings: dict[str, str]) -> str:
    """``key = 'value'`` lines for postgresql.auto.conf, every value quoted (conf_value)."""
    for key in settings:
        if not GUC_NAME.fullmatch(key):
            raise InputError(f"not a configuration parameter name: {key!r}")
    return "\n".join(f"{key} = {conf_value(value)}" for key, value in settings.items())


def recovery_settings(archive: PostgresArchive, target: RecoveryTarget | None) -> dict[str, str]:
    """Settings that make a restored data directory replay archived WAL (up to a target)."""
    settings = {
        "restore_command": f"cp {archive.wal_dir}/%f %p",
        "archive_mode": "off",
        "recovery_target_action": "promote",
    }
    if target is not None:
        if target.time is not None:
            settings["recovery_target_time"] = target.time
        elif target.lsn is not None or target.position is not None:
            settings["recovery_target_lsn"] = str(target.lsn or target.position)
        elif target.name is not None:
            settings["recovery_target_name"] = target.name
        elif target.immediate:
            settings["recovery_target"] = "immediate"
        if not target.immediate:
            settings["recovery_target_inclusive"] = "off"
    return settings
